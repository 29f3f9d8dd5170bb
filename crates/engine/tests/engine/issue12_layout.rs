//! Issue 12, point 6: the same records give the same findings whatever files they came in.
//! Each test names the scenario the round-1 engine got wrong.

use std::sync::Arc;

use tokentrail_model::{Guid, Severity};

use crate::common::*;

fn in_file(mut s: tokentrail_model::SignIn, file: &str) -> tokentrail_model::SignIn {
    s.source.file = Arc::from(file);
    s
}

/// Device-code phishing: the Entra row of the phished sign-in says device code, its UAL
/// `UserLoggedIn` twin (same `Id`) cannot. Round 1 kept whichever file sorted first by path:
/// with the UAL folder first (`audit/` before `signins/`), the High device-code finding was
/// lost.
#[test]
fn an_entra_sign_in_and_its_ual_twin_merge_into_the_richest_row() {
    let phished = S::interactive(30, at("11:00"))
        .from(HOME_V4, Some(HOME_ASN))
        .session(6)
        .app(OFFICE)
        .device_code()
        .build();
    let mut twin = S::ual_logon(30, at("11:00"))
        .from(HOME_V4, None)
        .session(6)
        .app(OFFICE)
        .build();
    twin.time = at("11:00").plus_secs(1);
    let access = || {
        vec![A::mail(1, at("11:02"))
            .from(VPS_V4)
            .token(30)
            .session(6)
            .app(OFFICE)
            .build()]
    };
    let mut ids = Vec::new();
    for (entra_file, ual_file) in [
        ("signins/SigninLogs.jsonl", "ual/audit.jsonl"),
        ("signins/SigninLogs.jsonl", "audit/audit.jsonl"),
    ] {
        let d = detect(
            vec![
                in_file(phished.clone(), entra_file),
                in_file(twin.clone(), ual_file),
            ],
            access(),
        );
        let tt005: Vec<_> = d
            .findings
            .iter()
            .filter(|f| f.rule == tokentrail_engine::rules::tt005::ID)
            .collect();
        assert_eq!(tt005.len(), 1, "{ual_file}: {:#?}", summary(&d));
        assert_eq!(tt005[0].severity, Severity::High);
        assert!(tt005[0].why.contains("device code"), "{}", tt005[0].why);
        assert_eq!(d.stats.sign_ins_duplicate, 1);
        ids.push(d.findings.iter().map(|f| f.id.clone()).collect::<Vec<_>>());
    }
    assert_eq!(ids[0], ids[1]);
}

/// Anonymized exports zero every id: different sign-ins with the zero id are different
/// sign-ins. Round 1 kept one of the three below (Bob's, whose file sorts first): Alice's
/// session lost its root and its refresh.
#[test]
fn sign_ins_with_placeholder_ids_are_never_merged() {
    let zero = |s: S| {
        let mut s = s.build();
        s.id = Some(Guid(0));
        s
    };
    let sign_ins = vec![
        // Bob's sign-in, in a file that sorts first.
        in_file(
            zero(
                S::interactive(1, at("08:59"))
                    .bob()
                    .from(OFFICE_V4, Some(OFFICE_ASN))
                    .session(2),
            ),
            "a/SigninLogs.jsonl",
        ),
        in_file(
            zero(
                S::interactive(2, at("09:00"))
                    .from(HOME_V4, Some(HOME_ASN))
                    .session(1),
            ),
            "b/SigninLogs.jsonl",
        ),
        in_file(
            zero(
                S::non_interactive(3, at("09:30"))
                    .from(HOME_V4, Some(HOME_ASN))
                    .session(1),
            ),
            "b/AADNonInteractiveUserSignInLogs.jsonl",
        ),
    ];
    let accesses = vec![A::mail(1, at("09:40")).from(HOME_V4).session(1).build()];
    let d = detect(sign_ins, accesses);
    assert_eq!(summary(&d), vec![]);
    assert_eq!(d.stats.sign_ins_duplicate, 0);
}

/// Graph rows exported without `RequestId`, read twice (two overlapping exports): one record.
/// Round 1 kept every id-less row, so each replayed read counted twice.
#[test]
fn id_less_rows_read_twice_are_one_record() {
    let sign_ins = vec![S::interactive(1, at("09:00"))
        .from(HOME_V4, Some(HOME_ASN))
        .session(1)
        .build()];
    let rows: Vec<_> = (1..=3)
        .map(|n| {
            let mut a = A::graph_me(n, at("09:20").plus_secs(i64::try_from(n).unwrap()))
                .from(VPS_V4)
                .token(1)
                .session(1)
                .build();
            a.record_id = None;
            a
        })
        .collect();
    let mut twice = rows.clone();
    for mut a in rows {
        a.source.file = Arc::from("export-2/graph.jsonl");
        twice.push(a);
    }
    let d = detect(sign_ins, twice);
    assert_eq!(
        summary(&d),
        vec![
            ("TT001".into(), ALICE.into(), "203.0.113.0/24".into(), 3),
            ("TT002".into(), ALICE.into(), "203.0.113.0/24".into(), 3),
        ]
    );
    assert_eq!(d.stats.accesses_duplicate, 3);
}

/// The Entra admin center's CSV cannot say a sign-in was interactive; its UAL `UserLoggedIn`
/// twin can. Merged, the sign-in is the session's interactive root (and its richer fields are
/// kept), so the session's mail raises nothing.
#[test]
fn a_ual_twin_tells_an_unstated_sign_in_it_was_interactive() {
    let mut csv_row = S::non_interactive(20, at("10:00"))
        .from(OFFICE_V4, Some(OFFICE_ASN))
        .session(5)
        .app(LOB_APP)
        .build();
    csv_row.kind_assumed = true;
    let twin = S::ual_logon(20, at("10:00"))
        .from(OFFICE_V4, None)
        .session(5)
        .app(LOB_APP)
        .build();
    let mail = A::mail(1, at("10:05"))
        .from(OFFICE_V4)
        .token(20)
        .session(5)
        .app(LOB_APP)
        .build();
    let d = detect(vec![csv_row, twin], vec![mail]);
    assert_eq!(
        d.findings.iter().map(|f| f.rule).collect::<Vec<_>>(),
        vec![tokentrail_engine::rules::tt005::ID]
    );
    assert_eq!(d.stats.sign_ins_duplicate, 1);
    assert!(d.stats.unknown.is_empty(), "{:?}", d.stats.unknown);
}
