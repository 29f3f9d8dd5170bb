//! `tokentrail simulate` end to end: arguments, output files, summary on stdout, exit codes.

use std::process::Command;

fn tokentrail() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tokentrail"))
}

#[test]
fn simulate_writes_a_labelled_tenant_and_summarizes_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("tenant");
    let run = tokentrail()
        .args([
            "simulate",
            "--users",
            "6",
            "--days",
            "1",
            "--seed",
            "9",
            "--attacks",
            "all",
        ])
        .args([
            "--formats",
            "signins=diagnostic,graph=la-jsonl,ual=purview-csv",
        ])
        .args(["--start", "2024-05-06", "--out"])
        .arg(&out)
        .output()
        .expect("run tokentrail");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.starts_with("wrote "), "{stdout}");
    assert!(stdout.contains("labels"), "{stdout}");
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("summary.json")).expect("summary.json"),
    )
    .expect("summary JSON");
    assert_eq!(summary["users"], 6);
    assert_eq!(summary["formats"]["ual"], "purview-csv");
    assert_eq!(summary["start"], "2024-05-06T00:00:00Z");
    let labels = std::fs::read_to_string(out.join("labels.jsonl")).expect("labels.jsonl");
    assert_eq!(
        labels.lines().count() as u64,
        summary["labels"].as_u64().expect("count")
    );
    assert!(out
        .join("signins/diagnostic/SignInLogs/2024-05-06.json")
        .is_file());
    assert!(out.join("ual/purview/2024-05-06-part0000.csv").is_file());
}

#[test]
fn unusable_arguments_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    for bad in [
        vec!["--formats", "graph=graph"],
        vec!["--attacks", "token-theft"],
        vec!["--start", "May 6"],
        vec!["--users", "0"],
    ] {
        let run = tokentrail()
            .arg("simulate")
            .args(&bad)
            .arg("--out")
            .arg(dir.path().join("x"))
            .output()
            .expect("run tokentrail");
        assert_eq!(run.status.code(), Some(2), "{bad:?}");
        assert!(!run.stderr.is_empty(), "{bad:?}");
    }
}
