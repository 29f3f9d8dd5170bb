//! Kusto query API answers: the Log Analytics Query API's `{"tables":[...]}` and Azure Data
//! Explorer v1's `{"Tables":[...]}`. Each row is a record, decoded exactly as the same record
//! in Log Analytics JSON lines; ADX's tables about the query are read as what they are.

mod common;

use common::{frame_default, ok, write};
use tokentrail_ingest::frame::Container;
use tokentrail_ingest::read::ProblemKind;
use tokentrail_ingest::{
    read_paths, Decoded, DecodedRecord, Disposition, IngestReport, ReadOptions, Shape,
};
use tokentrail_model::Position::{Index, Line};
use tokentrail_model::{Position, SignInKind};

/// The answer a responder saved of `SigninLogs | union AADNonInteractiveUserSignInLogs`.
const LA_ANSWER: &str = r#"{"tables":[{"name":"PrimaryResult","columns":[{"name":"TimeGenerated","type":"datetime"},{"name":"UserPrincipalName","type":"string"},{"name":"IPAddress","type":"string"},{"name":"UniqueTokenIdentifier","type":"string"},{"name":"SessionId","type":"string"},{"name":"Type","type":"string"}],"rows":[["2026-11-01T10:00:00Z","a@contoso.com","203.0.113.5","aEQ2qLOsqkS86zz3OHIeAA","0b9c1e2a-1111-2222-3333-444455556666","SigninLogs"]]}]}"#;

/// The same row as a Log Analytics JSON line.
const LA_LINE: &str = r#"{"TimeGenerated":"2026-11-01T10:00:00Z","UserPrincipalName":"a@contoso.com","IPAddress":"203.0.113.5","UniqueTokenIdentifier":"aEQ2qLOsqkS86zz3OHIeAA","SessionId":"0b9c1e2a-1111-2222-3333-444455556666","Type":"SigninLogs"}"#;

/// A non-interactive sign-in row as the Query API writes it: dynamic columns as JSON text,
/// `ResultType` as text, a long as a number.
const NON_INTERACTIVE_COLUMNS: &str = r#"[{"name":"TimeGenerated","type":"datetime"},{"name":"Id","type":"string"},{"name":"UserId","type":"string"},{"name":"UserPrincipalName","type":"string"},{"name":"AppId","type":"string"},{"name":"IPAddress","type":"string"},{"name":"ResultType","type":"string"},{"name":"DeviceDetail","type":"dynamic"},{"name":"Status","type":"dynamic"},{"name":"LocationDetails","type":"dynamic"},{"name":"DurationMs","type":"long"},{"name":"IsInteractive","type":"bool"},{"name":"Type","type":"string"}]"#;
const NON_INTERACTIVE_ROW: &str = r#"["2026-11-01T10:05:00.1234567Z","8c1e3d4f-0000-4000-8000-000000000001","d1e2f3a4-0000-4000-8000-00000000000a","a@contoso.com","d3590ed6-52b3-4102-aeff-aad2292ab01c","198.51.100.9","0","{\"deviceId\":\"e5f6a7b8-0000-4000-8000-0000000000d1\",\"isManaged\":true,\"trustType\":\"Azure AD joined\"}","{\"errorCode\":0}","{\"countryOrRegion\":\"GB\",\"city\":\"London\"}",0,false,"AADNonInteractiveUserSignInLogs"]"#;

fn read(dir: &std::path::Path, name: &str, bytes: &[u8]) -> (Vec<DecodedRecord>, IngestReport) {
    let path = write(dir, name, bytes);
    let mut records = Vec::new();
    let report = read_paths(&[path], &ReadOptions::default(), &mut |r| records.push(r));
    (records, report)
}

/// The records with where they were read from taken out, for comparing two shapes.
fn placeless(records: Vec<DecodedRecord>) -> Vec<DecodedRecord> {
    let nowhere = tokentrail_model::SourceRef {
        file: "-".into(),
        position: Position::Line(0),
    };
    records
        .into_iter()
        .map(|mut r| {
            match &mut r.event {
                Decoded::SignIn(s) => s.source = nowhere.clone(),
                Decoded::Access(a) => a.source = nowhere.clone(),
                Decoded::Other(_) => {}
            }
            r
        })
        .collect()
}

fn unreadable(report: &IngestReport) -> Vec<(Position, String)> {
    report.files[0]
        .unreadable_records
        .iter()
        .map(|u| (u.source.position, u.reason.clone()))
        .collect()
}

#[test]
fn a_log_analytics_answer_row_is_the_same_record_as_its_json_line() {
    let dir = tempfile::tempdir().unwrap();
    let (rows, report) = read(dir.path(), "answer.json", LA_ANSWER.as_bytes());
    assert_eq!(
        report.files[0].container,
        Some(Container::LogAnalyticsQuery)
    );
    assert!(report.files[0].is_clean(), "{report:?}");
    let (lines, _) = read(dir.path(), "lines.jsonl", format!("{LA_LINE}\n").as_bytes());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].shape, Shape::LogAnalyticsSignIn);
    let Decoded::SignIn(s) = &rows[0].event else {
        panic!("{rows:?}")
    };
    assert_eq!(s.kind, SignInKind::Interactive);
    assert_eq!(s.source.to_string(), format!("{}#0", report.files[0].file));
    assert_eq!(placeless(rows), placeless(lines));

    // Dynamic columns as JSON text, numbers and booleans as the API types them.
    let answer = format!(
        r#"{{"tables":[{{"name":"PrimaryResult","columns":{NON_INTERACTIVE_COLUMNS},"rows":[{NON_INTERACTIVE_ROW}]}}]}}"#
    );
    let (rows, report) = read(dir.path(), "non-interactive.json", answer.as_bytes());
    assert!(report.files[0].is_clean(), "{report:?}");
    let Decoded::SignIn(s) = &rows[0].event else {
        panic!("{rows:?}")
    };
    assert_eq!(s.kind, SignInKind::NonInteractive);
    assert_eq!(s.country.as_deref(), Some("GB"));
    assert_eq!(s.device.is_managed, Some(true));
    assert_eq!(s.error_code, Some(0));
}

#[test]
fn rows_are_numbered_on_across_tables_and_short_rows_are_unreadable_with_their_index() {
    let answer = br#"{"tables":[
 {"name":"PrimaryResult","columns":[{"name":"A","type":"string"},{"name":"B","type":"long"}],
  "rows":[["x",1],["short"],["y",2,3],{"A":"z"},["w",null]]},
 {"name":"Second","columns":[{"name":"C","type":"dynamic"}],"rows":[["{\"k\":[1]}"]]}
],"statistics":{"query":{"executionTime":0.1}}}"#;
    let f = frame_default(answer);
    assert_eq!(f.container, Container::LogAnalyticsQuery);
    assert_eq!(f.error, None);
    assert_eq!(
        f.items,
        vec![
            ok(Index(0), r#"{"A":"x","B":1}"#),
            (
                Index(1),
                Err("row has 1 values, the table has 2 columns".into())
            ),
            (
                Index(2),
                Err("row has 3 values, the table has 2 columns".into())
            ),
            (Index(3), Err("row: not a JSON array".into())),
            ok(Index(4), r#"{"A":"w","B":null}"#),
            ok(Index(5), r#"{"C":"{\"k\":[1]}"}"#),
        ]
    );
}

#[test]
fn rows_before_their_columns_and_a_table_without_columns() {
    let answer = br#"{"tables":[
 {"rows":[["x"],["y","z"]],"name":"PrimaryResult","columns":[{"name":"A","type":"string"}]},
 {"name":"NoColumns","rows":[["q"]]}
]}"#;
    let f = frame_default(answer);
    assert_eq!(f.error, None);
    assert_eq!(
        f.items,
        vec![
            ok(Index(0), r#"{"A":"x"}"#),
            (
                Index(1),
                Err("row has 2 values, the table has 1 columns".into())
            ),
            (Index(2), Err("the table has no columns".into())),
        ]
    );
}

/// An ADX v1 answer: the query's table, then `@ExtendedProperties`, `QueryStatus` and the
/// table of contents (column names from the Azure Data Explorer "Query V1 response").
const ADX_ANSWER: &str = r#"{"Tables":[
{"TableName":"Table_0","Columns":[{"ColumnName":"TimeGenerated","DataType":"DateTime","ColumnType":"datetime"},{"ColumnName":"UserPrincipalName","DataType":"String","ColumnType":"string"},{"ColumnName":"IPAddress","DataType":"String","ColumnType":"string"},{"ColumnName":"UniqueTokenIdentifier","DataType":"String","ColumnType":"string"},{"ColumnName":"SessionId","DataType":"String","ColumnType":"string"},{"ColumnName":"Type","DataType":"String","ColumnType":"string"}],"Rows":[["2026-11-01T10:00:00Z","a@contoso.com","203.0.113.5","aEQ2qLOsqkS86zz3OHIeAA","0b9c1e2a-1111-2222-3333-444455556666","SigninLogs"],["2026-11-01T10:00:00Z","a@contoso.com"]]},
{"TableName":"Table_1","Columns":[{"ColumnName":"Value","DataType":"String","ColumnType":"string"}],"Rows":[["{\"Visualization\":null}"]]},
{"TableName":"Table_2","Columns":[{"ColumnName":"Timestamp","DataType":"DateTime","ColumnType":"datetime"},{"ColumnName":"Severity","DataType":"Int32","ColumnType":"int"},{"ColumnName":"SeverityName","DataType":"String","ColumnType":"string"},{"ColumnName":"StatusCode","DataType":"Int32","ColumnType":"int"},{"ColumnName":"StatusDescription","DataType":"String","ColumnType":"string"}],"Rows":[["2026-11-01T10:01:00Z",4,"Info",0,"Query completed successfully"]]},
{"TableName":"Table_3","Columns":[{"ColumnName":"Ordinal","DataType":"Int64","ColumnType":"long"},{"ColumnName":"Kind","DataType":"String","ColumnType":"string"},{"ColumnName":"Name","DataType":"String","ColumnType":"string"},{"ColumnName":"Id","DataType":"String","ColumnType":"string"},{"ColumnName":"PrettyName","DataType":"String","ColumnType":"string"}],"Rows":[[0,"QueryResult","PrimaryResult","1",""],[1,"QueryProperties","@ExtendedProperties","2",""],[2,"QueryStatus","QueryStatus","3",""]]}
]}"#;

#[test]
fn adx_tables_about_the_query_are_read_as_such_never_as_unreadable_records() {
    let dir = tempfile::tempdir().unwrap();
    let (records, report) = read(dir.path(), "adx.json", ADX_ANSWER.as_bytes());
    let file = &report.files[0];
    assert_eq!(file.container, Some(Container::KustoQuery));
    assert!(file.problems.is_empty(), "{file:?}");
    assert_eq!(
        unreadable(&report),
        vec![(
            Index(1),
            "row has 2 values, the table has 6 columns".to_string()
        )]
    );
    let (lines, _) = read(dir.path(), "lines.jsonl", format!("{LA_LINE}\n").as_bytes());
    assert_eq!(placeless(records[..1].to_vec()), placeless(lines));
    let info: Vec<(Shape, Disposition, String)> = records[1..]
        .iter()
        .map(|r| match &r.event {
            Decoded::Other(o) => (r.shape, o.disposition, o.kind.clone()),
            e => panic!("{e:?}"),
        })
        .collect();
    let not_relevant = |kind: &str| {
        (
            Shape::KustoQueryInfo,
            Disposition::NotRelevant,
            kind.to_string(),
        )
    };
    assert_eq!(
        info,
        vec![
            not_relevant("kusto-query-properties"),
            not_relevant("kusto-query-status"),
            not_relevant("kusto-table-of-contents"),
        ]
    );
    assert_eq!(file.records, 5);
    assert_eq!(file.unreadable, 1);
}

#[test]
fn empty_answers_are_read_and_clean() {
    let dir = tempfile::tempdir().unwrap();
    for (name, answer) in [
        ("none.json", r#"{"tables":[]}"#),
        (
            "no-rows.json",
            r#"{"tables":[{"name":"PrimaryResult","columns":[{"name":"A","type":"string"}],"rows":[]}]}"#,
        ),
        (
            "adx-no-rows.json",
            r#"{"Tables":[{"TableName":"Table_0","Columns":[{"ColumnName":"A","DataType":"String"}],"Rows":[]}]}"#,
        ),
    ] {
        let (records, report) = read(dir.path(), name, answer.as_bytes());
        let file = &report.files[0];
        assert!(records.is_empty(), "{name}");
        assert!(file.is_clean(), "{name}: {file:?}");
        assert_eq!(file.records, 0, "{name}");
    }
}

#[test]
fn a_malformed_answer_reports_its_rows_and_reading_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    // A value that is not JSON: that row is unreadable, the next is read.
    let answer = LA_ANSWER.replace(
        r#""rows":[["#,
        r#""rows":[["2026-11-01T10:00:00Z","a@contoso.com",tru,"t","s","SigninLogs"],["#,
    );
    let (records, report) = read(dir.path(), "bad-value.json", answer.as_bytes());
    assert_eq!(records.len(), 1);
    let bad = unreadable(&report);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0].0, Index(0));
    assert!(bad[0].1.starts_with("malformed JSON"), "{bad:?}");
    assert_eq!(
        report.outcome(),
        tokentrail_ingest::read::ReadOutcome::Partial
    );

    // The answer itself broken after its first row: that row is kept, the file reported.
    let answer = LA_ANSWER.replace(r#"]]}]}"#, r#"] ["x"]]}]}"#);
    let (records, report) = read(dir.path(), "broken.json", answer.as_bytes());
    assert_eq!(records.len(), 1);
    let file = &report.files[0];
    assert_eq!(file.problems.len(), 1, "{file:?}");
    assert_eq!(file.problems[0].kind, ProblemKind::Malformed);
    assert!(
        file.problems[0]
            .message
            .contains("expected ',' or ']' after a row"),
        "{file:?}"
    );

    // Cut off inside a row: the row is reported at its index, the file as truncated.
    let cut = &LA_ANSWER[..LA_ANSWER.find("SigninLogs").unwrap()];
    let (records, report) = read(dir.path(), "cut.json", cut.as_bytes());
    assert!(records.is_empty());
    assert_eq!(
        unreadable(&report),
        vec![(Index(0), "record cut off by the end of the input".into())]
    );
    assert_eq!(report.files[0].problems[0].kind, ProblemKind::Truncated);
}

#[test]
fn answers_saved_as_json_lines_are_expanded_row_by_row() {
    let dir = tempfile::tempdir().unwrap();
    let short = LA_ANSWER.replace(r#""rows":[["#, r#""rows":[["only one value"],["#);
    let text = format!("{LA_ANSWER}\n{short}\n{}\n", ADX_ANSWER.replace('\n', ""));
    let (records, report) = read(dir.path(), "answers.jsonl", text.as_bytes());
    let file = &report.files[0];
    assert_eq!(file.container, Some(Container::JsonLines));
    let sign_ins = records
        .iter()
        .filter(|r| matches!(r.event, Decoded::SignIn(_)))
        .count();
    // One per answer; the ADX answer's sign-in is a duplicate of the first (same id), so the
    // engine sees two, and the three ADX tables about the query are not-relevant records.
    assert_eq!(sign_ins + file.duplicates as usize, 3);
    assert_eq!(
        records
            .iter()
            .filter(|r| r.shape == Shape::KustoQueryInfo)
            .count(),
        3
    );
    assert_eq!(
        unreadable(&report),
        vec![
            (
                Line(2),
                "record 0 of the envelope: query answer: row has 1 values, the table has 6 columns"
                    .into()
            ),
            (
                Line(3),
                "record 1 of the envelope: query answer: row has 2 values, the table has 6 columns"
                    .into()
            ),
        ]
    );
}

/// An Azure Data Explorer v2 answer: a JSON array of frames; each `DataTable` frame's rows are
/// records, its `QueryProperties` and `QueryCompletionInformation` tables and the head and
/// tail frames are named, and progressive fragments are named as not read.
#[test]
fn adx_v2_frames() {
    let dir = tempfile::tempdir().unwrap();
    let frames = r#"[{"FrameType":"DataSetHeader","IsProgressive":false,"Version":"v2.0"},
{"FrameType":"DataTable","TableId":0,"TableKind":"QueryProperties","TableName":"@ExtendedProperties","Columns":[{"ColumnName":"TableId","ColumnType":"int"},{"ColumnName":"Key","ColumnType":"string"},{"ColumnName":"Value","ColumnType":"dynamic"}],"Rows":[[1,"Visualization",{"Visualization":null}]]},
{"FrameType":"DataTable","TableId":1,"TableKind":"PrimaryResult","TableName":"PrimaryResult","Columns":[{"ColumnName":"TimeGenerated","ColumnType":"datetime"},{"ColumnName":"UserPrincipalName","ColumnType":"string"},{"ColumnName":"IPAddress","ColumnType":"string"},{"ColumnName":"UniqueTokenIdentifier","ColumnType":"string"},{"ColumnName":"SessionId","ColumnType":"string"},{"ColumnName":"Type","ColumnType":"string"}],"Rows":[["2026-11-01T10:00:00Z","a@contoso.com","203.0.113.5","aEQ2qLOsqkS86zz3OHIeAA","0b9c1e2a-1111-2222-3333-444455556666","SigninLogs"]]},
{"FrameType":"DataTable","TableId":2,"TableKind":"QueryCompletionInformation","TableName":"QueryCompletionInformation","Columns":[{"ColumnName":"Timestamp","ColumnType":"datetime"},{"ColumnName":"StatusCode","ColumnType":"int"}],"Rows":[["2026-11-01T10:01:00Z",0]]},
{"FrameType":"TableFragment","TableId":3,"Rows":[["x"]]},
{"FrameType":"DataSetCompletion","HasErrors":false,"Cancelled":false}]"#;
    let (records, report) = read(dir.path(), "v2.json", frames.as_bytes());
    let file = &report.files[0];
    assert!(file.is_clean(), "{file:?}");
    let (lines, _) = read(dir.path(), "lines.jsonl", format!("{LA_LINE}\n").as_bytes());
    let sign_ins: Vec<_> = records
        .iter()
        .filter(|r| matches!(r.event, Decoded::SignIn(_)))
        .cloned()
        .collect();
    assert_eq!(placeless(sign_ins), placeless(lines));
    let others: Vec<(Disposition, String)> = records
        .iter()
        .filter_map(|r| match &r.event {
            Decoded::Other(o) => Some((o.disposition, o.kind.clone())),
            _ => None,
        })
        .collect();
    let not_relevant = |k: &str| (Disposition::NotRelevant, k.to_string());
    assert_eq!(
        others,
        vec![
            not_relevant("kusto-frame"),
            not_relevant("kusto-query-properties"),
            not_relevant("kusto-query-status"),
            (Disposition::NotSupported, "kusto-progressive-frame".into()),
            not_relevant("kusto-frame"),
        ]
    );
}

/// A diagnostic-settings sign-in record (made up for this test).
const DIAGNOSTIC_SIGN_IN: &str = r#"{"time":"2026-11-01T10:00:00Z","category":"SignInLogs","operationName":"Sign-in activity","resultType":"0","callerIpAddress":"203.0.113.5","properties":{"id":"8c1e3d4f-0000-4000-8000-000000000001","createdDateTime":"2026-11-01T10:00:00Z","userPrincipalName":"a@contoso.com","userId":"d1e2f3a4-0000-4000-8000-00000000000a","appId":"d3590ed6-52b3-4102-aeff-aad2292ab01c","ipAddress":"203.0.113.5","isInteractive":true,"uniqueTokenIdentifier":"aEQ2qLOsqkS86zz3OHIeAA","sessionId":"0b9c1e2a-1111-2222-3333-444455556666","status":{"errorCode":0}}}"#;

/// An Elastic hit of the Azure integration keeping `event.original`.
fn hit(original: Option<&str>) -> String {
    let event = match original {
        Some(o) => format!(
            r#"{{"kind":"event","original":{}}}"#,
            serde_json::Value::String(o.into())
        ),
        None => r#"{"kind":"event","action":"Sign-in activity"}"#.into(),
    };
    format!(
        r#"{{"_index":".ds-logs-azure.signinlogs-default-2026.11.01-000001","_id":"x1","_score":1.0,"_source":{{"@timestamp":"2026-11-01T10:00:00Z","ecs":{{"version":"8.11.0"}},"source":{{"ip":"203.0.113.5"}},"azure":{{"signinlogs":{{"category":"SignInLogs","properties":{{"id":"8c1e3d4f-0000-4000-8000-000000000001","user_principal_name":"a@contoso.com"}}}}}},"event":{event}}}}}"#
    )
}

#[test]
fn elastic_hits_keeping_the_original_record_are_read_as_that_record() {
    let dir = tempfile::tempdir().unwrap();
    let (direct, _) = read(
        dir.path(),
        "diagnostic.jsonl",
        format!("{DIAGNOSTIC_SIGN_IN}\n").as_bytes(),
    );
    assert_eq!(direct[0].shape, Shape::DiagnosticSignIn);

    // elasticdump: one hit per line.
    let with = hit(Some(DIAGNOSTIC_SIGN_IN));
    let without = hit(None);
    let dump = format!("{with}\n{without}\n");
    let (records, report) = read(dir.path(), "dump.ndjson", dump.as_bytes());
    assert!(report.files[0].is_clean(), "{report:?}");
    assert_eq!(placeless(records[..1].to_vec()), placeless(direct.clone()));
    let Decoded::Other(o) = &records[1].event else {
        panic!("{records:?}")
    };
    assert_eq!(
        (o.disposition, o.kind.as_str()),
        (
            Disposition::NotSupported,
            "elastic-ecs-without-event.original"
        )
    );

    // A search answer: its hits streamed, the rest of the answer skipped.
    let answer = format!(
        r#"{{"took":3,"timed_out":false,"_shards":{{"total":1,"successful":1,"skipped":0,"failed":0}},"hits":{{"total":{{"value":2,"relation":"eq"}},"max_score":1.0,"hits":[{with},{without}]}},"aggregations":{{}}}}"#
    );
    let (records, report) = read(dir.path(), "search.json", answer.as_bytes());
    let file = &report.files[0];
    assert_eq!(file.container, Some(Container::ElasticHits));
    assert!(file.is_clean(), "{file:?}");
    assert_eq!(records.len(), 2);
    assert_eq!(placeless(records[..1].to_vec()), placeless(direct));
    assert_eq!(file.not_used.len(), 1);
    assert_eq!(file.not_used[0].kind, "elastic-ecs-without-event.original");

    // An ECS document saved without its hit: named the same.
    let source_only = without
        .split_once(r#""_source":"#)
        .map(|(_, s)| s.strip_suffix('}').unwrap().to_owned())
        .unwrap();
    let (records, _) = read(dir.path(), "source.json", source_only.as_bytes());
    let Decoded::Other(o) = &records[0].event else {
        panic!("{records:?}")
    };
    assert_eq!(o.kind, "elastic-ecs-without-event.original");
}

/// Real diagnostic-settings records (Elastic's own test inputs, in ../shared/fixtures/public)
/// wrapped as the Azure integration indexes them with `preserve_original_event`: each hit
/// decodes to what its raw line decodes to.
#[test]
fn public_sign_ins_read_the_same_from_elastic_hits() {
    let Some(public) = common::public_fixtures() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "test-signinlogs-raw.log",
        "test-service-principal-signinlogs-sample.log",
    ] {
        let raw = std::fs::read_to_string(public.join("elastic-integrations").join(name)).unwrap();
        let (direct, report) = read(dir.path(), name, raw.as_bytes());
        assert!(!direct.is_empty(), "{name}: {report:?}");
        let hits: String = raw
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| format!("{}\n", hit(Some(l))))
            .collect();
        let (wrapped, report) = read(dir.path(), &format!("{name}.hits"), hits.as_bytes());
        assert!(report.files[0].is_clean(), "{name}: {report:?}");
        assert_eq!(placeless(wrapped), placeless(direct), "{name}");
    }
}

/// The Query API's non-fatal error (Azure Monitor "Log Analytics API response format"): the
/// rows it returned are read, and the file is reported as incomplete.
#[test]
fn a_partial_answer_is_read_and_reported_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let answer = LA_ANSWER.replace(
        "]]}]}",
        r#"]]}],"error":{"code":"PartialError","message":"The query did not complete.","details":[{"code":"EngineError","message":"A part of the query failed.","innererror":{"code":"-2133196797","message":"Query result set has exceeded the internal data size limit 8388608 (E_QUERY_RESULT_SET_TOO_LARGE)."}}]}}"#,
    );
    let (records, report) = read(dir.path(), "partial.json", answer.as_bytes());
    assert_eq!(records.len(), 1);
    let file = &report.files[0];
    assert_eq!(file.problems.len(), 1, "{file:?}");
    assert_eq!(file.problems[0].kind, ProblemKind::Truncated);
    assert_eq!(
        file.problems[0].message,
        "the query answer is incomplete: PartialError: The query did not complete.: EngineError: A part of the query failed.: -2133196797: Query result set has exceeded the internal data size limit 8388608 (E_QUERY_RESULT_SET_TOO_LARGE)."
    );
    assert_eq!(
        report.outcome(),
        tokentrail_ingest::read::ReadOutcome::Partial
    );
}

/// `Invoke-RestMethod ... | ConvertTo-Json` at its default depth writes the rows (and the
/// columns) as text: the table is reported with the cause, and the rest of the file is read.
#[test]
fn an_answer_cut_by_convert_to_json_depth_says_so() {
    let cut = r#"{
    "tables":  [
                   {
                       "name":  "PrimaryResult",
                       "columns":  "System.Object[]",
                       "rows":  "System.Object[] System.Object[]"
                   }
               ]
}"#;
    let f = frame_default(cut.as_bytes());
    assert_eq!(f.container, Container::LogAnalyticsQuery);
    assert_eq!(f.error, None);
    assert_eq!(
        f.items,
        vec![(
            Index(0),
            Err("the table's columns are not an array (a converter that cut the answer's depth, such as ConvertTo-Json without a -Depth of 10, writes them as text)".into())
        )]
    );
    let with_columns = cut.replace(
        r#""columns":  "System.Object[]""#,
        r#""columns":  [{"name":"A","type":"string"}]"#,
    );
    let f = frame_default(with_columns.as_bytes());
    assert_eq!(
        f.items,
        vec![(
            Index(0),
            Err("the table's rows are not an array (a converter that cut the answer's depth, such as ConvertTo-Json without a -Depth of 10, writes them as text)".into())
        )]
    );
}
