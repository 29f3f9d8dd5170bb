//! The rules as KQL (work in progress).

use tokentrail_model::Timestamp;

use crate::allowlist::Allowlist;
use crate::export::ExportError;
use crate::Thresholds;

/// What the queries are built for.
#[derive(Debug)]
pub struct KqlOptions {
    /// The rules' thresholds.
    pub thresholds: Thresholds,
    /// The allowlist, written as a watchlist.
    pub allowlist: Option<Allowlist>,
    /// When expiry is judged.
    pub now: Timestamp,
}

/// Sentinel analytic rules, one YAML file per rule, and the watchlist.
pub fn sentinel_rules(_o: &KqlOptions) -> Result<Vec<(String, String)>, ExportError> {
    Ok(Vec::new())
}

/// The bare queries.
pub fn bare_queries(_o: &KqlOptions) -> Result<Vec<(String, String)>, ExportError> {
    Ok(Vec::new())
}
