//! Framing: every container, cut into records with exact positions, without decoding.

mod common;

use common::{frame_bytes, frame_default, frame_paths, gzip, ok, write, zip};
use proptest::prelude::*;
use tokentrail_ingest::frame::{Container, FrameOptions};
use tokentrail_ingest::{read_paths, ReadOptions};
use tokentrail_model::Position::{Index, Line};

#[test]
fn json_lines_skip_blank_lines_and_number_from_one() {
    let f = frame_default(b"{\"a\":1}\n\n{\"b\":2}\r\n  \n  {\"c\":3}  ");
    assert_eq!(f.container, Container::JsonLines);
    assert_eq!(f.error, None);
    assert_eq!(
        f.items,
        vec![
            ok(Line(1), "{\"a\":1}"),
            ok(Line(3), "{\"b\":2}"),
            ok(Line(5), "{\"c\":3}")
        ]
    );
}

#[test]
fn json_lines_with_a_malformed_first_line_are_still_lines() {
    let f = frame_default(b"{\"a\": [1,\n{\"b\":2}\n");
    assert_eq!(f.container, Container::JsonLines);
    assert_eq!(
        f.items,
        vec![ok(Line(1), "{\"a\": [1,"), ok(Line(2), "{\"b\":2}")]
    );
}

#[test]
fn json_array_elements_are_cut_without_parsing() {
    let f = frame_default(b" [ {\"a\":[1,2]},\n {\"b\":\"]}\\\"\"} ,{}, 7 ]\n");
    assert_eq!(f.container, Container::JsonArray);
    assert_eq!(f.error, None);
    assert_eq!(
        f.items,
        vec![
            ok(Index(0), "{\"a\":[1,2]}"),
            ok(Index(1), "{\"b\":\"]}\\\"\"}"),
            ok(Index(2), "{}"),
            ok(Index(3), "7"),
        ]
    );
}

#[test]
fn empty_array_is_read_and_has_no_records() {
    let f = frame_default(b"[]");
    assert_eq!(f.container, Container::JsonArray);
    assert_eq!(f.error, None);
    assert!(f.items.is_empty());
}

#[test]
fn odata_page_streams_value() {
    let page = br#"{
  "@odata.context": "https://graph.microsoft.com/beta/$metadata#auditLogs/signIns",
  "value": [
    {"id": "1", "nested": {"value": [9]}},
    {"id": "2"}
  ],
  "@odata.nextLink": "https://graph.microsoft.com/beta/auditLogs/signIns?$skiptoken=x"
}"#;
    let f = frame_default(page);
    assert_eq!(f.container, Container::OdataPage);
    assert_eq!(f.error, None);
    assert_eq!(
        f.items,
        vec![
            ok(Index(0), r#"{"id": "1", "nested": {"value": [9]}}"#),
            ok(Index(1), r#"{"id": "2"}"#)
        ]
    );
}

#[test]
fn records_envelope_with_the_array_not_first() {
    let env =
        br#"{"other": {"records": [1]}, "note": "[{", "records": [{"a":1},{"b":2}], "z": [3]}"#;
    let f = frame_default(env);
    assert_eq!(f.container, Container::DiagnosticRecords);
    assert_eq!(f.error, None);
    assert_eq!(
        f.items,
        vec![ok(Index(0), r#"{"a":1}"#), ok(Index(1), r#"{"b":2}"#)]
    );
}

#[test]
fn records_envelope_with_records_at_column_zero_is_not_json_lines() {
    let env = b"{\"records\":[\n{\"a\":1},\n{\"b\":2}\n]}\n";
    let f = frame_default(env);
    assert_eq!(f.container, Container::DiagnosticRecords);
    assert_eq!(f.error, None);
    assert_eq!(
        f.items,
        vec![ok(Index(0), r#"{"a":1}"#), ok(Index(1), r#"{"b":2}"#)]
    );
}

#[test]
fn a_pretty_printed_object_is_one_record_at_its_first_line() {
    let text = "\n\n{\n  \"a\": 1,\n  \"value\": \"not an array\"\n}\n";
    let f = frame_default(text.as_bytes());
    assert_eq!(f.container, Container::JsonObject);
    assert_eq!(f.error, None);
    assert_eq!(
        f.items,
        vec![ok(
            Line(3),
            "{\n  \"a\": 1,\n  \"value\": \"not an array\"\n}"
        )]
    );
}

#[test]
fn a_single_line_object_is_one_record() {
    let f = frame_default(b"{\"input\":{\"message\":\"{\\\"a\\\":1}\"}}");
    assert_eq!(f.container, Container::JsonObject);
    assert_eq!(
        f.items,
        vec![ok(Line(1), "{\"input\":{\"message\":\"{\\\"a\\\":1}\"}}")]
    );
}

#[test]
fn a_long_first_line_followed_by_more_lines_is_json_lines() {
    // Longer than the sniffer's look-ahead: detected when the object ends and more follows.
    let long = format!("{{\"pad\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let text = format!("{long}\n{{\"b\":2}}\n");
    let f = frame_default(text.as_bytes());
    assert_eq!(f.container, Container::JsonLines);
    assert_eq!(f.items, vec![ok(Line(1), &long), ok(Line(2), "{\"b\":2}")]);
}

#[test]
fn csv_with_bom_and_multiline_quoted_field() {
    let text = "\u{feff}RecordId,CreationDate,AuditData\r\n\
                r1,2023-09-20T04:05:03 ,\"{\"\"Id\"\":\r\n\"\"a\"\"}\"\r\n\
                r2,9/20/2023 4:05:03 AM,\"{}\"\r\n";
    let f = frame_default(text.as_bytes());
    assert_eq!(f.container, Container::Csv);
    assert_eq!(f.error, None);
    assert_eq!(
        f.items,
        vec![
            ok(Line(2), "r1|2023-09-20T04:05:03 |{\"Id\":\r\n\"a\"}"),
            ok(Line(4), "r2|9/20/2023 4:05:03 AM|{}")
        ]
    );
}

#[test]
fn csv_after_blank_lines_keeps_file_line_numbers() {
    let f = frame_default(b"\n\na,b\n1,2\n\n3,4\n");
    assert_eq!(f.container, Container::Csv);
    assert_eq!(f.items, vec![ok(Line(4), "1|2"), ok(Line(6), "3|4")]);
}

#[test]
fn yaml_test_cases_only_with_the_option() {
    let yaml = b"AnalysisType: rule\nTests:\n  - Name: one\n    Log:\n      {\"a\": 1, \"b\": \"x\"}\n  - Name: two\n    Log:\n      c: [1, 2]\n  - Name: three\n";
    let f = frame_default(yaml);
    assert_eq!(f.container, Container::Unrecognized);
    assert!(f.error.unwrap().contains("--test-cases"));
    let opts = FrameOptions {
        yaml_test_cases: true,
        ..FrameOptions::default()
    };
    let f = frame_bytes(yaml, &opts);
    assert_eq!(f.container, Container::YamlTestCases);
    assert_eq!(f.error, None);
    assert_eq!(
        f.items,
        vec![
            ok(Index(0), r#"{"a":1,"b":"x"}"#),
            ok(Index(1), r#"{"c":[1,2]}"#),
            (Index(2), Err("test case has no `Log`".to_string())),
        ]
    );
}

#[test]
fn gzip_files_and_multi_member_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let mut two = gzip(b"{\"a\":1}\n");
    two.extend(gzip(b"{\"b\":2}\n"));
    // The name says nothing: compression is recognized from content.
    let path = write(dir.path(), "logs.json", &two);
    let got = frame_paths(&[&path], &FrameOptions::default());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].container, Container::JsonLines);
    assert_eq!(got[0].error, None);
    assert_eq!(
        got[0].items,
        vec![ok(Line(1), "{\"a\":1}"), ok(Line(2), "{\"b\":2}")]
    );
}

#[test]
fn zip_members_are_inputs_and_gzip_members_are_decompressed() {
    let dir = tempfile::tempdir().unwrap();
    let gz = gzip(b"[{\"g\":1},{\"g\":2}]");
    let archive = zip(&[
        ("exports/signins.json", b"{\"value\":[{\"s\":1}]}"),
        ("exports/ual.json.gz", &gz),
    ]);
    let path = write(dir.path(), "bundle.bin", &archive);
    let got = frame_paths(&[&path], &FrameOptions::default());
    let base = path.to_string_lossy();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].name, format!("{base}!exports/signins.json"));
    assert_eq!(got[0].container, Container::OdataPage);
    assert_eq!(got[0].items, vec![ok(Index(0), "{\"s\":1}")]);
    assert_eq!(got[1].name, format!("{base}!exports/ual.json.gz"));
    assert_eq!(got[1].container, Container::JsonArray);
    assert_eq!(
        got[1].items,
        vec![ok(Index(0), "{\"g\":1}"), ok(Index(1), "{\"g\":2}")]
    );
}

#[test]
fn directories_are_walked_recursively_in_sorted_order() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "b.json", b"{\"n\":2}");
    write(dir.path(), "a/z.jsonl", b"{\"n\":1}\n{\"n\":1.5}\n");
    write(dir.path(), "c/d/e.csv", b"h1,h2\n3,3\n");
    let got = frame_paths(&[dir.path()], &FrameOptions::default());
    let root = dir.path().to_string_lossy();
    let names: Vec<_> = got.iter().map(|f| f.name.clone()).collect();
    assert_eq!(
        names,
        vec![
            format!("{root}/a/z.jsonl"),
            format!("{root}/b.json"),
            format!("{root}/c/d/e.csv")
        ]
    );
    let containers: Vec<_> = got.iter().map(|f| f.container).collect();
    assert_eq!(
        containers,
        vec![Container::JsonLines, Container::JsonObject, Container::Csv]
    );
    assert_eq!(got[2].items, vec![ok(Line(2), "3|3")]);
}

#[test]
fn a_missing_path_is_reported_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let got = frame_paths(&[&missing], &FrameOptions::default());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].error.as_deref(), Some("no such file or directory"));
}

#[test]
fn a_record_over_the_limit_is_skipped_and_reported() {
    let opts = FrameOptions {
        max_record_bytes: 16,
        ..FrameOptions::default()
    };
    let f = frame_bytes(
        b"{\"a\":1}\n{\"long\":\"0123456789abcdef\"}\n{\"c\":3}\n",
        &opts,
    );
    assert_eq!(f.container, Container::JsonLines);
    assert_eq!(
        f.items,
        vec![
            ok(Line(1), "{\"a\":1}"),
            (
                Line(2),
                Err("line longer than the limit of 16 bytes".to_string())
            ),
            ok(Line(3), "{\"c\":3}"),
        ]
    );
    let f = frame_bytes(
        b"[{\"a\":1},{\"long\":\"0123456789abcdef\"},{\"c\":3}]",
        &opts,
    );
    assert_eq!(
        f.items,
        vec![
            ok(Index(0), "{\"a\":1}"),
            (
                Index(1),
                Err("record larger than the limit of 16 bytes".to_string())
            ),
            ok(Index(2), "{\"c\":3}"),
        ]
    );
}

/// The public samples: each recognized as the container PROVENANCE.md describes.
#[test]
fn public_fixtures_containers() {
    let Some(dir) = common::public_fixtures() else {
        return;
    };
    let expect = [
        (
            "msgraph-docs/signin-list-beta-example1-response.json",
            Container::OdataPage,
            1,
        ),
        (
            "elastic-integrations/test-non-interactive-user-signin.log",
            Container::JsonObject,
            1,
        ),
        (
            "elastic-integrations/test-signinlogs-raw.log",
            Container::JsonLines,
            5,
        ),
        (
            "elastic-integrations/test-service-principal-signinlogs-sample.log",
            Container::JsonLines,
            7,
        ),
        (
            "sekoia-intake-formats/Azure-azure-ad/sign-in_activity5.json",
            Container::JsonObject,
            1,
        ),
        (
            "otrf-security-datasets/Microsoft365DefenderEvents.json",
            Container::JsonLines,
            9,
        ),
        (
            "otrf-security-datasets/AADAuditEvents.json",
            Container::JsonLines,
            4,
        ),
    ];
    for (name, container, records) in expect {
        let got = frame_paths(&[&dir.join(name)], &FrameOptions::default());
        assert_eq!(got.len(), 1, "{name}");
        assert_eq!(got[0].error, None, "{name}");
        assert_eq!(got[0].container, container, "{name}");
        assert_eq!(got[0].items.len(), records, "{name}");
        assert!(got[0].items.iter().all(|(_, r)| r.is_ok()), "{name}");
    }
    let yaml = FrameOptions {
        yaml_test_cases: true,
        ..FrameOptions::default()
    };
    let got = frame_paths(
        &[&dir.join("panther-analysis/azure_graph_session_multiple_ips.yml")],
        &yaml,
    );
    assert_eq!(got[0].container, Container::YamlTestCases);
    assert_eq!(got[0].items.len(), 3);
    assert!(got[0].items.iter().all(|(_, r)| r.is_ok()));
}

/// Found by fuzzing (issue 14, `fuzz/fuzz_targets/frame.rs`): a YAML file larger than the
/// record limit was refused when it arrived in several reads but parsed when the sniffer had
/// read it whole in one.
#[test]
fn yaml_over_the_limit_is_refused_whatever_the_reads() {
    let yaml = b"Tests:\n  - Name: one\n    Log: {\"a\": 1}\n  - Name: two\n    Log: {\"b\": 2}\n";
    let opts = FrameOptions {
        yaml_test_cases: true,
        max_record_bytes: 40,
    };
    let got = frame_bytes(yaml, &opts);
    assert_eq!(got.container, Container::YamlTestCases);
    assert!(got.items.is_empty(), "{:?}", got.items);
    assert_eq!(
        got.error.as_deref(),
        Some("YAML test cases: file larger than the limit of 40 bytes")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn framing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = frame_default(&bytes);
        let yaml = FrameOptions { yaml_test_cases: true, max_record_bytes: 64 };
        let _ = frame_bytes(&bytes, &yaml);
    }

    #[test]
    fn framing_never_panics_on_json_like_bytes(
        head in prop::sample::select(vec!["{", "[", "{\"value\":[", "{\"records\":", "a,b\n", "\u{feff}"]),
        body in proptest::collection::vec(prop::sample::select(b"{}[]\",:\\ \n\r\tab1".to_vec()), 0..512),
    ) {
        let mut bytes = head.as_bytes().to_vec();
        bytes.extend(body);
        let f = frame_default(&bytes);
        // Positions never move backwards (two values may share a line).
        let lines: Vec<_> = f.items.iter().filter_map(|(p, _)| match p { Line(n) => Some(*n), _ => None }).collect();
        prop_assert!(lines.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn read_paths_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "input", &bytes);
        let report = read_paths(&[&path], &ReadOptions::default(), &mut |_| {});
        prop_assert_eq!(report.files.len(), 1);
    }
}

/// Issue 13: containers forwarders and collectors write.
#[test]
fn forwarder_and_collector_containers() {
    // A syslog header before each JSON record; a line without one is reported.
    let f = frame_default(
        b"2025-02-02T00:27:59+08:00 HOST {\"a\":1}\n<134>Feb  2 00:28:00 host app: {\"a\":2}\n2025-02-02T00:28:01+08:00 HOST -- MARK --\n",
    );
    assert_eq!(f.container, Container::PrefixedJsonLines);
    assert_eq!(
        f.items,
        vec![
            ok(Line(1), "{\"a\":1}"),
            ok(Line(2), "{\"a\":2}"),
            (
                Line(3),
                Err("no JSON object after the line's prefix".to_string())
            ),
        ]
    );
    // A CSV header is not a prefix: its first line has commas before any brace.
    let f = frame_default(b"a,b\n1,\"{\"\"x\"\":1}\"\n");
    assert_eq!(f.container, Container::Csv);
    // Arrays one after another (PowerShell `Out-File -Append`), numbered on.
    let f = frame_default(b"[{\"a\":1},{\"a\":2}]\n[{\"a\":3}]\n");
    assert_eq!(f.container, Container::JsonArray);
    assert_eq!(
        f.items,
        vec![
            ok(Index(0), "{\"a\":1}"),
            ok(Index(1), "{\"a\":2}"),
            ok(Index(2), "{\"a\":3}"),
        ]
    );
    assert_eq!(f.error, None);
    // An advanced hunting answer streams its `Results`.
    let f = frame_default(
        b"{\"Schema\":[{\"Name\":\"a\",\"Type\":\"Int32\"}],\"Results\":[{\"a\":1},{\"a\":2}]}",
    );
    assert_eq!(f.container, Container::HuntingResults);
    assert_eq!(f.items.len(), 2);
}
