//! Investigate one user, session, token or IP address after the fact: which sign-ins and
//! accesses belong to it, how they chain (interactive root -> refreshes -> tokens -> accesses),
//! from which networks, what was touched, which findings cite it, and which containment steps
//! follow from what was seen.
//!
//! [`investigate`] builds an [`Investigation`] from decoded records and the engine's findings;
//! [`Investigator`] builds many over the same records, indexing them once, and with a
//! [`Context`] learned from every record ([`ContextBuilder`]) it needs only the records related
//! to its subjects. [`write_markdown`], [`write_json`] and [`write_csv`] render it;
//! [`write_timesketch`] writes its timeline, or the whole tenant's ([`tenant_timeline`]), as
//! the events Timesketch imports.
//!
//! # JSON form
//!
//! [`write_json`] writes the [`Investigation`] as one pretty-printed object whose fields are, in
//! this order: `subject` (`{"kind": "user"|"session"|"token"|"ip", "value": ...}`, with `"user"`
//! too for one user's records in a session), `finding` (the id of the finding the
//! investigation was opened from, `investigate --finding`, else `null`), `records`
//! (`{"sign_ins", "accesses"}` counts), `first_seen`, `last_seen`, `users`, `sessions`
//! ([`SessionChain`]), `networks` ([`NetworkSummary`]), `findings` ([`FindingRef`]), `touched`
//! ([`Touched`]), `containment` ([`ContainmentStep`]) and `timeline` ([`TimelineEntry`]).
//! Times are RFC 3339 UTC strings, networks `AS<n>` or `<prefix>/<len>`, token and session ids
//! normalized GUID text (or the text as logged when it is not a GUID), sources `file:line` or
//! `file#index`. Absent values are `null`; lists are sorted as documented on each type, so the
//! same input gives the same bytes.
//!
//! # CSV form
//!
//! [`write_csv`] writes the timeline, one row per record, with the header
//! `time,record,kind,operation,user,ip,network,app,session,token,source,findings` (findings
//! joined with `;`).

mod chain;
mod context;
mod related;
mod render;
mod rules;
mod timeline;
mod timesketch;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use serde::Serialize;
use tokentrail_model::{NetworkId, SessionId, SourceRef, Timestamp, TokenId};

pub use chain::{investigate, investigate_with_changes, Investigator};
pub use context::{Context, ContextBuilder};
pub use related::Related;
pub use render::{write_csv, write_json, write_markdown};
pub use rules::MAILBOX_CHANGE_OPERATIONS;
pub use timeline::{
    tenant_timeline, SortedTimeline, TenantTimeline, TimelineSorting, DEFAULT_ENTRIES_PER_RUN,
};
pub use timesketch::{
    write_timesketch, write_timesketch_in_order, TimesketchCounts, TimesketchFormat,
};

/// What an investigation is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A user, by object id or user principal name (compared case-insensitively).
    User(String),
    /// A sign-in session.
    Session(SessionId),
    /// A token, by `uti` or sign-in id.
    Token(TokenId),
    /// A client IP address.
    Ip(IpAddr),
    /// One user's records in one session (`--user` with `--session`): the user by object id or
    /// user principal name, as for [`Subject::User`].
    UserSession(String, SessionId),
}

impl Subject {
    /// The subject kind as written in reports: `user`, `session`, `token` or `ip`.
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::User(_) => "user",
            Subject::Session(_) => "session",
            Subject::Token(_) => "token",
            Subject::Ip(_) => "ip",
            Subject::UserSession(..) => "session",
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::User(u) => write!(f, "user {u}"),
            Subject::Session(s) => write!(f, "session {s}"),
            Subject::Token(t) => write!(f, "token {t}"),
            Subject::Ip(ip) => write!(f, "ip {ip}"),
            Subject::UserSession(u, s) => write!(f, "session {s} of user {u}"),
        }
    }
}

impl Serialize for Subject {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let user = match self {
            Subject::UserSession(u, _) => Some(u),
            _ => None,
        };
        let mut st = s.serialize_struct("Subject", 2 + usize::from(user.is_some()))?;
        st.serialize_field("kind", self.kind())?;
        let value = match self {
            Subject::User(u) => u.clone(),
            Subject::Session(v) | Subject::UserSession(_, v) => v.to_string(),
            Subject::Token(v) => v.to_string(),
            Subject::Ip(v) => v.to_string(),
        };
        st.serialize_field("value", &value)?;
        if let Some(user) = user {
            st.serialize_field("user", user)?;
        }
        st.end()
    }
}

/// Why an investigation could not be built or written.
#[derive(Debug, thiserror::Error)]
pub enum InvestigateError {
    /// No sign-in or access in the inputs belongs to the subject.
    #[error("no sign-in or access in the inputs matches {0}")]
    NoMatch(Subject),
    /// Writing the output failed.
    #[error("cannot write the investigation: {0}")]
    Io(#[from] std::io::Error),
    /// Writing the CSV timeline failed.
    #[error("cannot write the timeline: {0}")]
    Csv(#[from] csv::Error),
    /// Serializing the JSON form failed.
    #[error("cannot write the JSON form: {0}")]
    Json(#[from] serde_json::Error),
}

/// How many related records were found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RecordCounts {
    /// Related sign-in rows.
    pub sign_ins: u64,
    /// Related access records.
    pub accesses: u64,
}

/// The full result; see the crate docs for its JSON form.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Investigation {
    /// What was investigated.
    pub subject: Subject,
    /// The id of the finding the investigation was opened from (`investigate --finding`),
    /// which is among [`Investigation::findings`]; `None` otherwise.
    pub finding: Option<String>,
    /// Related record counts.
    pub records: RecordCounts,
    /// Earliest related record.
    pub first_seen: Timestamp,
    /// Latest related record.
    pub last_seen: Timestamp,
    /// Users the related records act for (UPN when logged, else object id), sorted.
    pub users: Vec<String>,
    /// One chain per session, sorted by first record; records without a session come last in a
    /// chain whose `session_id` is `null`.
    pub sessions: Vec<SessionChain>,
    /// Every network the related records came from, sorted by first seen.
    pub networks: Vec<NetworkSummary>,
    /// Findings that cite a related record or its session or token, in the engine's order.
    pub findings: Vec<FindingRef>,
    /// What the related accesses touched.
    pub touched: Touched,
    /// Containment steps that follow from what was seen, most urgent first.
    pub containment: Vec<ContainmentStep>,
    /// Every related record inside the reporting window (`--since`/`--until`), by time then
    /// source.
    pub timeline: Vec<TimelineEntry>,
}

/// One session: its interactive roots, its other sign-ins, its tokens and their use.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionChain {
    /// The session id; `null` for related records that name no session.
    pub session_id: Option<SessionId>,
    /// Earliest record of the session among the related ones.
    pub first_seen: Timestamp,
    /// Latest record.
    pub last_seen: Timestamp,
    /// Interactive sign-ins (the session's roots), by time.
    pub interactive_roots: Vec<ChainSignIn>,
    /// Non-interactive and other sign-ins (refreshes), by time.
    pub refreshes: Vec<ChainSignIn>,
    /// Tokens issued or used in the session, by first appearance.
    pub tokens: Vec<TokenUse>,
    /// Accesses in the session that name no token.
    pub accesses_without_token: u64,
    /// Accesses in the session, all together.
    pub accesses: u64,
}

/// A sign-in as it appears in a chain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChainSignIn {
    /// When.
    pub time: Timestamp,
    /// `interactive`, `non-interactive`, ...
    pub kind: String,
    /// From where.
    pub ip: Option<IpAddr>,
    /// The network of `ip`.
    pub network: Option<NetworkId>,
    /// Client app (display name, else id).
    pub app: Option<String>,
    /// The token it issued.
    pub token_id: Option<TokenId>,
    /// False when the sign-in failed (it issued no usable token).
    pub succeeded: bool,
    /// Where the row was read.
    #[serde(serialize_with = "as_text")]
    pub source: SourceRef,
}

/// One token: the sign-in that issued it (when present in the inputs) and its uses.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TokenUse {
    /// The token id.
    pub token_id: TokenId,
    /// Where the issuing sign-in was read, when it is in the inputs.
    #[serde(serialize_with = "as_optional_text")]
    pub issued_by: Option<SourceRef>,
    /// When it was issued (the issuing sign-in's time).
    pub issued_at: Option<Timestamp>,
    /// The network it was issued to.
    pub issued_network: Option<NetworkId>,
    /// Accesses using it.
    pub accesses: u64,
    /// First use.
    pub first_used: Option<Timestamp>,
    /// Last use.
    pub last_used: Option<Timestamp>,
    /// Networks it was used from, sorted.
    pub used_from: Vec<NetworkId>,
}

/// One network the related records came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NetworkSummary {
    /// `AS<n>` when a sign-in row logged the ASN of one of its addresses, else the /24 or /48.
    pub network: NetworkId,
    /// True when `network` is a prefix standing in for an unknown ASN.
    pub approximate: bool,
    /// Addresses seen, sorted.
    pub ips: Vec<IpAddr>,
    /// First related record from it.
    pub first_seen: Timestamp,
    /// Last related record from it.
    pub last_seen: Timestamp,
    /// Related sign-ins from it.
    pub sign_ins: u64,
    /// Related accesses from it.
    pub accesses: u64,
    /// Whether a user of the investigation ever signed in interactively (and successfully)
    /// from this network, anywhere in the inputs.
    pub interactive_sign_in: bool,
    /// Whether the engine counts it as one of the users' own networks: a successful interactive
    /// or device-proven sign-in by them there (a phone's carrier, the office), not a hosting
    /// network.
    pub established: bool,
    /// Whether its addresses are in Microsoft's published service ranges (the service acting
    /// for the user).
    pub microsoft_service: bool,
    /// The live TT001/TT002 findings that name it as the network a token or session was used
    /// from without being established there, sorted.
    pub replay_findings: Vec<String>,
}

/// A finding that concerns the subject.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FindingRef {
    /// Finding id.
    pub id: String,
    /// `TT001`...
    pub rule: String,
    /// Severity caption.
    pub severity: String,
    /// Title.
    pub title: String,
    /// First record.
    pub first_seen: Timestamp,
    /// Last record.
    pub last_seen: Timestamp,
}

/// What the related accesses touched.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Touched {
    /// Mail access.
    pub mail: MailTouched,
    /// Files and sites touched (the logged object), with the operations on each, sorted.
    pub files: Vec<Touch>,
    /// Graph endpoints called (method and path), with how often, sorted.
    pub graph_endpoints: Vec<Touch>,
    /// Inbox-rule and forwarding changes in the Unified Audit Log made by a user of the
    /// investigation, on their mailbox, or in one of its sessions, by time then source.
    pub mailbox_rule_changes: Vec<MailboxRuleChange>,
}

/// One inbox-rule or forwarding change (`New-InboxRule`, `Set-InboxRule`, `UpdateInboxRules`,
/// or `Set-Mailbox` with a forwarding parameter).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MailboxRuleChange {
    /// When.
    pub time: Timestamp,
    /// The operation as logged.
    pub operation: String,
    /// What it does to mail, in words (`forwards to x`, `deletes the message`, ...); empty when
    /// no parameter says.
    pub effects: Vec<String>,
    /// Who made it: UPN, else object id.
    pub user: Option<String>,
    /// From where.
    pub ip: Option<IpAddr>,
    /// The network of `ip`.
    pub network: Option<NetworkId>,
    /// Whether the acting user ever signed in interactively (and successfully) from `network`;
    /// `null` without an address.
    pub interactive_network: Option<bool>,
    /// True when `network` is neither one of the acting user's own networks (as the engine
    /// judges them: interactive or device-proven sign-ins there) nor Microsoft's service;
    /// `null` without an address.
    pub foreign_network: Option<bool>,
    /// The sign-in session it was made in, when logged.
    pub session_id: Option<SessionId>,
    /// The token it was made with, when logged.
    pub token_id: Option<TokenId>,
    /// True when its session or token is one of the investigation's.
    pub in_chain: bool,
    /// The rule or mailbox changed (`ObjectId`).
    pub object: Option<String>,
    /// The parameters as logged.
    pub parameters: Vec<Parameter>,
    /// Where the record was read.
    #[serde(serialize_with = "as_text")]
    pub source: SourceRef,
}

/// One cmdlet parameter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Parameter {
    /// Its name.
    pub name: String,
    /// Its value as text (empty when logged without one).
    pub value: String,
}

/// Mail access counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MailTouched {
    /// Mail workload access records.
    pub records: u64,
    /// Operations they stand for (`OperationCount` summed).
    pub operations: u64,
    /// MailItemsAccessed `Bind` operations (single items opened).
    pub bind: u64,
    /// MailItemsAccessed `Sync` operations (whole folders synchronized).
    pub sync: u64,
    /// Mailboxes named by the audit records (Graph rows are listed under endpoints), with
    /// their operation counts, sorted.
    pub objects: Vec<Touch>,
}

/// A touched thing and how often.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Touch {
    /// The object, URL or endpoint.
    pub name: String,
    /// Operations (`OperationCount` summed).
    pub operations: u64,
}

/// One containment step and why it applies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContainmentStep {
    /// Stable short name (`revoke-sessions`, `review-consent`, `reset-credentials`,
    /// `inbox-rules`, `conditional-access`).
    pub step: String,
    /// What to do.
    pub action: String,
    /// Commands that carry the step out, ready to paste: Exchange Online PowerShell cmdlets
    /// and Microsoft Graph requests (`POST https://...`). Every value taken from the logs is a
    /// PowerShell single-quoted string (quotes doubled) or a percent-encoded URL path
    /// segment; a value that cannot be pasted faithfully (a line break, a bidi override,
    /// damaged text) is left out and named by reference in `action` instead.
    pub commands: Vec<String>,
    /// Why, from what was seen.
    pub why: String,
}

/// One related record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimelineEntry {
    /// When.
    pub time: Timestamp,
    /// `sign-in` or `access`.
    pub record: String,
    /// Sign-in kind or access log.
    pub kind: String,
    /// The access operation; for sign-ins, the resource signed in to (or `sign-in`).
    pub operation: String,
    /// UPN, else object id.
    pub user: Option<String>,
    /// Client IP.
    pub ip: Option<IpAddr>,
    /// Its network.
    pub network: Option<NetworkId>,
    /// Client app (display name, else id).
    pub app: Option<String>,
    /// Session id.
    pub session_id: Option<SessionId>,
    /// Token id (for sign-ins, the token issued).
    pub token_id: Option<TokenId>,
    /// Where the record was read.
    #[serde(serialize_with = "as_text")]
    pub source: SourceRef,
    /// Ids of the findings that cite this record (by source, session or token), sorted.
    pub findings: Vec<String>,
}

/// Sum operation counts per name, sorted by name.
fn touches(counts: BTreeMap<String, u64>) -> Vec<Touch> {
    counts
        .into_iter()
        .map(|(name, operations)| Touch { name, operations })
        .collect()
}

/// Sources are written as `file:line` / `file#index`, as everywhere else in reports.
fn as_text<S: serde::Serializer>(value: &SourceRef, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

fn as_optional_text<S: serde::Serializer>(
    value: &Option<SourceRef>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}
