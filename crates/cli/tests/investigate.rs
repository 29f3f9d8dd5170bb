//! `tokentrail investigate` end to end: the three formats, `-o`, and exit codes.

mod common;

use std::path::Path;
use std::process::Output;

fn tokentrail(args: &[&str]) -> Output {
    common::tokentrail().args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A 20-user, 3-day simulated tenant with every attack.
fn simulate(dir: &Path) {
    let out = tokentrail(&[
        "simulate",
        "--users",
        "20",
        "--days",
        "3",
        "--seed",
        "7",
        "--attacks",
        "all",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn label(dir: &Path, kind: &str) -> serde_json::Value {
    std::fs::read_to_string(dir.join("labels.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|l| l["kind"] == kind)
        .unwrap()
}

#[test]
fn investigate_a_replayed_session_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    let tenant = dir.path().to_str().unwrap();
    let replay = label(dir.path(), "session-replay");
    let session = replay["session_id"].as_str().unwrap();

    let out = tokentrail(&[
        "investigate",
        tenant,
        "--session",
        session,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let inv: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(inv["subject"]["kind"], "session");
    assert_eq!(inv["subject"]["value"], session);
    let tokens: Vec<&str> = inv["sessions"][0]["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["token_id"].as_str().unwrap())
        .collect();
    for token in replay["token_ids"].as_array().unwrap() {
        assert!(tokens.contains(&token.as_str().unwrap()), "{token}");
    }
    assert!(inv["networks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["interactive_sign_in"] == false));
    assert_eq!(inv["containment"][0]["step"], "revoke-sessions");
    let timeline_len = inv["timeline"].as_array().unwrap().len();

    // CSV: the same timeline, one row per record after the header.
    let out = tokentrail(&[
        "investigate",
        tenant,
        "--session",
        session,
        "--format",
        "csv",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    assert!(csv.starts_with(
        "time,record,kind,operation,user,ip,network,app,session,token,source,findings\n"
    ));
    assert_eq!(csv.lines().count(), timeline_len + 1);

    // Markdown to a file, by user this time.
    let file = dir.path().join("case.md");
    let out = tokentrail(&[
        "investigate",
        tenant,
        "--user",
        replay["user"].as_str().unwrap(),
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let md = std::fs::read_to_string(&file).unwrap();
    assert!(md.starts_with(&format!(
        "# Investigation: user {}\n",
        replay["user"].as_str().unwrap()
    )));
    assert!(md.contains(&format!("### Session `{session}`")));
    assert!(md.contains("revokeSignInSessions"));
}

#[test]
fn exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("signin.jsonl");
    std::fs::write(
        &file,
        r#"{"Category":"SignInLogs","CreatedDateTime":"2024-03-04T08:00:00Z","Id":"a0000001-0000-4000-8000-000000000001","UserPrincipalName":"adele@contoso.example","UserId":"11111111-1111-4111-8111-111111111111","IPAddress":"198.51.100.10","SessionId":"5e551011-0000-4000-8000-000000000001","Status":{"errorCode":0}}"#,
    )
    .unwrap();
    let path = file.to_str().unwrap();

    let ok = tokentrail(&["investigate", path, "--ip", "198.51.100.10"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("1 sign-in(s) and 0 access(es)"));

    let no_subject = tokentrail(&["investigate", path]);
    assert_eq!(no_subject.status.code(), Some(2));

    let two_subjects = tokentrail(&["investigate", path, "--ip", "198.51.100.10", "--user", "x"]);
    assert_eq!(two_subjects.status.code(), Some(2));

    let nobody = tokentrail(&["investigate", path, "--user", "nobody@contoso.example"]);
    assert_eq!(nobody.status.code(), Some(2));
    assert!(
        text(&nobody.stderr)
            .contains("no sign-in or access in the inputs matches user nobody@contoso.example"),
        "{}",
        text(&nobody.stderr)
    );
    assert!(nobody.stdout.is_empty());
}

/// An inbox rule created in the replayed session shows in `investigate` and in the report's
/// section of the finding on that session (the report's second read keeps it).
#[test]
fn inbox_rule_in_a_replayed_session() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path());
    let tenant = dir.path().to_str().unwrap();
    let replay = label(dir.path(), "session-replay");
    let session = replay["session_id"].as_str().unwrap();
    let user = replay["user_id"].as_str().unwrap();
    let rule = serde_json::json!({
        "CreationTime": "2024-03-04T14:08:00", "Id": "rule-1", "Operation": "New-InboxRule",
        "RecordType": 1, "Workload": "Exchange", "UserKey": user, "UserId": user,
        "ClientIP": "192.0.2.77:50000", "ObjectId": "Invoices",
        "AppAccessContext": {"AADSessionId": session},
        "Parameters": [{"Name": "Name", "Value": "Invoices"},
                       {"Name": "RedirectTo", "Value": "collector@evil.example"}]
    });
    std::fs::write(
        dir.path().join("ual").join("rules.jsonl"),
        format!("{rule}\n"),
    )
    .unwrap();

    let out = tokentrail(&[
        "investigate",
        tenant,
        "--session",
        session,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes = v["touched"]["mailbox_rule_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    let c = &changes[0];
    assert_eq!(c["operation"], "New-InboxRule");
    assert_eq!(c["time"], "2024-03-04T14:08:00Z");
    assert_eq!(c["ip"], "192.0.2.77");
    assert_eq!(c["network"], "192.0.2.0/24");
    assert_eq!(c["interactive_network"], false);
    assert_eq!(c["foreign_network"], true);
    assert_eq!(c["session_id"], session);
    assert_eq!(c["in_chain"], true);
    assert_eq!(
        c["effects"],
        serde_json::json!(["redirects to collector@evil.example"])
    );
    let step = v["containment"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "inbox-rules")
        .unwrap();
    assert_eq!(
        step["commands"],
        serde_json::json!(["Remove-InboxRule -Identity 'Invoices'"])
    );

    let page = dir.path().join("report.html");
    let out = tokentrail(&["report", tenant, "-o", page.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("New-InboxRule by ")
            && html.contains(
                "from 192.0.2.77 (192.0.2.0/24, not one of the user's networks): redirects to collector@evil.example</li>"
            ),
        "the rule is not in the report"
    );
}

/// Read from files, `investigate` and `timeline` keep only the records the subject's
/// investigation can touch (reading the input again for them), and the tenant's timeline its
/// entries; read from standard input, they keep every record. Both give the same output: the
/// records of a whole tenant as one JSON-lines file, and the same lines on standard input, for
/// a user, a session, a token (by prefix), an address, a finding and the whole tenant, in every
/// format (sources differ only in the name).
#[test]
fn only_the_related_records_kept_give_the_investigation_of_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let o = tokentrail(&[
        "simulate",
        "--users",
        "40",
        "--days",
        "2",
        "--seed",
        "11",
        "--attacks",
        "all",
        "--formats",
        "signins=la-jsonl,graph=la-jsonl,ual=jsonl",
        "--out",
        dir.path().join("t").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    // Every log line of the tenant in one file.
    let mut lines = String::new();
    let mut stack = vec![dir.path().join("t")];
    let mut files = Vec::new();
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else if p.extension().is_some_and(|x| x == "jsonl") && !p.ends_with("labels.jsonl") {
            files.push(p);
        }
    }
    files.sort();
    for f in &files {
        lines.push_str(&std::fs::read_to_string(f).unwrap());
    }
    let all = dir.path().join("all.jsonl");
    std::fs::write(&all, &lines).unwrap();
    let all_name = all.to_str().unwrap();

    let detect = tokentrail(&["detect", all_name, "--format", "ocsf"]);
    let findings: Vec<serde_json::Value> = text(&detect.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(findings.len() >= 5, "{} findings", findings.len());
    let replay = findings
        .iter()
        .find(|f| f["finding_info"]["analytic"]["uid"] == "TT001")
        .expect("a TT001 finding");
    let user = replay["actor"]["user"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let session = replay["actor"]["session"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    let token = replay["actor"]["session"]["credential_uid"]
        .as_str()
        .unwrap()
        .to_string();
    let ip = replay["evidences"][0]["src_endpoint"]["ip"]
        .as_str()
        .unwrap()
        .to_string();
    let finding = replay["metadata"]["uid"].as_str().unwrap().to_string();
    let subjects: [[&str; 2]; 5] = [
        ["--user", &user],
        ["--session", &session],
        ["--token", &token[..8]],
        ["--ip", &ip],
        ["--finding", &finding],
    ];
    let run = |command: &str, subject: &[&str; 2], format: &str, stdin: bool| {
        let mut c = common::tokentrail();
        c.args([command, if stdin { "-" } else { all_name }])
            .args(subject)
            .args(["--format", format]);
        if stdin {
            with_stdin(&mut c, &lines)
        } else {
            c.output().unwrap()
        }
    };
    let mut compared = 0;
    for subject in &subjects {
        for (command, formats) in [
            ("investigate", &["md", "json", "csv"][..]),
            ("timeline", &["jsonl", "csv"][..]),
        ] {
            for format in formats {
                let from_file = run(command, subject, format, false);
                let from_stdin = run(command, subject, format, true);
                assert_eq!(
                    from_file.status.code(),
                    Some(0),
                    "{command} {subject:?}: {}",
                    text(&from_file.stderr)
                );
                assert_eq!(from_stdin.status.code(), Some(0), "{command} {subject:?}");
                let named = text(&from_file.stdout).replace(all_name, "-");
                // CSV guards a cell that starts with `-` (a spreadsheet formula) with a quote.
                let piped = text(&from_stdin.stdout).replace(",'-:", ",-:");
                assert!(
                    named == piped,
                    "{command} {subject:?} --format {format}: kept records differ"
                );
                assert!(piped.len() > 200, "{command} {subject:?}: {piped}");
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 25);
    // The whole tenant's timeline: built record by record in a second reading of the file, at
    // once from standard input.
    for format in ["jsonl", "csv"] {
        let from_file = common::tokentrail()
            .args(["timeline", all_name, "--format", format])
            .output()
            .unwrap();
        let from_stdin = with_stdin(
            common::tokentrail().args(["timeline", "-", "--format", format]),
            &lines,
        );
        assert_eq!(
            from_file.status.code(),
            Some(0),
            "{}",
            text(&from_file.stderr)
        );
        let named = text(&from_file.stdout).replace(all_name, "-");
        let piped = text(&from_stdin.stdout).replace(",'-:", ",-:");
        assert!(named == piped, "the tenant's timeline differs ({format})");
        assert!(
            piped.lines().count() > 1000,
            "{} lines",
            piped.lines().count()
        );
    }
}

/// Run `command` with `input` on its standard input.
fn with_stdin(command: &mut std::process::Command, input: &str) -> Output {
    use std::io::Write;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}
