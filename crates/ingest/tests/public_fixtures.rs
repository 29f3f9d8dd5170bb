//! Every public sample listed in `PROVENANCE.md` decodes to the families, kinds and counts
//! checked here by hand, with no unreadable record.
//!
//! The samples live outside the repository (`../shared/fixtures/public`, read-only). When the
//! folder is absent the tests print "skipped: ../shared not found" and pass, except under
//! `CI=true`, where they fail.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tokentrail_ingest::{
    read_paths, DecodeOptions, Decoded, DecodedRecord, Disposition, ReadOptions,
};
use tokentrail_model::{Guid, SignInKind, TokenId};

fn fixtures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/public");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("../shared/fixtures/public not found (required when CI=true)");
    }
    eprintln!("skipped: ../shared not found");
    None
}

/// What one file decodes to: "shape family kind" (for accesses, kind is `log/workload`).
type Summary = BTreeMap<String, usize>;

fn key(d: &DecodedRecord) -> String {
    let kind = match &d.event {
        Decoded::SignIn(s) => s.kind.to_string(),
        Decoded::Access(a) => format!("{}/{}", a.log, a.workload.as_str()),
        Decoded::Other(o) => o.kind.clone(),
    };
    format!("{:?} {} {}", d.shape, d.family(), kind)
}

/// Read one sample through the real reader; SEKOIA test cases unwrapped (which also makes
/// the reader frame Panther YAML rules' `Tests[].Log`). Duplicates are kept: these counts are
/// per record.
fn read(dir: &Path, name: &str) -> (Summary, Vec<DecodedRecord>, tokentrail_ingest::FileReport) {
    let opts = ReadOptions {
        decode: DecodeOptions {
            unwrap_test_cases: true,
            ..DecodeOptions::default()
        },
        drop_duplicate_sign_ins: false,
        ..ReadOptions::default()
    };
    let mut events = Vec::new();
    let report = read_paths(&[dir.join(name)], &opts, &mut |d| events.push(d));
    let mut summary = Summary::new();
    for d in &events {
        *summary.entry(key(d)).or_default() += 1;
    }
    let file = report.files.into_iter().next().expect("one file report");
    (summary, events, file)
}

/// Expected per file, checked by hand against the samples.
const EXPECTED: &[(&str, &[(&str, usize)])] = &[
    (
        "elastic-integrations/test-non-interactive-user-signin.log",
        &[("DiagnosticSignIn sign-ins non-interactive", 1)],
    ),
    (
        "elastic-integrations/test-signinlogs-raw.log",
        &[
            ("DiagnosticSignIn sign-ins interactive", 1),
            ("DiagnosticSignIn sign-ins managed-identity", 1),
            ("DiagnosticSignIn sign-ins non-interactive", 1),
            ("DiagnosticSignIn sign-ins service-principal", 2),
        ],
    ),
    (
        "elastic-integrations/test-service-principal-signinlogs-sample.log",
        &[("DiagnosticSignIn sign-ins service-principal", 7)],
    ),
    (
        "sekoia-intake-formats/Azure-azure-ad/sign-in_activity5.json",
        &[("DiagnosticSignIn sign-ins interactive", 1)],
    ),
    (
        "sekoia-intake-formats/Azure-azure-ad/sign-in_activity6.json",
        &[("DiagnosticSignIn sign-ins non-interactive", 1)],
    ),
    (
        "sekoia-intake-formats/Azure-azure-ad/sign-in_activity7.json",
        &[("DiagnosticSignIn sign-ins service-principal", 1)],
    ),
    (
        "sekoia-intake-formats/Azure-azure-ad/sign-in_activity4.json",
        &[("DiagnosticSignIn sign-ins interactive", 1)],
    ),
    (
        "sekoia-intake-formats/Microsoft-microsoft-entraid-graphapi/test_signin.json",
        &[("GraphSignIn sign-ins interactive", 1)],
    ),
    (
        "msgraph-docs/signin-list-beta-example1-response.json",
        &[("GraphSignIn sign-ins interactive", 1)],
    ),
    (
        "panther-analysis/azure_graph_session_multiple_ips.yml",
        &[
            ("DiagnosticSignIn sign-ins interactive", 2),
            ("DiagnosticSignIn sign-ins non-interactive", 1),
        ],
    ),
    (
        "panther-analysis/azure_risklevel_passthrough.yml",
        &[("DiagnosticSignIn sign-ins service-principal", 5)],
    ),
    (
        "panther-analysis/azure_legacyauth.yml",
        &[
            ("DiagnosticSignIn sign-ins interactive", 2),
            ("DiagnosticSignIn sign-ins service-principal", 1),
        ],
    ),
    (
        "panther-analysis/azure_failed_signins.yml",
        &[("DiagnosticSignIn sign-ins service-principal", 2)],
    ),
    (
        "elastic-integrations/test-activitylogs-raw.log",
        &[(
            "DiagnosticGraphActivity graph-activity graph-activity/other",
            6,
        )],
    ),
    (
        "sekoia-intake-formats/Azure-azure-ad/graph_activity_2.json",
        &[(
            "DiagnosticGraphActivity graph-activity graph-activity/other",
            1,
        )],
    ),
    (
        "sekoia-intake-formats/Office_365-o365/exchange_item_group_7.json",
        &[("UalRecord unified-audit exchange-audit/mail", 1)],
    ),
    (
        "sekoia-intake-formats/Office_365-o365/exchange_item_aggregated.json",
        &[("UalRecord unified-audit exchange-audit/mail", 1)],
    ),
    (
        "sekoia-intake-formats/Office_365-o365/exchange_item_group_4.json",
        &[("UalRecord unified-audit exchange-audit/mail", 1)],
    ),
    (
        "sekoia-intake-formats/Office_365-o365/external_user.json",
        &[("UalRecord unified-audit onedrive-audit/files", 1)],
    ),
    (
        "sekoia-intake-formats/Office_365-o365/file_sync_download_full.json",
        &[("UalRecord unified-audit sharepoint-audit/files", 1)],
    ),
    (
        "sekoia-intake-formats/Office_365-o365/targetusername.json",
        &[("UalRecord unified-audit onedrive-audit/files", 1)],
    ),
    (
        "sekoia-intake-formats/Office_365-o365/user_logged_in_2.json",
        &[("UalRecord sign-ins ual-logon", 1)],
    ),
    (
        "otrf-security-datasets/OfficeActivityEvents.json",
        &[("OfficeActivity unified-audit exchange-audit/mail", 1)],
    ),
    (
        "otrf-security-datasets/Microsoft365DefenderEvents.json",
        &[
            ("CloudAppEvents unified-audit exchange-audit/mail", 1),
            ("Unknown other defender-xdr", 8),
        ],
    ),
    (
        "otrf-security-datasets/AADAuditEvents.json",
        &[("Unknown other directory-audit", 4)],
    ),
    (
        "panther-analysis/microsoft365_external_sharing.yml",
        &[("UalRecord unified-audit onedrive-audit/files", 5)],
    ),
    (
        "sekoia-intake-formats/Google_Cloud-google-report/test_token_sample1.json",
        &[("Unknown other google-workspace", 1)],
    ),
    (
        "sekoia-intake-formats/Google_Cloud-google-report/test_token_sample2.json",
        &[("Unknown other google-workspace", 1)],
    ),
    (
        "sekoia-intake-formats/Google_Cloud-google-report/test_drive_view_document.json",
        &[("Unknown other google-workspace", 1)],
    ),
    (
        "panther-analysis/gsuite_oauth_privileged_scopes.yml",
        &[("Unknown other google-workspace", 4)],
    ),
    (
        "sekoia-intake-formats/derived/o365_ual_auditdata.jsonl",
        &[
            ("UalRecord other ual:AzureActiveDirectory", 7),
            ("UalRecord other ual:ComplianceManager", 1),
            ("UalRecord other ual:Exchange", 2),
            ("UalRecord other ual:MCAS", 1),
            ("UalRecord other ual:MicrosoftForms", 1),
            ("UalRecord other ual:OneDrive", 1),
            ("UalRecord other ual:PowerBI", 1),
            ("UalRecord other ual:SecurityComplianceCenter", 14),
            ("UalRecord other ual:ThreatIntelligence", 4),
            ("UalRecord other ual:Yammer", 1),
            ("UalRecord other ual:user1", 6),
            ("UalRecord sign-ins ual-logon", 6),
            ("UalRecord unified-audit exchange-audit/mail", 14),
            ("UalRecord unified-audit onedrive-audit/files", 3),
            ("UalRecord unified-audit sharepoint-audit/files", 6),
            ("UalRecord unified-audit teams-audit/teams", 5),
        ],
    ),
    (
        "sekoia-intake-formats/derived/entra_eventhub_signin_graph.jsonl",
        &[
            (
                "DiagnosticGraphActivity graph-activity graph-activity/other",
                3,
            ),
            ("DiagnosticSignIn sign-ins interactive", 6),
            ("DiagnosticSignIn sign-ins non-interactive", 1),
            ("DiagnosticSignIn sign-ins service-principal", 1),
            ("Unknown other directory-audit", 11),
            ("Unknown other risk-detection", 3),
        ],
    ),
    (
        "sekoia-intake-formats/derived/entraid_graphapi.jsonl",
        &[
            ("GraphSignIn sign-ins interactive", 1),
            ("Unknown other directory-audit", 78),
        ],
    ),
    (
        "sekoia-intake-formats/derived/google_workspace_reports.jsonl",
        &[("Unknown other google-workspace", 48)],
    ),
];

/// The manifest of the derived bundles is listed in PROVENANCE.md but holds no records.
const NOT_A_LOG: &str = "sekoia-intake-formats/derived/MANIFEST.tsv";

#[test]
fn every_listed_sample_decodes_to_the_expected_families_and_kinds() {
    let Some(dir) = fixtures() else { return };
    let provenance = std::fs::read_to_string(dir.join("PROVENANCE.md")).unwrap();
    let listed: Vec<&str> = provenance
        .lines()
        .filter_map(|l| l.strip_prefix("### `")?.strip_suffix('`'))
        .collect();
    assert_eq!(
        listed.len(),
        EXPECTED.len() + 1,
        "a sample was added to or removed from PROVENANCE.md"
    );
    for name in listed {
        let (summary, _, file) = read(&dir, name);
        if name == NOT_A_LOG {
            assert_eq!(file.records, 0, "{name}");
            assert_eq!(file.problems.len(), 1, "{name}: {:?}", file.problems);
            continue;
        }
        let expected: Summary = EXPECTED
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{name} has no expectation"))
            .1
            .iter()
            .map(|(k, n)| ((*k).to_owned(), *n))
            .collect();
        assert_eq!(summary, expected, "{name}");
        assert!(
            file.is_clean(),
            "{name}: {:?} {:?}",
            file.unreadable_records,
            file.problems
        );
    }
}

/// Values the samples document, checked on the decoded events.
#[test]
fn sample_values() {
    let Some(dir) = fixtures() else { return };

    // Legacy 48-character token ids are base64 of the sign-in id.
    let (_, events, _) = read(
        &dir,
        "elastic-integrations/test-service-principal-signinlogs-sample.log",
    );
    assert_eq!(events.len(), 7);
    for d in &events {
        let Decoded::SignIn(s) = &d.event else {
            panic!("{d:?}")
        };
        assert_eq!(s.token_id, s.id.map(TokenId::from_guid), "{:?}", s.source);
        assert_eq!(s.user_id, None);
        assert!(s.service_principal_id.is_some());
    }

    // The Graph docs example: display-text token type, duplicate uniqueTokenIdentifier.
    let (_, events, _) = read(&dir, "msgraph-docs/signin-list-beta-example1-response.json");
    let Decoded::SignIn(s) = &events[0].event else {
        panic!()
    };
    assert_eq!(
        s.incoming_token_type.as_deref(),
        Some("primaryRefreshToken")
    );
    assert_eq!(s.error_code, Some(50126));
    assert_eq!(s.asn, Some(3598));
    assert_eq!(
        s.token_id.as_ref().map(ToString::to_string).as_deref(),
        Some("e14997a4-f892-4b0b-b051-febe05c2a49b")
    );

    // A placeholder token id stays opaque.
    let (_, events, _) = read(
        &dir,
        "sekoia-intake-formats/Azure-azure-ad/sign-in_activity7.json",
    );
    let Decoded::SignIn(s) = &events[0].event else {
        panic!()
    };
    assert_eq!(s.kind, SignInKind::ServicePrincipal);
    assert_eq!(s.token_id, TokenId::parse("tOkEnIdEnTiFiEr123"));
    assert_eq!(s.token_id.as_ref().and_then(|t| t.0.guid()), None);

    // Lower-case `c_Sid` and `C_DeviceId` in Elastic's Graph activity sample.
    let (_, events, _) = read(&dir, "elastic-integrations/test-activitylogs-raw.log");
    let Decoded::Access(a) = &events[5].event else {
        panic!()
    };
    assert_eq!(
        a.session_id.as_ref().map(ToString::to_string).as_deref(),
        Some("xyz000")
    );
    assert_eq!(a.device_id.as_deref(), Some("abc123"));
    assert_eq!(a.operation, "GET /v1.0/directoryRoles");

    // SEKOIA's Graph activity: modern token id, `C_Iat`, `C_Idtyp`.
    let (_, events, _) = read(
        &dir,
        "sekoia-intake-formats/Azure-azure-ad/graph_activity_2.json",
    );
    let Decoded::Access(a) = &events[0].event else {
        panic!()
    };
    assert_eq!(a.token_id, TokenId::parse("nCIzipjKBXc87y9rpX8dAA"));
    assert_eq!(
        a.token_issued_at.map(|t| t.to_string()).as_deref(),
        Some("2025-10-02T08:45:25Z")
    );
    assert_eq!(a.actor, tokentrail_model::Actor::Delegated);

    // The Defender row and the Sentinel row are the same MailItemsAccessed.
    let (_, events, _) = read(
        &dir,
        "otrf-security-datasets/Microsoft365DefenderEvents.json",
    );
    let cloud = events
        .iter()
        .find_map(|d| match &d.event {
            Decoded::Access(a) => Some(a.clone()),
            _ => None,
        })
        .unwrap();
    let (_, events, _) = read(&dir, "otrf-security-datasets/OfficeActivityEvents.json");
    let Decoded::Access(office) = &events[0].event else {
        panic!()
    };
    assert_eq!(cloud.record_id, office.record_id);
    assert_eq!(
        cloud.app_id.as_deref(),
        Some("5a95e683-08ad-424e-a441-1d1aec52c02c")
    );
    assert_eq!(cloud.app_id, office.app_id);
    assert_eq!(cloud.mail_access_type.as_deref(), Some("Bind"));
    assert_eq!(cloud.count, 7);
    assert_eq!(cloud.time, office.time);

    // The UAL logon: `Id` is the sign-in id, the session comes from DeviceProperties.
    let (_, events, _) = read(
        &dir,
        "sekoia-intake-formats/Office_365-o365/user_logged_in_2.json",
    );
    let Decoded::SignIn(s) = &events[0].event else {
        panic!()
    };
    assert_eq!(s.id, Guid::parse("5f24aa82-f874-44d1-b6df-857cd9e1decf"));
    assert_eq!(
        s.session_id.as_ref().map(ToString::to_string).as_deref(),
        Some("77f6d9ce-da8f-46bf-a651-4bec3c189770")
    );
}

/// Issue 13: read as a responder would (test cases wrapped or not), no record of the public
/// samples is "not understood": every record not used is named, as not relevant or as a shape
/// tokentrail does not read. None of those is a sign-in, a Graph call or an audit record.
#[test]
fn nothing_in_the_public_samples_is_left_not_understood() {
    let Some(dir) = fixtures() else { return };
    for unwrap_test_cases in [false, true] {
        let opts = ReadOptions {
            decode: DecodeOptions {
                unwrap_test_cases,
                ..DecodeOptions::default()
            },
            ..ReadOptions::default()
        };
        let report = read_paths(&[&dir], &opts, &mut |_| {});
        let not_understood: Vec<_> = report
            .files
            .iter()
            .flat_map(|f| f.not_used.iter().map(move |u| (f.file.clone(), u.clone())))
            .filter(|(_, u)| u.disposition == Disposition::NotUnderstood)
            .collect();
        assert!(
            not_understood.is_empty(),
            "test cases unwrapped: {unwrap_test_cases}: {not_understood:?}"
        );
        let kinds: Vec<&str> = report
            .totals
            .not_used
            .iter()
            .map(|u| u.kind.as_str())
            .collect();
        for kind in &kinds {
            assert!(
                !kind.contains("sign-in") && !kind.contains("graph-activity"),
                "{kind}"
            );
        }
        assert!(kinds.contains(&"directory-audit"), "{kinds:?}");
        assert!(kinds.contains(&"risk-detection"), "{kinds:?}");
        assert!(kinds.contains(&"google-workspace"), "{kinds:?}");
        assert_eq!(
            kinds.contains(&"test-case"),
            !unwrap_test_cases,
            "{kinds:?}"
        );
    }
}
