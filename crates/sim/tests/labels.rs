//! `--attacks all` labels every attack kind, and every id a label names is in the output.

mod common;

use std::collections::BTreeSet;

use tokentrail_model::{AttackKind, Guid, Label};

fn data_text(root: &std::path::Path) -> String {
    let mut all = String::new();
    for rel in common::files(root) {
        let name = rel.to_string_lossy();
        if name == "labels.jsonl" || name == "summary.json" {
            continue;
        }
        all.push_str(&std::fs::read_to_string(root.join(&rel)).expect("utf-8 output"));
    }
    all
}

#[test]
fn every_kind_is_labelled_with_ids_that_occur_in_the_output() {
    for formats in common::FORMAT_SETS {
        let (dir, summary) = common::run(30, 2, 5, formats);
        let text = std::fs::read_to_string(dir.path().join("labels.jsonl")).expect("labels");
        let labels: Vec<Label<String>> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("label JSON"))
            .collect();
        assert_eq!(labels.len() as u64, summary.labels);
        let kinds: BTreeSet<AttackKind> = labels.iter().map(|l| l.kind).collect();
        assert_eq!(kinds, AttackKind::ALL.into_iter().collect(), "{formats}");
        let ids: BTreeSet<&str> = labels.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids.len(), labels.len(), "label ids are unique");
        let data = data_text(dir.path());
        for label in &labels {
            assert!(label.start <= label.end, "{}", label.id);
            assert!(!label.expected_rules.is_empty(), "{}", label.id);
            assert!(!label.token_ids.is_empty(), "{}", label.id);
            for token in &label.token_ids {
                let guid = Guid::parse(token).expect("token ids are normalized GUID text");
                // As a JSON string, or inside one (Elastic's `event.original`).
                let uti = guid.to_uti();
                assert!(
                    data.contains(&format!("\"{uti}\""))
                        || data.contains(&format!("\\\"{uti}\\\"")),
                    "{formats}: {} token {token} ({}) not in the output",
                    label.id,
                    guid.to_uti()
                );
            }
            if let Some(session) = &label.session_id {
                assert!(
                    data.contains(session.as_str()),
                    "{formats}: {} session {session} not in the output",
                    label.id
                );
            }
            assert!(data.contains(&label.user), "{}", label.id);
        }
    }
}

#[test]
fn no_attacks_means_no_labels() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = tokentrail_sim::SimConfig {
        users: 5,
        days: 1,
        seed: 3,
        start: tokentrail_sim::SimConfig::default_start(),
        out: dir.path().to_path_buf(),
        attacks: Vec::new(),
        formats: tokentrail_sim::Formats::default(),
        profile: tokentrail_sim::Profile::Default,
    };
    let summary = tokentrail_sim::simulate(&cfg).expect("simulate");
    assert_eq!(summary.labels, 0);
    let text = std::fs::read_to_string(dir.path().join("labels.jsonl")).expect("labels");
    assert!(text.is_empty());
}

/// Attacks scale with the tenant (one of each kind per 100 people), go to distinct victims,
/// and leave the first day benign so the engine's lookbacks stay inside the logs.
#[test]
fn attacks_scale_with_the_tenant_and_skip_the_first_day() {
    let (dir, summary) = common::run(250, 3, 11, common::FORMAT_SETS[0]);
    let text = std::fs::read_to_string(dir.path().join("labels.jsonl")).expect("labels");
    let labels: Vec<Label<String>> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("label JSON"))
        .collect();
    assert_eq!(labels.len(), 18);
    assert!(summary.labels_by_kind.values().all(|&n| n == 3));
    let second_day = tokentrail_sim::SimConfig::default_start().plus_secs(86_400);
    for label in &labels {
        assert!(
            label.start >= second_day,
            "{} starts {}",
            label.id,
            label.start
        );
    }
    let users: BTreeSet<&str> = labels.iter().map(|l| l.user.as_str()).collect();
    assert_eq!(users.len(), labels.len());
}
