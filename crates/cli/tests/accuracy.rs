//! Accuracy end to end (issue 12, point 9): `simulate`, `detect --format ocsf`, `score --json`
//! on a small office and on the default profile. Every attack kind the rules claim is caught,
//! precision is at least 0.95, and the small office's expected miss (a replay from the
//! victim's own ISP) is counted apart. The seeds here are test seeds; the README's accuracy
//! table uses others.

mod common;

use std::path::Path;

fn tokentrail(args: &[&str], dir: &Path) -> String {
    let out = common::tokentrail()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run tokentrail");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn score(profile: &str, users: &str, days: &str, seed: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    tokentrail(
        &[
            "simulate",
            "--profile",
            profile,
            "--users",
            users,
            "--days",
            days,
            "--seed",
            seed,
            "--out",
            "t",
        ],
        d,
    );
    tokentrail(
        &[
            "detect",
            "t/signins",
            "t/graph",
            "t/ual",
            "--format",
            "ocsf",
            "-o",
            "f.jsonl",
        ],
        d,
    );
    let text = tokentrail(
        &[
            "score",
            "--findings",
            "f.jsonl",
            "--labels",
            "t/labels.jsonl",
            "--json",
        ],
        d,
    );
    serde_json::from_str(&text).expect("score JSON")
}

fn check(s: &serde_json::Value, what: &str) {
    for k in s["per_kind"].as_array().expect("per kind") {
        assert_eq!(k["recall"]["value"], 1.0, "{what}: {k}");
    }
    assert_eq!(s["recall"]["value"], 1.0, "{what}: missed {}", s["missed"]);
    let precision = s["precision"]["value"].as_f64().expect("precision");
    assert!(
        precision >= 0.95,
        "{what}: precision {precision}, unmatched {}",
        s["unmatched"]
    );
}

#[test]
fn a_small_office_every_claimed_attack_caught_the_blind_spot_apart() {
    let s = score("small-office", "24", "14", "77");
    check(&s, "small office");
    assert_eq!(s["per_kind"].as_array().map(Vec::len), Some(6));
    let misses = s["expected_misses"].as_array().expect("expected misses");
    assert_eq!(misses.len(), 1);
    assert_eq!(misses[0]["kind"], "session-replay");
    assert_eq!(misses[0]["caught"], false);
}

#[test]
fn the_default_profile_every_attack_caught() {
    let s = score("default", "150", "3", "78");
    check(&s, "default");
    assert_eq!(s["per_kind"].as_array().map(Vec::len), Some(6));
    assert_eq!(s["expected_misses"].as_array().map(Vec::len), Some(0));
}
