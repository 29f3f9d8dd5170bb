//! The same records in any order, duplicated or not, give identical findings, ids included.

use tokentrail_model::{Access, SignIn};

use crate::common::*;

fn scenario() -> (Vec<SignIn>, Vec<Access>) {
    let sign_ins = vec![
        S::interactive(1, at("09:00"))
            .from(HOME_V4, Some(HOME_ASN))
            .session(1)
            .device("dev-phone", true, true)
            .build(),
        S::non_interactive(2, at("09:40"))
            .from(CELL_V4, Some(CELL_ASN))
            .session(1)
            .device("dev-phone", true, true)
            .build(),
        S::non_interactive(10, at("10:00"))
            .from(VPS_V4, Some(VPS_ASN))
            .session(1)
            .app(OFFICE)
            .build(),
        S::non_interactive(20, at("10:00"))
            .from(CELL_V4, Some(CELL_ASN))
            .session(5)
            .build(),
        S::interactive(30, at("11:00"))
            .from(HOME_V4, Some(HOME_ASN))
            .session(6)
            .app(OFFICE)
            .device_code()
            .build(),
        S::interactive(31, at("11:30"))
            .from(HOME_V4, Some(HOME_ASN))
            .session(7)
            .app(SHADY_APP)
            .build(),
    ];
    let accesses = vec![
        A::mail(1, at("09:05"))
            .from(HOME_V4)
            .token(1)
            .session(1)
            .build(),
        A::mail(2, at("09:20"))
            .from(VPS_V4)
            .token(1)
            .session(1)
            .build(),
        A::mail(3, at("10:05"))
            .from(VPS_V4)
            .token(10)
            .session(1)
            .app(OFFICE)
            .build(),
        A::mail(4, at("10:10"))
            .from(VPS_V4)
            .token(20)
            .session(5)
            .build(),
        A::mail(5, at("11:02"))
            .from(VPS_V4)
            .token(30)
            .session(6)
            .app(OFFICE)
            .build(),
        A::file(6, at("11:35"))
            .from(HOME_V4)
            .token(31)
            .session(7)
            .app(SHADY_APP)
            .build(),
        A::graph_me(7, at("12:00"))
            .from(VPS_V4)
            .token(50)
            .app(SHADY_APP)
            .issued(at("11:59"))
            .build(),
        A::mail(8, at("12:01")).from(VPS_V4).unlinked().build(),
    ];
    (sign_ins, accesses)
}

/// A fixed permutation (an LCG), so the test is reproducible.
fn shuffle<T>(mut v: Vec<T>, seed: u64) -> Vec<T> {
    let mut state = seed;
    for i in (1..v.len()).rev() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = usize::try_from(state >> 33).unwrap() % (i + 1);
        v.swap(i, j);
    }
    v
}

#[test]
fn shuffled_reversed_and_duplicated_inputs_give_identical_findings() {
    let (s, a) = scenario();
    let forward = detect(s.clone(), a.clone());
    // The first is TT001 on the rootless session 5, raised to critical by TT003.
    assert_eq!(
        forward.findings[0].severity,
        tokentrail_model::Severity::Critical
    );
    assert_eq!(
        forward
            .findings
            .iter()
            .map(|f| f.rule.code())
            .collect::<Vec<_>>(),
        vec!["TT001", "TT001", "TT002", "TT001", "TT002", "TT005", "TT003", "TT005", "TT004"],
        "{:#?}",
        summary(&forward)
    );
    let reversed = detect(
        s.iter().rev().cloned().collect(),
        a.iter().rev().cloned().collect(),
    );
    assert_eq!(forward.findings, reversed.findings);
    assert_eq!(forward.coverage, reversed.coverage);
    for seed in [1, 7, 42] {
        let shuffled = detect(shuffle(s.clone(), seed), shuffle(a.clone(), seed + 1));
        assert_eq!(forward.findings, shuffled.findings, "seed {seed}");
    }
    // The same rows twice (two overlapping exports): deduplicated, same findings.
    let doubled = detect(
        s.iter().chain(s.iter()).cloned().collect(),
        a.iter().chain(a.iter()).cloned().collect(),
    );
    assert_eq!(forward.findings, doubled.findings);
    assert_eq!(doubled.stats.sign_ins_duplicate, s.len() as u64);
    assert_eq!(doubled.stats.accesses_duplicate, a.len() as u64);
}

#[test]
fn rules_on_two_threads_give_the_same_detection() {
    let (s, a) = scenario();
    let one = detect(s.clone(), a.clone());
    let two = detect_with(
        tokentrail_engine::EngineConfig {
            threads: 2,
            ..Default::default()
        },
        s,
        a,
    );
    assert_eq!(one.findings.len(), 9);
    assert_eq!(one, two);
    // Benign and unknown counts come from both threads' tallies.
    assert!(!two.stats.benign.is_empty());
    assert!(two.stats.benign.keys().any(|k| k.starts_with("TT002:")));
}
