//! The Entra admin center's sign-in "Download CSV": the export most responders have.
//!
//! One file per tab (`InteractiveSignIns_<from>_<to>.csv`, `NonInteractiveSignIns_...`,
//! `ApplicationSignIns_...`, `MSISignIns_...`), UTF-8 with a byte-order mark, every cell quoted,
//! columns named for people: `Date (UTC)`, `Request ID`, `Unique token identifier`,
//! `Session ID`, `IP address`, `Autonomous system  number` (two spaces), `Application ID ` and
//! `Resource ID ` (a trailing space), `Incoming token type` twice, `Compliant`, `Managed`,
//! `Join Type`, `Token Protection - Sign In Session`, `Through Global Secure Access`, ... The
//! header is matched by name, not position: columns are added over time (`App owner tenant ID`
//! came later), and the application tab has its own (`Service principal ID`,
//! `Credential key ID`). Column lists as published by tools that read the real export
//! (bitpusher2k's `ProcessEntraSignInLog.ps1`, 2024; a 56-column header in an IR toolkit's
//! schema notes, 2026); the values are the Graph `signIn` properties those columns show
//! (`microsoft-graph-docs-contrib`, `api-reference/beta/resources/signin.md`), in enum or display
//! spelling (`primaryRefreshToken` or `Primary Refresh Token`): both are read.
//!
//! # The tab is not a column
//!
//! Which log a row came from is the file name's business, and files get renamed, so each row's
//! kind is told from its values first, where they tell:
//! - a managed identity type or an associated Azure resource: a managed identity;
//! - a service principal and no user: a service principal;
//! - a refresh token redeemed (`Incoming token type`), or a client credential presented
//!   (`Client credential type` other than none): non-interactive, as both are token-endpoint
//!   requests no user takes part in (entra-docs `concept-noninteractive-sign-ins.md`);
//! - a multifactor method the user answered (`Multifactor authentication auth method`, other
//!   than "Previously satisfied"): interactive, as answering a challenge is the user's part.
//!
//! Anything else could be either: a user's sign-in whose kind the export does not state. It is
//! read as non-interactive (it never stands as a session's interactive root, which would hide a
//! replayed session) and flagged ([`crate::DecodedRecord::kind_unstated`]) so the run says so.
//! The engine then settles it by its file: the admin center writes one tab per file, so where
//! the file's stated rows are all of one kind, the unstated rows are of that kind too, and a
//! file that states no kind at all keeps the tab's name (`InteractiveSignIns_...`).

use tokentrail_model::{SignInKind, SourceRef};

use super::collect::{
    DeviceSlots, LocationSlots, Rec, StatusSlots, Texts, TokenProtectionSlots, Val,
};
use super::signin;
use super::text;
use super::Fields;
use crate::{DecodeError, Decoded, DecodedRecord, Shape};

/// Where one column of the export goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    /// A field the other exports spell this way (lower-cased), read like theirs.
    Field(&'static [u8]),
    /// `Sign-in error code`.
    ErrorCode,
    /// `Location`: `City, State, CC`.
    Location,
    /// `Token Protection - Sign In Session`.
    TokenProtection,
    DeviceId,
    Browser,
    OperatingSystem,
    Compliant,
    Managed,
    JoinType,
    /// `Multifactor authentication auth method`, which tells an interactive sign-in.
    MfaMethod,
    /// `Associated Resource Id`, which tells a managed identity.
    AssociatedResource,
    /// A column nothing reads.
    Skip,
}

/// The export's columns, compiled from its header.
#[derive(Clone, Debug)]
pub(crate) struct PortalLayout {
    columns: Vec<Column>,
}

/// The cells of one row that tell its kind and have no slot of their own.
#[derive(Default)]
pub(crate) struct KindCells<'a> {
    mfa_method: Option<&'a str>,
    associated_resource: Option<&'a str>,
}

/// A header cell as the export's column name: byte-order mark, quotes and blanks around it
/// removed, runs of blanks as one space (`Autonomous system  number`), lower-cased.
fn column_name(cell: &[u8]) -> String {
    let cell = cell.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(cell);
    let text = String::from_utf8_lossy(cell);
    let text = text.trim().trim_matches('"');
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

fn column(name: &str) -> Column {
    match name {
        "date (utc)" => Column::Field(b"createddatetime"),
        "request id" => Column::Field(b"id"),
        "user agent" => Column::Field(b"useragent"),
        "correlation id" => Column::Field(b"correlationid"),
        "user id" => Column::Field(b"userid"),
        "username" => Column::Field(b"userprincipalname"),
        "incoming token type" => Column::Field(b"incomingtokentype"),
        "authentication protocol" => Column::Field(b"authenticationprotocol"),
        "unique token identifier" => Column::Field(b"uniquetokenidentifier"),
        "original transfer method" => Column::Field(b"originaltransfermethod"),
        "client credential type" => Column::Field(b"clientcredentialtype"),
        "token protection - sign in session" => Column::TokenProtection,
        "application" => Column::Field(b"appdisplayname"),
        "application id" => Column::Field(b"appid"),
        "resource" => Column::Field(b"resourcedisplayname"),
        "resource id" => Column::Field(b"resourceid"),
        "ip address" => Column::Field(b"ipaddress"),
        "location" => Column::Location,
        "sign-in error code" => Column::ErrorCode,
        "device id" => Column::DeviceId,
        "browser" => Column::Browser,
        "operating system" => Column::OperatingSystem,
        "compliant" => Column::Compliant,
        "managed" => Column::Managed,
        "join type" => Column::JoinType,
        "multifactor authentication auth method" => Column::MfaMethod,
        "authentication requirement" => Column::Field(b"authenticationrequirement"),
        "session id" => Column::Field(b"sessionid"),
        "ip address (seen by resource)" => Column::Field(b"ipaddressfromresourceprovider"),
        "through global secure access" => Column::Field(b"isthroughglobalsecureaccess"),
        "global secure access ip address" => Column::Field(b"globalsecureaccessipaddress"),
        "autonomous system number" => Column::Field(b"autonomoussystemnumber"),
        "service principal id" => Column::Field(b"serviceprincipalid"),
        "service principal name" => Column::Field(b"serviceprincipalname"),
        "managed identity type" => Column::Field(b"managedidentitytype"),
        "associated resource id" => Column::AssociatedResource,
        _ => Column::Skip,
    }
}

impl PortalLayout {
    /// The layout of the admin center's export, when the header is one: `Date (UTC)` and at
    /// least two of the columns only it names this way.
    pub(crate) fn from_headers(headers: &csv::ByteRecord) -> Option<PortalLayout> {
        let names: Vec<String> = headers.iter().map(column_name).collect();
        let has = |n: &str| names.iter().any(|c| c == n);
        let own = [
            "request id",
            "unique token identifier",
            "sign-in error code",
            "ip address",
            "service principal id",
            "application id",
            "username",
        ];
        if !has("date (utc)") || own.iter().filter(|n| has(n)).count() < 2 {
            return None;
        }
        Some(PortalLayout {
            columns: names.iter().map(|n| column(n)).collect(),
        })
    }

    /// Put cell `i` of a row where it goes.
    pub(crate) fn set<'a>(
        &self,
        i: usize,
        text: &'a str,
        rec: &mut Rec<'a>,
        cells: &mut KindCells<'a>,
        texts: &'a Texts,
    ) {
        let t = text.trim();
        if t.is_empty() {
            return;
        }
        let val = || Some(Val::Str(t));
        match self.columns.get(i).copied().unwrap_or(Column::Skip) {
            Column::Field(key) => {
                rec.set_text(key, t, texts);
            }
            Column::ErrorCode => {
                rec.status = Some(StatusSlots {
                    error_code: val(),
                    ..StatusSlots::default()
                });
            }
            Column::Location => {
                // `City, State, CC`: the country is the last part.
                let country = t.rsplit(',').next().map(str::trim).unwrap_or(t);
                rec.location = Some(LocationSlots {
                    country: Some(Val::Str(country)),
                    ..LocationSlots::default()
                });
            }
            Column::TokenProtection => {
                rec.token_protection = Some(TokenProtectionSlots {
                    session_status: val(),
                    ..TokenProtectionSlots::default()
                });
            }
            Column::DeviceId => device(rec).device_id = val(),
            Column::Browser => device(rec).browser = val(),
            Column::OperatingSystem => device(rec).os = val(),
            Column::Compliant => device(rec).is_compliant = val(),
            Column::Managed => device(rec).is_managed = val(),
            Column::JoinType => device(rec).trust_type = val(),
            Column::MfaMethod => cells.mfa_method = Some(t),
            Column::AssociatedResource => cells.associated_resource = Some(t),
            Column::Skip => {}
        }
    }
}

/// The row's device columns, gathered as a sign-in's `deviceDetail`.
fn device<'r, 'a>(rec: &'r mut Rec<'a>) -> &'r mut DeviceSlots<'a> {
    rec.device.get_or_insert_with(DeviceSlots::default)
}

/// Decode one row of the export.
pub(super) fn decode(
    rec: &Rec<'_>,
    cells: &KindCells<'_>,
    source: SourceRef,
    fields: Fields,
) -> Result<DecodedRecord, DecodeError> {
    let (kind, unstated) = kind_of(rec, cells);
    let mut record = signin::decode(rec, None, Some(kind), Shape::EntraPortalCsv, source, fields)?;
    if let Decoded::SignIn(s) = &mut record.event {
        // The export writes what the admin center shows: display text where the other
        // exports write the Graph enum (`Device code flow`, `Multifactor authentication`).
        enum_spelling(&mut s.auth_protocol, PROTOCOLS);
        enum_spelling(&mut s.transfer_method, TRANSFER_METHODS);
        enum_spelling(&mut s.client_credential_type, CREDENTIAL_TYPES);
        enum_spelling(&mut s.token_protection, TOKEN_PROTECTION);
        enum_spelling(&mut s.auth_requirement, REQUIREMENTS);
        s.kind_assumed = unstated;
    }
    record.kind_unstated = unstated;
    Ok(record)
}

/// The row's kind, and whether it had to be assumed (see the module documentation).
fn kind_of(rec: &Rec<'_>, cells: &KindCells<'_>) -> (SignInKind, bool) {
    let managed_identity = text(&rec.managed_identity_type)
        .is_some_and(|t| !t.eq_ignore_ascii_case("none"))
        || cells.associated_resource.is_some();
    if managed_identity {
        return (SignInKind::ManagedIdentity, false);
    }
    let user = text(&rec.user_id).is_some() || text(&rec.upn).is_some();
    if !user && text(&rec.sp_id).is_some() {
        return (SignInKind::ServicePrincipal, false);
    }
    let refresh_token = text(&rec.incoming_token_type).is_some_and(|t| {
        signin::token_type_spelling(t)
            .split(',')
            .any(|k| k == "refreshToken")
    });
    let credential =
        text(&rec.client_credential_type).is_some_and(|t| !t.eq_ignore_ascii_case("none"));
    if refresh_token || credential {
        return (SignInKind::NonInteractive, false);
    }
    let answered = cells
        .mfa_method
        .is_some_and(|m| !compact(m).eq_ignore_ascii_case("previouslysatisfied"));
    if answered {
        return (SignInKind::Interactive, false);
    }
    (SignInKind::NonInteractive, true)
}

const PROTOCOLS: &[&str] = &[
    "none",
    "oAuth2",
    "ropc",
    "wsFederation",
    "saml20",
    "deviceCode",
    "authenticationTransfer",
    "nativeAuth",
];
const TRANSFER_METHODS: &[&str] = &["none", "deviceCodeFlow", "authenticationTransfer"];
const CREDENTIAL_TYPES: &[&str] = &[
    "none",
    "clientSecret",
    "clientAssertion",
    "federatedIdentityCredential",
    "managedIdentity",
    "certificate",
];
const TOKEN_PROTECTION: &[&str] = &["none", "bound", "unbound"];
const REQUIREMENTS: &[&str] = &["singleFactorAuthentication", "multiFactorAuthentication"];

/// Letters and digits only: `Device code flow` and `deviceCodeFlow` compare equal.
fn compact(text: &str) -> String {
    text.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// Replace display text with the enum value it shows, when it is one of `known`
/// (`OAuth 2.0` is `oAuth2`).
fn enum_spelling(value: &mut Option<String>, known: &[&str]) {
    let Some(v) = value.as_deref() else {
        return;
    };
    let c = compact(v);
    let c = if c.eq_ignore_ascii_case("oauth20") {
        "oAuth2".to_owned()
    } else {
        c
    };
    if let Some(k) = known.iter().find(|k| k.eq_ignore_ascii_case(&c)) {
        *value = Some((*k).to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_text_reads_as_the_graph_enum() {
        let mut v = Some("Device code flow".to_owned());
        enum_spelling(&mut v, TRANSFER_METHODS);
        assert_eq!(v.as_deref(), Some("deviceCodeFlow"));
        let mut v = Some("OAuth 2.0".to_owned());
        enum_spelling(&mut v, PROTOCOLS);
        assert_eq!(v.as_deref(), Some("oAuth2"));
        let mut v = Some("Multifactor authentication".to_owned());
        enum_spelling(&mut v, REQUIREMENTS);
        assert_eq!(v.as_deref(), Some("multiFactorAuthentication"));
        let mut v = Some("Something new".to_owned());
        enum_spelling(&mut v, PROTOCOLS);
        assert_eq!(v.as_deref(), Some("Something new"));
    }

    #[test]
    fn column_names_are_matched_as_the_admin_center_writes_them() {
        assert_eq!(
            column(&column_name(b"\xEF\xBB\xBF\"Date (UTC)\"")),
            Column::Field(b"createddatetime")
        );
        assert_eq!(
            column(&column_name(b"Autonomous system  number")),
            Column::Field(b"autonomoussystemnumber")
        );
        assert_eq!(
            column(&column_name(b"Application ID ")),
            Column::Field(b"appid")
        );
        assert_eq!(column(&column_name(b"Latency")), Column::Skip);
    }
}
