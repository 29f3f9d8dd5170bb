//! One configuration, one answer (issue 12, point 7): `detect`, `report`, `investigate` and
//! `timeline` take the same judging options and show the same live findings; `--since` narrows what each
//! reports, never what is learned; records with impossible times are listed and kept out.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

fn tokentrail(args: &[&str]) -> Output {
    common::tokentrail().args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const NOW: &str = "2024-03-10T00:00:00Z";

/// The 30-user, 3-day tenant with every attack (seed 7): nine findings, one per attack plus
/// the replay rules' second views of the same attacks.
fn simulate(dir: &Path) {
    common::simulate_with_attacks(dir, 30);
}

/// Approves the session replay from Hetzner and the consented mail archiver.
const ALLOWLIST: &str = r#"version: 1
entries:
  - id: hetzner-vpn
    reason: "Patti's travel VPN exits at Hetzner, CHG-2001"
    owner: "it-ops@contoso.example"
    expires: 2024-12-31
    rules: [TT002]
    match: { user: "patti.gu.21@contoso.example", asn: 24940 }
  - id: archiver
    reason: "Mail Archiver Pro approved for Isaiah, CHG-2002"
    owner: "it-ops@contoso.example"
    expires: 2024-12-31
    rules: [TT005]
    match: { app_id: "da7f37f4-4b36-4807-93b4-094bb578ae45", user: "isaiah.wilber.10@contoso.example" }
"#;

/// `detect --format ocsf --show-suppressed`: (live ids, suppressed ids, every finding's user).
fn detect(tenant: &str, extra: &[&str]) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let mut args = vec![
        "detect",
        tenant,
        "--format",
        "ocsf",
        "--show-suppressed",
        "--now",
        NOW,
    ];
    args.extend_from_slice(extra);
    let out = tokentrail(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (mut live, mut suppressed, mut users) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for line in text(&out.stdout).lines() {
        let f: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = f["finding_info"]["uid"].as_str().unwrap().to_string();
        users.insert(f["actor"]["user"]["name"].as_str().unwrap().to_string());
        if f["status"] == "Suppressed" {
            suppressed.insert(id);
        } else {
            live.insert(id);
        }
    }
    (live, suppressed, users)
}

/// The finding ids the HTML report shows.
fn report(tenant: &str, out_dir: &Path, extra: &[&str]) -> BTreeSet<String> {
    let file = out_dir.join("report.html");
    let mut args = vec!["report", tenant, "-o", file.to_str().unwrap(), "--now", NOW];
    args.extend_from_slice(extra);
    let out = tokentrail(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    finding_ids(&std::fs::read_to_string(file).unwrap())
}

/// Every `TT00n-<16 hex>` in `text`.
fn finding_ids(text: &str) -> BTreeSet<String> {
    let bytes = text.as_bytes();
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("TT00") {
        if let Some(id) = text.get(i..i + 22) {
            let hex = &bytes[i + 6..i + 22];
            if bytes[i + 5] == b'-' && hex.iter().all(|b| b.is_ascii_hexdigit()) {
                out.insert(id.to_string());
            }
        }
    }
    out
}

/// `investigate --user USER --format json`.
fn investigate(tenant: &str, user: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "investigate",
        tenant,
        "--user",
        user,
        "--format",
        "json",
        "--now",
        NOW,
    ];
    args.extend_from_slice(extra);
    let out = tokentrail(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The finding ids the investigations of `users` cite, together.
fn investigated(tenant: &str, users: &BTreeSet<String>, extra: &[&str]) -> BTreeSet<String> {
    users
        .iter()
        .flat_map(|u| {
            investigate(tenant, u, extra)["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn detect_report_and_investigate_show_the_same_live_findings() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    let tenant = dir.path().to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let allowlist = work.path().join("allow.yaml");
    std::fs::write(&allowlist, ALLOWLIST).unwrap();
    let with = ["--allowlist", allowlist.to_str().unwrap()];

    let (all, none, users) = detect(tenant, &[]);
    assert_eq!((all.len(), none.len()), (9, 0));
    let (live, suppressed, _) = detect(tenant, &with);
    assert_eq!(
        suppressed,
        BTreeSet::from([
            "TT002-f700d1ce3239155e".to_string(),
            "TT005-f584d8480fbe96f1".to_string()
        ])
    );
    assert_eq!(live, &all - &suppressed);

    // Every command answers the same, with and without the allowlist.
    assert_eq!(report(tenant, work.path(), &[]), all);
    assert_eq!(investigated(tenant, &users, &[]), all);
    assert_eq!(report(tenant, work.path(), &with), live);
    assert_eq!(investigated(tenant, &users, &with), live);
    let mut args = vec!["timeline", tenant, "--now", NOW];
    args.extend_from_slice(&with);
    let out = tokentrail(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(finding_ids(&text(&out.stdout)), live);

    // What the allowlist approved is not a reason to contain: Patti's approved network is
    // no longer where "the findings place" her session, and her containment is not driven by
    // it.
    let patti = investigate(tenant, "patti.gu.21@contoso.example", &with);
    let hetzner = patti["networks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["network"] == "AS24940")
        .unwrap();
    assert_eq!(hetzner["replay_findings"], serde_json::json!([]));
    assert_eq!(hetzner["established"], false);
    assert_eq!(patti["containment"], serde_json::json!([]));
    let unapproved = investigate(tenant, "patti.gu.21@contoso.example", &[]);
    let steps: Vec<&str> = unapproved["containment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "revoke-sessions",
            "review-consent",
            "reset-credentials",
            "inbox-rules",
            "conditional-access"
        ]
    );
}

#[test]
fn since_narrows_what_every_command_reports_and_nothing_it_learns() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    let tenant = dir.path().to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let since = ["--since", "2024-03-06T00:00:00Z"];

    let (all, _, users) = detect(tenant, &[]);
    let (live, suppressed, _) = detect(tenant, &since);
    // The attacks of the last day only: the session replay, the consented archiver, the
    // orphan token; judged as on the whole input (the same ids).
    assert_eq!(
        live,
        BTreeSet::from([
            "TT002-f700d1ce3239155e".to_string(),
            "TT004-6966e581ade4991f".to_string(),
            "TT005-f584d8480fbe96f1".to_string()
        ])
    );
    assert!(live.is_subset(&all));
    assert!(suppressed.is_empty());
    assert_eq!(report(tenant, work.path(), &since), live);
    assert_eq!(investigated(tenant, &users, &since), live);

    // The timeline lists the window only; the chains still show what came before.
    let patti = investigate(tenant, "patti.gu.21@contoso.example", &since);
    let rows = patti["timeline"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows
        .iter()
        .all(|r| r["time"].as_str().unwrap() >= "2024-03-06T00:00:00Z"));
    assert!(patti["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["first_seen"].as_str().unwrap() < "2024-03-06T00:00:00Z"));

    let out = tokentrail(&[
        "detect",
        tenant,
        "--since",
        "2024-03-07",
        "--until",
        "2024-03-06",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is after --until"),
        "{}",
        text(&out.stderr)
    );
}

/// An interactive sign-in row in the Log Analytics shape.
fn sign_in(id: &str, time: &str) -> String {
    let uti = tokentrail_model_uti(id);
    serde_json::json!({
        "Category": "SignInLogs", "TimeGenerated": time, "CreatedDateTime": time, "Id": id,
        "UserPrincipalName": "adele@contoso.example",
        "UserId": "11111111-1111-4111-8111-111111111111",
        "AppDisplayName": "Microsoft Office", "AppId": "d3590ed6-52b3-4102-aeff-aad2292ab01c",
        "IPAddress": "198.51.100.10", "AutonomousSystemNumber": "3320",
        "Status": {"errorCode": 0}, "UniqueTokenIdentifier": uti,
        "SessionId": "5e551011-0000-4000-8000-000000000001", "ClientCredentialType": "none"
    })
    .to_string()
}

/// A token id that is no sign-in id in disguise: these rows are read for their times only.
fn tokentrail_model_uti(id: &str) -> String {
    format!("uti-{id}")
}

#[test]
fn implausible_record_times_are_listed_and_kept_out() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("signins.jsonl");
    let lines = [
        sign_in(
            "a0000001-0000-4000-8000-000000000001",
            "2024-03-04T08:00:00Z",
        ),
        sign_in(
            "a0000002-0000-4000-8000-000000000002",
            "1970-01-01T00:00:00Z",
        ),
        sign_in(
            "a0000003-0000-4000-8000-000000000003",
            "2024-03-05T09:00:00Z",
        ),
        sign_in(
            "a0000004-0000-4000-8000-000000000004",
            "2099-12-31T23:59:59Z",
        ),
    ];
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let path = file.to_str().unwrap();
    let expected = [
        format!("{path}:2: record time 1970-01-01T00:00:00Z is implausible (before 2000): set aside, not judged"),
        format!("{path}:4: record time 2099-12-31T23:59:59Z is implausible (more than a day past the time of the run): set aside, not judged"),
        "tokentrail: 2 record(s) with an implausible time (before 2000, or more than a day past the time of the run) kept out of judging, coverage and inventories".to_string(),
    ];

    for command in ["detect", "coverage", "inventory", "report"] {
        let mut args = vec![command, path, "--now", NOW];
        let html = dir.path().join("report.html");
        if command == "report" {
            args.extend(["-o", html.to_str().unwrap()]);
        }
        let out = tokentrail(&args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{command}: {stderr}");
        for line in &expected {
            assert!(
                stderr.contains(line.as_str()),
                "{command}: {line} not in {stderr}"
            );
        }
    }

    // Coverage spans the plausible records only.
    let out = tokentrail(&["coverage", path, "--now", NOW, "--format", "json"]);
    let coverage: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let interactive = &coverage["families"][0];
    assert_eq!(interactive["family"], "sign-in:interactive");
    assert_eq!(interactive["records"], 2);
    assert_eq!(interactive["first"], "2024-03-04T08:00:00Z");
    assert_eq!(interactive["last"], "2024-03-05T09:00:00Z");
    let out = tokentrail(&[
        "investigate",
        path,
        "--user",
        "adele@contoso.example",
        "--format",
        "json",
        "--now",
        NOW,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let inv: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(inv["records"]["sign_ins"], 2);
    assert_eq!(inv["last_seen"], "2024-03-05T09:00:00Z");
}

/// A stray record three days after a tenant's export (still before the clock) lies past the
/// newest record of its log: listed with its place, and judged all the same, since the last
/// records of an export may be an attacker's after a quiet stretch. It is adele's interactive
/// sign-in from her usual network: no finding comes of it, the exit code does not call the run
/// partial, and the export window reaches it.
#[test]
fn a_record_past_the_end_of_its_log_is_listed_and_judged() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    let tenant = dir.path().to_str().unwrap();
    let (before, _, _) = detect(tenant, &[]);
    let stray = dir.path().join("signins").join("stray.jsonl");
    std::fs::write(
        &stray,
        sign_in(
            "a0000009-0000-4000-8000-000000000009",
            "2024-03-09T12:00:00Z",
        ) + "\n",
    )
    .unwrap();
    let out = tokentrail(&["detect", tenant, "--format", "ocsf", "--now", NOW]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}:1: record time 2024-03-09T12:00:00Z is more than a day past the newest record of its log, 2024-03-06T20:20:00.064623Z: judged (an export's last records may be an attacker's after a quiet stretch); check the export's window",
            stray.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "tokentrail: 1 record(s) more than a day past the newest record of their log, judged"
        ),
        "{stderr}"
    );
    let after: BTreeSet<String> = text(&out.stdout)
        .lines()
        .map(|l| {
            let f: serde_json::Value = serde_json::from_str(l).unwrap();
            f["finding_info"]["uid"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(after, before);

    let out = tokentrail(&["coverage", tenant, "--now", NOW, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let coverage: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(coverage["families"][0]["last"], "2024-03-09T12:00:00Z");
}

/// A week of adele's office sign-ins (an interactive one each weekday morning, then her
/// refreshes every half hour) and, on Sunday night after a weekend without a record, one refresh
/// of her session from an Azure virtual machine: the last record of its log, alone, and more
/// than a day past the rest. It is judged: the session replay is found.
#[test]
fn a_lone_replay_after_a_quiet_weekend_is_judged() {
    let refresh = |id: &str, time: &str, ip: &str, asn: &str| {
        let mut row: serde_json::Value = serde_json::from_str(&sign_in(id, time)).unwrap();
        row["Category"] = "NonInteractiveUserSignInLogs".into();
        row["IsInteractive"] = false.into();
        row["IncomingTokenType"] = "refreshToken".into();
        row["IPAddress"] = ip.into();
        row["AutonomousSystemNumber"] = asn.into();
        row.to_string()
    };
    let mut lines = Vec::new();
    let mut n = 0u32;
    for day in 4..=8 {
        n += 1;
        lines.push(sign_in(
            &format!("b{n:07x}-0000-4000-8000-000000000001"),
            &format!("2024-03-{day:02}T08:00:00Z"),
        ));
        for half_hour in 0..24 {
            n += 1;
            lines.push(refresh(
                &format!("b{n:07x}-0000-4000-8000-000000000001"),
                &format!(
                    "2024-03-{day:02}T{:02}:{:02}:00Z",
                    8 + half_hour / 2,
                    15 + 30 * (half_hour % 2)
                ),
                "198.51.100.10",
                "3320",
            ));
        }
    }
    lines.push(refresh(
        "c0000001-0000-4000-8000-000000000001",
        "2024-03-10T23:00:00Z",
        "20.55.132.10",
        "8075",
    ));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("signins.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let out = tokentrail(&[
        "detect",
        file.to_str().unwrap(),
        "--format",
        "csv",
        "--now",
        NOW,
    ]);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    let rows: Vec<&str> = stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{stdout}\n{stderr}");
    assert!(rows[0].contains(",TT002,"), "{stdout}");
    assert!(rows[0].contains("20.55.132.10"), "{stdout}");
    assert!(
        stderr.contains(
            "record time 2024-03-10T23:00:00Z is more than a day past the newest record of its log"
        ),
        "{stderr}"
    );
}
