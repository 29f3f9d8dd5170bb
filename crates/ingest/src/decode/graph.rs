//! Microsoft Graph activity log rows (Log Analytics and diagnostic settings).

use tokentrail_model::{
    parse_client_ip, Access, AccessSource, Actor, ClientAuthMethod, SessionId, SourceRef, TokenId,
    Workload,
};

use super::collect::{LowerKey, Rec};
use super::{id_text, int, lenient_time, lower, owned, owned_id, record_time, text, Fields};
use crate::{DecodeError, Decoded, DecodedRecord, Shape};

/// Microsoft Graph's app id: the resource of every Graph activity row.
const MICROSOFT_GRAPH: &str = "00000003-0000-0000-c000-000000000000";

/// Decode a Graph activity row. `main` holds the row (or `properties`); `env` is the
/// diagnostic-settings envelope when there is one.
pub(super) fn decode(
    main: &Rec<'_>,
    env: Option<&Rec<'_>>,
    shape: Shape,
    source: SourceRef,
    fields: Fields,
) -> Result<DecodedRecord, DecodeError> {
    let none = None;
    let env_time = env.map_or(&none, |e| &e.time);
    let time = record_time(&[
        ("TimeGenerated", &main.time_generated),
        ("Timestamp", &main.timestamp),
        ("time", env_time),
    ])?;
    let method = text(&main.request_method);
    let uri = text(&main.request_uri);
    let path = uri.map(request_path);
    let operation = operation(method, path);
    let mut a = Access::new(source, AccessSource::GraphActivity, time, operation);
    a.record_id = owned_id(&main.request_id);
    a.workload = path.map_or(Workload::Other, workload_of_path);
    a.user_id = lower(&main.user_id);
    a.service_principal_id = lower(&main.sp_id);
    a.app_id = lower(&main.app_id).or_else(|| lower(&main.application_id));
    a.resource_id = Some(MICROSOFT_GRAPH.to_owned());
    a.ip = text(&main.ip).and_then(parse_client_ip).or_else(|| {
        env.and_then(|e| text(&e.caller_ip))
            .and_then(parse_client_ip)
    });
    a.client_auth_method = int(&main.client_auth_method).and_then(ClientAuthMethod::from_code);
    a.session_id = id_text(&main.session_id)
        .or_else(|| id_text(&main.c_sid))
        .and_then(SessionId::parse);
    // Defender's `GraphApiAuditEvents` names the token `UniqueTokenIdentifier`.
    a.token_id = id_text(&main.sign_in_activity_id)
        .or_else(|| id_text(&main.unique_token_id))
        .and_then(TokenId::parse);
    a.token_issued_at = lenient_time(&main.token_issued_at).or_else(|| lenient_time(&main.c_iat));
    if fields.all() {
        a.user_agent = owned(&main.user_agent);
        a.device_id = owned_id(&main.device_id).or_else(|| owned_id(&main.c_device_id));
        a.object = uri.map(str::to_owned);
        a.status_code = int(&main.response_status).and_then(|c| u16::try_from(c).ok());
        a.scopes = owned(&main.scopes);
        a.roles = owned(&main.roles);
    }
    let id_type = text(&main.c_idtyp);
    a.actor = match id_type {
        Some(t) if t.eq_ignore_ascii_case("user") => Actor::Delegated,
        Some(t) if t.eq_ignore_ascii_case("app") => Actor::AppOnly,
        _ if a.user_id.is_some() => Actor::Delegated,
        _ if a
            .client_auth_method
            .is_some_and(ClientAuthMethod::is_confidential) =>
        {
            Actor::AppOnly
        }
        _ => Actor::Unknown,
    };
    Ok(DecodedRecord::new(shape, Decoded::Access(Box::new(a))))
}

/// The operation: the upper-cased HTTP method, a space and the request path (either alone
/// when the other is missing). Built in one allocation: every row has one.
fn operation(method: Option<&str>, path: Option<&str>) -> String {
    let mut op =
        String::with_capacity(method.map_or(0, |m| m.len() + 1) + path.map_or(0, str::len));
    if let Some(m) = method {
        op.push_str(m);
        op.make_ascii_uppercase();
        if path.is_some() {
            op.push(' ');
        }
    }
    op.push_str(path.unwrap_or_default());
    op
}

/// The request path: scheme and host, query and fragment removed.
pub(super) fn request_path(uri: &str) -> &str {
    let rest = match uri.find("://") {
        Some(i) => {
            let after = uri.get(i + 3..).unwrap_or("");
            after.find('/').and_then(|j| after.get(j..)).unwrap_or("/")
        }
        None => uri,
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    rest.get(..end).unwrap_or(rest)
}

/// The workload a Graph request path touches: the first segment that names one.
pub(super) fn workload_of_path(path: &str) -> Workload {
    for segment in path.split('/') {
        // `messages?$top=1` never reaches here (query removed), but `events(...)`-style keys
        // can: compare only the name part.
        let name = segment.split(['(', '$']).next().unwrap_or(segment);
        // Lowered on the stack (a segment longer than any name lowers to nothing).
        let w = match LowerKey::new(name.as_bytes()).as_bytes() {
            b"messages" | b"mailfolders" | b"events" | b"calendar" | b"calendars"
            | b"calendarview" | b"contacts" | b"contactfolders" | b"mailboxsettings"
            | b"outlook" => Workload::Mail,
            b"drive" | b"drives" | b"sites" | b"shares" => Workload::Files,
            b"chats" | b"teams" => Workload::Teams,
            _ => continue,
        };
        return w;
    }
    Workload::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_workloads() {
        assert_eq!(
            request_path("https://graph.microsoft.com/v1.0/me/messages?$top=5"),
            "/v1.0/me/messages"
        );
        assert_eq!(request_path("https://example.com"), "/");
        assert_eq!(
            request_path("/beta/users/x/drive#frag"),
            "/beta/users/x/drive"
        );
        assert_eq!(
            workload_of_path("/v1.0/me/mailFolders/inbox"),
            Workload::Mail
        );
        assert_eq!(
            workload_of_path("/v1.0/users/u/drive/root"),
            Workload::Files
        );
        assert_eq!(
            workload_of_path("/v1.0/teams/t/channels/c/messages"),
            Workload::Teams
        );
        assert_eq!(workload_of_path("/v1.0/me"), Workload::Other);
    }

    #[test]
    fn workloads_match_in_any_case_and_long_segments_match_nothing() {
        assert_eq!(workload_of_path("/V1.0/Me/MESSAGES"), Workload::Mail);
        assert_eq!(workload_of_path("/v1.0/me/Drive/root"), Workload::Files);
        assert_eq!(workload_of_path("/beta/Chats$count"), Workload::Teams);
        assert_eq!(workload_of_path("/v1.0/me/events(x)"), Workload::Mail);
        // Longer than any stack-lowered name, and names with non-ASCII letters.
        let long = format!("/v1.0/{}/x", "messages".repeat(6));
        assert_eq!(workload_of_path(&long), Workload::Other);
        assert_eq!(workload_of_path("/v1.0/me/m\u{e9}ssages"), Workload::Other);
        assert_eq!(workload_of_path("/v1.0/me/méssages/teams"), Workload::Teams);
        assert_eq!(workload_of_path(""), Workload::Other);
    }

    #[test]
    fn operations_are_the_method_upper_cased_and_the_path() {
        assert_eq!(
            operation(Some("get"), Some("/v1.0/me/messages")),
            "GET /v1.0/me/messages"
        );
        assert_eq!(operation(Some("Patch"), None), "PATCH");
        assert_eq!(operation(None, Some("/v1.0/me")), "/v1.0/me");
        assert_eq!(operation(None, None), "");
        assert_eq!(operation(Some("pöst"), Some("/a")), "PöST /a");
    }
}
