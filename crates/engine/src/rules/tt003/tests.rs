use tokentrail_model::{Confidence, Severity};

use crate::common::*;

/// A session that only ever refreshes (no interactive root), reading mail from a droplet.
fn rootless(
    day: fn(&str) -> tokentrail_model::Timestamp,
) -> (Vec<tokentrail_model::SignIn>, Vec<tokentrail_model::Access>) {
    let sign_ins = vec![
        S::non_interactive(20, day("10:00"))
            .from(VPS_V4, Some(VPS_ASN))
            .session(5)
            .app(OFFICE)
            .build(),
        S::non_interactive(21, day("11:00"))
            .from(VPS_V4, Some(VPS_ASN))
            .session(5)
            .app(OFFICE)
            .build(),
    ];
    let accesses = vec![
        A::mail(1, day("10:10"))
            .from(VPS_V4)
            .token(20)
            .session(5)
            .app(OFFICE)
            .build(),
        A::mail(2, day("11:10"))
            .from(VPS_V4)
            .token(21)
            .session(5)
            .app(OFFICE)
            .build(),
        // Not mail or files: not AN0959 material.
        A::graph_me(3, day("11:11"))
            .from(VPS_V4)
            .token(21)
            .session(5)
            .app(OFFICE)
            .build(),
    ];
    (sign_ins, accesses)
}

#[test]
fn mail_access_in_a_session_without_root_fires() {
    let (s, a) = rootless(at);
    let d = detect(s, a);
    assert_eq!(
        summary(&d),
        vec![("TT003".into(), ALICE.into(), "AS14061".into(), 2)]
    );
    let f = &d.findings[0];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.confidence, Confidence::High);
    assert_eq!(f.session_id, Some(sid(5)));
    assert_eq!(
        f.issue.as_ref().and_then(|i| i.sign_in_id.clone()),
        Some(guid(20).to_string())
    );
    snapshot!("tt003_rootless_session", &d.findings);
}

#[test]
fn outside_coverage_the_answer_is_unknown() {
    // The day before, 10:00: interactive coverage starts at 06:00, not 24 h earlier.
    let (s, a) = rootless(day_before);
    let d = detect(s, a);
    assert_eq!(summary(&d), vec![]);
    assert_eq!(d.stats.unknown.get("TT003:outside-coverage"), Some(&2));
}

#[test]
fn an_interactive_root_or_ual_logon_gives_context() {
    let (mut s, a) = rootless(at);
    s.push(
        S::ual_logon(22, day_before("20:00"))
            .from(HOME_V4, Some(HOME_ASN))
            .session(5)
            .build(),
    );
    let d = detect(s, a);
    // The session now has a root at home, so the droplet is a new network for it (TT002):
    // two refreshes and three accesses.
    assert_eq!(
        summary(&d),
        vec![("TT002".into(), ALICE.into(), "AS14061".into(), 5)]
    );
}

#[test]
fn unlinkable_first_party_app_only_and_device_bound_are_not_alerted() {
    let sign_ins = vec![
        // A Windows device refreshing with its PRT: the root is the device logon.
        S::non_interactive(30, at("10:00"))
            .from(HOME_V4, Some(HOME_ASN))
            .session(6)
            .device("dev-laptop", true, true)
            .prt()
            .build(),
    ];
    let accesses = vec![
        A::mail(1, at("10:05")).from(VPS_V4).unlinked().build(),
        // First-party app, token and session unknown to every sign-in.
        A::mail(2, at("10:06"))
            .from(MS_V4)
            .token(77)
            .session(77)
            .build(),
        A::file(3, at("10:07"))
            .from(VPS_V4)
            .token(1)
            .app_only("sp-backup")
            .build(),
        A::mail(4, at("10:08"))
            .from(HOME_V4)
            .token(30)
            .session(6)
            .build(),
    ];
    let d = detect(sign_ins, accesses);
    assert_eq!(summary(&d), vec![]);
    assert_eq!(d.stats.unknown.get("TT003:no-linkable-ids"), Some(&1));
    assert_eq!(
        d.stats.benign.get("TT003:first-party-without-sign-in-row"),
        Some(&1)
    );
    assert_eq!(d.stats.benign.get("TT003:device-proven-session"), Some(&1));
}

#[test]
fn raises_token_replay_on_the_same_session() {
    let sign_ins = vec![S::non_interactive(20, at("10:00"))
        .from(CELL_V4, Some(CELL_ASN))
        .session(5)
        .build()];
    let accesses = vec![A::mail(1, at("10:10"))
        .from(VPS_V4)
        .token(20)
        .session(5)
        .build()];
    let mut with_asn = sign_ins;
    with_asn.push(
        S::interactive(40, at("06:00"))
            .bob()
            .from(VPS_V4, Some(VPS_ASN))
            .session(40)
            .build(),
    );
    let d = detect(with_asn, accesses);
    assert_eq!(
        summary(&d),
        vec![
            ("TT001".into(), ALICE.into(), "AS14061".into(), 1),
            ("TT003".into(), ALICE.into(), "AS14061".into(), 1),
        ]
    );
    let tt001 = &d.findings[0];
    assert_eq!(tt001.rule, crate::rules::tt001::ID);
    assert_eq!(tt001.severity, Severity::Critical);
    assert!(tt001.why.contains(&d.findings[1].id), "{}", tt001.why);
}
