//! The columns of the normalized tables: the one place that says which field of
//! [`SignIn`] and [`Access`] becomes which column, of which type.
//!
//! Adding a column is one line in [`SIGN_IN_COLUMNS`] or [`ACCESS_COLUMNS`]; the writer, the
//! Arrow schema and the schema page (`docs/normalized-schema.md`, checked by a test against
//! [`schema_markdown`]) follow from it. Columns are only ever appended, never renamed or
//! reordered, so queries written against one version keep working.
//!
//! Token and session ids are written as the model normalizes them ([`tokentrail_model::TokenId`],
//! [`tokentrail_model::SessionId`]): the canonical lower-case GUID text when they decode (a
//! `uti` in base64url becomes the GUID of the sign-in that issued the token), the text as logged
//! otherwise. Equal ids therefore have equal text, and a plain string join in SQL links a token
//! to its sign-in exactly as the engine does.

use std::fmt::{self, Display};

use tokentrail_model::{Access, Position, SignIn, SourceRef, Timestamp};

/// How a column's values are read from a record, which also fixes the column's type.
pub enum Getter<T> {
    /// Text as logged.
    Text(fn(&T) -> Option<&str>),
    /// Text written from a value's display form (ids, addresses, enumerations).
    Shown(fn(&T) -> Option<&dyn Display>),
    /// Text computed from the record (a value the model derives, not a field).
    Derived(fn(&T) -> Option<String>),
    /// A boolean.
    Bool(fn(&T) -> Option<bool>),
    /// A 64-bit signed integer.
    Int(fn(&T) -> Option<i64>),
    /// A point in time, UTC, microseconds.
    Time(fn(&T) -> Option<Timestamp>),
}

/// One column of a normalized table.
pub struct Column<T> {
    /// The column's name (snake case, stable).
    pub name: &'static str,
    /// How its value is read.
    pub get: Getter<T>,
    /// What it holds, for the schema page.
    pub doc: &'static str,
}

/// The column types, as Parquet and Spark name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `STRING` (UTF-8 byte array); Spark `string`.
    Text,
    /// `BOOLEAN`; Spark `boolean`.
    Bool,
    /// `INT64`; Spark `bigint`.
    Int,
    /// `TIMESTAMP(MICROS, isAdjustedToUTC=true)`; Spark `timestamp`.
    Time,
}

impl Kind {
    /// The Parquet type as the schema page writes it.
    pub fn parquet(self) -> &'static str {
        match self {
            Kind::Text => "STRING",
            Kind::Bool => "BOOLEAN",
            Kind::Int => "INT64",
            Kind::Time => "TIMESTAMP(MICROS, UTC)",
        }
    }

    /// The Spark SQL type the column is read as.
    pub fn spark(self) -> &'static str {
        match self {
            Kind::Text => "string",
            Kind::Bool => "boolean",
            Kind::Int => "bigint",
            Kind::Time => "timestamp",
        }
    }
}

impl<T> Column<T> {
    /// The column's type.
    pub fn kind(&self) -> Kind {
        match self.get {
            Getter::Text(_) | Getter::Shown(_) | Getter::Derived(_) => Kind::Text,
            Getter::Bool(_) => Kind::Bool,
            Getter::Int(_) => Kind::Int,
            Getter::Time(_) => Kind::Time,
        }
    }
}

const fn text<T>(name: &'static str, get: fn(&T) -> Option<&str>, doc: &'static str) -> Column<T> {
    Column {
        name,
        get: Getter::Text(get),
        doc,
    }
}

const fn shown<T>(
    name: &'static str,
    get: fn(&T) -> Option<&dyn Display>,
    doc: &'static str,
) -> Column<T> {
    Column {
        name,
        get: Getter::Shown(get),
        doc,
    }
}

const fn derived<T>(
    name: &'static str,
    get: fn(&T) -> Option<String>,
    doc: &'static str,
) -> Column<T> {
    Column {
        name,
        get: Getter::Derived(get),
        doc,
    }
}

const fn boolean<T>(
    name: &'static str,
    get: fn(&T) -> Option<bool>,
    doc: &'static str,
) -> Column<T> {
    Column {
        name,
        get: Getter::Bool(get),
        doc,
    }
}

const fn int<T>(name: &'static str, get: fn(&T) -> Option<i64>, doc: &'static str) -> Column<T> {
    Column {
        name,
        get: Getter::Int(get),
        doc,
    }
}

const fn time<T>(
    name: &'static str,
    get: fn(&T) -> Option<Timestamp>,
    doc: &'static str,
) -> Column<T> {
    Column {
        name,
        get: Getter::Time(get),
        doc,
    }
}

/// The display form of an optional value, as a column getter returns it.
fn show<D: Display>(value: &Option<D>) -> Option<&dyn Display> {
    value.as_ref().map(|v| v as &dyn Display)
}

fn line(source: &SourceRef) -> Option<i64> {
    match source.position {
        Position::Line(n) => i64::try_from(n).ok(),
        Position::Index(_) => None,
    }
}

fn index(source: &SourceRef) -> Option<i64> {
    match source.position {
        Position::Index(n) => i64::try_from(n).ok(),
        Position::Line(_) => None,
    }
}

/// The `sign_ins` table: one row per sign-in row read (duplicates included: a sign-in logged
/// twice is two rows, as the engine reads it before it keeps the first by `id`).
#[rustfmt::skip]
pub const SIGN_IN_COLUMNS: &[Column<SignIn>] = &[
    text("source_file", |s| Some(&s.source.file), "File the row was read from, as given on the command line (`archive.zip!member.json` for archive members, `-` for standard input)."),
    int("source_line", |s| line(&s.source), "1-based line where the record starts (JSON lines, CSV); null when the record is cited by index."),
    int("source_index", |s| index(&s.source), "0-based index of the record in a JSON array or envelope; null when cited by line."),
    shown("id", |s| show(&s.id), "The sign-in's `id` (for UAL logons the record `Id`), lower-case GUID text."),
    text("kind", |s| Some(s.kind.as_str()), "`interactive`, `non-interactive`, `service-principal`, `managed-identity` or `ual-logon`."),
    time("time", |s| Some(s.time), "`createdDateTime`, UTC. Never null. Its date is the `day` partition."),
    text("user_id", |s| s.user_id.as_deref(), "User object id."),
    text("upn", |s| s.upn.as_deref(), "User principal name."),
    text("app_id", |s| s.app_id.as_deref(), "Client application id (lower-case)."),
    text("app_name", |s| s.app_name.as_deref(), "Client application display name."),
    text("resource_id", |s| s.resource_id.as_deref(), "Resource (audience) id."),
    text("resource_name", |s| s.resource_name.as_deref(), "Resource display name."),
    text("service_principal_id", |s| s.service_principal_id.as_deref(), "Service principal object id (service principal and managed identity sign-ins)."),
    text("service_principal_name", |s| s.service_principal_name.as_deref(), "Service principal display name."),
    shown("ip", |s| show(&s.ip), "Address the sign-in came from, in its canonical text (IPv6 compressed, lower case)."),
    int("asn", |s| s.asn.map(i64::from), "`autonomousSystemNumber` logged with the address."),
    text("country", |s| s.country.as_deref(), "Country or region code of the location detail."),
    text("device_id", |s| s.device.id.as_deref(), "Entra device id."),
    text("device_name", |s| s.device.name.as_deref(), "Device display name."),
    text("device_os", |s| s.device.os.as_deref(), "Operating system as logged."),
    text("device_browser", |s| s.device.browser.as_deref(), "Browser as logged."),
    boolean("device_is_managed", |s| s.device.is_managed, "Entra marks the device managed."),
    boolean("device_is_compliant", |s| s.device.is_compliant, "Entra marks the device compliant."),
    text("device_trust_type", |s| s.device.trust_type.as_deref(), "`trustType` (`Azure AD joined`, `Hybrid Azure AD joined`, `Azure AD registered`, ...)."),
    int("error_code", |s| s.error_code, "`status.errorCode` / `ResultType`; 0 is success, null is not logged (the engine counts null as success)."),
    boolean("is_interactive", |s| s.is_interactive, "`isInteractive` as logged (`kind` is authoritative)."),
    text("incoming_token_type", |s| s.incoming_token_type.as_deref(), "`incomingTokenType` in its enumeration spelling (`primaryRefreshToken`, `refreshToken`, ...)."),
    text("auth_protocol", |s| s.auth_protocol.as_deref(), "`authenticationProtocol` (`oAuth2`, `ropc`, `deviceCode`, ...)."),
    text("transfer_method", |s| s.transfer_method.as_deref(), "`originalTransferMethod` (`deviceCodeFlow`, `authenticationTransfer`)."),
    text("auth_requirement", |s| s.auth_requirement.as_deref(), "`authenticationRequirement`."),
    text("client_credential_type", |s| s.client_credential_type.as_deref(), "`clientCredentialType`: anything but `none` marks a confidential client."),
    text("token_protection", |s| s.token_protection.as_deref(), "`tokenProtectionStatusDetails.signInSessionStatus` (`bound`, `unbound`)."),
    shown("token_id", |s| show(&s.token_id), "`uniqueTokenIdentifier`, normalized: the GUID it decodes to, else the text as logged."),
    derived("issued_token", |s| s.issued_token().map(|t| t.to_string()), "The token this sign-in issued: `token_id` when logged, else `id` (what an access's `token_id` is joined on)."),
    shown("session_id", |s| show(&s.session_id), "`sessionId`, normalized: lower-case GUID text when it is one, else the text as logged."),
    shown("original_request_id", |s| show(&s.original_request_id), "`originalRequestId`, lower-case GUID text."),
    text("correlation_id", |s| s.correlation_id.as_deref(), "`correlationId`: client-supplied, for evidence only, never a key."),
    text("user_agent", |s| s.user_agent.as_deref(), "`userAgent`."),
];

/// The `accesses` table: one row per access record read (Graph activity rows, UAL records of
/// Exchange, SharePoint, OneDrive and Teams).
#[rustfmt::skip]
pub const ACCESS_COLUMNS: &[Column<Access>] = &[
    text("source_file", |a| Some(&a.source.file), "File the record was read from, as for `sign_ins`."),
    int("source_line", |a| line(&a.source), "1-based line where the record starts; null when cited by index."),
    int("source_index", |a| index(&a.source), "0-based index of the record in a JSON array or envelope; null when cited by line."),
    text("log", |a| Some(a.log.as_str()), "`graph-activity`, `exchange-audit`, `sharepoint-audit`, `onedrive-audit` or `teams-audit`."),
    text("record_id", |a| a.record_id.as_deref(), "UAL `Id` or Graph `RequestId`, as logged."),
    time("time", |a| Some(a.time), "When the access happened (UAL `CreationTime`, Graph `TimeGenerated`), UTC. Never null. Its date is the `day` partition."),
    text("workload", |a| Some(a.workload.as_str()), "`mail`, `files`, `teams` or `other`."),
    shown("actor", |a| Some(actor(a)), "`delegated`, `app-only` or `unknown`, as the record tells."),
    text("user_id", |a| a.user_id.as_deref(), "User object id (lower-case)."),
    text("upn", |a| a.upn.as_deref(), "User principal name."),
    text("service_principal_id", |a| a.service_principal_id.as_deref(), "Service principal object id (app-only Graph rows)."),
    text("app_id", |a| a.app_id.as_deref(), "Client application id (lower-case)."),
    text("app_name", |a| a.app_name.as_deref(), "Client application display name."),
    text("resource_id", |a| a.resource_id.as_deref(), "The API the token was for (`AppAccessContext.APIId`, Exchange `AppId`)."),
    shown("ip", |a| show(&a.ip), "Client address, port removed, canonical text."),
    text("user_agent", |a| a.user_agent.as_deref(), "`UserAgent` or `ClientInfoString`."),
    int("client_auth_method", |a| a.client_auth_method.map(|m| m as i64), "Graph `ClientAuthMethod`: 0 public client, 1 client secret, 2 certificate."),
    text("device_id", |a| a.device_id.as_deref(), "`DeviceId` / `C_DeviceId`: a claim inside the token, so it travels with a stolen token."),
    boolean("is_managed_device", |a| a.is_managed_device, "SharePoint `IsManagedDevice`."),
    shown("session_id", |a| show(&a.session_id), "`SessionId` / `C_Sid` / `AppAccessContext.AADSessionId`, normalized as in `sign_ins`."),
    shown("token_id", |a| show(&a.token_id), "`SignInActivityId` / `AppAccessContext.UniqueTokenId`, normalized: equal to the issuing sign-in's `issued_token`."),
    time("token_issued_at", |a| a.token_issued_at, "When the token was issued (`TokenIssuedAt`, `C_Iat`, `AppAccessContext.IssuedAtTime`), UTC."),
    text("operation", |a| Some(&a.operation), "UAL `Operation`, or the Graph method and request path."),
    text("object", |a| a.object.as_deref(), "What was touched: Graph request URI, file URL or name, mailbox owner."),
    int("count", |a| i64::try_from(a.count).ok(), "Operations the record stands for (`OperationCount`, 1 when not logged)."),
    text("mail_access_type", |a| a.mail_access_type.as_deref(), "MailItemsAccessed `MailAccessType` (`Bind`, `Sync`)."),
    int("status_code", |a| a.status_code.map(i64::from), "Graph `ResponseStatusCode`."),
    text("scopes", |a| a.scopes.as_deref(), "Graph delegated `Scopes`."),
    text("roles", |a| a.roles.as_deref(), "Graph application `Roles`."),
];

/// [`tokentrail_model::Actor`] has no text form of its own; this is its serde spelling.
fn actor(a: &Access) -> &'static dyn Display {
    match a.actor {
        tokentrail_model::Actor::Delegated => &"delegated",
        tokentrail_model::Actor::AppOnly => &"app-only",
        tokentrail_model::Actor::Unknown => &"unknown",
    }
}

/// The tables of a normalized folder: their directory name and columns.
pub const TABLES: [(&str, TableColumns); 2] = [
    ("sign_ins", TableColumns::SignIns(SIGN_IN_COLUMNS)),
    ("accesses", TableColumns::Accesses(ACCESS_COLUMNS)),
];

/// The columns of one table.
#[derive(Clone, Copy)]
pub enum TableColumns {
    /// `sign_ins`.
    SignIns(&'static [Column<SignIn>]),
    /// `accesses`.
    Accesses(&'static [Column<Access>]),
}

impl TableColumns {
    /// `(name, type, doc)` of every column, in order.
    pub fn describe(self) -> Vec<(&'static str, Kind, &'static str)> {
        fn rows<T>(cols: &[Column<T>]) -> Vec<(&'static str, Kind, &'static str)> {
            cols.iter().map(|c| (c.name, c.kind(), c.doc)).collect()
        }
        match self {
            TableColumns::SignIns(c) => rows(c),
            TableColumns::Accesses(c) => rows(c),
        }
    }
}

/// The name of the partition column, in each table's directory names (`day=2026-11-30`).
pub const PARTITION_COLUMN: &str = "day";

/// The schema page's tables, one per normalized table, as `docs/normalized-schema.md` holds
/// them between its markers.
pub fn schema_markdown() -> String {
    let mut out = String::new();
    for (table, columns) in TABLES {
        out.push_str(&format!("### `{table}`\n\n"));
        out.push_str("| column | Parquet type | Spark type | holds |\n|---|---|---|---|\n");
        for (name, kind, doc) in columns.describe() {
            out.push_str(&format!(
                "| `{name}` | {} | {} | {doc} |\n",
                kind.parquet(),
                kind.spark()
            ));
        }
        out.push_str(&format!(
            "| `{PARTITION_COLUMN}` | directory name | date | The UTC date of `time` (`{PARTITION_COLUMN}=YYYY-MM-DD`): a partition column, in the path, not in the files. |\n\n"
        ));
    }
    out
}

impl<T> fmt::Debug for Column<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Column")
            .field("name", &self.name)
            .field("kind", &self.kind())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_are_unique_and_snake_case() {
        for (table, columns) in TABLES {
            let names: Vec<_> = columns.describe().into_iter().map(|c| c.0).collect();
            let mut sorted = names.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), names.len(), "{table}: duplicate column");
            for n in names {
                assert!(
                    n.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                    "{table}.{n}"
                );
                assert_ne!(n, PARTITION_COLUMN, "{table}: the partition is in the path");
            }
        }
    }
}
