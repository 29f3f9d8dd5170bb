//! One coherent CLI (issue 15): every command that writes speaks the same `--format` and
//! `-o/--output`, and the id the findings table prints opens the investigation.

mod common;

use std::path::PathBuf;
use std::process::Output;

fn run(args: &[&str]) -> Output {
    common::tokentrail()
        .args(args)
        .output()
        .expect("run tokentrail")
}

/// The subcommands `tokentrail --help` lists (the clap command tree as the binary builds it),
/// without `help` itself.
fn subcommands() -> Vec<String> {
    let help = String::from_utf8(run(&["--help"]).stdout).expect("utf-8");
    let listed = help
        .split("\nCommands:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("a Commands: section");
    listed
        .lines()
        // A command starts its line at two spaces; wrapped descriptions are indented further.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

/// The values `command --format` takes, by their names (not the aliases), as clap lists them
/// when given one it does not know.
fn format_values(command: &str) -> Vec<String> {
    let out = run(&[command, "--format", "no-such-format", "--help"]);
    assert_eq!(out.status.code(), Some(2), "{command}: {out:?}");
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    let values = stderr
        .split("[possible values: ")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_else(|| panic!("{command}: no possible values in {stderr}"));
    values.split(", ").map(str::to_string).collect()
}

/// True when clap accepts `args` (they are checked before `--help` prints).
fn accepted(command: &str, args: &[&str]) -> bool {
    let mut all = vec![command];
    all.extend_from_slice(args);
    all.push("--help");
    run(&all).status.code() == Some(0)
}

/// Every command that writes takes `--format` and `-o/--output`; `json` is a format of every
/// one of them (for `detect`, `demo` and `findings` the OCSF lines), and `md` and `markdown`
/// are both accepted wherever either is. The commands are taken from the binary's own list,
/// so a command added later is checked too.
#[test]
fn every_command_takes_format_and_output_with_the_same_names() {
    let commands = subcommands();
    assert_eq!(
        commands,
        [
            "inspect",
            "detect",
            "demo",
            "coverage",
            "investigate",
            "inventory",
            "report",
            "timeline",
            "normalize",
            "findings",
            "export",
            "simulate",
            "score"
        ]
    );
    let mut formats = Vec::new();
    for command in &commands {
        let c = command.as_str();
        assert!(accepted(c, &["-o", "out.file"]), "{c} -o");
        assert!(accepted(c, &["--output", "out.file"]), "{c} --output");
        let values = format_values(c);
        for value in &values {
            assert!(accepted(c, &["--format", value]), "{c} --format {value}");
        }
        assert!(accepted(c, &["--format", "json"]), "{c} --format json");
        assert_eq!(
            accepted(c, &["--format", "md"]),
            accepted(c, &["--format", "markdown"]),
            "{c}: md and markdown"
        );
        formats.push(format!("{c}: {}", values.join(" ")));
    }
    // The names themselves: Markdown is `markdown` everywhere (`md` an alias), JSON `json`
    // or a JSON form named for what it is (`ocsf`, `jsonl`) with `json` its alias.
    assert_eq!(
        formats,
        [
            "inspect: text json",
            "detect: table ocsf csv markdown",
            "demo: table ocsf csv markdown",
            "coverage: markdown json",
            "investigate: markdown json csv",
            "inventory: markdown json",
            "report: html json",
            "timeline: jsonl csv",
            "normalize: parquet json",
            "findings: table ocsf csv markdown html",
            "export: sentinel kql json",
            "simulate: text json",
            "score: text json",
        ]
    );
    // The flags they replace still work, hidden, so scripts keep working.
    assert!(accepted("inspect", &["--json"]));
    assert!(accepted("score", &["--json"]));
    assert!(accepted("simulate", &["--out", "dir"]));
    assert!(accepted("normalize", &["--out", "dir"]));
    assert!(accepted("export", &["--out", "dir"]));
}

/// Every command that judges takes the judging options, `--min-severity` and `--rules`
/// (include, and exclude with a leading `-` or `--exclude-rules`) among them.
#[test]
fn every_command_that_judges_takes_the_judging_options() {
    for c in [
        "detect",
        "demo",
        "coverage",
        "investigate",
        "inventory",
        "report",
        "timeline",
    ] {
        for args in [
            &["--allowlist", "a.yaml"][..],
            &["--asn-db", "asn.mmdb"],
            &[
                "--since",
                "2024-03-05T00:00:00Z",
                "--until",
                "2024-03-06T00:00:00Z",
            ],
            &["--min-severity", "high"],
            &["--rules", "TT001,session-replay"],
            &["--rules", "-TT005"],
            &["--exclude-rules", "TT005"],
        ] {
            assert!(accepted(c, args), "{c} {args:?}");
        }
    }
}

/// Shell words, as `next:` writes them: plain, or single-quoted with `'\''` for a quote.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' if in_word => {
                words.push(std::mem::take(&mut word));
                in_word = false;
            }
            ' ' => {}
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

fn stdout(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

/// The example tenant's detect table, exactly; the id its first row prints and the command
/// its last line gives open that finding's investigation, and so do the session and token
/// prefixes the table shows.
#[test]
fn the_id_in_the_table_opens_the_investigation() {
    let tenant: Vec<PathBuf> = common::example_tenant();
    let paths: Vec<&str> = tenant.iter().map(|p| p.to_str().unwrap()).collect();
    let mut args = vec!["detect"];
    args.extend(&paths);
    let table = stdout(&run(&args));
    let tenant_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/tenant");
    let expected = format!(
        "\
ID        SEVERITY  CONF    RULE                          USER                               SESSION/TOKEN  NETWORK           IP               RECORDS  OPS  FIRST SEEN (UTC)      LAST SEEN (UTC)
b72c7366  High      high    TT002 session-replay          lynne.white.3@contoso.example      s:1963e220     AS14061           159.203.178.55        10   21  2024-03-05 12:22:00Z  2024-03-05 12:26:22Z
f402bcb3  High      high    TT001 token-replay            lidia.langer.4@contoso.example     s:8361f8cd     AS20473           45.77.95.199           8    8  2024-03-05 16:16:45Z  2024-03-05 16:20:45Z
14d4ac6b  High      high    TT002 session-replay          lidia.langer.4@contoso.example     s:8361f8cd     AS20473           45.77.95.199          13   17  2024-03-05 16:16:45Z  2024-03-05 16:36:53Z
22e2787d  High      high    TT005 unapproved-client       lidia.langer.4@contoso.example     s:8361f8cd     AS20473           45.77.95.199          12   16  2024-03-05 16:16:45Z  2024-03-05 16:36:53Z
5722d8a0  Medium    high    TT003 no-interactive-context  nestor.wilber.5@contoso.example    s:4b0c3838     AS16509           3.126.160.138         10   14  2024-03-05 18:25:40Z  2024-03-05 18:34:38Z
c476d035  Medium    low     TT001 token-replay            henrietta.white.0@contoso.example  s:554f1a77     95.217.252.0/24   95.217.252.238        12   16  2024-03-05 12:17:00Z  2024-03-05 12:25:01Z
05b99db5  Medium    low     TT002 session-replay          henrietta.white.0@contoso.example  s:554f1a77     95.217.252.0/24   95.217.252.238        12   16  2024-03-05 12:17:00Z  2024-03-05 12:25:01Z
f9df9012  Medium    low     TT005 unapproved-client       allan.sink.2@contoso.example       s:69f46bee     159.203.235.0/24  159.203.235.204        7    7  2024-03-05 15:49:02Z  2024-03-05 15:50:06Z
3a0d9dd9  Low       medium  TT004 orphan-token            henrietta.lauer.1@contoso.example  t:75d2b3f2     45.77.217.0/24    45.77.217.120          4    4  2024-03-05 18:58:00Z  2024-03-05 18:59:45Z
9 findings: TT001 2, TT002 3, TT003 1, TT004 1, TT005 2; high 4, medium 4, low 1; 0 suppressed
next: tokentrail investigate {tenant_dir}/signins {tenant_dir}/graph {tenant_dir}/ual --finding b72c7366
"
    );
    assert_eq!(table, expected);

    // The id as the first row prints it, and the command as the last line gives it.
    let lines: Vec<&str> = table.lines().collect();
    let id = lines[1].split_whitespace().next().unwrap();
    assert_eq!(id, "b72c7366");
    let next = lines.last().unwrap().strip_prefix("next: ").unwrap();
    let words = shell_words(next);
    assert_eq!(words[..2], ["tokentrail", "investigate"]);
    assert_eq!(words[words.len() - 2..], ["--finding", id]);
    let words: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    let investigation = stdout(&run(&words));
    let head: Vec<&str> = investigation.lines().take(9).collect();
    assert_eq!(
        head,
        [
            "# Investigation: session 1963e220-508b-4ab3-9414-9e44a026bb58",
            "",
            "Opened from finding `TT002-b72c73661bfee674` (TT002 High): Session used from a network where it was never established",
            "",
            "18 sign-in(s) and 21 access(es) from 2024-03-05T07:22:00.775245Z to 2024-03-05T12:26:22Z; user(s): lynne.white.3@contoso.example.",
            "",
            "## Findings",
            "",
            "- `TT002-b72c73661bfee674` TT002 High: Session used from a network where it was never established (2024-03-05T12:22:00.775245Z to 2024-03-05T12:26:22Z)",
        ]
    );

    // The full id, its rule-prefixed short form, and the session cell as printed open the same
    // records; the session cell without the finding line.
    let investigate = |subject: &[&str]| {
        let mut args = vec!["investigate"];
        args.extend(&paths);
        args.extend(subject);
        run(&args)
    };
    for finding in ["TT002-b72c73661bfee674", "tt002-B72C7366", "b72c"] {
        assert_eq!(
            stdout(&investigate(&["--finding", finding])),
            investigation,
            "{finding}"
        );
    }
    let by_session = stdout(&investigate(&["--session", "s:1963e220"]));
    let opened: Vec<&str> = investigation.lines().collect();
    let by_session_lines: Vec<&str> = by_session.lines().collect();
    // The same, but for the "Opened from finding" line and the blank line after it.
    assert_eq!(by_session_lines[..2], opened[..2]);
    assert!(by_session_lines[2..] == opened[4..], "{by_session}");
    // The user column with the session cell: that user's records in the session.
    let user_and_session = stdout(&investigate(&[
        "--user",
        "lynne.white.3@contoso.example",
        "--session",
        "s:1963e220",
    ]));
    assert_eq!(
        user_and_session.lines().next(),
        Some("# Investigation: session 1963e220-508b-4ab3-9414-9e44a026bb58 of user lynne.white.3@contoso.example")
    );
    // The token cell of the TT004 row.
    let by_token = stdout(&investigate(&["--token", "t:75d2b3f2"]));
    assert_eq!(
        by_token.lines().next(),
        Some("# Investigation: token 75d2b3f2-b313-46cd-b9fc-c4ecb485b3cf")
    );
    assert!(by_token.contains("- `TT004-3a0d9dd9"), "{by_token}");

    // A prefix of two sessions names neither: exit 2, both listed.
    let ambiguous = investigate(&["--session", "s:1"]);
    assert_eq!(ambiguous.status.code(), Some(2));
    assert_eq!(ambiguous.stdout, b"");
    let stderr = String::from_utf8(ambiguous.stderr).unwrap();
    assert!(
        stderr.ends_with(
            "tokentrail: 1 is the start of 2 session ids: 158ae79f-3a98-4d68-a6db-4f6b88a1d7bd, 1963e220-508b-4ab3-9414-9e44a026bb58 (give more of it)\n"
        ),
        "{stderr}"
    );
    let unknown = investigate(&["--finding", "ffffffff"]);
    assert_eq!(unknown.status.code(), Some(2));
    let stderr = String::from_utf8(unknown.stderr).unwrap();
    assert!(
        stderr.ends_with(
            "tokentrail: no finding's id is or starts with ffffffff (9 finding(s) in this run; `tokentrail detect` lists them)\n"
        ),
        "{stderr}"
    );
}

/// `--min-severity` and `--rules` choose what is reported (exclusions by a leading `-` or by
/// `--exclude-rules`, by code or name), say on stderr how many findings they left out, and
/// refuse a rule that does not exist.
#[test]
fn min_severity_and_rules_choose_what_is_reported() {
    let tenant = common::example_tenant();
    let detect = |extra: &[&str]| {
        common::tokentrail()
            .args(["detect", "--format", "csv"])
            .args(&tenant)
            .args(extra)
            .output()
            .expect("run detect")
    };
    let ids = |out: &Output| -> Vec<String> {
        stdout(out)
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect()
    };
    let chosen = detect(&["--min-severity", "high", "--rules", "-TT005"]);
    assert_eq!(
        ids(&chosen),
        [
            "TT002-b72c73661bfee674",
            "TT001-f402bcb303953a60",
            "TT002-14d4ac6b5fd2420a"
        ]
    );
    let stderr = String::from_utf8(chosen.stderr).unwrap();
    assert!(
        stderr.contains("\ntokentrail: 6 finding(s) of rules left out by --rules, or below --min-severity: judged, not reported\n"),
        "{stderr}"
    );
    let by_name = detect(&[
        "--min-level",
        "HIGH",
        "--exclude-rules",
        "unapproved-client",
    ]);
    assert_eq!(
        ids(&by_name),
        ids(&detect(&["--min-severity", "high", "--rules", "-TT005"]))
    );
    let only = detect(&["--rules", "session-replay,TT004"]);
    assert_eq!(
        ids(&only),
        [
            "TT002-b72c73661bfee674",
            "TT002-14d4ac6b5fd2420a",
            "TT002-05b99db5a078de2b",
            "TT004-3a0d9dd95f037b79"
        ]
    );

    let unknown = detect(&["--rules", "bogus,TT001"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert_eq!(unknown.stdout, b"");
    assert_eq!(
        String::from_utf8(unknown.stderr).unwrap(),
        "tokentrail: error: no such rule: \"bogus\" (the rules are TT001 token-replay, TT002 session-replay, TT003 no-interactive-context, TT004 orphan-token, TT005 unapproved-client)\n"
    );
}

/// `report --format json` holds what the page shows: the findings as detect's OCSF objects,
/// and each finding's investigation, opened from it.
#[test]
fn report_json_holds_the_findings_and_their_investigations() {
    let out = common::tokentrail()
        .args(["report", "--format", "json"])
        .args(common::example_tenant())
        .output()
        .expect("run report");
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["finding_info"]["uid"].as_str().unwrap())
        .collect();
    let opened: Vec<&str> = report["investigations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["finding"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 9);
    assert_eq!(ids, opened);
    assert_eq!(report["sign_ins"], 494);
    assert_eq!(report["accesses"], 1094);
    assert!(
        report["coverage"]["rules"].is_array(),
        "{}",
        report["coverage"]
    );
    assert!(report["inventory"].is_object());
}

/// A user's investigation fits on a screen before it goes long: the sections in order, the
/// timeline starting within the first 40 lines (Microsoft's service prefixes are one row), and
/// the span of the findings offered as --since/--until, which then bound the timeline to it.
#[test]
fn a_users_investigation_leads_with_the_findings_then_the_timeline() {
    let investigate = |extra: &[&str]| {
        let out = common::tokentrail()
            .arg("investigate")
            .args(common::example_tenant())
            .args(["--user", "lynne.white.3@contoso.example"])
            .args(extra)
            .output()
            .expect("run investigate");
        stdout(&out)
    };
    let text = investigate(&[]);
    let lines: Vec<&str> = text.lines().collect();
    let headings: Vec<(usize, &str)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("## "))
        .map(|(i, l)| (i + 1, *l))
        .collect();
    assert_eq!(
        headings,
        [
            (5, "## Findings"),
            (9, "## Sessions involved"),
            (15, "## Containment"),
            (24, "## Networks"),
            (35, "## Timeline"),
            (215, "## What was touched"),
            (240, "## Chain by session"),
        ]
    );
    assert_eq!(
        lines[32],
        "| Microsoft's service: 21 network(s) | 23 address(es) | 2024-03-04T07:29:00Z | 2024-03-05T11:06:07Z | 0 | 55 | never | Microsoft's service | - |"
    );
    assert_eq!(
        lines[36],
        "173 record(s); 10 of them from 2024-03-05T12:22:00.775245Z to 2024-03-05T12:26:22Z, the span of the findings (`--since 2024-03-05T12:22:00.775245Z --until 2024-03-05T12:26:22Z` lists only those)."
    );
    let json = investigate(&[
        "--since",
        "2024-03-05T12:22:00.775245Z",
        "--until",
        "2024-03-05T12:26:22Z",
        "--format",
        "json",
    ]);
    let inv: serde_json::Value = serde_json::from_str(&json).expect("json");
    let times: Vec<&str> = inv["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["time"].as_str().unwrap())
        .collect();
    assert_eq!(times.len(), 10);
    assert_eq!(times[0], "2024-03-05T12:22:00.775245Z");
    assert_eq!(times[9], "2024-03-05T12:26:22Z");
    assert_eq!(inv["findings"][0]["id"], "TT002-b72c73661bfee674");
}
