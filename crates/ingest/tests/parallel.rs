//! Decoding on several threads must hand the sink exactly what a single-threaded run hands it:
//! the same records, in the same order, with the same report (unreadable records included).

mod common;

use std::path::{Path, PathBuf};

use tokentrail_ingest::{read_paths, Decoded, DecodedRecord, ReadOptions};
use tokentrail_model::Position;

fn example_tenant() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tenant")
}

/// Several batches' worth of JSON lines with malformed lines scattered through them, plus a
/// gzip copy and the example tenant (Log Analytics lines, diagnostic envelopes, Purview CSV).
fn corpus(dir: &Path) -> Vec<PathBuf> {
    let tenant = example_tenant();
    let lines =
        std::fs::read_to_string(tenant.join("signins/la/AADNonInteractiveUserSignInLogs.jsonl"))
            .unwrap();
    let mut mixed = String::new();
    for round in 0..4 {
        for (i, line) in lines.lines().enumerate() {
            mixed.push_str(line);
            mixed.push('\n');
            if i % 997 == round {
                mixed.push_str("{\"broken\": \n");
            }
        }
    }
    let big = common::write(dir, "mixed.jsonl", mixed.as_bytes());
    let gz = common::write(dir, "mixed.jsonl.gz", &common::gzip(mixed.as_bytes()));
    vec![
        tenant.join("signins"),
        tenant.join("graph"),
        tenant.join("ual"),
        big,
        gz,
    ]
}

fn run(paths: &[PathBuf], threads: usize) -> (Vec<DecodedRecord>, String) {
    let opts = ReadOptions {
        decode_threads: threads,
        // The corpus repeats its sign-ins; keep them all so every record is compared.
        drop_duplicate_sign_ins: false,
        ..ReadOptions::default()
    };
    let mut got = Vec::new();
    let report = read_paths(paths, &opts, &mut |r| got.push(r));
    (got, serde_json::to_string(&report).unwrap())
}

#[test]
fn any_number_of_threads_gives_the_same_records_in_the_same_order() {
    let dir = tempfile::tempdir().unwrap();
    let paths = corpus(dir.path());
    let (inline, inline_report) = run(&paths, 0);

    // The corpus spans several batches and holds unreadable lines, or the test proves little.
    let mixed_bytes = std::fs::metadata(&paths[3]).unwrap().len();
    assert!(
        mixed_bytes > 4 * 512 * 1024,
        "corpus too small: {mixed_bytes} bytes"
    );
    let report: serde_json::Value = serde_json::from_str(&inline_report).unwrap();
    // One broken line per round, in the plain and the gzip copy.
    assert_eq!(report["totals"]["unreadable"], 2 * 4);
    let sign_ins = inline
        .iter()
        .filter(|r| matches!(r.event, Decoded::SignIn(_)))
        .count();
    let accesses = inline
        .iter()
        .filter(|r| matches!(r.event, Decoded::Access(_)))
        .count();
    assert!(
        sign_ins > 3000 && accesses > 1000,
        "{sign_ins} sign-ins, {accesses} accesses"
    );

    for threads in [1, 2, 5] {
        let (parallel, parallel_report) = run(&paths, threads);
        assert_eq!(parallel.len(), inline.len(), "{threads} threads");
        for (i, (a, b)) in inline.iter().zip(&parallel).enumerate() {
            assert_eq!(a, b, "record {i} differs with {threads} threads");
        }
        assert_eq!(parallel_report, inline_report, "{threads} threads");
    }
}

#[test]
fn unreadable_lines_keep_their_line_numbers_across_batches() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    let mut broken = Vec::new();
    for i in 0..20_000u64 {
        if i % 5_000 == 4_999 {
            text.push_str("not json\n");
            broken.push(i + 1);
        } else {
            text.push_str(&sign_in(i, ""));
            text.push('\n');
        }
    }
    let path = common::write(dir.path(), "lines.jsonl", text.as_bytes());
    let (records, report) = run(&[path], 2);
    assert_eq!(records.len(), 20_000 - broken.len());
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let listed: Vec<u64> = report["files"][0]["unreadable_records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["source"]["position"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(listed, broken);
    let positions: Vec<Position> = records.iter().map(position).take(3).collect();
    assert_eq!(
        positions,
        vec![Position::Line(1), Position::Line(2), Position::Line(3)]
    );
}

/// A non-interactive sign-in numbered `i`, its user id padded with `pad`, on one line.
fn sign_in(i: u64, pad: &str) -> String {
    format!(
        "{{\"Type\":\"AADNonInteractiveUserSignInLogs\",\"Id\":\"{i:08x}-0000-4000-8000-000000000000\",\"TimeGenerated\":\"2024-03-04T10:00:00Z\",\"UserId\":\"u{pad}\",\"AppId\":\"a\",\"IPAddress\":\"192.0.2.1\",\"ResultType\":\"0\"}}"
    )
}

fn position(r: &DecodedRecord) -> Position {
    match &r.event {
        Decoded::SignIn(s) => s.source.position,
        Decoded::Access(a) => a.source.position,
        Decoded::Other(_) => panic!("unexpected other record"),
    }
}

/// Files of several 1 MiB reads, plain and gzip (whose reads end anywhere), framed into read
/// blocks for the decoding threads: CRLF and LF lines, blank lines, a line over the record
/// limit spanning reads, and a last line without newline give exactly the records and the
/// unreadable line a single-threaded run gives.
#[test]
fn lines_across_read_blocks_are_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    let mut lines = Vec::new();
    let mut line = 0u64;
    for i in 0..11_998u64 {
        line += 1;
        if i == 7_000 {
            // Over the limit below, and longer than one read.
            text.push_str(&format!("{{\"pad\":\"{}\"}}\n", "z".repeat(1_500_000)));
            continue;
        }
        if i % 1_000 == 999 {
            text.push('\n');
            continue;
        }
        // Lengths vary so that reads cut lines at every place.
        text.push_str(&sign_in(i, &"x".repeat((i * 7919 % 613) as usize)));
        text.push_str(if i % 3 == 0 { "\r\n" } else { "\n" });
        lines.push(line);
    }
    assert!(text.ends_with("\r\n"));
    text.truncate(text.len() - 2);
    let plain = common::write(dir.path(), "lines.jsonl", text.as_bytes());
    let gz = common::write(dir.path(), "lines.jsonl.gz", &common::gzip(text.as_bytes()));
    assert!(text.len() > 5 << 20, "{} bytes", text.len());

    let read = |path: &Path, threads: usize| {
        let opts = ReadOptions {
            decode_threads: threads,
            max_record_bytes: 1 << 20,
            ..ReadOptions::default()
        };
        let mut got = Vec::new();
        let report = read_paths(&[path], &opts, &mut |r| got.push(r));
        (got, report)
    };
    for path in [&plain, &gz] {
        let (inline, inline_report) = read(path, 0);
        let positions: Vec<Position> = inline.iter().map(position).collect();
        let expected: Vec<Position> = lines.iter().map(|l| Position::Line(*l)).collect();
        assert!(positions == expected, "{path:?}");
        let file = &inline_report.files[0];
        assert_eq!(
            (file.records, file.events, file.unreadable),
            (11_987, 11_986, 1)
        );
        assert_eq!(
            file.unreadable_records[0].source.position,
            Position::Line(7_001)
        );
        assert_eq!(
            file.unreadable_records[0].reason,
            "line longer than the limit of 1048576 bytes"
        );
        for threads in [1, 2] {
            let (parallel, report) = read(path, threads);
            assert!(parallel == inline, "{path:?}, {threads} threads");
            assert_eq!(
                serde_json::to_string(&report).unwrap(),
                serde_json::to_string(&inline_report).unwrap()
            );
        }
    }
}

/// A first line followed by more than the sniffer looks ahead of blank lines is cut out as an
/// object (a copy) and the lines after it as ranges of read blocks: both kinds travel in one
/// batch and come back in order.
#[test]
fn a_first_record_copied_and_lines_shared_share_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = sign_in(0, "");
    text.push_str(&"\n".repeat(5_000));
    for i in 1..=3 {
        text.push('\n');
        text.push_str(&sign_in(i, ""));
    }
    let path = common::write(dir.path(), "late.jsonl", text.as_bytes());
    let (inline, inline_report) = run(std::slice::from_ref(&path), 0);
    let (parallel, parallel_report) = run(&[path], 2);
    let positions: Vec<Position> = parallel.iter().map(position).collect();
    assert_eq!(
        positions,
        [1, 5_002, 5_003, 5_004].map(Position::Line).to_vec()
    );
    assert!(parallel == inline);
    assert_eq!(parallel_report, inline_report);
    let report: serde_json::Value = serde_json::from_str(&parallel_report).unwrap();
    assert_eq!(report["files"][0]["container"], "json-lines");
}
