use tokentrail_model::{Confidence, Severity, TokenId};

use crate::common::*;

#[test]
fn token_without_issuing_sign_in_fires_once_per_token() {
    let accesses = vec![
        A::graph_me(1, at("10:05"))
            .from(VPS_V4)
            .token(50)
            .app(SHADY_APP)
            .issued(at("10:00"))
            .build(),
        A::graph_me(2, at("10:06"))
            .from(VPS_V4)
            .token(50)
            .app(SHADY_APP)
            .issued(at("10:00"))
            .build(),
        A::graph_me(3, at("10:07"))
            .from(VPS_V4)
            .token(51)
            .app(SHADY_APP)
            .issued(at("10:01"))
            .build(),
    ];
    let d = detect(vec![], accesses);
    assert_eq!(
        summary(&d),
        vec![
            ("TT004".into(), ALICE.into(), "203.0.113.0/24".into(), 2),
            ("TT004".into(), ALICE.into(), "203.0.113.0/24".into(), 1),
        ]
    );
    assert!(d
        .findings
        .iter()
        .all(|f| f.severity == Severity::Low && f.confidence == Confidence::Medium));
    assert_eq!(d.findings[0].token_id, Some(uti(50)));
    snapshot!("tt004_orphan_token", &d.findings);
}

#[test]
fn first_party_app_without_sign_in_row_is_excluded_by_default() {
    let accesses = vec![A::graph_me(1, at("10:05"))
        .from(MS_V4)
        .token(50)
        .app(OUTLOOK)
        .issued(at("10:00"))
        .build()];
    let d = detect(vec![], accesses.clone());
    assert_eq!(summary(&d), vec![]);
    assert_eq!(
        d.stats.benign.get("TT004:first-party-without-sign-in-row"),
        Some(&1)
    );
    let config = tokentrail_engine::EngineConfig {
        thresholds: tokentrail_engine::Thresholds {
            orphan_first_party: true,
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(summary(&detect_with(config, vec![], accesses)).len(), 1);
}

#[test]
fn issue_time_outside_coverage_is_unknown() {
    let accesses = vec![
        A::graph_me(1, day_before("05:30"))
            .from(VPS_V4)
            .token(50)
            .app(SHADY_APP)
            .issued(day_before("05:00"))
            .build(),
        // No logged issue time: the two hours before the access must be covered.
        A::graph_me(2, day_before("07:00"))
            .from(VPS_V4)
            .token(52)
            .app(SHADY_APP)
            .build(),
    ];
    let d = detect(vec![], accesses);
    assert_eq!(summary(&d), vec![]);
    assert_eq!(d.stats.unknown.get("TT004:outside-coverage"), Some(&2));
}

#[test]
fn linked_tokens_placeholders_and_app_only_are_not_orphans() {
    let sign_ins = vec![
        S::interactive(1, at("09:00"))
            .from(HOME_V4, Some(HOME_ASN))
            .build(),
        S::ual_logon(2, at("09:00"))
            .from(HOME_V4, Some(HOME_ASN))
            .build(),
    ];
    let mut placeholder = A::graph_me(3, at("10:00"))
        .from(HOME_V4)
        .app(SHADY_APP)
        .build();
    placeholder.token_id = TokenId::parse("UniqueTokenIdentifier-redacted");
    // Not a GUID in any encoding, but not a placeholder either: kept, and no orphan.
    let mut opaque = A::graph_me(5, at("10:00"))
        .from(HOME_V4)
        .app(SHADY_APP)
        .build();
    opaque.token_id = TokenId::parse("tOkEnIdEnTiFiEr123");
    let accesses = vec![
        opaque,
        A::graph_me(1, at("09:05"))
            .from(HOME_V4)
            .token(1)
            .app(SHADY_APP)
            .build(),
        A::graph_me(2, at("09:05"))
            .from(HOME_V4)
            .token(2)
            .app(SHADY_APP)
            .build(),
        placeholder,
        A::graph_me(4, at("10:00"))
            .from(HOME_V4)
            .token(60)
            .app_only("sp-1")
            .build(),
    ];
    let d = detect(sign_ins, accesses);
    assert_eq!(summary(&d), vec![]);
    assert_eq!(d.stats.unknown.get("TT004:opaque-token-id"), Some(&1));
    // The placeholder names no token: the record links to nothing.
    assert_eq!(d.stats.accesses_unlinkable, 1);
    assert_eq!(d.stats.accesses_token_linked, 2);
}

#[test]
fn without_issue_time_confidence_is_low() {
    let accesses = vec![A::graph_me(1, at("10:05"))
        .from(VPS_V4)
        .token(50)
        .app(SHADY_APP)
        .build()];
    let d = detect(vec![], accesses);
    assert_eq!(d.findings.len(), 1);
    assert_eq!(d.findings[0].confidence, Confidence::Low);
}
