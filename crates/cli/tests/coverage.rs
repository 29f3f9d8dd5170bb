//! `tokentrail coverage` end to end: the report on a simulated tenant with a log family removed,
//! both formats, `-o`, `--help` and exit codes.

mod common;

use std::path::Path;
use std::process::Output;

fn tokentrail(args: &[&str]) -> Output {
    common::tokentrail().args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A 30-user, 3-day simulated tenant with every attack.
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

#[test]
fn coverage_reports_a_removed_family_and_the_rules_it_blinds() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    std::fs::remove_dir_all(dir.path().join("graph")).unwrap();
    let tenant = dir.path().to_str().unwrap();
    let out = tokentrail(&[
        "coverage",
        tenant,
        "--format",
        "json",
        "--retention-target",
        "2d",
        "--now",
        "2024-03-10T00:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["run"]["generated_at"], "2024-03-10T00:00:00Z");
    assert_eq!(report["retention_target_days"], 2);
    let missing: Vec<&str> = report["families"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["present"] == false)
        .map(|f| f["family"].as_str().unwrap())
        .collect();
    assert_eq!(missing, ["access:graph-activity"]);
    let verdicts: Vec<(&str, &str)> = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["rule"].as_str().unwrap(), r["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("TT001", "degraded"),
            ("TT002", "supported"),
            ("TT003", "degraded"),
            ("TT004", "degraded"),
            ("TT005", "degraded")
        ]
    );
    // Three days of sign-ins reach a two-day target.
    let interactive = &report["families"][0];
    assert_eq!(interactive["family"], "sign-in:interactive");
    assert_eq!(interactive["retention_met"], true);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("1 log family missing"), "{stderr}");

    let work = tempfile::tempdir().unwrap();
    let md = work.path().join("coverage.md");
    let out = tokentrail(&[
        "coverage",
        tenant,
        "-o",
        md.to_str().unwrap(),
        "--now",
        "2024-03-10T00:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let md = std::fs::read_to_string(md).unwrap();
    assert!(md.starts_with("# Log coverage report\n"));
    assert!(md.contains("Date of the run: 2024-03-10."));
    assert!(md.contains("| Microsoft Graph activity logs | **missing** |"));
    assert!(md.contains("Entra ID P1 and a diagnostic setting"));
}

#[test]
fn coverage_help_and_exit_codes() {
    let out = tokentrail(&["coverage", "--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(help.contains("Examples:"), "{help}");
    assert!(help.contains("--retention-target"), "{help}");
    assert!(!help.contains("--now"), "the run date option is hidden");

    let out = tokentrail(&["coverage", ".", "--retention-target", "half a year"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not a number of days"));

    let out = tokentrail(&["coverage", "/nonexistent/exports"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("nothing readable"));

    // One readable file and one broken one: the report is written, exit 1.
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("signins.jsonl");
    std::fs::write(
        &good,
        r#"{"Type":"SigninLogs","TimeGenerated":"2024-03-04T08:00:00Z","Id":"0b1c2d3e-0000-4000-8000-000000000001","UserId":"11111111-1111-4111-8111-111111111111","UserPrincipalName":"adele@contoso.example","AppId":"27922004-5251-4030-b22d-91ecd9a37ea4","IPAddress":"198.51.100.10","ResultType":"0","SessionId":"00000000-0000-4000-8000-000000000001","UniqueTokenIdentifier":"AAAAAAAAAAAAAAAAAAAAAA","IsInteractive":true}
"#,
    )
    .unwrap();
    let bad = dir.path().join("broken.jsonl");
    std::fs::write(&bad, "{\"Type\":\"SigninLogs\", oops\n").unwrap();
    let out = tokentrail(&[
        "coverage",
        good.to_str().unwrap(),
        bad.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["families"][0]["records"], 1);
    assert!(text(&out.stderr).contains("broken.jsonl"));
}
