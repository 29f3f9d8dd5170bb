//! Readers and decoders for every export of the three log families tokentrail reads.
//!
//! Data flows one way through this crate:
//!
//! 1. [`source`] turns the paths a user gives (files, directories, `.gz`, `.zip`, `-`) into
//!    byte streams, each named for error reports.
//! 2. [`frame`] sniffs each stream's container from its content (JSON lines, a JSON array, an
//!    OData page `{"value":[...]}`, a diagnostic-settings envelope `{"records":[...]}`, an
//!    advanced hunting result `{"Results":[...]}`, a Kusto query answer `{"tables":[...]}` whose
//!    rows become records, an Elasticsearch search answer `{"hits":{"hits":[...]}}`, one JSON
//!    object, JSON lines behind a syslog prefix, CSV) and cuts it into records without loading
//!    the whole stream.
//! 3. [`decode_all()`] turns one record ([`Payload`]) into normalized [`Decoded`] events: a
//!    [`SignIn`], an [`Access`], or a record of another kind that is counted and skipped. A
//!    record may hold several: a forwarder's `_raw` string or a whole envelope saved as one
//!    JSON line is unwrapped first.
//! 4. [`read`] drives the three over many paths, hands every event to a sink, and returns an
//!    [`IngestReport`] that counts everything and lists every unreadable record with its place.

pub mod decode;
pub mod frame;
pub mod read;
pub mod source;
mod utf16;

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;
use tokentrail_model::{Access, SessionId, SignIn, SourceRef, Timestamp, TokenId};

pub use decode::{decode, decode_all, CsvLayout, DecodeOptions, Fields};
pub use read::{read_paths, FileReport, IngestReport, ReadOptions, Unreadable};
pub use utf16::TextEncoding;

/// One record as framed from its container, ready to decode.
#[derive(Clone, Copy, Debug)]
pub enum Payload<'a> {
    /// The bytes of one JSON value (normally an object).
    Json(&'a [u8]),
    /// One CSV row and the layout compiled from its file's header.
    Csv {
        /// Column layout, compiled once per file.
        layout: &'a CsvLayout,
        /// The row's fields.
        row: &'a csv::ByteRecord,
    },
}

/// The log family a record belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// Entra ID sign-in logs (all four kinds) and UAL `UserLoggedIn` records.
    SignIns,
    /// Microsoft Graph activity logs.
    GraphActivity,
    /// Unified Audit Log records that are accesses (Exchange, SharePoint, OneDrive, Teams).
    UnifiedAudit,
    /// Entra audit log records made with a logged token or session.
    DirectoryAudit,
    /// Anything else: admin operations, directory audit, other workloads, other vendors.
    Other,
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::SignIns => "sign-ins",
            Family::GraphActivity => "graph-activity",
            Family::UnifiedAudit => "unified-audit",
            Family::DirectoryAudit => "directory-audit",
            Family::Other => "other",
        })
    }
}

/// What one record decoded to.
#[derive(Clone, Debug, PartialEq)]
pub enum Decoded {
    /// A sign-in row.
    SignIn(Box<SignIn>),
    /// A use of a token.
    Access(Box<Access>),
    /// A readable record the engine does not use; counted, not an error.
    Other(OtherRecord),
}

/// Why a readable record is not used: so a responder can tell "irrelevant" from "dropped".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Disposition {
    /// Recognized, and of a kind that holds no sign-in and no use of a token: a security
    /// alert, a device, a policy, a directory change made without a logged token, a UAL
    /// record of another workload. [`OtherRecord::kind`] says which.
    NotRelevant,
    /// Recognized as an export or table tokentrail does not read (another Defender table,
    /// another diagnostic category, Google Workspace, a test-case wrapper).
    /// [`OtherRecord::kind`] names the shape.
    NotSupported,
    /// Not recognized as anything.
    NotUnderstood,
}

impl Disposition {
    /// The stable name used in reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::NotRelevant => "not-relevant",
            Disposition::NotSupported => "not-supported",
            Disposition::NotUnderstood => "not-understood",
        }
    }
}

/// A readable record of a kind the engine does not use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtherRecord {
    /// Family, as far as the record tells.
    pub family: Family,
    /// Why it is not used.
    pub disposition: Disposition,
    /// What it is (`directory-audit`, `security-alert`, `ual:AzureActiveDirectory`,
    /// `google-workspace`, `defender:IdentityLogonEvents`, `unknown`, ...).
    pub kind: String,
    /// Its operation, when it has one.
    pub operation: Option<String>,
    /// Its time, when it has one.
    pub time: Option<Timestamp>,
    /// Who changed which mailbox setting, from where: kept for the Unified Audit Log records
    /// an investigation lists (inbox-rule and forwarding changes); `None` for everything else.
    pub mailbox_change: Option<Box<MailboxChange>>,
}

/// A Unified Audit Log record of an inbox-rule or forwarding change (`New-InboxRule`,
/// `Set-InboxRule`, `UpdateInboxRules`, `Set-Mailbox`): who ran it, from where, in which session,
/// with which parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailboxChange {
    /// The acting user as logged (`UserId`: a UPN, sometimes a name).
    pub user: Option<String>,
    /// The acting user's object id (`UserKey`), lower-cased, when it is a GUID.
    pub user_id: Option<String>,
    /// Client address (`ClientIP`, `ClientIPAddress`), port dropped.
    pub ip: Option<IpAddr>,
    /// The sign-in session (`AppAccessContext.AADSessionId`, else `SessionId`).
    pub session_id: Option<SessionId>,
    /// The token used (`AppAccessContext.UniqueTokenId`).
    pub token_id: Option<TokenId>,
    /// What was changed (`ObjectId`: the rule or the mailbox).
    pub object: Option<String>,
    /// The cmdlet's parameters (`Parameters`, else `OperationProperties`) as name and value
    /// text, in logged order; a parameter logged without a value has an empty value.
    pub parameters: Vec<(String, String)>,
    /// Where the record was read.
    pub source: SourceRef,
}

/// The shape a record was recognized as: which export wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// Graph `signIn` object (camelCase, no envelope).
    GraphSignIn,
    /// Log Analytics / Sentinel sign-in table row (PascalCase).
    LogAnalyticsSignIn,
    /// Diagnostic-settings record of a sign-in category (`properties` holds the sign-in).
    DiagnosticSignIn,
    /// Log Analytics `MicrosoftGraphActivityLogs` row.
    LogAnalyticsGraphActivity,
    /// Diagnostic-settings `MicrosoftGraphActivityLogs` record.
    DiagnosticGraphActivity,
    /// A UAL record as the Management Activity API writes it (also Extractor-Suite JSON).
    UalRecord,
    /// A row of the Purview portal CSV export (`AuditData` column).
    PurviewCsv,
    /// A row of `Search-UnifiedAuditLog | Export-Csv`.
    SearchUnifiedAuditLogCsv,
    /// A Graph audit-log-query `auditLogRecord` (`auditData` holds the UAL record).
    AuditLogRecord,
    /// Defender XDR `CloudAppEvents` row (`RawEventData` holds the UAL record).
    CloudAppEvents,
    /// Sentinel `OfficeActivity` row (no `AppAccessContext`, no session id).
    OfficeActivity,
    /// A row of the Entra admin center's sign-in "Download CSV" (display-name columns).
    EntraPortalCsv,
    /// A Defender XDR advanced hunting row of `EntraIdSignInEvents`, `AADSignInEventsBeta`,
    /// `EntraIdSpnSignInEvents`, `AADSpnSignInEventsBeta` or `GraphApiAuditEvents`.
    DefenderAdvancedHunting,
    /// A Defender XDR Streaming API record (`category` `AdvancedHunting-<table>`, the row in
    /// `properties`).
    DefenderStreaming,
    /// An Entra audit log record (Graph `directoryAudit`, Log Analytics `AuditLogs`,
    /// diagnostic-settings `AuditLogs`).
    DirectoryAudit,
    /// A SEKOIA intake-format test case (`input.message` holds the raw event).
    TestCase,
    /// A table Azure Data Explorer writes about a query beside its result (extended
    /// properties, query status, table of contents): not records.
    KustoQueryInfo,
    /// Not recognized as any export tokentrail reads.
    Unknown,
}

/// A decoded record and the shape it was recognized as.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedRecord {
    /// Which export wrote it.
    pub shape: Shape,
    /// What it decoded to.
    pub event: Decoded,
    /// A sign-in whose export does not say whether the user was present (the Entra admin
    /// center's CSV has no such column, and its values did not tell): read as
    /// non-interactive, so it never stands as a session's interactive root.
    pub kind_unstated: bool,
    /// Fields only displayed (a user agent, an app name) whose text held an escape that is
    /// not text (a lone surrogate) and were kept with U+FFFD in its place.
    pub repaired: u32,
}

impl DecodedRecord {
    /// A record of `shape` that decoded to `event`.
    pub fn new(shape: Shape, event: Decoded) -> DecodedRecord {
        DecodedRecord {
            shape,
            event,
            kind_unstated: false,
            repaired: 0,
        }
    }

    /// The record's family.
    pub fn family(&self) -> Family {
        match &self.event {
            Decoded::SignIn(_) => Family::SignIns,
            Decoded::Access(a) if a.log == tokentrail_model::AccessSource::GraphActivity => {
                Family::GraphActivity
            }
            Decoded::Access(a) if a.log == tokentrail_model::AccessSource::DirectoryAudit => {
                Family::DirectoryAudit
            }
            Decoded::Access(_) => Family::UnifiedAudit,
            Decoded::Other(o) => o.family,
        }
    }

    /// Where the event was read, for events that carry it.
    pub fn source(&self) -> Option<&SourceRef> {
        match &self.event {
            Decoded::SignIn(s) => Some(&s.source),
            Decoded::Access(a) => Some(&a.source),
            Decoded::Other(o) => o.mailbox_change.as_ref().map(|m| &m.source),
        }
    }
}

/// Why a record could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not valid JSON (or not UTF-8).
    #[error("malformed JSON: {0}")]
    Json(String),
    /// The record is JSON but not an object.
    #[error("expected a JSON object, found {0}")]
    NotAnObject(&'static str),
    /// A field needed to use the record is missing.
    #[error("missing field {0}")]
    Missing(&'static str),
    /// A field's value cannot be read.
    #[error("field {field}: {reason}")]
    BadField {
        /// Field name as logged.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A CSV row does not fit its header.
    #[error("CSV row: {0}")]
    Csv(String),
    /// One record of an envelope (`{"records":[...]}`, `{"value":[...]}`) saved as a single
    /// record (a JSON line, an array element, a `_raw` field).
    #[error("record {index} of the envelope: {error}")]
    InEnvelope {
        /// Its 0-based index in the envelope's array.
        index: u64,
        /// Why it cannot be read.
        error: Box<DecodeError>,
    },
    /// A row of a query answer's table that does not fit its columns.
    #[error("query answer: {0}")]
    QueryRow(String),
    /// [`decode()`] was given an envelope of several records; [`decode_all()`] reads them.
    #[error("an envelope of {0} records, not one record")]
    Envelope(usize),
}
