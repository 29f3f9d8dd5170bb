//! The Markdown, JSON and CSV forms of an [`Investigation`].
//!
//! Every value from the logs goes through `tokentrail_model::escape`: Markdown text escaped
//! (table cells included), ids, objects and commands in code spans, CSV cells guarded against
//! formulas, JSON with active characters as `\u` escapes.

use std::collections::BTreeSet;
use std::fmt::Display;
use std::io::Write;

use tokentrail_model::{escape, SessionId};

use crate::{InvestigateError, Investigation, MailboxRuleChange, NetworkSummary, Touch};

/// Markdown text of a value from the logs.
fn md(value: &impl Display) -> String {
    escape::markdown(&value.to_string()).into_owned()
}

/// Markdown text of an optional value, `-` when absent.
fn md_or_dash<T: Display>(value: Option<&T>) -> String {
    value.map_or_else(|| "-".to_string(), md)
}

/// A code span (an id, an object, a command) of an optional value, `-` when absent.
fn code_or_dash<T: Display>(value: Option<&T>) -> String {
    value.map_or_else(
        || "-".to_string(),
        |v| escape::markdown_code(&v.to_string()),
    )
}

/// A code span inside a table cell, `-` when absent.
fn cell_code_or_dash<T: Display>(value: Option<&T>) -> String {
    value.map_or_else(
        || "-".to_string(),
        |v| escape::markdown_code_cell(&v.to_string()),
    )
}

fn write_touches(out: &mut impl Write, heading: &str, items: &[Touch]) -> std::io::Result<()> {
    if items.is_empty() {
        return writeln!(out, "- {heading}: none");
    }
    writeln!(out, "- {heading}:")?;
    for t in items {
        writeln!(
            out,
            "  - {}: {}",
            escape::markdown_code(&t.name),
            t.operations
        )?;
    }
    Ok(())
}

fn write_rule_changes(out: &mut impl Write, changes: &[MailboxRuleChange]) -> std::io::Result<()> {
    if changes.is_empty() {
        return writeln!(
            out,
            "- Inbox rules and forwarding: no New-InboxRule, Set-InboxRule, UpdateInboxRules or Set-Mailbox forwarding record in the inputs"
        );
    }
    writeln!(out, "- Inbox rules and forwarding:")?;
    for c in changes {
        let interactive = match c.foreign_network {
            Some(false) => " (one of the user's networks, or Microsoft's service)",
            Some(true) => " (**not one of the user's networks**: no interactive or device-proven sign-in there)",
            None => "",
        };
        writeln!(
            out,
            "  - {} {} by {} from {} ({}){interactive}, session {}{}: {} — {}",
            c.time,
            escape::markdown_code(&c.operation),
            md_or_dash(c.user.as_ref()),
            md_or_dash(c.ip.as_ref()),
            md_or_dash(c.network.as_ref()),
            code_or_dash(c.session_id.as_ref()),
            if c.in_chain { " (in the chain)" } else { "" },
            if c.effects.is_empty() {
                "no forwarding, redirect or delete parameter".to_string()
            } else {
                md(&c.effects.join(", "))
            },
            md(&c.source)
        )?;
        if let Some(object) = &c.object {
            writeln!(out, "    - object {}", escape::markdown_code(object))?;
        }
        if !c.parameters.is_empty() {
            let params: Vec<String> = c
                .parameters
                .iter()
                .map(|p| format!("{}={}", p.name, p.value))
                .collect();
            writeln!(
                out,
                "    - parameters {}",
                escape::markdown_code(&params.join("; "))
            )?;
        }
    }
    Ok(())
}

/// The sessions the findings cite, one line each: with the findings, what a responder reads
/// first. Every session's whole chain comes last, under "Chain by session".
fn write_sessions_involved(o: &mut impl Write, inv: &Investigation) -> std::io::Result<()> {
    writeln!(o, "## Sessions involved")?;
    writeln!(o)?;
    let findings_of = |id: &SessionId| -> BTreeSet<&str> {
        inv.timeline
            .iter()
            .filter(|e| e.session_id.as_ref() == Some(id))
            .flat_map(|e| e.findings.iter().map(String::as_str))
            .collect()
    };
    let mut listed = 0;
    for s in &inv.sessions {
        let Some(id) = &s.session_id else { continue };
        let findings = findings_of(id);
        if findings.is_empty() {
            continue;
        }
        listed += 1;
        let root = match s.interactive_roots.first() {
            Some(r) => format!(
                "interactive root {} from {} ({})",
                r.time,
                md_or_dash(r.ip.as_ref()),
                md_or_dash(r.network.as_ref())
            ),
            None => "no interactive root in these records".to_string(),
        };
        let used: BTreeSet<String> = s
            .tokens
            .iter()
            .flat_map(|t| t.used_from.iter().map(ToString::to_string))
            .collect();
        let used = if used.is_empty() {
            String::new()
        } else {
            format!(" from {}", used.into_iter().collect::<Vec<_>>().join(", "))
        };
        let findings: Vec<String> = findings.into_iter().map(escape::markdown_code).collect();
        writeln!(
            o,
            "- {} {} to {}: {root}; {} refresh(es), {} token(s), {} access(es){used}; findings {}",
            escape::markdown_code(&id.to_string()),
            s.first_seen,
            s.last_seen,
            s.refreshes.len(),
            s.tokens.len(),
            s.accesses,
            findings.join(", ")
        )?;
    }
    let others = inv.sessions.len() - listed;
    if listed == 0 {
        writeln!(
            o,
            "No finding cites a session of these records; {others} chain(s) under \"Chain by session\"."
        )?;
    } else if others > 0 {
        writeln!(o)?;
        writeln!(
            o,
            "{others} other chain(s), no finding: under \"Chain by session\"."
        )?;
    }
    Ok(())
}

/// Rows of timeline past which the Markdown says how to narrow it to the findings.
const LONG_TIMELINE: usize = 50;

/// Before a long timeline, the span of its findings and the options that list only that: the
/// attack of a user's two weeks is a few rows among thousands.
fn write_timeline_hint(o: &mut impl Write, inv: &Investigation) -> std::io::Result<()> {
    let first = inv.findings.iter().map(|f| f.first_seen).min();
    let last = inv.findings.iter().map(|f| f.last_seen).max();
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(());
    };
    if inv.timeline.len() <= LONG_TIMELINE {
        return Ok(());
    }
    let within = inv
        .timeline
        .iter()
        .filter(|e| e.time >= first && e.time <= last)
        .count();
    writeln!(
        o,
        "{} record(s); {within} of them from {first} to {last}, the span of the findings (`--since {first} --until {last}` lists only those).",
        inv.timeline.len()
    )?;
    writeln!(o)
}

/// Write the Markdown form, for the case file: what fits on a screen first (the findings, the
/// sessions involved, the containment, the networks), then the timeline, then the long parts
/// (what was touched, every session's chain).
pub fn write_markdown(mut out: impl Write, inv: &Investigation) -> Result<(), InvestigateError> {
    let o = &mut out;
    writeln!(o, "# Investigation: {}", md(&inv.subject))?;
    writeln!(o)?;
    if let Some(id) = &inv.finding {
        match inv.findings.iter().find(|f| &f.id == id) {
            Some(f) => writeln!(
                o,
                "Opened from finding {} ({} {}): {}",
                escape::markdown_code(id),
                f.rule,
                f.severity,
                md(&f.title)
            )?,
            None => writeln!(o, "Opened from finding {}.", escape::markdown_code(id))?,
        }
        writeln!(o)?;
    }
    writeln!(
        o,
        "{} sign-in(s) and {} access(es) from {} to {}; user(s): {}.",
        inv.records.sign_ins,
        inv.records.accesses,
        inv.first_seen,
        inv.last_seen,
        if inv.users.is_empty() {
            "none logged".to_string()
        } else {
            md(&inv.users.join(", "))
        }
    )?;
    writeln!(o)?;

    writeln!(o, "## Findings")?;
    writeln!(o)?;
    if inv.findings.is_empty() {
        writeln!(o, "No finding cites these records.")?;
    }
    for f in &inv.findings {
        writeln!(
            o,
            "- {} {} {}: {} ({} to {})",
            escape::markdown_code(&f.id),
            f.rule,
            f.severity,
            md(&f.title),
            f.first_seen,
            f.last_seen
        )?;
    }
    writeln!(o)?;

    write_sessions_involved(o, inv)?;
    writeln!(o)?;

    writeln!(o, "## Containment")?;
    writeln!(o)?;
    if inv.containment.is_empty() {
        writeln!(
            o,
            "No step suggested: no live finding cites these records and no inbox-rule change came from outside the user's networks."
        )?;
    }
    for (i, s) in inv.containment.iter().enumerate() {
        writeln!(o, "{}. **{}**: {}", i + 1, md(&s.action), md(&s.why))?;
        for command in &s.commands {
            writeln!(o, "   - {}", escape::markdown_code(command))?;
        }
    }
    writeln!(o)?;

    writeln!(o, "## Networks")?;
    writeln!(o)?;
    writeln!(
        o,
        "| Network | IPs | First seen | Last seen | Sign-ins | Accesses | Interactive sign-in by the user | The user's network | Replay findings |"
    )?;
    writeln!(o, "|---|---|---|---|---|---|---|---|---|")?;
    // Microsoft's service acting for the user (Exchange, SharePoint) is spread over many
    // prefixes that say nothing one by one: they are one row, so the table stays short.
    let (service, networks): (Vec<&NetworkSummary>, Vec<&NetworkSummary>) = inv
        .networks
        .iter()
        .partition(|n| n.microsoft_service && !n.established && n.replay_findings.is_empty());
    for n in networks {
        let ips: Vec<String> = n.ips.iter().map(ToString::to_string).collect();
        writeln!(
            o,
            "| {}{} | {} | {} | {} | {} | {} | {} | {} | {} |",
            n.network,
            if n.approximate { " (prefix)" } else { "" },
            ips.join(", "),
            n.first_seen,
            n.last_seen,
            n.sign_ins,
            n.accesses,
            if n.interactive_sign_in {
                "yes"
            } else {
                "never"
            },
            match (n.established, n.microsoft_service) {
                (true, _) => "yes",
                (false, true) => "Microsoft's service",
                (false, false) => "no",
            },
            if n.replay_findings.is_empty() {
                "-".to_string()
            } else {
                format!("**{}**", n.replay_findings.join(", "))
            }
        )?;
    }
    if let (Some(first), Some(last)) = (
        service.iter().map(|n| n.first_seen).min(),
        service.iter().map(|n| n.last_seen).max(),
    ) {
        let interactive = service.iter().any(|n| n.interactive_sign_in);
        writeln!(
            o,
            "| Microsoft's service: {} network(s) | {} address(es) | {first} | {last} | {} | {} | {} | Microsoft's service | - |",
            service.len(),
            service.iter().map(|n| n.ips.len()).sum::<usize>(),
            service.iter().map(|n| n.sign_ins).sum::<u64>(),
            service.iter().map(|n| n.accesses).sum::<u64>(),
            if interactive { "yes" } else { "never" },
        )?;
    }
    writeln!(o)?;

    writeln!(o, "## Timeline")?;
    writeln!(o)?;
    write_timeline_hint(o, inv)?;
    writeln!(
        o,
        "| Time | Record | Operation | IP | Network | App | Session | Token | Source | Findings |"
    )?;
    writeln!(o, "|---|---|---|---|---|---|---|---|---|---|")?;
    for e in &inv.timeline {
        writeln!(
            o,
            "| {} | {} {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            e.time,
            md(&e.record),
            md(&e.kind),
            md(&e.operation),
            md_or_dash(e.ip.as_ref()),
            md_or_dash(e.network.as_ref()),
            md_or_dash(e.app.as_ref()),
            cell_code_or_dash(e.session_id.as_ref()),
            cell_code_or_dash(e.token_id.as_ref()),
            md(&e.source),
            if e.findings.is_empty() {
                "-".to_string()
            } else {
                format!("**{}**", e.findings.join(", "))
            }
        )?;
    }
    writeln!(o)?;

    writeln!(o, "## What was touched")?;
    writeln!(o)?;
    let m = &inv.touched.mail;
    writeln!(
        o,
        "- Mail: {} record(s), {} operation(s); MailItemsAccessed Bind {}, Sync {}",
        m.records, m.operations, m.bind, m.sync
    )?;
    for t in &m.objects {
        writeln!(
            o,
            "  - {}: {}",
            escape::markdown_code(&t.name),
            t.operations
        )?;
    }
    write_touches(o, "Files and sites", &inv.touched.files)?;
    write_touches(o, "Graph endpoints", &inv.touched.graph_endpoints)?;
    write_rule_changes(o, &inv.touched.mailbox_rule_changes)?;
    writeln!(o)?;

    writeln!(o, "## Chain by session")?;
    for s in &inv.sessions {
        writeln!(o)?;
        match &s.session_id {
            Some(id) => writeln!(o, "### Session {}", escape::markdown_code(&id.to_string()))?,
            None => writeln!(o, "### Records without a session")?,
        }
        writeln!(o)?;
        writeln!(
            o,
            "{} to {}; {} access(es), {} without a token id.",
            s.first_seen, s.last_seen, s.accesses, s.accesses_without_token
        )?;
        writeln!(o)?;
        if s.interactive_roots.is_empty() {
            writeln!(o, "- Interactive root: none in these records")?;
        }
        for (label, list) in [
            ("Interactive root", &s.interactive_roots),
            ("Refresh", &s.refreshes),
        ] {
            for r in list {
                writeln!(
                    o,
                    "- {label} ({}) {} from {} ({}), app {}, token {}{} — {}",
                    r.kind,
                    r.time,
                    md_or_dash(r.ip.as_ref()),
                    md_or_dash(r.network.as_ref()),
                    md_or_dash(r.app.as_ref()),
                    code_or_dash(r.token_id.as_ref()),
                    if r.succeeded { "" } else { ", failed" },
                    md(&r.source)
                )?;
            }
        }
        for t in &s.tokens {
            let issued = match (&t.issued_by, t.issued_at) {
                (Some(src), Some(at)) => format!(
                    "issued {at} on {} ({})",
                    md_or_dash(t.issued_network.as_ref()),
                    md(src)
                ),
                _ => "no issuing sign-in in the inputs".to_string(),
            };
            let used: Vec<String> = t.used_from.iter().map(ToString::to_string).collect();
            let span = match (t.first_used, t.last_used) {
                (Some(a), Some(b)) => format!(" {a} to {b}"),
                _ => String::new(),
            };
            writeln!(
                o,
                "- Token {}: {issued}; {} access(es){span}{}",
                escape::markdown_code(&t.token_id.to_string()),
                t.accesses,
                if used.is_empty() {
                    String::new()
                } else {
                    format!(" from {}", used.join(", "))
                }
            )?;
        }
    }
    writeln!(o)?;
    out.flush()?;
    Ok(())
}

/// Write the JSON form (see the crate docs), pretty-printed, with a final newline.
pub fn write_json(mut out: impl Write, inv: &Investigation) -> Result<(), InvestigateError> {
    escape::write_json_pretty(&mut out, inv)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Write the timeline as CSV (see the crate docs for the columns).
pub fn write_csv(out: impl Write, inv: &Investigation) -> Result<(), InvestigateError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "time",
        "record",
        "kind",
        "operation",
        "user",
        "ip",
        "network",
        "app",
        "session",
        "token",
        "source",
        "findings",
    ])?;
    let text = |v: Option<String>| v.unwrap_or_default();
    for e in &inv.timeline {
        let row = [
            e.time.to_rfc3339(),
            e.record.clone(),
            e.kind.clone(),
            e.operation.clone(),
            text(e.user.clone()),
            text(e.ip.map(|ip| ip.to_string())),
            text(e.network.map(|n| n.to_string())),
            text(e.app.clone()),
            text(e.session_id.as_ref().map(ToString::to_string)),
            text(e.token_id.as_ref().map(ToString::to_string)),
            e.source.to_string(),
            e.findings.join(";"),
        ];
        w.write_record(row.iter().map(|cell| escape::csv_cell(cell).into_owned()))?;
    }
    w.flush()?;
    Ok(())
}
