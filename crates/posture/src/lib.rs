//! What the logs can and cannot show, and what legitimately uses the tenant without a person
//! present.
//!
//! AN0959 is as much a validation exercise as a rule: before alerting broadly a team must prove
//! its logs can link API access to sign-in context, document the blind spots, and inventory the
//! legitimate non-interactive access. This crate answers both questions from the same normalized
//! events the engine reads:
//!
//! - [`coverage`]: per log family and kind, whether it is present, how many records, over which
//!   time, with which gaps and duplicates; how complete the linking fields are; how often
//!   accesses join their sign-ins; and per rule TT001-TT005 a verdict (supported, degraded,
//!   blind) with the reason and the fix in plain words.
//! - [`inventory`]: the non-interactive and app-only access patterns grouped by client app,
//!   principal and identity type, with their networks, workloads, counts and risky traits, and
//!   a draft allowlist a person must review before it applies.
//!
//! Both are built the same way: a builder fed every record once (the ingest sink), then a
//! `finish` step that sees all of it. Renderers for Markdown (a dated report a compliance lead
//! can attach) and JSON live in [`render`].

pub mod coverage;
pub mod inventory;
pub mod render;
mod verdict;

use std::borrow::Cow;
use std::collections::BTreeMap;

use rustc_hash::FxHashSet;
use serde::{Serialize, Serializer};
use tokentrail_model::{AccessSource, Guid, SignInKind, Timestamp};

pub use coverage::{CoverageBuilder, CoverageOptions, CoverageReport};
pub use inventory::{Inventory, InventoryBuilder, Pattern};
pub use verdict::{Limitation, RuleVerdict, Verdict};

/// Why a posture option could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PostureError {
    /// A duration like `180d` could not be read.
    #[error("not a number of days: {0:?} (use e.g. 180d or 180)")]
    Days(String),
}

/// Parse a retention target such as `180d`, `180` or `26w` into days.
pub fn parse_days(text: &str) -> Result<u32, PostureError> {
    let t = text.trim();
    let bad = || PostureError::Days(text.to_string());
    let (digits, factor) = match t.char_indices().last() {
        Some((i, 'd' | 'D')) => (t.get(..i).ok_or_else(bad)?, 1),
        Some((i, 'w' | 'W')) => (t.get(..i).ok_or_else(bad)?, 7),
        _ => (t, 1),
    };
    digits
        .trim()
        .parse::<u32>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .filter(|n| *n > 0)
        .ok_or_else(bad)
}

/// `count` of `of` records, e.g. accesses that carry a token id out of all accesses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Share {
    /// Records that have the property.
    pub count: u64,
    /// Records considered.
    pub of: u64,
}

impl Share {
    /// The ratio, or `None` when nothing was considered.
    pub fn ratio(self) -> Option<f64> {
        (self.of > 0).then(|| self.count as f64 / self.of as f64)
    }

    /// The ratio as a whole percentage rounded down, for text (`-` when nothing was
    /// considered).
    pub fn percent_text(self) -> String {
        match self.of {
            0 => "-".to_string(),
            of => {
                let tenths = self.count.saturating_mul(1000) / of;
                format!("{}.{}%", tenths / 10, tenths % 10)
            }
        }
    }

    fn add(&mut self, has: bool) {
        self.of += 1;
        if has {
            self.count += 1;
        }
    }

    fn merge(&mut self, other: Share) {
        self.count += other.count;
        self.of += other.of;
    }
}

impl Serialize for Share {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("Share", 3)?;
        st.serialize_field("count", &self.count)?;
        st.serialize_field("of", &self.of)?;
        // Four decimals keep the JSON stable across platforms and readable.
        st.serialize_field(
            "share",
            &self.ratio().map(|r| (r * 10_000.0).round() / 10_000.0),
        )?;
        st.end()
    }
}

/// One input the run read, as listed in a report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct InputFile {
    /// Path as given (`archive.zip!member`, `-`).
    pub name: String,
    /// Records cut out of the file.
    pub records: u64,
    /// Records that could not be read.
    pub unreadable: u64,
    /// Records per recognized export shape (`log-analytics-sign-in`, `office-activity`, ...).
    pub shapes: BTreeMap<String, u64>,
}

/// When a report was made and from what: the header of every report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RunInfo {
    /// The date of the run (injectable so reports are reproducible).
    pub generated_at: Timestamp,
    /// The inputs, in the order read.
    pub inputs: Vec<InputFile>,
}

impl RunInfo {
    /// Records of one export shape over every input.
    pub fn shape_records(&self, shape: &str) -> u64 {
        self.inputs.iter().filter_map(|f| f.shapes.get(shape)).sum()
    }
}

/// Trimmed and lower case, `None` when empty: how the engine keys users, clients and
/// principals ([`tokentrail_model::text::folded`]: borrowed when the text already is so).
pub(crate) fn folded(text: Option<&str>) -> Option<Cow<'_, str>> {
    text.map(tokentrail_model::text::folded)
        .filter(|t| !t.is_empty())
}

/// The sign-in rows and access records already read, by the ids that make a row a repeat: a
/// sign-in's id within its kind, an access record's id within its log.
#[derive(Debug, Default)]
pub(crate) struct Sightings {
    sign_ins: FxHashSet<(SignInKind, Guid)>,
    /// Record ids that are GUID text as a [`Guid`] prints itself (nearly all), as their bits:
    /// such text and its bits name each other one to one, and bits are stored without an
    /// allocation per record.
    record_guids: FxHashSet<(AccessSource, Guid)>,
    /// Every other record id, as its text.
    record_texts: FxHashSet<(AccessSource, String)>,
}

impl Sightings {
    /// False when a sign-in row of `kind` with `id` was already read.
    pub fn first_sign_in(&mut self, kind: SignInKind, id: Guid) -> bool {
        self.sign_ins.insert((kind, id))
    }

    /// False when an access record of `log` with `id` was already read.
    pub fn first_access(&mut self, log: AccessSource, id: &str) -> bool {
        match Guid::parse_canonical(id) {
            Some(guid) => self.record_guids.insert((log, guid)),
            None => self.record_texts.insert((log, id.to_string())),
        }
    }
}

/// `YYYY-MM-DD` of a time (UTC).
pub fn date_text(t: Timestamp) -> String {
    let text = t.to_string();
    text.get(..10).map(str::to_string).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_parse() {
        assert_eq!(parse_days("180d"), Ok(180));
        assert_eq!(parse_days(" 90 "), Ok(90));
        assert_eq!(parse_days("26w"), Ok(182));
        assert!(parse_days("0d").is_err());
        assert!(parse_days("six months").is_err());
        assert!(parse_days("d").is_err());
    }

    /// A record id is a repeat only when its text is: GUID text held as bits names the same
    /// records as its text did, and other spellings of the GUID stay records of their own.
    #[test]
    fn sightings_repeat_only_the_same_id_in_the_same_log() {
        let mut seen = Sightings::default();
        let graph = AccessSource::GraphActivity;
        let id = "4d63c1c4-c95b-4d3c-8e0a-1271fd813e00";
        assert!(seen.first_access(graph, id));
        assert!(!seen.first_access(graph, id));
        assert!(seen.first_access(AccessSource::ExchangeAudit, id));
        assert!(seen.first_access(graph, &id.to_ascii_uppercase()));
        assert!(!seen.first_access(graph, &id.to_ascii_uppercase()));
        assert!(seen.first_access(graph, &format!("{{{id}}}")));
        assert!(seen.first_access(graph, "rec-0001"));
        assert!(!seen.first_access(graph, "rec-0001"));
        let sign_in = Guid::parse(id).unwrap();
        assert!(seen.first_sign_in(SignInKind::Interactive, sign_in));
        assert!(!seen.first_sign_in(SignInKind::Interactive, sign_in));
        assert!(seen.first_sign_in(SignInKind::NonInteractive, sign_in));
    }

    #[test]
    fn share_text_and_json() {
        let s = Share { count: 2, of: 3 };
        assert_eq!(s.percent_text(), "66.6%");
        assert_eq!(Share::default().percent_text(), "-");
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"count":2,"of":3,"share":0.6667}"#
        );
        assert_eq!(date_text(Timestamp::from_secs(1_709_510_400)), "2024-03-04");
    }
}
