//! Exports written by Windows PowerShell: Microsoft Graph PowerShell SDK objects
//! (`Get-MgBetaAuditLogSignIn | ConvertTo-Json`), with `/Date(ms)/` times, their
//! `AdditionalProperties`, the type names `ConvertTo-Json` beyond its depth and `Export-Csv`
//! write for nested objects, and `Export-Csv`'s `#TYPE` line. Made-up ids, documentation
//! addresses.

mod common;

use std::net::IpAddr;
use std::sync::Arc;

use common::frame_default;
use tokentrail_ingest::frame::Container;
use tokentrail_ingest::{decode, CsvLayout, DecodeOptions, Decoded, DecodedRecord, Payload};
use tokentrail_model::{
    Device, Guid, Position, SessionId, SignIn, SignInKind, SourceRef, Timestamp, TokenId,
};

const SIGN_IN_ID: &str = "4d63c1c4-c95b-4d3c-8e0a-1271fd813e00";
const UTI: &str = "xMFjTVvJPE2OChJx_YE-AA";
const SESSION: &str = "6f0e3b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
const USER: &str = "9b2e7c41-5d3a-4f6e-8b1c-2a3d4e5f6a7b";
const OFFICE: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
const GRAPH: &str = "00000003-0000-0000-c000-000000000000";

fn src() -> SourceRef {
    SourceRef {
        file: Arc::from("signins.json"),
        position: Position::Index(0),
    }
}

fn json(text: &str) -> DecodedRecord {
    decode(
        Payload::Json(text.as_bytes()),
        src(),
        &DecodeOptions::default(),
    )
    .unwrap()
}

/// The first row under the header of CSV `text`, decoded.
fn csv_row(text: &str) -> DecodedRecord {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let rows: Vec<_> = reader.byte_records().map(Result::unwrap).collect();
    let layout = CsvLayout::new(&rows[0]);
    decode(
        Payload::Csv {
            layout: &layout,
            row: &rows[1],
        },
        src(),
        &DecodeOptions::default(),
    )
    .unwrap()
}

fn sign_in(d: &DecodedRecord) -> &SignIn {
    match &d.event {
        Decoded::SignIn(s) => s,
        other => panic!("not a sign-in: {other:?}"),
    }
}

fn ip(t: &str) -> Option<IpAddr> {
    Some(t.parse().unwrap())
}

/// What every sample below holds, whatever PowerShell did to the nested objects.
fn expected_base() -> SignIn {
    let mut e = SignIn::new(
        src(),
        SignInKind::Interactive,
        Timestamp::parse("2025-12-01T10:00:00.250Z").unwrap(),
    );
    e.id = Guid::parse(SIGN_IN_ID);
    e.user_id = Some(USER.into());
    e.upn = Some("avery@contoso.example".into());
    e.app_id = Some(OFFICE.into());
    e.app_name = Some("Microsoft Office".into());
    e.resource_id = Some(GRAPH.into());
    e.ip = ip("203.0.113.7");
    e.is_interactive = Some(true);
    e.token_id = TokenId::parse(UTI);
    e
}

/// The device the samples' detailed sign-ins name: Edge on a Windows PC Entra does not manage.
fn edge_on_windows() -> Device {
    Device {
        os: Some("Windows10".into()),
        browser: Some("Edge 120.0.0".into()),
        is_compliant: Some(false),
        is_managed: Some(false),
        ..Device::default()
    }
}

/// `Get-MgBetaAuditLogSignIn -All | ConvertTo-Json -Depth 10`: PascalCase members, times as
/// `\/Date(ms)\/`, and the sign-in's `sessionId` (which the SDK's model has no member for)
/// in `AdditionalProperties`.
#[test]
fn graph_sdk_sign_in_with_additional_properties() {
    let d = json(&format!(
        r#"{{
    "AppDisplayName":  "Microsoft Office",
    "AppId":  "{OFFICE}",
    "CreatedDateTime":  "\/Date(1764583200250)\/",
    "DeviceDetail":  {{
                         "Browser":  "Edge 120.0.0",
                         "DeviceId":  "",
                         "IsCompliant":  false,
                         "IsManaged":  false,
                         "OperatingSystem":  "Windows10",
                         "AdditionalProperties":  {{ "deviceId": "not read" }}
                     }},
    "Id":  "{SIGN_IN_ID}",
    "IPAddress":  "203.0.113.7",
    "IsInteractive":  true,
    "Location":  {{ "City":  "Lyon", "CountryOrRegion":  "FR" }},
    "ResourceId":  "{GRAPH}",
    "SignInEventTypes":  [ "interactiveUser" ],
    "Status":  {{ "AdditionalDetails":  null, "ErrorCode":  50140, "FailureReason":  "x" }},
    "UniqueTokenIdentifier":  "{UTI}",
    "UserId":  "{USER}",
    "UserPrincipalName":  "avery@contoso.example",
    "AdditionalProperties":  {{
                                 "sessionId":  "{SESSION}",
                                 "appId":  "00000000-1111-2222-3333-444444444444",
                                 "autonomousSystemNumber":  64500,
                                 "status":  {{ "errorCode": 0 }}
                             }}
}}"#
    ));
    let mut e = expected_base();
    e.session_id = SessionId::parse(SESSION);
    // The typed members win over `AdditionalProperties`; what only it has counts.
    e.asn = Some(64500);
    e.error_code = Some(50140);
    e.country = Some("FR".into());
    e.device = edge_on_windows();
    assert_eq!(sign_in(&d), &e);
}

/// `Get-MgBetaAuditLogSignIn | ConvertTo-Json` with its default depth, or nested objects
/// that PowerShell wrote as their type's name: the status, place, device, event types and
/// additional properties are not known, and none of them is read as a value.
#[test]
fn type_names_in_place_of_nested_objects_are_absent() {
    let d = json(&format!(
        r#"{{
    "AppDisplayName":  "Microsoft Office",
    "AppId":  "{OFFICE}",
    "CreatedDateTime":  "\/Date(1764583200250+0100)\/",
    "DeviceDetail":  "Microsoft.Graph.Beta.PowerShell.Models.MicrosoftGraphDeviceDetail",
    "Id":  "{SIGN_IN_ID}",
    "IPAddress":  "203.0.113.7",
    "IsInteractive":  true,
    "Location":  "Microsoft.Graph.PowerShell.Models.MicrosoftGraphSignInLocation",
    "ResourceId":  "{GRAPH}",
    "SignInEventTypes":  "System.String[]",
    "Status":  "Microsoft.Graph.PowerShell.Models.MicrosoftGraphSignInStatus",
    "UniqueTokenIdentifier":  "{UTI}",
    "UserId":  "{USER}",
    "UserPrincipalName":  "avery@contoso.example",
    "AdditionalProperties":  "System.Collections.Hashtable"
}}"#
    ));
    // No status is not a status text: the error code is unknown (the engine takes an
    // unlogged code as success, as for every export without one).
    assert_eq!(sign_in(&d), &expected_base());
}

/// `Get-MgBetaAuditLogSignIn | Export-Csv` in Windows PowerShell 5.1: the `#TYPE` line, the
/// header, times in the locale's text and nested objects as type names.
#[test]
fn export_csv_of_sdk_objects() {
    let text = format!(
        "#TYPE Microsoft.Graph.Beta.PowerShell.Models.MicrosoftGraphSignIn\r\n\
\"AppDisplayName\",\"AppId\",\"CreatedDateTime\",\"DeviceDetail\",\"Id\",\"IPAddress\",\"IsInteractive\",\"Location\",\"ResourceId\",\"SignInEventTypes\",\"Status\",\"UniqueTokenIdentifier\",\"UserId\",\"UserPrincipalName\",\"AdditionalProperties\"\r\n\
\"Microsoft Office\",\"{OFFICE}\",\"12/1/2025 10:00:00.250 AM\",\"Microsoft.Graph.Beta.PowerShell.Models.MicrosoftGraphDeviceDetail\",\"{SIGN_IN_ID}\",\"203.0.113.7\",\"True\",\"Microsoft.Graph.Beta.PowerShell.Models.MicrosoftGraphSignInLocation\",\"{GRAPH}\",\"System.String[]\",\"Microsoft.Graph.Beta.PowerShell.Models.MicrosoftGraphSignInStatus\",\"{UTI}\",\"{USER}\",\"avery@contoso.example\",\"System.Collections.Generic.Dictionary`2[System.String,System.Object]\"\r\n"
    );
    let framed = frame_default(text.as_bytes());
    assert_eq!(framed.container, Container::Csv);
    assert_eq!(framed.error, None);
    // The row is on line 3: the `#TYPE` line counts.
    assert_eq!(framed.items.len(), 1);
    assert_eq!(framed.items[0].0, Position::Line(3));

    let d = csv_row(text.split_once('\n').unwrap().1);
    assert_eq!(sign_in(&d), &expected_base());
}

/// `Export-Csv` of sign-ins that came from `Invoke-MgGraphRequest` or `ConvertFrom-Json`
/// (what IR scripts hand on): nested objects flattened to `@{key=value; ...}`, each read as
/// the object it was, so a failed sign-in stays failed and its place and device are kept.
#[test]
fn export_csv_of_objects_flattened_by_powershell() {
    let text = format!(
        "\"id\",\"createdDateTime\",\"userId\",\"userPrincipalName\",\"appId\",\"appDisplayName\",\"resourceId\",\"ipAddress\",\"isInteractive\",\"status\",\"deviceDetail\",\"location\",\"uniqueTokenIdentifier\"\r\n\
\"{SIGN_IN_ID}\",\"2025-12-01T10:00:00.250Z\",\"{USER}\",\"avery@contoso.example\",\"{OFFICE}\",\"Microsoft Office\",\"{GRAPH}\",\"203.0.113.7\",\"True\",\"@{{errorCode=50126; failureReason=Error validating credentials due to invalid username or password.; additionalDetails=}}\",\"@{{deviceId=; displayName=; operatingSystem=Windows10; browser=Edge 120.0.0; isCompliant=False; isManaged=False; trustType=}}\",\"@{{city=Lyon; state=Auvergne-Rhone-Alpes; countryOrRegion=FR; geoCoordinates=@{{altitude=; latitude=45.75; longitude=4.85}}}}\",\"{UTI}\"\r\n"
    );
    let d = csv_row(&text);
    let mut e = expected_base();
    e.error_code = Some(50126);
    e.country = Some("FR".into());
    e.device = edge_on_windows();
    assert_eq!(sign_in(&d), &e);
    assert!(!sign_in(&d).succeeded());
}
