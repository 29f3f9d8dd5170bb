//! `tokentrail timeline`: every line is an event Timesketch imports.
//!
//! Timesketch's documented rules (google/timesketch `docs/guides/user/import-from-json-csv.md`,
//! and its importer `timesketch/lib/utils.py`): each JSON line is an object with `message`,
//! `datetime` (ISO 8601) and `timestamp_desc`; a `timestamp` is microseconds since the epoch;
//! `tag` is a list of strings; `_id`, `_type`, `_index`, `_source` and `__ts_timeline_id` are
//! dropped by the importer; a CSV file starts with a header naming the same three columns.

mod common;

use std::collections::BTreeSet;

use std::process::Output;

use serde_json::Value;

fn run(extra: &[&str]) -> Output {
    common::tokentrail()
        .arg("timeline")
        .args(common::example_tenant())
        .args(extra)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const RESERVED: [&str; 5] = ["_id", "_type", "_index", "_source", "__ts_timeline_id"];
const DESCRIPTIONS: [&str; 3] = ["Sign-in time", "Access time", "Finding first seen"];

/// The checks Timesketch's importer makes, and the ones it would make silently (a time it
/// cannot parse drops the event): the three fields, an RFC 3339 (ISO 8601) UTC time whose
/// microseconds are `timestamp`, tags as strings. Returns the event's time in microseconds.
fn check_event(n: usize, event: &serde_json::Map<String, Value>) -> i64 {
    let field = |name: &str| -> &str {
        event
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("event {n}: no {name} text: {event:?}"))
    };
    assert!(
        !field("message").trim().is_empty(),
        "event {n}: empty message"
    );
    assert!(
        DESCRIPTIONS.contains(&field("timestamp_desc")),
        "event {n}: {event:?}"
    );
    let datetime = field("datetime");
    let parsed = chrono::DateTime::parse_from_rfc3339(datetime)
        .unwrap_or_else(|e| panic!("event {n}: datetime {datetime:?} is not RFC 3339: {e}"));
    assert_eq!(parsed.offset().local_minus_utc(), 0, "event {n}: not UTC");
    // One fixed width: Timesketch's CSV importer (pandas.to_datetime, errors="coerce") infers
    // one format and drops the rows written in another.
    assert!(
        datetime.len() == 27 && datetime.as_bytes()[19] == b'.' && datetime.ends_with('Z'),
        "event {n}: {datetime} is not YYYY-MM-DDTHH:MM:SS.ffffffZ"
    );
    let micros = parsed.timestamp_micros();
    assert_eq!(
        event.get("timestamp").and_then(Value::as_i64),
        Some(micros),
        "event {n}: timestamp is not the datetime in microseconds"
    );
    for reserved in RESERVED {
        assert!(!event.contains_key(reserved), "event {n}: {reserved}");
    }
    let tags = event
        .get("tag")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("event {n}: no tag list"));
    assert!(tags.iter().all(Value::is_string), "event {n}: {tags:?}");
    micros
}

fn jsonl_events(out: &Output) -> Vec<serde_json::Map<String, Value>> {
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let mut last = i64::MIN;
    stdout
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("line {}: not JSON: {e}: {line}", i + 1));
            let Value::Object(event) = value else {
                panic!("line {}: not an object: {line}", i + 1)
            };
            let micros = check_event(i + 1, &event);
            assert!(micros >= last, "line {}: out of time order", i + 1);
            last = micros;
            event
        })
        .collect()
}

fn count(events: &[serde_json::Map<String, Value>], data_type: &str) -> usize {
    events
        .iter()
        .filter(|e| e["data_type"] == data_type)
        .count()
}

/// The finding ids `detect` reports on the same inputs.
fn detected_ids() -> BTreeSet<String> {
    let out = common::tokentrail()
        .arg("detect")
        .args(common::example_tenant())
        .args(["--format", "csv"])
        .output()
        .unwrap();
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    reader
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect()
}

#[test]
fn the_tenant_timeline_is_every_record_and_finding_in_timesketch_jsonl() {
    let out = run(&[]);
    let events = jsonl_events(&out);
    assert_eq!(count(&events, "tokentrail:sign-in"), 494);
    assert_eq!(count(&events, "tokentrail:access"), 1094);
    assert_eq!(count(&events, "tokentrail:finding"), 9);
    assert_eq!(events.len(), 494 + 1094 + 9);
    assert!(
        text(&out.stderr).contains(
            "tokentrail: 1597 event(s) for the tenant: 494 sign-in(s), 1094 access(es), 9 finding(s)"
        ),
        "{}",
        text(&out.stderr)
    );
    let finding_ids: BTreeSet<String> = events
        .iter()
        .filter_map(|e| e.get("finding_id").and_then(Value::as_str))
        .map(String::from)
        .collect();
    assert_eq!(finding_ids, detected_ids());
    // Every record cites only findings that are events of the timeline, tagged by their rule.
    let mut cited = BTreeSet::new();
    for e in events.iter().filter(|e| e.contains_key("source")) {
        let ids = e["findings"].as_array().unwrap();
        let tags: BTreeSet<&str> = e["tag"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let rules: BTreeSet<&str> = ids
            .iter()
            .filter_map(Value::as_str)
            .map(|id| &id[..5])
            .collect();
        assert_eq!(tags, rules, "{e:?}");
        cited.extend(ids.iter().filter_map(Value::as_str).map(String::from));
    }
    assert_eq!(
        cited, finding_ids,
        "every finding cites a record on the timeline"
    );

    // One finding event in full.
    let f = events
        .iter()
        .find(|e| e.get("finding_id").and_then(Value::as_str) == Some("TT001-f402bcb303953a60"))
        .unwrap();
    assert_eq!(
        f["message"],
        "TT001 High: Token used from a network it was not issued to by \
         lidia.langer.4@contoso.example from 45.77.95.199 (AS20473), app Microsoft Office"
    );
    assert_eq!(f["datetime"], "2024-03-05T16:16:45.380159Z");
    let whole_second = events
        .iter()
        .find(|e| e["timestamp"].as_i64().unwrap() % 1_000_000 == 0)
        .unwrap();
    assert!(whole_second["datetime"]
        .as_str()
        .unwrap()
        .ends_with(".000000Z"));
    assert_eq!(f["timestamp"], 1_709_655_405_380_159_i64);
    assert_eq!(f["tag"], serde_json::json!(["TT001"]));
    assert_eq!(f["last_seen"], "2024-03-05T16:20:45.380159Z");
}

#[test]
fn the_csv_form_holds_the_same_events_under_timesketch_s_header() {
    let jsonl = jsonl_events(&run(&[]));
    let out = run(&["--format", "csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    for column in ["message", "datetime", "timestamp_desc", "timestamp", "tag"] {
        assert!(header.iter().any(|h| h == column), "{header:?}");
    }
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), jsonl.len());
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (n, (row, event)) in rows.iter().zip(&jsonl).enumerate() {
        let mut as_event = serde_json::Map::new();
        for name in ["message", "datetime", "timestamp_desc"] {
            as_event.insert(name.into(), Value::String(row[col(name)].to_string()));
        }
        as_event.insert(
            "timestamp".into(),
            Value::from(row[col("timestamp")].parse::<i64>().unwrap()),
        );
        // Timesketch splits a CSV tag at commas.
        let tags: Vec<Value> = row[col("tag")]
            .split(',')
            .filter(|t| !t.is_empty())
            .map(|t| Value::String(t.into()))
            .collect();
        as_event.insert("tag".into(), Value::Array(tags.clone()));
        check_event(n + 1, &as_event);
        assert_eq!(as_event["message"], event["message"], "row {}", n + 1);
        assert_eq!(as_event["datetime"], event["datetime"], "row {}", n + 1);
        assert_eq!(Value::Array(tags), event["tag"], "row {}", n + 1);
    }
}

#[test]
fn a_user_s_timeline_is_the_records_investigate_relates_to_them() {
    let user = "lidia.langer.4@contoso.example";
    let events = jsonl_events(&run(&["--user", user]));
    let investigation: Value = serde_json::from_slice(
        &common::tokentrail()
            .arg("investigate")
            .args(common::example_tenant())
            .args(["--user", user, "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        count(&events, "tokentrail:sign-in") as u64,
        investigation["records"]["sign_ins"].as_u64().unwrap()
    );
    assert_eq!(
        count(&events, "tokentrail:access") as u64,
        investigation["records"]["accesses"].as_u64().unwrap()
    );
    let findings: Vec<&str> = events
        .iter()
        .filter_map(|e| e.get("finding_id").and_then(Value::as_str))
        .collect();
    assert_eq!(
        findings,
        [
            "TT001-f402bcb303953a60",
            "TT002-14d4ac6b5fd2420a",
            "TT005-22e2787d58998cf3"
        ]
    );
    assert!(events
        .iter()
        .all(|e| e.get("user").and_then(Value::as_str) == Some(user)));
}

#[test]
fn a_session_s_timeline_and_a_subject_without_records() {
    let session = "8361f8cd-5e56-49ff-b393-b8dbb78c0099";
    let events = jsonl_events(&run(&["--session", session]));
    assert!(
        events.iter().all(|e| e["session_id"] == session),
        "{events:?}"
    );
    assert_eq!(count(&events, "tokentrail:finding"), 3);
    assert!(count(&events, "tokentrail:access") > 0);

    let out = run(&["--session", "00000000-0000-4000-8000-000000000000"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("no sign-in or access in the inputs matches session"));
}

#[test]
fn a_file_name_timesketch_would_refuse_is_pointed_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("timeline.json");
    let out = run(&["-o", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains(
        "tokentrail: note: Timesketch imports a JSONL file only when its name ends in .jsonl"
    ));
    assert!(std::fs::read_to_string(&path).unwrap().lines().count() > 1000);
    let ok = dir.path().join("timeline.csv");
    let out = run(&["--format", "csv", "-o", ok.to_str().unwrap()]);
    assert!(
        !text(&out.stderr).contains("note:"),
        "{}",
        text(&out.stderr)
    );
}

/// The tenant's timeline sorted in many small runs that wait on disk, or in memory when the
/// temporary directory cannot be written (said on stderr), is the same bytes as the one sorted
/// at once, in both formats.
#[test]
fn the_tenant_timeline_is_the_same_sorted_in_runs_on_disk_or_in_memory() {
    for format in ["jsonl", "csv"] {
        let at_once = run(&["--format", format]);
        assert!(at_once.status.success(), "{}", text(&at_once.stderr));
        assert!(at_once.stdout.len() > 100_000);
        let in_runs = run(&["--format", format, "--entries-per-run", "7"]);
        assert!(in_runs.status.success(), "{}", text(&in_runs.stderr));
        assert!(in_runs.stdout == at_once.stdout, "{format}: runs of 7");
        assert!(!text(&in_runs.stderr).contains("sorted in memory"));
        let unwritable = common::tokentrail()
            .env("TMPDIR", "/nonexistent/tokentrail-timeline")
            .arg("timeline")
            .args(common::example_tenant())
            .args(["--format", format, "--entries-per-run", "7"])
            .output()
            .unwrap();
        assert!(unwritable.status.success(), "{}", text(&unwritable.stderr));
        assert!(unwritable.stdout == at_once.stdout, "{format}: in memory");
        assert!(
            text(&unwritable.stderr).contains(
                "tokentrail: the timeline's sorting file could not be made or written in the temporary directory ($TMPDIR): its entries were sorted in memory"
            ),
            "{}",
            text(&unwritable.stderr)
        );
    }
}
