//! Issue 13 end to end: the same tenant in every export shape `simulate` writes gives the same
//! findings; a collector's folder that mixes the logs with alerts, devices and policies gives
//! the findings of the logs alone; and a run with nothing to judge says so and exits 2.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

fn tokentrail(args: &[&str]) -> Output {
    common::tokentrail().args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The ingest crate's fixtures of Graph objects collectors save beside the logs.
fn graph_objects() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ingest/tests/fixtures/shapes/graph-objects")
}

/// A 40-user, 2-day tenant with every attack, in `formats`.
fn simulate(root: &Path, formats: &str) -> PathBuf {
    let out = root.join(if formats.is_empty() {
        "default".to_owned()
    } else {
        formats.replace(['=', ','], "_")
    });
    let o = tokentrail(&[
        "simulate",
        "--users",
        "40",
        "--days",
        "2",
        "--seed",
        "3",
        "--attacks",
        "all",
        "--formats",
        formats,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    out
}

/// (rule, finding id) of every finding, and stderr.
fn detect(paths: &[PathBuf]) -> (BTreeSet<(String, String)>, String) {
    let mut args = vec!["detect".to_owned()];
    args.extend(paths.iter().map(|p| p.to_string_lossy().into_owned()));
    args.extend(["--format", "csv", "--now", "2024-03-10"].map(str::to_owned));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = tokentrail(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let findings = out
        .lines()
        .skip(1)
        .map(|l| {
            let mut cells = l.split(',');
            let id = cells.next().unwrap().to_owned();
            let rule = cells.next().unwrap().to_owned();
            (rule, id)
        })
        .collect();
    (findings, text(&o.stderr))
}

fn logs(tenant: &Path) -> Vec<PathBuf> {
    ["signins", "graph", "ual"]
        .iter()
        .map(|f| tenant.join(f))
        .collect()
}

/// Every (sign-in time to the second, session id) of the tenant's sign-ins, from its
/// whole-tenant timeline.
fn sign_in_sessions(tenant: &Path) -> BTreeSet<(String, String)> {
    let o = tokentrail(&["timeline", tenant.join("signins").to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    text(&o.stdout)
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let session = v.get("session_id")?.as_str()?.to_owned();
            let time = v.get("datetime")?.as_str()?.get(..19)?.to_owned();
            Some((time, session))
        })
        .collect()
}

/// Recall over the tenant's labels, from `tokentrail score`.
fn recall(tenant: &Path, root: &Path) -> String {
    let findings = root.join(format!(
        "{}.ocsf",
        tenant.file_name().unwrap().to_string_lossy()
    ));
    let mut args = vec!["detect".to_owned()];
    args.extend(
        logs(tenant)
            .iter()
            .map(|p| p.to_string_lossy().into_owned()),
    );
    args.extend(
        [
            "--format",
            "ocsf",
            "--now",
            "2024-03-10",
            "-o",
            findings.to_str().unwrap(),
        ]
        .map(str::to_owned),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert!(tokentrail(&args).status.success());
    let o = tokentrail(&[
        "score",
        "--findings",
        findings.to_str().unwrap(),
        "--labels",
        tenant.join("labels.jsonl").to_str().unwrap(),
    ]);
    let out = text(&o.stdout);
    out.lines()
        .find(|l| l.starts_with("recall"))
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn the_same_tenant_in_every_shape_gives_the_same_findings() {
    let root = tempfile::tempdir().unwrap();
    let base = simulate(root.path(), "");
    let (expected, _) = detect(&logs(&base));
    assert!(expected.len() >= 6, "{expected:?}");

    // Shapes that carry every fact the rules use: exactly the same findings.
    for formats in [
        "signins=diagnostic,graph=diagnostic,ual=jsonl",
        "signins=graph,ual=purview-csv",
        "ual=search-csv",
        "graph=defender-hunting",
        "ual=defender-stream",
        // Windows PowerShell: the Graph SDK's objects (`\/Date(ms)\/` times, the session in
        // `AdditionalProperties`), as UTF-16 without its byte order mark.
        "signins=graph-sdk,text=utf-16le-nobom",
    ] {
        let tenant = simulate(root.path(), formats);
        let (found, _) = detect(&logs(&tenant));
        assert_eq!(found, expected, "{formats}");
    }

    // The SDK's objects hold the session only in `AdditionalProperties`: every sign-in's
    // session is read all the same.
    let sdk = root
        .path()
        .join("signins=graph-sdk,text=utf-16le-nobom".replace(['=', ','], "_"));
    let expected_sessions = sign_in_sessions(&base);
    assert!(expected_sessions.len() >= 20, "{expected_sessions:?}");
    assert_eq!(sign_in_sessions(&sdk), expected_sessions);

    // The Entra admin center's CSV has no column saying whether a user sign-in was
    // interactive. The tenant's automation account signs in interactively with a password
    // only, which no value of the row tells apart; but the admin center writes one tab per
    // file, and the file's other rows state their kind (a challenge answered, a refresh token
    // redeemed): such rows take their file's kind, and the findings are the same.
    let tenant = simulate(root.path(), "signins=entra-portal-csv");
    let (found, stderr) = detect(&logs(&tenant));
    assert_eq!(found, expected);
    assert!(
        stderr.contains("whose export does not say whether they were interactive"),
        "{stderr}"
    );
    assert!(
        stderr.contains("took the kind the other rows of their file state"),
        "{stderr}"
    );

    // A tenant whose interactive sign-ins all satisfy multifactor by a claim in the token
    // (Windows Hello, a PRT) or ask for none: no row of the interactive tab states its kind,
    // and without the audit log no `UserLoggedIn` twin tells it either. The download keeps the
    // admin center's name, which says the tab: the same findings as the Log Analytics export.
    let sign_ins_and_graph = |t: &Path| vec![t.join("signins"), t.join("graph")];
    let (expected, _) = detect(&sign_ins_and_graph(&base));
    assert!(expected.iter().any(|f| f.0 == "TT002"), "{expected:?}");
    let tabs = tenant.join("signins").join("entra-portal");
    let interactive_tab = std::fs::read_dir(&tabs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("InteractiveSignIns_"))
        })
        .expect("the interactive tab");
    let csv = std::fs::read_to_string(&interactive_tab).unwrap();
    assert!(csv.contains("\"Mobile app notification\""));
    let silent = csv.replace("\"Mobile app notification\"", "\"\"").replace(
        "\"MFA successfully completed\"",
        "\"MFA requirement satisfied by claim in the token\"",
    );
    std::fs::write(&interactive_tab, silent).unwrap();
    let (found, stderr) = detect(&sign_ins_and_graph(&tenant));
    assert_eq!(found, expected);
    assert!(!stderr.contains("root-kind-unstated"), "{stderr}");
    // Coverage counts the tab's rows as the interactive sign-ins the engine judged.
    let rows = csv.lines().count() as u64 - 1;
    let mut args = vec!["coverage".to_owned()];
    args.extend(
        sign_ins_and_graph(&tenant)
            .iter()
            .map(|p| p.to_string_lossy().into_owned()),
    );
    args.extend(["--format", "json", "--now", "2024-03-10"].map(str::to_owned));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let coverage: serde_json::Value = serde_json::from_slice(&tokentrail(&args).stdout).unwrap();
    let interactive = coverage["families"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["family"] == "sign-in:interactive")
        .expect("the interactive family");
    assert_eq!(interactive["records"], rows);
    // Renamed, the tab says nothing: its rows stay of unstated kind, sessions have no known
    // root, and the checks that need one end as unknown instead of alerting.
    std::fs::rename(&interactive_tab, tabs.join("week10.csv")).unwrap();
    let (found, stderr) = detect(&sign_ins_and_graph(&tenant));
    assert!(found.len() < expected.len(), "{found:?}");
    assert!(stderr.contains("TT003:root-kind-unstated="), "{stderr}");

    // Defender's sign-in tables have no ASN, no authentication protocol and no client
    // credential type: networks are read as address prefixes, so findings are grouped
    // differently. Both Defender containers hold the same rows and give the same findings,
    // and every injected attack is still found.
    let hunting = simulate(root.path(), "signins=defender-hunting");
    let stream = simulate(root.path(), "signins=defender-stream");
    let (h, _) = detect(&logs(&hunting));
    let (s, _) = detect(&logs(&stream));
    assert_eq!(h, s);
    assert!(recall(&hunting, root.path()).contains("1.000 (6/6)"));
}

/// Microsoft-Extractor-Suite's `Get-GraphEntraSignInLogs` writes each Graph page's `value` as
/// a JSON array, one file per page, beside the other collectors' output.
/// The OCSF findings of `tenant`'s logs, each with where its evidence was read taken out (a
/// file and a line or an index, which differ from shape to shape), and the run's stderr.
fn ocsf_placeless(tenant: &Path) -> (Vec<serde_json::Value>, String) {
    ocsf_placeless_of(&logs(tenant))
}

/// One JSON object of a log.
type Row = serde_json::Map<String, serde_json::Value>;

/// The files in `dir`, by name.
fn sorted_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// The objects of a JSON-lines file.
fn json_lines(file: &Path) -> Vec<Row> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every member name of `rows`, in the order first seen: the columns of their table.
fn columns_in_order(rows: &[Row]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for key in rows.iter().flat_map(|r| r.keys()) {
        if !columns.contains(key) {
            columns.push(key.clone());
        }
    }
    columns
}

/// The OCSF findings of `paths` without the places of their evidence, and stderr.
fn ocsf_placeless_of(paths: &[PathBuf]) -> (Vec<serde_json::Value>, String) {
    fn drop_sources(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.remove("source");
                map.values_mut().for_each(drop_sources);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(drop_sources),
            _ => {}
        }
    }
    let mut args = vec!["detect".to_owned()];
    args.extend(paths.iter().map(|p| p.to_string_lossy().into_owned()));
    args.extend(["--format", "ocsf", "--now", "2024-03-10"].map(str::to_owned));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = tokentrail(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let findings = text(&o.stdout)
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            drop_sources(&mut v);
            v
        })
        .collect();
    (findings, text(&o.stderr))
}

/// The tenant's Log Analytics tables as the Log Analytics Query API and Azure Data Explorer's
/// v1 REST API answer a query, and its logs as Elastic's integrations index them (the raw
/// record in `event.original`): the OCSF findings of the JSON lines, evidence and all, but for
/// where each record was read; ADX's tables about each query are named, not unreadable.
#[test]
fn query_api_answers_give_the_ocsf_of_the_json_lines() {
    let root = tempfile::tempdir().unwrap();
    let (expected, _) = ocsf_placeless(&simulate(root.path(), ""));
    assert!(expected.len() >= 6, "{expected:?}");
    for formats in [
        "signins=la-api,graph=la-api",
        "signins=kusto-v1,graph=kusto-v1",
        "signins=elastic,graph=elastic,ual=elastic",
    ] {
        let tenant = simulate(root.path(), formats);
        let (found, stderr) = ocsf_placeless(&tenant);
        assert!(found == expected, "{formats}: {found:#?}");
        assert!(!stderr.contains("unreadable record"), "{formats}: {stderr}");
        let o = tokentrail(&["inspect", tenant.join("signins").to_str().unwrap()]);
        let out = text(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "{out}");
        match formats.contains("kusto") {
            _ if formats.contains("elastic") => {
                assert!(out.contains("(json-lines, "), "{out}");
                let graph = tokentrail(&["inspect", tenant.join("graph").to_str().unwrap()]);
                assert!(text(&graph.stdout).contains("(elastic-hits, "), "{out}");
            }
            true => {
                assert!(out.contains("(kusto-query, "), "{out}");
                assert!(out.contains("kusto-query-info 3"), "{out}");
                assert!(out.contains("1 kusto-query-status"), "{out}");
            }
            false => {
                assert!(out.contains("(log-analytics-query, "), "{out}");
                assert!(!out.contains("kusto"), "{out}");
            }
        }
    }
}

/// A `union` of the tenant's sign-in, Graph and audit records exported without the `Type`
/// column (as a Log Analytics query that projects it away): every row carries every table's
/// columns, null (JSON) or empty (CSV) where its own table has none. Those empty columns must
/// not make a Graph request look like an audit record or a sign-in: the findings are those of
/// the tables read apart.
#[test]
fn a_union_of_tables_without_their_names_gives_the_findings_of_the_tables() {
    let root = tempfile::tempdir().unwrap();
    let tenant = simulate(root.path(), "ual=jsonl");
    let (expected, _) = ocsf_placeless(&tenant);
    assert!(expected.len() >= 6, "{expected:?}");
    let mut rows: Vec<Row> = Vec::new();
    for dir in ["signins/la", "graph/la", "ual/jsonl"] {
        for file in sorted_files(&tenant.join(dir)) {
            for mut row in json_lines(&file) {
                row.remove("Type");
                rows.push(row);
            }
        }
    }
    let columns = columns_in_order(&rows);
    let json_dir = root.path().join("union-json");
    let csv_dir = root.path().join("union-csv");
    std::fs::create_dir_all(&json_dir).unwrap();
    std::fs::create_dir_all(&csv_dir).unwrap();
    let mut lines = String::new();
    let mut csv = csv::Writer::from_path(csv_dir.join("union.csv")).unwrap();
    csv.write_record(&columns).unwrap();
    for row in &rows {
        let full: serde_json::Map<String, serde_json::Value> = columns
            .iter()
            .map(|c| (c.clone(), row.get(c).cloned().unwrap_or_default()))
            .collect();
        lines.push_str(&serde_json::to_string(&full).unwrap());
        lines.push('\n');
        let cells = columns.iter().map(|c| match row.get(c) {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        });
        csv.write_record(cells).unwrap();
    }
    csv.flush().unwrap();
    std::fs::write(json_dir.join("union.jsonl"), lines).unwrap();
    for dir in [json_dir, csv_dir] {
        let (found, stderr) = ocsf_placeless_of(std::slice::from_ref(&dir));
        assert!(found == expected, "{}: {found:#?}", dir.display());
        assert!(
            !stderr.contains("unreadable"),
            "{}: {stderr}",
            dir.display()
        );
    }
}

/// The tenant's Log Analytics tables as the portal's "Export to CSV" writes them: one file per
/// table, datetime columns named with the display time zone (`TimeGenerated [UTC+02:00]`) and
/// written in it as locale text (`3/4/2024, 12:00:18.906209 PM`), dynamic columns as JSON
/// text. Read back to UTC, they give the tables' findings, times and all; a file whose times are in a zone it does
/// not name (`[Local Time]`) is reported unreadable, never read as UTC.
#[test]
fn log_analytics_csv_exports_in_a_named_time_zone_give_the_findings_of_the_tables() {
    let root = tempfile::tempdir().unwrap();
    let tenant = simulate(root.path(), "");
    let (expected, _) = ocsf_placeless(&tenant);
    assert!(expected.len() >= 6, "{expected:?}");
    let shown = |v: &serde_json::Value| -> String {
        match v {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    };
    let is_time = |c: &str| matches!(c, "TimeGenerated" | "CreatedDateTime" | "TokenIssuedAt");
    let local = |text: &str, east: i64| -> String {
        let t =
            chrono::DateTime::parse_from_rfc3339(text).unwrap() + chrono::Duration::seconds(east);
        t.naive_utc()
            .format("%-m/%-d/%Y, %-I:%M:%S%.6f %p")
            .to_string()
    };
    for (suffix, east) in [("UTC+02:00", 7200), ("UTC", 0), ("Local Time", 3600)] {
        let out = root
            .path()
            .join(format!("csv-{}", suffix.replace([' ', '+', ':'], "_")));
        for dir in ["signins/la", "graph/la"] {
            std::fs::create_dir_all(out.join(dir)).unwrap();
            for file in sorted_files(&tenant.join(dir)) {
                let rows = json_lines(&file);
                let columns = columns_in_order(&rows);
                let csv_path = out
                    .join(dir)
                    .join(file.file_stem().unwrap())
                    .with_extension("csv");
                let mut csv = csv::Writer::from_path(csv_path).unwrap();
                csv.write_record(columns.iter().map(|c| match is_time(c) {
                    true => format!("{c} [{suffix}]"),
                    false => c.clone(),
                }))
                .unwrap();
                for row in &rows {
                    csv.write_record(columns.iter().map(|c| match (row.get(c), is_time(c)) {
                        (Some(serde_json::Value::String(t)), true) => local(t, east),
                        (Some(v), _) => shown(v),
                        (None, _) => String::new(),
                    }))
                    .unwrap();
                }
                csv.flush().unwrap();
            }
        }
        let paths = [out.join("signins"), out.join("graph"), tenant.join("ual")];
        if suffix == "Local Time" {
            let mut args = vec!["detect".to_owned()];
            args.extend(paths.iter().map(|p| p.to_string_lossy().into_owned()));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = tokentrail(&args);
            let stderr = text(&o.stderr);
            assert_eq!(o.status.code(), Some(1), "{stderr}");
            assert!(
                stderr
                    .contains("holds times in a time zone whose UTC offset the file does not give"),
                "{stderr}"
            );
        } else {
            let (found, stderr) = ocsf_placeless_of(&paths);
            assert!(found == expected, "{suffix}: {found:#?} {stderr}");
        }
    }
}

/// The tenant's Graph sign-ins saved as a script saves them: `Invoke-MgGraphRequest` (or
/// `ConvertFrom-Json`) objects piped to `Export-Csv`, every value quoted, booleans `True`, nested
/// objects flattened to `@{key=value; ...}` and lists to `System.Object[]`. Read back, they give
/// the findings of the Graph pages themselves; the build before lost each sign-in's status,
/// device and place there and found 71 findings instead of 9 in this tenant.
#[test]
fn sign_ins_export_csv_flattened_gives_the_findings_of_the_graph_pages() {
    fn flattened(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::Null => String::new(),
            serde_json::Value::Bool(true) => "True".into(),
            serde_json::Value::Bool(false) => "False".into(),
            serde_json::Value::Array(_) => "System.Object[]".into(),
            serde_json::Value::Object(map) => {
                let members: Vec<String> = map
                    .iter()
                    .map(|(k, v)| format!("{k}={}", flattened(v)))
                    .collect();
                format!("@{{{}}}", members.join("; "))
            }
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
    let root = tempfile::tempdir().unwrap();
    let tenant = simulate(root.path(), "signins=graph");
    let (expected, _) = detect(&logs(&tenant));
    assert!(expected.len() >= 6, "{expected:?}");
    let mut rows: Vec<Row> = Vec::new();
    for page in sorted_files(&tenant.join("signins/graph")) {
        let page: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(page).unwrap()).unwrap();
        for row in page["value"].as_array().unwrap() {
            rows.push(row.as_object().unwrap().clone());
        }
    }
    let columns = columns_in_order(&rows);
    let out = root.path().join("export-csv");
    std::fs::create_dir_all(&out).unwrap();
    let mut csv = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .terminator(csv::Terminator::CRLF)
        .from_path(out.join("SignIns.csv"))
        .unwrap();
    csv.write_record(&columns).unwrap();
    for row in &rows {
        csv.write_record(
            columns
                .iter()
                .map(|c| row.get(c).map(flattened).unwrap_or_default()),
        )
        .unwrap();
    }
    csv.flush().unwrap();
    let (found, stderr) = detect(&[out, tenant.join("graph"), tenant.join("ual")]);
    assert!(found == expected, "{found:#?} {stderr}");
}

fn extractor_sign_ins(tenant: &Path, out: &Path) {
    let pages = std::fs::read_dir(tenant.join("signins/graph")).unwrap();
    let dir = out.join("EntraID/20240306120000-SignInLogs");
    std::fs::create_dir_all(&dir).unwrap();
    for (n, page) in pages.enumerate() {
        let page: serde_json::Value =
            serde_json::from_slice(&std::fs::read(page.unwrap().path()).unwrap()).unwrap();
        let body = serde_json::to_string_pretty(&page["value"]).unwrap();
        std::fs::write(
            dir.join(format!("20240306120{n:03}-All-SignInLogs.json")),
            body,
        )
        .unwrap();
    }
}

#[test]
fn a_collector_folder_mixing_logs_and_objects_judges_the_logs_alone() {
    let root = tempfile::tempdir().unwrap();
    let tenant = simulate(root.path(), "signins=graph");
    let folder = root.path().join("extractor-output");
    extractor_sign_ins(&tenant, &folder);
    for family in ["graph", "ual"] {
        let o = Command::new("cp")
            .args(["-r"])
            .arg(tenant.join(family))
            .arg(folder.join(family))
            .output()
            .unwrap();
        assert!(o.status.success());
    }
    let logs_only = detect(std::slice::from_ref(&folder));
    let objects = folder.join("Objects");
    let o = Command::new("cp")
        .arg("-r")
        .arg(graph_objects())
        .arg(&objects)
        .output()
        .unwrap();
    assert!(o.status.success());

    let mixed = detect(std::slice::from_ref(&folder));
    assert_eq!(mixed.0, logs_only.0);
    assert_eq!(mixed.0, detect(&logs(&tenant)).0);
    // The same sign-ins and accesses were read.
    let counts = |stderr: &str| {
        stderr
            .lines()
            .find(|l| l.starts_with("tokentrail: read "))
            .map(|l| l.split(':').nth(2).unwrap_or_default().to_owned())
            .unwrap()
    };
    assert_eq!(counts(&mixed.1), counts(&logs_only.1));
    // Each object file is accounted for as what it is.
    for kind in [
        "security-alert",
        "security-incident",
        "device",
        "conditional-access-policy",
        "named-location",
        "risk-detection",
        "user",
    ] {
        assert!(
            mixed.1.contains(&format!(" {kind} (not relevant)")),
            "{kind}: {}",
            mixed.1
        );
    }
    assert!(!mixed.1.contains("not understood"), "{}", mixed.1);
}

#[test]
fn nothing_to_judge_exits_2_and_says_what_was_found() {
    let root = tempfile::tempdir().unwrap();
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let unrelated = root.path().join("unrelated");
    std::fs::create_dir(&unrelated).unwrap();
    std::fs::write(
        unrelated.join("package.json"),
        r#"{"name":"web","version":"1.0.0","dependencies":{"left-pad":"1.3.0"}}"#,
    )
    .unwrap();
    std::fs::write(
        unrelated.join("events.jsonl"),
        "{\"event\":\"click\",\"at\":\"2024-03-04T10:00:00Z\"}\n{\"event\":\"view\",\"at\":\"2024-03-04T10:01:00Z\"}\n",
    )
    .unwrap();
    let tenant = simulate(root.path(), "");
    let simulator_files = root.path().join("simulator-files");
    std::fs::create_dir(&simulator_files).unwrap();
    for f in ["labels.jsonl", "summary.json"] {
        std::fs::copy(tenant.join(f), simulator_files.join(f)).unwrap();
    }
    let report = root.path().join("report.html");
    let cases: [(&Path, &[&str]); 4] = [
        (&empty, &["no input files were found"]),
        (&unrelated, &["3 record(s) not understood"]),
        (
            &graph_objects(),
            &[
                "security-alert",
                "conditional-access-policy",
                "(not relevant)",
            ],
        ),
        (&simulator_files, &["simulator-labels", "simulator-summary"]),
    ];
    for (dir, found) in cases {
        let d = dir.to_str().unwrap();
        let commands: [Vec<&str>; 4] = [
            vec!["detect", d],
            vec!["coverage", d],
            vec!["report", d, "-o", report.to_str().unwrap()],
            vec!["investigate", d, "--user", "adele@contoso.example"],
        ];
        for args in commands {
            let o = tokentrail(&args);
            let stderr = text(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(o.stdout.is_empty(), "{args:?}: no all-clear on stdout");
            if found[0] != "no input files were found" {
                assert!(
                    stderr.contains("no sign-in and no access record"),
                    "{args:?}: {stderr}"
                );
            }
            for what in found {
                assert!(stderr.contains(what), "{args:?}: {what}: {stderr}");
            }
        }
        // `inspect` describes what is there, so records it does not use are no failure; but
        // a folder with no file in it is nothing read at all.
        let o = tokentrail(&["inspect", dir.to_str().unwrap()]);
        let expected = if dir == empty.as_path() { 2 } else { 0 };
        assert_eq!(
            o.status.code(),
            Some(expected),
            "inspect {d}: {}",
            text(&o.stderr),
            d = dir.display()
        );
    }
}
