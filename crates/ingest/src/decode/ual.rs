//! Unified Audit Log records, bare or inside a wrapper (Purview CSV, `Search-UnifiedAuditLog`
//! CSV, Graph `auditLogRecord`, Defender `CloudAppEvents`, Sentinel `OfficeActivity`).

use tokentrail_model::{
    parse_client_ip, Access, AccessSource, Actor, Device, Guid, SessionId, SignIn, SignInKind,
    SourceRef, TokenId, Workload,
};

use super::collect::{AppAccessSlots, LowerKey, Pairs, Rec, Val};
use super::{
    boolean, id_text, int, lenient_time, lower, owned, owned_id, record_time, text, Fields,
};
use crate::{
    DecodeError, Decoded, DecodedRecord, Disposition, Family, MailboxChange, OtherRecord, Shape,
};

/// What a UAL record is to the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Logon,
    Access(AccessSource),
    Other,
}

/// Decode a UAL record `rec`; `env` is its wrapper, which supplies fallbacks.
pub(super) fn decode(
    rec: &Rec<'_>,
    env: Option<&Rec<'_>>,
    shape: Shape,
    source: SourceRef,
    fields: Fields,
) -> Result<DecodedRecord, DecodeError> {
    let e = env.unwrap_or(&Rec::EMPTY);
    let operation = text(&rec.operation)
        .or_else(|| text(&e.operation))
        .or_else(|| text(&e.operations))
        .or_else(|| text(&e.action_type))
        .ok_or(DecodeError::Missing("Operation"))?;
    let time = record_time(&[
        ("CreationTime", &rec.creation_time),
        ("TimeGenerated", &rec.time_generated),
        ("CreationDate", &e.creation_date),
        ("createdDateTime", &e.created),
        ("Timestamp", &e.timestamp),
    ])?;
    let record_type = int(&rec.record_type).or_else(|| int(&e.record_type));
    let workload = text(&rec.workload).or_else(|| text(&e.service));
    let class = classify(record_type, workload, operation, &rec.user_type);
    let event = match class {
        Class::Logon => Decoded::SignIn(Box::new(logon(rec, env, time, source, fields))),
        Class::Access(log) => Decoded::Access(Box::new(access(
            rec,
            env,
            log,
            time,
            operation.to_owned(),
            source,
            fields,
        ))),
        Class::Other => Decoded::Other(OtherRecord {
            family: Family::Other,
            disposition: Disposition::NotRelevant,
            kind: format!("ual:{}", workload.unwrap_or("unknown")),
            operation: Some(operation.to_owned()),
            time: Some(time),
            mailbox_change: is_mailbox_change(operation)
                .then(|| Box::new(mailbox_change(rec, env, source))),
        }),
    };
    Ok(DecodedRecord::new(shape, event))
}

fn classify(
    record_type: Option<i64>,
    workload: Option<&str>,
    operation: &str,
    user_type: &Option<Val<'_>>,
) -> Class {
    // Lowered on the stack: every UAL record is classified.
    let wl = workload.map(|w| LowerKey::new(w.as_bytes()));
    let wl = wl.as_ref().map(LowerKey::as_bytes);
    let is_logon_op = operation.eq_ignore_ascii_case("userloggedin")
        || operation.eq_ignore_ascii_case("userloginfailed");
    if is_logon_op && (record_type == Some(15) || wl == Some(b"azureactivedirectory")) {
        return Class::Logon;
    }
    let log = match (wl, record_type) {
        (Some(b"exchange"), Some(2 | 3 | 50) | None) => AccessSource::ExchangeAudit,
        (None, Some(2 | 3 | 50)) => AccessSource::ExchangeAudit,
        (Some(b"onedrive"), _) | (None, Some(7)) => AccessSource::OneDriveAudit,
        (Some(b"sharepoint"), _) | (None, Some(4 | 6 | 14 | 36)) => AccessSource::SharePointAudit,
        (Some(b"microsoftteams"), _) | (None, Some(25)) => AccessSource::TeamsAudit,
        _ => return Class::Other,
    };
    if user_type_code(user_type) == Some(4) {
        // System-generated (malware scans, retention): no token was used.
        return Class::Other;
    }
    Class::Access(log)
}

/// `UserType` as its number; Sentinel writes the enum name.
fn user_type_code(v: &Option<Val<'_>>) -> Option<i64> {
    int(v).or_else(|| {
        Some(match LowerKey::new(text(v)?.as_bytes()).as_bytes() {
            b"regular" => 0,
            b"reserved" => 1,
            b"admin" => 2,
            b"dcadmin" => 3,
            b"system" => 4,
            b"application" => 5,
            b"serviceprincipal" => 6,
            b"custompolicy" => 7,
            b"systempolicy" => 8,
            _ => return None,
        })
    })
}

/// Operations that change inbox rules or forwarding, which investigations list.
const MAILBOX_CHANGES: [&str; 4] = [
    "New-InboxRule",
    "Set-InboxRule",
    "UpdateInboxRules",
    "Set-Mailbox",
];

fn is_mailbox_change(operation: &str) -> bool {
    MAILBOX_CHANGES
        .iter()
        .any(|op| op.eq_ignore_ascii_case(operation.trim()))
}

/// Who changed a mailbox's rules or forwarding, from where, with which parameters.
fn mailbox_change(rec: &Rec<'_>, env: Option<&Rec<'_>>, source: SourceRef) -> MailboxChange {
    let e = env.unwrap_or(&Rec::EMPTY);
    let c = rec.app_access.as_ref().unwrap_or(&AppAccessSlots::EMPTY);
    let parameters = rec
        .parameters
        .as_ref()
        .filter(|p| !p.0.is_empty())
        .or(rec.operation_properties.as_ref())
        .map(|p| {
            p.0.iter()
                .map(|(name, value)| {
                    let value = value.text().map(|v| v.into_owned()).unwrap_or_default();
                    (name.trim().to_owned(), value)
                })
                .collect()
        })
        .unwrap_or_default();
    MailboxChange {
        user: first(&[&rec.user_id, &e.upn, &e.user_ids]).map(str::to_owned),
        user_id: guid_text(&rec.user_key),
        ip: first_ip(&[
            &rec.client_ip_camel,
            &rec.client_ip_address,
            &rec.actor_ip,
            &e.client_ip_camel,
            &e.ip,
        ]),
        session_id: first(&[&c.session_id, &rec.session_id]).and_then(SessionId::parse),
        token_id: id_text(&c.token_id).and_then(TokenId::parse),
        object: owned(&rec.object_id),
        parameters,
        source,
    }
}

/// Text of the first slot that has some (anonymization placeholders are none).
fn first<'r>(slots: &[&'r Option<Val<'_>>]) -> Option<&'r str> {
    slots.iter().find_map(|v| id_text(v))
}

/// The first slot whose text is an IP address.
fn first_ip(slots: &[&Option<Val<'_>>]) -> Option<std::net::IpAddr> {
    slots.iter().find_map(|v| text(v).and_then(parse_client_ip))
}

/// Lower-cased text of the slot when it is a GUID.
fn guid_text(v: &Option<Val<'_>>) -> Option<String> {
    id_text(v)
        .filter(|t| Guid::parse(t).is_some())
        .map(str::to_ascii_lowercase)
}

fn pair_text(pairs: &Option<Pairs<'_>>, name: &str) -> Option<String> {
    pairs
        .as_ref()
        .and_then(|p| p.get(name))
        .and_then(Val::id)
        .map(str::to_owned)
}

fn access(
    rec: &Rec<'_>,
    env: Option<&Rec<'_>>,
    log: AccessSource,
    time: tokentrail_model::Timestamp,
    operation: String,
    source: SourceRef,
    fields: Fields,
) -> Access {
    let e = env.unwrap_or(&Rec::EMPTY);
    let c = rec.app_access.as_ref().unwrap_or(&AppAccessSlots::EMPTY);
    let exchange = log == AccessSource::ExchangeAudit;
    let mut a = Access::new(source, log, time, operation);
    a.record_id = first(&[&rec.id, &rec.office_id, &e.record_id, &e.id]).map(str::to_owned);
    a.workload = match log {
        AccessSource::ExchangeAudit => Workload::Mail,
        AccessSource::SharePointAudit | AccessSource::OneDriveAudit => Workload::Files,
        AccessSource::TeamsAudit => Workload::Teams,
        AccessSource::GraphActivity | AccessSource::DirectoryAudit => Workload::Other,
    };
    a.actor = match user_type_code(&rec.user_type) {
        Some(5 | 6) => Actor::AppOnly,
        _ => Actor::Delegated,
    };
    a.user_id = lower(&rec.token_object_id)
        .or_else(|| guid_text(&rec.user_key))
        .or_else(|| guid_text(&rec.user_object_id));
    a.upn = first(&[&rec.user_id, &rec.mailbox_owner_upn, &e.upn, &e.user_ids]).map(str::to_owned);
    a.app_id = if exchange {
        first(&[&c.client_app_id, &rec.client_app_id])
    } else {
        first(&[&c.client_app_id, &rec.client_app_id, &rec.application_id])
    }
    .map(str::to_ascii_lowercase);
    a.app_name = first(&[
        &c.client_app_name,
        &rec.client_app_name,
        &rec.application_name,
    ])
    .map(str::to_owned);
    a.resource_id = if exchange {
        first(&[&c.api_id, &rec.app_id])
    } else {
        first(&[&c.api_id])
    }
    .map(str::to_ascii_lowercase);
    a.ip = first_ip(&[
        &rec.client_ip_address,
        &rec.client_ip_camel,
        &rec.actor_ip,
        &e.client_ip_camel,
        &e.ip,
    ]);
    a.is_managed_device = boolean(&rec.is_managed_device);
    a.session_id = first(&[&c.session_id, &rec.session_id]).and_then(SessionId::parse);
    a.token_id = id_text(&c.token_id).and_then(TokenId::parse);
    a.token_issued_at = lenient_time(&c.issued_at);
    a.count = int(&rec.operation_count)
        .and_then(|c| u64::try_from(c).ok())
        .unwrap_or(1);
    if fields.all() {
        a.user_agent = first(&[&rec.user_agent, &rec.client_info]).map(str::to_owned);
        a.device_id = owned_id(&rec.device_id);
        a.object = match log {
            AccessSource::ExchangeAudit => first(&[&rec.mailbox_owner_upn, &rec.object_id]),
            AccessSource::TeamsAudit => first(&[&rec.ext().chat_thread_id, &rec.object_id]),
            _ => first(&[&rec.object_id, &rec.source_file_name, &rec.site_url]),
        }
        .map(str::to_owned);
        a.mail_access_type = pair_text(&rec.operation_properties, "MailAccessType");
    }
    a
}

/// A `UserLoggedIn` / `UserLoginFailed` record as a sign-in.
fn logon(
    rec: &Rec<'_>,
    env: Option<&Rec<'_>>,
    time: tokentrail_model::Timestamp,
    source: SourceRef,
    fields: Fields,
) -> SignIn {
    let e = env.unwrap_or(&Rec::EMPTY);
    let mut s = SignIn::new(source, SignInKind::UalLogon, time);
    s.id = id_text(&rec.id).and_then(Guid::parse);
    s.user_id = rec
        .actor
        .as_ref()
        .and_then(|actors| {
            actors
                .names()
                .find(|n| !super::collect::is_placeholder(n) && Guid::parse(n).is_some())
                .map(str::to_ascii_lowercase)
        })
        .or_else(|| guid_text(&rec.user_key));
    s.upn = first(&[&rec.user_id, &e.upn, &e.user_ids]).map(str::to_owned);
    s.app_id = lower(&rec.application_id);
    s.resource_id = lower(&rec.object_id);
    s.ip = first_ip(&[
        &rec.client_ip_camel,
        &rec.actor_ip,
        &e.client_ip_camel,
        &e.ip,
    ]);
    let props = &rec.device_properties;
    let compliant_and_managed = props
        .as_ref()
        .and_then(|p| p.get("IsCompliantAndManaged"))
        .and_then(Val::bool);
    let shown = |name| fields.all().then(|| pair_text(props, name)).flatten();
    s.device = Device {
        id: pair_text(props, "Id"),
        name: shown("DisplayName"),
        os: shown("OS"),
        browser: shown("BrowserType"),
        // Only a true "compliant and managed" says anything about management alone.
        is_managed: compliant_and_managed.filter(|m| *m),
        is_compliant: props
            .as_ref()
            .and_then(|p| p.get("IsCompliant"))
            .and_then(Val::bool),
        trust_type: shown("TrustType"),
    };
    s.session_id = props
        .as_ref()
        .and_then(|p| p.get("SessionId"))
        .and_then(Val::id)
        .or_else(|| id_text(&rec.session_id))
        .and_then(SessionId::parse);
    s.error_code = int(&rec.error_number);
    s.user_agent =
        pair_text(&rec.extended_properties, "UserAgent").or_else(|| owned(&rec.user_agent));
    if fields.all() {
        s.original_request_id = text(&rec.intra_system_id).and_then(Guid::parse);
        s.correlation_id = owned(&rec.inter_systems_id);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn str_val(t: &str) -> Option<Val<'_>> {
        Some(Val::Str(t))
    }

    #[test]
    fn records_are_classified_by_workload_operation_and_type_in_any_case() {
        let none = None;
        let cases: [(Option<i64>, Option<&str>, &str, Class); 12] = [
            (Some(15), None, "UserLoggedIn", Class::Logon),
            (
                None,
                Some("AzureActiveDirectory"),
                "userloginfailed",
                Class::Logon,
            ),
            (
                None,
                Some("AZUREACTIVEDIRECTORY"),
                "UserLoggedIn",
                Class::Logon,
            ),
            (
                Some(8),
                Some("AzureActiveDirectory"),
                "Add user.",
                Class::Other,
            ),
            (
                Some(2),
                Some("Exchange"),
                "MailItemsAccessed",
                Class::Access(AccessSource::ExchangeAudit),
            ),
            (
                None,
                Some("exchange"),
                "Send",
                Class::Access(AccessSource::ExchangeAudit),
            ),
            (Some(1), Some("Exchange"), "Set-Mailbox", Class::Other),
            (None, None, "MailItemsAccessed", Class::Other),
            (
                Some(50),
                None,
                "MailItemsAccessed",
                Class::Access(AccessSource::ExchangeAudit),
            ),
            (
                Some(6),
                Some("OneDrive"),
                "FileAccessed",
                Class::Access(AccessSource::OneDriveAudit),
            ),
            (
                None,
                Some("SharePoint"),
                "FileDownloaded",
                Class::Access(AccessSource::SharePointAudit),
            ),
            (
                None,
                Some("MicrosoftTeams"),
                "MessageRead",
                Class::Access(AccessSource::TeamsAudit),
            ),
        ];
        for (record_type, workload, operation, class) in cases {
            assert_eq!(
                classify(record_type, workload, operation, &none),
                class,
                "{record_type:?} {workload:?} {operation}"
            );
        }
        // A workload longer than any name, and a non-ASCII one, are no workload of ours.
        let long = "sharepoint".repeat(5);
        assert_eq!(
            classify(None, Some(&long), "FileAccessed", &none),
            Class::Other
        );
        assert_eq!(
            classify(None, Some("Sharepoınt"), "FileAccessed", &none),
            Class::Other
        );
        // System-generated records of an access workload are not accesses.
        let system = str_val("System");
        assert_eq!(
            classify(None, Some("SharePoint"), "FileAccessed", &system),
            Class::Other
        );
    }

    #[test]
    fn user_types_are_read_as_numbers_or_names() {
        assert_eq!(user_type_code(&Some(Val::Int(5))), Some(5));
        assert_eq!(user_type_code(&str_val("6")), Some(6));
        assert_eq!(user_type_code(&str_val("ServicePrincipal")), Some(6));
        assert_eq!(user_type_code(&str_val(" application ")), Some(5));
        assert_eq!(user_type_code(&str_val("DcAdmin")), Some(3));
        assert_eq!(user_type_code(&str_val("SYSTEMPOLICY")), Some(8));
        assert_eq!(user_type_code(&str_val("Regulär")), None);
        assert_eq!(user_type_code(&str_val("")), None);
        assert_eq!(user_type_code(&None), None);
    }
}
