//! A Markdown summary for tickets and pull requests: the summary line, a table most severe
//! first, and for each finding why it fired and what to do.
//!
//! Every value goes through `tokentrail_model::escape`: text (titles, users, reasons) is
//! Markdown-escaped, ids are code spans, so no value can add a line, a heading, a link or
//! HTML, in a table cell or elsewhere.

use std::io::Write;

use tokentrail_model::{escape, Finding};

use crate::table::{session_or_token, sort_for_display, summary, user_text};
use crate::text::{human_time, network_text, records};
use crate::ReportError;

/// Markdown text of a value.
fn md(text: &str) -> String {
    escape::markdown(text).into_owned()
}

/// Write the summary. Suppressed findings are counted, and listed when `show_suppressed`.
/// `investigate` is the `investigate` command over the same logs, shell-quoted (as for the
/// table): each finding's section then says how to open it.
pub fn write_markdown<W: Write>(
    mut out: W,
    findings: &[Finding],
    show_suppressed: bool,
    investigate: Option<&str>,
) -> Result<(), ReportError> {
    let mut shown: Vec<&Finding> = findings
        .iter()
        .filter(|f| show_suppressed || f.suppression.is_none())
        .collect();
    sort_for_display(&mut shown);
    writeln!(out, "# tokentrail findings\n")?;
    writeln!(out, "{}\n", summary(findings, show_suppressed))?;
    if shown.is_empty() {
        out.flush()?;
        return Ok(());
    }
    writeln!(
        out,
        "| ID | Severity | Rule | Title | User | Session/token | Network | Records | First seen (UTC) |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|---:|---|")?;
    for f in &shown {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            escape::markdown_code_cell(f.short_id()),
            f.severity.caption(),
            f.rule.code(),
            md(&f.title),
            md(user_text(f)),
            escape::markdown_code_cell(&session_or_token(f)),
            network_text(f.network.as_ref()),
            records(f),
            human_time(f.first_seen)
        )?;
    }
    for f in &shown {
        writeln!(
            out,
            "\n## {} {}: {}\n",
            f.rule.code(),
            f.rule.name(),
            md(&f.title)
        )?;
        writeln!(out, "- Finding: {}", escape::markdown_code(&f.id))?;
        if let Some(command) = investigate {
            writeln!(
                out,
                "- Investigate: {}",
                escape::markdown_code(&format!("{command} --finding {}", f.short_id()))
            )?;
        }
        writeln!(out, "- Why: {}", md(&f.why))?;
        if let Some(s) = &f.suppression {
            writeln!(
                out,
                "- Suppressed by {}: {}",
                escape::markdown_code(&s.entry_id),
                md(&s.reason)
            )?;
        }
        if !f.checked.is_empty() {
            writeln!(out, "- Ruled out: {}", md(&f.checked.join("; ")))?;
        }
        if !f.containment.is_empty() {
            writeln!(out, "- What to do:")?;
            for step in &f.containment {
                writeln!(out, "  - {}", md(step))?;
            }
        }
    }
    out.flush()?;
    Ok(())
}
