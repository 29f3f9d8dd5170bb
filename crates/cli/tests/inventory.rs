//! `tokentrail inventory` end to end, and its drafted allowlist through `tokentrail detect`:
//! refused while reasons start with REVIEW, and once reviewed it suppresses exactly the
//! patterns kept.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

fn tokentrail(args: &[&str]) -> Output {
    common::tokentrail().args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const NOW: &str = "2024-03-10T00:00:00Z";

fn simulate(dir: &Path) {
    let out = tokentrail(&[
        "simulate",
        "--users",
        "30",
        "--days",
        "3",
        "--seed",
        "7",
        "--attacks",
        "all",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Findings of `detect --format ocsf` (suppressed ones included).
fn detect(tenant: &str, allowlist: Option<&Path>) -> (Option<i32>, Vec<serde_json::Value>, String) {
    let mut args = vec![
        "detect",
        tenant,
        "--format",
        "ocsf",
        "--show-suppressed",
        "--now",
        NOW,
    ];
    if let Some(a) = allowlist {
        args.push("--allowlist");
        args.push(a.to_str().unwrap());
    }
    let out = tokentrail(&args);
    let findings = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (out.status.code(), findings, text(&out.stderr))
}

/// (rule, app id, user name, finding id) of a finding.
fn key(f: &serde_json::Value) -> (String, String, String, String) {
    let s = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
    (
        s(&f["finding_info"]["analytic"]["uid"]),
        s(&f["actor"]["app_uid"]),
        s(&f["actor"]["user"]["name"]),
        s(&f["finding_info"]["uid"]),
    )
}

/// The entries of a drafted allowlist as (id, text block).
fn entries(draft: &str) -> (String, Vec<(String, String)>) {
    let (head, body) = draft.split_once("entries:\n").unwrap();
    let mut out: Vec<(String, String)> = Vec::new();
    for line in body.lines() {
        if let Some(id) = line.strip_prefix("  - id: ") {
            out.push((id.trim_matches('"').to_string(), String::new()));
        }
        let last = out.last_mut().unwrap();
        last.1.push_str(line);
        last.1.push('\n');
    }
    (format!("{head}entries:\n"), out)
}

#[test]
fn drafted_allowlist_is_refused_then_suppresses_exactly_the_reviewed_patterns() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    let tenant = dir.path().to_str().unwrap();

    let (code, before, stderr) = detect(tenant, None);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(before.iter().all(|f| f["status"] == "New"));

    // Outside the tenant folder, which detect reads whole.
    let work = tempfile::tempdir().unwrap();
    let draft_path = work.path().join("draft.yaml");
    let report = work.path().join("inventory.json");
    let out = tokentrail(&[
        "inventory",
        tenant,
        "--format",
        "json",
        "-o",
        report.to_str().unwrap(),
        "--emit-allowlist",
        draft_path.to_str().unwrap(),
        "--owner",
        "it-ops@contoso.example",
        "--now",
        NOW,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let inventory: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let draft = std::fs::read_to_string(&draft_path).unwrap();
    let (head, all) = entries(&draft);
    assert_eq!(all.len(), inventory["patterns"].as_array().unwrap().len());

    // As drafted: refused, exit 2, every entry named.
    let (code, findings, stderr) = detect(tenant, Some(&draft_path));
    assert_eq!(code, Some(2));
    assert!(findings.is_empty());
    for (id, _) in &all {
        assert!(
            stderr.contains(&format!(
                "entry `{id}`: refused: its reason starts with REVIEW"
            )),
            "{id} not named in {stderr}"
        );
    }

    // The reviewer keeps the delegated single-user patterns behind the TT003-TT005 findings
    // (and deletes the rest), then writes real reasons.
    let inventory_rules = ["TT003", "TT004", "TT005"];
    let targets: BTreeSet<(String, String)> = before
        .iter()
        .map(key)
        .filter(|(rule, app, user, _)| {
            inventory_rules.contains(&rule.as_str()) && !app.is_empty() && !user.is_empty()
        })
        .map(|(_, app, user, _)| (app, user))
        .collect();
    let kept: Vec<&(String, String)> = all
        .iter()
        .filter(|(_, block)| {
            targets.iter().any(|(app, user)| {
                block.contains(&format!("app_id: \"{app}\""))
                    && block.contains(&format!("user: \"{user}\""))
            })
        })
        .collect();
    assert!(!kept.is_empty(), "no drafted entry for {targets:?}");
    let mut reviewed = head;
    for (_, block) in &kept {
        reviewed.push_str(&block.replace("REVIEW:", "Approved in CHG-1042:"));
    }
    let reviewed_path = work.path().join("reviewed.yaml");
    std::fs::write(&reviewed_path, &reviewed).unwrap();

    let (code, after, stderr) = detect(tenant, Some(&reviewed_path));
    assert_eq!(code, Some(0), "{stderr}");
    let kept_pairs: BTreeSet<(String, String)> = targets
        .iter()
        .filter(|(app, user)| {
            kept.iter().any(|(_, b)| {
                b.contains(&format!("app_id: \"{app}\""))
                    && b.contains(&format!("user: \"{user}\""))
            })
        })
        .cloned()
        .collect();
    let expected_suppressed: BTreeSet<String> = before
        .iter()
        .map(key)
        .filter(|(rule, app, user, _)| {
            inventory_rules.contains(&rule.as_str())
                && kept_pairs.contains(&(app.clone(), user.clone()))
        })
        .map(|k| k.3)
        .collect();
    let suppressed: BTreeSet<String> = after
        .iter()
        .filter(|f| f["status"] == "Suppressed")
        .map(|f| key(f).3)
        .collect();
    assert!(!expected_suppressed.is_empty());
    assert_eq!(suppressed, expected_suppressed);
    // Nothing else changed: the same findings, the replay rules untouched.
    let ids = |v: &[serde_json::Value]| v.iter().map(|f| key(f).3).collect::<BTreeSet<_>>();
    assert_eq!(ids(&after), ids(&before));
    for f in after.iter().filter(|f| f["status"] == "Suppressed") {
        let rule = key(f).0;
        assert!(
            inventory_rules.contains(&rule.as_str()),
            "{rule} suppressed"
        );
    }
}

#[test]
fn inventory_markdown_and_help() {
    let out = tokentrail(&["inventory", "--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(
        help.contains("Examples:") && help.contains("--emit-allowlist"),
        "{help}"
    );

    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    let out = tokentrail(&["inventory", dir.path().to_str().unwrap(), "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let md = text(&out.stdout);
    assert!(md.starts_with("# Non-interactive and app-only access inventory\n"));
    assert!(md.contains("Date of the run: 2024-03-10."));
    assert!(
        md.contains("| Contoso Mailbox Backup | service principal |"),
        "{md}"
    );
    assert!(
        md.contains("| func-invoice-processor | managed identity |"),
        "{md}"
    );
    assert!(md.contains("| Contoso Reports Automation | delegated | svc-reports@contoso.example |"));

    let out = tokentrail(&["inventory", "/nonexistent/exports"]);
    assert_eq!(out.status.code(), Some(2));
}
