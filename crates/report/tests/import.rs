//! Findings written by the renderers and read back by `import`: OCSF comes back as the same
//! findings; CSV rows come back as findings that render the same CSV and the same table.

mod common;

use std::io::Cursor;
use std::sync::Arc;

use tokentrail_model::{Position, SourceRef};
use tokentrail_report::csv::{write_csv, COLUMNS};
use tokentrail_report::import::{read_csv, read_json, UnreadableFinding};
use tokentrail_report::ocsf::{write_ocsf_lines, OcsfOptions};
use tokentrail_report::table::{write_table, TableOptions};

fn name(text: &str) -> Arc<str> {
    Arc::from(text)
}

fn ocsf(findings: &[tokentrail_model::Finding]) -> Vec<u8> {
    let mut out = Vec::new();
    write_ocsf_lines(&mut out, findings, &OcsfOptions::default()).expect("ocsf");
    out
}

fn csv(findings: &[tokentrail_model::Finding]) -> Vec<u8> {
    let mut out = Vec::new();
    write_csv(&mut out, findings).expect("csv");
    out
}

fn table(findings: &[tokentrail_model::Finding]) -> String {
    let mut out = Vec::new();
    let options = TableOptions {
        color: false,
        show_suppressed: true,
        investigate: None,
    };
    write_table(&mut out, findings, &options).expect("table");
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn ocsf_lines_come_back_as_the_same_findings() {
    let findings = common::all();
    let imported = read_json(Cursor::new(ocsf(&findings)), &name("f.jsonl")).expect("read");
    assert_eq!(imported.unreadable, []);
    assert_eq!(imported.findings, findings);
}

#[test]
fn csv_rows_render_the_same_csv_and_table() {
    let findings = common::all();
    let written = csv(&findings);
    let imported = read_csv(Cursor::new(&written), &name("f.csv")).expect("read");
    assert_eq!(imported.unreadable, []);
    assert_eq!(imported.findings.len(), findings.len());
    assert_eq!(
        String::from_utf8(csv(&imported.findings)).expect("utf-8"),
        String::from_utf8(written).expect("utf-8")
    );
    assert_eq!(table(&imported.findings), table(&findings));
}

/// A row carries no evidence groups: its counts become one group over its time span, and its
/// issuing sign-in cites the row.
#[test]
fn a_csv_row_keeps_its_counts_and_cites_itself_for_the_issuing_sign_in() {
    let findings = vec![common::tt001()];
    let imported = read_csv(Cursor::new(csv(&findings)), &name("spark.csv")).expect("read");
    let f = &imported.findings[0];
    let original = &findings[0];
    assert_eq!(f.accesses.len(), 1);
    let group = &f.accesses[0];
    assert_eq!(
        (group.records, group.operations),
        (
            original.accesses.iter().map(|a| a.records).sum(),
            original.accesses.iter().map(|a| a.operations).sum()
        )
    );
    assert_eq!(
        (group.first_seen, group.last_seen),
        (f.first_seen, f.last_seen)
    );
    assert_eq!(group.network, original.network);
    let issue = f.issue.as_ref().expect("issue");
    let original_issue = original.issue.as_ref().expect("issue");
    assert_eq!(
        issue.source,
        SourceRef {
            file: name("spark.csv"),
            position: Position::Line(2)
        }
    );
    assert_eq!(
        (
            &issue.sign_in_id,
            issue.kind,
            issue.time,
            issue.ip,
            issue.network
        ),
        (
            &original_issue.sign_in_id,
            original_issue.kind,
            original_issue.time,
            original_issue.ip,
            original_issue.network
        )
    );
}

/// Spark's `df.write.json` writes flat objects, leaving nulls out and numbers unquoted.
#[test]
fn flat_json_rows_read_as_csv_rows() {
    let findings = common::all();
    let written = csv(&findings);
    let mut reader = ::csv::Reader::from_reader(Cursor::new(&written));
    let mut lines = String::new();
    for row in reader.records() {
        let row = row.expect("row");
        let mut object = serde_json::Map::new();
        for (column, value) in COLUMNS.iter().zip(row.iter()) {
            if value.is_empty() {
                continue;
            }
            let value = match *column {
                "records" | "operations" => serde_json::json!(value.parse::<u64>().expect("n")),
                "network_approximate" => serde_json::json!(value == "true"),
                _ => serde_json::json!(value),
            };
            object.insert((*column).to_owned(), value);
        }
        lines.push_str(&serde_json::Value::Object(object).to_string());
        lines.push('\n');
    }
    let from_json = read_json(Cursor::new(lines), &name("part-0.json")).expect("read");
    assert_eq!(from_json.unreadable, []);
    assert_eq!(
        String::from_utf8(csv(&from_json.findings)).expect("utf-8"),
        String::from_utf8(written).expect("utf-8")
    );
}

#[test]
fn unreadable_rows_are_listed_with_their_line_and_the_others_read() {
    let text = "\u{feff}id,rule,severity,confidence,first_seen,last_seen,src_ip\n\
        a,TT001,high,high,2026-11-30T10:00:00Z,2026-11-30T11:00:00Z,198.51.100.7\n\
        b,TT009,high,high,2026-11-30T10:00:00Z,2026-11-30T11:00:00Z,\n\
        c,TT002,severe,high,2026-11-30T10:00:00Z,2026-11-30T11:00:00Z,\n\
        d,TT003,medium,low,yesterday,2026-11-30T11:00:00Z,\n\
        e,TT004,low,low,2026-11-30T10:00:00Z,2026-11-30T11:00:00Z,not-an-ip\n\
        f,token-replay,HIGH,Medium,2026-11-30T10:00:00Z,2026-11-30T11:00:00Z,\n";
    let imported = read_csv(Cursor::new(text), &name("f.csv")).expect("read");
    let ids: Vec<&str> = imported.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["a", "f"]);
    let at = |line| SourceRef {
        file: name("f.csv"),
        position: Position::Line(line),
    };
    assert_eq!(
        imported.unreadable,
        [
            UnreadableFinding {
                place: at(3),
                reason: "rule: unknown rule \"TT009\"".into()
            },
            UnreadableFinding {
                place: at(4),
                reason: "severity: unknown severity \"severe\"".into()
            },
            UnreadableFinding {
                place: at(5),
                reason: "first_seen: not a time: \"yesterday\"".into()
            },
            UnreadableFinding {
                place: at(6),
                reason: "src_ip: not an address: \"not-an-ip\"".into()
            },
        ]
    );
}

#[test]
fn a_table_without_the_finding_columns_is_refused_whole() {
    let err = read_csv(
        Cursor::new("RecordId,CreationDate\n1,2\n"),
        &name("audit.csv"),
    )
    .expect_err("not findings");
    assert_eq!(
        err.to_string(),
        "audit.csv:1: not a findings table: no column id, rule, severity, confidence, \
         first_seen, last_seen (the columns are those of `detect --format csv`)"
    );
}

#[test]
fn json_lines_name_each_bad_line() {
    let good = String::from_utf8(ocsf(&[common::minimal()])).expect("utf-8");
    let text = format!("{good}\n{{\"class_uid\": 2004}}\nnot json\n{{\"user\": \"x\"}}\n");
    let imported = read_json(Cursor::new(text), &name("f.jsonl")).expect("read");
    assert_eq!(imported.findings, [common::minimal()]);
    let reasons: Vec<(String, &str)> = imported
        .unreadable
        .iter()
        .map(|u| (u.place.to_string(), u.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 3);
    assert_eq!(reasons[0].0, "f.jsonl:3");
    assert_eq!(reasons[0].1, "no /finding_info/analytic/uid");
    assert_eq!(reasons[1].0, "f.jsonl:4");
    assert!(
        reasons[1].1.starts_with("malformed JSON"),
        "{}",
        reasons[1].1
    );
    assert_eq!(reasons[2].0, "f.jsonl:5");
    assert_eq!(
        reasons[2].1,
        "neither an OCSF finding (no class_uid) nor a findings row (no id, rule, severity, \
         confidence, first_seen, last_seen)"
    );
}

#[test]
fn a_record_place_reads_back_whatever_its_file_name_holds() {
    for text in [
        "a.json:12",
        "b.json#0",
        "C:\\exports\\x.json:3",
        "odd#name:7",
        "z.zip!m.json#4",
    ] {
        let place = SourceRef::parse(text).expect(text);
        assert_eq!(place.to_string(), text);
    }
    assert_eq!(
        SourceRef::parse("odd#name:7").map(|s| s.position),
        Some(Position::Line(7))
    );
    for text in ["a.json", "a.json:", "a.json:+3", "a.json:x"] {
        assert_eq!(SourceRef::parse(text), None, "{text}");
    }
}
