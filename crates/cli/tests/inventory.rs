//! `tokentrail inventory` end to end, and its drafted allowlist through `tokentrail detect`:
//! refused while reasons start with REVIEW; patterns holding an attack drafted commented out, so
//! approving every active entry silences no live finding; once reviewed it suppresses exactly
//! the patterns kept.

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
    common::simulate_with_attacks(dir, 30);
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

/// One drafted entry: its id, its text block (uncommented), and the finding ids of the note
/// above it when it was drafted commented out.
struct Drafted {
    id: String,
    block: String,
    held_by: Option<String>,
}

/// The entries of a drafted allowlist.
fn entries(draft: &str) -> (String, Vec<Drafted>) {
    let (head, body) = draft.split_once("entries:\n").unwrap();
    let mut out: Vec<Drafted> = Vec::new();
    let mut note: Option<String> = None;
    for line in body.lines() {
        if let Some(rest) = line.strip_prefix("  # ") {
            if let Some((_, ids)) = rest.split_once("holds records that live findings cite: ") {
                note = Some(ids.trim_end_matches('.').to_string());
            }
            continue;
        }
        let (line, commented) = match line.strip_prefix("# ") {
            Some(l) => (l, true),
            None => (line, false),
        };
        if let Some(id) = line.strip_prefix("  - id: ") {
            out.push(Drafted {
                id: id.trim_matches('"').to_string(),
                block: String::new(),
                held_by: if commented { note.take() } else { None },
            });
        }
        let last = out.last_mut().unwrap();
        last.block.push_str(line);
        last.block.push('\n');
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

    // As drafted: refused, exit 2, every active entry named, no commented-out one.
    let (code, findings, stderr) = detect(tenant, Some(&draft_path));
    assert_eq!(code, Some(2));
    assert!(findings.is_empty());
    for d in &all {
        let named = stderr.contains(&format!(
            "entry `{}`: refused: its reason starts with REVIEW",
            d.id
        ));
        assert_eq!(named, d.held_by.is_none(), "{}: {stderr}", d.id);
    }

    // Approving every active entry as drafted silences no live finding: the patterns that
    // hold attacks stay commented out.
    let mut approved = head.clone();
    for d in all.iter().filter(|d| d.held_by.is_none()) {
        approved.push_str(&d.block.replace("REVIEW:", "Approved in CHG-1041:"));
    }
    let approved_path = work.path().join("approved.yaml");
    std::fs::write(&approved_path, &approved).unwrap();
    let (code, after, stderr) = detect(tenant, Some(&approved_path));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(after, before);

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
    let kept: Vec<&Drafted> = all
        .iter()
        .filter(|d| {
            targets.iter().any(|(app, user)| {
                d.block.contains(&format!("app_id: \"{app}\""))
                    && d.block.contains(&format!("user: \"{user}\""))
            })
        })
        .collect();
    assert!(!kept.is_empty(), "no drafted entry for {targets:?}");
    // Each was drafted commented out, naming the findings it would silence: approving them is
    // the reviewer's deliberate act.
    assert!(kept.iter().all(|d| d.held_by.is_some()));
    let mut reviewed = head;
    for d in &kept {
        reviewed.push_str(&d.block.replace("REVIEW:", "Approved in CHG-1042:"));
    }
    let reviewed_path = work.path().join("reviewed.yaml");
    std::fs::write(&reviewed_path, &reviewed).unwrap();

    let (code, after, stderr) = detect(tenant, Some(&reviewed_path));
    assert_eq!(code, Some(0), "{stderr}");
    let kept_pairs: BTreeSet<(String, String)> = targets
        .iter()
        .filter(|(app, user)| {
            kept.iter().any(|d| {
                d.block.contains(&format!("app_id: \"{app}\""))
                    && d.block.contains(&format!("user: \"{user}\""))
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

/// Issue 12, point 8: on a tenant with every attack, the patterns of the attacker's client
/// (the consented mail archiver), the orphan token's client, the device-code phish's client
/// and the rootless session's client hold records the findings cite. Approving their drafted
/// entries, as the draft once offered them, silenced 4 of the 9 findings; they are now drafted
/// commented out, each naming the findings it would silence.
#[test]
fn patterns_holding_attacks_are_drafted_commented_out_with_their_findings() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    let tenant = dir.path().to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let draft_path = work.path().join("draft.yaml");
    let out = tokentrail(&[
        "inventory",
        tenant,
        "--emit-allowlist",
        draft_path.to_str().unwrap(),
        "--now",
        NOW,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let md = text(&out.stdout);
    assert!(
        md.contains("- **4 hold records that live findings cite** (not to be approved before each finding is ruled out; the drafted allowlist leaves them commented out): p01 Microsoft Office ("),
        "{md}"
    );
    let draft = std::fs::read_to_string(&draft_path).unwrap();
    assert!(draft.contains(
        "# Commented out: p01, p02, p13, p14 (4 patterns), whose records live findings cite.\n"
    ));
    let (head, all) = entries(&draft);
    let held: Vec<(&str, &str)> = all
        .iter()
        .filter_map(|d| Some((d.id.as_str(), d.held_by.as_deref()?)))
        .collect();
    assert_eq!(
        held,
        [
            (
                "p01-microsoft-office",
                "TT001-b2b6f0bd7557cfa3, TT001-ef3769cd14913c13, TT002-8f35b1fa90bb5ec5, \
                 TT002-8fda0faafc7bb92f, TT002-f700d1ce3239155e, TT005-ad8de5bbb001eb65"
            ),
            ("p02-outlook-mobile", "TT003-f055b4c8bc86c9ea"),
            ("p13-mail-archiver-pro", "TT005-f584d8480fbe96f1"),
            (
                "p14-5376989c-e82d-4581-be35-323e3a80960d",
                "TT004-6966e581ade4991f"
            ),
        ]
    );
    let archiver = &all
        .iter()
        .find(|d| d.id == "p13-mail-archiver-pro")
        .unwrap()
        .block;
    assert!(archiver.contains(
        "    match: { app_id: \"da7f37f4-4b36-4807-93b4-094bb578ae45\", user: \"isaiah.wilber.10@contoso.example\" }\n"
    ));

    // Every entry approved, the commented ones included: the 4 TT003-TT005 findings those
    // patterns hold are silenced, and only they.
    let (_, before, _) = detect(tenant, None);
    assert_eq!(before.len(), 9);
    let mut everything = head;
    for d in &all {
        everything.push_str(&d.block.replace("REVIEW:", "Approved in CHG-1043:"));
    }
    let path = work.path().join("everything.yaml");
    std::fs::write(&path, &everything).unwrap();
    let (code, after, stderr) = detect(tenant, Some(&path));
    assert_eq!(code, Some(0), "{stderr}");
    let silenced: BTreeSet<String> = after
        .iter()
        .filter(|f| f["status"] == "Suppressed")
        .map(|f| key(f).3)
        .collect();
    assert_eq!(
        silenced,
        BTreeSet::from(
            [
                "TT003-f055b4c8bc86c9ea",
                "TT004-6966e581ade4991f",
                "TT005-f584d8480fbe96f1",
                "TT005-ad8de5bbb001eb65"
            ]
            .map(String::from)
        )
    );
}
