//! Bad input: each case is reported with its place, and everything else is still read.
//!
//! These go through `read_paths`, so they also rely on the decoder telling malformed JSON from
//! well-formed records of an unknown kind (which are counted, not unreadable).

mod common;

use std::path::Path;

use common::{gzip, write};
use tokentrail_ingest::frame::Container;
use tokentrail_ingest::read::{ProblemKind, ReadOutcome};
use tokentrail_ingest::{read_paths, DecodedRecord, IngestReport, ReadOptions};
use tokentrail_model::Position::{self, Index, Line};

fn read(path: &Path) -> (IngestReport, Vec<DecodedRecord>) {
    let mut got = Vec::new();
    let report = read_paths(&[path], &ReadOptions::default(), &mut |r| got.push(r));
    (report, got)
}

fn places(report: &IngestReport) -> Vec<Position> {
    report.files[0]
        .unreadable_records
        .iter()
        .map(|u| u.source.position)
        .collect()
}

#[test]
fn malformed_json_line_in_the_middle() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "lines.json",
        b"{\"n\":1}\n{\"n\":2}\n{\"n\": 3,,}\n\n{\"n\":5}\n",
    );
    let (report, got) = read(&path);
    let file = &report.files[0];
    assert_eq!(file.container, Some(Container::JsonLines));
    assert_eq!(file.records, 4);
    assert_eq!(file.events, 3);
    assert_eq!(got.len(), 3);
    assert_eq!(places(&report), vec![Line(3)]);
    assert!(file.unreadable_records[0]
        .reason
        .starts_with("malformed JSON"));
    assert_eq!(
        file.unreadable_records[0].source.to_string(),
        format!("{}:3", path.display())
    );
    assert_eq!(report.outcome(), ReadOutcome::Partial);
}

#[test]
fn truncated_gzip_keeps_what_was_read_and_says_how_far() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for n in 0..20_000 {
        text.push_str(&format!("{{\"n\":{n},\"pad\":\"{:x}\"}}\n", n * 7919));
    }
    let gz = gzip(text.as_bytes());
    let path = write(dir.path(), "cut.json.gz", &gz[..gz.len() / 2]);
    let (report, got) = read(&path);
    let file = &report.files[0];
    assert_eq!(file.container, Some(Container::JsonLines));
    assert_eq!(file.unreadable, 0);
    assert!(
        file.events > 1000 && file.events < 20_000,
        "{}",
        file.events
    );
    assert_eq!(got.len() as u64, file.events);
    assert_eq!(file.problems.len(), 1);
    let problem = &file.problems[0];
    assert_eq!(problem.kind, ProblemKind::Truncated);
    assert!(
        problem
            .message
            .starts_with("gzip stream: read error at byte "),
        "{}",
        problem.message
    );
    // The line reached is the one after the last complete record.
    assert_eq!(problem.line, Some(file.events + 1));
    assert_eq!(report.outcome(), ReadOutcome::Partial);
}

#[test]
fn binary_garbage_is_unrecognized() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "blob.json",
        &[0x00, 0xff, 0x13, 0x37, b',', 0x80, 0x01, 0x02, 0x03, b'\n'],
    );
    let (report, got) = read(&path);
    let file = &report.files[0];
    assert!(got.is_empty());
    assert_eq!(file.container, Some(Container::Unrecognized));
    assert_eq!(file.problems.len(), 1);
    assert_eq!(file.problems[0].kind, ProblemKind::Unrecognized);
    assert_eq!(
        file.problems[0].message,
        "not a format tokentrail reads: binary data (starts with 00 ff 13 37 2c 80 01 02)"
    );
    assert_eq!(report.outcome(), ReadOutcome::NothingReadable);
}

#[test]
fn broken_csv_quoting_reports_the_row_where_the_quote_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "export.csv",
        b"TimeGenerated,OperationName,Category\n\
          2024-01-01T00:00:00Z,Sign-in activity,Other\n\
          2024-01-01T00:00:01Z,\"Sign-in activity,Other\n\
          2024-01-01T00:00:02Z,Sign-in activity,Other\n",
    );
    let (report, _) = read(&path);
    let file = &report.files[0];
    assert_eq!(file.container, Some(Container::Csv));
    assert_eq!(file.records, 2);
    assert_eq!(places(&report), vec![Line(3)]);
    assert_eq!(
        file.unreadable_records[0].reason,
        "unclosed quote: a quoted field runs from this row to the end of the file"
    );
}

#[test]
fn invalid_utf8_does_not_stop_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // Line 2 is not UTF-8 text; the lines around it are still read.
    let path = write(
        dir.path(),
        "latin1.json",
        b"{\"n\":1}\n\xff\xfe{\"n\":\"Jos\xe9\"}\n{\"n\":3}\n",
    );
    let (report, got) = read(&path);
    let file = &report.files[0];
    assert_eq!(file.container, Some(Container::JsonLines));
    assert_eq!(file.records, 3);
    assert_eq!(got.len(), 2);
    assert_eq!(places(&report), vec![Line(2)]);

    // In CSV, a row with invalid UTF-8 in a column is one unreadable row.
    let path = write(
        dir.path(),
        "latin1.csv",
        b"TimeGenerated,OperationName\n2024-01-01T00:00:00Z,a\n2024-01-01T00:00:01Z,Jos\xe9\n2024-01-01T00:00:02Z,c\n",
    );
    let (report, got) = read(&path);
    let file = &report.files[0];
    assert_eq!(file.container, Some(Container::Csv));
    assert_eq!(file.records, 3);
    assert_eq!(got.len(), 2);
    assert_eq!(places(&report), vec![Line(3)]);
}

/// A CSV row after empty lines is reported at its own line, with LF and CRLF line ends and
/// with a lone CR (before, a row after two empty lines was placed on the empty line before it).
#[test]
fn csv_rows_after_empty_lines_are_reported_at_their_own_line() {
    let dir = tempfile::tempdir().unwrap();
    for (name, end) in [("lf.csv", "\n"), ("crlf.csv", "\r\n"), ("cr.csv", "\r")] {
        let text = [
            "TimeGenerated,OperationName,Extra",
            "2024-01-01T00:00:00Z,a,1",
            "",
            "",
            "short row",
            "2024-01-01T00:00:01Z,b,2",
            "",
            "2024-01-01T00:00:02Z,\"c\"x,3",
            "also short",
        ]
        .join(end);
        let path = write(dir.path(), name, text.as_bytes());
        let (report, got) = read(&path);
        assert_eq!(report.files[0].container, Some(Container::Csv), "{name}");
        assert_eq!(got.len(), 3, "{name}");
        // A lone CR ends a row but is no line: that file is one line.
        let expected = if end == "\r" {
            vec![Line(1), Line(1)]
        } else {
            vec![Line(5), Line(9)]
        };
        assert_eq!(places(&report), expected, "{name}");
    }
}

#[test]
fn an_empty_file_is_reported_as_unreadable_input() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.json", b"");
    let blank = write(dir.path(), "blank.json", b"\xEF\xBB\xBF \r\n\n");
    for path in [&empty, &blank] {
        let (report, _) = read(path);
        let file = &report.files[0];
        assert_eq!(file.container, Some(Container::Empty));
        assert_eq!(file.records, 0);
        assert_eq!(file.problems.len(), 1);
        assert_eq!(file.problems[0].kind, ProblemKind::Empty);
        assert_eq!(file.problems[0].message, "the file is empty");
        assert_eq!(report.outcome(), ReadOutcome::NothingReadable);
    }
    // Next to a readable file, an empty one makes the run partial (exit code 1).
    let good = write(dir.path(), "good.json", b"{\"n\":1}\n");
    let report = read_paths(&[&good, &empty], &ReadOptions::default(), &mut |_| {});
    assert_eq!(report.totals.problems, 1);
    assert_eq!(report.outcome(), ReadOutcome::Partial);
}

#[test]
fn a_single_100_mb_line_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = Vec::with_capacity(100 * 1024 * 1024 + 64);
    text.extend_from_slice(b"{\"n\":1}\n{\"blob\":\"");
    text.resize(text.len() + 100 * 1024 * 1024, b'a');
    text.extend_from_slice(b"\"}\n{\"n\":3}\n");
    let path = write(dir.path(), "big.json", &text);
    drop(text);
    let (report, got) = read(&path);
    let file = &report.files[0];
    assert_eq!(file.container, Some(Container::JsonLines));
    assert_eq!(file.records, 3);
    assert_eq!(file.unreadable, 0);
    assert!(file.problems.is_empty());
    assert_eq!(got.len(), 3);
}

#[test]
fn a_json_array_cut_off_in_the_middle() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "cut.json",
        b"[\n  {\"n\":0},\n  {\"n\":1},\n  {\"n\":2, \"tail\": [1, 2",
    );
    let (report, got) = read(&path);
    let file = &report.files[0];
    assert_eq!(file.container, Some(Container::JsonArray));
    assert_eq!(got.len(), 2);
    assert_eq!(file.records, 3);
    assert_eq!(places(&report), vec![Index(2)]);
    assert_eq!(
        file.unreadable_records[0].reason,
        "record cut off by the end of the input"
    );
    assert_eq!(file.problems.len(), 1);
    assert_eq!(file.problems[0].kind, ProblemKind::Truncated);
    assert_eq!(
        file.problems[0].message,
        "the input ends at byte 47 (line 4) inside a JSON array"
    );
    assert_eq!(file.problems[0].line, Some(4));
}

#[test]
fn a_missing_path_makes_nothing_readable() {
    let dir = tempfile::tempdir().unwrap();
    let (report, _) = read(&dir.path().join("absent.json"));
    assert_eq!(report.files[0].problems[0].kind, ProblemKind::NotFound);
    assert_eq!(report.outcome(), ReadOutcome::NothingReadable);
}
