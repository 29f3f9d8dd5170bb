use tokentrail_engine::allowlist::{self, AllowlistError};
use tokentrail_engine::EngineConfig;
use tokentrail_model::Timestamp;

use crate::common::*;

/// The date the allowlists of these tests are checked at.
fn run_date() -> Timestamp {
    Timestamp::parse("2026-12-01T00:00:00Z").unwrap()
}

fn errors(text: &str) -> Vec<(usize, String)> {
    allowlist::parse(text, run_date())
        .unwrap_err()
        .into_iter()
        .map(|AllowlistError { line, message }| (line, message))
        .collect()
}

#[test]
fn every_error_is_reported_at_once_with_its_line() {
    let text = "\
version: 1
entries:
  - id: backup-app
    reason: \"Mailbox backup, CHG-1042\"
    owner: it-ops@contoso.example
    expires: 2027-06-30
    rules: [TT003, TT009]
    match: { app_id: \"5ad5ad00-1111-4222-8333-444455556666\" }
  - id: vpn
    reason: \"VPN egress\"
    expires: 30/06/2027
    match:
      network: 203.0.113.0/33
  - id: backup-app
    reason: REVIEW drafted by inventory
    owner: someone
    expires: 2027-01-01
    match: { asn: 16509, colour: blue }
";
    let got = errors(text);
    let expected: Vec<(usize, &str)> = vec![
        (7, "entry `backup-app`: unknown rule \"TT009\""),
        (9, "entry `vpn`: `owner` is required"),
        (
            11,
            "entry `vpn`: `expires` must be a date like 2027-06-30, not \"30/06/2027\"",
        ),
        (
            13,
            "entry `vpn`: match `network` \"203.0.113.0/33\" is not a CIDR prefix",
        ),
        (
            14,
            "entry `backup-app`: duplicate id (first used on line 3)",
        ),
        (
            15,
            "entry `backup-app`: refused: its reason starts with REVIEW",
        ),
        (18, "entry `backup-app`: unknown match key `colour`"),
    ];
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    for ((line, message), (want_line, want_start)) in got.iter().zip(&expected) {
        assert_eq!(line, want_line, "{message}");
        assert!(
            message.starts_with(want_start),
            "{message:?} vs {want_start:?}"
        );
    }
}

#[test]
fn yaml_syntax_and_structure_errors() {
    let got = errors("version: 1\nentries:\n  - id: [unclosed\n");
    assert_eq!(got.len(), 1);
    assert!(got[0].1.starts_with("not valid YAML"), "{got:?}");
    let got = errors("version: 2\nentry: []\n");
    assert_eq!(
        got,
        vec![
            (1, "unsupported version 2 (expected 1)".to_string()),
            (
                2,
                "unknown key `entry` (expected `version` and `entries`)".to_string()
            ),
        ]
    );
    let got = errors(
        "version: 1\nentries:\n  - id: x\n    reason: r\n    owner: o\n    expires: 2027-01-01\n",
    );
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, 3);
    assert!(
        got[0].1.contains("`match` needs at least one of"),
        "{got:?}"
    );
}

const ALLOW: &str = "\
version: 1
entries:
  - id: old-vpn
    reason: \"Former VPN provider\"
    owner: net@contoso.example
    expires: 2026-03-01
    match: { asn: 14061 }
  - id: droplet-jumpbox
    reason: \"Alice's approved jump box, CHG-7\"
    owner: sec@contoso.example
    expires: 2026-03-02
    rules: [TT002]
    match: { user: ALICE@contoso.example, asn: 14061 }
  - id: never-used
    reason: \"Backup service\"
    owner: it@contoso.example
    expires: 2027-01-31
    match: { app_id: 5ad5ad00-1111-4222-8333-444455556666, network: 10.0.0.0/8 }
";

fn replay() -> (Vec<tokentrail_model::SignIn>, Vec<tokentrail_model::Access>) {
    let sign_ins = vec![
        S::interactive(1, at("09:00"))
            .from(HOME_V4, Some(HOME_ASN))
            .session(1)
            .build(),
        S::non_interactive(10, at("10:00"))
            .from(VPS_V4, Some(VPS_ASN))
            .session(1)
            .build(),
    ];
    (
        sign_ins,
        vec![A::mail(1, at("10:05"))
            .from(VPS_V4)
            .token(10)
            .session(1)
            .build()],
    )
}

fn config(now: &str) -> EngineConfig {
    EngineConfig {
        allowlist: Some(allowlist::parse(ALLOW, Timestamp::parse(now).unwrap()).unwrap()),
        now: Timestamp::parse(now).unwrap(),
        ..Default::default()
    }
}

#[test]
fn suppression_is_counted_and_reported_never_dropped() {
    let (s, a) = replay();
    let d = detect_with(config("2026-03-02T23:59:59Z"), s, a);
    assert_eq!(summary(&d), vec![]);
    assert_eq!(d.suppressed.len(), 1);
    let f = &d.suppressed[0];
    assert_eq!(f.rule, tokentrail_engine::rules::tt002::ID);
    let sup = f.suppression.as_ref().unwrap();
    assert_eq!(sup.entry_id, "droplet-jumpbox");
    assert_eq!(sup.reason, "Alice's approved jump box, CHG-7");
    assert_eq!(
        d.stats.suppressed.get(&tokentrail_engine::rules::tt002::ID),
        Some(&1)
    );
    assert_eq!(
        d.stats.findings.get(&tokentrail_engine::rules::tt002::ID),
        None
    );
    assert_eq!(d.allowlist.applied.get("droplet-jumpbox"), Some(&1));
    let ids = |v: &[tokentrail_engine::allowlist::EntryStatus]| {
        v.iter().map(|e| e.id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&d.allowlist.expired), vec!["old-vpn"]);
    assert_eq!(ids(&d.allowlist.unused), vec!["never-used"]);
    assert_eq!(d.allowlist.unused[0].line, 14);
}

#[test]
fn expired_entries_stop_applying() {
    let (s, a) = replay();
    // The jump-box entry expired at the end of 2026-03-02.
    let d = detect_with(config("2026-03-03T00:00:00Z"), s, a);
    assert_eq!(
        summary(&d),
        vec![("TT002".into(), ALICE.into(), "AS14061".into(), 2)]
    );
    assert_eq!(d.suppressed.len(), 0);
    let expired: Vec<_> = d.allowlist.expired.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(expired, vec!["old-vpn", "droplet-jumpbox"]);
    let unused: Vec<_> = d.allowlist.unused.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(unused, vec!["never-used"]);
}

/// One entry matching `network`, as an allowlist file.
fn network_entry(network: &str) -> String {
    format!(
        "version: 1\nentries:\n  - id: n\n    reason: r\n    owner: o\n    expires: 2027-01-31\n    match: {{ network: \"{network}\" }}\n"
    )
}

/// Issue 14: `network: ::/0` with a far expiry silenced a whole tenant. Networks wider than a
/// /16 of IPv4 or a /32 of IPv6 are refused, in every form IPv4 takes in IPv6; private ranges
/// name the organization's own network and are not limited.
#[test]
fn networks_wider_than_the_limit_are_refused() {
    for accepted in [
        "203.0.0.0/16",
        "203.0.113.7",
        "2001:db8::/32",
        "::ffff:203.0.0.0/112",
        "64:ff9b::cb00:0/112",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "fd00::/8",
    ] {
        let text = network_entry(accepted);
        assert!(
            allowlist::parse(&text, run_date()).is_ok(),
            "{accepted} refused"
        );
    }
    for (refused, family) in [
        ("::/0", "a /32 of IPv6"),
        ("2001::/16", "a /32 of IPv6"),
        ("0.0.0.0/0", "a /16 of IPv4"),
        ("203.0.0.0/15", "a /16 of IPv4"),
        ("::ffff:0:0/96", "a /16 of IPv4"),
        ("64:ff9b::/96", "a /16 of IPv4"),
        ("::/64", "a /16 of IPv4"),
    ] {
        let got = errors(&network_entry(refused));
        assert_eq!(got.len(), 1, "{refused}: {got:?}");
        assert_eq!(got[0].0, 7);
        assert!(
            got[0].1.starts_with(&format!(
                "entry `n`: match `network` {refused:?} covers more than {family}"
            )),
            "{refused}: {got:?}"
        );
    }
}

/// Expiry at most a year ahead of the run; `*` and `?` are patterns, refused.
#[test]
fn far_expiries_and_patterns_are_refused() {
    let entry = |expires: &str, key: &str, value: &str| {
        format!("version: 1\nentries:\n  - id: e\n    reason: r\n    owner: o\n    expires: {expires}\n    match: {{ {key}: \"{value}\" }}\n")
    };
    // 2026-12-01 plus 366 days is 2027-12-02.
    assert!(allowlist::parse(&entry("2027-12-02", "asn", "1"), run_date()).is_ok());
    assert_eq!(
        errors(&entry("2027-12-03", "asn", "1")),
        vec![(
            6,
            "entry `e`: `expires` 2027-12-03 is more than 366 days after 2026-12-01 (the date \
             of the run): an exception is renewed at least once a year"
                .to_string()
        )]
    );
    for (key, value) in [
        ("app_id", "*"),
        ("user", "*@contoso.example"),
        ("service_principal_id", "5ad5ad00-????"),
    ] {
        let got = errors(&entry("2027-01-31", key, value));
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0]
                .1
                .starts_with(&format!("entry `e`: match `{key}` {value:?} is a pattern")),
            "{got:?}"
        );
    }
}

/// The allowlist is bounded: 1 MiB of text and 10,000 entries.
#[test]
fn the_allowlist_size_is_bounded() {
    let mut text = String::from("version: 1\nentries:\n");
    while text.len() <= allowlist::MAX_BYTES {
        text.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    let got = errors(&text);
    assert_eq!(got.len(), 1);
    assert!(
        got[0].1.contains("more than the limit of 1048576"),
        "{got:?}"
    );

    let mut text = String::from("version: 1\nentries:\n");
    for i in 0..=allowlist::MAX_ENTRIES {
        text.push_str(&format!(
            "  - {{ id: e{i}, reason: r, owner: o, expires: 2027-01-31, match: {{ asn: {i} }} }}\n"
        ));
    }
    let got = errors(&text);
    assert_eq!(
        got,
        vec![(2, "10001 entries, more than the limit of 10000".to_string())]
    );

    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, vec![b'#'; allowlist::MAX_BYTES + 1]).unwrap();
    let err = allowlist::read_file(&big).unwrap_err();
    assert!(
        err.to_string().contains("larger than the allowlist limit"),
        "{err}"
    );
}

/// Every entry in force is reported with the findings it suppressed, unused ones with 0.
#[test]
fn each_entry_in_force_reports_what_it_suppressed() {
    let (s, a) = replay();
    let d = detect_with(config("2026-03-02T23:59:59Z"), s, a);
    let counts: Vec<(&str, u64)> = d
        .allowlist
        .in_force
        .iter()
        .map(|(e, n)| (e.id.as_str(), *n))
        .collect();
    assert_eq!(counts, vec![("droplet-jumpbox", 1), ("never-used", 0)]);
}
