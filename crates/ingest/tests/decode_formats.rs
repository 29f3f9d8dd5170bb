//! One sample per export shape, written for these tests (made-up ids, documentation IP
//! ranges), decoded and compared field by field with the whole expected event.

use std::net::IpAddr;
use std::sync::Arc;

use tokentrail_ingest::{
    decode, CsvLayout, DecodeError, DecodeOptions, Decoded, DecodedRecord, Disposition, Family,
    MailboxChange, OtherRecord, Payload, Shape,
};
use tokentrail_model::{
    Access, AccessSource, Actor, ClientAuthMethod, Device, Guid, Position, SessionId, SignIn,
    SignInKind, SourceRef, Timestamp, TokenId, Workload,
};

/// The sign-in whose token id is `xMFjTVvJPE2OChJx_YE-AA` (issue 2's test vector).
const SIGN_IN_ID: &str = "4d63c1c4-c95b-4d3c-8e0a-1271fd813e00";
const UTI: &str = "xMFjTVvJPE2OChJx_YE-AA";
const SESSION: &str = "6f0e3b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
const USER: &str = "9b2e7c41-5d3a-4f6e-8b1c-2a3d4e5f6a7b";
const OFFICE: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
const EXCHANGE: &str = "00000002-0000-0ff1-ce00-000000000000";
const GRAPH: &str = "00000003-0000-0000-c000-000000000000";

fn src() -> SourceRef {
    SourceRef {
        file: Arc::from("sample.json"),
        position: Position::Line(7),
    }
}

fn ts(t: &str) -> Timestamp {
    Timestamp::parse(t).unwrap()
}

fn ip(t: &str) -> Option<IpAddr> {
    Some(t.parse().unwrap())
}

fn s(t: &str) -> Option<String> {
    Some(t.to_owned())
}

fn guid(t: &str) -> Option<Guid> {
    Some(Guid::parse(t).unwrap())
}

fn json(text: &str) -> Result<DecodedRecord, DecodeError> {
    decode(
        Payload::Json(text.as_bytes()),
        src(),
        &DecodeOptions::default(),
    )
}

fn json_ok(text: &str) -> DecodedRecord {
    json(text).unwrap()
}

fn csv_rows(text: &str) -> Vec<Result<DecodedRecord, DecodeError>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = reader.byte_records().map(Result::unwrap);
    let header = rows.next().unwrap();
    let layout = CsvLayout::new(&header);
    rows.map(|row| {
        decode(
            Payload::Csv {
                layout: &layout,
                row: &row,
            },
            src(),
            &DecodeOptions::default(),
        )
    })
    .collect()
}

fn sign_in(d: &DecodedRecord) -> &SignIn {
    match &d.event {
        Decoded::SignIn(s) => s,
        other => panic!("expected a sign-in, got {other:?}"),
    }
}

fn access(d: &DecodedRecord) -> &Access {
    match &d.event {
        Decoded::Access(a) => a,
        other => panic!("expected an access, got {other:?}"),
    }
}

#[test]
fn graph_sign_in_object() {
    let d = json_ok(
        r#"{
        "id": "4d63c1c4-c95b-4d3c-8e0a-1271fd813e00",
        "createdDateTime": "2024-03-05T10:15:30Z",
        "userDisplayName": "Avery Example",
        "userPrincipalName": "avery@contoso.example",
        "userId": "9B2E7C41-5D3A-4F6E-8B1C-2A3D4E5F6A7B",
        "appId": "D3590ED6-52B3-4102-AEFF-AAD2292AB01C",
        "appDisplayName": "Microsoft Office",
        "ipAddress": "2001:db8::17",
        "clientAppUsed": "Browser",
        "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        "correlationId": "0a1b2c3d-0000-4000-8000-000000000001",
        "originalRequestId": "4d63c1c4-c95b-4d3c-8e0a-1271fd813e00",
        "authenticationProtocol": "deviceCode",
        "originalTransferMethod": "deviceCodeFlow",
        "incomingTokenType": "Primary Refresh Token",
        "isInteractive": true,
        "signInEventTypes": ["interactiveUser"],
        "resourceDisplayName": "Office 365 Exchange Online",
        "resourceId": "00000002-0000-0ff1-ce00-000000000000",
        "authenticationRequirement": "multiFactorAuthentication",
        "clientCredentialType": "none",
        "uniqueTokenIdentifier": "xMFjTVvJPE2OChJx_YE-AA",
        "sessionId": "6f0e3b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        "servicePrincipalId": "",
        "autonomousSystemNumber": 64500,
        "status": {"errorCode": 0, "failureReason": "Other."},
        "deviceDetail": {"deviceId": "", "displayName": "", "operatingSystem": "Windows 10",
                         "browser": "Edge 122.0.0", "isCompliant": false, "isManaged": false,
                         "trustType": ""},
        "location": {"city": "Lyon", "countryOrRegion": "FR", "geoCoordinates": {}},
        "tokenProtectionStatusDetails": {"signInSessionStatus": "unbound",
                                         "signInSessionStatusCode": 1002},
        "appliedConditionalAccessPolicies": [{"id": "x", "result": "success"}]
    }"#,
    );
    assert_eq!(d.shape, Shape::GraphSignIn);
    assert_eq!(d.family(), Family::SignIns);
    let mut e = SignIn::new(src(), SignInKind::Interactive, ts("2024-03-05T10:15:30Z"));
    e.id = guid(SIGN_IN_ID);
    e.user_id = s(USER);
    e.upn = s("avery@contoso.example");
    e.app_id = s(OFFICE);
    e.app_name = s("Microsoft Office");
    e.resource_id = s(EXCHANGE);
    e.resource_name = s("Office 365 Exchange Online");
    e.ip = ip("2001:db8::17");
    e.asn = Some(64500);
    e.country = s("FR");
    e.device = Device {
        os: s("Windows 10"),
        browser: s("Edge 122.0.0"),
        is_compliant: Some(false),
        is_managed: Some(false),
        ..Device::default()
    };
    e.error_code = Some(0);
    e.is_interactive = Some(true);
    e.incoming_token_type = s("primaryRefreshToken");
    e.auth_protocol = s("deviceCode");
    e.transfer_method = s("deviceCodeFlow");
    e.auth_requirement = s("multiFactorAuthentication");
    e.client_credential_type = s("none");
    e.token_protection = s("unbound");
    e.token_id = TokenId::parse(UTI);
    e.session_id = SessionId::parse(SESSION);
    e.original_request_id = guid(SIGN_IN_ID);
    e.correlation_id = s("0a1b2c3d-0000-4000-8000-000000000001");
    e.user_agent = s("Mozilla/5.0 (Windows NT 10.0; Win64; x64)");
    assert_eq!(sign_in(&d), &e);
    // The token id decodes to the sign-in's own id.
    assert_eq!(e.token_id, Some(TokenId::from_guid(e.id.unwrap())));
}

/// Log Analytics `AADNonInteractiveUserSignInLogs`: nested fields and numbers as strings.
#[test]
fn log_analytics_non_interactive_row_with_json_strings() {
    let d = json_ok(
        r#"{
        "TenantId": "11111111-2222-4333-8444-555555555555",
        "TimeGenerated": "2024-03-05T10:20:00.1234567Z",
        "ResourceId": "/tenants/11111111-2222-4333-8444-555555555555/providers/Microsoft.aadiam",
        "OperationName": "Sign-in activity",
        "Category": "NonInteractiveUserSignInLogs",
        "ResultType": "50140",
        "Level": "4",
        "Location": "FR",
        "AppDisplayName": "Microsoft Office",
        "AppId": "d3590ed6-52b3-4102-aeff-aad2292ab01c",
        "AutonomousSystemNumber": "64501",
        "CreatedDateTime": "2024-03-05T10:19:58.5Z",
        "DeviceDetail": "{\"deviceId\":\"e1f2a3b4-0000-4000-8000-00000000d001\",\"displayName\":\"LAPTOP-42\",\"operatingSystem\":\"Windows10\",\"browser\":\"Rich Client 5.2\",\"isCompliant\":true,\"isManaged\":true,\"trustType\":\"Azure AD joined\"}",
        "Status": "{\"errorCode\":50140,\"failureReason\":\"Keep me signed in interrupt\"}",
        "LocationDetails": "{\"city\":\"Lyon\",\"countryOrRegion\":\"FR\"}",
        "TokenProtectionStatusDetails": "{\"signInSessionStatus\":\"bound\"}",
        "ConditionalAccessPolicies": "[{\"id\":\"p1\",\"result\":\"success\"}]",
        "IncomingTokenType": "refreshToken",
        "IPAddress": "198.51.100.23",
        "IsInteractive": "False",
        "Id": "8e0a1b2c-3d4e-4f5a-9b6c-7d8e9f0a1b2c",
        "OriginalRequestId": "8e0a1b2c-3d4e-4f5a-9b6c-7d8e9f0a1b2c",
        "ResourceDisplayName": "Office 365 Exchange Online",
        "ResourceIdentity": "00000002-0000-0ff1-ce00-000000000000",
        "ServicePrincipalId": "",
        "UniqueTokenIdentifier": "LBsKjk49Wk-bbH2OnwobLA",
        "UserId": "9b2e7c41-5d3a-4f6e-8b1c-2a3d4e5f6a7b",
        "UserPrincipalName": "avery@contoso.example",
        "SessionId": "6f0e3b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        "UserAgent": "Microsoft Office/16.0",
        "AuthenticationProtocol": "none",
        "CorrelationId": "0a1b2c3d-0000-4000-8000-000000000002",
        "Type": "AADNonInteractiveUserSignInLogs"
    }"#,
    );
    assert_eq!(d.shape, Shape::LogAnalyticsSignIn);
    let mut e = SignIn::new(
        src(),
        SignInKind::NonInteractive,
        ts("2024-03-05T10:19:58.5Z"),
    );
    e.id = guid("8e0a1b2c-3d4e-4f5a-9b6c-7d8e9f0a1b2c");
    e.user_id = s(USER);
    e.upn = s("avery@contoso.example");
    e.app_id = s(OFFICE);
    e.app_name = s("Microsoft Office");
    e.resource_id = s(EXCHANGE);
    e.resource_name = s("Office 365 Exchange Online");
    e.ip = ip("198.51.100.23");
    e.asn = Some(64501);
    e.country = s("FR");
    e.device = Device {
        id: s("e1f2a3b4-0000-4000-8000-00000000d001"),
        name: s("LAPTOP-42"),
        os: s("Windows10"),
        browser: s("Rich Client 5.2"),
        is_managed: Some(true),
        is_compliant: Some(true),
        trust_type: s("Azure AD joined"),
    };
    e.error_code = Some(50140);
    e.is_interactive = Some(false);
    e.incoming_token_type = s("refreshToken");
    e.auth_protocol = s("none");
    e.token_protection = s("bound");
    e.token_id = TokenId::parse("LBsKjk49Wk-bbH2OnwobLA");
    e.session_id = SessionId::parse(SESSION);
    e.original_request_id = guid("8e0a1b2c-3d4e-4f5a-9b6c-7d8e9f0a1b2c");
    e.correlation_id = s("0a1b2c3d-0000-4000-8000-000000000002");
    e.user_agent = s("Microsoft Office/16.0");
    assert_eq!(sign_in(&d), &e);
    assert_eq!(
        e.token_id.unwrap().to_string(),
        "8e0a1b2c-3d4e-4f5a-9b6c-7d8e9f0a1b2c"
    );
}

/// The table name alone decides the kind of service principal and managed identity rows.
#[test]
fn log_analytics_service_principal_and_managed_identity_rows() {
    let sp = json_ok(
        r#"{"TimeGenerated":"2024-03-05T11:00:00Z","CreatedDateTime":"2024-03-05T10:59:59Z",
            "Type":"AADServicePrincipalSignInLogs","AppId":"A1B2C3D4-0000-4000-8000-0000000000A1",
            "ServicePrincipalId":"B1B2C3D4-0000-4000-8000-0000000000B1",
            "ServicePrincipalName":"backup-job","IPAddress":"203.0.113.9","ResultType":0,
            "ClientCredentialType":"certificate",
            "UniqueTokenIdentifier":"MDg4YjQ0MDktOWU2My00MjVkLWI3NzctMmM4YzZjMzgwYjAw"}"#,
    );
    assert_eq!(sp.shape, Shape::LogAnalyticsSignIn);
    let mut e = SignIn::new(
        src(),
        SignInKind::ServicePrincipal,
        ts("2024-03-05T10:59:59Z"),
    );
    e.app_id = s("a1b2c3d4-0000-4000-8000-0000000000a1");
    e.service_principal_id = s("b1b2c3d4-0000-4000-8000-0000000000b1");
    e.service_principal_name = s("backup-job");
    e.ip = ip("203.0.113.9");
    e.error_code = Some(0);
    e.client_credential_type = s("certificate");
    e.token_id = TokenId::parse("088b4409-9e63-425d-b777-2c8c6c380b00");
    assert_eq!(sign_in(&sp), &e);

    let mi = json_ok(
        r#"{"TimeGenerated":"2024-03-05T11:00:00Z","CreatedDateTime":"2024-03-05T10:58:00Z",
            "Type":"AADManagedIdentitySignInLogs","ServicePrincipalId":"c1c2c3c4-0000-4000-8000-0000000000c1",
            "ResultType":"0","IPAddress":"203.0.113.10:443"}"#,
    );
    let mut e = SignIn::new(
        src(),
        SignInKind::ManagedIdentity,
        ts("2024-03-05T10:58:00Z"),
    );
    e.service_principal_id = s("c1c2c3c4-0000-4000-8000-0000000000c1");
    e.ip = ip("203.0.113.10");
    e.error_code = Some(0);
    assert_eq!(sign_in(&mi), &e);
}

/// Diagnostic settings: the envelope's category decides the kind; `properties` holds the row.
#[test]
fn diagnostic_settings_sign_in_records() {
    let d = json_ok(
        r#"{"time":"2024-03-05T10:16:00Z","category":"SignInLogs","operationName":"Sign-in activity",
            "resultType":"0","callerIpAddress":"192.0.2.44","correlationId":"corr-env","Level":"4",
            "location":"DE",
            "properties":{"id":"4d63c1c4-c95b-4d3c-8e0a-1271fd813e00",
              "createdDateTime":"2024-03-05T10:15:30.25+01:00","userId":"9b2e7c41-5d3a-4f6e-8b1c-2a3d4e5f6a7b",
              "appId":"d3590ed6-52b3-4102-aeff-aad2292ab01c","isInteractive":true,
              "status":{"errorCode":0},"uniqueTokenIdentifier":"xMFjTVvJPE2OChJx_YE-AA",
              "sessionId":"6f0e3b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}}"#,
    );
    assert_eq!(d.shape, Shape::DiagnosticSignIn);
    let mut e = SignIn::new(
        src(),
        SignInKind::Interactive,
        ts("2024-03-05T09:15:30.25Z"),
    );
    e.id = guid(SIGN_IN_ID);
    e.user_id = s(USER);
    e.app_id = s(OFFICE);
    // The envelope fills what the properties do not carry.
    e.ip = ip("192.0.2.44");
    e.country = s("DE");
    e.correlation_id = s("corr-env");
    e.error_code = Some(0);
    e.is_interactive = Some(true);
    e.token_id = TokenId::parse(UTI);
    e.session_id = SessionId::parse(SESSION);
    assert_eq!(sign_in(&d), &e);

    let kinds = [
        ("NonInteractiveUserSignInLogs", SignInKind::NonInteractive),
        ("ServicePrincipalSignInLogs", SignInKind::ServicePrincipal),
        (
            "MicrosoftServicePrincipalSignInLogs",
            SignInKind::ServicePrincipal,
        ),
        ("ManagedIdentitySignInLogs", SignInKind::ManagedIdentity),
    ];
    for (category, kind) in kinds {
        let text = format!(
            r#"{{"time":"2024-03-05T10:16:00Z","category":"{category}","Level":4,
                "properties":{{"createdDateTime":"2024-03-05T10:15:00Z","isInteractive":true}}}}"#
        );
        let d = json_ok(&text);
        assert_eq!(d.shape, Shape::DiagnosticSignIn);
        assert_eq!(sign_in(&d).kind, kind, "{category}");
        assert_eq!(sign_in(&d).time, ts("2024-03-05T10:15:00Z"));
    }
}

#[test]
fn log_analytics_graph_activity_row() {
    let d = json_ok(
        r#"{"TimeGenerated":"2024-03-05T10:30:00.5Z","RequestId":"aa11bb22-0000-4000-8000-000000000001",
            "RequestMethod":"get","RequestUri":"https://graph.microsoft.com/v1.0/me/mailFolders/inbox/messages?$top=50&$select=subject",
            "ResponseStatusCode":"200","AppId":"D3590ED6-52B3-4102-AEFF-AAD2292AB01C",
            "UserId":"9b2e7c41-5d3a-4f6e-8b1c-2a3d4e5f6a7b","ServicePrincipalId":"",
            "IPAddress":"198.51.100.77","UserAgent":"python-requests/2.31.0","ClientAuthMethod":0,
            "Scopes":"Mail.Read User.Read","Roles":"","SignInActivityId":"xMFjTVvJPE2OChJx_YE-AA",
            "SessionId":"6f0e3b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b","DeviceId":"e1f2a3b4-0000-4000-8000-00000000d001",
            "TokenIssuedAt":"2024-03-05T10:15:31Z","Type":"MicrosoftGraphActivityLogs"}"#,
    );
    assert_eq!(d.shape, Shape::LogAnalyticsGraphActivity);
    assert_eq!(d.family(), Family::GraphActivity);
    let mut e = Access::new(
        src(),
        AccessSource::GraphActivity,
        ts("2024-03-05T10:30:00.5Z"),
        "GET /v1.0/me/mailFolders/inbox/messages".into(),
    );
    e.record_id = s("aa11bb22-0000-4000-8000-000000000001");
    e.workload = Workload::Mail;
    e.actor = Actor::Delegated;
    e.user_id = s(USER);
    e.app_id = s(OFFICE);
    e.resource_id = s(GRAPH);
    e.ip = ip("198.51.100.77");
    e.user_agent = s("python-requests/2.31.0");
    e.client_auth_method = Some(ClientAuthMethod::PublicClient);
    e.device_id = s("e1f2a3b4-0000-4000-8000-00000000d001");
    e.session_id = SessionId::parse(SESSION);
    e.token_id = TokenId::parse(UTI);
    e.token_issued_at = Some(ts("2024-03-05T10:15:31Z"));
    e.object = s(
        "https://graph.microsoft.com/v1.0/me/mailFolders/inbox/messages?$top=50&$select=subject",
    );
    e.status_code = Some(200);
    e.scopes = s("Mail.Read User.Read");
    assert_eq!(access(&d), &e);
}

/// Diagnostic settings Graph activity: raw claims `C_*` in any case, `C_Iat` epoch seconds.
#[test]
fn diagnostic_graph_activity_with_claim_keys_in_any_case() {
    let d = json_ok(
        r#"{"time":"2024-03-05T10:31:00Z","category":"MicrosoftGraphActivityLogs",
            "callerIpAddress":"203.0.113.50","operationName":"Microsoft Graph Activity",
            "properties":{"timeGenerated":"2024-03-05T10:31:00Z","requestId":"aa11bb22-0000-4000-8000-000000000002",
              "requestMethod":"POST","requestUri":"https://graph.microsoft.com/beta/drives/b!xyz/items/01ABC/content",
              "responseStatusCode":201,"appId":"e5f6a7b8-0000-4000-8000-0000000000e5",
              "servicePrincipalId":"f5f6a7b8-0000-4000-8000-0000000000f5","userId":null,
              "clientAuthMethod":"2","roles":"Files.ReadWrite.All","scopes":null,
              "c_Sid":"","C_SID":"6f0e3b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b","c_deviceid":"dev-77",
              "C_iat":"1709633460","c_IDTYP":"app","signInActivityId":"placeholder-token"}}"#,
    );
    assert_eq!(d.shape, Shape::DiagnosticGraphActivity);
    let mut e = Access::new(
        src(),
        AccessSource::GraphActivity,
        ts("2024-03-05T10:31:00Z"),
        "POST /beta/drives/b!xyz/items/01ABC/content".into(),
    );
    e.record_id = s("aa11bb22-0000-4000-8000-000000000002");
    e.workload = Workload::Files;
    e.actor = Actor::AppOnly;
    e.service_principal_id = s("f5f6a7b8-0000-4000-8000-0000000000f5");
    e.app_id = s("e5f6a7b8-0000-4000-8000-0000000000e5");
    e.resource_id = s(GRAPH);
    e.ip = ip("203.0.113.50");
    e.client_auth_method = Some(ClientAuthMethod::Certificate);
    e.device_id = s("dev-77");
    e.session_id = SessionId::parse(SESSION);
    e.token_id = TokenId::parse("placeholder-token");
    e.token_issued_at = Some(Timestamp::from_secs(1_709_633_460));
    e.object = s("https://graph.microsoft.com/beta/drives/b!xyz/items/01ABC/content");
    e.status_code = Some(201);
    e.roles = s("Files.ReadWrite.All");
    assert_eq!(access(&d), &e);
    // A placeholder token id stays opaque, verbatim.
    assert_eq!(e.token_id.unwrap().to_string(), "placeholder-token");
}

const USER_LOGGED_IN: &str = r#"{"CreationTime":"2024-03-05T10:15:30","Id":"4d63c1c4-c95b-4d3c-8e0a-1271fd813e00",
    "Operation":"UserLoggedIn","OrganizationId":"11111111-2222-4333-8444-555555555555","RecordType":15,
    "ResultStatus":"Success","UserKey":"100320000000ABCD","UserType":0,"Version":1,
    "Workload":"AzureActiveDirectory","ClientIP":"[2001:db8::5]:51234","ObjectId":"00000002-0000-0ff1-ce00-000000000000",
    "UserId":"avery@contoso.example","AzureActiveDirectoryEventType":1,
    "ExtendedProperties":[{"Name":"ResultStatusDetail","Value":"Success"},
      {"Name":"UserAgent","Value":"Mozilla/5.0 (Macintosh)"},{"Name":"RequestType","Value":"OAuth2:Token"}],
    "Actor":[{"ID":"9B2E7C41-5D3A-4F6E-8B1C-2A3D4E5F6A7B","Type":0},{"ID":"avery@contoso.example","Type":5}],
    "ApplicationId":"D3590ED6-52B3-4102-AEFF-AAD2292AB01C","InterSystemsId":"corr-77",
    "IntraSystemId":"4d63c1c4-c95b-4d3c-8e0a-1271fd813e00",
    "DeviceProperties":[{"Name":"Id","Value":"e1f2a3b4-0000-4000-8000-00000000d001"},{"Name":"DisplayName","Value":"MAC-7"},
      {"Name":"OS","Value":"MacOs"},{"Name":"BrowserType","Value":"Safari"},{"Name":"IsCompliant","Value":"False"},
      {"Name":"IsCompliantAndManaged","Value":"False"},{"Name":"TrustType","Value":"Azure AD registered"},
      {"Name":"SessionId","Value":"6f0e3b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}],
    "ErrorNumber":"0"}"#;

const MAIL_ITEMS_ACCESSED: &str = r#"{"AppAccessContext":{"AADSessionId":"6f0e3b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
      "APIId":"00000003-0000-0000-C000-000000000000","ClientAppId":"E5F6A7B8-0000-4000-8000-0000000000E5",
      "ClientAppName":"Mail Helper","IssuedAtTime":"2024-03-05T10:15:31","UniqueTokenId":"xMFjTVvJPE2OChJx_YE-AA",
      "CorrelationId":"corr-1"},
    "CreationTime":"2024-03-05T10:40:00","Id":"5a5b5c5d-0000-4000-8000-000000000050","Operation":"MailItemsAccessed",
    "OrganizationId":"11111111-2222-4333-8444-555555555555","RecordType":50,"ResultStatus":"Succeeded",
    "UserKey":"100320000000ABCD","UserType":0,"Version":1,"Workload":"Exchange","UserId":"avery@contoso.example",
    "AppId":"00000002-0000-0ff1-ce00-000000000000","ClientAppId":"ignored-when-context-has-one",
    "ClientIPAddress":"198.51.100.30:41002","ClientInfoString":"Client=REST;Client=RESTSystem;;",
    "ExternalAccess":false,"LogonType":0,"MailboxOwnerUPN":"avery@contoso.example",
    "OperationProperties":[{"Name":"MailAccessType","Value":"Sync"},{"Name":"IsThrottled","Value":"False"}],
    "SessionId":"other-session","TokenObjectId":"9B2E7C41-5D3A-4F6E-8B1C-2A3D4E5F6A7B",
    "TokenTenantId":"11111111-2222-4333-8444-555555555555","DeviceId":"e1f2a3b4-0000-4000-8000-00000000d001",
    "Folders":[{"FolderItems":[{"Id":"A1"},{"Id":"A2"}],"Path":"\\Inbox"}],"OperationCount":12}"#;

fn expected_mail_access() -> Access {
    let mut e = Access::new(
        src(),
        AccessSource::ExchangeAudit,
        ts("2024-03-05T10:40:00Z"),
        "MailItemsAccessed".into(),
    );
    e.record_id = s("5a5b5c5d-0000-4000-8000-000000000050");
    e.workload = Workload::Mail;
    e.actor = Actor::Delegated;
    e.user_id = s(USER);
    e.upn = s("avery@contoso.example");
    e.app_id = s("e5f6a7b8-0000-4000-8000-0000000000e5");
    e.app_name = s("Mail Helper");
    e.resource_id = s(GRAPH);
    e.ip = ip("198.51.100.30");
    e.user_agent = s("Client=REST;Client=RESTSystem;;");
    e.device_id = s("e1f2a3b4-0000-4000-8000-00000000d001");
    e.session_id = SessionId::parse(SESSION);
    e.token_id = TokenId::parse(UTI);
    e.token_issued_at = Some(ts("2024-03-05T10:15:31Z"));
    e.object = s("avery@contoso.example");
    e.count = 12;
    e.mail_access_type = s("Sync");
    e
}

/// Management Activity API record; its token id decodes to the `Id` of the user's
/// `UserLoggedIn`, which decodes to a UAL-logon sign-in.
#[test]
fn ual_mail_items_accessed_links_to_user_logged_in() {
    let d = json_ok(MAIL_ITEMS_ACCESSED);
    assert_eq!(d.shape, Shape::UalRecord);
    assert_eq!(d.family(), Family::UnifiedAudit);
    assert_eq!(access(&d), &expected_mail_access());

    let logon = json_ok(USER_LOGGED_IN);
    assert_eq!(logon.shape, Shape::UalRecord);
    assert_eq!(logon.family(), Family::SignIns);
    let mut e = SignIn::new(src(), SignInKind::UalLogon, ts("2024-03-05T10:15:30Z"));
    e.id = guid(SIGN_IN_ID);
    e.user_id = s(USER);
    e.upn = s("avery@contoso.example");
    e.app_id = s(OFFICE);
    e.resource_id = s(EXCHANGE);
    e.ip = ip("2001:db8::5");
    e.device = Device {
        id: s("e1f2a3b4-0000-4000-8000-00000000d001"),
        name: s("MAC-7"),
        os: s("MacOs"),
        browser: s("Safari"),
        is_managed: None,
        is_compliant: Some(false),
        trust_type: s("Azure AD registered"),
    };
    e.error_code = Some(0);
    e.session_id = SessionId::parse(SESSION);
    e.original_request_id = guid(SIGN_IN_ID);
    e.correlation_id = s("corr-77");
    e.user_agent = s("Mozilla/5.0 (Macintosh)");
    assert_eq!(sign_in(&logon), &e);
    assert_eq!(access(&d).token_id, sign_in(&logon).issued_token());
}

/// SharePoint with `AppAccessContext: {}`; OneDrive with a placeholder token id.
#[test]
fn ual_sharepoint_and_onedrive_records() {
    let d = json_ok(
        r#"{"AppAccessContext":{},"CreationTime":"2024-03-05T11:00:01","Id":"6a6b6c6d-0000-4000-8000-000000000006",
            "Operation":"FileDownloaded","RecordType":6,"UserKey":"i:0h.f|membership|100320000000abcd@live.com",
            "UserType":0,"Workload":"SharePoint","ClientIP":"192.0.2.200","ObjectId":"https://contoso.sharepoint.com/sites/fin/Shared Documents/q1.xlsx",
            "UserId":"avery@contoso.example","ApplicationId":"1FEC8E78-BCE4-4AAF-AB1B-5451CC387264",
            "ApplicationDisplayName":"Microsoft Teams","IsManagedDevice":false,"UserAgent":"Mozilla/5.0 Teams",
            "SiteUrl":"https://contoso.sharepoint.com/sites/fin/","SourceFileName":"q1.xlsx"}"#,
    );
    let mut e = Access::new(
        src(),
        AccessSource::SharePointAudit,
        ts("2024-03-05T11:00:01Z"),
        "FileDownloaded".into(),
    );
    e.record_id = s("6a6b6c6d-0000-4000-8000-000000000006");
    e.workload = Workload::Files;
    e.actor = Actor::Delegated;
    e.upn = s("avery@contoso.example");
    e.app_id = s("1fec8e78-bce4-4aaf-ab1b-5451cc387264");
    e.app_name = s("Microsoft Teams");
    e.ip = ip("192.0.2.200");
    e.user_agent = s("Mozilla/5.0 Teams");
    e.is_managed_device = Some(false);
    e.object = s("https://contoso.sharepoint.com/sites/fin/Shared Documents/q1.xlsx");
    assert_eq!(access(&d), &e);

    let d = json_ok(
        r#"{"AppAccessContext":{"AADSessionId":"6f0e3b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b","UniqueTokenId":"0000000000000000000000",
              "TokenIssuedAtTime":"2024-03-05T10:15:31"},
            "CreationTime":"2024-03-05T11:02:00","Id":"7a7b7c7d-0000-4000-8000-000000000007","Operation":"FileAccessed",
            "RecordType":7,"UserType":"0","Workload":"OneDrive","ClientIP":"192.0.2.201",
            "UserId":"avery@contoso.example","UserKey":"9b2e7c41-5d3a-4f6e-8b1c-2a3d4e5f6a7b",
            "SourceFileName":"notes.docx","SiteUrl":"https://contoso-my.sharepoint.com/personal/avery/"}"#,
    );
    let a = access(&d);
    let mut e = Access::new(
        src(),
        AccessSource::OneDriveAudit,
        ts("2024-03-05T11:02:00Z"),
        "FileAccessed".into(),
    );
    e.record_id = s("7a7b7c7d-0000-4000-8000-000000000007");
    e.workload = Workload::Files;
    e.actor = Actor::Delegated;
    e.user_id = s(USER);
    e.upn = s("avery@contoso.example");
    e.ip = ip("192.0.2.201");
    e.session_id = SessionId::parse(SESSION);
    e.token_id = TokenId::parse("0000000000000000000000");
    e.token_issued_at = Some(ts("2024-03-05T10:15:31Z"));
    e.object = s("notes.docx");
    assert_eq!(a, &e);
    // 22 characters of "0" do not decode to 16 bytes: the placeholder stays opaque.
    assert_eq!(
        a.token_id.as_ref().map(|t| t.0.guid()),
        Some(None),
        "placeholder must stay opaque"
    );
}

#[test]
fn ual_teams_app_only_and_other_records() {
    let d = json_ok(
        r#"{"CreationTime":"2024-03-05T12:00:00","Id":"8a8b8c8d-0000-4000-8000-000000000025","Operation":"MessageRead",
            "RecordType":25,"UserType":5,"Workload":"MicrosoftTeams","ClientIP":"::ffff:192.0.2.9",
            "UserId":"bot@contoso.example","ChatThreadId":"19:abc@thread.v2",
            "AppAccessContext":{"ClientAppId":"A9A9A9A9-0000-4000-8000-0000000000A9"}}"#,
    );
    let mut e = Access::new(
        src(),
        AccessSource::TeamsAudit,
        ts("2024-03-05T12:00:00Z"),
        "MessageRead".into(),
    );
    e.record_id = s("8a8b8c8d-0000-4000-8000-000000000025");
    e.workload = Workload::Teams;
    e.actor = Actor::AppOnly;
    e.upn = s("bot@contoso.example");
    e.app_id = s("a9a9a9a9-0000-4000-8000-0000000000a9");
    e.ip = ip("192.0.2.9");
    e.object = s("19:abc@thread.v2");
    assert_eq!(access(&d), &e);

    let d = json_ok(
        r#"{"CreationTime":"2024-03-05T12:01:00","Id":"x","Operation":"Update user.","RecordType":8,
            "Workload":"AzureActiveDirectory","UserId":"admin@contoso.example"}"#,
    );
    assert_eq!(d.shape, Shape::UalRecord);
    assert_eq!(
        d.event,
        Decoded::Other(OtherRecord {
            family: Family::Other,
            disposition: Disposition::NotRelevant,
            kind: "ual:AzureActiveDirectory".into(),
            operation: s("Update user."),
            time: Some(ts("2024-03-05T12:01:00Z")),
            mailbox_change: None,
        })
    );
}

/// Purview portal CSV: locale date with a trailing space, `AuditData` JSON column, no BOM.
#[test]
fn purview_csv_row() {
    let text = concat!(
        "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\n",
        "5a5b5c5d-0000-4000-8000-000000000050,3/5/2024 10:40:00 AM ,ExchangeItemAggregated,MailItemsAccessed,avery@contoso.example,\"",
    )
    .to_owned()
        + &MAIL_ITEMS_ACCESSED.replace('"', "\"\"").replace('\n', " ")
        + "\",,\n";
    let rows = csv_rows(&text);
    assert_eq!(rows.len(), 1);
    let d = rows.into_iter().next().unwrap().unwrap();
    assert_eq!(d.shape, Shape::PurviewCsv);
    assert_eq!(access(&d), &expected_mail_access());
}

/// `Search-UnifiedAuditLog | Export-Csv` with a BOM; time only from the wrapper's locale date.
#[test]
fn search_unified_audit_log_csv_row() {
    let audit = r#"{"Id":"9a9b9c9d-0000-4000-8000-000000000004","Operation":"FileModified","RecordType":6,
        "Workload":"SharePoint","UserId":"avery@contoso.example","ClientIP":"203.0.113.4:50000",
        "ObjectId":"https://contoso.sharepoint.com/sites/fin/a.docx","CreationTime":"2024-03-05T13:00:00"}"#;
    let text = format!(
        "\u{feff}\"RunspaceId\",\"RecordType\",\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\",\"ResultIndex\"\n\
         \"r1\",\"SharePointFileOperation\",\"3/5/2024 1:00:00 PM\",\"avery@contoso.example\",\"FileModified\",\"{}\",\"1\"\n",
        audit.replace('"', "\"\"").replace('\n', " ")
    );
    let d = csv_rows(&text).into_iter().next().unwrap().unwrap();
    assert_eq!(d.shape, Shape::SearchUnifiedAuditLogCsv);
    let mut e = Access::new(
        src(),
        AccessSource::SharePointAudit,
        ts("2024-03-05T13:00:00Z"),
        "FileModified".into(),
    );
    e.record_id = s("9a9b9c9d-0000-4000-8000-000000000004");
    e.workload = Workload::Files;
    e.actor = Actor::Delegated;
    e.upn = s("avery@contoso.example");
    e.ip = ip("203.0.113.4");
    e.object = s("https://contoso.sharepoint.com/sites/fin/a.docx");
    assert_eq!(access(&d), &e);
}

/// Log Analytics CSV export: bracketed column suffixes, nested fields as JSON text.
#[test]
fn log_analytics_csv_sign_in_row() {
    let text = concat!(
        "TenantId,\"TimeGenerated [UTC]\",\"CreatedDateTime [UTC]\",Category,UserPrincipalName,UserId,AppId,IPAddress,ResultType,Status,DeviceDetail,UniqueTokenIdentifier,SessionId,IsInteractive,Type\n",
        "t1,\"3/5/2024, 10:20:00.000 AM\",\"3/5/2024, 10:19:58.500 AM\",NonInteractiveUserSignInLogs,avery@contoso.example,9b2e7c41-5d3a-4f6e-8b1c-2a3d4e5f6a7b,d3590ed6-52b3-4102-aeff-aad2292ab01c,198.51.100.23,0,\"{\"\"errorCode\"\":0}\",\"{\"\"deviceId\"\":\"\"dev-1\"\",\"\"isManaged\"\":true}\",xMFjTVvJPE2OChJx_YE-AA,6f0e3b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b,false,AADNonInteractiveUserSignInLogs\n",
    );
    let d = csv_rows(text).into_iter().next().unwrap().unwrap();
    assert_eq!(d.shape, Shape::LogAnalyticsSignIn);
    let mut e = SignIn::new(
        src(),
        SignInKind::NonInteractive,
        ts("2024-03-05T10:19:58.5Z"),
    );
    e.user_id = s(USER);
    e.upn = s("avery@contoso.example");
    e.app_id = s(OFFICE);
    e.ip = ip("198.51.100.23");
    e.device = Device {
        id: s("dev-1"),
        is_managed: Some(true),
        ..Device::default()
    };
    e.error_code = Some(0);
    e.is_interactive = Some(false);
    e.token_id = TokenId::parse(UTI);
    e.session_id = SessionId::parse(SESSION);
    assert_eq!(sign_in(&d), &e);
}

#[test]
fn csv_row_that_does_not_fit_its_header_is_an_error() {
    let rows = csv_rows("A,B\n1,2,3\n");
    assert!(matches!(rows[0], Err(DecodeError::Csv(_))), "{rows:?}");
}

/// Graph audit-log query `auditLogRecord`: the UAL record in `auditData`.
#[test]
fn graph_audit_log_record() {
    let text = format!(
        r#"{{"id":"rec-1","createdDateTime":"2024-03-05T10:40:00Z","auditLogRecordType":"ExchangeItemAggregated",
            "operation":"MailItemsAccessed","organizationId":"o","userPrincipalName":"avery@contoso.example",
            "userId":"9b2e7c41-5d3a-4f6e-8b1c-2a3d4e5f6a7b","clientIp":"198.51.100.30","service":"Exchange",
            "auditData":{MAIL_ITEMS_ACCESSED}}}"#
    );
    let d = json_ok(&text);
    assert_eq!(d.shape, Shape::AuditLogRecord);
    assert_eq!(access(&d), &expected_mail_access());
}

/// Defender XDR `CloudAppEvents`: the raw record in `RawEventData`, here as a JSON string.
#[test]
fn cloud_app_events_row_with_raw_event_as_string() {
    let raw = serde_json::to_string(&MAIL_ITEMS_ACCESSED.replace('\n', " ")).unwrap();
    let text = format!(
        r#"{{"Timestamp":"2024-03-05T10:40:00Z","ActionType":"MailItemsAccessed","Application":"Microsoft Exchange Online",
            "ApplicationId":20893,"AccountObjectId":"9b2e7c41-5d3a-4f6e-8b1c-2a3d4e5f6a7b","IPAddress":"198.51.100.30",
            "RawEventData":{raw}}}"#
    );
    let d = json_ok(&text);
    assert_eq!(d.shape, Shape::CloudAppEvents);
    assert_eq!(access(&d), &expected_mail_access());
}

/// Sentinel `OfficeActivity`: renamed columns, no `AppAccessContext`, lists as JSON text.
#[test]
fn office_activity_row() {
    let d = json_ok(
        r#"{"TenantId":"11111111-2222-4333-8444-555555555555","RecordType":"50","TimeGenerated":"2024-03-05T10:40:00Z",
            "Operation":"MailItemsAccessed","UserType":"Application","OfficeWorkload":"Exchange",
            "UserId":"avery@contoso.example","MailboxOwnerUPN":"avery@contoso.example",
            "ClientInfoString":"Client=REST;;","Client_IPAddress":"192.0.2.77",
            "OperationProperties":"[{\"Name\":\"MailAccessType\",\"Value\":\"Bind\"}]",
            "OfficeId":"5a5b5c5d-0000-4000-8000-0000000000aa","AppId":"00000003-0000-0000-c000-000000000000",
            "ClientAppId":"E5F6A7B8-0000-4000-8000-0000000000E5","Type":"OfficeActivity"}"#,
    );
    assert_eq!(d.shape, Shape::OfficeActivity);
    let mut e = Access::new(
        src(),
        AccessSource::ExchangeAudit,
        ts("2024-03-05T10:40:00Z"),
        "MailItemsAccessed".into(),
    );
    e.record_id = s("5a5b5c5d-0000-4000-8000-0000000000aa");
    e.workload = Workload::Mail;
    e.actor = Actor::AppOnly;
    e.upn = s("avery@contoso.example");
    e.app_id = s("e5f6a7b8-0000-4000-8000-0000000000e5");
    e.resource_id = s(GRAPH);
    e.ip = ip("192.0.2.77");
    e.user_agent = s("Client=REST;;");
    e.object = s("avery@contoso.example");
    e.mail_access_type = s("Bind");
    assert_eq!(access(&d), &e);
}

/// SEKOIA test cases: counted without the option, unwrapped with it.
#[test]
fn sekoia_test_case() {
    let message = serde_json::to_string(&USER_LOGGED_IN.replace('\n', " ")).unwrap();
    let text = format!(
        r#"{{"input":{{"message":{message},"sekoia.intake.dialect":"o365"}},"expected":{{"x":1}}}}"#
    );
    let plain = json_ok(&text);
    assert_eq!(plain.shape, Shape::TestCase);
    assert_eq!(
        plain.event,
        Decoded::Other(OtherRecord {
            family: Family::Other,
            disposition: Disposition::NotSupported,
            kind: "test-case".into(),
            operation: None,
            time: None,
            mailbox_change: None,
        })
    );
    let opts = DecodeOptions {
        unwrap_test_cases: true,
        ..DecodeOptions::default()
    };
    let d = decode(Payload::Json(text.as_bytes()), src(), &opts).unwrap();
    assert_eq!(d.shape, Shape::UalRecord);
    assert_eq!(sign_in(&d).kind, SignInKind::UalLogon);
    assert_eq!(sign_in(&d).id, guid(SIGN_IN_ID));
}

#[test]
fn other_readable_records() {
    let cases = [
        (
            r#"{"id":"Directory_1","category":"UserManagement","activityDateTime":"2024-03-05T09:00:00Z",
                "activityDisplayName":"Update user","loggedByService":"Core Directory"}"#,
            Disposition::NotRelevant,
            "directory-audit",
            Some("Update user"),
            Some("2024-03-05T09:00:00Z"),
        ),
        (
            r#"{"time":"2024-03-05T09:00:00Z","category":"AuditLogs","operationName":"Add member to group",
                "properties":{"activityDisplayName":"Add member to group"}}"#,
            Disposition::NotRelevant,
            "directory-audit",
            Some("Add member to group"),
            Some("2024-03-05T09:00:00Z"),
        ),
        (
            r#"{"time":"2024-03-05T09:00:00Z","category":"UserRiskEvents","operationName":"User Risk Detection",
                "properties":{"riskEventType":"unfamiliarFeatures"}}"#,
            Disposition::NotRelevant,
            "risk-detection",
            Some("User Risk Detection"),
            Some("2024-03-05T09:00:00Z"),
        ),
        (
            r#"{"time":"2024-03-05T09:00:00Z","category":"ProvisioningLogs","operationName":"Provision",
                "properties":{"x":1}}"#,
            Disposition::NotSupported,
            "diagnostic:ProvisioningLogs",
            Some("Provision"),
            Some("2024-03-05T09:00:00Z"),
        ),
        (
            r#"{"kind":"admin#reports#activity","id":{"time":"2024-03-05T09:00:00Z"},"events":[{"name":"authorize"}]}"#,
            Disposition::NotSupported,
            "google-workspace",
            None,
            None,
        ),
        (
            r#"{"hello":"world"}"#,
            Disposition::NotUnderstood,
            "unknown",
            None,
            None,
        ),
    ];
    for (text, disposition, kind, operation, time) in cases {
        let d = json_ok(text);
        assert_eq!(d.family(), Family::Other, "{text}");
        assert_eq!(
            d.event,
            Decoded::Other(OtherRecord {
                family: Family::Other,
                disposition,
                kind: kind.into(),
                operation: operation.map(str::to_owned),
                time: time.map(ts),
                mailbox_change: None,
            }),
            "{text}"
        );
    }
}

#[test]
fn unreadable_records_are_errors_with_a_reason() {
    assert_eq!(
        json(r#"{"createdDateTime":"yesterday","userId":"u","appId":"a"}"#),
        Err(DecodeError::BadField {
            field: "createdDateTime",
            reason: "not a time: \"yesterday\"".into()
        })
    );
    assert_eq!(
        json(r#"{"RecordType":50,"Operation":"MailItemsAccessed","Workload":"Exchange"}"#),
        Err(DecodeError::Missing("CreationTime"))
    );
    assert_eq!(
        json(
            r#"{"time":"2024-03-05T09:00:00Z","category":"SignInLogs","properties":{"userId":"u"}}"#
        )
        .map(|d| sign_in(&d).time),
        Ok(ts("2024-03-05T09:00:00Z")),
        "the envelope time stands in for a missing createdDateTime"
    );
    assert_eq!(json("[1,2]"), Err(DecodeError::NotAnObject("an array")));
    assert_eq!(json("42"), Err(DecodeError::NotAnObject("a number")));
    assert!(matches!(json(r#"{"a":"#), Err(DecodeError::Json(_))));
    assert!(matches!(
        decode(
            Payload::Json(b"{\"a\":\"\xff\"}"),
            src(),
            &DecodeOptions::default()
        ),
        Err(DecodeError::Json(_))
    ));
    let purview = format!(
        "RecordId,CreationDate,RecordType,Operation,UserId,AuditData\nr,3/5/2024 1:00:00 PM,x,y,z,\"{}\"\n",
        "{not json"
    );
    assert_eq!(
        csv_rows(&purview).pop().unwrap(),
        Err(DecodeError::BadField {
            field: "AuditData",
            reason: "not a JSON object".into()
        })
    );
}

/// Exchange admin cmdlets (RecordType 1) that change inbox rules or forwarding keep who, from
/// where, in which session and with which parameters; other admin cmdlets keep none of it.
#[test]
fn ual_inbox_rule_and_forwarding_changes() {
    let d = json_ok(&format!(
        r#"{{"CreationTime":"2024-03-05T12:10:00","Id":"7c7c7c7c-0000-4000-8000-00000000007c",
            "Operation":"New-InboxRule","RecordType":1,"ResultStatus":"True","UserType":0,
            "Workload":"Exchange","UserKey":"{USER}","UserId":"adele@contoso.example",
            "ClientIP":"203.0.113.50:51234","ObjectId":"EURPR07A010.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/adele\\Invoices",
            "AppAccessContext":{{"AADSessionId":"{SESSION}","UniqueTokenId":"{UTI}"}},
            "Parameters":[{{"Name":"Name","Value":"Invoices"}},{{"Name":"ForwardTo","Value":"collector@evil.example"}},
                          {{"Name":"DeleteMessage","Value":"True"}},{{"Name":"StopProcessingRules"}}],
            "SessionId":"984c0958-0631-4b90-b116-15094fc36847"}}"#
    ));
    assert_eq!(d.shape, Shape::UalRecord);
    assert_eq!(d.family(), Family::Other);
    let expected = MailboxChange {
        user: s("adele@contoso.example"),
        user_id: s(USER),
        ip: ip("203.0.113.50"),
        session_id: SessionId::parse(SESSION),
        token_id: TokenId::parse(UTI),
        object: s("EURPR07A010.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/adele\\Invoices"),
        parameters: vec![
            ("Name".into(), "Invoices".into()),
            ("ForwardTo".into(), "collector@evil.example".into()),
            ("DeleteMessage".into(), "True".into()),
            ("StopProcessingRules".into(), String::new()),
        ],
        source: src(),
    };
    assert_eq!(
        d.event,
        Decoded::Other(OtherRecord {
            family: Family::Other,
            disposition: Disposition::NotRelevant,
            kind: "ual:Exchange".into(),
            operation: s("New-InboxRule"),
            time: Some(ts("2024-03-05T12:10:00Z")),
            mailbox_change: Some(Box::new(expected)),
        })
    );
    assert_eq!(d.source(), Some(&src()));

    // Without an AppAccessContext the record's own SessionId is the session.
    let d = json_ok(
        r#"{"CreationTime":"2024-03-05T12:11:00","Id":"x","Operation":"Set-Mailbox","RecordType":1,
            "Workload":"Exchange","UserKey":"10032000ABCDEF12","UserId":"adele@contoso.example",
            "ClientIP":"[2001:db8::5]:443","ObjectId":"adele@contoso.example","SessionId":"sess-1",
            "Parameters":[{"Name":"Identity","Value":"adele@contoso.example"},
                          {"Name":"ForwardingSmtpAddress","Value":"smtp:collector@evil.example"},
                          {"Name":"DeliverToMailboxAndForward","Value":"False"}]}"#,
    );
    let Decoded::Other(other) = &d.event else {
        panic!("expected an other record, got {:?}", d.event)
    };
    let change = other.mailbox_change.as_deref().unwrap();
    assert_eq!(
        change.user_id, None,
        "a UserKey that is no GUID is no object id"
    );
    assert_eq!(change.ip, ip("2001:db8::5"));
    assert_eq!(change.session_id, SessionId::parse("sess-1"));
    assert_eq!(change.token_id, None);
    assert_eq!(change.object, s("adele@contoso.example"));
    assert_eq!(
        change.parameters[1],
        (
            "ForwardingSmtpAddress".to_string(),
            "smtp:collector@evil.example".to_string()
        )
    );

    let d = json_ok(
        r#"{"CreationTime":"2024-03-05T12:12:00","Id":"y","Operation":"Set-TransportConfig","RecordType":1,
            "Workload":"Exchange","UserId":"admin@contoso.example","ClientIP":"192.0.2.1",
            "Parameters":[{"Name":"SmtpClientAuthenticationDisabled","Value":"True"}]}"#,
    );
    let Decoded::Other(other) = &d.event else {
        panic!("expected an other record, got {:?}", d.event)
    };
    assert_eq!(other.mailbox_change, None);
    assert_eq!(d.source(), None);
}

#[test]
fn repaired_display_fields_are_counted_at_every_level() {
    // A lone surrogate in display-only fields: one in the envelope's wrapped record, one in a
    // nested device detail, one at the top of a Log Analytics row.
    let d = json_ok(
        r#"{"time":"2024-03-05T10:16:00Z","category":"SignInLogs",
            "properties":{"createdDateTime":"2024-03-05T10:15:00Z","isInteractive":true,
              "appDisplayName":"Out\ud800look","deviceDetail":{"browser":"Edge \udc00"}}}"#,
    );
    assert_eq!(d.shape, Shape::DiagnosticSignIn);
    assert_eq!(d.repaired, 2);
    assert_eq!(sign_in(&d).app_name, s("Out\u{fffd}look"));
    assert_eq!(sign_in(&d).device.browser, s("Edge \u{fffd}"));
    let d = json_ok(
        r#"{"TimeGenerated":"2024-03-05T10:15:00Z","Type":"SigninLogs",
            "CreatedDateTime":"2024-03-05T10:15:00Z","UserAgent":"curl\ud800","IsInteractive":true}"#,
    );
    assert_eq!(d.repaired, 1);
    assert_eq!(sign_in(&d).user_agent, s("curl\u{fffd}"));
    // Nothing repaired: nothing counted.
    let d = json_ok(
        r#"{"TimeGenerated":"2024-03-05T10:15:00Z","Type":"SigninLogs",
            "CreatedDateTime":"2024-03-05T10:15:00Z","UserAgent":"curl \u00e9","IsInteractive":true}"#,
    );
    assert_eq!(d.repaired, 0);
    assert_eq!(sign_in(&d).user_agent, s("curl \u{e9}"));
    // In a field that is not only displayed the same escape makes the record unreadable.
    let e = json(
        r#"{"TimeGenerated":"2024-03-05T10:15:00Z","Type":"SigninLogs",
            "CreatedDateTime":"2024-03-05T10:15:00Z","UserId":"u\ud800","IsInteractive":true}"#,
    );
    assert!(matches!(e, Err(DecodeError::Json(_))), "{e:?}");
}
