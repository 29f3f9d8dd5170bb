//! Entra ID sign-in rows (Graph `signIn`, Log Analytics tables, diagnostic settings).

use tokentrail_model::{
    parse_client_ip, Device, Guid, SessionId, SignIn, SignInKind, SourceRef, TokenId,
};

use super::collect::{LowerKey, Rec};
use super::{boolean, given, id_text, int, lower, owned, owned_id, record_time, text, Fields};
use crate::{DecodeError, Decoded, DecodedRecord, Shape};

/// Decode a sign-in. `main` holds the sign-in fields (the row, or `properties`); `env` is the
/// diagnostic-settings envelope when there is one; `kind` is what the category or table said.
pub(super) fn decode(
    main: &Rec<'_>,
    env: Option<&Rec<'_>>,
    kind: Option<SignInKind>,
    shape: Shape,
    source: SourceRef,
    fields: Fields,
) -> Result<DecodedRecord, DecodeError> {
    let none = None;
    let env_time = env.map_or(&none, |e| &e.time);
    let time = record_time(&[
        ("createdDateTime", &main.created),
        ("Timestamp", &main.timestamp),
        ("time", env_time),
        ("TimeGenerated", &main.time_generated),
    ])?;
    let kind = kind.unwrap_or_else(|| infer_kind(main));
    let mut s = SignIn::new(source, kind, time);
    // Defender's sign-in tables call the sign-in's id `RequestId`.
    s.id = id_text(&main.id)
        .or_else(|| id_text(&main.request_id))
        .and_then(Guid::parse);
    s.user_id = lower(&main.user_id);
    s.upn = owned_id(&main.upn);
    s.app_id = lower(&main.app_id).or_else(|| lower(&main.application_id));
    s.app_name = owned(&main.app_name);
    s.resource_name = owned(&main.resource_name);
    // Detection shows the resource by its name, and by its id only when it has no name.
    if fields.all() || s.resource_name.is_none() {
        s.resource_id = id_text(&main.resource_id)
            .filter(|r| !r.starts_with('/'))
            .or_else(|| id_text(&main.resource_identity))
            .map(str::to_ascii_lowercase);
    }
    s.service_principal_id = lower(&main.sp_id);
    s.ip = text(&main.ip).and_then(parse_client_ip).or_else(|| {
        env.and_then(|e| text(&e.caller_ip))
            .and_then(parse_client_ip)
    });
    s.asn = int(&main.asn).and_then(|a| u32::try_from(a).ok());
    s.device = device(main, fields);
    s.error_code = main
        .status
        .as_ref()
        .and_then(|st| int(&st.error_code))
        .or_else(|| int(&main.result_type))
        .or_else(|| env.and_then(|e| int(&e.result_type)));
    s.is_interactive = boolean(&main.is_interactive);
    s.incoming_token_type = text(&main.incoming_token_type).map(token_type_spelling);
    s.auth_protocol = owned(&main.auth_protocol);
    s.transfer_method = owned(&main.transfer_method);
    s.client_credential_type = owned(&main.client_credential_type);
    s.token_protection = main
        .token_protection
        .as_ref()
        .and_then(|t| owned(&t.session_status))
        .or_else(|| owned(&main.ext().token_protection_status));
    s.token_id = id_text(&main.unique_token_id).and_then(TokenId::parse);
    s.session_id = id_text(&main.session_id).and_then(SessionId::parse);
    s.through_global_secure_access = boolean(&main.ext().through_gsa);
    // A personal device Entra does not know is told by its user agent and country.
    s.user_agent = owned(&main.user_agent);
    s.country = country(main)
        .or_else(|| env.and_then(country))
        .or_else(|| owned(&main.ext().country_code));
    if !fields.all() {
        return Ok(DecodedRecord::new(shape, Decoded::SignIn(Box::new(s))));
    }
    s.service_principal_name = owned(&main.sp_name);
    s.auth_requirement = owned(&main.auth_requirement);
    s.original_request_id = id_text(&main.original_request_id).and_then(Guid::parse);
    s.correlation_id =
        owned(&main.correlation_id).or_else(|| env.and_then(|e| owned(&e.correlation_id)));
    s.global_secure_access_ip = text(&main.ext().gsa_ip).and_then(parse_client_ip);
    s.resource_ip = text(&main.ext().resource_ip).and_then(parse_client_ip);
    s.session_lifetime_policies = main
        .session_lifetime_policies
        .as_ref()
        .filter(|p| !p.0.is_empty())
        .map(|p| p.names().collect::<Vec<_>>().join(","));
    s.agent_type = main
        .agent
        .as_ref()
        .and_then(|a| owned(&a.agent_type))
        .filter(|t| !t.eq_ignore_ascii_case("notAgentic"));
    Ok(DecodedRecord::new(shape, Decoded::SignIn(Box::new(s))))
}

/// True when a record with a `createdDateTime` has the fields of a sign-in: who signed in
/// (a user or a service principal) and something only a sign-in has (the client app, the
/// token, its status, the resource, whether it was interactive). Graph security alerts,
/// incidents, devices, policies, named locations, applications and users also carry a
/// `createdDateTime`, and none has both; risk events name a user and an address too, so an
/// address alone does not make a sign-in.
pub(super) fn has_sign_in_fields(rec: &Rec<'_>) -> bool {
    let actor = given(&rec.user_id) || given(&rec.upn) || given(&rec.sp_id);
    let sign_in = given(&rec.app_id)
        || given(&rec.unique_token_id)
        || rec.status.is_some()
        || given(&rec.is_interactive)
        || given(&rec.resource_id)
        || rec.sign_in_event_types.is_some();
    actor && sign_in
}

/// True for a Defender XDR advanced hunting sign-in row read by content (its table not
/// named): a `Timestamp`, who signed in, and the sign-in columns of `EntraIdSignInEvents`
/// (`LogonType`, `ErrorCode`) or `EntraIdSpnSignInEvents` (`IsManagedIdentity`).
pub(super) fn is_defender_sign_in(rec: &Rec<'_>) -> bool {
    // Other tables (and a union of tables) have an `ActionType`; the sign-in tables do not.
    if given(&rec.action_type) {
        return false;
    }
    let actor = [&rec.user_id, &rec.upn, &rec.sp_id]
        .iter()
        .any(|v| id_text(v).is_some());
    let logon = rec.sign_in_event_types.as_ref().is_some_and(|t| {
        t.names().any(|n| {
            n.eq_ignore_ascii_case("interactiveUser")
                || n.eq_ignore_ascii_case("nonInteractiveUser")
        })
    });
    let columns = logon
        || rec.ext().is_managed_identity.is_some()
        || (rec.result_type.is_some() && rec.application_id.is_some());
    actor && columns && (text(&rec.ip).is_some() || text(&rec.application_id).is_some())
}

/// The kind of a Defender XDR sign-in row: from `LogonType` (`["interactiveUser"]`) in the
/// user table, from `IsManagedIdentity` in the service principal table.
pub(super) fn defender_kind(rec: &Rec<'_>, apps: bool) -> SignInKind {
    if apps {
        return if boolean(&rec.ext().is_managed_identity) == Some(true) {
            SignInKind::ManagedIdentity
        } else {
            SignInKind::ServicePrincipal
        };
    }
    infer_kind(rec)
}

/// The kind of a row whose category and table are not logged.
fn infer_kind(main: &Rec<'_>) -> SignInKind {
    if let Some(types) = &main.sign_in_event_types {
        // A row may list several; a managed identity is also a service principal, so the
        // kind declared last in `SignInKind` wins.
        let mut found = None;
        for t in types.names() {
            let k = match LowerKey::new(t.as_bytes()).as_bytes() {
                b"managedidentity" => SignInKind::ManagedIdentity,
                b"serviceprincipal" => SignInKind::ServicePrincipal,
                b"noninteractiveuser" => SignInKind::NonInteractive,
                b"interactiveuser" => SignInKind::Interactive,
                _ => continue,
            };
            found = Some(found.map_or(k, |f: SignInKind| f.max(k)));
        }
        if let Some(k) = found {
            return k;
        }
    }
    let no_user = text(&main.user_id).is_none() && text(&main.upn).is_none();
    let app_kind = if text(&main.managed_identity_type).is_some_and(|m| m != "none") {
        Some(SignInKind::ManagedIdentity)
    } else if text(&main.sp_id).is_some() || text(&main.client_credential_type).is_some() {
        Some(SignInKind::ServicePrincipal)
    } else {
        None
    };
    match (boolean(&main.is_interactive), app_kind) {
        (Some(true), _) => SignInKind::Interactive,
        (_, Some(k)) if no_user => k,
        (Some(false), _) => SignInKind::NonInteractive,
        _ => SignInKind::Interactive,
    }
}

fn country(rec: &Rec<'_>) -> Option<String> {
    [&rec.location_details, &rec.location]
        .into_iter()
        .flatten()
        .find_map(|l| {
            owned(&l.country).or_else(|| {
                l.text
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
            })
        })
}

fn device(rec: &Rec<'_>, fields: Fields) -> Device {
    let Some(d) = rec.device.as_ref() else {
        // Defender's sign-in tables put the device in columns of their own.
        let x = rec.ext();
        return Device {
            id: owned_id(&rec.device_id),
            name: fields.all().then(|| owned(&x.device_name)).flatten(),
            os: None,
            browser: None,
            is_managed: boolean(&x.is_managed),
            is_compliant: boolean(&x.is_compliant),
            trust_type: fields.all().then(|| owned(&x.device_trust_type)).flatten(),
        };
    };
    let shown = |v| fields.all().then(|| owned(v)).flatten();
    Device {
        id: owned_id(&d.device_id),
        name: shown(&d.display_name),
        os: shown(&d.os),
        browser: shown(&d.browser),
        is_managed: boolean(&d.is_managed),
        is_compliant: boolean(&d.is_compliant),
        trust_type: shown(&d.trust_type),
    }
}

/// `incomingTokenType` values in the spelling of the Graph enum.
const TOKEN_TYPES: [&str; 7] = [
    "none",
    "primaryRefreshToken",
    "saml11",
    "saml20",
    "remoteDesktopToken",
    "refreshToken",
    "unknownFutureValue",
];

/// Normalize an `incomingTokenType` (a flags enum: may list several, comma-separated) to the
/// enum spelling: `Primary Refresh Token` -> `primaryRefreshToken`.
pub(super) fn token_type_spelling(text: &str) -> String {
    // Most rows already log the enum spelling.
    if let Some(k) = TOKEN_TYPES.iter().find(|k| **k == text) {
        return (*k).to_owned();
    }
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|part| {
            let compact: String = part
                .chars()
                .filter(|c| !matches!(c, ' ' | '_' | '-' | '.'))
                .collect();
            match TOKEN_TYPES
                .iter()
                .find(|k| k.eq_ignore_ascii_case(&compact))
            {
                Some(k) => (*k).to_owned(),
                None => camel_case(part),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn camel_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split_whitespace().enumerate() {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            if i == 0 {
                out.extend(first.to_lowercase());
            } else {
                out.extend(first.to_uppercase());
            }
            out.push_str(chars.as_str());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_type_spellings() {
        assert_eq!(
            token_type_spelling("Primary Refresh Token"),
            "primaryRefreshToken"
        );
        assert_eq!(
            token_type_spelling("primaryRefreshToken"),
            "primaryRefreshToken"
        );
        assert_eq!(token_type_spelling("SAML 2.0"), "saml20");
        assert_eq!(token_type_spelling("none"), "none");
        assert_eq!(
            token_type_spelling("refreshToken, saml11"),
            "refreshToken,saml11"
        );
        assert_eq!(token_type_spelling("Something New"), "somethingNew");
    }
}
