//! Small formatting helpers every renderer shares, so that the same value reads the same way in
//! the table, the CSV and the OCSF output.

use tokentrail_model::{Finding, NetworkId, Timestamp};

/// Milliseconds since the epoch, the unit of OCSF `timestamp_t`.
pub(crate) fn millis(t: Timestamp) -> i64 {
    t.micros().div_euclid(1000)
}

/// `AS8075` or `203.0.113.0/24`; `-` when unknown.
pub(crate) fn network_text(network: Option<&NetworkId>) -> String {
    network.map_or_else(|| "-".to_owned(), ToString::to_string)
}

/// The first `n` characters of an id, enough to tell findings apart on one screen.
pub(crate) fn short(id: &str, n: usize) -> String {
    id.chars().take(n).collect()
}

/// Records covered by a finding, summed over its access groups.
pub(crate) fn records(finding: &Finding) -> u64 {
    finding.accesses.iter().map(|a| a.records).sum()
}

/// Operations covered by a finding (`OperationCount` summed), over its access groups.
pub(crate) fn operations(finding: &Finding) -> u64 {
    finding.accesses.iter().map(|a| a.operations).sum()
}

/// `2024-05-01 10:22:03Z`: the RFC 3339 text with a space, shortened to whole seconds, for
/// columns read by people.
pub(crate) fn human_time(t: Timestamp) -> String {
    let full = t.to_rfc3339();
    let mut out: String = full.chars().take(19).collect();
    if out.len() == 19 {
        out.replace_range(10..11, " ");
        out.push('Z');
        out
    } else {
        full
    }
}
