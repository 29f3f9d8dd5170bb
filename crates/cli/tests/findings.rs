//! `tokentrail findings`: findings written by `detect` (OCSF or CSV) and read back render the
//! same as `detect` renders them; HTML without logs; bad rows and bad files.

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

fn run(command: &mut Command) -> (Option<i32>, String, String) {
    let out = command.output().expect("run tokentrail");
    (
        out.status.code(),
        String::from_utf8(out.stdout).expect("utf-8"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `detect --format FORMAT` over the example tenant: its stdout.
fn detect(format: &str) -> String {
    let (code, stdout, stderr) = run(common::tokentrail()
        .args(["detect", "--format", format])
        .args(common::example_tenant()));
    assert_eq!(code, Some(0), "{stderr}");
    stdout
}

fn findings(input: &Path, format: &str) -> String {
    let (code, stdout, stderr) = run(common::tokentrail()
        .args(["findings", "--format", format])
        .arg(input));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stderr, "");
    stdout
}

#[test]
fn ocsf_from_detect_renders_as_detect_in_every_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ocsf = detect("ocsf");
    assert!(ocsf.lines().count() > 5, "{ocsf}");
    let file = dir.path().join("findings.jsonl");
    std::fs::write(&file, &ocsf).expect("write");
    for format in ["ocsf", "csv"] {
        assert_eq!(findings(&file, format), detect(format), "{format}");
    }
    // Markdown says how to open each finding: over the logs for `detect`, over a placeholder
    // for `findings`.
    let tenant = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/tenant");
    let over_logs = format!("tokentrail investigate {tenant}/signins {tenant}/graph {tenant}/ual");
    let from_detect = detect("markdown");
    assert!(
        from_detect.contains(&format!("- Investigate: `{over_logs} --finding b72c7366`")),
        "{from_detect}"
    );
    assert_eq!(
        findings(&file, "markdown"),
        from_detect.replace(&over_logs, "tokentrail investigate LOGS")
    );
    assert_same_table(&findings(&file, "table"), &detect("table"));
}

/// The same table, each ending with the command to run next: over the logs for `detect`,
/// over a placeholder for `findings`, which does not know them.
fn assert_same_table(from_findings: &str, from_detect: &str) {
    let (table, next) = from_findings
        .trim_end()
        .rsplit_once('\n')
        .expect("a table and a next line");
    let (detect_table, detect_next) = from_detect
        .trim_end()
        .rsplit_once('\n')
        .expect("a table and a next line");
    assert_eq!(table, detect_table);
    let tenant = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/tenant");
    assert_eq!(
        detect_next,
        format!(
            "next: tokentrail investigate {tenant}/signins {tenant}/graph {tenant}/ual --finding b72c7366"
        )
    );
    assert_eq!(next, "next: tokentrail investigate LOGS --finding b72c7366");
}

#[test]
fn csv_from_detect_renders_the_same_csv_and_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = detect("csv");
    let file = dir.path().join("findings.csv");
    std::fs::write(&file, &csv).expect("write");
    assert_eq!(findings(&file, "csv"), csv);
    assert_same_table(&findings(&file, "table"), &detect("table"));
}

#[test]
fn findings_read_from_standard_input() {
    let csv = detect("csv");
    let mut child = common::tokentrail()
        .args(["findings", "--format", "csv", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(csv.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).expect("utf-8"), csv);
}

/// A folder as Spark writes a table: part files, with `_SUCCESS` and hidden `.crc` files that
/// are not findings.
#[test]
fn a_folder_of_part_files_reads_as_one_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = detect("csv");
    let mut lines = csv.lines();
    let header = lines.next().expect("header");
    let rows: Vec<&str> = lines.collect();
    let (first, second) = rows.split_at(rows.len() / 2);
    let table = dir.path().join("findings");
    std::fs::create_dir(&table).expect("mkdir");
    for (name, part) in [("part-00000.csv", first), ("part-00001.csv", second)] {
        std::fs::write(table.join(name), format!("{header}\n{}\n", part.join("\n"))).expect("w");
    }
    std::fs::write(table.join("_SUCCESS"), "").expect("w");
    std::fs::write(table.join(".part-00000.csv.crc"), "\x00\x01").expect("w");
    assert_eq!(findings(&table, "csv"), csv);
}

#[test]
fn html_of_imported_findings_says_it_has_no_logs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("findings.jsonl");
    let ocsf = detect("ocsf");
    std::fs::write(&file, &ocsf).expect("write");
    let (code, html, stderr) = run(common::tokentrail()
        .args([
            "findings",
            "--format",
            "html",
            "--now",
            "2026-12-01T00:00:00Z",
        ])
        .arg(&file));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(html.contains("<title>tokentrail report 2026-12-01T00:00:00Z</title>"));
    assert!(html.contains(
        "<p>Findings imported from 1 file(s), without their logs: no coverage verdicts, and \
         each finding is drawn from its own evidence.</p>"
    ));
    assert!(!html.contains("id=\"coverage\""));
    assert!(!html.contains("id=\"inventory\""));
    let ids: Vec<String> = ocsf
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            v["finding_info"]["uid"].as_str().expect("uid").to_owned()
        })
        .collect();
    for id in &ids {
        assert!(
            html.contains(&format!(">{id}</a>")),
            "{id} not in the report"
        );
    }
    assert_eq!(
        html.matches("<article class=\"finding\"").count(),
        ids.len()
    );
    // The inputs table lists the file and its findings.
    assert!(html.contains(&format!(
        "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">0</td></tr>",
        file.display(),
        ids.len()
    )));
}

#[test]
fn unreadable_rows_are_listed_and_exit_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = detect("csv");
    let mut lines: Vec<String> = csv.lines().map(str::to_owned).collect();
    let total = lines.len() - 1;
    // The second finding gets a rule that does not exist.
    lines[2] = lines[2].replacen(",TT00", ",TT90", 1);
    let file = dir.path().join("findings.csv");
    std::fs::write(&file, lines.join("\n") + "\n").expect("write");
    let (code, stdout, stderr) = run(common::tokentrail()
        .args(["findings", "--format", "csv"])
        .arg(&file));
    assert_eq!(code, Some(1));
    assert_eq!(
        stdout.lines().count(),
        total,
        "header and the readable rows"
    );
    let rule = lines[2].split(',').nth(1).expect("rule").to_owned();
    assert_eq!(
        stderr,
        format!(
            "{}:3: rule: unknown rule \"{rule}\"\ntokentrail: 1 unreadable finding row(s) in 1 \
             input(s)\n",
            file.display()
        )
    );
}

#[test]
fn a_file_that_is_not_a_findings_table_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("audit.csv");
    std::fs::write(&file, "RecordId,CreationDate\n1,2\n").expect("write");
    let (code, stdout, stderr) = run(common::tokentrail().args(["findings"]).arg(&file));
    assert_eq!(code, Some(2));
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        format!(
            "tokentrail: error: {}:1: not a findings table: no column id, rule, severity, \
             confidence, first_seen, last_seen (the columns are those of `detect --format \
             csv`)\n",
            file.display()
        )
    );
}
