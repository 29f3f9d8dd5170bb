//! Renderers: Markdown (a dated report a compliance lead can attach as evidence) and JSON (the
//! same report, for machines), for both the coverage report and the inventory.
//!
//! The JSON is the serde form of [`CoverageReport`] and [`Inventory`]: times as RFC 3339 UTC,
//! shares as `{count, of, share}` with `share` rounded to four decimals (null when nothing was
//! considered), families as `sign-in:<kind>` / `access:<log>`.
//!
//! Every value from the logs (input names, app names, users, operations) goes through
//! `tokentrail_model::escape`: Markdown-escaped text, table cells included, and JSON with
//! active characters as `\u` escapes.

use std::io::{self, Write};

use tokentrail_model::escape;

use crate::coverage::{CoverageReport, FamilyCoverage};
use crate::inventory::{IdentityType, Inventory};
use crate::verdict::Verdict;
use crate::{date_text, RunInfo, Share};

/// Write the coverage report as pretty JSON.
pub fn coverage_json(out: &mut impl Write, report: &CoverageReport) -> io::Result<()> {
    escape::write_json_pretty(&mut *out, report)?;
    writeln!(out)
}

/// Write the inventory as pretty JSON.
pub fn inventory_json(out: &mut impl Write, inventory: &Inventory) -> io::Result<()> {
    escape::write_json_pretty(&mut *out, inventory)?;
    writeln!(out)
}

/// Markdown text of a value, fit for a table cell too.
fn cell(text: &str) -> String {
    escape::markdown(text).into_owned()
}

/// Seconds as days with one decimal (rounded down).
fn days(secs: i64) -> String {
    let tenths = secs.max(0) * 10 / 86_400;
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// Seconds as hours with one decimal (rounded down).
fn hours(secs: i64) -> String {
    let tenths = secs.max(0) * 10 / 3600;
    format!("{}.{}", tenths / 10, tenths % 10)
}

fn share(s: Share) -> String {
    match s.of {
        0 => "- (none considered)".to_string(),
        _ => format!("{} ({} of {})", s.percent_text(), s.count, s.of),
    }
}

fn inputs(out: &mut impl Write, run: &RunInfo) -> io::Result<()> {
    writeln!(out, "## Inputs")?;
    writeln!(out)?;
    if run.inputs.is_empty() {
        writeln!(out, "No input was read.")?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "| input | records | unreadable | export shapes |")?;
    writeln!(out, "|---|---:|---:|---|")?;
    for f in &run.inputs {
        let shapes: Vec<String> = f.shapes.iter().map(|(k, v)| format!("{k} {v}")).collect();
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&f.name),
            f.records,
            f.unreadable,
            cell(&shapes.join(", "))
        )?;
    }
    writeln!(out)
}

/// Write the coverage report as Markdown.
pub fn coverage_markdown(out: &mut impl Write, r: &CoverageReport) -> io::Result<()> {
    writeln!(out, "# Log coverage report")?;
    writeln!(out)?;
    writeln!(
        out,
        "Date of the run: {}. Made by `tokentrail coverage` from the inputs listed below. It says \
         which Microsoft 365 logs were given, how complete they are, and what each detection rule \
         can and cannot see with them.",
        date_text(r.run.generated_at)
    )?;
    writeln!(out)?;
    let window = r.window.map_or("no records".to_string(), |w| {
        format!(
            "{} to {} ({})",
            w.start,
            w.end,
            if w.given {
                "as given"
            } else {
                "the span of the input"
            }
        )
    });
    writeln!(
        out,
        "Retention target: {} days. Export window: {window}. Every log given covers the whole \
         window unless there is evidence that records of it are missing: a hole (tokens of \
         several users issued there that no sign-in issued, or far fewer records than the log \
         writes at the same hours elsewhere). The rules treat a hole as not covered. A silence \
         without such evidence longer than {} hours (or than the log's own pace makes usual) is \
         a quiet stretch: covered, and named in the findings that lean on it.",
        r.retention_target_days,
        hours(r.gap_secs)
    )?;
    writeln!(out)?;
    inputs(out, &r.run)?;

    writeln!(out, "## Summary")?;
    writeln!(out)?;
    let missing: Vec<&str> = r
        .families
        .iter()
        .filter(|f| !f.present)
        .map(|f| f.name)
        .collect();
    if missing.is_empty() {
        writeln!(out, "- Every log family was given.")?;
    } else {
        writeln!(out, "- Missing log families: {}.", missing.join("; "))?;
    }
    let short: Vec<&str> = r
        .families
        .iter()
        .filter(|f| f.present && !f.retention_met)
        .map(|f| f.name)
        .collect();
    if !short.is_empty() {
        writeln!(
            out,
            "- Shorter than the {}-day retention target: {}.",
            r.retention_target_days,
            short.join("; ")
        )?;
    }
    for v in &r.rules {
        writeln!(
            out,
            "- {} {}: **{}**",
            v.rule.code(),
            v.name,
            v.verdict.as_str()
        )?;
    }
    writeln!(out)?;

    writeln!(out, "## What each rule can see")?;
    writeln!(out)?;
    writeln!(out, "| rule | verdict | why |")?;
    writeln!(out, "|---|---|---|")?;
    for v in &r.rules {
        let why = if v.limitations.is_empty() {
            "every log and field it needs is present".to_string()
        } else {
            v.limitations
                .iter()
                .map(|l| l.reason.clone())
                .collect::<Vec<_>>()
                .join("; ")
        };
        writeln!(
            out,
            "| {} {} | {} | {} |",
            v.rule.code(),
            v.name,
            v.verdict.as_str(),
            cell(&why)
        )?;
    }
    writeln!(out)?;
    let limited: Vec<_> = r
        .rules
        .iter()
        .filter(|v| v.verdict != Verdict::Supported)
        .collect();
    if !limited.is_empty() {
        writeln!(out, "### How to fix")?;
        writeln!(out)?;
        let mut fixes: Vec<&str> = Vec::new();
        for v in &limited {
            for l in &v.limitations {
                if !fixes.contains(&l.fix.as_str()) {
                    fixes.push(&l.fix);
                }
            }
        }
        for fix in fixes {
            let rules: Vec<&str> = limited
                .iter()
                .filter(|v| v.limitations.iter().any(|l| l.fix == fix))
                .map(|v| v.rule.code())
                .collect();
            writeln!(out, "- {fix} (helps {})", rules.join(", "))?;
        }
        writeln!(out)?;
    }

    writeln!(out, "## Log families")?;
    writeln!(out)?;
    writeln!(
        out,
        "| log | present | records | duplicates | first record | last record | days with records | span (days) | retention target met | largest gap (h) | quiet stretches | holes |"
    )?;
    writeln!(
        out,
        "|---|---|---:|---:|---|---|---:|---:|---|---:|---:|---:|"
    )?;
    for f in &r.families {
        family_row(out, f)?;
    }
    writeln!(out)?;
    let holed: Vec<&FamilyCoverage> = r.families.iter().filter(|f| f.hole_count > 0).collect();
    if !holed.is_empty() {
        writeln!(out, "### Holes")?;
        writeln!(out)?;
        writeln!(
            out,
            "Silences with evidence that records are missing. Rules that conclude \"absent\" answer \
             \"unknown\" across them."
        )?;
        writeln!(out)?;
        for f in holed {
            for h in &f.holes {
                writeln!(
                    out,
                    "- {}: no record from {} to {} ({} h): {}",
                    f.name,
                    h.stretch.start,
                    h.stretch.end,
                    hours(h.stretch.secs()),
                    h.evidence
                )?;
            }
            let unlisted = f.hole_count.saturating_sub(f.holes.len() as u64);
            if unlisted > 0 {
                writeln!(out, "- {}: {unlisted} more", f.name)?;
            }
        }
        writeln!(out)?;
    }

    writeln!(out, "## Field completeness")?;
    writeln!(out)?;
    let a = &r.completeness.accesses;
    writeln!(out, "Access records (all access logs):")?;
    writeln!(out)?;
    writeln!(out, "- with a token id: {}", share(a.token_id))?;
    writeln!(out, "- with a session id: {}", share(a.session_id))?;
    writeln!(out, "- with an IP address: {}", share(a.ip))?;
    writeln!(out, "- with a client app id: {}", share(a.app_id))?;
    writeln!(
        out,
        "- with the token's issue time (of those with a token id): {}",
        share(a.token_issued_at)
    )?;
    writeln!(out)?;
    let s = &r.completeness.sign_ins;
    writeln!(out, "Interactive and non-interactive sign-ins:")?;
    writeln!(out)?;
    writeln!(out, "- with a session id: {}", share(s.session_id))?;
    writeln!(out, "- with an ASN: {}", share(s.asn))?;
    writeln!(out, "- with a device id: {}", share(s.device_id))?;
    writeln!(out)?;
    writeln!(
        out,
        "| log | token id | session id | IP | client app id | ASN | device id |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---:|")?;
    for f in r.families.iter().filter(|f| f.present) {
        let dash = "-".to_string();
        let (tok, sid, ip, app, asn, dev) = match (&f.access_fields, &f.sign_in_fields) {
            (Some(a), _) => (
                a.token_id.percent_text(),
                a.session_id.percent_text(),
                a.ip.percent_text(),
                a.app_id.percent_text(),
                dash.clone(),
                dash,
            ),
            (None, Some(s)) => (
                dash.clone(),
                s.session_id.percent_text(),
                dash.clone(),
                dash,
                s.asn.percent_text(),
                s.device_id.percent_text(),
            ),
            (None, None) => continue,
        };
        writeln!(
            out,
            "| {} | {tok} | {sid} | {ip} | {app} | {asn} | {dev} |",
            f.name
        )?;
    }
    writeln!(out)?;

    writeln!(out, "## Joins")?;
    writeln!(out)?;
    writeln!(
        out,
        "- Delegated accesses whose token was issued by a sign-in in these logs (of those with a \
         token id): {}",
        share(r.joins.token_to_sign_in)
    )?;
    writeln!(
        out,
        "- Delegated accesses whose session has an interactive sign-in in these logs (of those \
         with a session): {}",
        share(r.joins.session_to_interactive_root)
    )?;
    writeln!(out)
}

fn family_row(out: &mut impl Write, f: &FamilyCoverage) -> io::Result<()> {
    if !f.present {
        return writeln!(
            out,
            "| {} | **missing** | 0 | {} | - | - | 0 | 0.0 | no | - | - | - |",
            f.name, f.duplicates
        );
    }
    let opt = |t: Option<tokentrail_model::Timestamp>| t.map_or("-".to_string(), |t| t.to_string());
    writeln!(
        out,
        "| {} | yes | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        f.name,
        f.records,
        f.duplicates,
        opt(f.first),
        opt(f.last),
        f.days_with_records,
        days(f.span_secs),
        if f.retention_met { "yes" } else { "no" },
        f.largest_gap.map_or("-".to_string(), |g| hours(g.secs)),
        f.quiet_count,
        f.hole_count
    )
}

/// Write the inventory as Markdown.
pub fn inventory_markdown(out: &mut impl Write, inv: &Inventory) -> io::Result<()> {
    writeln!(out, "# Non-interactive and app-only access inventory")?;
    writeln!(out)?;
    writeln!(
        out,
        "Date of the run: {}. Made by `tokentrail inventory` from the inputs listed below. It \
         lists what reaches the tenant's data without a person signing in: client apps acting \
         for users (silent sign-ins and API access) and apps acting with their own credentials. \
         Whether each pattern is legitimate is for a person to decide; the traits marked risky \
         deserve a look first.",
        date_text(inv.run.generated_at)
    )?;
    writeln!(out)?;
    inputs(out, &inv.run)?;
    writeln!(out, "## Summary")?;
    writeln!(out)?;
    let count = |t: IdentityType| inv.patterns.iter().filter(|p| p.identity == t).count();
    writeln!(
        out,
        "- {} patterns over {} records: {} delegated, {} service principal, {} managed identity.",
        inv.patterns.len(),
        inv.records,
        count(IdentityType::Delegated),
        count(IdentityType::ServicePrincipal),
        count(IdentityType::ManagedIdentity)
    )?;
    let risky: Vec<String> = inv
        .patterns
        .iter()
        .filter(|p| !p.traits.risky().is_empty())
        .map(|p| format!("{} {}", p.id, cell(&p.app_label())))
        .collect();
    if risky.is_empty() {
        writeln!(out, "- No pattern has a risky trait.")?;
    } else {
        writeln!(
            out,
            "- {} with a risky trait: {}.",
            risky.len(),
            risky.join(", ")
        )?;
    }
    let cited: Vec<String> = inv
        .patterns
        .iter()
        .filter(|p| !p.findings.is_empty())
        .map(|p| {
            format!(
                "{} {} ({})",
                p.id,
                cell(&p.app_label()),
                p.findings.join(", ")
            )
        })
        .collect();
    if !cited.is_empty() {
        writeln!(
            out,
            "- **{} hold{} records that live findings cite** (not to be approved before each \
             finding is ruled out; the drafted allowlist leaves {} commented out): {}.",
            cited.len(),
            if cited.len() == 1 { "s" } else { "" },
            if cited.len() == 1 { "it" } else { "them" },
            cited.join("; ")
        )?;
    }
    if inv.unattributed_accesses > 0 {
        writeln!(
            out,
            "- {} access records name neither a user nor a service principal and are not \
             attributed to a pattern.",
            inv.unattributed_accesses
        )?;
    }
    writeln!(out)?;
    writeln!(out, "## Patterns")?;
    writeln!(out)?;
    if inv.patterns.is_empty() {
        writeln!(out, "No non-interactive or app-only access was found.")?;
        return Ok(());
    }
    writeln!(
        out,
        "| id | client app | identity | principal or users | sign-ins | accesses | share | first seen | last seen | networks | workloads | risky traits | cited by findings |"
    )?;
    writeln!(
        out,
        "|---|---|---|---|---:|---:|---:|---|---|---|---|---|---|"
    )?;
    for p in &inv.patterns {
        let principal = match p.identity {
            IdentityType::Delegated if p.user_count == 1 => {
                p.users.first().cloned().unwrap_or_default()
            }
            IdentityType::Delegated => format!("{} users", p.user_count),
            _ => p
                .service_principal_name
                .clone()
                .or_else(|| p.service_principal_id.clone())
                .unwrap_or_else(|| "-".to_string()),
        };
        let networks: Vec<String> = p
            .networks
            .iter()
            .take(3)
            .map(|n| {
                if n.hosting {
                    format!("{} (hosting)", n.label())
                } else {
                    n.label()
                }
            })
            .collect();
        let more = p.networks.len().saturating_sub(3);
        let networks = if more > 0 {
            format!("{} and {more} more", networks.join(", "))
        } else {
            networks.join(", ")
        };
        let workloads: Vec<String> = p
            .workloads
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            p.id,
            cell(&p.app_label()),
            p.identity.as_str(),
            cell(&principal),
            p.sign_ins,
            p.accesses,
            p.share.percent_text(),
            date_text(p.first_seen),
            date_text(p.last_seen),
            cell(&networks),
            cell(&workloads.join(", ")),
            p.traits.risky().join(", "),
            if p.findings.is_empty() {
                "-".to_string()
            } else {
                format!("**{}**", p.findings.join(", "))
            }
        )?;
    }
    writeln!(out)?;
    writeln!(out, "## Details")?;
    for p in &inv.patterns {
        writeln!(out)?;
        writeln!(out, "### {} {}", p.id, cell(&p.app_label()))?;
        writeln!(out)?;
        writeln!(
            out,
            "- Client app id: {}{}",
            p.app_id
                .as_deref()
                .map_or_else(|| "not logged".to_string(), cell),
            if p.traits.first_party {
                " (Microsoft first-party)"
            } else {
                ""
            }
        )?;
        writeln!(out, "- Identity: {}", p.identity.as_str())?;
        if let Some(sp) = &p.service_principal_id {
            writeln!(
                out,
                "- Service principal: {}{}",
                cell(sp),
                p.service_principal_name
                    .as_deref()
                    .map(|n| format!(" ({})", cell(n)))
                    .unwrap_or_default()
            )?;
        }
        if p.identity == IdentityType::Delegated {
            let more = p.user_count.saturating_sub(p.users.len() as u64);
            let tail = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            writeln!(
                out,
                "- Users ({}): {}{tail}",
                p.user_count,
                cell(&p.users.join(", "))
            )?;
        }
        writeln!(
            out,
            "- Records: {} sign-ins, {} accesses standing for {} operations; {} of the inventory",
            p.sign_ins,
            p.accesses,
            p.operations,
            p.share.percent_text()
        )?;
        writeln!(out, "- Seen: {} to {}", p.first_seen, p.last_seen)?;
        let nets: Vec<String> = p
            .networks
            .iter()
            .map(|n| {
                format!(
                    "{} ({} records, {} addresses{})",
                    n.label(),
                    n.records,
                    n.addresses,
                    if n.hosting { ", hosting" } else { "" }
                )
            })
            .collect();
        writeln!(
            out,
            "- Networks: {}",
            if nets.is_empty() {
                "no address logged".to_string()
            } else {
                cell(&nets.join(", "))
            }
        )?;
        let ops: Vec<String> = p
            .top_operations
            .iter()
            .map(|(op, n)| format!("{} {n}", escape::markdown_code(op)))
            .collect();
        writeln!(out, "- Most frequent operations: {}", ops.join(", "))?;
        let risky = p.traits.risky();
        writeln!(
            out,
            "- Risky traits: {}",
            if risky.is_empty() {
                "none".to_string()
            } else {
                risky.join(", ")
            }
        )?;
    }
    Ok(())
}
