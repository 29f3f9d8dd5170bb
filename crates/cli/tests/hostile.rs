//! Hostile logs (issue 14): nothing an attacker writes into a log may act on the responder who
//! reads tokentrail's output. One hand-made tenant whose attacker-controlled fields (app name,
//! user agent, request path, inbox rule names, a guest's UPN, file and zip member names) carry
//! terminal escapes, bidi overrides, spreadsheet formulas, Markdown and PowerShell payloads;
//! one test per defect of the issue, each on the real binary.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tokentrail_model::{escape, Guid};

mod common;

fn tokentrail(args: &[&str]) -> Output {
    common::tokentrail().args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const ALICE_ID: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const ALICE: &str = "alice@contoso.example";
const BOB_ID: &str = "bbbbbbbb-0000-4000-8000-000000000002";
const BOB: &str = "bob@contoso.example";
const GUEST_ID: &str = "cccccccc-0000-4000-8000-000000000003";
/// A guest whose UPN the attacker chose: an OSC 8 hyperlink and a bidi override.
const GUEST: &str =
    "guest\u{1b}]8;;https://evil.example/\u{7}click\u{1b}]8;;\u{7}\u{202e}lmth.xe@contoso.example";
const SHADY_APP: &str = "5ad5ad00-1111-4222-8333-444455556666";
/// The app's display name: a spreadsheet formula, a screen-clearing escape, a Markdown
/// heading after a line break, raw HTML, a javascript link and a bidi override.
const APP_NAME: &str = "=HYPERLINK(\"https://evil.example/\",\"Outlook\")\u{1b}[2J\n# injected <script>alert(1)</script> [x](javascript:alert(1)) \u{202e}gpj.exe";
/// An inbox rule name that closes the quote of `Remove-InboxRule -Identity '...'`.
const RULE_QUOTE: &str = "x' ; Remove-Mailbox -Identity ceo@contoso.example -Confirm:$false ; '";
/// Backticks (PowerShell's escape), a subexpression and a typographic quote.
const RULE_EXPAND: &str = "`$(Remove-Mailbox ceo@contoso.example)` \u{2019}; Get-Date";
/// A line break ends a command line in a console.
const RULE_NEWLINE: &str = "Invoices\nRemove-Mailbox -Identity ceo@contoso.example";
const HOME_V4: &str = "198.51.100.10";
const OFFICE_V4: &str = "100.64.8.8";
const VPS_V4: &str = "203.0.113.66";

fn guid(n: u128) -> Guid {
    Guid(0x1000_0000_0000_4000_8000_0000_0000_0000 | n)
}

fn session(n: u128) -> String {
    Guid(0x5e55_0000_0000_4000_8000_0000_0000_0000 | n).to_string()
}

fn write_lines(path: &Path, values: &[serde_json::Value]) {
    let mut f = std::fs::File::create(path).unwrap();
    for v in values {
        writeln!(f, "{v}").unwrap();
    }
}

/// An interactive Graph `signIn`.
fn sign_in(
    n: u128,
    time: &str,
    user: (&str, &str),
    ip: &str,
    asn: u32,
    error: u32,
) -> serde_json::Value {
    serde_json::json!({
        "id": guid(n).to_string(),
        "createdDateTime": time,
        "userId": user.0,
        "userPrincipalName": user.1,
        "appId": SHADY_APP,
        "appDisplayName": APP_NAME,
        "ipAddress": ip,
        "autonomousSystemNumber": asn,
        "isInteractive": true,
        "status": {"errorCode": error},
        "sessionId": session(n),
        "uniqueTokenIdentifier": guid(n).to_uti(),
        "userAgent": "Mozilla/5.0 \u{1b}[31mred",
    })
}

/// A Log Analytics `MicrosoftGraphActivityLogs` row replaying the token of sign-in `n` from
/// the attacker's droplet. Its user agent holds a lone surrogate escape (written into the JSON
/// text below, as serde cannot hold one in a string).
fn graph_replay(n: u128, user_id: &str, minute: u32) -> String {
    let row = serde_json::json!({
        "Type": "MicrosoftGraphActivityLogs",
        "TimeGenerated": format!("2026-03-02T10:{minute:02}:00Z"),
        "RequestId": format!("{:08x}-0000-4000-8000-00000000beef", n * 100 + u128::from(minute)),
        "RequestMethod": "GET",
        "RequestUri": "https://graph.microsoft.com/v1.0/me/messages/\u{1b}]8;;https://evil.example/\u{7}inbox\u{1b}]8;;\u{7}",
        "ResponseStatusCode": 200,
        "AppId": SHADY_APP,
        "UserId": user_id,
        "IPAddress": VPS_V4,
        "UserAgent": "LONE_SURROGATE",
        "SignInActivityId": guid(n).to_uti(),
        "SessionId": session(n),
        "ClientAuthMethod": 0,
    });
    row.to_string()
        .replace("LONE_SURROGATE", "python\\ud800 \\u001b[8m")
}

/// A UAL Exchange record of an inbox rule change by the attacker in Alice's session.
fn rule_change(n: u32, operation: &str, name: &str) -> serde_json::Value {
    serde_json::json!({
        "CreationTime": format!("2026-03-02T10:{:02}:00", 20 + n),
        "Id": format!("00000000-0000-4000-8000-0000000000{n:02}"),
        "Operation": operation,
        "RecordType": 1,
        "Workload": "Exchange",
        "UserKey": ALICE_ID,
        "UserId": ALICE,
        "ClientIP": format!("{VPS_V4}:50000"),
        "ObjectId": name,
        "AppAccessContext": {"AADSessionId": session(1)},
        "Parameters": [
            {"Name": "Name", "Value": name},
            {"Name": "RedirectTo", "Value": "collector@evil.example"}
        ],
    })
}

/// Writes the tenant into `dir`: `signins.jsonl`, `graph.jsonl`, `ual.jsonl`, a file whose
/// name carries escapes (with one unreadable line, so the name is echoed on stderr) and a zip
/// whose member name does.
fn hostile_tenant(dir: &Path) {
    write_lines(
        &dir.join("signins.jsonl"),
        &[
            sign_in(
                1,
                "2026-03-02T09:00:00Z",
                (ALICE_ID, ALICE),
                HOME_V4,
                64500,
                0,
            ),
            sign_in(
                2,
                "2026-03-02T09:05:00Z",
                (BOB_ID, BOB),
                OFFICE_V4,
                64530,
                0,
            ),
            sign_in(
                3,
                "2026-03-02T09:10:00Z",
                (GUEST_ID, GUEST),
                HOME_V4,
                64500,
                0,
            ),
            // The attacker's failed password spray tells the droplet's ASN.
            sign_in(
                4,
                "2026-03-02T09:15:00Z",
                (BOB_ID, BOB),
                VPS_V4,
                14061,
                50126,
            ),
            sign_in(
                5,
                "2026-03-02T12:00:00Z",
                (BOB_ID, BOB),
                OFFICE_V4,
                64530,
                0,
            ),
        ],
    );
    let graph = [
        graph_replay(1, ALICE_ID, 1),
        graph_replay(1, ALICE_ID, 2),
        graph_replay(3, GUEST_ID, 3),
    ];
    std::fs::write(dir.join("graph.jsonl"), graph.join("\n") + "\n").unwrap();
    let mut ual = vec![
        rule_change(1, "New-InboxRule", RULE_QUOTE),
        rule_change(2, "New-InboxRule", RULE_EXPAND),
        rule_change(3, "Set-InboxRule", RULE_NEWLINE),
    ];
    ual.push(serde_json::json!({
        "CreationTime": "2026-03-02T10:30:00",
        "Id": "00000000-0000-4000-8000-000000000099",
        "Operation": "FileDownloaded",
        "RecordType": 6,
        "Workload": "OneDrive",
        "UserKey": ALICE_ID,
        "UserId": ALICE,
        "ClientIP": VPS_V4,
        "ObjectId": "https://contoso-my.sharepoint.com/personal/alice/invoice\u{202e}fdp.exe",
        "SourceFileName": "invoice\u{202e}fdp.exe",
        "ApplicationId": SHADY_APP,
        "ApplicationDisplayName": APP_NAME,
        "UserAgent": "curl \u{1b}[2K",
        "AppAccessContext": {"AADSessionId": session(1), "UniqueTokenId": guid(1).to_uti()},
    }));
    write_lines(&dir.join("ual.jsonl"), &ual);
    std::fs::write(
        dir.join("notes\u{1b}[2J\u{202e}txt.json"),
        "{\"broken\": \n{\"also\": \"broken\"\n",
    )
    .unwrap();
    let zip_file = std::fs::File::create(dir.join("export.zip")).unwrap();
    let mut zip = zip::ZipWriter::new(zip_file);
    zip.start_file(
        "member\u{1b}]0;pwned\u{7}\u{202e}.json",
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
    )
    .unwrap();
    zip.write_all(b"not json, not csv\n").unwrap();
    zip.finish().unwrap();
}

/// Characters that act on a terminal or reorder text when they reach it raw.
fn active(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{61c}' | '\u{200e}'
        | '\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Fails naming the first active character of an output and where it is.
fn assert_inert(what: &str, output: &str) {
    if let Some((at, c)) = output.char_indices().find(|(_, c)| active(*c)) {
        let from = output[..at]
            .char_indices()
            .rev()
            .nth(60)
            .map_or(0, |(i, _)| i);
        panic!(
            "{what}: raw {c:?} reaches the reader at byte {at}: ...{:?}",
            &output[from..(at + 8).min(output.len())]
        );
    }
}

fn paths(dir: &Path) -> Vec<String> {
    let mut paths: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .collect();
    paths.sort();
    paths
}

fn run_on(dir: &Path, args: &[&str]) -> Output {
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    all.extend(paths(dir));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    tokentrail(&refs)
}

/// The action and the commands of the `inbox-rules` containment step of `investigate
/// --format json` (before issue 14 the commands were inside the action).
fn inbox_rule_step(dir: &Path) -> (String, Vec<String>) {
    let out = run_on(dir, &["investigate", "--user", ALICE, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stderr)));
    let step = v["containment"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "inbox-rules")
        .cloned()
        .unwrap_or_else(|| panic!("no inbox-rules step: {v:#}"));
    let commands = step["commands"]
        .as_array()
        .map(|c| c.iter().map(|c| c.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    (step["action"].as_str().unwrap().to_owned(), commands)
}

/// Defect 1: every value in a suggested command is quoted for PowerShell (single quotes
/// doubled) or replaced by a reference.
#[test]
fn containment_commands_quote_every_logged_value() {
    let dir = tempfile::tempdir().unwrap();
    hostile_tenant(dir.path());
    let (action, commands) = inbox_rule_step(dir.path());
    let all = format!("{action}\n{}", commands.join("\n"));
    assert!(
        commands.contains(
            &"Remove-InboxRule -Identity 'x'' ; Remove-Mailbox -Identity ceo@contoso.example -Confirm:$false ; '''"
                .to_string()
        ),
        "{all}"
    );
    assert!(
        commands.contains(
            &"Remove-InboxRule -Identity '`$(Remove-Mailbox ceo@contoso.example)` \u{2019}\u{2019}; Get-Date'"
                .to_string()
        ),
        "{all}"
    );
    // The name with a line break cannot be pasted: the rule is named by reference.
    assert!(!all.contains("Invoices\nRemove-Mailbox"), "{all}");
    assert!(!all.contains("-Identity 'Invoices"), "{all}");
    assert!(
        action.contains(
            "remove the rule changed by Set-InboxRule at 2026-03-02T10:23:00Z (find it with Get-InboxRule"
        ),
        "{all}"
    );
    // Each command is one PowerShell statement: outside its quotes there is no `;`, `|`,
    // `$(`, backtick or line break.
    let is_quote = |c: char| matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}');
    for command in &commands {
        let mut outside = String::new();
        let mut rest = command.as_str();
        while let Some(open) = rest.find(is_quote) {
            outside.push_str(&rest[..open]);
            let (_, used) = escape::read_powershell_literal(&rest[open..])
                .unwrap_or_else(|| panic!("unclosed quote in {command:?}"));
            rest = &rest[open + used..];
        }
        outside.push_str(rest);
        assert!(
            !outside.contains([';', '|', '`', '\n', '\r']) && !outside.contains("$("),
            "{command:?} runs more than one statement: {outside:?}"
        );
    }
}

/// Defect 2: control characters and bidi overrides in any field, file name or zip member
/// name reach no text output raw (table, investigate, inventory, inspect, coverage, stderr)
/// nor the HTML report.
#[test]
fn terminal_escapes_are_shown_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    hostile_tenant(dir.path());
    let runs: [&[&str]; 10] = [
        &["timeline", "--format", "jsonl"],
        &["timeline", "--format", "csv"],
        &["detect", "--format", "table"],
        &["detect", "--format", "markdown"],
        &["investigate", "--user", ALICE],
        &["investigate", "--user", GUEST],
        &["inventory"],
        &["inspect"],
        &["coverage"],
        &["report"],
    ];
    for args in runs {
        let out = run_on(dir.path(), args);
        let what = args.join(" ");
        assert!(
            out.status.code().is_some_and(|c| c < 2),
            "{what}: {}",
            text(&out.stderr)
        );
        assert_inert(&format!("{what} (stdout)"), &text(&out.stdout));
        assert_inert(&format!("{what} (stderr)"), &text(&out.stderr));
    }
    // The escapes are shown, so the responder sees that they were there.
    let table = run_on(dir.path(), &["detect", "--format", "table"]);
    assert!(text(&table.stdout).contains("guest\\x1b]8;;https://evil.example/\\x07click"));
    let inspect = run_on(dir.path(), &["inspect"]);
    let inspect = text(&inspect.stdout);
    assert!(
        inspect.contains("notes\\x1b[2J\\u{202e}txt.json"),
        "{inspect}"
    );
    assert!(
        inspect.contains("member\\x1b]0;pwned\\x07\\u{202e}.json"),
        "{inspect}"
    );
}

/// Every row of a CSV output, header included.
fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// Defect 3: no CSV cell starts a spreadsheet formula.
#[test]
fn csv_cells_never_start_a_formula() {
    let dir = tempfile::tempdir().unwrap();
    hostile_tenant(dir.path());
    let detect = run_on(dir.path(), &["detect", "--format", "csv"]);
    let timeline = run_on(
        dir.path(),
        &["investigate", "--user", ALICE, "--format", "csv"],
    );
    let timesketch = run_on(dir.path(), &["timeline", "--format", "csv"]);
    for (what, out) in [
        ("detect", detect),
        ("investigate", timeline),
        ("timeline", timesketch),
    ] {
        let rows = csv_rows(&out.stdout);
        assert!(rows.len() > 1, "{what}: {}", text(&out.stderr));
        for cell in rows.iter().flatten() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{what}: a cell starts a formula: {cell:?}"
            );
        }
    }
    let rows = csv_rows(&run_on(dir.path(), &["detect", "--format", "csv"]).stdout);
    let app = rows[0].iter().position(|c| c == "app_name").unwrap();
    assert!(
        rows[1..]
            .iter()
            .any(|r| r[app].starts_with("'=HYPERLINK(\"https://evil.example/\"")),
        "{rows:?}"
    );
}

/// The headings, links and raw HTML of a Markdown document.
fn markdown_structure(md: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let (mut headings, mut links, mut html) = (Vec::new(), Vec::new(), Vec::new());
    let mut heading: Option<String> = None;
    for event in Parser::new_ext(md, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::End(TagEnd::Heading(_)) => headings.extend(heading.take()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                links.push(dest_url.into_string())
            }
            Event::Html(h) | Event::InlineHtml(h) => html.push(h.into_string()),
            _ => {}
        }
    }
    (headings, links, html)
}

/// Defect 4: values cannot add headings, links or HTML to any Markdown output, table cells
/// included.
#[test]
fn markdown_outputs_escape_every_value() {
    let dir = tempfile::tempdir().unwrap();
    hostile_tenant(dir.path());
    let runs: [&[&str]; 5] = [
        &["detect", "--format", "markdown"],
        &["investigate", "--user", ALICE],
        &["investigate", "--user", GUEST],
        &["inventory"],
        &["coverage"],
    ];
    for args in runs {
        let out = run_on(dir.path(), args);
        let md = text(&out.stdout);
        let what = args.join(" ");
        let (headings, links, html) = markdown_structure(&md);
        assert!(links.is_empty(), "{what}: links {links:?}");
        assert!(html.is_empty(), "{what}: raw HTML {html:?}");
        for h in &headings {
            assert!(
                !h.starts_with("injected"),
                "{what}: heading {h:?} came from a value"
            );
        }
        // The value is there, escaped: rendered, it reads as logged.
        if what.contains(ALICE) || what == "inventory" {
            assert!(
                md.contains("\\<script\\>alert(1)\\</script\\>"),
                "{what}:\n{md}"
            );
        }
    }
}

fn write_allowlist(dir: &Path, entries: &str) -> String {
    let path = dir.join("allow.yaml");
    std::fs::write(&path, format!("version: 1\nentries:\n{entries}")).unwrap();
    path.to_string_lossy().into_owned()
}

/// Defect 5: catch-all entries (networks wider than /16 or /32, `*` patterns, expiries more
/// than a year ahead) are refused, and every run says how many findings each entry suppressed.
#[test]
fn catch_all_allowlist_entries_are_refused_and_suppression_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    hostile_tenant(&logs);
    let logs = logs.to_string_lossy().into_owned();
    let now = "2026-12-01T00:00:00Z";
    let everything = write_allowlist(
        dir.path(),
        "  - id: silence-all\n    reason: \"temporary\"\n    owner: \"x\"\n    expires: 2099-12-31\n    match: { network: \"::/0\" }\n  - id: all-v4\n    reason: \"temporary\"\n    owner: \"x\"\n    expires: 2027-01-31\n    match: { network: \"0.0.0.0/1\" }\n  - id: mapped\n    reason: \"temporary\"\n    owner: \"x\"\n    expires: 2027-01-31\n    match: { network: \"::ffff:0.0.0.0/100\" }\n  - id: star\n    reason: \"temporary\"\n    owner: \"x\"\n    expires: 2027-01-31\n    match: { app_id: \"*\", user: \"*@contoso.example\" }\n",
    );
    let out = tokentrail(&["detect", &logs, "--allowlist", &everything, "--now", now]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for expected in [
        "allow.yaml:7: entry `silence-all`: match `network` \"::/0\" covers more than a /32 of IPv6",
        "allow.yaml:6: entry `silence-all`: `expires` 2099-12-31 is more than 366 days after 2026-12-01",
        "allow.yaml:12: entry `all-v4`: match `network` \"0.0.0.0/1\" covers more than a /16 of IPv4",
        "allow.yaml:17: entry `mapped`: match `network` \"::ffff:0.0.0.0/100\" covers more than a /16 of IPv4",
        "allow.yaml:22: entry `star`: match `app_id` \"*\" is a pattern",
        "allow.yaml:22: entry `star`: match `user` \"*@contoso.example\" is a pattern",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in:\n{stderr}");
    }

    let scoped = write_allowlist(
        dir.path(),
        &format!("  - id: droplet\n    reason: \"pen test PT-7\"\n    owner: \"secops\"\n    expires: 2027-06-30\n    rules: [TT001]\n    match: {{ network: \"203.0.113.0/24\" }}\n  - id: never\n    reason: \"old vendor\"\n    owner: \"secops\"\n    expires: 2027-06-30\n    match: {{ app_id: \"{}\" }}\n", "0000aaaa-1111-4222-8333-444455556666"),
    );
    let out = tokentrail(&["detect", &logs, "--allowlist", &scoped, "--now", now]);
    let stderr = text(&out.stderr);
    assert!(out.status.code().is_some_and(|c| c < 2), "{stderr}");
    assert!(
        stderr.contains("tokentrail: allowlist entry \"droplet\" (line 3) suppressed 2 finding(s) (owner secops)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "tokentrail: allowlist entry \"never\" (line 9) suppressed 0 finding(s) (owner secops)"
        ),
        "{stderr}"
    );
    // Every command that judges with the allowlist says so, every run.
    for command in [
        vec!["investigate", "--user", ALICE],
        vec!["timeline"],
        vec!["report"],
    ] {
        let mut args = command.clone();
        args.extend([logs.as_str(), "--allowlist", &scoped, "--now", now]);
        let out = tokentrail(&args);
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(
                "tokentrail: allowlist entry \"droplet\" (line 3) suppressed 2 finding(s) (owner secops)"
            ),
            "{command:?}: {stderr}"
        );
    }
}

/// Defect 7: a FIFO found while walking a directory is reported and skipped, not opened (which
/// blocks until something writes to it); named explicitly, it is read.
#[cfg(unix)]
#[test]
fn special_files_in_directories_are_skipped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    hostile_tenant(dir.path());
    let fifo = dir.path().join("zz.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let mut child = common::tokentrail()
        .args(["inspect", dir.path().to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Not a timing assertion: a run blocked on the FIFO never ends, and a test must.
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("inspect blocked on the FIFO in the directory");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("zz.fifo: not a regular file (a FIFO) found in a directory: skipped"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));

    // Named explicitly, the FIFO is read: here from a writer started beside the run.
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(writer_path)
            .unwrap();
        f.write_all(
            sign_in(
                9,
                "2026-03-02T09:00:00Z",
                (BOB_ID, BOB),
                OFFICE_V4,
                64530,
                0,
            )
            .to_string()
            .as_bytes(),
        )
        .unwrap();
    });
    let out = tokentrail(&["inspect", fifo.to_str().unwrap()]);
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("1 read"),
        "{}",
        text(&out.stdout)
    );
}

/// Defect 8: a lone `\ud800` escape in a user agent (only displayed) no longer drops the
/// record and the TT001 finding it carries; the repair is counted and reported.
#[test]
fn a_lone_surrogate_in_a_user_agent_keeps_the_record() {
    let dir = tempfile::tempdir().unwrap();
    hostile_tenant(dir.path());
    std::fs::remove_file(dir.path().join("ual.jsonl")).unwrap();
    let graph = dir
        .path()
        .join("graph.jsonl")
        .to_string_lossy()
        .into_owned();
    let signins = dir
        .path()
        .join("signins.jsonl")
        .to_string_lossy()
        .into_owned();
    let out = tokentrail(&["detect", &signins, &graph, "--format", "ocsf"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let findings: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let replays: Vec<_> = findings
        .iter()
        .filter(|f| f["finding_info"]["analytic"]["uid"] == "TT001")
        .collect();
    assert_eq!(replays.len(), 2, "{stderr}\n{findings:#?}");
    assert!(
        stderr.contains("tokentrail: 3 record(s) had text that is not valid Unicode in a field that is only displayed (user agent, names); it was replaced with U+FFFD and the records were kept"),
        "{stderr}"
    );
    let inspect = tokentrail(&["inspect", &graph]);
    assert_eq!(inspect.status.code(), Some(0), "{}", text(&inspect.stdout));
    assert!(
        text(&inspect.stdout).contains("  repaired text in displayed fields: 3 record(s)"),
        "{}",
        text(&inspect.stdout)
    );
}

/// `score --format json` carries finding and label ids from files anyone may have written: a
/// bidi override or an escape sequence in them is a `\u` escape in the JSON, never raw.
#[test]
fn score_json_shows_hostile_ids_as_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let findings = dir.path().join("findings.jsonl");
    let labels = dir.path().join("labels.jsonl");
    write_lines(
        &findings,
        &[serde_json::json!({
            "finding_info": {
                "uid": "TT001-\u{202e}evil\u{1b}[2J",
                "analytic": {"uid": "TT001"},
                "first_seen_time": 1709632800000_i64,
                "last_seen_time": 1709632860000_i64,
            },
            "actor": {"user": {"uid": "u-1", "name": "a@b.example"}},
        })],
    );
    write_lines(
        &labels,
        &[serde_json::json!({
            "id": "atk-\u{202e}1\u{7}",
            "kind": "session-replay",
            "expected_rules": ["TT002"],
            "user": "b@b.example",
            "user_id": "u-2",
            "token_ids": [],
            "start": "2024-03-05T10:00:00Z",
            "end": "2024-03-05T10:05:00Z",
            "description": "a replay \u{202e}",
        })],
    );
    let out = tokentrail(&[
        "score",
        "--findings",
        &findings.to_string_lossy(),
        "--labels",
        &labels.to_string_lossy(),
        "--format",
        "json",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_inert("score --format json", &stdout);
    assert!(stdout.contains("atk-\\u202e1\\u0007"), "{stdout}");
    assert!(stdout.contains("TT001-\\u202eevil\\u001b[2J"), "{stdout}");
    // Still JSON that reads back to the ids as they were.
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(value.to_string().contains('\u{202e}'));
    let text_out = tokentrail(&[
        "score",
        "--findings",
        &findings.to_string_lossy(),
        "--labels",
        &labels.to_string_lossy(),
    ]);
    assert_inert("score", &text(&text_out.stdout));
}
