//! Defender XDR's copies of the logs: advanced hunting rows of `EntraIdSignInEvents`,
//! `EntraIdSpnSignInEvents` and `GraphApiAuditEvents`, and Streaming API records.
//!
//! Columns as the advanced hunting schema reference names them (`MicrosoftDocs/defender-docs`,
//! `defender-xdr/advanced-hunting-entraidsigninevents-table.md`,
//! `advanced-hunting-entraidspnsigninevents-table.md`,
//! `advanced-hunting-graphapiauditevents-table.md`, `advanced-hunting-cloudappevents-table.md`);
//! `LogonType` as the JSON-array text those tables hold (`["interactiveUser"]`, as queries
//! against them match it). The advanced hunting API answers `{"Schema":[...],"Results":[...]}`
//! (`defender-xdr/api-advanced-hunting.md`); the Streaming API writes one record per line to a
//! storage account, `{"time","tenantId","operationName":"Publish","category":
//! "AdvancedHunting-<table>","properties":{<row>}}` (`defender-xdr/streaming-api-storage.md`),
//! with `CloudAppEvents.RawEventData` (the UAL record) nested in `properties`.
//!
//! What these tables do not have, the files do not have: no ASN, no incoming token type, no
//! authentication protocol or transfer method, no client credential type on sign-ins; no
//! session, device or token issue time on Graph calls.

use tokentrail_model::SignInKind;

use crate::catalog;
use crate::json::Obj;
use crate::record::{Actor, GraphRec, SignInRec, UalOp, UalRec};
use crate::render;
use crate::timefmt;

/// The advanced hunting table a sign-in is a row of.
pub(crate) fn sign_in_table(kind: SignInKind) -> &'static str {
    match kind {
        SignInKind::ServicePrincipal | SignInKind::ManagedIdentity => "EntraIdSpnSignInEvents",
        _ => "EntraIdSignInEvents",
    }
}

/// The `Schema` of an advanced hunting API answer for `table`: the columns written below.
pub(crate) fn schema(table: &str) -> &'static [(&'static str, &'static str)] {
    match table {
        "EntraIdSpnSignInEvents" => &[
            ("Timestamp", "DateTime"),
            ("Application", "String"),
            ("ApplicationId", "String"),
            ("IsManagedIdentity", "Boolean"),
            ("ErrorCode", "Int32"),
            ("CorrelationId", "String"),
            ("ServicePrincipalName", "String"),
            ("ServicePrincipalId", "String"),
            ("ResourceDisplayName", "String"),
            ("ResourceId", "String"),
            ("ResourceTenantId", "String"),
            ("IPAddress", "String"),
            ("Country", "String"),
            ("State", "String"),
            ("City", "String"),
            ("Latitude", "String"),
            ("Longitude", "String"),
            ("RequestId", "String"),
            ("ReportId", "String"),
        ],
        "GraphApiAuditEvents" => &[
            ("Timestamp", "DateTime"),
            ("ApiVersion", "String"),
            ("ApplicationId", "String"),
            ("IPAddress", "String"),
            ("ClientRequestId", "String"),
            ("RequestUri", "String"),
            ("AccountObjectId", "String"),
            ("OperationId", "String"),
            ("Location", "String"),
            ("RequestDuration", "String"),
            ("RequestId", "String"),
            ("RequestMethod", "String"),
            ("ResponseStatusCode", "String"),
            ("Scopes", "String"),
            ("UniqueTokenIdentifier", "String"),
            ("ServicePrincipalId", "String"),
            ("ResponseSize", "Int32"),
            ("IdentityProvider", "String"),
        ],
        _ => &[
            ("Timestamp", "DateTime"),
            ("Application", "String"),
            ("ApplicationId", "String"),
            ("LogonType", "String"),
            ("ErrorCode", "Int32"),
            ("CorrelationId", "String"),
            ("SessionId", "String"),
            ("AccountDisplayName", "String"),
            ("AccountObjectId", "String"),
            ("AccountUpn", "String"),
            ("IsExternalUser", "Int32"),
            ("IsGuestUser", "Boolean"),
            ("ResourceDisplayName", "String"),
            ("ResourceId", "String"),
            ("ResourceTenantId", "String"),
            ("DeviceName", "String"),
            ("EntraIdDeviceId", "String"),
            ("OSPlatform", "String"),
            ("DeviceTrustType", "String"),
            ("IsManaged", "Int32"),
            ("IsCompliant", "Int32"),
            ("AuthenticationRequirement", "String"),
            ("TokenIssuerType", "Int32"),
            ("UserAgent", "String"),
            ("ClientAppUsed", "String"),
            ("Browser", "String"),
            ("ConditionalAccessStatus", "Int32"),
            ("IPAddress", "String"),
            ("Country", "String"),
            ("State", "String"),
            ("City", "String"),
            ("Latitude", "String"),
            ("Longitude", "String"),
            ("RequestId", "String"),
            ("ReportId", "String"),
            ("IsThroughGlobalSecureAccess", "Boolean"),
            ("UniqueTokenId", "String"),
        ],
    }
}

/// The head of an advanced hunting API answer for `table`, up to the `Results` array.
pub(crate) fn hunting_head(table: &str) -> String {
    let mut head = String::from("{\"Schema\":[");
    for (i, (name, kind)) in schema(table).iter().enumerate() {
        if i > 0 {
            head.push(',');
        }
        head.push_str(&format!("{{\"Name\":\"{name}\",\"Type\":\"{kind}\"}}"));
    }
    head.push_str("],\"Results\":[");
    head
}

/// `DeviceTrustType` for the `trustType` the sign-in logs write.
fn trust_type(trust: &str) -> &'static str {
    match trust {
        "Azure AD joined" => "AzureAd",
        "Hybrid Azure AD joined" => "ServerAd",
        "Azure AD registered" => "Workplace",
        _ => "",
    }
}

/// A sign-in as a row of its advanced hunting table.
pub(crate) fn sign_in_row(o: &mut Obj<'_>, r: &SignInRec<'_>) {
    let n = r.at.net;
    o.str("Timestamp", &timefmt::iso7(r.time))
        .str("Application", r.app.name)
        .display("ApplicationId", r.app.id);
    match r.actor {
        Actor::App(sp) => {
            o.bool("IsManagedIdentity", r.kind == SignInKind::ManagedIdentity)
                .num("ErrorCode", 0)
                .display("CorrelationId", r.correlation)
                .str("ServicePrincipalName", sp.app.name)
                .display("ServicePrincipalId", sp.object_id);
        }
        Actor::User(u) => {
            let logon = if r.kind == SignInKind::Interactive {
                "[\"interactiveUser\"]"
            } else {
                "[\"nonInteractiveUser\"]"
            };
            o.str("LogonType", logon)
                .num("ErrorCode", 0)
                .display("CorrelationId", r.correlation)
                .str(
                    "SessionId",
                    &r.session.map(|s| s.to_string()).unwrap_or_default(),
                )
                .str("AccountDisplayName", &u.name)
                .display("AccountObjectId", u.id)
                .str("AccountUpn", &u.upn)
                .num("IsExternalUser", 0)
                .bool("IsGuestUser", false);
        }
    }
    o.str("ResourceDisplayName", r.resource.name)
        .display("ResourceId", r.resource.id)
        .display("ResourceTenantId", catalog::TENANT_ID);
    if let Actor::User(_) = r.actor {
        let d = r.device;
        let registered = d.and_then(|d| d.id);
        o.str("DeviceName", d.map_or("", |d| d.name.as_str()))
            .str(
                "EntraIdDeviceId",
                &registered.map(|g| g.to_string()).unwrap_or_default(),
            )
            .str("OSPlatform", d.map_or("", |d| d.os))
            .str(
                "DeviceTrustType",
                d.and_then(|d| d.trust).map_or("", trust_type),
            )
            .num(
                "IsManaged",
                i64::from(registered.is_some() && d.is_some_and(|d| d.managed)),
            )
            .num(
                "IsCompliant",
                i64::from(registered.is_some() && d.is_some_and(|d| d.compliant)),
            )
            .str("AuthenticationRequirement", r.requirement)
            .num("TokenIssuerType", 0)
            .str("UserAgent", r.user_agent)
            .str("ClientAppUsed", r.client_app_used)
            .str("Browser", d.map_or("", |d| d.browser))
            .num("ConditionalAccessStatus", 2);
    }
    o.display("IPAddress", r.at.ip)
        .str("Country", n.country)
        .str("State", n.state)
        .str("City", n.city)
        .str("Latitude", &n.lat.to_string())
        .str("Longitude", &n.lon.to_string())
        .display("RequestId", r.id)
        .str("ReportId", &format!("{}-{}", r.id, r.time.secs()));
    if let Actor::User(_) = r.actor {
        o.bool("IsThroughGlobalSecureAccess", false)
            .str("UniqueTokenId", &r.id.to_uti());
    }
}

/// A Graph call as a `GraphApiAuditEvents` row.
pub(crate) fn graph_row(o: &mut Obj<'_>, r: &GraphRec<'_>) {
    let version = if r.uri.contains("/beta/") {
        "beta"
    } else {
        "v1.0"
    };
    o.str("Timestamp", &timefmt::iso7(r.time))
        .str("ApiVersion", version)
        .display("ApplicationId", r.app.id)
        .display("IPAddress", r.ip)
        .display("ClientRequestId", r.request_id)
        .str("RequestUri", &r.uri)
        .str(
            "AccountObjectId",
            &r.user.map(|u| u.id.to_string()).unwrap_or_default(),
        )
        .display("OperationId", r.request_id)
        .str("Location", "West US 2")
        .str("RequestDuration", &r.duration_ms.to_string())
        .display("RequestId", r.request_id)
        .str("RequestMethod", r.method)
        .str("ResponseStatusCode", &r.status.to_string())
        .str("Scopes", r.scopes)
        .str("UniqueTokenIdentifier", &r.token.token.to_uti())
        .str(
            "ServicePrincipalId",
            &r.principal
                .map(|p| p.object_id.to_string())
                .unwrap_or_default(),
        )
        .num("ResponseSize", i64::from(r.response_bytes))
        .str(
            "IdentityProvider",
            &format!("https://sts.windows.net/{}/", catalog::TENANT_ID),
        );
}

/// One Streaming API record: `properties` holds the row `row` writes.
pub(crate) fn stream_record(
    buf: &mut String,
    table: &str,
    time: tokentrail_model::Timestamp,
    row: impl FnOnce(&mut Obj<'_>),
) {
    let mut o = Obj::new(buf);
    o.str("time", &timefmt::iso7(time))
        .display("tenantId", catalog::TENANT_ID)
        .str("operationName", "Publish")
        .str("category", &format!("AdvancedHunting-{table}"))
        .str("_TimeReceivedBySvc", &timefmt::iso7(time))
        .obj("properties", row);
    o.end();
}

/// Defender for Cloud Apps' name and numeric id of the app a UAL record comes from (the
/// `Application` and `ApplicationId` of `CloudAppEvents`).
fn cloud_app(op: &UalOp<'_>) -> (&'static str, i64) {
    match op {
        UalOp::MailItemsAccessed { .. } | UalOp::ExchangeItem { .. } => {
            ("Microsoft Exchange Online", 20893)
        }
        UalOp::File { onedrive: true, .. } => ("Microsoft OneDrive for Business", 15600),
        UalOp::File { .. } => ("Microsoft SharePoint Online", 20892),
        UalOp::UserLoggedIn { .. } => ("Microsoft Azure", 12260),
    }
}

/// A UAL record as a `CloudAppEvents` row, its raw record in `RawEventData`.
pub(crate) fn cloud_app_event(o: &mut Obj<'_>, r: &UalRec<'_>) {
    let mut raw = String::with_capacity(2048);
    render::audit_data(&mut raw, r);
    let (application, id) = cloud_app(&r.op);
    o.str("Timestamp", &timefmt::iso7(r.time))
        .str("ActionType", render::operation(&r.op))
        .str("Application", application)
        .num("ApplicationId", id)
        .display("AccountObjectId", r.user.id)
        .display("AccountId", r.user.id)
        .str("AccountDisplayName", &r.user.name)
        .bool("IsAdminOperation", false)
        .display("IPAddress", r.ip)
        .bool("IsAnonymousProxy", false)
        .str("UserAgent", r.user_agent)
        .str("ActivityType", "Basic")
        .raw("ActivityObjects", "[]")
        .display("ReportId", r.id)
        .str("AccountType", "Regular")
        .bool("IsExternalUser", false)
        .bool("IsImpersonated", false)
        .raw("RawEventData", &raw)
        .raw("AdditionalFields", "{}");
}
