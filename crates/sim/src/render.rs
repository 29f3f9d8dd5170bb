//! Each export's shape for each record family. Field names and value shapes follow the public
//! samples in `../shared/fixtures/public/` and the Azure Monitor table references (see
//! `../shared/brief/domain.md`).

use std::fmt::Write as _;

use tokentrail_model::SignInKind;

use crate::catalog::{self, App};
use crate::json::Obj;
use crate::record::{Actor, GraphRec, SignInRec, UalOp, UalRec};
use crate::tenant::Device;
use crate::timefmt;

/// The Log Analytics table of a sign-in kind.
pub(crate) fn la_table(kind: SignInKind) -> &'static str {
    match kind {
        SignInKind::Interactive | SignInKind::UalLogon => "SigninLogs",
        SignInKind::NonInteractive => "AADNonInteractiveUserSignInLogs",
        SignInKind::ServicePrincipal => "AADServicePrincipalSignInLogs",
        SignInKind::ManagedIdentity => "AADManagedIdentitySignInLogs",
    }
}

/// The diagnostic-settings category of a sign-in kind.
pub(crate) fn diagnostic_category(kind: SignInKind) -> &'static str {
    match kind {
        SignInKind::Interactive | SignInKind::UalLogon => "SignInLogs",
        SignInKind::NonInteractive => "NonInteractiveUserSignInLogs",
        SignInKind::ServicePrincipal => "ServicePrincipalSignInLogs",
        SignInKind::ManagedIdentity => "ManagedIdentitySignInLogs",
    }
}

pub(crate) fn event_type(kind: SignInKind) -> &'static str {
    match kind {
        SignInKind::Interactive | SignInKind::UalLogon => "interactiveUser",
        SignInKind::NonInteractive => "nonInteractiveUser",
        SignInKind::ServicePrincipal => "servicePrincipal",
        SignInKind::ManagedIdentity => "managedIdentity",
    }
}

fn aadiam_resource() -> String {
    format!("/tenants/{}/providers/Microsoft.aadiam", catalog::TENANT_ID)
}

fn device_fields(o: &mut Obj<'_>, d: Option<&Device>) {
    match d {
        Some(d) => {
            o.str("deviceId", &d.id.map(|g| g.to_string()).unwrap_or_default());
            if !d.name.is_empty() {
                o.str("displayName", &d.name);
            }
            o.str("operatingSystem", d.os).str("browser", d.browser);
            if d.id.is_some() {
                o.bool("isCompliant", d.compliant)
                    .bool("isManaged", d.managed);
            }
            if let Some(t) = d.trust {
                o.str("trustType", t);
            }
        }
        None => {
            o.str("deviceId", "")
                .str("operatingSystem", "")
                .str("browser", "");
        }
    }
}

fn location_fields(o: &mut Obj<'_>, r: &SignInRec<'_>) {
    let n = r.at.net;
    o.str("city", n.city)
        .str("state", n.state)
        .str("countryOrRegion", n.country)
        .obj("geoCoordinates", |g| {
            g.float("latitude", n.lat).float("longitude", n.lon);
        });
}

fn status_fields(o: &mut Obj<'_>, r: &SignInRec<'_>) {
    o.num("errorCode", 0);
    if r.kind == SignInKind::NonInteractive {
        o.str(
            "additionalDetails",
            "MFA requirement satisfied by claim in the token",
        );
    }
}

/// A Log Analytics sign-in row (PascalCase). The non-interactive, service principal and
/// managed identity tables carry nested values as JSON strings; `SigninLogs` as objects.
pub(crate) fn sign_in_la(buf: &mut String, r: &SignInRec<'_>) {
    let nested_as_string = r.kind != SignInKind::Interactive;
    let mut o = Obj::new(buf);
    let time = timefmt::iso7(r.time);
    o.display("TenantId", catalog::WORKSPACE_ID)
        .str("SourceSystem", "Azure AD")
        .str("TimeGenerated", &time)
        .str("ResourceId", &aadiam_resource())
        .str("OperationName", "Sign-in activity")
        .str("OperationVersion", "1.0")
        .str("Category", diagnostic_category(r.kind))
        .str("ResultType", "0")
        .str("ResultSignature", "SUCCESS")
        .str("ResultDescription", "")
        .num("DurationMs", 0)
        .display("CorrelationId", r.correlation)
        .str("Level", "4")
        .str("Location", r.at.net.country)
        .display("Id", r.id)
        .str("CreatedDateTime", &time);
    match r.actor {
        Actor::User(u) => {
            o.str("Identity", &u.name)
                .str("UserPrincipalName", &u.upn)
                .display("UserId", u.id)
                .str("UserDisplayName", &u.name)
                .str("UserType", "Member")
                .str("AppDisplayName", r.app.name)
                .display("AppId", r.app.id)
                .str("ClientAppUsed", r.client_app_used)
                .str("UserAgent", r.user_agent)
                .bool("IsInteractive", r.kind == SignInKind::Interactive)
                .str("ServicePrincipalId", "");
        }
        Actor::App(sp) => {
            o.str("Identity", sp.app.name)
                .display("ServicePrincipalId", sp.object_id)
                .str("ServicePrincipalName", sp.app.name)
                .display("AppId", sp.app.id)
                .str("AppDisplayName", sp.app.name)
                .display("ServicePrincipalCredentialKeyId", sp.key_id);
        }
    }
    o.display("IPAddress", r.at.ip)
        .str("AutonomousSystemNumber", &r.at.net.asn.to_string());
    let loc = |i: &mut Obj<'_>| location_fields(i, r);
    let status = |i: &mut Obj<'_>| status_fields(i, r);
    let device = |i: &mut Obj<'_>| device_fields(i, r.device);
    if nested_as_string {
        o.obj_as_string("LocationDetails", loc);
        if matches!(r.actor, Actor::User(_)) {
            o.obj_as_string("Status", status)
                .obj_as_string("DeviceDetail", device);
        }
    } else {
        o.obj("LocationDetails", loc)
            .obj("Status", status)
            .obj("DeviceDetail", device);
    }
    o.str("ResourceDisplayName", r.resource.name)
        .display("ResourceIdentity", r.resource.id)
        .display("ResourceTenantId", catalog::TENANT_ID)
        .display("AADTenantId", catalog::TENANT_ID)
        .str("ClientCredentialType", r.credential)
        .str("TokenIssuerType", "AzureAD")
        .str("ConditionalAccessStatus", "notApplied")
        .str("RiskLevelDuringSignIn", "none")
        .str("RiskState", "none")
        .str("UniqueTokenIdentifier", &r.id.to_uti());
    if let Actor::User(_) = r.actor {
        o.str("AuthenticationRequirement", r.requirement)
            .str("IncomingTokenType", r.incoming)
            .str("AuthenticationProtocol", r.protocol)
            .str("OriginalTransferMethod", r.transfer)
            .display("OriginalRequestId", r.id)
            .display("HomeTenantId", catalog::TENANT_ID);
        let tp = |i: &mut Obj<'_>| {
            i.str("signInSessionStatus", r.binding)
                .num("signInSessionStatusCode", 0);
        };
        if nested_as_string {
            o.obj_as_string("TokenProtectionStatusDetails", tp);
        } else {
            o.obj("TokenProtectionStatusDetails", tp);
        }
        o.str(
            "SessionId",
            &r.session.map(|s| s.to_string()).unwrap_or_default(),
        );
    }
    o.str("Type", la_table(r.kind));
    o.end();
}

/// The camelCase `signIn` object shared by Graph pages and diagnostic-settings `properties`.
fn sign_in_camel(o: &mut Obj<'_>, r: &SignInRec<'_>, graph_api: bool) {
    let created = if graph_api {
        timefmt::iso_z(r.time)
    } else {
        timefmt::iso_offset(r.time)
    };
    o.display("id", r.id).str("createdDateTime", &created);
    match r.actor {
        Actor::User(u) => {
            o.str("userDisplayName", &u.name)
                .str("userPrincipalName", &u.upn)
                .display("userId", u.id)
                .display("appId", r.app.id)
                .str("appDisplayName", r.app.name);
        }
        Actor::App(sp) => {
            o.null("userId")
                .display("appId", sp.app.id)
                .str("appDisplayName", sp.app.name)
                .display("servicePrincipalId", sp.object_id)
                .str("servicePrincipalName", sp.app.name)
                .display("servicePrincipalCredentialKeyId", sp.key_id);
        }
    }
    o.display("ipAddress", r.at.ip)
        .obj("status", |i| status_fields(i, r))
        .str("clientAppUsed", r.client_app_used)
        .str("userAgent", r.user_agent);
    if let Actor::User(_) = r.actor {
        o.obj("deviceDetail", |i| device_fields(i, r.device));
    }
    o.obj("location", |i| location_fields(i, r))
        .display("correlationId", r.correlation)
        .str("conditionalAccessStatus", "notApplied")
        .display("originalRequestId", r.id)
        .bool("isInteractive", r.kind == SignInKind::Interactive)
        .str("tokenIssuerType", "AzureAD")
        .str("clientCredentialType", r.credential)
        .str("resourceDisplayName", r.resource.name)
        .display("resourceId", r.resource.id)
        .display("resourceTenantId", catalog::TENANT_ID)
        .display("homeTenantId", catalog::TENANT_ID)
        .str("authenticationRequirement", r.requirement)
        .str("userType", "Member")
        .num("autonomousSystemNumber", i64::from(r.at.net.asn))
        .str("uniqueTokenIdentifier", &r.id.to_uti())
        .str("incomingTokenType", r.incoming)
        .str("authenticationProtocol", r.protocol)
        .obj("tokenProtectionStatusDetails", |i| {
            i.str("signInSessionStatus", r.binding)
                .num("signInSessionStatusCode", 0);
        })
        .str("originalTransferMethod", r.transfer)
        .str(
            "sessionId",
            &r.session.map(|s| s.to_string()).unwrap_or_default(),
        );
    if graph_api {
        o.str_array("signInEventTypes", &[event_type(r.kind)]);
    }
}

/// A diagnostic-settings sign-in record (one element of `records`).
pub(crate) fn sign_in_diagnostic(buf: &mut String, r: &SignInRec<'_>) {
    let mut o = Obj::new(buf);
    let identity = match r.actor {
        Actor::User(u) => u.name.as_str(),
        Actor::App(sp) => sp.app.name,
    };
    o.str("time", &timefmt::iso7(r.time))
        .str("resourceId", &aadiam_resource())
        .str("operationName", "Sign-in activity")
        .str("operationVersion", "1.0")
        .str("category", diagnostic_category(r.kind))
        .display("tenantId", catalog::TENANT_ID)
        .str("resultType", "0")
        .str("resultSignature", "SUCCESS")
        .num("durationMs", 0)
        .display("callerIpAddress", r.at.ip)
        .display("correlationId", r.correlation)
        .str("identity", identity)
        .num("Level", 4)
        .str("location", r.at.net.country)
        .obj("properties", |p| sign_in_camel(p, r, false));
    o.end();
}

/// A Graph `signIn` object (one element of `value`).
pub(crate) fn sign_in_graph(buf: &mut String, r: &SignInRec<'_>) {
    let mut o = Obj::new(buf);
    sign_in_camel(&mut o, r, true);
    o.end();
}

fn graph_user_id(r: &GraphRec<'_>) -> String {
    r.user.map(|u| u.id.to_string()).unwrap_or_default()
}

fn graph_sp_id(r: &GraphRec<'_>) -> String {
    r.principal
        .map(|p| p.object_id.to_string())
        .unwrap_or_default()
}

fn opt_guid(g: Option<tokentrail_model::Guid>) -> String {
    g.map(|g| g.to_string()).unwrap_or_default()
}

/// A Log Analytics `MicrosoftGraphActivityLogs` row.
pub(crate) fn graph_la(buf: &mut String, r: &GraphRec<'_>) {
    let mut o = Obj::new(buf);
    o.display("TenantId", catalog::WORKSPACE_ID)
        .str("SourceSystem", "Azure AD")
        .str("TimeGenerated", &timefmt::iso7(r.time))
        .str("Location", "West US 2")
        .display("RequestId", r.request_id)
        .display("OperationId", r.request_id)
        .display("ClientRequestId", r.request_id)
        .str("ApiVersion", api_version(&r.uri))
        .str("RequestMethod", r.method)
        .num("ResponseStatusCode", i64::from(r.status))
        .display("AadTenantId", catalog::TENANT_ID)
        .display("IPAddress", r.ip)
        .str("UserAgent", r.user_agent)
        .str("RequestUri", &r.uri)
        .num("DurationMs", i64::from(r.duration_ms))
        .num("ResponseSizeBytes", i64::from(r.response_bytes))
        .str("SignInActivityId", &r.token.token.to_uti())
        .str("Roles", r.roles)
        .str("TokenIssuedAt", &timefmt::iso7(r.token.issued_at))
        .display("AppId", r.app.id)
        .str("UserId", &graph_user_id(r))
        .str("ServicePrincipalId", &graph_sp_id(r))
        .str("Scopes", r.scopes)
        .str(
            "IdentityProvider",
            &format!("https://sts.windows.net/{}/", catalog::TENANT_ID),
        )
        .num("ClientAuthMethod", i64::from(r.auth_method))
        .str("Wids", "")
        .str("SessionId", &opt_guid(r.token.session))
        .str("DeviceId", &opt_guid(r.device))
        .str("ATContent", "")
        .str("Type", "MicrosoftGraphActivityLogs");
    o.end();
}

fn api_version(uri: &str) -> &'static str {
    if uri.contains("/beta/") {
        "beta"
    } else {
        "v1.0"
    }
}

/// A diagnostic-settings `MicrosoftGraphActivityLogs` record (raw `C_` claims, string
/// `clientAuthMethod`).
pub(crate) fn graph_diagnostic(buf: &mut String, r: &GraphRec<'_>) {
    let mut o = Obj::new(buf);
    let time = timefmt::iso7(r.time);
    o.str("time", &time)
        .str(
            "resourceId",
            &format!(
                "/TENANTS/{}/PROVIDERS/MICROSOFT.AADIAM",
                catalog::TENANT_ID.to_string().to_uppercase()
            ),
        )
        .str("operationName", "Microsoft Graph Activity")
        .str("operationVersion", api_version(&r.uri))
        .str("category", "MicrosoftGraphActivityLogs")
        .str("resultSignature", &r.status.to_string())
        .str("durationMs", &r.duration_ms.to_string())
        .display("callerIpAddress", r.ip)
        .display("correlationId", r.request_id)
        .str("level", "Informational")
        .str("location", "West US 2")
        .obj("properties", |p| {
            p.str("timeGenerated", &time)
                .str("location", "West US 2")
                .display("requestId", r.request_id)
                .display("operationId", r.request_id)
                .display("clientRequestId", r.request_id)
                .str("apiVersion", api_version(&r.uri))
                .str("requestMethod", r.method)
                .num("responseStatusCode", i64::from(r.status))
                .display("tenantId", catalog::TENANT_ID)
                .num("durationMs", i64::from(r.duration_ms))
                .num("responseSizeBytes", i64::from(r.response_bytes))
                .str("signInActivityId", &r.token.token.to_uti())
                .str("roles", r.roles)
                .display("appId", r.app.id)
                .str("UserPrincipalObjectID", &graph_user_id(r))
                .str("scopes", r.scopes)
                .str(
                    "identityProvider",
                    &format!("https://sts.windows.net/{}/", catalog::TENANT_ID),
                )
                .str("clientAuthMethod", &r.auth_method.to_string())
                .str("wids", "")
                .str("C_Idtyp", if r.user.is_some() { "user" } else { "app" })
                .str("C_Iat", &r.token.issued_at.secs().to_string())
                .display("ipAddress", r.ip)
                .str("userAgent", r.user_agent)
                .str("requestUri", &r.uri)
                .str("atContentP", "")
                .str("atContentH", "")
                .str("C_Sid", &opt_guid(r.token.session))
                .str("C_DeviceId", &opt_guid(r.device))
                .str("userId", &graph_user_id(r))
                .str("servicePrincipalId", &graph_sp_id(r))
                .str("tokenIssuedAt", &time_of_issue(r));
        })
        .display("tenantId", catalog::TENANT_ID);
    o.end();
}

fn time_of_issue(r: &GraphRec<'_>) -> String {
    timefmt::iso7(r.token.issued_at)
}

fn ip_text(r: &UalRec<'_>) -> String {
    match (r.port, r.ip) {
        (Some(p), std::net::IpAddr::V6(a)) => format!("[{a}]:{p}"),
        (Some(p), a) => format!("{a}:{p}"),
        (None, a) => a.to_string(),
    }
}

fn app_access_context(o: &mut Obj<'_>, r: &UalRec<'_>, files: bool) {
    if let Some(t) = r.token {
        o.obj("AppAccessContext", |c| {
            if let Some(s) = t.session {
                c.display("AADSessionId", s);
            }
            if files {
                c.display("ClientAppId", r.app.id)
                    .str("ClientAppName", r.app.name)
                    .display("CorrelationId", r.id)
                    .str("TokenIssuedAtTime", &timefmt::ual(t.issued_at));
            } else {
                c.display("APIId", r.resource.id)
                    .display("ClientAppId", r.app.id)
                    .str("IssuedAtTime", &timefmt::ual(t.issued_at));
            }
            c.str("UniqueTokenId", &t.token.to_uti());
        });
    }
}

/// The UAL `RecordType` of a record.
pub(crate) fn record_type(op: &UalOp<'_>) -> u8 {
    match op {
        UalOp::MailItemsAccessed { .. } => 50,
        UalOp::ExchangeItem { record_type, .. } => *record_type,
        UalOp::File { .. } => 6,
        UalOp::UserLoggedIn { .. } => 15,
    }
}

/// The `RecordType` of a record as `Search-UnifiedAuditLog` names it (the `AuditLogRecordType`
/// enumeration of Microsoft's Office 365 Management Activity API schema), else its number.
pub(crate) fn record_type_name(op: &UalOp<'_>) -> String {
    match record_type(op) {
        1 => "ExchangeAdmin".to_string(),
        2 => "ExchangeItem".to_string(),
        3 => "ExchangeItemGroup".to_string(),
        4 => "SharePoint".to_string(),
        6 => "SharePointFileOperation".to_string(),
        7 => "OneDrive".to_string(),
        14 => "SharePointSharingOperation".to_string(),
        15 => "AzureActiveDirectoryStsLogon".to_string(),
        25 => "MicrosoftTeams".to_string(),
        50 => "ExchangeItemAggregated".to_string(),
        n => n.to_string(),
    }
}

/// The UAL `Operation` of a record.
pub(crate) fn operation(op: &UalOp<'_>) -> &'static str {
    match op {
        UalOp::MailItemsAccessed { .. } => "MailItemsAccessed",
        UalOp::ExchangeItem { operation, .. } => operation,
        UalOp::File { operation, .. } => operation,
        UalOp::UserLoggedIn { .. } => "UserLoggedIn",
    }
}

/// The Management Activity API content type a record is published under.
pub(crate) fn content_type(op: &UalOp<'_>) -> &'static str {
    match op {
        UalOp::MailItemsAccessed { .. } | UalOp::ExchangeItem { .. } => "Audit.Exchange",
        UalOp::File { .. } => "Audit.SharePoint",
        UalOp::UserLoggedIn { .. } => "Audit.AzureActiveDirectory",
    }
}

fn exchange_common(o: &mut Obj<'_>, r: &UalRec<'_>, client_info: &str) {
    let ip = ip_text(r);
    o.str("ClientIP", &ip)
        .str("UserId", &r.user.upn)
        .display("AppId", r.resource.id)
        .display("ClientAppId", r.app.id)
        .str("ClientIPAddress", &ip)
        .str("ClientInfoString", client_info);
    if let Some(d) = r.device {
        o.display("DeviceId", d);
    }
    o.bool("ExternalAccess", false)
        .num("InternalLogonType", 0)
        .num("LogonType", 0)
        .str("LogonUserSid", &sid_of(r))
        .display("MailboxGuid", r.user.mailbox)
        .str("MailboxOwnerSid", &sid_of(r))
        .str("MailboxOwnerUPN", &r.user.upn)
        .str("OrganizationName", "contoso.onmicrosoft.com")
        .str("OriginatingServer", "CY4PR04MB1234 (15.20.7386.000)\r\n");
    if let Some(s) = r.token.and_then(|t| t.session) {
        o.display("SessionId", s);
    }
    if r.token.is_some() {
        o.display("TokenObjectId", r.user.id)
            .display("TokenTenantId", catalog::TENANT_ID);
    }
}

fn sid_of(r: &UalRec<'_>) -> String {
    let v = r.user.id.0;
    format!(
        "S-1-5-21-{}-{}-{}-{}",
        (v >> 96) as u32,
        (v >> 64) as u32,
        (v >> 32) as u32,
        1000 + r.user.index
    )
}

fn message_id(r: &UalRec<'_>, i: u32) -> String {
    let mut s = String::with_capacity(64);
    let _ = write!(
        s,
        "<CY4PR04MB{:08X}{:04X}@CY4PR04MB1234.namprd04.prod.outlook.com>",
        (r.id.0 >> 32) as u32,
        i
    );
    s
}

/// The UAL record itself (`AuditData`): what the Management Activity API returns, what JSON
/// exports hold, and what the Purview CSV quotes in its `AuditData` column.
pub(crate) fn audit_data(buf: &mut String, r: &UalRec<'_>) {
    let mut o = Obj::new(buf);
    let files = matches!(r.op, UalOp::File { .. });
    app_access_context(&mut o, r, files);
    o.str("CreationTime", &timefmt::ual(r.time))
        .display("Id", r.id)
        .str("Operation", operation(&r.op))
        .display("OrganizationId", catalog::TENANT_ID)
        .num("RecordType", i64::from(record_type(&r.op)));
    match &r.op {
        UalOp::MailItemsAccessed {
            access,
            count,
            client_info,
            folder,
        } => {
            o.str("ResultStatus", "Succeeded")
                .display("UserKey", r.user.id)
                .num("UserType", 0)
                .num("Version", 1)
                .str("Workload", "Exchange");
            exchange_common(&mut o, r, client_info);
            o.obj_array(
                "OperationProperties",
                &[("MailAccessType", *access), ("IsThrottled", "False")],
                |p, (n, v)| {
                    p.str("Name", n).str("Value", v);
                },
            );
            let items: Vec<u32> = if *access == "Bind" {
                (0..(*count).min(5)).collect()
            } else {
                Vec::new()
            };
            o.obj_array("Folders", &[*folder], |f, path| {
                if !items.is_empty() {
                    f.obj_array("FolderItems", &items, |it, i| {
                        it.str("InternetMessageId", &message_id(r, *i))
                            .num("SizeInBytes", 4_000 + i64::from(*i) * 731);
                    });
                }
                f.str(
                    "Id",
                    "LgAAAABxSjbeIoBUT6MlFIM9cqcFAQCxmw0Q8U/kQIyFE2Uk+mwoAAAAAAEMAAAB",
                )
                .str("Path", path);
            });
            o.num("OperationCount", i64::from(*count));
        }
        UalOp::ExchangeItem {
            client_info,
            subject,
            record_type,
            ..
        } => {
            o.str("ResultStatus", "Succeeded")
                .display("UserKey", r.user.id)
                .num("UserType", 0)
                .num("Version", 1)
                .str("Workload", "Exchange");
            exchange_common(&mut o, r, client_info);
            let item = |i: &mut Obj<'_>| {
                i.str(
                    "Id",
                    "RgAAAAAxSjbeIoBUT6MlFIM9cqcFBwCxmw0Q8U/kQIyFE2Uk+mwoAAAAAAEJAAAA",
                )
                .str("InternetMessageId", &message_id(r, 0))
                .obj("ParentFolder", |f| {
                    f.str(
                        "Id",
                        "LgAAAABxSjbeIoBUT6MlFIM9cqcFAQCxmw0Q8U/kQIyFE2Uk+mwoAAAAAAEJAAAB",
                    )
                    .str("Path", "\\Sent Items");
                })
                .num("SizeInBytes", 18_422)
                .str("Subject", subject);
            };
            if *record_type == 2 {
                o.obj("Item", item);
            } else {
                o.obj_array("AffectedItems", &[()], |i, _| item(i))
                    .obj("Folder", |f| {
                        f.str(
                            "Id",
                            "LgAAAABxSjbeIoBUT6MlFIM9cqcFAQCxmw0Q8U/kQIyFE2Uk+mwoAAAAAAEMAAAB",
                        )
                        .str("Path", "\\Inbox");
                    });
            }
        }
        UalOp::File {
            onedrive,
            file,
            managed,
            ..
        } => {
            let (site, workload) = if *onedrive {
                (
                    format!(
                        "https://contoso-my.sharepoint.com/personal/{}/",
                        r.user.upn.replace(['.', '@'], "_")
                    ),
                    "OneDrive",
                )
            } else {
                (
                    "https://contoso.sharepoint.com/sites/finance/".to_string(),
                    "SharePoint",
                )
            };
            let folder = if *onedrive {
                "Documents"
            } else {
                "Shared Documents"
            };
            let ext = file.rsplit('.').next().unwrap_or("");
            o.str("ResultStatus", "Succeeded")
                .str(
                    "UserKey",
                    &format!("i:0h.f|membership|{}@live.com", r.user.puid.to_lowercase()),
                )
                .num("UserType", 0)
                .num("Version", 1)
                .str("Workload", workload)
                .str("ClientIP", &ip_text(r))
                .str("ObjectId", &format!("{site}{folder}/{file}"))
                .str("UserId", &r.user.upn)
                .display("CorrelationId", r.id)
                .str("EventSource", "SharePoint")
                .str("ItemType", "File")
                .str("UserAgent", r.user_agent)
                .display("ApplicationId", r.app.id)
                .str("ApplicationDisplayName", r.app.name);
            if let Some(m) = managed {
                o.bool("IsManagedDevice", *m);
            }
            o.str("SiteUrl", &site)
                .str("SourceFileExtension", ext)
                .str("SourceFileName", file)
                .str("SourceRelativeUrl", folder);
        }
        UalOp::UserLoggedIn {
            device,
            session,
            user_agent,
        } => {
            let ip = ip_text(r);
            o.str("ResultStatus", "Success")
                .display("UserKey", r.user.id)
                .num("UserType", 0)
                .num("Version", 1)
                .str("Workload", "AzureActiveDirectory")
                .str("ClientIP", &ip)
                .display("ObjectId", r.resource.id)
                .str("UserId", &r.user.upn)
                .num("AzureActiveDirectoryEventType", 1)
                .obj_array(
                    "ExtendedProperties",
                    &[
                        ("ResultStatusDetail", "Redirect"),
                        ("UserAgent", *user_agent),
                        ("RequestType", "OAuth2:Authorize"),
                    ],
                    |p, (n, v)| {
                        p.str("Name", n).str("Value", v);
                    },
                )
                .raw("ModifiedProperties", "[]")
                .obj_array("Actor", &[0u8, 5u8], |a, t| {
                    if *t == 0 {
                        a.display("ID", r.user.id);
                    } else {
                        a.str("ID", &r.user.upn);
                    }
                    a.num("Type", i64::from(*t));
                })
                .display("ActorContextId", catalog::TENANT_ID)
                .str("ActorIpAddress", &ip)
                .display("InterSystemsId", r.id)
                .display("IntraSystemId", r.id)
                .str("SupportTicketId", "")
                .obj_array("Target", &[r.resource], |t, app: &App| {
                    t.display("ID", app.id).num("Type", 0);
                })
                .display("TargetContextId", catalog::TENANT_ID)
                .display("ApplicationId", r.app.id);
            let mut props: Vec<(&str, String)> = Vec::with_capacity(8);
            if let Some(d) = device {
                props.push(("Id", opt_guid(d.id)));
                if !d.name.is_empty() {
                    props.push(("DisplayName", d.name.clone()));
                }
                props.push(("OS", d.os.to_string()));
                props.push(("BrowserType", d.browser.to_string()));
                if d.id.is_some() {
                    let yes_no = |b: bool| if b { "True" } else { "False" }.to_string();
                    props.push(("IsCompliant", yes_no(d.compliant)));
                    props.push(("IsCompliantAndManaged", yes_no(d.compliant && d.managed)));
                }
            }
            props.push(("SessionId", session.to_string()));
            o.obj_array("DeviceProperties", &props, |p, (n, v)| {
                p.str("Name", n).str("Value", v);
            })
            .str("ErrorNumber", "0");
        }
    }
    o.end();
}
