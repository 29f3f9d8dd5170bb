//! `tokentrail detect` and `tokentrail demo` end to end: exit codes, input order, the allowlist,
//! and the public samples.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

fn tokentrail(args: &[&str]) -> Output {
    common::tokentrail().args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn tenant() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tenant")
}

/// Every log file of the example tenant, sorted.
fn tenant_files() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p.to_string_lossy().into_owned());
            }
        }
    }
    let mut files = Vec::new();
    for folder in ["signins", "graph", "ual"] {
        walk(&tenant().join(folder), &mut files);
    }
    files
}

fn ocsf_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    text(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// (finding id, rule, records counted) of each finding, sorted: what must not depend on input
/// order (the cited source lines may).
fn finding_keys(findings: &[serde_json::Value]) -> Vec<(String, String, u64)> {
    let mut keys: Vec<_> = findings
        .iter()
        .map(|f| {
            (
                f["finding_info"]["uid"].as_str().unwrap().to_owned(),
                f["finding_info"]["analytic"]["uid"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                f["count"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    keys.sort();
    keys
}

#[test]
fn demo_finds_findings_and_scores_them() {
    let out = tokentrail(&["demo", "--format", "ocsf"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let findings = ocsf_lines(&out.stdout);
    assert!(!findings.is_empty(), "{stderr}");
    for f in &findings {
        assert_eq!(f["class_uid"], 2004);
        assert_eq!(f["metadata"]["version"], "1.8.0");
    }
    assert!(
        stderr.contains("against the 6 injected attacks: recall 1.00 (6/6)"),
        "{stderr}"
    );
}

#[test]
fn reversed_file_order_gives_identical_output() {
    let files = tenant_files();
    let mut forward: Vec<&str> = vec!["detect", "--format", "ocsf"];
    forward.extend(files.iter().map(String::as_str));
    let mut backward: Vec<&str> = vec!["detect", "--format", "ocsf"];
    backward.extend(files.iter().rev().map(String::as_str));
    let a = tokentrail(&forward);
    let b = tokentrail(&backward);
    assert_eq!(a.status.code(), Some(0), "{}", text(&a.stderr));
    assert!(!a.stdout.is_empty());
    assert_eq!(text(&a.stdout), text(&b.stdout));
}

/// Accesses that wait on disk (a bound of 500 in memory spills the 2,188 accesses of the
/// example tenant read twice into five partitions) give byte-identical findings and run notes on one thread and
/// on two. Every file is given twice, so the copies of each record must meet in one partition
/// to be dropped as duplicates.
#[test]
fn accesses_waiting_on_disk_give_identical_output() {
    let files = tenant_files();
    let twice: Vec<&str> = files.iter().chain(&files).map(String::as_str).collect();
    let run = |extra: &[&str]| {
        let mut args = vec!["detect", "--format", "ocsf"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&twice);
        tokentrail(&args)
    };
    let base = run(&["--threads", "1"]);
    assert_eq!(base.status.code(), Some(0), "{}", text(&base.stderr));
    assert_eq!(ocsf_lines(&base.stdout).len(), 9);
    assert!(
        // Every sign-in row reaches the engine, which merges the copies.
        text(&base.stderr).contains("990 sign-ins, 2188 accesses; 9 findings"),
        "{}",
        text(&base.stderr)
    );
    for threads in ["1", "2"] {
        let spilled = run(&["--threads", threads, "--accesses-in-memory", "500"]);
        assert_eq!(spilled.status.code(), Some(0), "{}", text(&spilled.stderr));
        assert_eq!(
            text(&spilled.stdout),
            text(&base.stdout),
            "threads {threads}"
        );
        assert_eq!(
            text(&spilled.stderr),
            text(&base.stderr),
            "threads {threads}"
        );
    }
}

#[test]
fn records_in_reverse_order_give_the_same_findings() {
    let dir = tempfile::tempdir().unwrap();
    let mut reversed = Vec::new();
    for (i, file) in tenant_files().iter().enumerate() {
        let bytes = std::fs::read(file).unwrap();
        // JSON lines are reversed line by line; other containers are copied as they are (their
        // files are still given in reverse order below).
        let copy = if file.ends_with(".jsonl") {
            let body = text(&bytes);
            let mut lines: Vec<&str> = body.lines().collect();
            lines.reverse();
            lines.join("\n").into_bytes()
        } else {
            bytes
        };
        let name = Path::new(file)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let path = dir.path().join(format!("{i:02}-{name}"));
        std::fs::write(&path, copy).unwrap();
        reversed.push(path.to_string_lossy().into_owned());
    }
    reversed.reverse();
    let mut args: Vec<&str> = vec!["detect", "--format", "ocsf"];
    args.extend(reversed.iter().map(String::as_str));
    let shuffled = tokentrail(&args);
    let mut original: Vec<&str> = vec!["detect", "--format", "ocsf"];
    let files = tenant_files();
    original.extend(files.iter().map(String::as_str));
    let original = tokentrail(&original);
    assert_eq!(
        shuffled.status.code(),
        Some(0),
        "{}",
        text(&shuffled.stderr)
    );
    let keys = finding_keys(&ocsf_lines(&original.stdout));
    assert!(!keys.is_empty());
    assert_eq!(finding_keys(&ocsf_lines(&shuffled.stdout)), keys);
}

#[test]
fn every_allowlist_error_is_reported_with_its_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let allowlist = dir.path().join("allow.yaml");
    std::fs::write(
        &allowlist,
        "version: 1\nentries:\n  - id: a\n    owner: it@contoso.example\n    expires: 2027-01-01\n  - id: b\n    reason: ok\n    owner: it@contoso.example\n    expires: not-a-date\n",
    )
    .unwrap();
    let tenant = tenant();
    let out = tokentrail(&[
        "detect",
        "--allowlist",
        allowlist.to_str().unwrap(),
        tenant.join("signins").to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("has 4 error(s)"), "{stderr}");
    for (line, what) in [
        (3, "entry `a`: `reason` is required"),
        (3, "entry `a`: `match` needs at least one of"),
        (6, "entry `b`: `match` needs at least one of"),
        (
            9,
            "entry `b`: `expires` must be a date like 2027-06-30, not \"not-a-date\"",
        ),
    ] {
        assert!(
            stderr.contains(&format!("allow.yaml:{line}: {what}")),
            "{stderr}"
        );
    }
    assert!(out.stdout.is_empty());
}

#[test]
fn an_allowlisted_pattern_is_suppressed_counted_and_unused_entries_are_listed() {
    let tenant = tenant();
    let logs: Vec<String> = ["signins", "graph", "ual"]
        .iter()
        .map(|f| tenant.join(f).to_string_lossy().into_owned())
        .collect();
    // Allowlist entries expire at most a year after the run: the run has a fixed date.
    let mut args: Vec<&str> = vec!["detect", "--format", "ocsf", "--now", "2026-12-01"];
    args.extend(logs.iter().map(String::as_str));
    let before = ocsf_lines(&tokentrail(&args).stdout);
    // TT005 groups per (user, client app), so its finding names one app to allowlist.
    let target = before
        .iter()
        .find(|f| f["finding_info"]["analytic"]["uid"] == "TT005")
        .expect("a TT005 finding");
    let app = target["actor"]["app_uid"].as_str().unwrap();
    let ids = |fs: &[serde_json::Value]| -> std::collections::BTreeSet<String> {
        fs.iter()
            .map(|f| f["finding_info"]["uid"].as_str().unwrap().to_owned())
            .collect()
    };

    let dir = tempfile::tempdir().unwrap();
    let allowlist = dir.path().join("allow.yaml");
    std::fs::write(
        &allowlist,
        format!(
            "version: 1\nentries:\n  - id: approved-app\n    reason: \"Approved by change CHG-1\"\n    owner: it@contoso.example\n    expires: 2027-06-30\n    match: {{ app_id: \"{app}\" }}\n  - id: never-used\n    reason: \"Nothing matches this\"\n    owner: it@contoso.example\n    expires: 2027-06-30\n    match: {{ asn: 64496 }}\n"
        ),
    )
    .unwrap();
    let mut with_list = args.clone();
    with_list.extend(["--allowlist", allowlist.to_str().unwrap()]);
    let out = tokentrail(&with_list);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let after = ocsf_lines(&out.stdout);
    assert!(ids(&after).is_subset(&ids(&before)));
    assert!(!ids(&after).contains(target["finding_info"]["uid"].as_str().unwrap()));
    let suppressed_count = before.len() - after.len();
    assert!(
        stderr.contains(&format!(
            "{} findings, {suppressed_count} suppressed",
            after.len()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "allowlist entry \"never-used\" (line 8) suppressed 0 finding(s) (owner it@contoso.example): it matched no finding"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "allowlist entry \"approved-app\" (line 3) suppressed {suppressed_count} finding(s)"
        )),
        "{stderr}"
    );

    with_list.push("--show-suppressed");
    let shown = ocsf_lines(&tokentrail(&with_list).stdout);
    assert_eq!(ids(&shown), ids(&before));
    let suppressed: Vec<_> = shown.iter().filter(|f| f["status_id"] == 3).collect();
    assert_eq!(suppressed.len(), suppressed_count);
    for f in suppressed {
        assert_eq!(f["actor"]["app_uid"], app);
        assert!(!ids(&after).contains(f["finding_info"]["uid"].as_str().unwrap()));
    }
}

#[test]
fn nothing_readable_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.bin");
    std::fs::write(&garbage, [0u8, 159, 146, 150, 1, 2, 3]).unwrap();
    let out = tokentrail(&["detect", garbage.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("garbage.bin"));
}

fn public_fixtures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/public");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "../shared/fixtures/public is missing under CI=true"
    );
    eprintln!("skipped: ../shared not found");
    None
}

#[test]
fn detect_reads_the_public_samples_and_says_what_it_found() {
    let Some(dir) = public_fixtures() else {
        return;
    };
    let out = tokentrail(&[
        "detect",
        "--test-cases",
        "--format",
        "ocsf",
        dir.to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    // PROVENANCE.md and MANIFEST.tsv are not logs: reported, hence exit 1, nothing else.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("PROVENANCE.md: not a format tokentrail reads"),
        "{stderr}"
    );
    assert!(
        stderr.contains("MANIFEST.tsv: not a format tokentrail reads"),
        "{stderr}"
    );
    assert!(
        stderr.contains("0 unreadable record(s) and 2 file problem(s)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("read 297 records from 36 input(s)"),
        "{stderr}"
    );
    let findings = ocsf_lines(&out.stdout);
    assert!(
        stderr.contains(&format!("{} findings, 0 suppressed", findings.len())),
        "{stderr}"
    );
    // The SimuLand Golden SAML lab: an attacker-registered app reads mail through Graph.
    assert!(
        findings
            .iter()
            .any(|f| f["finding_info"]["analytic"]["uid"] == "TT005"
                && f["actor"]["user"]["name"] == "pgustavo@simulandlabs.com"),
        "{}",
        text(&out.stdout)
    );
}
