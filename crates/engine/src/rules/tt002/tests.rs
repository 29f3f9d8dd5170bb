use tokentrail_model::{Confidence, Severity};

use crate::common::*;

fn root() -> tokentrail_model::SignIn {
    S::interactive(1, at("09:00"))
        .from(HOME_V4, Some(HOME_ASN))
        .session(1)
        .device("dev-phone", true, true)
        .build()
}

#[test]
fn refresh_token_replayed_from_a_hosting_network_fires() {
    let sign_ins = vec![
        root(),
        // The stolen refresh token, redeemed by the attacker with another FOCI client and no
        // device at all.
        S::non_interactive(10, at("10:00"))
            .from(VPS_V4, Some(VPS_ASN))
            .session(1)
            .app(OFFICE)
            .build(),
        S::non_interactive(11, at("11:00"))
            .from(VPS_V4, Some(VPS_ASN))
            .session(1)
            .app(OFFICE)
            .build(),
    ];
    let accesses = vec![
        A::mail(1, at("10:05"))
            .from(VPS_V4)
            .token(10)
            .session(1)
            .app(OFFICE)
            .build(),
        A::file(2, at("10:06"))
            .from(VPS_V4)
            .token(10)
            .session(1)
            .app(OFFICE)
            .build(),
        A::mail(3, at("09:30"))
            .from(HOME_V4)
            .token(1)
            .session(1)
            .build(),
    ];
    let d = detect(sign_ins, accesses);
    assert_eq!(
        summary(&d),
        vec![("TT002".into(), ALICE.into(), "AS14061".into(), 4)]
    );
    let f = &d.findings[0];
    assert_eq!(f.session_id, Some(sid(1)));
    assert_eq!(f.confidence, Confidence::High);
    assert_eq!(f.severity, Severity::High);
    assert!(f.why.contains("a hosting network"), "{}", f.why);
    assert!(f.why.contains("with no device id"), "{}", f.why);
    assert_eq!(f.issue.as_ref().map(|i| i.time), Some(at("09:00")));
    snapshot!("tt002_hosting_replay", &d.findings);
}

#[test]
fn phone_roaming_proven_by_the_sign_in_is_benign() {
    let sign_ins = vec![
        root(),
        S::non_interactive(2, at("09:40"))
            .from(CELL_V4, Some(CELL_ASN))
            .session(1)
            .device("dev-phone", true, false)
            .build(),
        S::non_interactive(3, at("10:40"))
            .from(CELL_V4, Some(CELL_ASN))
            .session(1)
            .device("dev-phone", false, false)
            .prt()
            .build(),
    ];
    let accesses = vec![A::mail(1, at("09:45"))
        .from(CELL_V4)
        .token(2)
        .session(1)
        .build()];
    let d = detect(sign_ins, accesses);
    assert_eq!(summary(&d), vec![]);
    assert_eq!(d.stats.benign.get("TT002:device-roaming"), Some(&3));
}

#[test]
fn roaming_needs_the_same_device_and_its_usual_client() {
    // Same network change, but the sign-in proves another device.
    let other_device = vec![
        root(),
        S::non_interactive(2, at("09:40"))
            .from(CELL_V4, Some(CELL_ASN))
            .session(1)
            .device("dev-other", true, true)
            .build(),
    ];
    assert_eq!(
        summary(&detect(other_device, vec![])),
        vec![("TT002".into(), ALICE.into(), "AS64510".into(), 1)]
    );
    // Same device, but a client it never used at home.
    let other_client = vec![
        root(),
        S::non_interactive(2, at("09:40"))
            .from(CELL_V4, Some(CELL_ASN))
            .session(1)
            .device("dev-phone", true, true)
            .app(AZURE_CLI)
            .build(),
    ];
    assert_eq!(
        summary(&detect(other_client, vec![])),
        vec![("TT002".into(), ALICE.into(), "AS64510".into(), 1)]
    );
}

#[test]
fn a_hosting_network_is_never_roaming() {
    let sign_ins = vec![
        root(),
        S::non_interactive(2, at("09:40"))
            .from(VPS_V4, Some(VPS_ASN))
            .session(1)
            .device("dev-phone", true, true)
            .build(),
    ];
    let d = detect(sign_ins, vec![]);
    assert_eq!(
        summary(&d),
        vec![("TT002".into(), ALICE.into(), "AS14061".into(), 1)]
    );
}

#[test]
fn device_id_on_the_access_is_no_excuse() {
    // No sign-in from the new network proves anything; the accesses claim the device.
    let accesses = vec![
        A::mail(1, at("09:30"))
            .from(CELL_V4)
            .session(1)
            .device("dev-phone")
            .build(),
        A::mail(2, at("09:31"))
            .from(CELL_V4)
            .session(1)
            .device("dev-phone")
            .build(),
    ];
    let d = detect(vec![root()], accesses);
    assert_eq!(
        summary(&d),
        vec![("TT002".into(), ALICE.into(), "192.0.2.0/24".into(), 2)]
    );
    // No row logs the cellular address's ASN: prefix comparison, low confidence.
    assert_eq!(d.findings[0].confidence, Confidence::Low);
    assert_eq!(d.findings[0].severity, Severity::Medium);
    snapshot!("tt002_device_claim_on_access", &d.findings);
}

#[test]
fn travel_dual_stack_microsoft_and_confidential_are_benign() {
    let sign_ins = vec![
        root(),
        // Dual stack: the same ASN on IPv6.
        S::non_interactive(2, at("09:10"))
            .from(HOME_V6, Some(HOME_ASN))
            .session(1)
            .build(),
        // Microsoft proxy.
        S::non_interactive(3, at("09:20"))
            .from(MS_V4, None)
            .session(1)
            .build(),
        // Travel: a refresh from the hotel after a fresh interactive sign-in there.
        S::interactive(4, at("13:00"))
            .from(HOTEL_V4, Some(HOTEL_ASN))
            .session(2)
            .build(),
        S::non_interactive(5, at("13:10"))
            .from(HOTEL_V4, Some(HOTEL_ASN))
            .session(1)
            .build(),
    ];
    let accesses = vec![A::mail(1, at("09:30"))
        .from("100.70.1.1")
        .session(1)
        .confidential()
        .build()];
    let d = detect(sign_ins, accesses);
    assert_eq!(summary(&d), vec![]);
    assert_eq!(
        d.stats.benign.get("TT002:microsoft-infrastructure"),
        Some(&1)
    );
    assert_eq!(
        d.stats.benign.get("TT002:travel-interactive-sign-in"),
        Some(&1)
    );
    assert_eq!(d.stats.benign.get("TT002:confidential-client"), Some(&1));
}

#[test]
fn one_finding_per_session_and_network() {
    let sign_ins = vec![
        root(),
        S::non_interactive(10, at("10:00"))
            .from(VPS_V4, Some(VPS_ASN))
            .session(1)
            .build(),
        S::non_interactive(11, at("10:30"))
            .from("203.0.113.99", Some(VPS_ASN))
            .session(1)
            .build(),
        S::non_interactive(12, at("11:00"))
            .from("45.77.1.1", Some(20473))
            .session(1)
            .build(),
    ];
    let d = detect(sign_ins, vec![]);
    assert_eq!(
        summary(&d),
        vec![
            ("TT002".into(), ALICE.into(), "AS14061".into(), 2),
            ("TT002".into(), ALICE.into(), "AS20473".into(), 1),
        ]
    );
    assert!(d.findings.iter().all(|f| f.rule == crate::rules::tt002::ID));
    assert_ne!(d.findings[0].id, d.findings[1].id);
}

const PHONE_AGENT: &str = "Outlook-iOS/2.0";

/// A personal phone Entra knows nothing about, signing in at home.
fn phone_at_home() -> S {
    S::interactive(1, at("08:00"))
        .from(HOME_V4, Some(HOME_ASN))
        .session(1)
        .agent(PHONE_AGENT, "US")
}

fn phone_root() -> tokentrail_model::SignIn {
    phone_at_home().build()
}

/// The same phone refreshing its token over the carrier.
fn phone_refresh(n: u128, time: &str) -> S {
    S::non_interactive(n, at(time))
        .from(CELL_V4, Some(CELL_ASN))
        .session(1)
        .agent(PHONE_AGENT, "US")
}

#[test]
fn a_personal_phone_refreshing_over_its_carrier_is_benign() {
    let sign_ins = vec![
        phone_root(),
        phone_refresh(2, "10:00").build(),
        phone_refresh(3, "12:00").build(),
        phone_refresh(4, "14:00").build(),
    ];
    // Mail read over the carrier with a token the carrier refresh issued, and with the token
    // issued at home before the phone left (TT001's question).
    let accesses = vec![
        A::mail(1, at("10:05"))
            .from(CELL_V4)
            .token(2)
            .session(1)
            .build(),
        A::mail(2, at("08:40"))
            .from(CELL_V4)
            .token(1)
            .session(1)
            .build(),
    ];
    let d = detect(sign_ins, accesses);
    assert_eq!(summary(&d), vec![]);
    assert_eq!(
        d.stats.benign.get("TT002:unregistered-device-roaming"),
        Some(&5)
    );
    assert_eq!(
        d.stats.benign.get("TT001:session-established-on-network"),
        Some(&1)
    );
}

#[test]
fn the_unregistered_phone_excuse_needs_its_client_agent_country_and_no_hosting() {
    let fires = |sign_ins: Vec<tokentrail_model::SignIn>, net: &str| {
        assert_eq!(
            summary(&detect(sign_ins, vec![])),
            vec![("TT002".into(), ALICE.into(), net.into(), 1)]
        );
    };
    // Another user agent (a replayed refresh token from a script).
    fires(
        vec![
            phone_root(),
            phone_refresh(2, "10:00")
                .agent("python-requests/2.31", "US")
                .build(),
        ],
        "AS64510",
    );
    // Another country.
    fires(
        vec![
            phone_root(),
            phone_refresh(2, "10:00").agent(PHONE_AGENT, "NG").build(),
        ],
        "AS64510",
    );
    // Another client.
    fires(
        vec![phone_root(), phone_refresh(2, "10:00").app(OFFICE).build()],
        "AS64510",
    );
    // Everything copied, from a hosting network.
    fires(
        vec![
            phone_root(),
            phone_refresh(2, "10:00")
                .from(VPS_V4, Some(VPS_ASN))
                .build(),
        ],
        "AS14061",
    );
    // The home sign-in named a device: a copy of its agent that proves none is not that device.
    fires(
        vec![
            phone_at_home().device("dev-phone", false, false).build(),
            phone_refresh(2, "10:00").build(),
        ],
        "AS64510",
    );
    // A device-code sign-in at home: its agent is the browser the code was typed in, and the
    // tokens went to whoever asked for the code.
    fires(
        vec![
            phone_at_home().device_code().build(),
            phone_refresh(2, "10:00").build(),
        ],
        "AS64510",
    );
    // The session was signed in from a data centre (an adversary-in-the-middle proxy relaying
    // the victim's phone), then used from a residential network with the same agent.
    fires(
        vec![
            phone_at_home().from(VPS_V4, Some(VPS_ASN)).build(),
            phone_refresh(2, "10:00").build(),
        ],
        "AS64510",
    );
    // The carrier's ASN is unknown (Defender's sign-in tables log none): whether it is a
    // hosting provider cannot be told.
    fires(
        vec![
            phone_root(),
            phone_refresh(2, "10:00").from(CELL_V4, None).build(),
        ],
        "192.0.2.0/24",
    );
    // The refresh logs no country where the home sign-in logged one.
    let mut no_country = phone_refresh(2, "10:00").build();
    no_country.country = None;
    fires(vec![phone_root(), no_country], "AS64510");
}

#[test]
fn an_export_without_location_compares_the_phones_user_agent_alone() {
    let mut sign_ins = vec![phone_root(), phone_refresh(2, "10:00").build()];
    for s in &mut sign_ins {
        s.country = None;
    }
    let d = detect(sign_ins.clone(), vec![]);
    assert_eq!(summary(&d), vec![]);
    assert_eq!(
        d.stats.benign.get("TT002:unregistered-device-roaming"),
        Some(&1)
    );
    if let Some(refresh) = sign_ins.get_mut(1) {
        refresh.user_agent = Some("python-requests/2.31".into());
    }
    assert_eq!(
        summary(&detect(sign_ins, vec![])),
        vec![("TT002".into(), ALICE.into(), "AS64510".into(), 1)]
    );
}

#[test]
fn a_token_a_device_code_sign_in_issued_is_never_the_phone_roaming() {
    // The phone signed in at home and refreshes over its carrier. A device-code sign-in at home
    // with the phone's client, agent and country issued token 5, which is used over the
    // carrier: the token went to whoever asked for the code, not to the phone.
    let sign_ins = vec![
        phone_root(),
        S::interactive(5, at("09:00"))
            .from(HOME_V4, Some(HOME_ASN))
            .session(1)
            .agent(PHONE_AGENT, "US")
            .device_code()
            .build(),
        phone_refresh(2, "10:00").build(),
    ];
    let accesses = vec![A::mail(1, at("10:05"))
        .from(CELL_V4)
        .token(5)
        .session(1)
        .build()];
    let d = detect(sign_ins, accesses);
    // TT005 for the flow itself; TT001 and TT002 because the phone excuse does not apply.
    assert_eq!(
        summary(&d),
        vec![
            ("TT001".into(), ALICE.into(), "AS64510".into(), 1),
            ("TT002".into(), ALICE.into(), "AS64510".into(), 1),
            ("TT005".into(), ALICE.into(), "AS64510".into(), 1),
        ]
    );
}
