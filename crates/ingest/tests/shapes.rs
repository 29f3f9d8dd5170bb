//! The exports responders actually have, each read from a fixture written in the exporter's
//! shape (`tests/fixtures/shapes/`, sources in its `PROVENANCE.md`), through the real reader,
//! with the decoded values checked.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use tokentrail_ingest::frame::Container;
use tokentrail_ingest::{
    read_paths, Decoded, DecodedRecord, Disposition, FileReport, ReadOptions, Shape,
};
use tokentrail_model::{
    Access, AccessSource, Actor, Guid, SessionId, SignIn, SignInKind, TokenId, Workload,
};

const DANA: &str = "2f9c6e1a-7b4d-4a3e-8c5f-1d0e9b8a7c21";
const SESSION: &str = "4e8a2c6d-1f3b-4d5e-9a7c-0b2d4f6a8c31";
const OFFICE: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
const EXCHANGE: &str = "00000002-0000-0ff1-ce00-000000000000";
const GRAPH: &str = "00000003-0000-0000-c000-000000000000";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/shapes")
        .join(name)
}

/// Read one fixture file through the real reader (duplicates kept).
fn read(name: &str) -> (Vec<DecodedRecord>, FileReport) {
    let opts = ReadOptions {
        drop_duplicate_sign_ins: false,
        ..ReadOptions::default()
    };
    let mut records = Vec::new();
    let report = read_paths(&[fixture(name)], &opts, &mut |r| records.push(r));
    let file = report.files.into_iter().next().expect("one file");
    (records, file)
}

fn sign_ins(records: &[DecodedRecord]) -> Vec<&SignIn> {
    records
        .iter()
        .filter_map(|r| match &r.event {
            Decoded::SignIn(s) => Some(&**s),
            _ => None,
        })
        .collect()
}

fn accesses(records: &[DecodedRecord]) -> Vec<&Access> {
    records
        .iter()
        .filter_map(|r| match &r.event {
            Decoded::Access(a) => Some(&**a),
            _ => None,
        })
        .collect()
}

fn guid(t: &str) -> Option<Guid> {
    Some(Guid::parse(t).unwrap())
}

fn ip(t: &str) -> Option<IpAddr> {
    Some(t.parse().unwrap())
}

fn session() -> Option<SessionId> {
    SessionId::parse(SESSION)
}

/// The token a sign-in `id` issued (its `uti` decodes to the id).
fn token_of(id: &str) -> Option<TokenId> {
    Some(TokenId::from_guid(Guid::parse(id).unwrap()))
}

fn clean(file: &FileReport) {
    assert!(
        file.is_clean(),
        "{:?} {:?}",
        file.problems,
        file.unreadable_records
    );
}

#[test]
fn entra_admin_center_csv_user_tabs() {
    let (records, file) = read("entra-portal/InteractiveSignIns_2025-06-01_2025-06-02.csv");
    clean(&file);
    assert_eq!(file.container, Some(Container::Csv));
    assert!(records.iter().all(|r| r.shape == Shape::EntraPortalCsv));
    let rows = sign_ins(&records);
    assert_eq!(rows.len(), 2);

    // A multifactor method the user answered: interactive, stated by the row.
    let a = rows[0];
    assert_eq!(a.kind, SignInKind::Interactive);
    assert!(!records[0].kind_unstated);
    assert_eq!(a.id, guid("6c1f3a9e-2b7d-4c55-9e10-7a3b5c9d1e01"));
    assert_eq!(a.time.to_string(), "2025-06-02T08:15:30Z");
    assert_eq!(a.user_id.as_deref(), Some(DANA));
    assert_eq!(a.upn.as_deref(), Some("dana.okafor@fabrikam.example"));
    // `Application ID ` and `Resource ID ` carry a trailing space in the header.
    assert_eq!(a.app_id.as_deref(), Some(OFFICE));
    assert_eq!(a.resource_id.as_deref(), Some(EXCHANGE));
    assert_eq!(a.ip, ip("198.51.100.23"));
    // `Autonomous system  number` has two spaces.
    assert_eq!(a.asn, Some(64501));
    assert_eq!(a.country.as_deref(), Some("GB"));
    assert_eq!(
        a.device.id.as_deref(),
        Some("8d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a01")
    );
    assert_eq!(a.device.is_compliant, Some(true));
    assert_eq!(a.device.is_managed, Some(true));
    assert_eq!(a.device.trust_type.as_deref(), Some("Azure AD joined"));
    assert_eq!(a.token_id, token_of("6c1f3a9e-2b7d-4c55-9e10-7a3b5c9d1e01"));
    assert_eq!(a.session_id, session());
    assert_eq!(a.error_code, Some(0));
    assert_eq!(a.incoming_token_type.as_deref(), Some("none"));
    assert_eq!(a.token_protection.as_deref(), Some("unbound"));
    assert_eq!(
        a.auth_requirement.as_deref(),
        Some("multiFactorAuthentication")
    );
    assert_eq!(a.client_credential_type.as_deref(), Some("none"));
    assert_eq!(a.through_global_secure_access, Some(false));

    // SSO with a primary refresh token, no factor answered: could be either tab.
    let b = rows[1];
    assert_eq!(b.kind, SignInKind::NonInteractive);
    assert!(records[1].kind_unstated);
    assert_eq!(
        b.incoming_token_type.as_deref(),
        Some("primaryRefreshToken")
    );
    assert_eq!(b.token_protection.as_deref(), Some("bound"));
    assert_eq!(b.resource_ip, ip("198.51.100.24"));
    assert_eq!(b.through_global_secure_access, Some(true));
    assert_eq!(b.global_secure_access_ip, ip("203.0.113.77"));
    assert_eq!(file.kind_unstated, 1);

    // The 2024 header (no owner-tenant columns): read by name, not position.
    let (records, file) = read("entra-portal/NonInteractiveSignIns_2025-06-01_2025-06-02.csv");
    clean(&file);
    let rows = sign_ins(&records);
    assert_eq!(rows.len(), 3);
    // A refresh token redeemed: non-interactive, stated.
    assert_eq!(rows[0].kind, SignInKind::NonInteractive);
    assert!(!records[0].kind_unstated);
    assert_eq!(rows[0].incoming_token_type.as_deref(), Some("refreshToken"));
    assert_eq!(rows[0].asn, Some(64510));
    assert_eq!(rows[0].country.as_deref(), Some("DE"));
    // The all-zero device id is an anonymized placeholder, not a device.
    assert_eq!(rows[0].device.id, None);
    // A client secret presented: a confidential client's token request, non-interactive.
    assert_eq!(rows[1].kind, SignInKind::NonInteractive);
    assert!(!records[1].kind_unstated);
    assert_eq!(
        rows[1].client_credential_type.as_deref(),
        Some("clientSecret")
    );
    // Anonymized: `{PII Removed}`, `Not Available` and the zero GUID are no values.
    let c = rows[2];
    assert!(records[2].kind_unstated);
    assert_eq!(c.upn, None);
    assert_eq!(c.token_id, None);
    assert_eq!(c.session_id, None);
    assert_eq!(
        c.user_id.as_deref(),
        Some("5b7d9f1a-3c5e-4b7d-8f9a-1b3d5f7a9c22")
    );
}

#[test]
fn entra_admin_center_csv_application_tabs() {
    let (records, file) = read("entra-portal/ApplicationSignIns_2025-06-01_2025-06-02.csv");
    clean(&file);
    let rows = sign_ins(&records);
    assert_eq!(rows.len(), 1);
    let sp = rows[0];
    assert_eq!(sp.kind, SignInKind::ServicePrincipal);
    assert!(!records[0].kind_unstated);
    assert_eq!(
        sp.service_principal_id.as_deref(),
        Some("7c9e1b3d-5f7a-4c9e-9b1d-3f5a7c9e1b31")
    );
    assert_eq!(sp.service_principal_name.as_deref(), Some("Payroll Export"));
    assert_eq!(
        sp.app_id.as_deref(),
        Some("8d0f2a4c-6e8b-4d0f-a2c4-6e8b0d2f4a51")
    );
    assert_eq!(sp.resource_id.as_deref(), Some(GRAPH));
    assert_eq!(sp.ip, ip("192.0.2.200"));
    assert_eq!(sp.country.as_deref(), Some("NL"));
    assert_eq!(sp.asn, None);

    let (records, file) = read("entra-portal/MSISignIns_2025-06-01_2025-06-02.csv");
    clean(&file);
    let rows = sign_ins(&records);
    assert_eq!(rows[0].kind, SignInKind::ManagedIdentity);
    assert_eq!(rows[0].country, None);
}

#[test]
fn entra_admin_center_json_and_newer_sign_in_fields() {
    let (records, file) = read("entra-portal/SignIns_2025-06-01_2025-06-02.json");
    clean(&file);
    assert_eq!(file.container, Some(Container::JsonArray));
    let rows = sign_ins(&records);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].kind, SignInKind::Interactive);
    assert_eq!(
        rows[0].session_lifetime_policies.as_deref(),
        Some("signInFrequencyPeriodicReauthentication")
    );
    assert_eq!(rows[0].token_protection.as_deref(), Some("unbound"));
    assert_eq!(rows[0].agent_type, None);
    let n = rows[1];
    assert_eq!(n.kind, SignInKind::NonInteractive);
    assert_eq!(n.incoming_token_type.as_deref(), Some("refreshToken"));
    // `signInTokenProtectionStatus` stands in when the details object is absent.
    assert_eq!(n.token_protection.as_deref(), Some("bound"));
    assert_eq!(n.through_global_secure_access, Some(true));
    assert_eq!(n.global_secure_access_ip, ip("203.0.113.77"));
    assert_eq!(n.resource_ip, ip("198.51.100.24"));
    assert_eq!(n.agent_type.as_deref(), Some("agenticAppInstance"));
}

#[test]
fn log_analytics_export_to_csv() {
    let (records, file) = read("log-analytics/SigninLogs.csv");
    clean(&file);
    let s = sign_ins(&records)[0];
    assert_eq!(records[0].shape, Shape::LogAnalyticsSignIn);
    assert_eq!(s.kind, SignInKind::Interactive);
    // `CreatedDateTime [UTC]` in the portal's locale text.
    assert_eq!(s.time.to_string(), "2025-06-02T08:15:30.412Z");
    // Dynamic columns are JSON text.
    assert_eq!(
        s.device.id.as_deref(),
        Some("8d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a01")
    );
    assert_eq!(s.country.as_deref(), Some("GB"));
    assert_eq!(s.error_code, Some(0));
    assert_eq!(s.token_protection.as_deref(), Some("unbound"));
    assert_eq!(s.asn, Some(64501));
    assert_eq!(s.resource_id.as_deref(), Some(EXCHANGE));

    let (records, file) = read("log-analytics/MicrosoftGraphActivityLogs.csv");
    clean(&file);
    let a = accesses(&records)[0];
    assert_eq!(a.log, AccessSource::GraphActivity);
    assert_eq!(a.operation, "GET /v1.0/me/messages");
    assert_eq!(a.workload, Workload::Mail);
    assert_eq!(a.token_id, token_of("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c51"));
    assert_eq!(a.session_id, session());
    assert_eq!(
        a.token_issued_at.map(|t| t.to_string()).as_deref(),
        Some("2025-06-02T08:15:30Z")
    );

    let (records, file) = read("log-analytics/CloudAppEvents.csv");
    clean(&file);
    assert_eq!(records[0].shape, Shape::CloudAppEvents);
    let a = accesses(&records)[0];
    assert_eq!(a.log, AccessSource::ExchangeAudit);
    assert_eq!(a.operation, "MailItemsAccessed");
    assert_eq!(a.count, 12);
    assert_eq!(a.session_id, session());
    assert_eq!(a.token_id, token_of("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c51"));
}

#[test]
fn defender_advanced_hunting_answers() {
    let (records, file) = read("defender/hunting-EntraIdSignInEvents.json");
    clean(&file);
    assert_eq!(file.container, Some(Container::HuntingResults));
    let rows = sign_ins(&records);
    assert!(records
        .iter()
        .all(|r| r.shape == Shape::DefenderAdvancedHunting));
    assert_eq!(rows[0].kind, SignInKind::Interactive);
    assert_eq!(rows[1].kind, SignInKind::NonInteractive);
    let s = rows[1];
    // `RequestId` is the sign-in's id; `UniqueTokenId` its token.
    assert_eq!(s.id, guid("b0000002-2222-4333-8444-000000000002"));
    assert_eq!(s.token_id, token_of("b0000002-2222-4333-8444-000000000002"));
    assert_eq!(s.user_id.as_deref(), Some(DANA));
    assert_eq!(s.upn.as_deref(), Some("dana.okafor@fabrikam.example"));
    assert_eq!(s.app_id.as_deref(), Some(OFFICE));
    assert_eq!(s.app_name.as_deref(), Some("Microsoft Office"));
    assert_eq!(s.session_id, session());
    assert_eq!(s.error_code, Some(0));
    assert_eq!(s.country.as_deref(), Some("GB"));
    assert_eq!(
        s.device.id.as_deref(),
        Some("8d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a01")
    );
    assert_eq!(s.device.is_managed, Some(true));
    assert_eq!(s.device.is_compliant, Some(true));
    assert_eq!(s.device.trust_type.as_deref(), Some("AzureAd"));
    assert_eq!(s.device.name.as_deref(), Some("LT-DANA"));
    assert_eq!(s.through_global_secure_access, Some(false));

    // The older table through Graph's runHuntingQuery (lower-case `results`), `AadDeviceId`,
    // no token column: the token is the sign-in's id.
    let (records, file) = read("defender/hunting-AADSignInEventsBeta.json");
    clean(&file);
    let s = sign_ins(&records)[0];
    assert_eq!(s.kind, SignInKind::NonInteractive);
    assert_eq!(s.token_id, None);
    assert_eq!(
        s.issued_token(),
        token_of("b0000003-2222-4333-8444-000000000003")
    );
    assert_eq!(
        s.device.id.as_deref(),
        Some("8d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a01")
    );

    let (records, file) = read("defender/hunting-AADSpnSignInEventsBeta.json");
    clean(&file);
    let rows = sign_ins(&records);
    assert_eq!(rows[0].kind, SignInKind::ServicePrincipal);
    assert_eq!(rows[1].kind, SignInKind::ManagedIdentity);
    assert_eq!(
        rows[0].service_principal_id.as_deref(),
        Some("7c9e1b3d-5f7a-4c9e-9b1d-3f5a7c9e1b31")
    );

    let (records, file) = read("defender/hunting-GraphApiAuditEvents.json");
    clean(&file);
    let a = accesses(&records)[0];
    assert_eq!(a.log, AccessSource::GraphActivity);
    assert_eq!(a.workload, Workload::Files);
    assert_eq!(a.user_id.as_deref(), Some(DANA));
    assert_eq!(a.app_id.as_deref(), Some(OFFICE));
    assert_eq!(a.token_id, token_of("b0000002-2222-4333-8444-000000000002"));
    assert_eq!(a.actor, Actor::Delegated);
    assert_eq!(a.status_code, Some(200));

    let (records, file) = read("defender/hunting-CloudAppEvents.json");
    clean(&file);
    assert_eq!(records[0].shape, Shape::CloudAppEvents);
    assert_eq!(accesses(&records)[0].log, AccessSource::ExchangeAudit);
}

#[test]
fn defender_streaming_api_records() {
    let (records, file) = read("defender/streaming-storage.json");
    clean(&file);
    let shapes: Vec<Shape> = records.iter().map(|r| r.shape).collect();
    assert_eq!(
        shapes,
        vec![
            Shape::DefenderStreaming,
            Shape::DefenderStreaming,
            Shape::DefenderStreaming,
            Shape::Unknown
        ]
    );
    // `RawEventData` nested under `properties`.
    let a = accesses(&records);
    assert_eq!(a[0].log, AccessSource::ExchangeAudit);
    assert_eq!(a[0].session_id, session());
    assert_eq!(a[1].log, AccessSource::GraphActivity);
    // The row's `Timestamp`, not the time the service received it.
    assert_eq!(
        sign_ins(&records)[0].time.to_string(),
        "2025-06-02T09:00:00.123456Z"
    );
    assert_eq!(file.not_used.len(), 1);
    assert_eq!(file.not_used[0].disposition, Disposition::NotSupported);
    assert_eq!(file.not_used[0].kind, "defender:DeviceLogonEvents");
}

#[test]
fn forwarder_wrappers() {
    // Each line a whole `{"records":[...]}` envelope: 40 sign-ins in 2 lines.
    let (records, file) = read("forwarders/eventhub-batches.jsonl");
    clean(&file);
    assert_eq!(file.records, 40);
    assert_eq!(sign_ins(&records).len(), 40);
    assert!(records.iter().all(|r| r.shape == Shape::DiagnosticSignIn));
    // Graph pages saved one per line.
    let (records, file) = read("forwarders/graph-pages.jsonl");
    clean(&file);
    assert_eq!(sign_ins(&records).len(), 6);
    // JSON behind a syslog prefix; a line without JSON is reported with its place.
    let (records, file) = read("forwarders/syslog-signins.log");
    assert_eq!(file.container, Some(Container::PrefixedJsonLines));
    assert_eq!(sign_ins(&records).len(), 3);
    assert_eq!(file.unreadable, 1);
    assert_eq!(
        file.unreadable_records[0].source.to_string(),
        format!("{}:3", fixture("forwarders/syslog-signins.log").display())
    );
    // Splunk and Cribl keep the record as JSON text in `_raw`, as JSON lines or CSV.
    for name in ["forwarders/splunk-raw.json", "forwarders/splunk-export.csv"] {
        let (records, file) = read(name);
        clean(&file);
        let kinds: Vec<Shape> = records.iter().map(|r| r.shape).collect();
        assert_eq!(
            kinds,
            vec![Shape::DiagnosticSignIn, Shape::UalRecord],
            "{name}"
        );
        assert_eq!(sign_ins(&records)[0].kind, SignInKind::NonInteractive);
        assert_eq!(accesses(&records)[0].session_id, session(), "{name}");
    }
}

#[test]
fn directory_audits_made_with_a_token_are_accesses() {
    let (records, file) = read("audit/directoryAudits.json");
    clean(&file);
    let a = accesses(&records);
    assert_eq!(a.len(), 2);
    let mfa = a[0];
    assert_eq!(mfa.log, AccessSource::DirectoryAudit);
    assert_eq!(mfa.operation, "User registered security info");
    assert_eq!(mfa.actor, Actor::Delegated);
    assert_eq!(mfa.user_id.as_deref(), Some(DANA));
    assert_eq!(mfa.ip, ip("203.0.113.9"));
    assert_eq!(mfa.session_id, session());
    assert_eq!(
        mfa.token_id,
        token_of("b0000002-2222-4333-8444-000000000002")
    );
    assert_eq!(
        mfa.token_issued_at.map(|t| t.to_string()).as_deref(),
        Some("2025-06-02T09:30:00Z")
    );
    assert_eq!(mfa.object.as_deref(), Some(DANA));
    assert_eq!(a[1].operation, "Consent to application");
    // Without linkable identifiers a change cannot be tied to a token: counted, not used.
    assert_eq!(file.not_used.len(), 1);
    assert_eq!(file.not_used[0].kind, "directory-audit");
    assert_eq!(file.not_used[0].disposition, Disposition::NotRelevant);

    for name in [
        "audit/AuditLogs-diagnostic.json",
        "log-analytics/AuditLogs.csv",
    ] {
        let (records, file) = read(name);
        clean(&file);
        let a = accesses(&records);
        assert_eq!(a.len(), 1, "{name}");
        assert_eq!(a[0].log, AccessSource::DirectoryAudit, "{name}");
        assert_eq!(a[0].session_id, session(), "{name}");
        assert_eq!(
            a[0].object.as_deref(),
            Some("4f6b8d0f-2c4e-4a6b-8d0f-2c4e6a8b0d11"),
            "{name}"
        );
    }
}

#[test]
fn objects_saved_beside_the_logs_are_not_sign_ins() {
    // Each has a `createdDateTime` (or a user and an address); none is a sign-in.
    let cases = [
        ("graph-objects/Alerts.json", "security-alert"),
        ("graph-objects/Incidents.json", "security-incident"),
        ("graph-objects/Devices.json", "device"),
        (
            "graph-objects/ConditionalAccessPolicies.json",
            "conditional-access-policy",
        ),
        ("graph-objects/NamedLocations.json", "named-location"),
        ("graph-objects/RiskDetections.json", "risk-detection"),
        ("graph-objects/IdentityRiskEvents.json", "risk-detection"),
        ("graph-objects/Users.csv", "user"),
    ];
    for (name, kind) in cases {
        let (records, file) = read(name);
        clean(&file);
        assert!(!records.is_empty(), "{name}");
        assert!(sign_ins(&records).is_empty(), "{name}");
        assert!(accesses(&records).is_empty(), "{name}");
        assert_eq!(file.not_used.len(), 1, "{name}: {:?}", file.not_used);
        assert_eq!(
            file.not_used[0].disposition,
            Disposition::NotRelevant,
            "{name}"
        );
        assert_eq!(file.not_used[0].kind, kind, "{name}");
        assert_eq!(file.not_used[0].records, records.len() as u64, "{name}");
    }
}
