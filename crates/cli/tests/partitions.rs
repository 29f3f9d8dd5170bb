//! Issue 17: a tenant judged in partitions of its users, one at a time, gives byte-identical
//! findings and the same run notes as judged at once: tenants with every attack, in export
//! shapes whose records name their users differently (object id, UPN only, the admin center's
//! CSV whose rows do not say their kind), a small office with quiet nights.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

fn tokentrail(args: &[&str]) -> Output {
    common::tokentrail().args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn simulate(root: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = root.join(name);
    let mut all = vec![
        "simulate",
        "--attacks",
        "all",
        "--out",
        out.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let o = tokentrail(&all);
    assert!(o.status.success(), "{}", text(&o.stderr));
    out
}

/// OCSF findings and stderr of `detect` on `tenant`.
fn detect(tenant: &Path, extra: &[&str]) -> (String, String) {
    let mut args = vec![
        "detect",
        tenant.to_str().unwrap(),
        "--format",
        "ocsf",
        "--now",
        "2030-01-01",
        "--show-suppressed",
    ];
    args.extend_from_slice(extra);
    let o = tokentrail(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    (text(&o.stdout), text(&o.stderr))
}

/// The UPN of the user of the tenant's first TT001 finding.
fn office_user(tenant: &Path) -> String {
    let o = tokentrail(&[
        "detect",
        tenant.to_str().unwrap(),
        "--format",
        "csv",
        "--now",
        "2030-01-01",
        "--rules",
        "TT001",
    ]);
    let out = text(&o.stdout);
    let row = out.lines().nth(1).expect("a TT001 finding");
    row.split(',').nth(8).expect("the upn column").to_owned()
}

const NOTE: &str = "partitions of its users, one at a time";

fn same_in_partitions(tenant: &Path, min_findings: usize) {
    let (expected, notes) = detect(tenant, &[]);
    assert!(
        expected.lines().count() >= min_findings,
        "{}",
        expected.lines().count()
    );
    assert!(!notes.contains(NOTE), "{notes}");
    for (parts, threads) in [("2", "2"), ("5", "1"), ("16", "2"), ("64", "2")] {
        let (found, found_notes) = detect(tenant, &["--partitions", parts, "--threads", threads]);
        assert!(found == expected, "{parts} partitions: the findings differ");
        let note = format!("tokentrail: the tenant was judged in {parts} {NOTE}");
        assert!(found_notes.contains(&note), "{found_notes}");
        let without: String = found_notes
            .lines()
            .filter(|l| !l.contains(NOTE))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(without, notes, "{parts} partitions");
    }
}

#[test]
fn a_tenant_judged_in_partitions_of_its_users_gives_the_same_findings() {
    let root = tempfile::tempdir().unwrap();
    // Sign-ins as the admin center's CSV (rows that do not state their kind take their file's),
    // the audit log as Purview's CSV (Exchange and SharePoint records name the user by UPN
    // only), Graph activity by object id.
    let mixed = simulate(
        root.path(),
        "mixed",
        &[
            "--users",
            "40",
            "--days",
            "3",
            "--seed",
            "5",
            "--formats",
            "signins=entra-portal-csv,ual=purview-csv",
        ],
    );
    same_in_partitions(&mixed, 8);
    // Tabs renamed: a row that does not state its kind takes the kind its file's other rows
    // state, and those rows are other users', in other partitions.
    let tabs = mixed.join("signins").join("entra-portal");
    for entry in std::fs::read_dir(&tabs).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let neutral = name
            .replace("NonInteractiveSignIns_", "tab-b-")
            .replace("InteractiveSignIns_", "tab-a-");
        std::fs::rename(&path, tabs.join(neutral)).unwrap();
    }
    same_in_partitions(&mixed, 8);
    // Quiet nights and weekends (coverage decides on the tokens issued in silences), the
    // office network several users share, a tenant small enough that the inventory means
    // little.
    let office = simulate(
        root.path(),
        "office",
        &[
            "--profile",
            "small-office",
            "--users",
            "12",
            "--days",
            "9",
            "--seed",
            "21",
        ],
    );
    same_in_partitions(&office, 5);

    // The allowlist (an entry that suppresses, one that matches nothing, one expired), the
    // reporting window and the severity floor are applied to all partitions' findings at once.
    let allowlist = root.path().join("allow.yaml");
    let user = office_user(&office);
    std::fs::write(
        &allowlist,
        format!(
            "version: 1\nentries:\n  - id: one-user\n    reason: \"test\"\n    owner: \"soc@contoso.example\"\n    expires: 2031-01-01\n    rules: [TT001]\n    match:\n      user: \"{user}\"\n  - id: nothing\n    reason: \"test\"\n    owner: \"soc@contoso.example\"\n    expires: 2031-01-01\n    match:\n      app_id: \"00000000-0000-0000-0000-000000000000\"\n  - id: expired\n    reason: \"test\"\n    owner: \"soc@contoso.example\"\n    expires: 2020-01-01\n    match:\n      user: \"nobody@contoso.example\"\n"
        ),
    )
    .unwrap();
    let judging = [
        "--allowlist",
        allowlist.to_str().unwrap(),
        "--since",
        "2024-03-06",
        "--min-severity",
        "medium",
    ];
    let (expected, notes) = detect(&office, &judging);
    assert!(
        notes.contains("allowlist entry \"one-user\" (line 3) suppressed"),
        "{notes}"
    );
    assert!(notes.contains("it matched no finding"), "{notes}");
    let mut parted = judging.to_vec();
    parted.extend(["--partitions", "9"]);
    let (found, found_notes) = detect(&office, &parted);
    assert!(
        found == expected,
        "the findings differ with an allowlist and a window"
    );
    let without: String = found_notes
        .lines()
        .filter(|l| !l.contains(NOTE))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(without, notes);

    // Partition files that cannot be made: the tenant is judged at once, and the run says so.
    let missing = root.path().join("no-such-dir");
    let o = common::tokentrail()
        .env("TMPDIR", &missing)
        .args([
            "detect",
            office.to_str().unwrap(),
            "--format",
            "ocsf",
            "--now",
            "2030-01-01",
            "--show-suppressed",
            "--partitions",
            "4",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout) == detect(&office, &[]).0);
    assert!(
        text(&o.stderr).contains(
            "tokentrail: the 4 partitions' files could not be made in the temporary directory"
        ),
        "{}",
        text(&o.stderr)
    );
}
