//! Records handed back to a [`RecordRecycler`] and refilled by the decoders: a refilled record is
//! exactly the record decoded without recycling, whatever the record before it held.

use std::sync::Arc;

use tokentrail_ingest::{
    decode, DecodeOptions, Decoded, DecodedRecord, Fields, Payload, RecordRecycler, Shape,
};
use tokentrail_model::{Position, SourceRef};

fn src(line: u64) -> SourceRef {
    SourceRef {
        file: Arc::from("sample.json"),
        position: Position::Line(line),
    }
}

/// A Graph sign-in with every text a sign-in has (all 24).
const SIGN_IN_FULL: &str = r#"{
    "id": "4d63c1c4-c95b-4d3c-8e0a-1271fd813e00",
    "createdDateTime": "2024-03-05T10:15:30Z",
    "userPrincipalName": "avery@contoso.example",
    "userId": "9B2E7C41-5D3A-4F6E-8B1C-2A3D4E5F6A7B",
    "appId": "D3590ED6-52B3-4102-AEFF-AAD2292AB01C",
    "appDisplayName": "Microsoft Office",
    "resourceId": "00000002-0000-0FF1-CE00-000000000000",
    "resourceDisplayName": "Office 365 Exchange Online",
    "servicePrincipalId": "F5F6A7B8-0000-4000-8000-0000000000F5",
    "servicePrincipalName": "Some Service",
    "ipAddress": "2001:db8::17",
    "autonomousSystemNumber": 64500,
    "location": {"city": "Lyon", "countryOrRegion": "FR"},
    "deviceDetail": {"deviceId": "e1f2a3b4-0000-4000-8000-00000000d001", "displayName": "PC-7",
                     "operatingSystem": "Windows 10", "browser": "Edge 122.0.0",
                     "isCompliant": true, "isManaged": true, "trustType": "Azure AD joined"},
    "status": {"errorCode": 50126},
    "isInteractive": true,
    "incomingTokenType": "Primary Refresh Token",
    "authenticationProtocol": "deviceCode",
    "originalTransferMethod": "deviceCodeFlow",
    "authenticationRequirement": "multiFactorAuthentication",
    "clientCredentialType": "certificate",
    "tokenProtectionStatusDetails": {"signInSessionStatus": "unbound"},
    "uniqueTokenIdentifier": "xMFjTVvJPE2OChJx_YE-AA",
    "sessionId": "6f0e3b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
    "originalRequestId": "4d63c1c4-c95b-4d3c-8e0a-1271fd813e00",
    "correlationId": "0a1b2c3d-0000-4000-8000-000000000001",
    "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
    "isThroughGlobalSecureAccess": true,
    "globalSecureAccessIpAddress": "198.51.100.4",
    "ipAddressFromResourceProvider": "203.0.113.8",
    "sessionLifetimePolicies": [{"expirationRequirement": "signInFrequencyPeriodicReauthentication"},
                                {"expirationRequirement": "rememberMultifactorAuthenticationOnTrustedDevices"}],
    "agent": {"agentType": "agenticApp"}
}"#;

/// A sign-in with few fields: none of the text the full one had but the user and the app.
const SIGN_IN_BARE: &str = r#"{"createdDateTime": "2024-03-05T11:00:00Z",
    "userPrincipalName": "blake@contoso.example", "appId": "a", "status": {"errorCode": 0}}"#;

/// A UAL `UserLoggedIn` with its device and user agent.
const LOGON_FULL: &str = r#"{"CreationTime":"2024-03-05T10:15:30","Id":"4d63c1c4-c95b-4d3c-8e0a-1271fd813e00",
    "Operation":"UserLoggedIn","RecordType":15,"UserKey":"100320000000ABCD","UserType":0,
    "Workload":"AzureActiveDirectory","ClientIP":"[2001:db8::5]:51234","ObjectId":"00000002-0000-0FF1-CE00-000000000000",
    "UserId":"avery@contoso.example",
    "ExtendedProperties":[{"Name":"UserAgent","Value":"Mozilla/5.0 (Macintosh)"}],
    "Actor":[{"ID":"9B2E7C41-5D3A-4F6E-8B1C-2A3D4E5F6A7B","Type":0},{"ID":"avery@contoso.example","Type":5}],
    "ApplicationId":"D3590ED6-52B3-4102-AEFF-AAD2292AB01C","InterSystemsId":"corr-77",
    "IntraSystemId":"4d63c1c4-c95b-4d3c-8e0a-1271fd813e00",
    "DeviceProperties":[{"Name":"Id","Value":"e1f2a3b4-0000-4000-8000-00000000d001"},{"Name":"DisplayName","Value":"MAC-7"},
      {"Name":"OS","Value":"MacOs"},{"Name":"BrowserType","Value":"Safari"},{"Name":"IsCompliant","Value":"True"},
      {"Name":"IsCompliantAndManaged","Value":"True"},{"Name":"TrustType","Value":"Azure AD registered"},
      {"Name":"SessionId","Value":"6f0e3b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}],
    "ErrorNumber":"0"}"#;

/// A failed UAL logon with a UPN and nothing else.
const LOGON_BARE: &str = r#"{"CreationTime":"2024-03-05T12:00:00","Operation":"UserLoginFailed",
    "RecordType":15,"Workload":"AzureActiveDirectory","UserId":"blake@contoso.example"}"#;

/// A Graph activity row with every text Graph activity has.
const GRAPH_FULL: &str = r#"{"TimeGenerated":"2024-03-05T10:30:00.5Z","RequestId":"aa11bb22-0000-4000-8000-000000000001",
    "RequestMethod":"get","RequestUri":"https://graph.microsoft.com/v1.0/me/mailFolders/inbox/messages?$top=50",
    "ResponseStatusCode":"200","AppId":"D3590ED6-52B3-4102-AEFF-AAD2292AB01C",
    "UserId":"9b2e7c41-5d3a-4f6e-8b1c-2a3d4e5f6a7b","ServicePrincipalId":"F5F6A7B8-0000-4000-8000-0000000000F5",
    "IPAddress":"198.51.100.77","UserAgent":"python-requests/2.31.0","ClientAuthMethod":0,
    "Scopes":"Mail.Read User.Read","Roles":"Mail.Read","SignInActivityId":"xMFjTVvJPE2OChJx_YE-AA",
    "SessionId":"6f0e3b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b","DeviceId":"e1f2a3b4-0000-4000-8000-00000000d001",
    "TokenIssuedAt":"2024-03-05T10:15:31Z","Type":"MicrosoftGraphActivityLogs"}"#;

/// A Graph activity row with a path and nothing else.
const GRAPH_BARE: &str = r#"{"TimeGenerated":"2024-03-05T10:31:00Z","RequestUri":"/v1.0/me",
    "Type":"MicrosoftGraphActivityLogs"}"#;

/// An Exchange `MailItemsAccessed` with every text a UAL access has.
const MAIL_FULL: &str = r#"{"AppAccessContext":{"AADSessionId":"6f0e3b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
      "APIId":"00000003-0000-0000-C000-000000000000","ClientAppId":"E5F6A7B8-0000-4000-8000-0000000000E5",
      "ClientAppName":"Mail Helper","IssuedAtTime":"2024-03-05T10:15:31","UniqueTokenId":"xMFjTVvJPE2OChJx_YE-AA"},
    "CreationTime":"2024-03-05T10:40:00","Id":"5a5b5c5d-0000-4000-8000-000000000050","Operation":"MailItemsAccessed",
    "RecordType":50,"UserKey":"100320000000ABCD","UserType":0,"Workload":"Exchange","UserId":"avery@contoso.example",
    "ClientIPAddress":"198.51.100.30:41002","ClientInfoString":"Client=REST;Client=RESTSystem;;",
    "MailboxOwnerUPN":"avery@contoso.example",
    "OperationProperties":[{"Name":"MailAccessType","Value":"Sync"}],
    "TokenObjectId":"9B2E7C41-5D3A-4F6E-8B1C-2A3D4E5F6A7B","DeviceId":"e1f2a3b4-0000-4000-8000-00000000d001",
    "IsManagedDevice":true,"OperationCount":12}"#;

/// A SharePoint record with its operation and nothing else.
const FILE_BARE: &str = r#"{"CreationTime":"2024-03-05T10:41:00","Operation":"FileAccessed",
    "RecordType":6,"Workload":"SharePoint"}"#;

/// A directory change made with a token, with every text such a record has.
const AUDIT_FULL: &str = r#"{"id":"Directory_0001","activityDateTime":"2024-03-05T10:50:00Z",
    "activityDisplayName":"User registered security info",
    "initiatedBy":{"user":{"id":"9B2E7C41-5D3A-4F6E-8B1C-2A3D4E5F6A7B","userPrincipalName":"avery@contoso.example",
        "ipAddress":"203.0.113.9"},
      "app":{"appId":"D3590ED6-52B3-4102-AEFF-AAD2292AB01C","displayName":"Office",
        "servicePrincipalId":"F5F6A7B8-0000-4000-8000-0000000000F5"},
      "linkableIdentifiers":{"sessionId":"6f0e3b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        "deviceId":"e1f2a3b4-0000-4000-8000-00000000d001",
        "tokenDetails":{"uniqueTokenIdentifier":"xMFjTVvJPE2OChJx_YE-AA","issuedAtDateTime":"2024-03-05T10:15:31Z"}}},
    "targetResources":[{"id":"4f6b8d0f-2c4e-4a6b-8d0f-2c4e6a8b0d11","displayName":"Avery"}]}"#;

/// Every sample: its name, its text, and how many texts its record holds (read with every
/// field; an access's operation counts as one).
const SAMPLES: [(&str, &str, usize); 9] = [
    ("sign-in full", SIGN_IN_FULL, 24),
    ("sign-in bare", SIGN_IN_BARE, 2),
    ("logon full", LOGON_FULL, 11),
    ("logon bare", LOGON_BARE, 1),
    ("graph full", GRAPH_FULL, 11),
    ("graph bare", GRAPH_BARE, 3),
    ("mail full", MAIL_FULL, 11),
    ("file bare", FILE_BARE, 1),
    ("audit full", AUDIT_FULL, 9),
];

fn options(fields: Fields, recycler: Option<Arc<RecordRecycler>>) -> DecodeOptions {
    DecodeOptions {
        fields,
        recycler,
        ..DecodeOptions::default()
    }
}

fn decoded(text: &str, line: u64, opts: &DecodeOptions) -> DecodedRecord {
    decode(Payload::Json(text.as_bytes()), src(line), opts).unwrap()
}

/// The address of the record's box, to tell a refilled record from a new one.
fn address(event: &Decoded) -> Option<usize> {
    match event {
        Decoded::SignIn(s) => Some(&**s as *const _ as usize),
        Decoded::Access(a) => Some(&**a as *const _ as usize),
        Decoded::Other(_) => None,
    }
}

/// How many texts a record holds.
fn texts(event: &Decoded) -> usize {
    let texts = match event {
        Decoded::SignIn(s) => vec![
            &s.user_id,
            &s.upn,
            &s.app_id,
            &s.app_name,
            &s.resource_id,
            &s.resource_name,
            &s.service_principal_id,
            &s.service_principal_name,
            &s.country,
            &s.device.id,
            &s.device.name,
            &s.device.os,
            &s.device.browser,
            &s.device.trust_type,
            &s.incoming_token_type,
            &s.auth_protocol,
            &s.transfer_method,
            &s.auth_requirement,
            &s.client_credential_type,
            &s.token_protection,
            &s.correlation_id,
            &s.user_agent,
            &s.session_lifetime_policies,
            &s.agent_type,
        ],
        Decoded::Access(a) => vec![
            &a.record_id,
            &a.user_id,
            &a.upn,
            &a.service_principal_id,
            &a.app_id,
            &a.app_name,
            &a.resource_id,
            &a.user_agent,
            &a.device_id,
            &a.object,
            &a.mail_access_type,
            &a.scopes,
            &a.roles,
        ],
        Decoded::Other(_) => vec![],
    };
    let operation = matches!(event, Decoded::Access(a) if !a.operation.is_empty());
    texts.iter().filter(|t| t.is_some()).count() + usize::from(operation)
}

#[test]
fn the_samples_hold_what_they_say() {
    let opts = options(Fields::All, None);
    for (name, text, n) in SAMPLES {
        let d = decoded(text, 1, &opts);
        assert_ne!(d.shape, Shape::Unknown, "{name}");
        assert_eq!(texts(&d.event), n, "{name}");
    }
}

/// Every sample decoded after every other, into the record the first was handed back as:
/// equal to the second decoded without recycling, with both field selections.
#[test]
fn a_refilled_record_is_the_record_decoded_anew() {
    for fields in [Fields::All, Fields::Detection] {
        let cold = options(fields, None);
        for (first_name, first, _) in SAMPLES {
            for (second_name, second, _) in SAMPLES {
                let recycler = Arc::new(RecordRecycler::new(4));
                let opts = options(fields, Some(Arc::clone(&recycler)));
                let a = decoded(first, 1, &opts);
                let a_kind = std::mem::discriminant(&a.event);
                let a_at = address(&a.event);
                recycler.give_back(a.event);
                let b = decoded(second, 2, &opts);
                let case = format!("{first_name} then {second_name}, {fields:?}");
                assert_eq!(b, decoded(second, 2, &cold), "{case}");
                // The same kind of record is refilled, not built anew.
                if std::mem::discriminant(&b.event) == a_kind {
                    assert_eq!(address(&b.event), a_at, "{case}");
                }
            }
        }
    }
}
