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

use Getter::{Bool, Derived, Int, Shown, Text, Time};

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

const fn col<T>(name: &'static str, get: Getter<T>, doc: &'static str) -> Column<T> {
    Column { name, get, doc }
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
    col("source_file", Text(|s| Some(&s.source.file)), "File the row was read from, as given on the command line (`archive.zip!member.json` for archive members, `-` for standard input)."),
    col("source_line", Int(|s| line(&s.source)), "1-based line where the record starts (JSON lines, CSV); null when the record is cited by index."),
    col("source_index", Int(|s| index(&s.source)), "0-based index of the record in a JSON array or envelope; null when cited by line."),
    col("id", Shown(|s| show(&s.id)), "The sign-in's `id` (for UAL logons the record `Id`), lower-case GUID text."),
    col("kind", Text(|s| Some(s.kind.as_str())), "`interactive`, `non-interactive`, `service-principal`, `managed-identity` or `ual-logon`."),
    col("time", Time(|s| Some(s.time)), "`createdDateTime`, UTC. Never null. Its date is the `day` partition."),
    col("user_id", Text(|s| s.user_id.as_deref()), "User object id."),
    col("upn", Text(|s| s.upn.as_deref()), "User principal name."),
    col("app_id", Text(|s| s.app_id.as_deref()), "Client application id (lower-case)."),
    col("app_name", Text(|s| s.app_name.as_deref()), "Client application display name."),
    col("resource_id", Text(|s| s.resource_id.as_deref()), "Resource (audience) id."),
    col("resource_name", Text(|s| s.resource_name.as_deref()), "Resource display name."),
    col("service_principal_id", Text(|s| s.service_principal_id.as_deref()), "Service principal object id (service principal and managed identity sign-ins)."),
    col("service_principal_name", Text(|s| s.service_principal_name.as_deref()), "Service principal display name."),
    col("ip", Shown(|s| show(&s.ip)), "Address the sign-in came from, in its canonical text (IPv6 compressed, lower case)."),
    col("asn", Int(|s| s.asn.map(i64::from)), "`autonomousSystemNumber` logged with the address."),
    col("country", Text(|s| s.country.as_deref()), "Country or region code of the location detail."),
    col("device_id", Text(|s| s.device.id.as_deref()), "Entra device id."),
    col("device_name", Text(|s| s.device.name.as_deref()), "Device display name."),
    col("device_os", Text(|s| s.device.os.as_deref()), "Operating system as logged."),
    col("device_browser", Text(|s| s.device.browser.as_deref()), "Browser as logged."),
    col("device_is_managed", Bool(|s| s.device.is_managed), "Entra marks the device managed."),
    col("device_is_compliant", Bool(|s| s.device.is_compliant), "Entra marks the device compliant."),
    col("device_trust_type", Text(|s| s.device.trust_type.as_deref()), "`trustType` (`Azure AD joined`, `Hybrid Azure AD joined`, `Azure AD registered`, ...)."),
    col("error_code", Int(|s| s.error_code), "`status.errorCode` / `ResultType`; 0 is success, null is not logged (the engine counts null as success)."),
    col("is_interactive", Bool(|s| s.is_interactive), "`isInteractive` as logged (`kind` is authoritative)."),
    col("incoming_token_type", Text(|s| s.incoming_token_type.as_deref()), "`incomingTokenType` in its enumeration spelling (`primaryRefreshToken`, `refreshToken`, ...)."),
    col("auth_protocol", Text(|s| s.auth_protocol.as_deref()), "`authenticationProtocol` (`oAuth2`, `ropc`, `deviceCode`, ...)."),
    col("transfer_method", Text(|s| s.transfer_method.as_deref()), "`originalTransferMethod` (`deviceCodeFlow`, `authenticationTransfer`)."),
    col("auth_requirement", Text(|s| s.auth_requirement.as_deref()), "`authenticationRequirement`."),
    col("client_credential_type", Text(|s| s.client_credential_type.as_deref()), "`clientCredentialType`: anything but `none` marks a confidential client."),
    col("token_protection", Text(|s| s.token_protection.as_deref()), "`tokenProtectionStatusDetails.signInSessionStatus` (`bound`, `unbound`)."),
    col("token_id", Shown(|s| show(&s.token_id)), "`uniqueTokenIdentifier`, normalized: the GUID it decodes to, else the text as logged."),
    col("issued_token", Derived(|s| s.issued_token().map(|t| t.to_string())), "The token this sign-in issued: `token_id` when logged, else `id` (what an access's `token_id` is joined on)."),
    col("session_id", Shown(|s| show(&s.session_id)), "`sessionId`, normalized: lower-case GUID text when it is one, else the text as logged."),
    col("original_request_id", Shown(|s| show(&s.original_request_id)), "`originalRequestId`, lower-case GUID text."),
    col("correlation_id", Text(|s| s.correlation_id.as_deref()), "`correlationId`: client-supplied, for evidence only, never a key."),
    col("user_agent", Text(|s| s.user_agent.as_deref()), "`userAgent`."),
    col("through_global_secure_access", Bool(|s| s.through_global_secure_access), "`isThroughGlobalSecureAccess`: `ip` is then Microsoft's Global Secure Access edge, `global_secure_access_ip` the client."),
    col("global_secure_access_ip", Shown(|s| show(&s.global_secure_access_ip)), "`globalSecureAccessIpAddress`: where a sign-in through Global Secure Access was initiated."),
    col("resource_ip", Shown(|s| show(&s.resource_ip)), "`ipAddressFromResourceProvider`: the address the resource saw; often null."),
    col("session_lifetime_policies", Text(|s| s.session_lifetime_policies.as_deref()), "`sessionLifetimePolicies[].expirationRequirement`, comma-separated in logged order."),
    col("agent_type", Text(|s| s.agent_type.as_deref()), "`agent.agentType` of an AI agent identity (null for `notAgentic`)."),
    col("kind_assumed", Bool(|s| Some(s.kind_assumed)), "True when the export does not say whether the sign-in was interactive (the Entra admin center's CSV) and `kind` is the reader's assumption."),
];

/// The `accesses` table: one row per access record read (Graph activity rows, UAL records of
/// Exchange, SharePoint, OneDrive and Teams).
#[rustfmt::skip]
pub const ACCESS_COLUMNS: &[Column<Access>] = &[
    col("source_file", Text(|a| Some(&a.source.file)), "File the record was read from, as for `sign_ins`."),
    col("source_line", Int(|a| line(&a.source)), "1-based line where the record starts; null when cited by index."),
    col("source_index", Int(|a| index(&a.source)), "0-based index of the record in a JSON array or envelope; null when cited by line."),
    col("log", Text(|a| Some(a.log.as_str())), "`graph-activity`, `exchange-audit`, `sharepoint-audit`, `onedrive-audit`, `teams-audit` or `directory-audit`."),
    col("record_id", Text(|a| a.record_id.as_deref()), "UAL `Id` or Graph `RequestId`, as logged."),
    col("time", Time(|a| Some(a.time)), "When the access happened (UAL `CreationTime`, Graph `TimeGenerated`), UTC. Never null. Its date is the `day` partition."),
    col("workload", Text(|a| Some(a.workload.as_str())), "`mail`, `files`, `teams` or `other`."),
    col("actor", Shown(|a| Some(actor(a))), "`delegated`, `app-only` or `unknown`, as the record tells."),
    col("user_id", Text(|a| a.user_id.as_deref()), "User object id (lower-case)."),
    col("upn", Text(|a| a.upn.as_deref()), "User principal name."),
    col("service_principal_id", Text(|a| a.service_principal_id.as_deref()), "Service principal object id (app-only Graph rows)."),
    col("app_id", Text(|a| a.app_id.as_deref()), "Client application id (lower-case)."),
    col("app_name", Text(|a| a.app_name.as_deref()), "Client application display name."),
    col("resource_id", Text(|a| a.resource_id.as_deref()), "The API the token was for (`AppAccessContext.APIId`, Exchange `AppId`)."),
    col("ip", Shown(|a| show(&a.ip)), "Client address, port removed, canonical text."),
    col("user_agent", Text(|a| a.user_agent.as_deref()), "`UserAgent` or `ClientInfoString`."),
    col("client_auth_method", Int(|a| a.client_auth_method.map(|m| m as i64)), "Graph `ClientAuthMethod`: 0 public client, 1 client secret, 2 certificate."),
    col("device_id", Text(|a| a.device_id.as_deref()), "`DeviceId` / `C_DeviceId`: a claim inside the token, so it travels with a stolen token."),
    col("is_managed_device", Bool(|a| a.is_managed_device), "SharePoint `IsManagedDevice`."),
    col("session_id", Shown(|a| show(&a.session_id)), "`SessionId` / `C_Sid` / `AppAccessContext.AADSessionId`, normalized as in `sign_ins`."),
    col("token_id", Shown(|a| show(&a.token_id)), "`SignInActivityId` / `AppAccessContext.UniqueTokenId`, normalized: equal to the issuing sign-in's `issued_token`."),
    col("token_issued_at", Time(|a| a.token_issued_at), "When the token was issued (`TokenIssuedAt`, `C_Iat`, `AppAccessContext.IssuedAtTime`), UTC."),
    col("operation", Text(|a| Some(&a.operation)), "UAL `Operation`, or the Graph method and request path."),
    col("object", Text(|a| a.object.as_deref()), "What was touched: Graph request URI, file URL or name, mailbox owner."),
    col("count", Int(|a| i64::try_from(a.count).ok()), "Operations the record stands for (`OperationCount`, 1 when not logged)."),
    col("mail_access_type", Text(|a| a.mail_access_type.as_deref()), "MailItemsAccessed `MailAccessType` (`Bind`, `Sync`)."),
    col("status_code", Int(|a| a.status_code.map(i64::from)), "Graph `ResponseStatusCode`."),
    col("scopes", Text(|a| a.scopes.as_deref()), "Graph delegated `Scopes`."),
    col("roles", Text(|a| a.roles.as_deref()), "Graph application `Roles`."),
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
