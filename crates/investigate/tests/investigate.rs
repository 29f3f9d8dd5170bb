//! The investigation on a hand-built case (snapshots of the Markdown and JSON forms, the CSV
//! timeline, exact counts) and on simulated attacks (the chain lists the attack's sessions,
//! tokens, networks and accesses).

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::Path;

use tokentrail_engine::{Detection, Engine, EngineConfig};
use tokentrail_ingest::{read_paths, Decoded, OtherRecord, ReadOptions};
use tokentrail_investigate::{
    investigate, tenant_timeline, write_csv, write_json, write_markdown, write_timesketch, Context,
    ContextBuilder, InvestigateError, Investigation, Investigator, Related, Subject,
    TenantTimeline, TimelineEntry, TimelineSorting, TimesketchFormat,
};
use tokentrail_model::{
    Access, AttackKind, Finding, Label, NetworkId, Position, SessionId, SignIn, SignInKind,
    SourceRef, TokenId,
};

struct Input {
    sign_ins: Vec<SignIn>,
    accesses: Vec<Access>,
    others: Vec<OtherRecord>,
    findings: Vec<Finding>,
    detection: Detection,
}

fn load(path: &Path) -> Input {
    let mut sign_ins = Vec::new();
    let mut accesses = Vec::new();
    let mut others = Vec::new();
    let report = read_paths(&[path], &ReadOptions::default(), &mut |r| match r.event {
        Decoded::SignIn(s) => sign_ins.push(*s),
        Decoded::Access(a) => accesses.push(*a),
        Decoded::Other(o) => others.push(o),
    });
    assert_eq!(report.totals.unreadable, 0);
    let mut engine = Engine::new(EngineConfig::default());
    for s in &sign_ins {
        engine.add_sign_in(s.clone());
    }
    for a in &accesses {
        engine.add_access(a.clone());
    }
    let detection = engine.finish();
    Input {
        sign_ins,
        accesses,
        others,
        findings: detection.findings.clone(),
        detection,
    }
}

const SESSION: &str = "5e551011-0000-4000-8000-000000000001";
const ROOT_ID: &str = "a0000001-0000-4000-8000-000000000001";
const REFRESH_ID: &str = "a0000002-0000-4000-8000-000000000002";
const USER_ID: &str = "11111111-1111-4111-8111-111111111111";
const OFFICE: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";

/// Adele signs in from her ISP; her session is refreshed from a hosting network, which then
/// reads mail through Graph and Exchange and downloads a file.
fn case_lines() -> String {
    let refresh_uti = tokentrail_model::Guid::parse(REFRESH_ID).unwrap().to_uti();
    let root_uti = tokentrail_model::Guid::parse(ROOT_ID).unwrap().to_uti();
    let sign_in = |category: &str, id: &str, uti: &str, time: &str, ip: &str, asn: u32| {
        serde_json::json!({
            "Category": category, "TimeGenerated": time, "CreatedDateTime": time, "Id": id,
            "UserPrincipalName": "adele@contoso.example", "UserId": USER_ID,
            "AppDisplayName": "Microsoft Office", "AppId": OFFICE,
            "ResourceDisplayName": "Microsoft Graph",
            "ResourceIdentity": "00000003-0000-0000-c000-000000000000",
            "IPAddress": ip, "AutonomousSystemNumber": asn.to_string(), "Status": {"errorCode": 0},
            "UniqueTokenIdentifier": uti, "SessionId": SESSION, "ClientCredentialType": "none"
        })
    };
    let graph = |time: &str, uti: &str, ip: &str, uri: &str| {
        serde_json::json!({
            "Type": "MicrosoftGraphActivityLogs", "TimeGenerated": time, "RequestId": format!("req-{time}"),
            "RequestMethod": "GET", "RequestUri": uri, "ResponseStatusCode": 200,
            "IPAddress": ip, "UserId": USER_ID, "AppId": OFFICE, "SignInActivityId": uti,
            "SessionId": SESSION, "C_Idtyp": "user", "ClientAuthMethod": 0
        })
    };
    let lines = [
        sign_in(
            "SignInLogs",
            ROOT_ID,
            &root_uti,
            "2024-03-04T08:00:00Z",
            "198.51.100.10",
            3320,
        ),
        graph(
            "2024-03-04T08:10:00Z",
            &root_uti,
            "198.51.100.10",
            "https://graph.microsoft.com/v1.0/me",
        ),
        sign_in(
            "NonInteractiveUserSignInLogs",
            REFRESH_ID,
            &refresh_uti,
            "2024-03-04T14:00:00Z",
            "203.0.113.50",
            14061,
        ),
        graph(
            "2024-03-04T14:05:00Z",
            &refresh_uti,
            "203.0.113.50",
            "https://graph.microsoft.com/v1.0/me/messages?$top=50",
        ),
        serde_json::json!({
            "RecordType": 50, "CreationTime": "2024-03-04T14:06:00", "Id": "ual-0001",
            "Operation": "MailItemsAccessed", "Workload": "Exchange", "UserType": 0,
            "UserId": "adele@contoso.example", "MailboxOwnerUPN": "adele@contoso.example",
            "ClientIPAddress": "203.0.113.50", "OperationCount": 3,
            "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"}],
            "AppAccessContext": {"ClientAppId": OFFICE, "UniqueTokenId": refresh_uti, "AADSessionId": SESSION}
        }),
        serde_json::json!({
            "RecordType": 6, "CreationTime": "2024-03-04T14:07:00", "Id": "ual-0002",
            "Operation": "FileDownloaded", "Workload": "SharePoint", "UserType": 0,
            "UserId": "adele@contoso.example", "ClientIP": "203.0.113.50",
            "ObjectId": "https://contoso.sharepoint.com/sites/finance/Shared Documents/q1.xlsx",
            "AppAccessContext": {"ClientAppId": OFFICE, "UniqueTokenId": refresh_uti, "AADSessionId": SESSION}
        }),
    ];
    lines
        .iter()
        .map(|l| format!("{l}\n"))
        .collect::<Vec<_>>()
        .concat()
}

/// The case written to a temp dir, loaded, and the investigation of its session.
fn case() -> (tempfile::TempDir, String, Input) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("case.jsonl");
    std::fs::write(&file, case_lines()).unwrap();
    let input = load(&file);
    let dir_text = dir.path().to_string_lossy().into_owned();
    (dir, dir_text, input)
}

fn session_subject() -> Subject {
    Subject::Session(SessionId::parse(SESSION).unwrap())
}

fn run(subject: &Subject, input: &Input) -> Investigation {
    investigate(subject, &input.sign_ins, &input.accesses, &input.detection).unwrap()
}

#[test]
fn hand_built_case_markdown_and_json_snapshots() {
    let (_dir, dir_text, input) = case();
    assert_eq!((input.sign_ins.len(), input.accesses.len()), (2, 4));
    let inv = run(&session_subject(), &input);
    let mut md = Vec::new();
    write_markdown(&mut md, &inv).unwrap();
    let md = String::from_utf8(md).unwrap().replace(&dir_text, "<dir>");
    insta::assert_snapshot!("case_markdown", md);
    let mut json = Vec::new();
    write_json(&mut json, &inv).unwrap();
    let json = String::from_utf8(json).unwrap().replace(&dir_text, "<dir>");
    insta::assert_snapshot!("case_json", json);
}

#[test]
fn hand_built_case_chain_networks_and_touched() {
    let (_dir, _, input) = case();
    let inv = run(&session_subject(), &input);
    assert_eq!(inv.records.sign_ins, 2);
    assert_eq!(inv.records.accesses, 4);
    assert_eq!(inv.users, ["adele@contoso.example"]);
    assert_eq!(inv.sessions.len(), 1);
    let chain = &inv.sessions[0];
    assert_eq!(chain.interactive_roots.len(), 1);
    assert_eq!(chain.refreshes.len(), 1);
    let tokens: Vec<String> = chain
        .tokens
        .iter()
        .map(|t| t.token_id.to_string())
        .collect();
    assert_eq!(tokens, [ROOT_ID, REFRESH_ID]);
    assert_eq!(chain.tokens[1].accesses, 3);
    assert_eq!(chain.tokens[1].used_from, [NetworkId::Asn(14061)]);
    let nets: Vec<(String, bool, u64, u64)> = inv
        .networks
        .iter()
        .map(|n| {
            (
                n.network.to_string(),
                n.interactive_sign_in,
                n.sign_ins,
                n.accesses,
            )
        })
        .collect();
    assert_eq!(
        nets,
        [
            ("AS3320".to_string(), true, 1, 1),
            ("AS14061".to_string(), false, 1, 3)
        ]
    );
    assert_eq!(inv.touched.mail.records, 2);
    assert_eq!(inv.touched.mail.operations, 4);
    assert_eq!(inv.touched.mail.bind, 3);
    assert_eq!(inv.touched.files.len(), 1);
    assert_eq!(inv.touched.files[0].operations, 1);
    let endpoints: Vec<&str> = inv
        .touched
        .graph_endpoints
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(endpoints, ["GET /v1.0/me", "GET /v1.0/me/messages"]);
    let steps: Vec<&str> = inv.containment.iter().map(|s| s.step.as_str()).collect();
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
    // The session finding marks its cited root and the records on its network, not the
    // user's own Graph call.
    let marked: Vec<bool> = inv
        .timeline
        .iter()
        .map(|e| !e.findings.is_empty())
        .collect();
    assert_eq!(marked, [true, false, true, true, true, true]);
    assert_eq!(inv.findings.len(), 1);
    assert_eq!(inv.findings[0].rule, "TT002");
    assert_eq!(
        inv.containment[0].commands,
        [format!(
            "POST https://graph.microsoft.com/v1.0/users/{USER_ID}/revokeSignInSessions"
        )]
    );
}

#[test]
fn every_subject_kind_selects_its_records() {
    let (_dir, _, input) = case();
    let user = run(&Subject::User("ADELE@contoso.example".into()), &input);
    assert_eq!((user.records.sign_ins, user.records.accesses), (2, 4));
    let by_id = run(&Subject::User(USER_ID.to_uppercase()), &input);
    assert_eq!((by_id.records.sign_ins, by_id.records.accesses), (2, 4));
    let refresh_uti = tokentrail_model::Guid::parse(REFRESH_ID).unwrap().to_uti();
    for text in [refresh_uti.as_str(), REFRESH_ID] {
        let token = run(&Subject::Token(TokenId::parse(text).unwrap()), &input);
        assert_eq!((token.records.sign_ins, token.records.accesses), (1, 3));
    }
    let ip: IpAddr = "198.51.100.10".parse().unwrap();
    let by_ip = run(&Subject::Ip(ip), &input);
    assert_eq!((by_ip.records.sign_ins, by_ip.records.accesses), (1, 1));
    // The user's own address: no foreign network, but TT002 cites its sign-in as the session's
    // root, so revoking is still advised, and nothing else is.
    assert!(by_ip.networks.iter().all(|n| n.interactive_sign_in));
    let steps: Vec<&str> = by_ip.containment.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(steps, ["revoke-sessions"]);
    let nobody = investigate(
        &Subject::User("nobody@contoso.example".into()),
        &input.sign_ins,
        &input.accesses,
        &input.detection,
    );
    assert!(matches!(nobody, Err(InvestigateError::NoMatch(_))));
}

#[test]
fn csv_is_the_timeline() {
    let (_dir, dir_text, input) = case();
    let inv = run(&session_subject(), &input);
    let mut out = Vec::new();
    write_csv(&mut out, &inv).unwrap();
    let text = String::from_utf8(out).unwrap().replace(&dir_text, "<dir>");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7);
    assert_eq!(
        lines[0],
        "time,record,kind,operation,user,ip,network,app,session,token,source,findings"
    );
    assert!(
        lines[1].starts_with(&format!(
            "2024-03-04T08:00:00Z,sign-in,interactive,sign-in to Microsoft Graph,adele@contoso.example,198.51.100.10,AS3320,Microsoft Office,{SESSION},{ROOT_ID},<dir>/case.jsonl:1,"
        )),
        "{}",
        lines[1]
    );
}

#[test]
fn timesketch_forms_of_the_case() {
    let (_dir, dir_text, input) = case();
    let inv = run(&session_subject(), &input);
    let findings: Vec<&Finding> = input.findings.iter().collect();
    assert!(!findings.is_empty());
    let write = |format| {
        let mut out = Vec::new();
        let counts = write_timesketch(&mut out, format, &inv.timeline, &findings).unwrap();
        assert_eq!(
            (counts.sign_ins, counts.accesses, counts.findings),
            (2, 4, findings.len() as u64)
        );
        String::from_utf8(out).unwrap().replace(&dir_text, "<dir>")
    };
    insta::assert_snapshot!("case_timesketch_jsonl", write(TimesketchFormat::Jsonl));
    insta::assert_snapshot!("case_timesketch_csv", write(TimesketchFormat::Csv));
    // The tenant's timeline of the case is the session's: the case is one session.
    assert_eq!(
        tenant_timeline(&input.sign_ins, &input.accesses, &input.detection),
        inv.timeline
    );
}

/// Resolve networks the way the documentation says, independently of the crate.
fn network_of(asns: &HashMap<IpAddr, u32>, ip: IpAddr) -> NetworkId {
    asns.get(&ip)
        .map_or_else(|| NetworkId::prefix_of(ip), |a| NetworkId::Asn(*a))
}

/// A default-profile tenant of `users` for `days`, every attack, in a temporary folder.
fn simulated(users: u32, days: u32, seed: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    tokentrail_sim::simulate(&tokentrail_sim::SimConfig {
        users,
        days,
        seed,
        start: tokentrail_sim::SimConfig::default_start(),
        out: dir.path().to_path_buf(),
        attacks: AttackKind::ALL.to_vec(),
        formats: tokentrail_sim::Formats::default(),
        profile: tokentrail_sim::Profile::Default,
    })
    .unwrap();
    dir
}

#[test]
fn simulated_attacks_are_reconstructed() {
    let dir = simulated(20, 3, 11);
    let labels: Vec<Label<String>> = std::fs::read_to_string(dir.path().join("labels.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let input = load(dir.path());
    let asns: HashMap<IpAddr, u32> = input
        .sign_ins
        .iter()
        .filter_map(|s| Some((s.ip?, s.asn?)))
        .collect();
    let mut checked = BTreeSet::new();
    for label in &labels {
        if !matches!(
            label.kind,
            AttackKind::SessionReplay | AttackKind::StolenAccessToken
        ) {
            continue;
        }
        let session = SessionId::parse(label.session_id.as_deref().unwrap()).unwrap();
        let inv = run(&Subject::Session(session.clone()), &input);
        let listed: BTreeSet<String> = inv
            .sessions
            .iter()
            .flat_map(|s| s.tokens.iter().map(|t| t.token_id.to_string()))
            .collect();
        for token in &label.token_ids {
            assert!(
                listed.contains(token),
                "{}: token {token} missing",
                label.id
            );
        }
        assert_eq!(inv.sessions.len(), 1);
        assert_eq!(inv.sessions[0].session_id.as_ref(), Some(&session));

        // The attacker's network: where the label's tokens were used inside the attack window
        // and the victim never signed in interactively.
        let interactive: BTreeSet<NetworkId> = input
            .sign_ins
            .iter()
            .filter(|s| s.kind == SignInKind::Interactive && s.succeeded())
            .filter(|s| s.user_id.as_deref() == Some(label.user_id.as_str()))
            .filter_map(|s| s.ip.map(|ip| network_of(&asns, ip)))
            .collect();
        let label_tokens: BTreeSet<TokenId> = label
            .token_ids
            .iter()
            .map(|t| TokenId::parse(t).unwrap())
            .collect();
        let attacker: BTreeSet<NetworkId> = input
            .accesses
            .iter()
            .filter(|a| {
                a.token_id
                    .as_ref()
                    .is_some_and(|t| label_tokens.contains(t))
            })
            .filter(|a| a.time >= label.start && a.time <= label.end)
            .filter_map(|a| a.ip.map(|ip| network_of(&asns, ip)))
            .filter(|n| !interactive.contains(n))
            .collect();
        assert_eq!(attacker.len(), 1, "{}: {attacker:?}", label.id);
        let attacker = *attacker.first().unwrap();
        let summary = inv
            .networks
            .iter()
            .find(|n| n.network == attacker)
            .unwrap_or_else(|| panic!("{}: network {attacker} not listed", label.id));
        assert!(!summary.interactive_sign_in, "{}", label.id);
        let expected = input
            .accesses
            .iter()
            .filter(|a| a.session_id.as_ref() == Some(&session))
            .filter(|a| a.ip.is_some_and(|ip| network_of(&asns, ip) == attacker))
            .count() as u64;
        assert!(expected > 0);
        assert_eq!(summary.accesses, expected, "{}", label.id);
        assert!(
            inv.containment.iter().any(|s| s.step == "revoke-sessions"),
            "{}",
            label.id
        );
        checked.insert(label.kind);
    }
    assert_eq!(
        checked,
        BTreeSet::from([AttackKind::StolenAccessToken, AttackKind::SessionReplay])
    );
}

/// Two Management Activity API records: the attacker, in the replayed session from the hosting
/// network, creates a rule that forwards and deletes invoices, then sets SMTP forwarding from
/// another address; an admin's unrelated `Set-Mailbox` on another mailbox is not listed.
fn rule_lines() -> String {
    let refresh_uti = tokentrail_model::Guid::parse(REFRESH_ID).unwrap().to_uti();
    let lines = [
        serde_json::json!({
            "CreationTime": "2024-03-04T14:08:00", "Id": "ual-0003", "Operation": "New-InboxRule",
            "RecordType": 1, "ResultStatus": "True", "UserType": 0, "Workload": "Exchange",
            "UserKey": "10032000ABCDEF12", "UserId": "adele@contoso.example",
            "ClientIP": "203.0.113.50:51234",
            "ObjectId": "contoso.onmicrosoft.com/adele\\Invoices",
            "AppAccessContext": {"AADSessionId": SESSION, "UniqueTokenId": refresh_uti},
            "Parameters": [
                {"Name": "Name", "Value": "Invoices"},
                {"Name": "SubjectContainsWords", "Value": "invoice"},
                {"Name": "ForwardTo", "Value": "collector@evil.example"},
                {"Name": "DeleteMessage", "Value": "True"}
            ]
        }),
        serde_json::json!({
            "CreationTime": "2024-03-04T14:09:00", "Id": "ual-0004", "Operation": "Set-Mailbox",
            "RecordType": 1, "ResultStatus": "True", "UserType": 0, "Workload": "Exchange",
            "UserId": "adele@contoso.example", "ClientIP": "203.0.113.51",
            "ObjectId": "adele@contoso.example",
            "Parameters": [
                {"Name": "Identity", "Value": "adele@contoso.example"},
                {"Name": "ForwardingSmtpAddress", "Value": "smtp:collector@evil.example"},
                {"Name": "DeliverToMailboxAndForward", "Value": "False"}
            ]
        }),
        serde_json::json!({
            "CreationTime": "2024-03-04T15:00:00", "Id": "ual-0005", "Operation": "Set-Mailbox",
            "RecordType": 1, "ResultStatus": "True", "UserType": 2, "Workload": "Exchange",
            "UserId": "admin@contoso.example", "ClientIP": "198.51.100.99", "ObjectId": "bob",
            "Parameters": [{"Name": "Identity", "Value": "bob"}, {"Name": "RetainDeletedItemsFor", "Value": "30"}]
        }),
    ];
    lines
        .iter()
        .map(|l| format!("{l}\n"))
        .collect::<Vec<_>>()
        .concat()
}

#[test]
fn inbox_rule_and_forwarding_changes_are_listed_and_cited() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("case.jsonl");
    std::fs::write(&file, case_lines() + &rule_lines()).unwrap();
    let input = load(&file);
    let dir_text = dir.path().to_string_lossy().into_owned();
    // The rule records are not sign-ins or accesses: detection sees the same six records.
    assert_eq!((input.sign_ins.len(), input.accesses.len()), (2, 4));
    assert_eq!(input.findings.len(), 1);
    let context = Context::learn(
        &input.sign_ins,
        &input.accesses,
        input.detection.networks.clone(),
    );
    let investigator =
        Investigator::new(&context, &input.sign_ins, &input.accesses, &input.findings)
            .with_mailbox_changes(&input.others);
    let inv = investigator.investigate(&session_subject()).unwrap();
    let changes = &inv.touched.mailbox_rule_changes;
    assert_eq!(changes.len(), 2);

    let rule = &changes[0];
    assert_eq!(rule.time.to_rfc3339(), "2024-03-04T14:08:00Z");
    assert_eq!(rule.operation, "New-InboxRule");
    assert_eq!(
        rule.effects,
        ["forwards to collector@evil.example", "deletes the message"]
    );
    assert_eq!(rule.user.as_deref(), Some("adele@contoso.example"));
    assert_eq!(rule.ip, Some("203.0.113.50".parse().unwrap()));
    assert_eq!(rule.network, Some(NetworkId::Asn(14061)));
    assert_eq!(rule.interactive_network, Some(false));
    assert_eq!(rule.session_id, SessionId::parse(SESSION));
    assert_eq!(
        rule.token_id.as_ref().map(ToString::to_string).as_deref(),
        Some(REFRESH_ID)
    );
    assert!(rule.in_chain);
    assert_eq!(
        rule.object.as_deref(),
        Some("contoso.onmicrosoft.com/adele\\Invoices")
    );
    let params: Vec<(&str, &str)> = rule
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(
        params,
        [
            ("Name", "Invoices"),
            ("SubjectContainsWords", "invoice"),
            ("ForwardTo", "collector@evil.example"),
            ("DeleteMessage", "True")
        ]
    );
    assert_eq!(rule.source.to_string(), format!("{dir_text}/case.jsonl:7"));

    let forwarding = &changes[1];
    assert_eq!(forwarding.operation, "Set-Mailbox");
    assert_eq!(
        forwarding.effects,
        [
            "forwards all mail to smtp:collector@evil.example",
            "forwards without keeping a copy in the mailbox"
        ]
    );
    assert_eq!(forwarding.ip, Some("203.0.113.51".parse().unwrap()));
    assert_eq!(
        forwarding.network.map(|n| n.to_string()).as_deref(),
        Some("203.0.113.0/24")
    );
    assert_eq!(forwarding.interactive_network, Some(false));
    assert_eq!(forwarding.session_id, None);
    assert!(!forwarding.in_chain);

    let step = inv
        .containment
        .iter()
        .find(|s| s.step == "inbox-rules")
        .unwrap();
    assert_eq!(
        step.action,
        "Remove the malicious inbox rules and forwarding with the commands below; then check the \
mailbox for others created since the first foreign access (Get-InboxRule, Get-Mailbox \
ForwardingSmtpAddress)"
    );
    assert_eq!(
        step.commands,
        [
            "Remove-InboxRule -Identity 'Invoices'",
            "Set-Mailbox -Identity 'adele@contoso.example' -ForwardingSmtpAddress $null \
-ForwardingAddress $null -DeliverToMailboxAndForward $false"
        ]
    );
    assert_eq!(
        step.why.replace(&dir_text, "<dir>"),
        "New-InboxRule at 2024-03-04T14:08:00Z by adele@contoso.example from 203.0.113.50 \
(AS14061, not one of the user's networks), in the investigated session: forwards \
to collector@evil.example, deletes the message [<dir>/case.jsonl:7]; Set-Mailbox at \
2024-03-04T14:09:00Z by adele@contoso.example from 203.0.113.51 (203.0.113.0/24, not one of \
the user's networks): forwards all mail to smtp:collector@evil.example, forwards without \
keeping a copy in the mailbox [<dir>/case.jsonl:8]; 4 mail operation(s) came from networks \
where their tokens were never established; attackers with mail access often hide replies with \
rules"
    );
    let revoke = &inv.containment[0];
    assert!(revoke.why.contains(
        "2 inbox-rule or forwarding change(s) came from networks that are neither the user's own (no interactive or device-proven sign-in there) nor Microsoft's service"
    ));

    // The admin's change to another mailbox belongs to nobody investigated here.
    let admin = investigator
        .investigate(&Subject::User("adele@contoso.example".into()))
        .unwrap();
    assert_eq!(
        admin.touched.mailbox_rule_changes,
        inv.touched.mailbox_rule_changes
    );
    // Without the records, the step falls back to checking the mailbox.
    let plain = run(&session_subject(), &input);
    assert!(plain.touched.mailbox_rule_changes.is_empty());
    let step = plain
        .containment
        .iter()
        .find(|s| s.step == "inbox-rules")
        .unwrap();
    assert!(step.why.ends_with(
        "and no inbox-rule or forwarding change by these users is in the inputs, so check the mailbox itself"
    ));

    let mut md = Vec::new();
    write_markdown(&mut md, &inv).unwrap();
    let md = String::from_utf8(md).unwrap().replace(&dir_text, "<dir>");
    assert!(md.contains(
        "  - 2024-03-04T14:08:00Z `New-InboxRule` by adele@contoso.example from 203.0.113.50 (AS14061) \
(**not one of the user's networks**: no interactive or device-proven sign-in there), session `5e551011-0000-4000-8000-000000000001` \
(in the chain): forwards to collector@evil.example, deletes the message — <dir>/case.jsonl:7\n"
    ), "{md}");
}

/// The indexed investigator, and one fed only the records `Related` keeps, give the same
/// investigations as the scan over every record.
#[test]
fn investigator_matches_the_scan_on_a_simulated_tenant() {
    let dir = simulated(20, 2, 5);
    let input = load(dir.path());
    assert!(
        input.findings.len() >= 3,
        "{} findings",
        input.findings.len()
    );
    let context = Context::learn(
        &input.sign_ins,
        &input.accesses,
        input.detection.networks.clone(),
    );
    let all = Investigator::new(&context, &input.sign_ins, &input.accesses, &input.findings);
    // The context learned one record at a time, interleaved, is the same.
    let mut builder = ContextBuilder::new();
    for (s, a) in input.sign_ins.iter().zip(&input.accesses) {
        builder.add_sign_in(s);
        builder.add_access(a);
    }
    input
        .sign_ins
        .iter()
        .skip(input.accesses.len())
        .for_each(|s| builder.add_sign_in(s));
    input
        .accesses
        .iter()
        .skip(input.sign_ins.len())
        .for_each(|a| builder.add_access(a));
    let streamed = builder.finish(input.detection.networks.clone());

    let mut subjects: Vec<Subject> = Vec::new();
    let mut related = Related::new();
    for f in &input.findings {
        for subject in [
            f.session_id.clone().map(Subject::Session),
            f.token_id.clone().map(Subject::Token),
            f.upn.clone().map(Subject::User),
        ]
        .into_iter()
        .flatten()
        {
            related.add(&subject, &streamed);
            subjects.push(subject);
        }
        if let Some(u) = &f.upn {
            related.add_user(u, &streamed);
        }
    }
    let sign_ins: Vec<SignIn> = input
        .sign_ins
        .iter()
        .filter(|s| related.sign_in(s))
        .cloned()
        .collect();
    let accesses: Vec<Access> = input
        .accesses
        .iter()
        .filter(|a| related.access(a))
        .cloned()
        .collect();
    assert!(sign_ins.len() < input.sign_ins.len());
    assert!(accesses.len() < input.accesses.len());
    let kept = Investigator::new(&streamed, &sign_ins, &accesses, &input.findings);
    for subject in &subjects {
        let scan = run(subject, &input);
        assert_eq!(all.investigate(subject).unwrap(), scan, "{subject}");
        assert_eq!(kept.investigate(subject).unwrap(), scan, "{subject}");
    }
    let ip: IpAddr = input.sign_ins[0].ip.unwrap();
    assert_eq!(
        all.investigate(&Subject::Ip(ip)).unwrap(),
        run(&Subject::Ip(ip), &input)
    );
}

/// Issue 12, point 7: the containment agrees with `detect`. Adele's phone, proven by Entra
/// (managed, a PRT redeemed) with the client it uses at home, refreshes her session from her
/// carrier; Exchange logs an access from Microsoft's own published range. The engine explains
/// both and finds nothing, so the investigation suggests no step and calls neither network
/// foreign (it once called both "networks where the user never signed in" and advised revoking
/// her sessions).
#[test]
fn own_carrier_and_microsoft_ranges_are_not_foreign() {
    const PHONE: &str = "dddddddd-0000-4000-8000-00000000d001";
    const OUTLOOK: &str = "27922004-5251-4030-b22d-91ecd9a37ea4";
    let uti = |id: &str| tokentrail_model::Guid::parse(id).unwrap().to_uti();
    let sign_in = |category: &str, id: &str, time: &str, ip: &str, asn: u32, prt: bool| {
        let mut row = serde_json::json!({
            "Category": category, "TimeGenerated": time, "CreatedDateTime": time, "Id": id,
            "UserPrincipalName": "adele@contoso.example", "UserId": USER_ID,
            "AppDisplayName": "Outlook Mobile", "AppId": OUTLOOK,
            "ResourceDisplayName": "Office 365 Exchange Online",
            "ResourceIdentity": "00000002-0000-0ff1-ce00-000000000000",
            "IPAddress": ip, "AutonomousSystemNumber": asn.to_string(), "Status": {"errorCode": 0},
            "UniqueTokenIdentifier": uti(id), "SessionId": SESSION, "ClientCredentialType": "none",
            "DeviceDetail": {"deviceId": PHONE, "isManaged": true, "isCompliant": true}
        });
        if prt {
            row["IncomingTokenType"] = "primaryRefreshToken".into();
        }
        row
    };
    let mail = |id: &str, time: &str, ip: &str, token: &str| {
        serde_json::json!({
            "RecordType": 50, "CreationTime": time, "Id": id,
            "Operation": "MailItemsAccessed", "Workload": "Exchange", "UserType": 0,
            "UserId": "adele@contoso.example", "MailboxOwnerUPN": "adele@contoso.example",
            "ClientIPAddress": ip, "OperationCount": 1,
            "AppAccessContext": {"ClientAppId": OUTLOOK, "UniqueTokenId": uti(token), "AADSessionId": SESSION}
        })
    };
    let home = "198.51.100.10";
    let carrier = "192.0.2.77";
    let microsoft = "40.126.0.5";
    let lines = [
        sign_in(
            "SignInLogs",
            ROOT_ID,
            "2024-03-04T08:00:00Z",
            home,
            3320,
            false,
        ),
        mail("ual-0001", "2024-03-04T08:05:00", home, ROOT_ID),
        sign_in(
            "NonInteractiveUserSignInLogs",
            REFRESH_ID,
            "2024-03-04T12:00:00Z",
            carrier,
            22394,
            true,
        ),
        mail("ual-0002", "2024-03-04T12:02:00", carrier, REFRESH_ID),
        mail("ual-0003", "2024-03-04T12:03:00", microsoft, REFRESH_ID),
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("phone.jsonl");
    std::fs::write(
        &file,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    let input = load(&file);
    assert_eq!((input.sign_ins.len(), input.accesses.len()), (2, 3));
    assert_eq!(input.findings, vec![]);

    let inv = run(&Subject::User("adele@contoso.example".into()), &input);
    assert_eq!(inv.containment, vec![]);
    let networks: Vec<(String, bool, bool, bool)> = inv
        .networks
        .iter()
        .map(|n| {
            (
                n.network.to_string(),
                n.interactive_sign_in,
                n.established,
                n.microsoft_service,
            )
        })
        .collect();
    assert_eq!(
        networks,
        [
            ("AS3320".to_string(), true, true, false),
            ("AS22394".to_string(), false, true, false),
            ("40.126.0.0/24".to_string(), false, false, true),
        ]
    );
}

/// The tenant's timeline put in order in many small runs on disk is the one sorted in memory,
/// entry for entry: ties on time and source (copies of records under one source, sign-ins and
/// accesses alike, added interleaved so that they fall in different runs) come in the order
/// they were added, as one stable sort gives them.
#[test]
fn the_tenant_timeline_sorted_in_runs_on_disk_is_the_one_sorted_in_memory() {
    let dir = simulated(8, 1, 5);
    let input = load(dir.path());
    assert!(!input.findings.is_empty());
    // 90 copies under two sources at three times, each telling which it is; the first source
    // is the first access's own, the second sorts before it.
    let (Some(first_access), Some(first_sign_in)) =
        (input.accesses.first(), input.sign_ins.first())
    else {
        panic!("the tenant has sign-ins and accesses");
    };
    let at = |i: usize| tokentrail_model::Timestamp(first_access.time.0 + (i % 3) as i64 * 1_000);
    let earlier = SourceRef {
        file: first_access.source.file.clone(),
        position: Position::Line(0),
    };
    let source = |i: usize| {
        if i % 4 == 3 {
            earlier.clone()
        } else {
            first_access.source.clone()
        }
    };
    let mut records: Vec<Result<SignIn, Access>> = Vec::new();
    for i in 0..90usize {
        if i % 2 == 0 {
            let mut a = first_access.clone();
            a.operation = format!("copy {i}");
            a.source = source(i);
            a.time = at(i);
            records.push(Err(a));
        } else {
            let mut s = first_sign_in.clone();
            s.resource_name = Some(format!("copy {i}"));
            s.source = source(i);
            s.time = at(i);
            records.push(Ok(s));
        }
    }
    // The tenant's records interleaved with the copies.
    let mut all: Vec<Result<SignIn, Access>> = input
        .sign_ins
        .iter()
        .cloned()
        .map(Ok)
        .chain(input.accesses.iter().cloned().map(Err))
        .collect();
    for (i, copy) in records.into_iter().enumerate() {
        all.insert((i * 37) % all.len(), copy);
    }
    let sign_ins: Vec<SignIn> = all.iter().filter_map(|r| r.clone().ok()).collect();
    let accesses: Vec<Access> = all.iter().filter_map(|r| r.clone().err()).collect();
    let context = Context::learn(&sign_ins, &accesses, input.detection.networks.clone());
    let timeline = |sorting: TimelineSorting| {
        let mut t = TenantTimeline::sorted_by(&context, &input.detection, sorting);
        for r in &all {
            match r {
                Ok(s) => t.add_sign_in(s),
                Err(a) => t.add_access(a),
            }
        }
        t.finish()
    };

    let in_memory = timeline(TimelineSorting {
        entries_per_run: usize::MAX,
        dir: None,
    });
    assert_eq!(
        (in_memory.runs_on_disk(), in_memory.sorted_in_memory()),
        (0, false)
    );
    let want: Vec<TimelineEntry> = in_memory.collect();
    assert_eq!(want.len(), all.len());
    assert!(want.iter().any(|e| !e.findings.is_empty()));
    // The copies by time, then source, those with the same time and source in the order added.
    let copies: Vec<(i64, SourceRef, String)> = want
        .iter()
        .filter(|e| e.operation.contains("copy "))
        .map(|e| (e.time.0, e.source.clone(), e.operation.clone()))
        .collect();
    let mut added: Vec<(i64, SourceRef, String)> = all
        .iter()
        .filter_map(|r| match r {
            Ok(s) => s
                .resource_name
                .as_ref()
                .filter(|n| n.starts_with("copy "))
                .map(|n| (s.time.0, s.source.clone(), format!("sign-in to {n}"))),
            Err(a) => a
                .operation
                .starts_with("copy ")
                .then(|| (a.time.0, a.source.clone(), a.operation.clone())),
        })
        .collect();
    added.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    assert_eq!(copies.len(), 90);
    assert_eq!(copies, added);

    let spill = tempfile::tempdir().unwrap();
    for entries_per_run in [1, 2, 3, 7, 100, want.len() - 1] {
        let sorted = timeline(TimelineSorting {
            entries_per_run,
            dir: Some(spill.path().to_path_buf()),
        });
        assert_eq!(sorted.runs_on_disk(), want.len() / entries_per_run);
        assert!(!sorted.sorted_in_memory());
        // The runs' file has no name: nothing is left behind, whatever happens to the run.
        assert_eq!(std::fs::read_dir(spill.path()).unwrap().count(), 0);
        let mut sorted = sorted;
        let got: Vec<TimelineEntry> = sorted.by_ref().collect();
        assert_eq!(sorted.lost(), 0);
        assert_eq!(got.len(), want.len(), "{entries_per_run} per run");
        if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
            panic!(
                "{entries_per_run} per run: entry {i} is\n{:?}\nnot\n{:?}",
                got[i], want[i]
            );
        }
    }

    // A temporary directory that cannot be written: sorted in memory, said so, same order.
    let sorted = timeline(TimelineSorting {
        entries_per_run: 3,
        dir: Some(spill.path().join("missing")),
    });
    assert_eq!(
        (sorted.runs_on_disk(), sorted.sorted_in_memory()),
        (0, true)
    );
    assert!(sorted.collect::<Vec<_>>() == want);
}
