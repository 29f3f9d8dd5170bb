//! `--since`/`--until` limit which findings are reported, never which records are judged:
//! baselines (the client inventory, session chains, token issuers, coverage) use every record
//! given. Regression for issue 12, point 7: a `--since` that started right after a device-code
//! phish dropped the phishing sign-in (losing the attack) and most of the tenant's history of
//! its own intranet app (calling it unapproved).

use tokentrail_engine::{Detection, Engine, EngineConfig};
use tokentrail_model::{RuleId, Severity, SignIn, Timestamp};

use crate::common::*;

/// `2026-03-DDThh:mm:00Z`.
fn on(day: u32, hhmm: &str) -> Timestamp {
    Timestamp::parse(&format!("2026-03-{day:02}T{hhmm}:00Z")).unwrap()
}

/// Bob signs in from his office every hour from 03-01 06:00 to 03-05 18:00: the sign-in logs
/// cover the five days.
fn office_hours() -> Vec<SignIn> {
    let start = on(1, "06:00");
    (0..109u128)
        .flat_map(|h| {
            let t = start.plus_secs(i64::try_from(h).unwrap() * 3600);
            [
                S::interactive(2000 + h * 2, t)
                    .bob()
                    .from(OFFICE_V4, Some(OFFICE_ASN))
                    .session(900)
                    .build(),
                S::non_interactive(2001 + h * 2, t.plus_secs(1800))
                    .bob()
                    .from(OFFICE_V4, Some(OFFICE_ASN))
                    .session(900)
                    .build(),
            ]
        })
        .collect()
}

/// The tenant: Alice opens the company's intranet app (used by her alone) at home on 03-01,
/// 03-02, 03-03 and 03-05; late on 03-03 she enters an attacker's device code, and from just
/// after midnight the attacker reads her mail with the token from a VPS.
fn tenant() -> (Vec<SignIn>, Vec<tokentrail_model::Access>) {
    let mut sign_ins = office_hours();
    let mut accesses = Vec::new();
    for (i, day) in [1u32, 2, 3, 5].into_iter().enumerate() {
        let n = 100 + i as u128;
        sign_ins.push(
            S::interactive(n, on(day, "09:00"))
                .from(HOME_V4, Some(HOME_ASN))
                .session(n)
                .app(LOB_APP)
                .build(),
        );
        accesses.push(
            A::file(100 + i as u64, on(day, "09:05"))
                .from(HOME_V4)
                .token(n)
                .session(n)
                .app(LOB_APP)
                .build(),
        );
    }
    sign_ins.push(
        S::interactive(77, on(3, "23:40"))
            .from(HOME_V4, Some(HOME_ASN))
            .session(77)
            .app(OFFICE)
            .device_code()
            .build(),
    );
    for (i, hhmm) in ["00:05", "00:20", "00:50"].into_iter().enumerate() {
        accesses.push(
            A::mail(700 + i as u64, on(4, hhmm))
                .from(VPS_V4)
                .token(77)
                .session(77)
                .app(OFFICE)
                .build(),
        );
    }
    (sign_ins, accesses)
}

fn run(since: Option<Timestamp>, until: Option<Timestamp>) -> Detection {
    let (sign_ins, accesses) = tenant();
    let mut engine = Engine::new(EngineConfig {
        since,
        until,
        ..EngineConfig::default()
    });
    sign_ins.into_iter().for_each(|s| engine.add_sign_in(s));
    accesses.into_iter().for_each(|a| engine.add_access(a));
    engine.finish()
}

/// (rule, app id, first seen) of every live finding, sorted.
fn findings(d: &Detection) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = d
        .findings
        .iter()
        .map(|f| {
            (
                f.rule.code().to_string(),
                f.app_id.clone().unwrap_or_default(),
                f.first_seen.to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn attack() -> Vec<(String, String, String)> {
    ["TT001", "TT002", "TT005"]
        .into_iter()
        .map(|rule| {
            (
                rule.to_string(),
                OFFICE.to_string(),
                "2026-03-04T00:05:00Z".to_string(),
            )
        })
        .collect()
}

#[test]
fn since_reports_the_device_code_attack_and_keeps_the_intranet_app_approved() {
    let all = run(None, None);
    assert_eq!(findings(&all), attack());
    assert!(all
        .findings
        .iter()
        .any(|f| f.rule.code() == "TT005" && f.why.contains("device code")));

    // The window starts just after the phishing sign-in: the attack is still judged from the
    // whole input, and the intranet app is still learned from all five days.
    let since = run(Some(on(4, "00:00")), None);
    assert_eq!(findings(&since), attack());
    assert_eq!(since.stats.outside_time_window, 0);
    assert_eq!(since.stats.sign_ins_read, all.stats.sign_ins_read);
}

#[test]
fn findings_outside_the_window_are_counted_not_reported() {
    // After the attack: nothing to report, both... every attack finding counted.
    let later = run(Some(on(5, "00:00")), None);
    assert_eq!(findings(&later), vec![]);
    assert_eq!(later.stats.outside_time_window, 3);

    // Before it: the same.
    let earlier = run(None, Some(on(3, "23:59")));
    assert_eq!(findings(&earlier), vec![]);
    assert_eq!(earlier.stats.outside_time_window, 3);

    // A window holding part of a finding's evidence reports it.
    let overlap = run(Some(on(4, "00:10")), Some(on(4, "00:30")));
    assert_eq!(findings(&overlap), attack());
}

/// The attack's findings as (rule, severity), most severe first.
fn rules_and_severities(d: &Detection) -> Vec<(String, String)> {
    d.findings
        .iter()
        .map(|f| (f.rule.code().to_string(), f.severity.caption().to_string()))
        .collect()
}

fn run_selecting(
    rules: Option<&[RuleId]>,
    min_severity: Option<Severity>,
) -> tokentrail_engine::Detection {
    let (sign_ins, accesses) = tenant();
    let mut engine = Engine::new(EngineConfig {
        rules: rules.map(|r| r.iter().copied().collect()),
        min_severity,
        ..EngineConfig::default()
    });
    sign_ins.into_iter().for_each(|s| engine.add_sign_in(s));
    accesses.into_iter().for_each(|a| engine.add_access(a));
    engine.finish()
}

/// `--rules` and `--min-severity` choose what is reported, like the window: every rule still
/// judges every record, and what is left out is counted.
#[test]
fn rules_and_min_severity_select_what_is_reported() {
    let all = run_selecting(None, None);
    let every = rules_and_severities(&all);
    assert_eq!(
        every,
        [("TT005", "High"), ("TT001", "Medium"), ("TT002", "Medium")]
            .map(|(r, s)| (r.to_string(), s.to_string()))
    );
    assert_eq!(all.stats.not_selected, 0);

    let replay = run_selecting(
        Some(&[
            tokentrail_engine::rules::tt001::ID,
            tokentrail_engine::rules::tt002::ID,
        ]),
        None,
    );
    assert_eq!(rules_and_severities(&replay), every[1..]);
    assert_eq!(replay.stats.not_selected, 1);
    // The findings reported are the same findings, ids included.
    assert_eq!(replay.findings[..], all.findings[1..]);

    let high = run_selecting(None, Some(Severity::High));
    assert_eq!(rules_and_severities(&high), every[..1]);
    assert_eq!(high.stats.not_selected, 2);

    let both = run_selecting(
        Some(&[tokentrail_engine::rules::tt001::ID]),
        Some(Severity::High),
    );
    assert!(both.findings.is_empty());
    assert_eq!(both.stats.not_selected, 3);
    // Judging is unchanged: the same records were linked and explained.
    assert_eq!(
        both.stats.accesses_token_linked,
        all.stats.accesses_token_linked
    );
    assert_eq!(both.stats.benign, all.stats.benign);
}
