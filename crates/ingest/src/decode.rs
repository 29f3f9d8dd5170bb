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
//! # What wraps a record
//!
//! Before the shape: a forwarder's `_raw` text (Splunk, Cribl; JSON, possibly behind a syslog
//! header) is read as the record it holds; a SEKOIA test case (`input.message`) likewise with
//! [`DecodeOptions::unwrap_test_cases`]; and a record that is only an envelope (a `records`,
//! `value` or `Results` array and no time of its own: Event Hubs batches and Graph pages saved
//! one per line, advanced hunting answers) yields each of its elements ([`decode_all`]). A Kusto
//! query answer saved as one record (`{"tables":[...]}`, an ADX v2 `DataTable` frame) yields each
//! row as the object of its columns, as the framer reads a whole answer file (the `query`
//! module); an Elasticsearch hit or ECS document is read as the raw record it keeps in
//! `event.original` (the `elastic` module), like a forwarder's `_raw`.
//!
//! # Recognizing the shape
//!
//! In this order: the Entra admin center's sign-in CSV (by its header); a Graph
//! `auditLogRecord` (`auditLogRecordType`, or `auditData` without CSV columns); a Defender
//! `CloudAppEvents` row (non-null `RawEventData`); a Purview or `Search-UnifiedAuditLog` row
//! (`AuditData`, with `UserIds`/`Operations` for the latter); a Sentinel `OfficeActivity` row
//! (`Type`); a diagnostic-settings record (`category` and `properties`; a Defender Streaming
//! API record is one with the category `AdvancedHunting-<table>`); a Log Analytics or advanced
//! hunting row (`Category` or `Type` naming the table); then by content: UAL (`RecordType` +
//! `CreationTime`), Graph activity (`requestUri`; `Timestamp` for Defender's
//! `GraphApiAuditEvents`), Entra audit (`activityDateTime` + `activityDisplayName`), sign-in
//! (`createdDateTime` and the fields only a sign-in has: who signed in, and the client app, the
//! token, the status, the resource or whether it was interactive), a Defender sign-in row
//! (`Timestamp`, who signed in, `LogonType` or `IsManagedIdentity`, no `ActionType`).
//!
//! Anything else is an [`OtherRecord`] with a [`Disposition`]: not relevant (a directory change
//! without a logged token, risk detections, alerts, incidents, devices, policies, named
//! locations, users, groups, applications, UAL records of other workloads, a simulated tenant's
//! labels and summary: told from their fields, see the `classify` module), not supported (other
//! Defender tables and diagnostic categories, other Log Analytics tables, Google Workspace, test
//! cases not unwrapped), or not understood.
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
//! - Fields that name someone or something (user, UPN, app, resource, device, session, token,
//!   record ids) ignore anonymization placeholders: `{PII Removed}`, `Not Available`,
//!   `<null>`, `N/A`, `null`, `ANONYMIZED`, `ANONYMIZED_VALUE` and the all-zero GUID are absent.
//! - Numbers may be logged as numbers or as decimal text; booleans as `true`, `"True"` or
//!   `"Yes"`.
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
//! - `tokenProtectionStatusDetails.signInSessionStatus`, else `signInTokenProtectionStatus`, is
//!   the token protection status.
//! - Newer fields kept: `isThroughGlobalSecureAccess`, `globalSecureAccessIpAddress`,
//!   `ipAddressFromResourceProvider`, `sessionLifetimePolicies[].expirationRequirement`,
//!   `agent.agentType` (unless `notAgentic`).
//! - Defender XDR sign-in rows: `RequestId` is the `id`, `UniqueTokenId` the token, `AccountObjectId`
//!   and `AccountUpn` the user, `ApplicationId` and `Application` the client, `ErrorCode` the
//!   error code, `EntraIdDeviceId` (or `AadDeviceId`), `DeviceName`, `DeviceTrustType`,
//!   `IsManaged`, `IsCompliant` the device, `Country` the country; the kind from `LogonType`
//!   (`["interactiveUser"]`) or, for the service principal table, `IsManagedIdentity`.
//! - The Entra admin center's CSV: see the `portal` module (display-name columns, display-text
//!   values, and the kind told from values where they tell it).
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
//! - Token id from `SignInActivityId` (Defender: `UniqueTokenIdentifier`), session from
//!   `SessionId` else `C_Sid`, device from
//!   `DeviceId` else `C_DeviceId`, issued-at from `TokenIssuedAt` else `C_Iat` (epoch
//!   seconds). The resource is Microsoft Graph (`00000003-0000-0000-c000-000000000000`): every
//!   row of this log is a call to it.
//!
//! Entra audit records (`directoryAudit`, `AuditLogs`): an [`Access`] of log
//! [`AccessSource::DirectoryAudit`] when `initiatedBy.linkableIdentifiers` names the session or
//! the token (`tokenDetails.uniqueTokenIdentifier`, `issuedAtDateTime`); the operation is
//! `activityDisplayName`, the actor `initiatedBy.user` (delegated) or `initiatedBy.app`
//! (app-only), the address the initiator's `ipAddress`, the object the first target's `id`.
//! Without linkable identifiers the record is not relevant (`directory-audit`).
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
//! [`AccessSource::DirectoryAudit`]: tokentrail_model::AccessSource::DirectoryAudit
//! [`Disposition`]: crate::Disposition
//! [`SignInKind::UalLogon`]: tokentrail_model::SignInKind::UalLogon
//! [`TokenId::parse`]: tokentrail_model::TokenId::parse
//! [`SessionId::parse`]: tokentrail_model::SessionId::parse
//! [`Guid::parse`]: tokentrail_model::Guid::parse
//! [`parse_client_ip`]: tokentrail_model::parse_client_ip
//! [`Timestamp::parse`]: tokentrail_model::Timestamp::parse

mod audit;
mod classify;
mod collect;
mod elastic;
mod graph;
mod json;
mod keys;
mod portal;
mod query;
mod scan;
mod signin;
mod ual;

use std::borrow::Cow;

use serde::de::IgnoredAny;
use tokentrail_model::{SignInKind, SourceRef, Timestamp};

use self::collect::{LowerKey, Rec, Texts, Val};
pub use self::elastic::advice;
use crate::{
    DecodeError, Decoded, DecodedRecord, Disposition, Family, OtherRecord, Payload, Shape,
};

/// Options that change how records are decoded.
#[derive(Clone, Debug, Default)]
pub struct DecodeOptions {
    /// Read SEKOIA intake-format test cases (`{"input":{"message":"<raw event>"}}`) as the raw
    /// event they hold. The decoded record reports the shape of the inner event. Without this
    /// option a test case is an [`OtherRecord`] of kind `test-case`.
    pub unwrap_test_cases: bool,
    /// Which fields of sign-ins and accesses are built.
    pub fields: Fields,
}

/// Which fields of sign-ins and accesses the decoders build.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fields {
    /// Every field the record has.
    #[default]
    All,
    /// What detection reads: ids, names, addresses, times, a sign-in's user agent and
    /// country, and what its flags are made of (credential type, protocol, transfer method,
    /// token type and protection, device id and state). Text only ever displayed (an
    /// access's user agent, device names and systems, request URIs, scopes and roles,
    /// correlation ids, service principal names, ...) stays `None`: building it costs
    /// allocations per record that detection drops unread.
    /// Records are counted, and unreadable ones reported, exactly as with [`Fields::All`].
    Detection,
}

impl Fields {
    /// True when fields that detection never reads are built.
    pub(crate) fn all(self) -> bool {
        self == Fields::All
    }
}

/// Which export a CSV file is, from its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CsvKind {
    /// `RecordId,CreationDate,RecordType,Operation,UserId,AuditData,...` (Purview portal).
    Purview,
    /// `CreationDate,UserIds,Operations,AuditData,...` (`Search-UnifiedAuditLog`).
    SearchUnifiedAuditLog,
    /// The Entra admin center's sign-in "Download CSV" (`Date (UTC)`, `Request ID`, ...).
    EntraPortal,
    /// Anything else (Log Analytics exports, advanced hunting exports, other tools' CSV).
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
    /// The admin center's display-name columns, when the file is its export.
    portal: Option<portal::PortalLayout>,
    /// Which marker fields of other kinds of records the header has (alerts, devices,
    /// policies, ...), for rows that are neither sign-ins nor accesses.
    markers: classify::Markers,
    /// Columns whose header names the UTC offset of their times (`TimeGenerated
    /// [UTC+02:00]`): column, seconds east of UTC.
    shifted: Vec<(usize, i64)>,
    /// A column whose header says its times are in a zone without giving its offset
    /// (`[Local Time]`, `[W. Europe Standard Time]`).
    unnamed_zone: Option<String>,
}

/// The time zone a header cell's bracketed suffix names, as a Log Analytics export writes it
/// after its datetime columns (`TimeGenerated [UTC]`): `Some(Some(seconds east of UTC))`,
/// `Some(None)` for a zone whose offset it does not give (`[Local Time]`, a Windows zone name),
/// `None` for no zone at all.
fn header_zone(cell: &[u8]) -> Option<Option<i64>> {
    let text = std::str::from_utf8(cell)
        .ok()?
        .trim()
        .trim_matches('"')
        .trim_end();
    let inside = text.strip_suffix(']')?.rsplit_once(" [")?.1.trim();
    let lower = inside.to_ascii_lowercase();
    // A zone named by its Windows name, not its offset (`W. Europe Standard Time`): which
    // offset held on each day is not in the file.
    let windows_zone = ["standard time", "daylight time", "summer time"]
        .iter()
        .any(|n| lower.ends_with(n));
    if lower.contains("local") || windows_zone {
        return Some(None);
    }
    if lower == "coordinated universal time" {
        return Some(Some(0));
    }
    let rest = lower
        .strip_prefix("utc")
        .or_else(|| lower.strip_prefix("gmt"))?
        .trim();
    if rest.is_empty() {
        return Some(Some(0));
    }
    let (sign, digits) = match rest.as_bytes().first()? {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    if !digits.bytes().all(|b| b.is_ascii_digit() || b == b':') {
        return None;
    }
    let (hours, minutes) = match digits.split_once(':') {
        Some((h, m)) => (h, m),
        None if digits.len() > 2 => digits.split_at(digits.len() - 2),
        None => (digits, "0"),
    };
    let (hours, minutes): (i64, i64) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours <= 14 && minutes < 60).then_some(Some(sign * (hours * 3600 + minutes * 60)))
}

impl CsvLayout {
    /// Compile the layout from the header row.
    pub fn new(headers: &csv::ByteRecord) -> CsvLayout {
        let columns: Vec<Box<[u8]>> = headers.iter().map(column_key).collect();
        let has = |k: &[u8]| columns.iter().any(|c| &**c == k);
        let portal = portal::PortalLayout::from_headers(headers);
        let kind = if has(b"auditdata") {
            if has(b"userids") || has(b"operations") {
                CsvKind::SearchUnifiedAuditLog
            } else {
                CsvKind::Purview
            }
        } else if portal.is_some() {
            CsvKind::EntraPortal
        } else {
            CsvKind::Table
        };
        let markers = classify::Markers::of_columns(columns.iter().map(|c| &**c));
        let mut shifted = Vec::new();
        let mut unnamed_zone = None;
        for (i, cell) in headers.iter().enumerate() {
            match header_zone(cell) {
                Some(Some(0)) | None => {}
                Some(Some(east)) => shifted.push((i, east)),
                Some(None) => {
                    unnamed_zone.get_or_insert_with(|| String::from_utf8_lossy(cell).into_owned());
                }
            }
        }
        CsvLayout {
            columns,
            kind,
            portal,
            markers,
            shifted,
            unnamed_zone,
        }
    }

    /// Fill the slots of one row; the admin center's export also hands back the cells that
    /// tell a sign-in's kind.
    fn collect<'a>(
        &self,
        row: &'a csv::ByteRecord,
        texts: &'a Texts,
    ) -> Result<(Rec<'a>, portal::KindCells<'a>), DecodeError> {
        if row.len() != self.columns.len() {
            return Err(DecodeError::Csv(format!(
                "row has {} fields, the header has {}",
                row.len(),
                self.columns.len()
            )));
        }
        if let Some(header) = &self.unnamed_zone {
            // Read as UTC they would be off by the exporter's offset, silently: every time
            // compared across logs (a token's issue and use) would be wrong.
            return Err(DecodeError::Csv(format!(
                "column {:?} holds times in a time zone whose UTC offset the file does not \
                 give: export with the display time zone set to UTC",
                header.trim()
            )));
        }
        let mut rec = Rec::default();
        let mut cells = portal::KindCells::default();
        for (i, (key, cell)) in self.columns.iter().zip(row.iter()).enumerate() {
            let mut text = std::str::from_utf8(cell)
                .map_err(|_| DecodeError::Csv(format!("field {} is not UTF-8", i + 1)))?;
            if let Some(&(_, east)) = self.shifted.iter().find(|(c, _)| *c == i) {
                if let Some(local) = Timestamp::parse(text) {
                    text = texts.keep(local.plus_secs(-east).to_rfc3339());
                }
            }
            match &self.portal {
                Some(p) => p.set(i, text, &mut rec, &mut cells, texts),
                None => {
                    rec.set_text(key, text, texts);
                }
            }
        }
        Ok((rec, cells))
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
/// A record that is itself an envelope of several records (a JSON line holding a whole
/// `{"records":[...]}`) is [`DecodeError::Envelope`]: [`decode_all`] reads those.
pub fn decode(
    payload: Payload<'_>,
    source: SourceRef,
    opts: &DecodeOptions,
) -> Result<DecodedRecord, DecodeError> {
    let mut first = None;
    let mut n = 0usize;
    decode_all(payload, source, opts, &mut |r| {
        n += 1;
        if n == 1 {
            first = Some(r);
        }
    });
    match (n, first) {
        (1, Some(r)) => r,
        _ => Err(DecodeError::Envelope(n)),
    }
}

/// How deep wrappers may nest (a `_raw` field holding an envelope whose records are test
/// cases ...): real exports nest two; the bound keeps hostile input from recursing.
const MAX_WRAPPING: u32 = 4;

/// Decode one framed record into every record it holds, in order: one for a plain record,
/// each element for an envelope saved as one record (`{"records":[...]}`, `{"value":[...]}`,
/// `{"Results":[...]}` on a JSON line or in an array), and the record a forwarder wrapped
/// (`_raw` text, with or without a syslog prefix). An element that cannot be read is
/// [`DecodeError::InEnvelope`], with its index.
pub fn decode_all(
    payload: Payload<'_>,
    source: SourceRef,
    opts: &DecodeOptions,
    out: &mut dyn FnMut(Result<DecodedRecord, DecodeError>),
) {
    match payload {
        Payload::Json(bytes) => json_record(bytes, source, opts, 0, out),
        Payload::Csv { layout, row } => {
            let texts = Texts::default();
            match layout.collect(row, &texts) {
                Ok((rec, cells)) => {
                    dispatch(&rec, Input::Csv(layout, &cells), source, opts, 0, out)
                }
                Err(e) => out(Err(e)),
            }
        }
    }
}

/// Where a record's slots were read from.
#[derive(Clone, Copy)]
enum Input<'i, 'a> {
    /// A JSON object, as text (read again only to tell what a record nobody uses is).
    Json(&'a str),
    /// A CSV row of the file laid out by the layout.
    Csv(&'i CsvLayout, &'i portal::KindCells<'a>),
}

/// Parse one JSON record and decode what it holds.
fn json_record(
    bytes: &[u8],
    source: SourceRef,
    opts: &DecodeOptions,
    depth: u32,
    out: &mut dyn FnMut(Result<DecodedRecord, DecodeError>),
) {
    let texts = Texts::default();
    let mut rec = Rec::default();
    match parse_object(bytes, &texts, &mut rec) {
        Ok(text) => dispatch(&rec, Input::Json(text), source, opts, depth, out),
        Err(e) => out(Err(e)),
    }
}

/// Unwrap what wraps a record (a forwarder's `_raw`, a test case, an envelope), else
/// interpret it.
fn dispatch(
    rec: &Rec<'_>,
    input: Input<'_, '_>,
    source: SourceRef,
    opts: &DecodeOptions,
    depth: u32,
    out: &mut dyn FnMut(Result<DecodedRecord, DecodeError>),
) {
    if depth < MAX_WRAPPING {
        if let Some(raw) = text(&rec.ext().raw) {
            return forwarded(raw, source, opts, depth, out);
        }
        match elastic::original(rec) {
            Some(Ok(raw)) => return forwarded(raw, source, opts, depth, out),
            Some(Err(kind)) => {
                return out(Ok(other_record(
                    Disposition::NotSupported,
                    kind,
                    None,
                    None,
                )))
            }
            None => {}
        }
        if let Some(message) = rec.input.as_ref().and_then(|i| i.message.as_ref()) {
            if opts.unwrap_test_cases {
                return match message {
                    Val::Str(raw) => json_record(raw.as_bytes(), source, opts, depth + 1, out),
                    _ => out(Err(DecodeError::BadField {
                        field: "input.message",
                        reason: "not a string".into(),
                    })),
                };
            }
        }
        if let Some(array) = envelope(rec) {
            return elements(array, source, opts, depth, out);
        }
        if let (Input::Json(text), true) = (input, query::is_answer(rec) && !own_time(rec)) {
            return query::answer(text, source, opts, depth, out);
        }
        if let Some(kind) = query::other_frame(rec) {
            return out(Ok(other_record(kind.0, kind.1, None, None)));
        }
    }
    out(
        interpret(rec, input, source, opts.fields).map(|mut record| {
            record.repaired += rec.repairs();
            record
        }),
    )
}

/// The array of a record that is only an envelope of records: a `records`, `value` or
/// `Results` array, and no time of its own (a sign-in or audit record never lacks one).
fn envelope<'r>(rec: &'r Rec<'_>) -> Option<&'r str> {
    let array = rec.ext().envelope.filter(|a| a.starts_with('['))?;
    (!own_time(rec)).then_some(array)
}

/// The record has a time of its own: it is a record, not an envelope of records.
fn own_time(rec: &Rec<'_>) -> bool {
    [
        &rec.created,
        &rec.time_generated,
        &rec.creation_time,
        &rec.time,
        &rec.timestamp,
        &rec.activity_date_time,
    ]
    .iter()
    .any(|v| given(v))
}

/// A scalar slot that holds a value. Null and blank text hold none: a Log Analytics `union`
/// gives each row the columns of every table it spans, null or empty where the row's own table
/// has no such column, so their presence says nothing of what the row is.
pub(crate) fn given(v: &Option<Val<'_>>) -> bool {
    v.as_ref().is_some_and(|v| match v {
        Val::Str(_) => v.str().is_some(),
        Val::Int(_) | Val::Float(_) | Val::Bool(_) => true,
        Val::Other => false,
    })
}

/// Each element of an envelope's array, decoded in order.
fn elements(
    array: &str,
    source: SourceRef,
    opts: &DecodeOptions,
    depth: u32,
    out: &mut dyn FnMut(Result<DecodedRecord, DecodeError>),
) {
    let mut index = 0u64;
    let result = collect::each_element(array, &mut |element| {
        let at = index;
        index += 1;
        json_record(
            element.as_bytes(),
            source.clone(),
            opts,
            depth + 1,
            &mut |r| out(r.map_err(|e| in_envelope(at, e))),
        );
    });
    if let Err(e) = result {
        out(Err(in_envelope(index, DecodeError::Json(e.to_string()))));
    }
}

/// `error` of the record at `index` of an envelope or an answer.
fn in_envelope(index: u64, error: DecodeError) -> DecodeError {
    DecodeError::InEnvelope {
        index,
        error: Box::new(error),
    }
}

/// A record a forwarder kept as text (`_raw`): JSON, possibly behind a syslog prefix.
fn forwarded(
    raw: &str,
    source: SourceRef,
    opts: &DecodeOptions,
    depth: u32,
    out: &mut dyn FnMut(Result<DecodedRecord, DecodeError>),
) {
    match raw.find('{') {
        Some(start) => json_record(
            raw.get(start..).unwrap_or_default().as_bytes(),
            source,
            opts,
            depth + 1,
            out,
        ),
        None => out(Ok(other_record(
            Disposition::NotSupported,
            "forwarder-text",
            None,
            None,
        ))),
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
) -> Result<&'a str, DecodeError> {
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
    Rec::document_into(text, texts, rec).map_err(|e| DecodeError::Json(e.to_string()))?;
    rec.lift_additional_properties();
    Ok(text)
}

/// What a category or table name says a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Named {
    SignIn(SignInKind),
    GraphActivity,
    OfficeActivity,
    DirectoryAudit,
    /// A table of records that hold no sign-in and no token use (`risk-detection`,
    /// `security-alert`, ...).
    NotRelevant(&'static str),
    /// Defender XDR's sign-in tables: users (`EntraIdSignInEvents`, `AADSignInEventsBeta`)
    /// or service principals and managed identities (`EntraIdSpnSignInEvents`,
    /// `AADSpnSignInEventsBeta`).
    DefenderSignIn {
        apps: bool,
    },
    /// Defender XDR's `GraphApiAuditEvents`.
    DefenderGraph,
    /// Defender XDR's `CloudAppEvents` (`RawEventData` holds the UAL record).
    CloudAppEvents,
}

/// Read a diagnostic-settings category or a Log Analytics or advanced hunting table name.
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
        | b"riskyserviceprincipals"
        | b"aadriskyserviceprincipals"
        | b"aadserviceprincipalriskevents" => Named::NotRelevant("risk-detection"),
        b"securityalert" | b"alertinfo" | b"alertevidence" => Named::NotRelevant("security-alert"),
        b"securityincident" => Named::NotRelevant("security-incident"),
        b"azureactivity" => Named::NotRelevant("azure-activity"),
        b"entraidsigninevents" | b"aadsignineventsbeta" => Named::DefenderSignIn { apps: false },
        b"entraidspnsigninevents" | b"aadspnsignineventsbeta" => {
            Named::DefenderSignIn { apps: true }
        }
        b"graphapiauditevents" => Named::DefenderGraph,
        b"cloudappevents" => Named::CloudAppEvents,
        _ => return None,
    })
}

fn interpret(
    rec: &Rec<'_>,
    input: Input<'_, '_>,
    source: SourceRef,
    fields: Fields,
) -> Result<DecodedRecord, DecodeError> {
    if let Input::Csv(layout, cells) = input {
        match layout.kind {
            CsvKind::Purview => {
                return wrapped_ual(
                    rec,
                    rec.audit_data.as_deref(),
                    "AuditData",
                    Shape::PurviewCsv,
                    source,
                    fields,
                )
            }
            CsvKind::SearchUnifiedAuditLog => {
                return wrapped_ual(
                    rec,
                    rec.audit_data.as_deref(),
                    "AuditData",
                    Shape::SearchUnifiedAuditLogCsv,
                    source,
                    fields,
                )
            }
            CsvKind::EntraPortal => return portal::decode(rec, cells, source, fields),
            CsvKind::Table => {}
        }
    }
    if rec.input.is_some() {
        return Ok(other_record(
            Disposition::NotSupported,
            "test-case",
            None,
            None,
        ));
    }
    let audit_log_record = rec.ext().audit_log_record_type.is_some()
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
            fields,
        );
    }
    if let Some(raw) = rec.raw_event_data.as_deref().filter(|r| !r.is_empty()) {
        return wrapped_ual(
            rec,
            Some(raw),
            "RawEventData",
            Shape::CloudAppEvents,
            source,
            fields,
        );
    }
    if rec.audit_data.is_some() {
        let shape = if rec.user_ids.is_some() || rec.operations.is_some() {
            Shape::SearchUnifiedAuditLogCsv
        } else {
            Shape::PurviewCsv
        };
        return wrapped_ual(
            rec,
            rec.audit_data.as_deref(),
            "AuditData",
            shape,
            source,
            fields,
        );
    }
    let by_category = text(&rec.category).and_then(named);
    // A Log Analytics row names its category and its table; one is enough.
    let by_table = match by_category {
        Some(_) => None,
        None => text(&rec.table).and_then(named),
    };
    if by_table == Some(Named::OfficeActivity) {
        return ual::decode(rec, None, Shape::OfficeActivity, source, fields);
    }
    if let Some(props) = rec.properties.as_deref() {
        if let Some(category) = text(&rec.category) {
            return diagnostic(rec, props, category, by_category, source, fields);
        }
    }
    match by_category.or(by_table) {
        Some(Named::SignIn(kind)) => {
            return signin::decode(
                rec,
                None,
                Some(kind),
                Shape::LogAnalyticsSignIn,
                source,
                fields,
            )
        }
        Some(Named::GraphActivity) => {
            return graph::decode(rec, None, Shape::LogAnalyticsGraphActivity, source, fields)
        }
        Some(Named::OfficeActivity) => {
            return ual::decode(rec, None, Shape::OfficeActivity, source, fields)
        }
        Some(Named::DirectoryAudit) => return audit::decode(rec, None, source),
        Some(Named::NotRelevant(kind)) => {
            return other(rec, Disposition::NotRelevant, kind, &rec.operation_name)
        }
        Some(Named::DefenderSignIn { apps }) => {
            let kind = signin::defender_kind(rec, apps);
            return signin::decode(
                rec,
                None,
                Some(kind),
                Shape::DefenderAdvancedHunting,
                source,
                fields,
            );
        }
        Some(Named::DefenderGraph) => {
            return graph::decode(rec, None, Shape::DefenderAdvancedHunting, source, fields)
        }
        Some(Named::CloudAppEvents) | None => {}
    }
    if given(&rec.record_type) && (given(&rec.creation_time) || given(&rec.operation)) {
        return ual::decode(rec, None, Shape::UalRecord, source, fields);
    }
    if given(&rec.request_uri) {
        let shape = if !given(&rec.time_generated) && given(&rec.timestamp) {
            Shape::DefenderAdvancedHunting
        } else {
            Shape::LogAnalyticsGraphActivity
        };
        return graph::decode(rec, None, shape, source, fields);
    }
    if given(&rec.activity_date_time) && given(&rec.activity_display_name) {
        return audit::decode(rec, None, source);
    }
    if given(&rec.created) && signin::has_sign_in_fields(rec) {
        let shape = if given(&rec.time_generated) {
            Shape::LogAnalyticsSignIn
        } else {
            Shape::GraphSignIn
        };
        return signin::decode(rec, None, None, shape, source, fields);
    }
    if given(&rec.timestamp) && signin::is_defender_sign_in(rec) {
        let kind = signin::defender_kind(rec, rec.ext().is_managed_identity.is_some());
        return signin::decode(
            rec,
            None,
            Some(kind),
            Shape::DefenderAdvancedHunting,
            source,
            fields,
        );
    }
    if text(&rec.ext().kind)
        .is_some_and(|k| k.starts_with("admin#reports#") || k == "audit#activity")
    {
        return other(rec, Disposition::NotSupported, "google-workspace", &None);
    }
    if given(&rec.action_type) && given(&rec.timestamp) {
        return other(
            rec,
            Disposition::NotSupported,
            "defender-xdr",
            &rec.action_type,
        );
    }
    if let (Some(table), true) = (text(&rec.table), rec.time_generated.is_some()) {
        return other(
            rec,
            Disposition::NotSupported,
            &format!("log-analytics:{table}"),
            &rec.operation_name,
        );
    }
    let (disposition, kind) = match input {
        Input::Csv(layout, _) => classify::classify(&layout.markers),
        Input::Json(text) => classify::classify_json(text),
    };
    other(rec, disposition, &kind, &rec.operation_name)
}

/// A diagnostic-settings record (also a Defender XDR Streaming API record): `properties`
/// holds the record, the envelope gives fallbacks.
fn diagnostic(
    env: &Rec<'_>,
    props: &Rec<'_>,
    category: &str,
    by_category: Option<Named>,
    source: SourceRef,
    fields: Fields,
) -> Result<DecodedRecord, DecodeError> {
    let defender = category
        .get(..16)
        .is_some_and(|p| p.eq_ignore_ascii_case("advancedhunting-"));
    if defender {
        let table = category.get(16..).unwrap_or_default();
        return match named(table) {
            Some(Named::CloudAppEvents) => wrapped_ual(
                props,
                props.raw_event_data.as_deref(),
                "RawEventData",
                Shape::DefenderStreaming,
                source,
                fields,
            ),
            Some(Named::DefenderSignIn { apps }) => {
                let kind = signin::defender_kind(props, apps);
                signin::decode(
                    props,
                    Some(env),
                    Some(kind),
                    Shape::DefenderStreaming,
                    source,
                    fields,
                )
            }
            Some(Named::DefenderGraph) => {
                graph::decode(props, Some(env), Shape::DefenderStreaming, source, fields)
            }
            Some(Named::NotRelevant(kind)) => {
                other(env, Disposition::NotRelevant, kind, &props.action_type)
            }
            _ => other(
                env,
                Disposition::NotSupported,
                &format!("defender:{table}"),
                &props.action_type,
            ),
        };
    }
    match by_category {
        Some(Named::SignIn(kind)) => signin::decode(
            props,
            Some(env),
            Some(kind),
            Shape::DiagnosticSignIn,
            source,
            fields,
        ),
        Some(Named::GraphActivity) => graph::decode(
            props,
            Some(env),
            Shape::DiagnosticGraphActivity,
            source,
            fields,
        ),
        Some(Named::OfficeActivity) => {
            ual::decode(props, Some(env), Shape::OfficeActivity, source, fields)
        }
        Some(Named::DirectoryAudit) => audit::decode(props, Some(env), source),
        Some(Named::NotRelevant(kind)) => {
            other(env, Disposition::NotRelevant, kind, &env.operation_name)
        }
        _ => other(
            env,
            Disposition::NotSupported,
            &format!("diagnostic:{category}"),
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
    fields: Fields,
) -> Result<DecodedRecord, DecodeError> {
    if let Some(inner) = inner {
        if inner.malformed || inner.text.is_some() {
            return Err(DecodeError::BadField {
                field,
                reason: "not a JSON object".into(),
            });
        }
    }
    ual::decode(inner.unwrap_or(env), Some(env), shape, source, fields)
}

/// A readable record of a kind the engine does not use. Its time is kept when readable.
fn other(
    rec: &Rec<'_>,
    disposition: Disposition,
    kind: &str,
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
    Ok(other_record(
        disposition,
        kind,
        text(operation).map(str::to_owned),
        time,
    ))
}

fn other_record(
    disposition: Disposition,
    kind: &str,
    operation: Option<String>,
    time: Option<Timestamp>,
) -> DecodedRecord {
    let shape = match kind {
        "test-case" => Shape::TestCase,
        k if k.starts_with("kusto-") => Shape::KustoQueryInfo,
        _ => Shape::Unknown,
    };
    DecodedRecord::new(
        shape,
        Decoded::Other(OtherRecord {
            family: Family::Other,
            disposition,
            kind: kind.to_owned(),
            operation,
            time,
            mailbox_change: None,
        }),
    )
}

// Slot helpers shared by the normalizers.

/// Non-empty trimmed text of a slot.
#[inline(always)]
fn text<'r>(v: &'r Option<Val<'_>>) -> Option<&'r str> {
    v.as_ref().and_then(Val::str)
}

/// Text of a string or number slot.
fn text_or_number<'r>(v: &'r Option<Val<'_>>) -> Option<Cow<'r, str>> {
    v.as_ref().and_then(Val::text)
}

/// Non-empty trimmed text of a slot that names someone or something: anonymization
/// placeholders (`{PII Removed}`, the all-zero GUID, ...) are absent.
#[inline(always)]
fn id_text<'r>(v: &'r Option<Val<'_>>) -> Option<&'r str> {
    v.as_ref().and_then(Val::id)
}

/// Owned non-empty text.
fn owned(v: &Option<Val<'_>>) -> Option<String> {
    text(v).map(str::to_owned)
}

/// Owned non-empty text of a field that names someone or something ([`id_text`]).
fn owned_id(v: &Option<Val<'_>>) -> Option<String> {
    id_text(v).map(str::to_owned)
}

/// Owned lower-cased non-empty text of an id ([`id_text`]).
fn lower(v: &Option<Val<'_>>) -> Option<String> {
    id_text(v).map(str::to_ascii_lowercase)
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

#[cfg(test)]
mod tests {
    use super::header_zone;

    #[test]
    fn a_header_names_the_time_zone_of_its_column() {
        let zone = |cell: &str| header_zone(cell.as_bytes());
        assert_eq!(zone("TimeGenerated [UTC]"), Some(Some(0)));
        assert_eq!(zone("\"TimeGenerated [UTC]\""), Some(Some(0)));
        assert_eq!(zone("TimeGenerated [UTC+02:00]"), Some(Some(7200)));
        assert_eq!(zone("TimeGenerated [UTC-05:30]"), Some(Some(-19800)));
        assert_eq!(zone("TimeGenerated [UTC+0530]"), Some(Some(19800)));
        assert_eq!(zone("TimeGenerated [GMT+1]"), Some(Some(3600)));
        assert_eq!(zone("TimeGenerated [Local Time]"), Some(None));
        assert_eq!(zone("TimeGenerated [local]"), Some(None));
        assert_eq!(zone("TimeGenerated [W. Europe Standard Time]"), Some(None));
        assert_eq!(zone("TimeGenerated [Pacific Daylight Time]"), Some(None));
        assert_eq!(
            zone("TimeGenerated [Coordinated Universal Time]"),
            Some(Some(0))
        );
        assert_eq!(zone("TimeGenerated"), None);
        assert_eq!(zone("Count [per hour]"), None);
        assert_eq!(zone("TimeGenerated [UTC+25:00]"), None);
        assert_eq!(zone("TimeGenerated [UTC+02:75]"), None);
        assert_eq!(zone("TimeGenerated [UTC+]"), None);
        assert_eq!(zone("[UTC+02:00"), None);
        assert_eq!(zone("TimeGenerated [UTC+1\u{e9}\u{e9}\u{e9}]"), None);
        assert_eq!(zone("TimeGenerated [UTC+\u{e9}]"), None);
    }
}
