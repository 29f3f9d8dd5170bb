//! `tokentrail score` end to end on small temporary files.

mod common;

use std::net::IpAddr;
use std::path::Path;

use tokentrail_model::{
    AttackKind, Confidence, Finding, Label, NetworkId, RuleId, SessionId, Severity, Timestamp,
    TokenId,
};
use tokentrail_report::ocsf::{write_ocsf_lines, OcsfOptions};

fn t(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

fn finding(id: &str, rule: RuleId, session: &str, token: &str) -> Finding {
    Finding {
        id: id.into(),
        rule,
        title: "title".into(),
        why: "why".into(),
        severity: Severity::High,
        confidence: Confidence::High,
        user_id: Some("6f1c2a55-3b1e-4d8e-9a0b-1c2d3e4f5a6b".into()),
        upn: Some("alice@contoso.example".into()),
        session_id: SessionId::parse(session),
        token_id: TokenId::parse(token),
        app_id: None,
        app_name: None,
        resource: None,
        src_ip: Some("198.51.100.23".parse::<IpAddr>().unwrap()),
        network: Some(NetworkId::Asn(64511)),
        first_seen: t("2024-05-01T10:36:10Z"),
        last_seen: t("2024-05-01T10:41:55Z"),
        issue: None,
        accesses: Vec::new(),
        checked: Vec::new(),
        containment: Vec::new(),
        suppression: None,
    }
}

fn label(id: &str, kind: AttackKind, session: &str) -> Label {
    Label {
        id: id.into(),
        kind,
        expected_rules: vec![tokentrail_engine::rules::tt002::ID],
        user: "alice@contoso.example".into(),
        user_id: "6f1c2a55-3b1e-4d8e-9a0b-1c2d3e4f5a6b".into(),
        session_id: Some(session.into()),
        token_ids: Vec::new(),
        start: t("2024-05-01T10:30:00Z"),
        end: t("2024-05-01T10:45:00Z"),
        description: "test".into(),
        expected_miss: false,
    }
}

/// Two findings (one refers to the attack, one does not) and two attacks (one missed).
fn write_inputs(dir: &Path) {
    let findings = [
        finding(
            "f-1",
            tokentrail_engine::rules::tt002::ID,
            "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
            "xMFjTVvJPE2OChJx_YE-AA",
        ),
        finding(
            "f-2",
            tokentrail_engine::rules::tt001::ID,
            "99999999-8888-4777-8666-555555555555",
            "3kVZRE8tFkinHtPA7_EFAA",
        ),
    ];
    let mut out = Vec::new();
    let options = OcsfOptions {
        product_version: "0.1.0".into(),
    };
    write_ocsf_lines(&mut out, &findings, &options).unwrap();
    std::fs::write(dir.join("findings.jsonl"), out).unwrap();
    let labels = [
        label(
            "atk-0001",
            AttackKind::SessionReplay,
            "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D",
        ),
        label(
            "atk-0002",
            AttackKind::SessionReplay,
            "12345678-1234-4234-8234-123456789abc",
        ),
    ];
    let text: String = labels
        .iter()
        .map(|l| serde_json::to_string(l).unwrap() + "\n")
        .collect();
    std::fs::write(dir.join("labels.jsonl"), text).unwrap();
}

fn tokentrail(dir: &Path, extra: &[&str]) -> std::process::Output {
    common::tokentrail()
        .current_dir(dir)
        .args([
            "score",
            "--findings",
            "findings.jsonl",
            "--labels",
            "labels.jsonl",
        ])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn score_prints_recall_precision_misses_and_false_positives() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let out = tokentrail(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        "\
2 attacks, 2 findings scored (0 suppressed, not scored)
recall     0.500 (1/2)
precision  0.500 (1/2)

recall per attack kind:
  session-replay       0.500 (1/2)

recall per rule (attacks expecting the rule):
  TT001  n/a (0/0)          findings 1, matching an attack 0
  TT002  0.500 (1/2)        findings 1, matching an attack 1

missed attacks (1):
  atk-0002  session-replay  alice@contoso.example  session 12345678-1234-4234-8234-123456789abc  expected TT002  2024-05-01T10:30:00Z .. 2024-05-01T10:45:00Z

unmatched findings (1):
  f-2  TT001  alice@contoso.example  session 99999999-8888-4777-8666-555555555555  token 445945de-2d4f-4816-a71e-d3c0eff10500  first seen 2024-05-01T10:36:10Z
"
    );
}

#[test]
fn score_json() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let out = tokentrail(dir.path(), &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["recall"]["value"], 0.5);
    assert_eq!(v["precision"]["hit"], 1);
    assert_eq!(v["precision"]["of"], 2);
    assert_eq!(v["per_kind"][0]["kind"], "session-replay");
    assert_eq!(v["missed"][0]["id"], "atk-0002");
    assert_eq!(v["unmatched"][0]["id"], "f-2");
}

#[test]
fn unreadable_findings_fail_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    std::fs::write(dir.path().join("findings.jsonl"), "{}\n").unwrap();
    let out = tokentrail(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err,
        "tokentrail: error: findings.jsonl:1: no finding_info.uid\n"
    );
}

/// Regression (issue 15): a missing file was reported with its cause twice,
/// "cannot read x: No such file or directory (os error 2): No such file or directory (os error 2)".
#[test]
fn a_missing_file_is_reported_once_with_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    std::fs::remove_file(dir.path().join("findings.jsonl")).unwrap();
    let out = tokentrail(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    let os = std::io::Error::from_raw_os_error(2).to_string();
    assert_eq!(
        err,
        format!("tokentrail: error: cannot read findings.jsonl: {os}\n")
    );
}

#[test]
fn help_has_examples() {
    let out = common::tokentrail()
        .args(["score", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("Examples:\n  tokentrail simulate"), "{help}");
    assert!(help.contains("tokentrail score --findings findings.jsonl --labels"));
}
