//! The terminal table: most severe first, one line per finding, then a summary line and the
//! command to run next.
//!
//! Columns: the finding's short id (what `investigate --finding` takes), severity, confidence,
//! rule (code and name), user (UPN, else object id), session or token (first 8 characters,
//! `s:` or `t:`, which `investigate --session`/`--token` take as they are), network (`AS…` or
//! the approximate prefix), the access IP, records,
//! operations, first and last seen (UTC). Suppressed findings are counted in the summary and
//! listed only when [`TableOptions::show_suppressed`] is set, with the allowlist entry that
//! suppressed them.
//!
//! Colour is an option, not a guess: the binary decides (TTY, `NO_COLOR`) and passes
//! [`TableOptions::color`].
//!
//! Every cell goes through [`escape::terminal`]: a value from the logs is shown, never sent to
//! the terminal as an escape sequence or a bidi override.

use std::collections::BTreeMap;
use std::io::Write;

use tokentrail_model::{escape, Confidence, Finding, RuleId, Severity};

use crate::columns::Columns;
use crate::text::{human_time, network_text, operations, records, short};
use crate::ReportError;

/// How the table is drawn.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableOptions {
    /// Colour the severity column with ANSI escapes.
    pub color: bool,
    /// List suppressed findings too (they are always counted in the summary).
    pub show_suppressed: bool,
    /// The `investigate` command over the same logs, as the user would type it
    /// (`tokentrail investigate exports/`): the table ends with it, for its first finding
    /// (`next: tokentrail investigate exports/ --finding 830ad87c`). Shell-quoted by the caller.
    pub investigate: Option<String>,
}

const HEADER: [&str; 13] = [
    "ID",
    "SEVERITY",
    "CONF",
    "RULE",
    "USER",
    "SESSION/TOKEN",
    "NETWORK",
    "IP",
    "RECORDS",
    "OPS",
    "FIRST SEEN (UTC)",
    "LAST SEEN (UTC)",
    "NOTE",
];

/// The severity column, coloured when asked.
const SEVERITY: usize = 1;
/// Counts read right-aligned.
const RIGHT: [usize; 2] = [8, 9];

/// Most severe first; ties broken so the order never depends on the input order.
pub fn sort_for_display(findings: &mut [&Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.confidence.cmp(&a.confidence))
            .then(a.first_seen.cmp(&b.first_seen))
            .then(a.rule.cmp(&b.rule))
            .then(a.id.cmp(&b.id))
    });
}

/// The session (`s:`) or, when the finding has none, the token (`t:`), shortened.
pub(crate) fn session_or_token(f: &Finding) -> String {
    if let Some(s) = &f.session_id {
        format!("s:{}", short(&s.to_string(), 8))
    } else if let Some(t) = &f.token_id {
        format!("t:{}", short(&t.to_string(), 8))
    } else {
        "-".to_owned()
    }
}

/// UPN, else object id, else `-`.
pub(crate) fn user_text(f: &Finding) -> &str {
    f.upn.as_deref().or(f.user_id.as_deref()).unwrap_or("-")
}

/// The address the finding's accesses came from (its `src_ip`); `-` when none was logged.
pub(crate) fn access_ip(f: &Finding) -> String {
    f.src_ip.map_or_else(|| "-".to_owned(), |ip| ip.to_string())
}

/// Write the table, its summary line and (with [`TableOptions::investigate`]) the command to
/// run next.
pub fn write_table<W: Write>(
    mut out: W,
    findings: &[Finding],
    options: &TableOptions,
) -> Result<(), ReportError> {
    let mut shown: Vec<&Finding> = findings
        .iter()
        .filter(|f| options.show_suppressed || f.suppression.is_none())
        .collect();
    sort_for_display(&mut shown);

    if !shown.is_empty() {
        let rows: Vec<Vec<String>> = shown
            .iter()
            .map(|f| {
                row(f)
                    .into_iter()
                    .map(|cell| escape::terminal(&cell).into_owned())
                    .collect()
            })
            .collect();
        let mut header = HEADER.map(str::to_owned);
        if rows.iter().all(|r| r[HEADER.len() - 1].is_empty()) {
            // No suppressed finding listed: the note column would stay empty.
            header[HEADER.len() - 1].clear();
        }
        let columns = Columns::fit(&HEADER, &rows, &RIGHT);
        writeln!(out, "{}", columns.line(&header))?;
        for (r, f) in rows.iter().zip(&shown) {
            let mut cells = columns.pad(r);
            if options.color {
                // Only the text is coloured, not the padding after it.
                let text = &r[SEVERITY];
                let pad = cells[SEVERITY].chars().count() - text.chars().count();
                cells[SEVERITY] = format!(
                    "{}{text}\x1b[0m{}",
                    severity_color(f.severity),
                    " ".repeat(pad)
                );
            }
            writeln!(out, "{}", crate::columns::join(&cells))?;
        }
    }
    writeln!(out, "{}", summary(findings, options.show_suppressed))?;
    let first = shown.iter().find(|f| f.suppression.is_none());
    if let (Some(command), Some(f)) = (&options.investigate, first) {
        writeln!(
            out,
            "next: {command} --finding {}",
            escape::terminal(f.short_id())
        )?;
    }
    out.flush()?;
    Ok(())
}

fn row(f: &Finding) -> [String; 13] {
    [
        f.short_id().to_owned(),
        f.severity.caption().to_owned(),
        confidence_text(f.confidence).to_owned(),
        format!("{} {}", f.rule.code(), f.rule.name()),
        user_text(f).to_owned(),
        session_or_token(f),
        network_text(f.network.as_ref()),
        access_ip(f),
        records(f).to_string(),
        operations(f).to_string(),
        human_time(f.first_seen),
        human_time(f.last_seen),
        f.suppression
            .as_ref()
            .map(|s| format!("suppressed by {}", s.entry_id))
            .unwrap_or_default(),
    ]
}

fn confidence_text(c: Confidence) -> &'static str {
    match c {
        Confidence::Low => "low",
        Confidence::Medium => "medium",
        Confidence::High => "high",
    }
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "\x1b[1;31m",
        Severity::High => "\x1b[31m",
        Severity::Medium => "\x1b[33m",
        Severity::Low => "\x1b[36m",
        Severity::Informational => "\x1b[2m",
    }
}

/// `5 findings: TT001 2, TT003 3; high 2, medium 3; 1 suppressed (not listed)`.
///
/// Rule and severity counts cover the findings that are not suppressed; suppressed ones are
/// counted apart, so a suppression never hides that something matched.
pub fn summary(findings: &[Finding], show_suppressed: bool) -> String {
    let active: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.suppression.is_none())
        .collect();
    let suppressed = findings.len() - active.len();
    let mut per_rule: BTreeMap<RuleId, usize> = BTreeMap::new();
    let mut per_severity: BTreeMap<std::cmp::Reverse<Severity>, usize> = BTreeMap::new();
    for f in &active {
        *per_rule.entry(f.rule).or_default() += 1;
        *per_severity
            .entry(std::cmp::Reverse(f.severity))
            .or_default() += 1;
    }
    let noun = if active.len() == 1 {
        "finding"
    } else {
        "findings"
    };
    let mut text = format!("{} {noun}", active.len());
    if !active.is_empty() {
        let rules: Vec<String> = per_rule.iter().map(|(r, n)| format!("{r} {n}")).collect();
        let severities: Vec<String> = per_severity
            .iter()
            .map(|(s, n)| format!("{} {n}", s.0.caption().to_ascii_lowercase()))
            .collect();
        text.push_str(&format!(
            ": {}; {}",
            rules.join(", "),
            severities.join(", ")
        ));
    }
    text.push_str(&format!(
        "; {suppressed} suppressed{}",
        match (suppressed, show_suppressed) {
            (0, _) => "",
            (_, true) => " (listed)",
            (_, false) => " (not listed)",
        }
    ));
    text
}
