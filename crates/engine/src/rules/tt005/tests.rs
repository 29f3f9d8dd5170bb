use tokentrail_model::{Confidence, Severity};

use crate::common::*;

#[test]
fn device_code_phish_fires_with_replay() {
    let sign_ins = vec![
        // Alice enters the attacker's code at home; the token goes to the attacker.
        S::interactive(30, at("09:00"))
            .from(HOME_V4, Some(HOME_ASN))
            .session(6)
            .app(OFFICE)
            .device_code()
            .build(),
        S::interactive(41, at("06:00"))
            .bob()
            .from(VPS_V4, Some(VPS_ASN))
            .session(41)
            .build(),
    ];
    let accesses = vec![
        A::mail(1, at("09:02"))
            .from(VPS_V4)
            .token(30)
            .session(6)
            .app(OFFICE)
            .build(),
        A::mail(2, at("09:03"))
            .from(VPS_V4)
            .token(30)
            .session(6)
            .app(OFFICE)
            .build(),
    ];
    let d = detect(sign_ins, accesses);
    let mut rules = summary(&d);
    rules.sort();
    assert_eq!(
        rules,
        vec![
            ("TT001".into(), ALICE.into(), "AS14061".into(), 2),
            ("TT002".into(), ALICE.into(), "AS14061".into(), 2),
            ("TT005".into(), ALICE.into(), "AS14061".into(), 2),
        ]
    );
    let tt005 = d
        .findings
        .iter()
        .find(|f| f.rule == crate::rules::tt005::ID)
        .unwrap();
    assert_eq!(tt005.severity, Severity::High);
    assert_eq!(tt005.confidence, Confidence::High);
    assert!(tt005.why.contains("device code"), "{}", tt005.why);
    assert!(tt005
        .containment
        .iter()
        .any(|c| c.contains("device code flow")));
    snapshot!("tt005_device_code_phish", &d.findings);
}

#[test]
fn client_outside_the_inventory_fires() {
    let sign_ins = vec![S::interactive(31, at("09:00"))
        .from(HOME_V4, Some(HOME_ASN))
        .session(7)
        .app(SHADY_APP)
        .build()];
    let accesses = vec![
        A::mail(1, at("09:05"))
            .from(HOME_V4)
            .token(31)
            .session(7)
            .app(SHADY_APP)
            .build(),
        A::mail(2, at("09:06"))
            .from(HOME_V4)
            .token(31)
            .session(7)
            .app(SHADY_APP)
            .build(),
    ];
    let d = detect(sign_ins, accesses);
    assert_eq!(
        summary(&d),
        vec![("TT005".into(), ALICE.into(), "AS64500".into(), 2)]
    );
    let f = &d.findings[0];
    assert_eq!(f.severity, Severity::Medium);
    // Two users in the whole input: the inventory means little, confidence is low.
    assert_eq!(f.confidence, Confidence::Low);
    assert_eq!(f.title, "Mail or file access by an unapproved client");
    snapshot!("tt005_unapproved_client", &d.findings);
}

#[test]
fn inventory_is_learned_from_the_data() {
    let sign_ins = vec![S::interactive(31, at("09:00"))
        .from(HOME_V4, Some(HOME_ASN))
        .session(7)
        .app(LOB_APP)
        .build()];
    let mut carol = A::file(3, at("09:10"))
        .from(OFFICE_V4)
        .app(LOB_APP)
        .session(8)
        .build();
    carol.user_id = Some("cccccccc-0000-4000-8000-000000000003".into());
    carol.upn = Some("carol@contoso.example".into());
    let accesses = vec![
        A::mail(1, at("09:05"))
            .from(HOME_V4)
            .token(31)
            .session(7)
            .app(LOB_APP)
            .build(),
        A::file(2, at("09:10"))
            .from(OFFICE_V4)
            .app(LOB_APP)
            .session(900)
            .bob()
            .build(),
        carol,
    ];
    let d = detect(sign_ins, accesses);
    assert!(
        d.findings.iter().all(|f| f.rule != crate::rules::tt005::ID),
        "{:?}",
        summary(&d)
    );
}

#[test]
fn tooling_client_counts_only_from_an_unmanaged_device() {
    let unmanaged = vec![S::interactive(32, at("09:00"))
        .from(HOME_V4, Some(HOME_ASN))
        .session(9)
        .app(AZURE_CLI)
        .build()];
    let accesses = vec![A::file(1, at("09:05"))
        .from(HOME_V4)
        .token(32)
        .session(9)
        .app(AZURE_CLI)
        .build()];
    let d = detect(unmanaged, accesses.clone());
    assert_eq!(
        summary(&d),
        vec![("TT005".into(), ALICE.into(), "AS64500".into(), 1)]
    );
    assert_eq!(d.findings[0].confidence, Confidence::Medium);
    assert!(
        d.findings[0].why.contains("token-theft tooling"),
        "{}",
        d.findings[0].why
    );

    let managed = vec![S::interactive(32, at("09:00"))
        .from(HOME_V4, Some(HOME_ASN))
        .session(9)
        .app(AZURE_CLI)
        .device("dev-admin", true, true)
        .build()];
    assert_eq!(summary(&detect(managed, accesses)), vec![]);
}

#[test]
fn app_only_automation_and_first_party_clients_are_not_unapproved() {
    let accesses = vec![
        A::mail(1, at("09:05"))
            .from(VPS_V4)
            .app(SHADY_APP)
            .app_only("sp-shady")
            .token(90)
            .build(),
        A::mail(2, at("09:05"))
            .from(MS_V4)
            .app(OUTLOOK)
            .session(77)
            .build(),
    ];
    let d = detect(vec![], accesses);
    assert_eq!(summary(&d), vec![]);
}

const SVC_ID: &str = "5e5e5e5e-0000-4000-8000-000000000005";
const SVC: &str = "svc-reports@contoso.example";

/// A delegated automation account: every given day at `hh:mm`, its script signs in with its
/// own client from its cloud host and reads mail through Graph, whose rows name the user by
/// object id only.
fn automation(
    days: &[tokentrail_model::Timestamp],
) -> (Vec<tokentrail_model::SignIn>, Vec<tokentrail_model::Access>) {
    let mut sign_ins = Vec::new();
    let mut accesses = Vec::new();
    for (k, &t) in (0u128..).zip(days) {
        let mut s = S::interactive(500 + k, t)
            .from(VPS_V4, Some(VPS_ASN))
            .session(500 + k)
            .app(LOB_APP)
            .build();
        s.user_id = Some(SVC_ID.into());
        s.upn = Some(SVC.into());
        sign_ins.push(s);
        let n = u64::try_from(k).unwrap();
        let mut a = A::mail(500 + n, t.plus_secs(60))
            .from(VPS_V4)
            .token(500 + k)
            .session(500 + k)
            .app(LOB_APP)
            .build();
        a.user_id = Some(SVC_ID.into());
        a.upn = None;
        accesses.push(a);
    }
    (sign_ins, accesses)
}

/// The fixture day after [`at`]'s, `HH:MM`.
fn day_after(hhmm: &str) -> tokentrail_model::Timestamp {
    at(hhmm).plus_secs(86_400)
}

fn tt005_users(d: &tokentrail_engine::Detection) -> Vec<(String, String)> {
    d.findings
        .iter()
        .filter(|f| f.rule == crate::rules::tt005::ID)
        .map(|f| {
            (
                f.upn.clone().unwrap_or_default(),
                f.app_id.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// The sign-in logs run from the day before 06:00 to the day after 06:00 (three UTC days).
/// The automation account's client is used by one user only, but since the logs begin and on
/// every day: it is in the inventory. Alice's new client, first seen mid-window, is not, and
/// its finding names her by UPN although the Graph rows carry only her object id.
#[test]
fn steady_automation_is_learned_but_a_client_appearing_mid_window_is_not() {
    let (mut sign_ins, mut accesses) =
        automation(&[day_before("07:00"), at("07:00"), day_after("05:00")]);
    sign_ins.push(
        S::interactive(31, at("09:00"))
            .from(HOME_V4, Some(HOME_ASN))
            .session(7)
            .app(SHADY_APP)
            .build(),
    );
    let mut shady = A::mail(1, at("09:05"))
        .from(HOME_V4)
        .token(31)
        .session(7)
        .app(SHADY_APP)
        .build();
    shady.upn = None;
    accesses.push(shady);
    let d = detect(sign_ins, accesses);
    assert_eq!(
        tt005_users(&d),
        vec![(ALICE.to_string(), SHADY_APP.to_string())]
    );
    assert!(
        d.findings[0]
            .checked
            .iter()
            .any(|c| c.contains("in use since the sign-in logs begin")),
        "{:?}",
        d.findings[0].checked
    );
}

/// Steady use needs both: present when the logs begin, and on enough days.
#[test]
fn automation_that_starts_late_or_is_seen_on_too_few_days_is_not_learned() {
    // First seen on the fixture day: more than 24 h after the logs begin.
    let (sign_ins, accesses) = automation(&[at("07:00"), day_after("05:00")]);
    let d = detect(sign_ins, accesses);
    assert_eq!(
        tt005_users(&d),
        vec![(SVC.to_string(), LOB_APP.to_string())]
    );

    // Present from the start, but on two of the three days only.
    let (sign_ins, accesses) = automation(&[day_before("07:00"), at("07:00")]);
    let d = detect(sign_ins, accesses);
    assert_eq!(
        tt005_users(&d),
        vec![(SVC.to_string(), LOB_APP.to_string())]
    );

    // A stricter threshold un-learns the steady account.
    let (sign_ins, accesses) = automation(&[day_before("07:00"), at("07:00"), day_after("05:00")]);
    let config = tokentrail_engine::EngineConfig {
        thresholds: tokentrail_engine::Thresholds {
            inventory_established_secs: 1800,
            ..tokentrail_engine::Thresholds::default()
        },
        ..tokentrail_engine::EngineConfig::default()
    };
    let d = detect_with(config, sign_ins, accesses);
    assert_eq!(
        tt005_users(&d),
        vec![(SVC.to_string(), LOB_APP.to_string())]
    );
}
