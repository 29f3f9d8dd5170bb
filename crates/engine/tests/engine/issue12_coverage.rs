//! Issue 12, points 1 and 3: coverage on evidence, not silence, and tokens that live a day.
//! Each test names the scenario the round-1 engine got wrong.

use tokentrail_engine::{Detection, Engine, EngineConfig, Family};
use tokentrail_model::{Access, Confidence, Severity, SignIn, SignInKind, Timestamp};

use crate::common::*;

/// A time `days` after Monday 2026-03-02 00:00 UTC, plus `hhmm`.
fn day(days: i64, hhmm: &str) -> Timestamp {
    at(hhmm).plus_secs(days * 86_400)
}

fn colleague(n: u128) -> (String, String) {
    (
        format!("cccccccc-0000-4000-8000-{n:012}"),
        format!("colleague{n}@contoso.example"),
    )
}

/// A small office of eight, two weeks and a Monday from Monday 2026-03-02: on weekdays each colleague signs
/// in at the office around 08:00 and refreshes every 45 minutes until 17:00, reading mail with
/// each token; nothing at night, nothing at weekends.
fn small_office() -> (Vec<SignIn>, Vec<Access>) {
    let mut sign_ins = Vec::new();
    let mut accesses = Vec::new();
    let mut n: u128 = 10_000;
    let mut rec: u64 = 10_000;
    for d in (0..15).filter(|d| d % 7 < 5) {
        for c in 1..=8u128 {
            let (id, upn) = colleague(c);
            let session = 5000 + c * 100 + d as u128;
            let mut t = day(d, "08:00").plus_secs(i64::try_from(c).unwrap() * 60);
            let mut push = |s: S, t: Timestamp, n: u128, rec: u64| {
                let mut s = s
                    .from(OFFICE_V4, Some(OFFICE_ASN))
                    .session(session)
                    .device(&format!("dev-{c}"), true, true)
                    .build();
                s.user_id = Some(id.clone());
                s.upn = Some(upn.clone());
                sign_ins.push(s);
                let mut a = A::mail(rec, t.plus_secs(120))
                    .from(OFFICE_V4)
                    .token(n)
                    .session(session)
                    .build();
                a.user_id = Some(id.clone());
                a.upn = Some(upn.clone());
                accesses.push(a);
            };
            push(S::interactive(n, t), t, n, rec);
            n += 1;
            rec += 1;
            while t < day(d, "17:00") {
                t = t.plus_secs(45 * 60);
                push(S::non_interactive(n, t).prt(), t, n, rec);
                n += 1;
                rec += 1;
            }
        }
    }
    (sign_ins, accesses)
}

fn run(config: EngineConfig, sign_ins: Vec<SignIn>, accesses: Vec<Access>) -> Detection {
    let mut engine = Engine::new(config);
    sign_ins.into_iter().for_each(|s| engine.add_sign_in(s));
    accesses.into_iter().for_each(|a| engine.add_access(a));
    engine.finish()
}

/// Point 1: a refresh token replayed from a droplet on Saturday night, in a session that has
/// no interactive sign-in. Round 1 split coverage at the weekend and answered "unknown".
#[test]
fn a_rootless_session_at_the_weekend_fires_naming_the_quiet_stretch() {
    let (mut s, mut a) = small_office();
    let saturday = |hhmm| day(12, hhmm);
    s.push(
        S::non_interactive(1, saturday("02:00"))
            .from(VPS_V4, Some(VPS_ASN))
            .session(77)
            .app(OFFICE)
            .build(),
    );
    a.push(
        A::mail(1, saturday("02:05"))
            .from(VPS_V4)
            .token(1)
            .session(77)
            .app(OFFICE)
            .build(),
    );
    let d = run(EngineConfig::default(), s, a);
    assert_eq!(
        summary(&d),
        vec![("TT003".into(), ALICE.into(), "AS14061".into(), 1)],
        "{:#?}",
        d.stats
    );
    let f = &d.findings[0];
    assert_eq!(f.confidence, Confidence::Medium, "High, lowered one step");
    assert_eq!(f.severity, Severity::Medium);
    // The interactive log's silence from Friday's last sign-in to Monday morning.
    let named =
        "interactive sign-in log was quiet from 2026-03-13T08:08:00Z to 2026-03-16T08:01:00Z";
    assert!(f.why.contains(named), "{}", f.why);
    assert!(
        f.checked.iter().any(|c| c.contains(named)),
        "{:#?}",
        f.checked
    );
    // The whole office on weekdays raised nothing.
    assert!(!d.stats.unknown.contains_key("TT003:outside-coverage"));
}

/// Point 1: a token nobody saw issued, used on a Tuesday night. Round 1 split the
/// non-interactive log at every night and answered "unknown".
#[test]
fn an_orphan_token_at_night_fires_with_lower_confidence() {
    let (s, mut a) = small_office();
    a.push(
        A::graph_me(1, day(8, "03:10"))
            .from(VPS_V4)
            .token(2)
            .app(SHADY_APP)
            .issued(day(8, "03:00"))
            .build(),
    );
    let d = run(EngineConfig::default(), s, a);
    assert_eq!(
        summary(&d),
        vec![("TT004".into(), ALICE.into(), "203.0.113.0/24".into(), 1)],
        "{:#?}",
        d.stats
    );
    let f = &d.findings[0];
    assert_eq!(f.confidence, Confidence::Low, "Medium, lowered one step");
    assert!(
        f.why
            .contains("was quiet from 2026-03-09T17:08:00Z to 2026-03-10T08:46:00Z"),
        "{}",
        f.why
    );
}

/// Tokens of three users that no sign-in issued, all issued in one quiet night: evidence of
/// a hole, whether the tenant is judged at once or in partitions of its users, where each
/// user's tokens are counted in a partition of their own.
#[test]
fn tokens_of_three_users_nobody_issued_make_a_hole_in_partitions_too() {
    let (s, mut a) = small_office();
    for (n, user) in [None, Some(1u128), Some(2)].into_iter().enumerate() {
        let n = n as u64;
        let mut access = A::graph_me(1 + n, day(8, "03:10"))
            .from(VPS_V4)
            .token(2 + u128::from(n))
            .app(SHADY_APP)
            .issued(day(8, "03:00"))
            .build();
        if let Some(c) = user {
            let (id, upn) = colleague(c);
            access.user_id = Some(id);
            access.upn = Some(upn);
        }
        a.push(access);
    }
    let whole = run(EngineConfig::default(), s.clone(), a.clone());
    let holes = &whole
        .coverage
        .family(Family::SignIn(SignInKind::NonInteractive))
        .unwrap()
        .holes;
    assert_eq!(holes.len(), 1, "{holes:?}");
    let unmatched = holes[0].evidence.unmatched_tokens.as_ref().unwrap();
    assert_eq!((unmatched.tokens, unmatched.users), (3, 3));
    assert_eq!(summary(&whole), vec![]);
    for partitions in [2, 3, 8] {
        let config = EngineConfig {
            partitions,
            ..EngineConfig::default()
        };
        let parted = run(config, s.clone(), a.clone());
        assert_eq!(parted.coverage, whole.coverage, "{partitions} partitions");
        assert_eq!(parted.findings, whole.findings, "{partitions} partitions");
        assert_eq!(
            parted.stats.unknown, whole.stats.unknown,
            "{partitions} partitions"
        );
    }
}

/// A busy tenant: twenty users refreshing every ten minutes around the clock for three days,
/// each token read with a line-of-business app that logs the token's issue time; a root each
/// midnight and a browser sign-in every two hours.
fn busy_tenant(lost: Option<(Timestamp, Timestamp)>) -> (Vec<SignIn>, Vec<Access>) {
    let mut sign_ins = Vec::new();
    let mut accesses = Vec::new();
    let mut n: u128 = 20_000;
    let mut rec: u64 = 20_000;
    for u in 1..=20u128 {
        let (id, upn) = colleague(u);
        for d in 0..3i64 {
            let session = 7000 + u * 10 + d as u128;
            let mut t = day(d, "00:00").plus_secs(i64::try_from(u).unwrap() * 20);
            let mut root = S::interactive(n, t)
                .from(OFFICE_V4, Some(OFFICE_ASN))
                .session(session)
                .build();
            root.user_id = Some(id.clone());
            root.upn = Some(upn.clone());
            sign_ins.push(root);
            n += 1;
            // Browser sign-ins through the day: the interactive log is busy too.
            for h in 1..12 {
                let mut web = S::interactive(n, t.plus_secs(h * 7200))
                    .from(OFFICE_V4, Some(OFFICE_ASN))
                    .session(9000 + u * 100 + d as u128 * 12 + h as u128)
                    .build();
                web.user_id = Some(id.clone());
                web.upn = Some(upn.clone());
                sign_ins.push(web);
                n += 1;
            }
            for _ in 0..143 {
                t = t.plus_secs(600);
                let mut s = S::non_interactive(n, t)
                    .from(OFFICE_V4, Some(OFFICE_ASN))
                    .session(session)
                    .app(LOB_APP)
                    .build();
                s.user_id = Some(id.clone());
                s.upn = Some(upn.clone());
                if lost.is_none_or(|(from, to)| t < from || t > to) {
                    sign_ins.push(s);
                }
                let mut a = A::file(rec, t.plus_secs(60))
                    .from(OFFICE_V4)
                    .token(n)
                    .session(session)
                    .app(LOB_APP)
                    .issued(t)
                    .build();
                a.user_id = Some(id.clone());
                a.upn = Some(upn.clone());
                accesses.push(a);
                n += 1;
                rec += 1;
            }
        }
    }
    (sign_ins, accesses)
}

/// Point 1: one page of a busy tenant's non-interactive sign-ins is missing (an hour on the
/// second day). Every token issued in that hour is unknown to the sign-in logs; round 1 saw
/// a one-hour gap (under its six-hour threshold) and raised a TT004 per token: 120 of them.
/// Now the hour is a hole: unknown, and a coverage warning.
#[test]
fn a_lost_page_of_a_busy_tenant_is_a_hole_not_a_flood() {
    let lost = (day(1, "10:00"), day(1, "11:00"));
    let (s, a) = busy_tenant(Some(lost));
    let d = run(EngineConfig::default(), s, a);
    assert_eq!(summary(&d), vec![], "{} findings", d.findings.len());
    assert_eq!(d.stats.unknown.get("TT004:outside-coverage"), Some(&120));
    let non_interactive = Family::SignIn(SignInKind::NonInteractive);
    assert!(!d
        .coverage
        .covers(non_interactive, day(1, "10:30"), day(1, "10:30")));
    assert!(d
        .coverage
        .covers(non_interactive, day(1, "09:00"), day(1, "09:50")));
}

/// The same tenant with nothing lost raises nothing and has no hole.
#[test]
fn the_busy_tenant_complete_is_covered_throughout() {
    let (s, a) = busy_tenant(None);
    let d = run(EngineConfig::default(), s, a);
    assert_eq!(summary(&d), vec![]);
    let f = d
        .coverage
        .family(Family::SignIn(SignInKind::NonInteractive))
        .unwrap();
    assert_eq!(f.holes, vec![]);
    assert_eq!(f.quiet, vec![]);
}

/// Point 1: `--window`: the analyst knows the query started at midnight, hours before the
/// first record. A rootless session at 03:00 on the second day is then inside coverage.
#[test]
fn a_given_window_is_covered_from_its_start() {
    let rootless = |s: &mut Vec<SignIn>, a: &mut Vec<Access>| {
        s.push(
            S::non_interactive(1, day(1, "03:00"))
                .from(VPS_V4, Some(VPS_ASN))
                .session(77)
                .app(OFFICE)
                .build(),
        );
        a.push(
            A::mail(1, day(1, "03:05"))
                .from(VPS_V4)
                .token(1)
                .session(77)
                .app(OFFICE)
                .build(),
        );
    };
    let (mut s, mut a) = small_office();
    rootless(&mut s, &mut a);
    // The input starts at 08:01 on the first day: the lookback reaches before it.
    let d = run(EngineConfig::default(), s.clone(), a.clone());
    assert_eq!(summary(&d), vec![]);
    assert_eq!(d.stats.unknown.get("TT003:outside-coverage"), Some(&1));
    let config = EngineConfig {
        window: Some((day(0, "00:00"), day(14, "00:00"))),
        ..EngineConfig::default()
    };
    let d = run(config, s, a);
    assert_eq!(
        summary(&d),
        vec![("TT003".into(), ALICE.into(), "AS14061".into(), 1)]
    );
}

/// Point 3: an access that does not log its token's issue time may use a token issued up to
/// 28 hours earlier (Continuous Access Evaluation), before the sign-in logs begin. Round 1
/// assumed the two hours before the access and called the token an orphan.
#[test]
fn a_token_of_unknown_age_may_predate_the_logs() {
    let accesses = vec![A::graph_me(1, day_before("10:00"))
        .from(VPS_V4)
        .token(50)
        .app(SHADY_APP)
        .build()];
    let d = detect(vec![], accesses);
    assert_eq!(summary(&d), vec![]);
    assert_eq!(d.stats.unknown.get("TT004:outside-coverage"), Some(&1));
    // A day later the 28 hours before the access are covered, and it fires.
    let accesses = vec![A::graph_me(1, at("12:00"))
        .from(VPS_V4)
        .token(50)
        .app(SHADY_APP)
        .build()];
    let d = detect(vec![], accesses);
    assert_eq!(
        summary(&d),
        vec![("TT004".into(), ALICE.into(), "203.0.113.0/24".into(), 1)]
    );
    assert!(
        d.findings[0].checked.iter().any(|c| c.contains("28 h")),
        "{:?}",
        d.findings[0].checked
    );
}

/// Point 3: TT003 asks for the interactive root in the day before the token was alive, not
/// before its use: a token issued 27 hours before it was used, by no sign-in of the logs, may
/// descend from a root before them. Round 1 looked back from the access and fired TT003.
#[test]
fn the_lookback_starts_at_the_tokens_issue() {
    let accesses = vec![A::mail(1, at("10:00"))
        .from(VPS_V4)
        .token(60)
        .app(SHADY_APP)
        .issued(day_before("07:00"))
        .build()];
    let d = detect(vec![], accesses);
    // The orphan token itself is TT004's (its issue time is covered), the client TT005's.
    assert_eq!(
        d.findings.iter().map(|f| f.rule).collect::<Vec<_>>(),
        vec![
            tokentrail_engine::rules::tt005::ID,
            tokentrail_engine::rules::tt004::ID
        ]
    );
    assert_eq!(d.stats.unknown.get("TT003:outside-coverage"), Some(&1));
}

/// Point 1, the export that cannot say: the Entra admin center's CSV does not tell an
/// interactive sign-in from a non-interactive one, and the reader takes the unstated ones for
/// non-interactive. A session made only of such sign-ins may have had its root among them:
/// TT003 answers unknown, where coverage on evidence (no more unknown at night) would
/// otherwise call it rootless.
#[test]
fn a_session_whose_sign_ins_may_include_its_root_is_unknown() {
    let mut s = S::non_interactive(20, at("10:00"))
        .from(OFFICE_V4, Some(OFFICE_ASN))
        .session(5)
        .app(LOB_APP)
        .build();
    s.kind_assumed = true;
    let a = A::mail(1, at("10:05"))
        .from(OFFICE_V4)
        .token(20)
        .session(5)
        .app(LOB_APP)
        .build();
    let d = detect(vec![s.clone()], vec![a.clone()]);
    assert_eq!(
        d.findings.iter().map(|f| f.rule).collect::<Vec<_>>(),
        vec![tokentrail_engine::rules::tt005::ID]
    );
    assert_eq!(
        d.stats.unknown.get("TT003:root-kind-unstated"),
        Some(&1),
        "{:?}",
        d.stats
    );
    // Stated non-interactive, the same session has no root: TT003.
    s.kind_assumed = false;
    let d = detect(vec![s], vec![a]);
    assert!(d
        .findings
        .iter()
        .any(|f| f.rule == tokentrail_engine::rules::tt003::ID));
}

/// The admin center writes one tab per file: where a file's other rows state that they are
/// interactive (a challenge answered), its unstated rows (single sign-on, a password alone) are
/// the interactive tab's too, and the session has its root; a file whose rows state both kinds
/// settles nothing.
#[test]
fn an_unstated_sign_in_takes_the_kind_its_file_states() {
    use std::sync::Arc;
    let in_file = |mut s: tokentrail_model::SignIn, file: &str| {
        s.source.file = Arc::from(file);
        s
    };
    let mut unstated = S::non_interactive(20, at("10:00"))
        .from(OFFICE_V4, Some(OFFICE_ASN))
        .session(5)
        .app(LOB_APP)
        .build();
    unstated.kind_assumed = true;
    // Another user's sign-in in the same file, stated interactive.
    let mut stated = S::interactive(21, at("09:00"))
        .from(OFFICE_V4, Some(OFFICE_ASN))
        .session(6)
        .build();
    stated.user_id = Some("0f0f0f0f-0000-4000-8000-000000000099".into());
    stated.upn = Some("bob@contoso.example".into());
    let a = A::mail(1, at("10:05"))
        .from(OFFICE_V4)
        .token(20)
        .session(5)
        .app(LOB_APP)
        .build();

    let d = detect(
        vec![
            in_file(unstated.clone(), "InteractiveSignIns.csv"),
            in_file(stated.clone(), "InteractiveSignIns.csv"),
        ],
        vec![a.clone()],
    );
    assert_eq!(d.stats.sign_ins_kind_settled, 1);
    assert_eq!(d.stats.unknown.get("TT003:root-kind-unstated"), None);
    assert!(
        !d.findings
            .iter()
            .any(|f| f.rule == tokentrail_engine::rules::tt003::ID),
        "{:?}",
        d.findings
    );

    // The same rows, with a stated non-interactive row in the file too: nothing is settled.
    let mut refresh = S::non_interactive(22, at("09:30"))
        .from(OFFICE_V4, Some(OFFICE_ASN))
        .session(6)
        .build();
    refresh.user_id = stated.user_id.clone();
    refresh.upn = stated.upn.clone();
    let d = detect(
        vec![
            in_file(unstated, "mixed.csv"),
            in_file(stated, "mixed.csv"),
            in_file(refresh, "mixed.csv"),
        ],
        vec![a],
    );
    assert_eq!(d.stats.sign_ins_kind_settled, 0);
    assert_eq!(d.stats.unknown.get("TT003:root-kind-unstated"), Some(&1));
}

/// An interactive tab of single sign-on and single-factor rows states no kind row by row: the
/// admin center's name for the download says which tab it is, in any case and after any folder
/// (Windows paths too). Renamed, the file settles nothing.
#[test]
fn a_file_whose_rows_state_no_kind_takes_the_kind_its_admin_center_name_says() {
    use std::sync::Arc;
    let run = |file: &str| {
        let mut s = S::non_interactive(20, at("10:00"))
            .from(OFFICE_V4, Some(OFFICE_ASN))
            .session(5)
            .app(LOB_APP)
            .build();
        s.kind_assumed = true;
        s.source.file = Arc::from(file);
        let a = A::mail(1, at("10:05"))
            .from(OFFICE_V4)
            .token(20)
            .session(5)
            .app(LOB_APP)
            .build();
        let d = detect(vec![s], vec![a]);
        let tt003 = d
            .findings
            .iter()
            .filter(|f| f.rule == tokentrail_engine::rules::tt003::ID)
            .count();
        (
            d.stats.sign_ins_kind_settled,
            tt003,
            d.stats.unknown.get("TT003:root-kind-unstated").copied(),
        )
    };
    assert_eq!(
        run("exports/InteractiveSignIns_2026-11-02_2026-11-09.csv"),
        (1, 0, None)
    );
    assert_eq!(
        run(r"C:\cases\acme\interactivesignins_2026-11-02_2026-11-09.csv"),
        (1, 0, None)
    );
    // The non-interactive tab: stated so by its name, the session has no root.
    assert_eq!(
        run("exports/NonInteractiveSignIns_2026-11-02_2026-11-09.csv"),
        (1, 1, None)
    );
    // A folder named like the tab does not name the file.
    assert_eq!(
        run("InteractiveSignIns/signins-week45.csv"),
        (0, 0, Some(1))
    );
}
