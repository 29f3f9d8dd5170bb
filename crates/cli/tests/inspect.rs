//! `tokentrail inspect` end to end: exit codes, locations of unreadable records, `--json`.

mod common;

use std::path::Path;
use std::process::Output;

fn inspect(args: &[&str]) -> Output {
    common::tokentrail()
        .arg("inspect")
        .args(args)
        .output()
        .unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

const SIGN_IN: &str = r#"{"id":"4d63c1c4-c95b-4d3c-8e0a-1271fd813e00","createdDateTime":"2024-05-01T10:00:00Z","userPrincipalName":"a@contoso.example","ipAddress":"203.0.113.7","isInteractive":true,"status":{"errorCode":0}}"#;

#[test]
fn good_input_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "a.json",
        format!("{{\"value\":[{SIGN_IN}]}}").as_bytes(),
    );
    let out = inspect(&[&path]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("(odata-page, 1 records)"), "{stdout}");
    assert!(
        stdout.contains("total: 1 inputs, 1 records, 1 read"),
        "{stdout}"
    );
}

#[test]
fn a_malformed_line_exits_1_and_names_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "b.jsonl", b"{\"n\":1}\n{\"n\":\n{\"n\":3}\n");
    let out = inspect(&[&path]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("{path}:2: malformed JSON")),
        "{stdout}"
    );
}

#[test]
fn a_missing_path_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.json");
    let out = inspect(&[missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("no such file or directory"), "{stdout}");
}

#[test]
fn nothing_readable_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.json", b"");
    let garbage = write(dir.path(), "garbage.bin", &[0, 1, 2, 3, 0xff]);
    let out = inspect(&[&empty, &garbage]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("{empty}: the file is empty")),
        "{stdout}"
    );
    assert!(stdout.contains("binary data"), "{stdout}");
}

#[test]
fn no_arguments_exit_2() {
    let out = inspect(&[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn json_output_parses_and_carries_the_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "c.jsonl", b"{\"n\":1}\n[oops\n");
    let out = inspect(&["--json", &path]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["totals"]["records"], 2);
    assert_eq!(report["totals"]["unreadable"], 1);
    let file = &report["files"][0];
    assert_eq!(file["container"], "json-lines");
    assert_eq!(
        file["unreadable_records"][0]["source"]["position"]["line"],
        2
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 unreadable records"));
}

/// Relies on the decoder recognising a Graph `signIn` object.
#[test]
fn sign_ins_are_counted_by_kind_and_time_range() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "d.json", format!("[{SIGN_IN}]").as_bytes());
    let out = inspect(&["--json", &path]);
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = &report["files"][0];
    assert_eq!(file["container"], "json-array");
    assert_eq!(file["counts"][0]["family"], "sign-ins");
    assert_eq!(file["counts"][0]["kind"], "interactive");
    assert_eq!(file["counts"][0]["records"], 1);
    assert_eq!(file["time_range"]["first"], "2024-05-01T10:00:00Z");
    assert_eq!(file["shapes"]["graph-sign-in"], 1);
}

#[test]
fn count_columns_line_up_with_long_kind_names() {
    let dir = tempfile::tempdir().unwrap();
    let admin = r#"{"CreationTime":"2024-05-01T11:00:00","Id":"7e1c1a61-2b8e-4a55-a2c3-5f0c7a1d9e01","Operation":"Add member to role.","RecordType":8,"Workload":"AzureActiveDirectory","UserId":"admin@contoso.example"}"#;
    let path = write(
        dir.path(),
        "mixed.jsonl",
        format!("{SIGN_IN}\n{admin}\n").as_bytes(),
    );
    let out = inspect(&[&path]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("  other") || l.starts_with("  sign-ins") || l.contains("FAMILY"))
        .collect();
    assert_eq!(
        rows,
        [
            "  FAMILY    KIND                      RECORDS  OPERATION",
            "  sign-ins  interactive                     1  -",
            "  other     ual:AzureActiveDirectory        1  Add member to role.",
        ],
        "{stdout}"
    );
}

/// A Graph activity record (diagnostic-settings shape) requesting `uri` at `time`.
fn graph_record(time: &str, uri: &str) -> String {
    format!(
        r#"{{"time":"{time}","category":"MicrosoftGraphActivityLogs","operationName":"Microsoft Graph Activity","properties":{{"timeGenerated":"{time}","requestMethod":"GET","responseStatusCode":200,"appId":"1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c54","ipAddress":"203.0.113.7","requestUri":"{uri}","signInActivityId":"85zq8y0LqEiwGuzeh0RTsA","userId":"11111111-1111-4111-8111-111111111111","C_Idtyp":"user"}}}}"#
    )
}

/// Columns are headed, and requests that differ only by an id (a GUID, a UPN, a number) are
/// one line with `{id}`, in the text and in `--format json` (and the old `--json`), to a file
/// with `-o` as to stdout.
#[test]
fn operations_are_headed_and_ids_in_paths_grouped() {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<String> = [
        "https://graph.microsoft.com/v1.0/users/0f0e0d0c-0b0a-4909-8807-060504030201/messages",
        "https://graph.microsoft.com/v1.0/users/adele@contoso.example/messages",
        "https://graph.microsoft.com/v1.0/users/c0ffee00-0000-4000-8000-000000000001/messages",
        "https://graph.microsoft.com/v1.0/groups/123456/members",
        "https://graph.microsoft.com/v1.0/me",
    ]
    .iter()
    .enumerate()
    .map(|(i, uri)| graph_record(&format!("2024-05-01T10:0{i}:00Z"), uri))
    .collect();
    let path = write(dir.path(), "graph.jsonl", records.join("\n").as_bytes());
    let out = inspect(&[&path]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let expected = format!(
        "{path}  (json-lines, 5 records)
  shapes: diagnostic-graph-activity 5
  FAMILY          KIND            RECORDS  OPERATION
  graph-activity  graph-activity        1  GET /v1.0/groups/{{id}}/members
  graph-activity  graph-activity        1  GET /v1.0/me
  graph-activity  graph-activity        3  GET /v1.0/users/{{id}}/messages
  time: 2024-05-01T10:00:00Z to 2024-05-01T10:04:00Z

total: 1 inputs, 5 records, 5 read (graph-activity 5), 0 unreadable, 0 duplicate sign-ins dropped, 0 file problems; 2024-05-01T10:00:00Z to 2024-05-01T10:04:00Z
"
    );
    assert_eq!(stdout, expected);

    let json_file = dir.path().join("report.json");
    let to_file = inspect(&["--format", "json", "-o", json_file.to_str().unwrap(), &path]);
    assert_eq!(to_file.status.code(), Some(0), "{to_file:?}");
    assert_eq!(to_file.stdout, b"");
    let json = std::fs::read_to_string(&json_file).unwrap();
    let old_flag = inspect(&["--json", &path]);
    assert_eq!(String::from_utf8(old_flag.stdout).unwrap(), json);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let operations: Vec<(&str, u64)> = report["files"][0]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["operation"].as_str().unwrap(),
                c["records"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        operations,
        [
            ("GET /v1.0/groups/{id}/members", 1),
            ("GET /v1.0/me", 1),
            ("GET /v1.0/users/{id}/messages", 3)
        ]
    );
}

/// A Log Analytics Query API answer a responder saved (`az rest`, `Invoke-RestMethod`): read
/// row by row, named; a row that does not fit its columns is named by its index and the run
/// says so in its exit code.
#[test]
fn a_log_analytics_query_api_answer_is_read_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let answer = r#"{"tables":[{"name":"PrimaryResult","columns":[{"name":"TimeGenerated","type":"datetime"},{"name":"UserPrincipalName","type":"string"},{"name":"IPAddress","type":"string"},{"name":"UniqueTokenIdentifier","type":"string"},{"name":"SessionId","type":"string"},{"name":"Type","type":"string"}],"rows":[["2026-11-01T10:00:00Z","a@contoso.com","203.0.113.5","aEQ2qLOsqkS86zz3OHIeAA","0b9c1e2a-1111-2222-3333-444455556666","SigninLogs"]]}]}"#;
    let path = write(dir.path(), "answer.json", answer.as_bytes());
    let out = inspect(&[&path]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("(log-analytics-query, 1 records)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("shapes: log-analytics-sign-in 1"),
        "{stdout}"
    );
    assert!(!stdout.contains("not understood"), "{stdout}");

    let short = answer.replace(r#""rows":[["#, r#""rows":[["2026-11-01T10:00:00Z"],["#);
    let path = write(dir.path(), "short.json", short.as_bytes());
    let out = inspect(&[&path]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "{path}#0: row has 1 values, the table has 6 columns"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 records, 1 read (sign-ins 1)"),
        "{stdout}"
    );
}

/// An Elastic hit that kept only Elastic's own fields cannot be read; inspect says what to
/// export instead, rather than "not understood".
#[test]
fn an_elastic_document_without_its_original_record_says_what_to_export() {
    let dir = tempfile::tempdir().unwrap();
    let hit = r#"{"_index":".ds-logs-azure.signinlogs-default-2026.11.01-000001","_id":"x1","_source":{"@timestamp":"2026-11-01T10:00:00Z","ecs":{"version":"8.11.0"},"source":{"ip":"203.0.113.5"},"azure":{"signinlogs":{"category":"SignInLogs"}},"event":{"kind":"event"}}}"#;
    let path = write(
        dir.path(),
        "hits.ndjson",
        format!("{hit}\n{hit}\n").as_bytes(),
    );
    let out = inspect(&[&path]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("2 record(s) not used: 2 elastic-ecs-without-event.original (recognized, not supported). Elastic documents without event.original: re-export with the integration's preserve_original_event on, or export the raw logs"),
        "{stdout}"
    );
    assert!(!stdout.contains("not understood"), "{stdout}");
}
