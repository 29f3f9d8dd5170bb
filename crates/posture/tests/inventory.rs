//! Inventory: exact patterns on the hand-built fixture, the automation apps and service
//! principals of a simulated tenant counted independently from its files, and the drafted
//! allowlist against the engine's parser.

mod common;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use tokentrail_engine::allowlist;

use tokentrail_posture::inventory::IdentityType;
use tokentrail_posture::{render, Inventory, InventoryBuilder, Share};

fn fixture_inventory() -> Inventory {
    let mut b = InventoryBuilder::new();
    for a in common::accesses() {
        b.add_access(&a);
    }
    for s in common::sign_ins() {
        b.add_sign_in(&s);
    }
    b.finish(common::fixture_run())
}

#[test]
fn fixture_patterns_are_exact() {
    let inv = fixture_inventory();
    // s2, s3, sp1 and the six distinct accesses; interactive sign-ins are not inventory.
    assert_eq!(inv.records, 9);
    let rows: Vec<_> = inv
        .patterns
        .iter()
        .map(|p| {
            (
                p.id.as_str(),
                p.app_id.as_deref(),
                p.identity,
                p.user_count,
                p.sign_ins,
                p.accesses,
                p.operations,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            // Azure CLI: s3, a3 (OperationCount 4), a4; the UPN of a3/a4 and the object id of
            // s3 are one user.
            (
                "p01",
                Some(common::AZURE_CLI),
                IdentityType::Delegated,
                1,
                1,
                2,
                5
            ),
            (
                "p02",
                Some(common::OUTLOOK_MOBILE),
                IdentityType::Delegated,
                1,
                1,
                2,
                2
            ),
            (
                "p03",
                Some(common::BACKUP_APP),
                IdentityType::ServicePrincipal,
                0,
                1,
                1,
                1
            ),
            ("p04", None, IdentityType::Delegated, 1, 0, 1, 1),
        ]
    );
    let cli = &inv.patterns[0];
    assert_eq!(cli.users, ["bruno@contoso.example"]);
    assert_eq!(cli.share, Share { count: 3, of: 9 });
    assert_eq!(
        cli.traits.risky(),
        [
            "public client",
            "device-code flow",
            "tooling client id",
            "hosting network"
        ]
    );
    assert_eq!(cli.networks.len(), 1);
    assert_eq!(
        (cli.networks[0].asn, cli.networks[0].records),
        (Some(14061), 3)
    );
    assert_eq!(cli.top_operations[0], ("MailItemsAccessed".to_string(), 2));
    let outlook = &inv.patterns[1];
    assert_eq!(outlook.traits.risky(), ["public client"]);
    assert_eq!(outlook.users, ["adele@contoso.example"]);
    let backup = &inv.patterns[2];
    assert_eq!(
        backup.service_principal_id.as_deref(),
        Some(common::BACKUP_SP)
    );
    assert!(backup.traits.risky().is_empty());
    assert_eq!(backup.networks[0].label(), "AS8075");
    // a5 logs no IP and no app: one pattern, no network.
    assert!(inv.patterns[3].networks.is_empty());
    assert_eq!(inv.unattributed_accesses, 0);
}

#[test]
fn markdown_report_snapshot() {
    let mut out = Vec::new();
    render::inventory_markdown(&mut out, &fixture_inventory()).unwrap();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
}

#[test]
fn draft_allowlist_is_refused_until_reviewed() {
    let inv = fixture_inventory();
    let draft = inv.draft_allowlist("it-ops@contoso.example");
    insta::assert_snapshot!(draft);
    let errors = allowlist::parse(&draft, inv.run.generated_at).unwrap_err();
    // Four refused reasons, and the pattern without app id or principal has no match keys.
    assert_eq!(errors.len(), 5, "{errors:?}");
    assert!(
        errors[4].message.contains("`match` needs"),
        "{:?}",
        errors[4]
    );
    for (e, id) in errors.iter().zip([
        "p01-microsoft-azure-cli",
        "p02-outlook-mobile",
        "p03-contoso-mailbox-backup",
        "p04-no-client-app-id",
    ]) {
        assert!(e.message.contains(&format!("`{id}`")), "{e:?}");
        assert!(e.message.contains("REVIEW"), "{e:?}");
    }
    // A person writes the real reasons and the missing match.
    let reviewed = draft
        .replace("REVIEW:", "Approved in CHG-1042:")
        .replace("match: {  }", "match: { user: \"bruno@contoso.example\" }");
    let list = allowlist::parse(&reviewed, inv.run.generated_at).unwrap();
    assert_eq!(list.entries.len(), 4);
    for e in &list.entries {
        assert_eq!(e.expires, "2024-06-08", "90 days after 2024-03-10");
        assert_eq!(e.owner, "it-ops@contoso.example");
    }
    let cli = &list.entries[0];
    assert_eq!(
        cli.rules,
        Some(BTreeSet::from([
            tokentrail_engine::rules::tt003::ID,
            tokentrail_engine::rules::tt004::ID,
            tokentrail_engine::rules::tt005::ID
        ]))
    );
    assert_eq!(cli.matcher.app_id.as_deref(), Some(common::AZURE_CLI));
    assert_eq!(cli.matcher.user.as_deref(), Some("bruno@contoso.example"));
    assert_eq!(cli.matcher.asn, Some(14061));
    let backup = &list.entries[2];
    assert_eq!(backup.rules, None);
    assert_eq!(
        backup.matcher.service_principal_id.as_deref(),
        Some(common::BACKUP_SP)
    );
}

fn json_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn text<'v>(v: &'v serde_json::Value, key: &str) -> &'v str {
    v[key].as_str().unwrap_or("")
}

/// Distinct `Id`s per (AppId, ServicePrincipalId) in a sign-in table file.
fn sign_in_ids(file: &str) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for r in json_lines(&common::tenant().join("signins/la").join(file)) {
        out.entry((
            text(&r, "AppId").to_lowercase(),
            text(&r, "ServicePrincipalId").to_lowercase(),
        ))
        .or_default()
        .insert(text(&r, "Id").to_string());
    }
    out
}

#[test]
fn simulated_tenant_automation_and_service_principals_have_the_right_counts() {
    let b = RefCell::new(InventoryBuilder::new());
    let files: Vec<PathBuf> = common::tenant_files();
    let run = common::read_tenant(&files, &mut |s| b.borrow_mut().add_sign_in(s), &mut |a| {
        b.borrow_mut().add_access(a)
    });
    let inv = b.into_inner().finish(run);

    // App-only: every service principal and managed identity of the sign-in tables, with its
    // sign-ins there and its Graph rows (distinct RequestId) counted straight from the files.
    let graph = json_lines(&common::tenant().join("graph/la/MicrosoftGraphActivityLogs.jsonl"));
    let mut graph_by_sp: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &graph {
        let sp = text(r, "ServicePrincipalId").to_lowercase();
        if !sp.is_empty() {
            graph_by_sp
                .entry(sp)
                .or_default()
                .insert(text(r, "RequestId").to_string());
        }
    }
    let mut checked = 0;
    for (file, identity) in [
        (
            "AADServicePrincipalSignInLogs.jsonl",
            IdentityType::ServicePrincipal,
        ),
        (
            "AADManagedIdentitySignInLogs.jsonl",
            IdentityType::ManagedIdentity,
        ),
    ] {
        for ((app, sp), ids) in sign_in_ids(file) {
            let p = inv
                .patterns
                .iter()
                .find(|p| p.service_principal_id.as_deref() == Some(sp.as_str()))
                .unwrap_or_else(|| panic!("service principal {sp} not in the inventory"));
            assert_eq!(p.identity, identity, "{sp}");
            assert_eq!(p.app_id.as_deref(), Some(app.as_str()));
            assert_eq!(p.sign_ins, ids.len() as u64, "{sp}");
            assert_eq!(
                p.accesses,
                graph_by_sp.get(&sp).map_or(0, |s| s.len() as u64),
                "{sp}"
            );
            assert_eq!(p.user_count, 0);
            checked += 1;
        }
    }
    assert_eq!(
        checked, 3,
        "two service principals and one managed identity"
    );

    // The delegated automation account: its app's non-interactive sign-ins, Graph rows and UAL
    // mail and file records.
    const REPORTS: &str = "2b7d9e31-4c5a-4f60-8e12-9a3b6c7d8e21";
    let sign_ins: BTreeSet<String> = sign_in_ids("AADNonInteractiveUserSignInLogs.jsonl")
        .into_iter()
        .filter(|((app, _), _)| app == REPORTS)
        .flat_map(|(_, ids)| ids)
        .collect();
    let graph_rows = graph
        .iter()
        .filter(|r| text(r, "AppId") == REPORTS && !text(r, "UserId").is_empty())
        .count() as u64;
    let mut ual_rows = 0u64;
    for f in files
        .iter()
        .filter(|f| !f.to_string_lossy().contains("AzureActiveDirectory"))
        .filter(|f| f.starts_with("ual"))
    {
        let text = std::fs::read_to_string(common::tenant().join(f)).unwrap();
        let records: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        ual_rows += records
            .iter()
            .filter(|r| {
                r["AppAccessContext"]["ClientAppId"] == REPORTS
                    || r["ClientAppId"] == REPORTS
                    || r["ApplicationId"] == REPORTS
            })
            .count() as u64;
    }
    let p = inv
        .patterns
        .iter()
        .find(|p| p.app_id.as_deref() == Some(REPORTS))
        .unwrap();
    assert_eq!(p.identity, IdentityType::Delegated);
    assert_eq!(p.app_name.as_deref(), Some("Contoso Reports Automation"));
    assert_eq!(p.sign_ins, sign_ins.len() as u64);
    assert_eq!(p.accesses, graph_rows + ual_rows);
    assert!(p.sign_ins > 0 && graph_rows > 0 && ual_rows > 0);
    assert_eq!(p.users, ["svc-reports@contoso.example"]);
    assert!(p.traits.hosting_network, "the automation runs in AWS");
}

/// A pattern holding records that a finding cites is marked with the finding's id and drafted
/// commented out; the draft still parses, without it.
#[test]
fn patterns_that_findings_cite_are_marked_and_drafted_commented_out() {
    let mut engine = tokentrail_engine::Engine::new(tokentrail_engine::EngineConfig::default());
    let mut b = InventoryBuilder::new();
    for a in common::accesses() {
        b.add_access(&a);
        engine.add_access(a);
    }
    for s in common::sign_ins() {
        b.add_sign_in(&s);
        engine.add_sign_in(s);
    }
    let findings = engine.finish().findings;
    let cited: Vec<(String, String)> = findings
        .iter()
        .map(|f| (f.id.clone(), f.upn.clone().unwrap_or_default()))
        .collect();
    b.cite(&findings);
    let inv = b.finish(common::fixture_run());
    let marks: Vec<(&str, Vec<String>)> = inv
        .patterns
        .iter()
        .map(|p| (p.id.as_str(), p.findings.clone()))
        .collect();
    // Bruno's device-code Azure CLI token read mail from a VPS: every finding is his, and his
    // Azure CLI pattern holds their records.
    assert!(!cited.is_empty());
    assert!(cited.iter().all(|(_, upn)| upn == "bruno@contoso.example"));
    let ids: Vec<String> = cited.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(
        marks,
        [
            ("p01", ids.clone()),
            ("p02", vec![]),
            ("p03", vec![]),
            ("p04", vec![])
        ]
    );
    let draft = inv.draft_allowlist("it-ops@contoso.example");
    assert!(draft.contains(&format!(
        "  # p01 holds records that live findings cite: {}.\n",
        ids.join(", ")
    )));
    assert!(draft.contains("\n#   - id: \"p01-microsoft-azure-cli\"\n"));
    assert!(draft.contains("\n#     match: { app_id: \"04b07795-8ddb-461a-bbee-02f9e1bf7b46\", user: \"bruno@contoso.example\", asn: 14061 }\n"));
    let errors = allowlist::parse(&draft, inv.run.generated_at).unwrap_err();
    // Every active entry is refused until reviewed; the commented-out one is not an entry.
    let refused: BTreeSet<&str> = errors
        .iter()
        .filter_map(|e| e.message.split('`').nth(1))
        .collect();
    assert_eq!(
        refused,
        BTreeSet::from([
            "p02-outlook-mobile",
            "p03-contoso-mailbox-backup",
            "p04-no-client-app-id"
        ])
    );
}
