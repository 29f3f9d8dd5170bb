//! CSV: one row per finding, in the order given, with the columns of [`COLUMNS`].
//!
//! The columns are a contract (documented in `docs/finding-schema.md`): new columns are only
//! ever appended, never renamed or reordered. Empty cells mean "unknown". Times are RFC 3339
//! UTC; lists are joined with `;`.
//!
//! Every cell goes through [`escape::csv_cell`]: a cell that would start a spreadsheet formula
//! (`=`, `+`, `-`, `@`, ...) is prefixed with `'`, and control characters are shown as text.

use std::io::Write;

use tokentrail_model::{escape, Finding};

use crate::text::{operations, records};
use crate::ReportError;

/// The header row, in order.
pub const COLUMNS: [&str; 29] = [
    "id",
    "rule",
    "rule_name",
    "severity",
    "confidence",
    "status",
    "title",
    "user_id",
    "upn",
    "session_id",
    "token_id",
    "app_id",
    "app_name",
    "resource",
    "src_ip",
    "network",
    "network_approximate",
    "first_seen",
    "last_seen",
    "records",
    "operations",
    "issue_sign_in_id",
    "issue_kind",
    "issue_time",
    "issue_ip",
    "issue_network",
    "suppression_entry",
    "suppression_reason",
    "why",
];

/// Write the header and one row per finding.
pub fn write_csv<W: Write>(out: W, findings: &[Finding]) -> Result<(), ReportError> {
    let mut writer = ::csv::Writer::from_writer(out);
    writer.write_record(COLUMNS)?;
    for f in findings {
        writer.write_record(
            row(f)
                .iter()
                .map(|cell| escape::csv_cell(cell).into_owned()),
        )?;
    }
    writer.flush()?;
    Ok(())
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn row(f: &Finding) -> [String; 29] {
    let issue = f.issue.as_ref();
    [
        f.id.clone(),
        f.rule.code().to_owned(),
        f.rule.name().to_owned(),
        f.severity.caption().to_ascii_lowercase(),
        f.confidence.caption().to_ascii_lowercase(),
        if f.suppression.is_some() {
            "suppressed"
        } else {
            "new"
        }
        .to_owned(),
        f.title.clone(),
        opt(f.user_id.as_deref()),
        opt(f.upn.as_deref()),
        opt(f.session_id.as_ref()),
        opt(f.token_id.as_ref()),
        opt(f.app_id.as_deref()),
        opt(f.app_name.as_deref()),
        opt(f.resource.as_deref()),
        opt(f.src_ip),
        opt(f.network.as_ref()),
        opt(f.network.as_ref().map(|n| n.is_approximate())),
        f.first_seen.to_rfc3339(),
        f.last_seen.to_rfc3339(),
        records(f).to_string(),
        operations(f).to_string(),
        opt(issue.and_then(|i| i.sign_in_id.as_deref())),
        opt(issue.map(|i| i.kind.as_str())),
        opt(issue.map(|i| i.time.to_rfc3339())),
        opt(issue.and_then(|i| i.ip)),
        opt(issue.and_then(|i| i.network.as_ref())),
        opt(f.suppression.as_ref().map(|s| s.entry_id.as_str())),
        opt(f.suppression.as_ref().map(|s| s.reason.as_str())),
        f.why.clone(),
    ]
}
