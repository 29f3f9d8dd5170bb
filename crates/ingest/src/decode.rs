//! Decoding one record of any supported export into a normalized event.
//!
//! # How a record is read
//!
//! One pass over the JSON object (the `collect` module) keeps only the fields some decoder
//! needs, matched case-insensitively (`userId` = `UserId`, `C_Sid` = `c_Sid` = `C_SID`), borrowed
//! from the input when possible, and skips every other value without building it. Nested
//! containers (`properties`, `AuditData`, `auditData`, `RawEventData`, `AppAccessContext`,
//! `DeviceDetail`, `Status`, `LocationDetails`, `TokenProtectionStatusDetails`, name/value
//! lists) are collected whether they arrive as objects or as JSON text in a string. A CSV row
//! fills the same slots by column name ([`CsvLayout`]). Then the record's shape is recognized
//! and a per-shape normalizer maps the slots to a [`SignIn`], an [`Access`] or an
//! [`OtherRecord`].
//!
//! # Recognizing the shape
//!
//! In this order: a SEKOIA test case (`input.message`); a Graph `auditLogRecord`
//! (`auditLogRecordType`, or `auditData` without CSV columns); a Defender `CloudAppEvents` row
//! (non-null `RawEventData`); a Purview or `Search-UnifiedAuditLog` row (`AuditData`, with
//! `UserIds`/`Operations` for the latter); a Sentinel `OfficeActivity` row (`Type`); a
//! diagnostic-settings record (`category` and `properties`); a Log Analytics row (`Category`
//! or `Type` naming the table); then by content: UAL (`RecordType` + `CreationTime`), Graph
//! activity (`requestUri`), sign-in (`createdDateTime`). Anything else is an [`OtherRecord`]
//! (directory audit, risk detections, Google Workspace, other Defender tables, unknown).
//!
//! # Normalization rules
//!
//! Common to every shape:
//! - Empty text is absent. Token ids go through [`TokenId::parse`] (22-character base64url,
//!   legacy 48-character base64, GUID text; anything else stays opaque), session ids through
//!   [`SessionId::parse`], GUID fields through [`Guid::parse`] (a non-GUID `id` is absent), IPs
//!   through [`parse_client_ip`] (ports and brackets stripped; unreadable text is absent).
//! - The record's own time goes through [`Timestamp::parse`]; a record whose time is missing
//!   is [`DecodeError::Missing`] and one whose time cannot be read is
//!   [`DecodeError::BadField`]: never silently dropped. Secondary times (token issued-at) that
//!   cannot be read are absent.
//! - App, resource, user and service principal ids are lower-cased.
//! - Numbers may be logged as numbers or as decimal text; booleans as `true` or `"True"`.
//!
//! Sign-ins ([`SignIn`]):
//! - Kind from `category` (diagnostic settings, Log Analytics `Category`) or the table name
//!   in `Type`; otherwise from `signInEventTypes`, then `isInteractive` (false means
//!   non-interactive unless the row names a service principal or managed identity and no
//!   user), then service-principal fields; a bare Graph `signIn` defaults to interactive (the
//!   Graph API lists only interactive sign-ins unless filtered).
//! - Time from `createdDateTime`, else the envelope `time`, else `TimeGenerated`.
//! - `status.errorCode`, else a numeric `ResultType` / `resultType`, is the error code.
//! - `incomingTokenType` is normalized to its enum spelling (`Primary Refresh Token` ->
//!   `primaryRefreshToken`).
//! - `resourceId` is the resource app id except where it is an ARM path (`/tenants/...`, the
//!   Log Analytics column), where `ResourceIdentity` is used.
//! - The IP is `ipAddress`, else the envelope `callerIpAddress`; the country is
//!   `location.countryOrRegion` / `LocationDetails.countryOrRegion`, else a `Location` text.
//! - `tokenProtectionStatusDetails.signInSessionStatus` is the token protection status.
//!
//! Graph activity ([`Access`] with log [`AccessSource::GraphActivity`]):
//! - Time from `TimeGenerated`, else the envelope `time`.
//! - Operation is the HTTP method, a space and the request path with scheme, host, query and
//!   fragment removed, ids kept: `GET /v1.0/me/messages`. The object is the full request URI.
//! - Workload from the first path segment (case-insensitive) that names one: `messages`,
//!   `mailFolders`, `events`, `calendar`, `calendars`, `calendarView`, `contacts`,
//!   `contactFolders`, `mailboxSettings`, `outlook` -> mail; `drive`, `drives`, `sites`,
//!   `shares` -> files; `chats`, `teams` -> Teams; else other. So `/teams/{id}/.../messages`
//!   is Teams and `/users/{id}/messages` is mail.
//! - Actor: `C_Idtyp` `user`/`app` when logged; else delegated when a user id is present;
//!   else app-only when `ClientAuthMethod` is 1 or 2; else unknown.
//! - Token id from `SignInActivityId`, session from `SessionId` else `C_Sid`, device from
//!   `DeviceId` else `C_DeviceId`, issued-at from `TokenIssuedAt` else `C_Iat` (epoch
//!   seconds). The resource is Microsoft Graph (`00000003-0000-0000-c000-000000000000`): every
//!   row of this log is a call to it.
//!
//! Unified Audit Log records:
//! - `UserLoggedIn` / `UserLoginFailed` (RecordType 15, Workload `AzureActiveDirectory`) are
//!   sign-ins of kind [`SignInKind::UalLogon`]: `id` is the record `Id`, the user object id
//!   the first GUID in `Actor`, else `UserKey` when a GUID; the UPN `UserId`; the client app
//!   `ApplicationId`; the resource `ObjectId`; the session and device from `DeviceProperties`;
//!   the user agent from `ExtendedProperties`; the error code `ErrorNumber`; the original
//!   request id `IntraSystemId` and the correlation id `InterSystemsId`.
//! - Exchange mailbox records (RecordType 2, 3, 50) are mail accesses; SharePoint and
//!   OneDrive records are file accesses; Teams records (RecordType 25) are Teams accesses.
//!   Records of those workloads generated by the system (`UserType` 4) and every other
//!   workload or operation are [`OtherRecord`]s of kind `ual:<Workload>`.
//! - Client app: `AppAccessContext.ClientAppId`, else `ClientAppId`, else (not Exchange)
//!   `ApplicationId`; its name `AppAccessContext.ClientAppName`, else `ClientAppName`, else
//!   `ApplicationDisplayName`. Resource: `AppAccessContext.APIId`, else (Exchange) `AppId`.
//!   Session: `AppAccessContext.AADSessionId`, else `SessionId`. Token id:
//!   `AppAccessContext.UniqueTokenId`; issued-at: `IssuedAtTime` / `TokenIssuedAtTime`.
//! - User object id: `TokenObjectId`, else `UserKey` or `UserObjectId` when a GUID. UPN:
//!   `UserId`, else `MailboxOwnerUPN`. IP: `ClientIPAddress`, else `ClientIP`. User agent:
//!   `UserAgent`, else `ClientInfoString`. Count: `OperationCount` (default 1). Mail access
//!   type: the `MailAccessType` entry of `OperationProperties` (objects, JSON text, or
//!   PowerShell `@{...}` text). Object: Exchange `MailboxOwnerUPN`; SharePoint/OneDrive
//!   `ObjectId`, else `SourceFileName`, else `SiteUrl`; Teams `ChatThreadId`, else `ObjectId`.
//! - Actor: app-only when `UserType` is 5 or 6 (`Application`, `ServicePrincipal`), else
//!   delegated.
//! - Time: `CreationTime` (UTC when it has no zone), else the wrapper's time (`CreationDate`,
//!   `createdDateTime`, `Timestamp`, `TimeGenerated`).
//!
//! [`SignIn`]: tokentrail_model::SignIn
//! [`Access`]: tokentrail_model::Access
//! [`AccessSource::GraphActivity`]: tokentrail_model::AccessSource::GraphActivity
//! [`SignInKind::UalLogon`]: tokentrail_model::SignInKind::UalLogon
//! [`TokenId::parse`]: tokentrail_model::TokenId::parse
//! [`SessionId::parse`]: tokentrail_model::SessionId::parse
//! [`Guid::parse`]: tokentrail_model::Guid::parse
//! [`parse_client_ip`]: tokentrail_model::parse_client_ip
//! [`Timestamp::parse`]: tokentrail_model::Timestamp::parse

mod collect;
mod graph;
mod json;
mod keys;
mod scan;
mod signin;
mod ual;

use std::borrow::Cow;

use serde::de::IgnoredAny;
use tokentrail_model::{SignInKind, SourceRef, Timestamp};

use self::collect::{LowerKey, Rec, Texts, Val};
use crate::{DecodeError, Decoded, DecodedRecord, Family, OtherRecord, Payload, Shape};

/// Options that change how records are decoded.
#[derive(Clone, Debug, Default)]
pub struct DecodeOptions {
    /// Read SEKOIA intake-format test cases (`{"input":{"message":"<raw event>"}}`) as the raw
    /// event they hold. The decoded record reports the shape of the inner event. Without this
    /// option a test case is an [`OtherRecord`] of kind `test-case`.
    pub unwrap_test_cases: bool,
}

/// Which UAL export a CSV file is, from its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CsvKind {
    /// `RecordId,CreationDate,RecordType,Operation,UserId,AuditData,...` (Purview portal).
    Purview,
    /// `CreationDate,UserIds,Operations,AuditData,...` (`Search-UnifiedAuditLog`).
    SearchUnifiedAuditLog,
    /// Anything else (Log Analytics exports of the sign-in and Graph activity tables).
    Table,
}

/// Column layout of a CSV file, compiled once from its header: each column's lower-cased
/// field name (a UTF-8 BOM, surrounding blanks and a bracketed suffix such as
/// `TimeGenerated [UTC]` removed) and which export the header says the file is.
#[derive(Clone, Debug)]
pub struct CsvLayout {
    /// Lower-cased field name per column.
    columns: Vec<Box<[u8]>>,
    kind: CsvKind,
}

impl CsvLayout {
    /// Compile the layout from the header row.
    pub fn new(headers: &csv::ByteRecord) -> CsvLayout {
        let columns: Vec<Box<[u8]>> = headers.iter().map(column_key).collect();
        let has = |k: &[u8]| columns.iter().any(|c| &**c == k);
        let kind = if has(b"auditdata") {
            if has(b"userids") || has(b"operations") {
                CsvKind::SearchUnifiedAuditLog
            } else {
                CsvKind::Purview
            }
        } else {
            CsvKind::Table
        };
        CsvLayout { columns, kind }
    }

    /// Fill the slots of one row.
    fn collect<'a>(&self, row: &'a csv::ByteRecord) -> Result<Rec<'a>, DecodeError> {
        if row.len() != self.columns.len() {
            return Err(DecodeError::Csv(format!(
                "row has {} fields, the header has {}",
                row.len(),
                self.columns.len()
            )));
        }
        let mut rec = Rec::default();
        for (i, (key, cell)) in self.columns.iter().zip(row.iter()).enumerate() {
            let text = std::str::from_utf8(cell)
                .map_err(|_| DecodeError::Csv(format!("field {} is not UTF-8", i + 1)))?;
            rec.set_text(key, text);
        }
        Ok(rec)
    }
}

/// A header cell as a field name: BOM, blanks and a bracketed suffix removed, lower-cased.
fn column_key(cell: &[u8]) -> Box<[u8]> {
    let cell = cell.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(cell);
    let text = String::from_utf8_lossy(cell);
    let mut name = text.trim();
    if let Some(open) = name.find(" [") {
        if name.ends_with(']') {
            name = name[..open].trim_end();
        }
    }
    let name = name.trim_matches('"');
    LowerKey::new(name.as_bytes()).as_bytes().into()
}

/// Decode one record.
///
/// JSON payloads must be one JSON object; CSV payloads one row of the file whose header
/// compiled `layout`. See the module documentation for the shapes and the normalization.
pub fn decode(
    payload: Payload<'_>,
    source: SourceRef,
    opts: &DecodeOptions,
) -> Result<DecodedRecord, DecodeError> {
    match payload {
        Payload::Json(bytes) => {
            let texts = Texts::default();
            let mut rec = Rec::default();
            parse_object(bytes, &texts, &mut rec)?;
            let mut record = interpret(&rec, source, opts, None)?;
            record.repaired += rec.repairs();
            Ok(record)
        }
        Payload::Csv { layout, row } => {
            let rec = layout.collect(row)?;
            let mut record = interpret(&rec, source, opts, Some(layout.kind))?;
            record.repaired += rec.repairs();
            Ok(record)
        }
    }
}

/// Parse a JSON object into `rec` (default; unescaped nested text kept in `texts`), telling
/// malformed JSON from well-formed JSON of another type.
///
/// The whole record is checked to be UTF-8 first: the scanner finds the ends of the strings
/// it skips without decoding them, and a record with invalid text anywhere is reported, not
/// half-read.
fn parse_object<'a>(
    bytes: &'a [u8],
    texts: &'a Texts,
    rec: &mut Rec<'a>,
) -> Result<(), DecodeError> {
    // The SIMD check answers yes or no; only a failing record pays for std's check, which
    // says where the bad byte is.
    let text = match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => std::str::from_utf8(bytes)
            .map_err(|e| DecodeError::Json(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?,
    };
    let first = bytes
        .iter()
        .copied()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    if first != Some(b'{') {
        json::from_str::<IgnoredAny>(text).map_err(DecodeError::Json)?;
        return Err(DecodeError::NotAnObject(match first {
            Some(b'[') => "an array",
            Some(b'"') => "a string",
            Some(b't' | b'f') => "a boolean",
            Some(b'n') => "null",
            _ => "a number",
        }));
    }
    Rec::document_into(text, texts, rec).map_err(|e| DecodeError::Json(e.to_string()))
}

/// What a category or table name says a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Named {
    SignIn(SignInKind),
    GraphActivity,
    OfficeActivity,
    DirectoryAudit,
    RiskDetection,
}

/// Read a diagnostic-settings category or a Log Analytics table name.
fn named(name: &str) -> Option<Named> {
    // Lowered on the stack: every record names its category or table.
    let n = LowerKey::new(name.trim().as_bytes());
    Some(match n.as_bytes() {
        b"signinlogs" => Named::SignIn(SignInKind::Interactive),
        b"noninteractiveusersigninlogs" | b"aadnoninteractiveusersigninlogs" => {
            Named::SignIn(SignInKind::NonInteractive)
        }
        b"serviceprincipalsigninlogs"
        | b"microsoftserviceprincipalsigninlogs"
        | b"aadserviceprincipalsigninlogs" => Named::SignIn(SignInKind::ServicePrincipal),
        b"managedidentitysigninlogs" | b"aadmanagedidentitysigninlogs" => {
            Named::SignIn(SignInKind::ManagedIdentity)
        }
        b"microsoftgraphactivitylogs" => Named::GraphActivity,
        b"officeactivity" => Named::OfficeActivity,
        b"auditlogs" => Named::DirectoryAudit,
        b"userriskevents"
        | b"riskyusers"
        | b"aaduserriskevents"
        | b"aadriskyusers"
        | b"serviceprincipalriskevents"
        | b"riskyserviceprincipals" => Named::RiskDetection,
        _ => return None,
    })
}

fn interpret(
    rec: &Rec<'_>,
    source: SourceRef,
    opts: &DecodeOptions,
    csv: Option<CsvKind>,
) -> Result<DecodedRecord, DecodeError> {
    if let Some(message) = rec.input.as_ref().and_then(|i| i.message.as_ref()) {
        return test_case(rec, message, source, opts);
    }
    if let Some(kind) = csv {
        if kind != CsvKind::Table {
            let shape = match kind {
                CsvKind::Purview => Shape::PurviewCsv,
                _ => Shape::SearchUnifiedAuditLogCsv,
            };
            return wrapped_ual(rec, rec.audit_data.as_deref(), "AuditData", shape, source);
        }
    }
    let audit_log_record = rec.audit_log_record_type.is_some()
        || (rec.audit_data.is_some()
            && rec.record_id.is_none()
            && rec.creation_date.is_none()
            && rec.user_ids.is_none()
            && rec.operations.is_none());
    if audit_log_record {
        return wrapped_ual(
            rec,
            rec.audit_data.as_deref(),
            "auditData",
            Shape::AuditLogRecord,
            source,
        );
    }
    if let Some(raw) = rec.raw_event_data.as_deref().filter(|r| !r.is_empty()) {
        return wrapped_ual(
            rec,
            Some(raw),
            "RawEventData",
            Shape::CloudAppEvents,
            source,
        );
    }
    if rec.audit_data.is_some() {
        let shape = if rec.user_ids.is_some() || rec.operations.is_some() {
            Shape::SearchUnifiedAuditLogCsv
        } else {
            Shape::PurviewCsv
        };
        return wrapped_ual(rec, rec.audit_data.as_deref(), "AuditData", shape, source);
    }
    let by_category = text(&rec.category).and_then(named);
    let by_table = text(&rec.table).and_then(named);
    if by_table == Some(Named::OfficeActivity) {
        return ual::decode(rec, None, Shape::OfficeActivity, source);
    }
    if let Some(props) = rec.properties.as_deref() {
        if let Some(category) = text(&rec.category) {
            return diagnostic(rec, props, category, by_category, source);
        }
    }
    match by_category.or(by_table) {
        Some(Named::SignIn(kind)) => {
            return signin::decode(rec, None, Some(kind), Shape::LogAnalyticsSignIn, source)
        }
        Some(Named::GraphActivity) => {
            return graph::decode(rec, None, Shape::LogAnalyticsGraphActivity, source)
        }
        Some(Named::OfficeActivity) => {
            return ual::decode(rec, None, Shape::OfficeActivity, source)
        }
        Some(Named::DirectoryAudit) => {
            return other(rec, "directory-audit", Shape::Unknown, &rec.operation_name)
        }
        Some(Named::RiskDetection) => {
            return other(rec, "risk-detection", Shape::Unknown, &rec.operation_name)
        }
        None => {}
    }
    if rec.record_type.is_some() && (rec.creation_time.is_some() || rec.operation.is_some()) {
        return ual::decode(rec, None, Shape::UalRecord, source);
    }
    if rec.request_uri.is_some() {
        return graph::decode(rec, None, Shape::LogAnalyticsGraphActivity, source);
    }
    if rec.created.is_some() && rec.activity_date_time.is_none() {
        let shape = if rec.time_generated.is_some() {
            Shape::LogAnalyticsSignIn
        } else {
            Shape::GraphSignIn
        };
        return signin::decode(rec, None, None, shape, source);
    }
    if rec.activity_date_time.is_some() && rec.activity_display_name.is_some() {
        return other(
            rec,
            "directory-audit",
            Shape::Unknown,
            &rec.activity_display_name,
        );
    }
    if text(&rec.kind).is_some_and(|k| k.starts_with("admin#reports#") || k == "audit#activity") {
        return other(rec, "google-workspace", Shape::Unknown, &None);
    }
    if rec.action_type.is_some() && rec.timestamp.is_some() {
        return other(rec, "defender-xdr", Shape::Unknown, &rec.action_type);
    }
    other(rec, "unknown", Shape::Unknown, &rec.operation_name)
}

/// A SEKOIA test case: unwrap the raw event when asked, else count it.
fn test_case(
    rec: &Rec<'_>,
    message: &Val<'_>,
    source: SourceRef,
    opts: &DecodeOptions,
) -> Result<DecodedRecord, DecodeError> {
    if !opts.unwrap_test_cases {
        return other(rec, "test-case", Shape::TestCase, &None);
    }
    let Val::Str(raw) = message else {
        return Err(DecodeError::BadField {
            field: "input.message",
            reason: "not a string".into(),
        });
    };
    decode(Payload::Json(raw.as_bytes()), source, opts)
}

/// A diagnostic-settings record: `properties` holds the record, the envelope gives fallbacks.
fn diagnostic(
    env: &Rec<'_>,
    props: &Rec<'_>,
    category: &str,
    by_category: Option<Named>,
    source: SourceRef,
) -> Result<DecodedRecord, DecodeError> {
    match by_category {
        Some(Named::SignIn(kind)) => signin::decode(
            props,
            Some(env),
            Some(kind),
            Shape::DiagnosticSignIn,
            source,
        ),
        Some(Named::GraphActivity) => {
            graph::decode(props, Some(env), Shape::DiagnosticGraphActivity, source)
        }
        Some(Named::OfficeActivity) => ual::decode(props, Some(env), Shape::OfficeActivity, source),
        Some(Named::DirectoryAudit) => {
            other(env, "directory-audit", Shape::Unknown, &env.operation_name)
        }
        Some(Named::RiskDetection) => {
            other(env, "risk-detection", Shape::Unknown, &env.operation_name)
        }
        None => other(
            env,
            &format!("diagnostic:{category}"),
            Shape::Unknown,
            &env.operation_name,
        ),
    }
}

/// A UAL record inside a wrapper (CSV `AuditData`, `auditData`, `RawEventData`).
fn wrapped_ual(
    env: &Rec<'_>,
    inner: Option<&Rec<'_>>,
    field: &'static str,
    shape: Shape,
    source: SourceRef,
) -> Result<DecodedRecord, DecodeError> {
    if let Some(inner) = inner {
        if inner.malformed || inner.text.is_some() {
            return Err(DecodeError::BadField {
                field,
                reason: "not a JSON object".into(),
            });
        }
    }
    ual::decode(inner.unwrap_or(env), Some(env), shape, source)
}

/// A readable record of a kind the engine does not use. Its time is kept when readable.
fn other(
    rec: &Rec<'_>,
    kind: &str,
    shape: Shape,
    operation: &Option<Val<'_>>,
) -> Result<DecodedRecord, DecodeError> {
    let time = [
        &rec.time,
        &rec.time_generated,
        &rec.created,
        &rec.creation_time,
        &rec.activity_date_time,
        &rec.timestamp,
    ]
    .into_iter()
    .find_map(|v| text(v).and_then(Timestamp::parse));
    Ok(DecodedRecord {
        shape,
        repaired: 0,
        event: Decoded::Other(OtherRecord {
            family: Family::Other,
            kind: kind.to_owned(),
            operation: text(operation).map(str::to_owned),
            time,
            mailbox_change: None,
        }),
    })
}

// Slot helpers shared by the normalizers.

/// Non-empty trimmed text of a slot.
fn text<'r>(v: &'r Option<Val<'_>>) -> Option<&'r str> {
    v.as_ref().and_then(Val::str)
}

/// Text of a string or number slot.
fn text_or_number<'r>(v: &'r Option<Val<'_>>) -> Option<Cow<'r, str>> {
    v.as_ref().and_then(Val::text)
}

/// Owned non-empty text.
fn owned(v: &Option<Val<'_>>) -> Option<String> {
    text(v).map(str::to_owned)
}

/// Owned lower-cased non-empty text (ids).
fn lower(v: &Option<Val<'_>>) -> Option<String> {
    text(v).map(str::to_ascii_lowercase)
}

/// An integer slot.
fn int(v: &Option<Val<'_>>) -> Option<i64> {
    v.as_ref().and_then(Val::int)
}

/// A boolean slot.
fn boolean(v: &Option<Val<'_>>) -> Option<bool> {
    v.as_ref().and_then(Val::bool)
}

/// The record's own time: required, and an error when unreadable.
fn record_time(candidates: &[(&'static str, &Option<Val<'_>>)]) -> Result<Timestamp, DecodeError> {
    for (field, v) in candidates {
        if let Some(t) = text_or_number(v) {
            return Timestamp::parse(&t).ok_or_else(|| DecodeError::BadField {
                field,
                reason: format!("not a time: {t:?}"),
            });
        }
    }
    Err(DecodeError::Missing(
        candidates.first().map_or("time", |(f, _)| f),
    ))
}

/// A secondary time (token issued-at): absent when unreadable.
fn lenient_time(v: &Option<Val<'_>>) -> Option<Timestamp> {
    text_or_number(v).and_then(|t| Timestamp::parse(&t))
}
