//! Hostile shapes (issue 14) stay bounded: each is reported where it is, the rest of the input
//! is read, and nothing grows without limit. Times and peak memory on the full-size inputs
//! (100 MB of `[`, a gzip bomb, 100k-entry zips, a 2 GB line, 100k-deep nesting) are measured
//! by `bench/hostile.sh` and recorded in `docs/security.md`; these tests check the behaviour on
//! smaller ones.

mod common;

use std::path::Path;

use common::{gzip, write, zip};
use tokentrail_ingest::read::ProblemKind;
use tokentrail_ingest::source::ExpansionLimit;
use tokentrail_ingest::{read_paths, IngestReport, ReadOptions};
use tokentrail_model::Position::{Index, Line};

fn read_with(paths: &[&Path], opts: &ReadOptions) -> IngestReport {
    read_paths(paths, opts, &mut |_| {})
}

fn read(path: &Path) -> IngestReport {
    read_with(&[path], &ReadOptions::default())
}

/// `depth` opening brackets, a value, and as many closing ones.
fn nested(open: &str, close: &str, depth: usize) -> String {
    format!("{}1{}", open.repeat(depth), close.repeat(depth))
}

#[test]
fn nesting_100k_deep_is_one_unreadable_record() {
    let dir = tempfile::tempdir().unwrap();
    let deep_arrays = nested("[", "]", 100_000);
    let deep_objects = nested("{\"a\":", "}", 100_000);
    let deep_slots = nested("{\"properties\":", "}", 100_000);
    let lines = format!("{{\"n\":1}}\n{deep_arrays}\n{deep_objects}\n{deep_slots}\n{{\"n\":5}}\n");
    let path = write(dir.path(), "deep.jsonl", lines.as_bytes());
    let report = read(&path);
    let file = &report.files[0];
    // Deep objects under an unknown key are well-formed JSON, crossed without recursion: a
    // record of an unknown kind. Deep arrays are not an object; deep `properties` pass the
    // nesting the decoder reads.
    assert_eq!((file.records, file.events, file.unreadable), (5, 3, 2));
    let places: Vec<_> = file
        .unreadable_records
        .iter()
        .map(|u| u.source.position)
        .collect();
    assert_eq!(places, [Line(2), Line(4)]);

    // The same nesting as an array element.
    let array = format!("[{{\"n\":1}},{deep_arrays},{{\"n\":3}}]");
    let path = write(dir.path(), "deep.json", array.as_bytes());
    let report = read(&path);
    let file = &report.files[0];
    assert_eq!((file.records, file.events, file.unreadable), (3, 2, 1));
    assert_eq!(file.unreadable_records[0].source.position, Index(1));
}

#[test]
fn a_run_of_brackets_is_one_record_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "brackets.json", &vec![b'['; 8 << 20]);
    let report = read(&path);
    let file = &report.files[0];
    assert_eq!((file.records, file.unreadable), (1, 1));
    assert_eq!(
        file.unreadable_records[0].reason,
        "record cut off by the end of the input"
    );
    assert_eq!(file.problems[0].kind, ProblemKind::Truncated);
}

#[test]
fn a_line_longer_than_the_record_limit_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = b"{\"n\":1}\n{\"long\":\"".to_vec();
    text.extend(std::iter::repeat_n(b'x', 5 << 20));
    text.extend_from_slice(b"\"}\n{\"n\":3}\n");
    let path = write(dir.path(), "long.jsonl", &text);
    let opts = ReadOptions {
        max_record_bytes: 1 << 20,
        ..ReadOptions::default()
    };
    let report = read_with(&[&path], &opts);
    let file = &report.files[0];
    assert_eq!((file.records, file.events, file.unreadable), (3, 2, 1));
    assert_eq!(
        file.unreadable_records[0].reason,
        "line longer than the limit of 1048576 bytes"
    );
}

/// Bytes that compress about a thousand times: a gzip bomb in small.
fn bomb(bytes: usize) -> Vec<u8> {
    gzip(&vec![b'['; bytes])
}

#[test]
fn a_gzip_bomb_stops_at_the_expansion_limit() {
    let dir = tempfile::tempdir().unwrap();
    let packed = bomb(32 << 20);
    assert!(packed.len() < 64 << 10, "{}", packed.len());
    let path = write(dir.path(), "bomb.json.gz", &packed);
    let opts = ReadOptions {
        expansion: ExpansionLimit {
            ratio: 100,
            floor: 1 << 20,
        },
        ..ReadOptions::default()
    };
    let report = read_with(&[&path], &opts);
    let file = &report.files[0];
    let problem = &file.problems[0];
    assert_eq!(problem.kind, ProblemKind::Io, "{problem:?}");
    assert!(
        problem
            .message
            .contains("more than 100 times as many: a decompression bomb?"),
        "{problem:?}"
    );

    // Real logs compress far less: read whole under the same limit.
    let mut lines = String::new();
    for i in 0..20_000 {
        lines.push_str(&format!(
            "{{\"id\":\"{i:08x}-1111-4222-8333-444455556666\",\"n\":{i},\"t\":\"2026-03-02T10:{:02}:{:02}Z\"}}\n",
            i % 60,
            (i * 7) % 60
        ));
    }
    let path = write(dir.path(), "logs.jsonl.gz", &gzip(lines.as_bytes()));
    let report = read_with(&[&path], &opts);
    let file = &report.files[0];
    assert!(file.problems.is_empty(), "{:?}", file.problems);
    assert_eq!(file.events, 20_000);
}

#[test]
fn a_zip_bomb_stops_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    let member = bomb(8 << 20);
    let members: Vec<(String, Vec<u8>)> = (0..20)
        .map(|i| (format!("m{i:02}.json.gz"), member.clone()))
        .collect();
    let refs: Vec<(&str, &[u8])> = members
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let path = write(dir.path(), "bomb.zip", &zip(&refs));
    let opts = ReadOptions {
        expansion: ExpansionLimit {
            ratio: 100,
            floor: 4 << 20,
        },
        ..ReadOptions::default()
    };
    let report = read_with(&[&path], &opts);
    let last = report.files.last().unwrap();
    assert!(report.files.len() < 20, "{}", report.files.len());
    assert_eq!(last.problems[0].kind, ProblemKind::Archive);
    assert!(
        last.problems[0].message.contains("more member(s) not read"),
        "{:?}",
        last.problems
    );
}

#[test]
fn a_zip_of_many_members_reports_each() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..5_000).map(|i| format!("m{i:05}.json")).collect();
    let members: Vec<(&str, &[u8])> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let body: &[u8] = if i % 2 == 0 { b"{\"n\":1}\n" } else { b"" };
            (n.as_str(), body)
        })
        .collect();
    let path = write(dir.path(), "many.zip", &zip(&members));
    let report = read(&path);
    assert_eq!(report.totals.files, 5_000);
    assert_eq!(report.totals.events, 2_500);
    assert_eq!(
        report.totals.problems, 2_500,
        "each empty member is reported"
    );
}
