//! `tokentrail simulate` end to end: arguments, output files, summary on stdout, exit codes.

mod common;

use std::process::Command;

fn tokentrail() -> Command {
    common::tokentrail()
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

/// Regression (issue 15): a second tenant written into the folder of a first was silently
/// mixed with it.
#[test]
fn a_folder_that_holds_files_is_refused_unless_forced() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("tenant");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "case notes").unwrap();
    let simulate = |extra: &[&str]| {
        tokentrail()
            .args(["simulate", "--users", "2", "--days", "1", "--out"])
            .arg(&out)
            .args(extra)
            .output()
            .expect("run tokentrail")
    };
    let refused = simulate(&[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(refused.stdout.is_empty());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("already holds 1 entry") && err.contains("--force"),
        "{err}"
    );
    let names = |p: &std::path::Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&out), ["notes.txt"]);

    let forced = simulate(&["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{forced:?}");
    assert!(String::from_utf8_lossy(&forced.stderr).contains("--force: writing into"));
    assert_eq!(
        names(&out),
        [
            "graph",
            "labels.jsonl",
            "notes.txt",
            "signins",
            "summary.json",
            "ual"
        ]
    );
    // An empty folder that exists already is fine.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let run = tokentrail()
        .args(["simulate", "--users", "2", "--out"])
        .arg(&empty)
        .output()
        .expect("run tokentrail");
    assert_eq!(run.status.code(), Some(0), "{run:?}");
}

#[test]
fn help_shows_defaults_and_examples() {
    let out = tokentrail()
        .args(["simulate", "--help"])
        .output()
        .expect("run tokentrail");
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(!help.contains("[default: \"\"]"), "{help}");
    assert!(
        help.contains("Examples:\n  tokentrail simulate -o tenant/"),
        "{help}"
    );
    assert!(help.contains("--force"), "{help}");
}
