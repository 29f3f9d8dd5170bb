//! `--profile small-office` (issue 12, point 9): the tenant the engine does not get for free,
//! checked on the records themselves, read back through the project's own readers.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use tokentrail_ingest::{read_paths, Decoded, ReadOptions};
use tokentrail_model::{Access, AttackKind, Label, SignIn, SignInKind, Timestamp, TokenId};
use tokentrail_sim::{simulate, Formats, Profile, SimConfig, Summary};

fn office(users: u32, days: u32, seed: u64, formats: &str) -> (tempfile::TempDir, Summary) {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = SimConfig {
        users,
        days,
        seed,
        start: SimConfig::default_start(),
        out: dir.path().to_path_buf(),
        attacks: AttackKind::ALL.to_vec(),
        formats: Formats::parse(formats).expect("formats"),
        profile: Profile::SmallOffice,
    };
    let summary = simulate(&cfg).expect("simulate");
    (dir, summary)
}

struct Tenant {
    sign_ins: Vec<SignIn>,
    accesses: Vec<Access>,
    labels: Vec<Label<String>>,
}

fn read(dir: &std::path::Path) -> Tenant {
    let mut sign_ins = Vec::new();
    let mut accesses = Vec::new();
    let paths: Vec<_> = ["signins", "graph", "ual"]
        .iter()
        .map(|f| dir.join(f))
        .collect();
    let report = read_paths(&paths, &ReadOptions::default(), &mut |r| match r.event {
        Decoded::SignIn(s) => sign_ins.push(*s),
        Decoded::Access(a) => accesses.push(*a),
        Decoded::Other(_) => {}
    });
    assert_eq!(report.totals.unreadable, 0);
    let labels = std::fs::read_to_string(dir.join("labels.jsonl"))
        .expect("labels")
        .lines()
        .map(|l| serde_json::from_str(l).expect("label"))
        .collect();
    Tenant {
        sign_ins,
        accesses,
        labels,
    }
}

/// The office's local offset from UTC, read back from the first weekday's first interactive
/// sign-in (between 07:00 and 09:00 local by construction).
fn local_offset(t: &Tenant) -> i64 {
    let first = t
        .sign_ins
        .iter()
        .filter(|s| s.kind == SignInKind::Interactive)
        .map(|s| s.time)
        .min()
        .expect("interactive sign-ins");
    let utc_hour = first.secs().rem_euclid(86_400) / 3600;
    let offset = [-8i64, -6, -5]
        .into_iter()
        .find(|o| (7..9).contains(&(utc_hour + o).rem_euclid(24)))
        .expect("a known offset");
    offset * 3600
}

/// Local weekday (Monday 0) and hour of `t`.
fn local(t: Timestamp, offset: i64) -> (i64, i64) {
    let secs = t.secs() + offset;
    (
        (secs.div_euclid(86_400) + 3).rem_euclid(7),
        secs.rem_euclid(86_400) / 3600,
    )
}

fn in_net(ip: Option<IpAddr>, v4: [u8; 2]) -> bool {
    matches!(ip, Some(IpAddr::V4(a)) if a.octets()[..2] == v4)
}

#[test]
fn a_small_office_keeps_office_hours() {
    let (dir, summary) = office(20, 14, 31, "");
    assert_eq!(summary.profile, Profile::SmallOffice);
    let t = read(dir.path());
    let offset = local_offset(&t);
    let attack_sessions: BTreeSet<String> = t
        .labels
        .iter()
        .filter_map(|l| l.session_id.clone())
        .collect();
    let benign = |s: &&SignIn| {
        s.session_id
            .as_ref()
            .is_none_or(|sid| !attack_sessions.contains(&sid.to_string()))
    };
    // No interactive sign-in at the weekend; interactive sign-ins in office hours.
    for s in t.sign_ins.iter().filter(benign) {
        if s.kind == SignInKind::Interactive {
            let (wd, hour) = local(s.time, offset);
            assert!(wd < 5, "interactive sign-in on day {wd}: {}", s.time);
            assert!(
                (7..22).contains(&hour),
                "interactive at {hour}h: {}",
                s.time
            );
        }
    }
    // Sparse nights: user refreshes between midnight and 06:00 are few next to the day's.
    let user_refreshes: Vec<(i64, i64)> = t
        .sign_ins
        .iter()
        .filter(benign)
        .filter(|s| s.kind == SignInKind::NonInteractive)
        .map(|s| local(s.time, offset))
        .collect();
    let night = user_refreshes.iter().filter(|(_, h)| *h < 6).count();
    let weekday_day = user_refreshes
        .iter()
        .filter(|(wd, h)| *wd < 5 && (8..18).contains(h))
        .count();
    assert!(
        night > 0 && night * 10 < weekday_day,
        "{night} at night, {weekday_day} by day"
    );
}

#[test]
fn laptops_carry_long_lived_tokens_and_personal_devices_prove_nothing() {
    let (dir, _) = office(20, 14, 31, "");
    let t = read(dir.path());
    let issued: BTreeMap<TokenId, &SignIn> = t
        .sign_ins
        .iter()
        .filter_map(|s| Some((s.issued_token()?, s)))
        .collect();
    // Tokens used on another network than the one they were issued on (not Microsoft's
    // servers), many hours later, by the laptop's own Outlook.
    let mut moved = 0;
    let mut oldest = 0i64;
    for a in &t.accesses {
        let Some(s) = a.token_id.as_ref().and_then(|tok| issued.get(tok)) else {
            continue;
        };
        let (Some(IpAddr::V4(x)), Some(IpAddr::V4(y))) = (a.ip, s.ip) else {
            continue;
        };
        if x.octets()[..2] != y.octets()[..2]
            && x.octets()[0] != 40
            && s.device.is_managed == Some(true)
        {
            moved += 1;
            oldest = oldest.max(a.time.secs() - s.time.secs());
        }
    }
    assert!(
        moved > 50,
        "{moved} accesses with a token from another network"
    );
    assert!(
        oldest > 12 * 3600,
        "the oldest moved token was {oldest} s old"
    );
    // Personal devices: user refreshes with no device id, outside any attack session.
    let attack_sessions: BTreeSet<String> = t
        .labels
        .iter()
        .filter_map(|l| l.session_id.clone())
        .collect();
    let personal = t
        .sign_ins
        .iter()
        .filter(|s| s.kind == SignInKind::NonInteractive && s.device.id.is_none())
        .filter(|s| s.user_id.is_some())
        .filter(|s| {
            s.session_id
                .as_ref()
                .is_some_and(|sid| !attack_sessions.contains(&sid.to_string()))
        })
        .count();
    assert!(personal > 100, "{personal} device-less refreshes");
}

#[test]
fn attackers_argue_with_the_rules() {
    let (dir, summary) = office(20, 14, 31, "signins=diagnostic,graph=diagnostic,ual=jsonl");
    let t = read(dir.path());
    let offset = local_offset(&t);
    assert_eq!(summary.labels, 7);
    let kinds: BTreeSet<AttackKind> = t.labels.iter().map(|l| l.kind).collect();
    assert_eq!(kinds, AttackKind::ALL.into_iter().collect());
    // One expected miss: a session replay from the victim's own ISP.
    let misses: Vec<&Label<String>> = t.labels.iter().filter(|l| l.expected_miss).collect();
    assert_eq!(misses.len(), 1);
    assert_eq!(misses[0].kind, AttackKind::SessionReplay);
    // On the first day, at night, at the weekend.
    let first_day_end = SimConfig::default_start().plus_secs(86_400 - offset);
    assert!(t.labels.iter().any(|l| l.start < first_day_end));
    assert!(t.labels.iter().any(|l| local(l.start, offset).1 < 5));
    assert!(t.labels.iter().any(|l| local(l.start, offset).0 >= 5));
    // From Azure compute (AS8075, 20.55.0.0/16), with tokens claiming the victim's laptop.
    let victims: BTreeMap<&str, &Label<String>> =
        t.labels.iter().map(|l| (l.user_id.as_str(), l)).collect();
    let from_azure: Vec<&Access> = t
        .accesses
        .iter()
        .filter(|a| in_net(a.ip, [20, 55]))
        .collect();
    assert!(!from_azure.is_empty());
    assert!(from_azure
        .iter()
        .filter(|a| a.log == tokentrail_model::AccessSource::GraphActivity)
        .all(|a| a
            .user_id
            .as_deref()
            .is_some_and(|u| victims.contains_key(u))));
    let laptops: BTreeMap<&str, &str> = t
        .sign_ins
        .iter()
        .filter(|s| s.device.is_managed == Some(true))
        .filter_map(|s| Some((s.user_id.as_deref()?, s.device.id.as_deref()?)))
        .collect();
    assert!(from_azure.iter().any(|a| a.device_id.is_some()
        && a.device_id.as_deref() == a.user_id.as_deref().and_then(|u| laptops.get(u).copied())));
    assert!(t
        .sign_ins
        .iter()
        .any(|s| in_net(s.ip, [20, 55]) && s.asn == Some(8075)));
}

#[test]
fn a_small_office_has_five_to_fifty_people_and_is_reproducible() {
    for users in [4, 51] {
        let dir = tempfile::tempdir().expect("temp dir");
        let cfg = SimConfig {
            users,
            days: 2,
            seed: 1,
            start: SimConfig::default_start(),
            out: dir.path().to_path_buf(),
            attacks: Vec::new(),
            formats: Formats::default(),
            profile: Profile::SmallOffice,
        };
        let err = simulate(&cfg).expect_err("out of range").to_string();
        assert!(err.contains("5 to 50 people"), "{err}");
    }
    let (a, sa) = office(6, 3, 9, "");
    let (b, sb) = office(6, 3, 9, "");
    assert_eq!(sa, sb);
    for rel in common::files(a.path()) {
        let x = std::fs::read(a.path().join(&rel)).expect("read a");
        let y = std::fs::read(b.path().join(&rel)).expect("read b");
        assert!(x == y, "{} differs", rel.display());
    }
}
