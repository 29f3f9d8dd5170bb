//! The one Finding model every rule emits and every renderer reads.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::event::{SignInKind, SourceRef};
use crate::ids::{SessionId, TokenId};
use crate::rule::RuleId;
use crate::time::Timestamp;

/// Severity, ordered; values match OCSF `severity_id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// OCSF 1.
    Informational = 1,
    /// OCSF 2.
    Low = 2,
    /// OCSF 3.
    Medium = 3,
    /// OCSF 4.
    High = 4,
    /// OCSF 5.
    Critical = 5,
}

impl Severity {
    /// OCSF `severity_id`.
    pub fn ocsf_id(self) -> u8 {
        self as u8
    }
    /// Caption as OCSF spells it.
    pub fn caption(self) -> &'static str {
        match self {
            Severity::Informational => "Informational",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }
    /// Read back a caption, in any case (`high`, `High`).
    pub fn parse(text: &str) -> Option<Severity> {
        [
            Severity::Informational,
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ]
        .into_iter()
        .find(|s| s.caption().eq_ignore_ascii_case(text.trim()))
    }
    /// One step more severe (saturating at critical).
    pub fn raised(self) -> Severity {
        match self {
            Severity::Informational => Severity::Low,
            Severity::Low => Severity::Medium,
            Severity::Medium => Severity::High,
            Severity::High | Severity::Critical => Severity::Critical,
        }
    }
}

/// How sure the rule is; values match OCSF `confidence_id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// OCSF 1.
    Low = 1,
    /// OCSF 2.
    Medium = 2,
    /// OCSF 3.
    High = 3,
}

impl Confidence {
    /// OCSF `confidence_id`.
    pub fn ocsf_id(self) -> u8 {
        self as u8
    }
    /// Read back a caption, in any case (`high`, `High`).
    pub fn parse(text: &str) -> Option<Confidence> {
        [Confidence::Low, Confidence::Medium, Confidence::High]
            .into_iter()
            .find(|c| c.caption().eq_ignore_ascii_case(text.trim()))
    }
    /// Caption as OCSF spells it.
    pub fn caption(self) -> &'static str {
        match self {
            Confidence::Low => "Low",
            Confidence::Medium => "Medium",
            Confidence::High => "High",
        }
    }
}

/// The network of an address: its autonomous system when known, otherwise its /24 (IPv4) or
/// /48 (IPv6) prefix, which is approximate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NetworkId {
    /// An autonomous system number.
    Asn(u32),
    /// The covering prefix (network address, length), used when no ASN is known.
    Prefix(IpAddr, u8),
}

impl NetworkId {
    /// The prefix network of `ip` (/24 for IPv4, /48 for IPv6).
    pub fn prefix_of(ip: IpAddr) -> NetworkId {
        match ip {
            IpAddr::V4(v4) => {
                let o = v4.octets();
                NetworkId::Prefix(IpAddr::V4([o[0], o[1], o[2], 0].into()), 24)
            }
            IpAddr::V6(v6) => {
                let s = v6.segments();
                NetworkId::Prefix(IpAddr::V6([s[0], s[1], s[2], 0, 0, 0, 0, 0].into()), 48)
            }
        }
    }

    /// True when this is a prefix standing in for an unknown ASN.
    pub fn is_approximate(&self) -> bool {
        matches!(self, NetworkId::Prefix(..))
    }

    /// Read back the display form: `AS8075` or `203.0.113.0/24`.
    pub fn parse(text: &str) -> Option<NetworkId> {
        let t = text.trim();
        if let Some(n) = t.strip_prefix("AS") {
            return n.parse().ok().map(NetworkId::Asn);
        }
        let (ip, len) = t.split_once('/')?;
        Some(NetworkId::Prefix(ip.parse().ok()?, len.parse().ok()?))
    }
}

impl fmt::Display for NetworkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetworkId::Asn(n) => write!(f, "AS{n}"),
            NetworkId::Prefix(ip, len) => write!(f, "{ip}/{len}"),
        }
    }
}

impl Serialize for NetworkId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The sign-in that issued the token (or created the session) a finding is about.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IssueEvidence {
    /// Where the sign-in row was read.
    pub source: SourceRef,
    /// The sign-in `id`.
    pub sign_in_id: Option<String>,
    /// Which sign-in log.
    pub kind: SignInKind,
    /// When.
    pub time: Timestamp,
    /// From where.
    pub ip: Option<IpAddr>,
    /// That address's network.
    pub network: Option<NetworkId>,
    /// Client app id.
    pub app_id: Option<String>,
    /// Client app name.
    pub app_name: Option<String>,
    /// Device id, when the sign-in proves one.
    pub device_id: Option<String>,
}

/// A group of accesses (or non-interactive sign-ins) covered by a finding. Rows are grouped, not
/// listed one by one: `count` says how many, `samples` cites some of them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccessEvidence {
    /// Network the accesses came from.
    pub network: Option<NetworkId>,
    /// Distinct IPs seen (bounded).
    pub ips: Vec<IpAddr>,
    /// First access.
    pub first_seen: Timestamp,
    /// Last access.
    pub last_seen: Timestamp,
    /// Records covered.
    pub records: u64,
    /// Operations covered, summed over `OperationCount`.
    pub operations: u64,
    /// Distinct operation names with their counts, most frequent first.
    pub operation_counts: Vec<(String, u64)>,
    /// Client app ids seen.
    pub app_ids: Vec<String>,
    /// Source record ids of a bounded sample of the records (first ones in time order).
    pub samples: Vec<SourceRecord>,
}

/// One cited source record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceRecord {
    /// Where it was read.
    pub source: SourceRef,
    /// The record's own id (UAL `Id`, Graph `RequestId`, sign-in `id`).
    pub record_id: Option<String>,
    /// When.
    pub time: Timestamp,
    /// Operation, or the sign-in kind for sign-ins.
    pub operation: String,
    /// From where.
    pub ip: Option<IpAddr>,
}

/// An allowlist entry that matched a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// The entry's `id`.
    pub entry_id: String,
    /// The entry's `reason`.
    pub reason: String,
}

/// One finding: a rule fired for one group (token and network, session and network, user and
/// client, ...).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Deterministic id: the same inputs give the same id, whatever their order.
    pub id: String,
    /// Which rule.
    pub rule: RuleId,
    /// Short title.
    pub title: String,
    /// Why it fired, in one sentence.
    pub why: String,
    /// Severity.
    pub severity: Severity,
    /// Confidence.
    pub confidence: Confidence,
    /// User object id.
    pub user_id: Option<String>,
    /// User principal name.
    pub upn: Option<String>,
    /// Session.
    pub session_id: Option<SessionId>,
    /// Token.
    pub token_id: Option<TokenId>,
    /// Client app id.
    pub app_id: Option<String>,
    /// Client app name.
    pub app_name: Option<String>,
    /// Resource or workload touched.
    pub resource: Option<String>,
    /// The address the token or session was used from (the first one seen).
    pub src_ip: Option<IpAddr>,
    /// That address's network.
    pub network: Option<NetworkId>,
    /// First record covered.
    pub first_seen: Timestamp,
    /// Last record covered.
    pub last_seen: Timestamp,
    /// The issuing sign-in or root sign-in, when there is one.
    pub issue: Option<IssueEvidence>,
    /// The accesses (and non-interactive sign-ins) the finding covers, grouped.
    pub accesses: Vec<AccessEvidence>,
    /// Benign explanations the rule checked and found not to hold.
    pub checked: Vec<String>,
    /// Containment steps that fit what was seen.
    pub containment: Vec<String>,
    /// Set when an allowlist entry suppressed the finding.
    pub suppression: Option<Suppression>,
}

/// Characters of an id (finding hash, session, token) that tables show: enough to tell the
/// findings of one tenant apart, and accepted back by `investigate` as a prefix.
pub const SHORT_ID_CHARS: usize = 8;

impl Finding {
    /// The id as tables show it: the first [`SHORT_ID_CHARS`] characters of the hash after the
    /// rule code (`830ad87c` for `TT001-830ad87c6df85bc9`), or of the whole id when it has no
    /// rule code (findings imported from elsewhere).
    pub fn short_id(&self) -> &str {
        short_finding_id(&self.id)
    }
}

/// See [`Finding::short_id`].
pub fn short_finding_id(id: &str) -> &str {
    let hash = finding_hash(id);
    let end = hash
        .char_indices()
        .nth(SHORT_ID_CHARS)
        .map_or(hash.len(), |(i, _)| i);
    &hash[..end]
}

/// The part of a finding id after its rule code (`830ad87c6df85bc9` of
/// `TT001-830ad87c6df85bc9`); the whole id when it has no rule code.
pub fn finding_hash(id: &str) -> &str {
    match id.split_once('-') {
        Some((rule, hash)) if is_rule_code(rule) => hash,
        _ => id,
    }
}

/// True for text shaped like a rule code (`TT001`): the model knows the shape, the engine's
/// registry knows the rules.
fn is_rule_code(text: &str) -> bool {
    text.len() == 5 && text.starts_with("TT") && text[2..].bytes().all(|b| b.is_ascii_digit())
}
