//! The terminal table: most severe first, one line per finding, then a summary line.
//!
//! Columns: severity, confidence, rule, user (UPN, else object id), session or token (first 8
//! characters, `s:` or `t:`), network (`AS…` or the approximate prefix), records, operations,
//! first seen (UTC). Suppressed findings are counted in the summary and listed only when
//! [`TableOptions::show_suppressed`] is set, with the allowlist entry that suppressed them.
//!
//! Colour is an option, not a guess: the binary decides (TTY, `NO_COLOR`) and passes
//! [`TableOptions::color`].
//!
//! Every cell goes through [`escape::terminal`]: a value from the logs is shown, never sent to
//! the terminal as an escape sequence or a bidi override.

use std::collections::BTreeMap;
use std::io::Write;

use tokentrail_model::{escape, Confidence, Finding, RuleId, Severity};

use crate::text::{human_time, network_text, operations, records, short};
use crate::ReportError;

/// How the table is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableOptions {
    /// Colour the severity column with ANSI escapes.
    pub color: bool,
    /// List suppressed findings too (they are always counted in the summary).
    pub show_suppressed: bool,
}

const HEADER: [&str; 10] = [
    "SEVERITY",
    "CONF",
    "RULE",
    "USER",
    "SESSION/TOKEN",
    "NETWORK",
    "RECORDS",
    "OPS",
    "FIRST SEEN (UTC)",
    "NOTE",
];

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

/// Write the table and its summary line.
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
        let rows: Vec<[String; 10]> = shown
            .iter()
            .map(|f| row(f).map(|cell| escape::terminal(&cell).into_owned()))
            .collect();
        let mut widths = HEADER.map(str::len);
        for r in &rows {
            for (w, cell) in widths.iter_mut().zip(r) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut header = HEADER.map(str::to_owned);
        if rows.iter().all(|r| r[9].is_empty()) {
            // No suppressed finding listed: the note column would stay empty.
            header[9].clear();
        }
        write_row(&mut out, &header, &widths, None)?;
        for (r, f) in rows.iter().zip(&shown) {
            let color = options.color.then(|| severity_color(f.severity));
            write_row(&mut out, r, &widths, color)?;
        }
    }
    writeln!(out, "{}", summary(findings, options.show_suppressed))?;
    out.flush()?;
    Ok(())
}

fn row(f: &Finding) -> [String; 10] {
    [
        f.severity.caption().to_owned(),
        confidence_text(f.confidence).to_owned(),
        f.rule.code().to_owned(),
        user_text(f).to_owned(),
        session_or_token(f),
        network_text(f.network.as_ref()),
        records(f).to_string(),
        operations(f).to_string(),
        human_time(f.first_seen),
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

fn write_row<W: Write>(
    out: &mut W,
    cells: &[String; 10],
    widths: &[usize; 10],
    severity_color: Option<&str>,
) -> Result<(), ReportError> {
    let mut line = String::new();
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        let last = i + 1 == cells.len();
        let pad = width.saturating_sub(cell.chars().count());
        match (i, severity_color) {
            (0, Some(code)) => {
                line.push_str(code);
                line.push_str(cell);
                line.push_str("\x1b[0m");
            }
            _ => line.push_str(cell),
        }
        if !last {
            line.extend(std::iter::repeat_n(' ', pad + 2));
        }
    }
    writeln!(out, "{}", line.trim_end())?;
    Ok(())
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
