//! A mapped file reads exactly as `read()` reads it: the same records, positions, unreadable
//! reasons, problems and order, inline and on decoding threads. In tests a window is about
//! 100 KB ([`crate::frame`]'s stream), so records and JSON array elements cross windows here.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::frame::{self, FrameOptions, Framed};
use crate::source::{self, Compression, Meter, Opened};
use crate::{DecodedRecord, Payload};

use super::{read_paths, IngestReport, ProblemKind, ReadOptions};

fn tenant_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/tenant")
        .join(rel)
}

/// The example tenant's interactive sign-ins, one JSON object per line.
fn sign_in_lines() -> Vec<String> {
    std::fs::read_to_string(tenant_file("signins/la/SigninLogs.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn read(
    paths: &[PathBuf],
    max_record_bytes: usize,
    map_from: Option<u64>,
    threads: usize,
) -> (Vec<DecodedRecord>, IngestReport) {
    let opts = ReadOptions {
        decode_threads: threads,
        drop_duplicate_sign_ins: false,
        max_record_bytes,
        map_from,
        ..ReadOptions::default()
    };
    let mut records = Vec::new();
    let before = windows_mapped();
    let report = read_paths(paths, &opts, &mut |r| records.push(r));
    let mapped = windows_mapped() - before;
    let plain = report.files.iter().any(|f| {
        f.compression == Some(Compression::None)
            && f.container != Some(crate::frame::Container::Empty)
    });
    assert_eq!(
        mapped > 0,
        map_from.is_some() && plain,
        "{mapped} windows mapped"
    );
    (records, report)
}

/// Windows mapped so far on this thread.
fn windows_mapped() -> u64 {
    crate::frame::WINDOWS_MAPPED.with(std::cell::Cell::get)
}

/// Read `paths` mapped and with `read()`, inline and on two threads; every way must give the
/// same records and the same report. Returns them.
fn read_every_way(paths: &[PathBuf]) -> (Vec<DecodedRecord>, IngestReport) {
    read_every_way_limited(paths, crate::frame::DEFAULT_MAX_RECORD_BYTES)
}

/// [`read_every_way`] with records limited to `max_record_bytes`.
fn read_every_way_limited(
    paths: &[PathBuf],
    max_record_bytes: usize,
) -> (Vec<DecodedRecord>, IngestReport) {
    let (records, report) = read(paths, max_record_bytes, None, 0);
    let json = serde_json::to_string(&report).unwrap();
    for (map_from, threads) in [(Some(1), 0), (None, 2), (Some(1), 2)] {
        let (r, rep) = read(paths, max_record_bytes, map_from, threads);
        assert!(
            r == records,
            "records differ: map_from {map_from:?}, {threads} threads"
        );
        assert_eq!(
            serde_json::to_string(&rep).unwrap(),
            json,
            "reports differ: map_from {map_from:?}, {threads} threads"
        );
    }
    (records, report)
}

/// Where each record was read (`line 3`, `record 0`).
fn positions(records: &[DecodedRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| {
            r.source()
                .map_or("-".to_owned(), |s| s.position.to_string())
        })
        .collect()
}

/// Each unreadable record of the one file: place and reason.
fn unreadable(report: &IngestReport) -> Vec<(String, String)> {
    report
        .files
        .iter()
        .flat_map(|f| &f.unreadable_records)
        .map(|u| (u.source.position.to_string(), u.reason.clone()))
        .collect()
}

#[test]
fn tricky_json_lines_read_the_same_mapped() {
    let lines = sign_in_lines();
    let dir = tempfile::tempdir().unwrap();
    // A BOM, CRLF endings, blank lines, a line of invalid UTF-8, a malformed line, and a last
    // line without its newline.
    let mut text = b"\xEF\xBB\xBF".to_vec();
    text.extend_from_slice(lines[0].as_bytes());
    text.extend_from_slice(b"\r\n\r\n");
    text.extend_from_slice(lines[1].as_bytes());
    text.extend_from_slice(
        b"\r\n{\"Category\":\"SignInLogs\",\"x\":\"\xff\xfe\"}\r\n   \n{\"broken\": \n",
    );
    text.extend_from_slice(lines[2].as_bytes());
    let path = write(dir.path(), "tricky.jsonl", &text);
    let (records, report) = read_every_way(&[path]);
    assert_eq!(positions(&records), ["line 1", "line 3", "line 7"]);
    assert_eq!(
        unreadable(&report),
        [
            (
                "line 4".to_owned(),
                "malformed JSON: invalid UTF-8 at byte 30".to_owned()
            ),
            (
                "line 6".to_owned(),
                "malformed JSON: unexpected end of input at byte 10".to_owned()
            ),
        ]
    );
    assert!(report.files[0].problems.is_empty());
}

#[test]
fn json_arrays_whole_and_cut_off_read_the_same_mapped() {
    let lines = sign_in_lines();
    let dir = tempfile::tempdir().unwrap();
    let array = format!("[\n  {},\n  {},\n  {}\n]\n", lines[0], lines[1], lines[2]);
    let whole = write(dir.path(), "array.json", array.as_bytes());
    let (records, report) = read_every_way(&[whole]);
    assert_eq!(positions(&records), ["record 0", "record 1", "record 2"]);
    assert!(report.files[0].is_clean());

    // Cut inside the third element.
    let cut = &array[..array.len() - 40];
    let cut = write(dir.path(), "cut.json", cut.as_bytes());
    let (records, report) = read_every_way(&[cut]);
    assert_eq!(positions(&records), ["record 0", "record 1"]);
    assert_eq!(
        unreadable(&report),
        [(
            "record 2".to_owned(),
            "record cut off by the end of the input".to_owned()
        )]
    );
    let problems = &report.files[0].problems;
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].kind, ProblemKind::Truncated);
    assert_eq!(problems[0].line, Some(4));
}

/// A gzip file, an empty file and a zip member are never offered to be mapped; a plain file
/// is, and reads the same as its gzip copy.
#[test]
fn only_plain_regular_files_are_mapped() {
    let lines = sign_in_lines();
    let dir = tempfile::tempdir().unwrap();
    let text = lines[..5].join("\n");
    let plain = write(dir.path(), "a.jsonl", text.as_bytes());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let gzip = write(dir.path(), "a.jsonl.gz", &gz.finish().unwrap());
    let empty = write(dir.path(), "empty.jsonl", b"");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("m.jsonl", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(text.as_bytes()).unwrap();
    let zip = write(dir.path(), "a.zip", &zip.finish().unwrap().into_inner());

    let meter = Meter::new(None, None);
    let mut offered = Vec::new();
    for located in source::locate(&[&plain, &gzip, &empty, &zip]) {
        source::open_mapped(located, &meter, Default::default(), Some(1), &mut |o| {
            if let Opened::Input(input) = o {
                let name = Path::new(&*input.name).file_name().unwrap().to_owned();
                offered.push((name, input.compression, input.mappable.is_some()));
            }
        });
    }
    let offered: Vec<_> = offered
        .iter()
        .map(|(n, c, m)| (n.to_str().unwrap(), *c, *m))
        .collect();
    assert_eq!(
        offered,
        [
            ("a.jsonl", Compression::None, true),
            ("a.jsonl.gz", Compression::Gzip, false),
            ("empty.jsonl", Compression::None, false),
            ("a.zip!m.jsonl", Compression::None, false),
        ]
    );

    let (from_plain, _) = read_every_way(&[plain]);
    let (from_gzip, report) = read_every_way(&[gzip]);
    assert_eq!(from_plain.len(), 5);
    assert_eq!(positions(&from_gzip), positions(&from_plain));
    assert_eq!(report.files[0].compression, Some(Compression::Gzip));
    let (_, report) = read_every_way(&[empty]);
    assert_eq!(report.files[0].problems[0].kind, ProblemKind::Empty);
}

/// Many windows: records across window ends, a line longer than a window, lines and array
/// elements over the record limit, in JSON lines, a JSON array and the example tenant's
/// Log Analytics lines, diagnostic envelopes and Purview CSV.
#[test]
fn files_of_many_windows_read_the_same_mapped() {
    let lines = sign_in_lines();
    let dir = tempfile::tempdir().unwrap();
    let huge = format!(
        "{{\"Category\":\"SignInLogs\",\"pad\":\"{}\"}}",
        "x".repeat(260_000)
    );
    let mut text = String::new();
    let mut array = String::from("[");
    for round in 0..40 {
        for line in &lines {
            text.push_str(line);
            text.push_str(if round % 2 == 0 { "\n" } else { "\r\n" });
            array.push_str(line);
            array.push(',');
        }
        if round % 13 == 5 {
            text.push_str(&huge);
            text.push('\n');
            array.push_str(&huge);
            array.push(',');
        }
    }
    array.push_str("{}]");
    let jsonl = write(dir.path(), "many.jsonl", text.as_bytes());
    let json = write(dir.path(), "many.json", array.as_bytes());
    assert!(text.len() > 20 * 100_003, "{} bytes", text.len());
    let tenant = tenant_file("");
    let paths = [
        jsonl,
        json,
        tenant.join("signins"),
        tenant.join("graph"),
        tenant.join("ual"),
    ];
    let (records, report) = read_every_way(&paths);
    // Every sign-in line and element is read (the huge ones decode to something not used).
    assert_eq!(report.files[0].records, 40 * 28 + 3);
    assert_eq!(report.files[1].records, 40 * 28 + 3 + 1);
    assert!(records.len() > 2 * 40 * 28);
    assert!(report.files[2..].iter().all(|f| f.records > 0));

    // Under a limit smaller than the huge records, they are unreadable, with their place.
    let (_, limited) = read_every_way_limited(&paths[..2], 200_000);
    let over: Vec<_> = unreadable(&limited);
    assert_eq!(
        over,
        [
            (
                "line 169".to_owned(),
                "line longer than the limit of 200000 bytes".to_owned()
            ),
            (
                "line 534".to_owned(),
                "line longer than the limit of 200000 bytes".to_owned()
            ),
            (
                "line 899".to_owned(),
                "line longer than the limit of 200000 bytes".to_owned()
            ),
            (
                "record 168".to_owned(),
                "record larger than the limit of 200000 bytes".to_owned()
            ),
            (
                "record 533".to_owned(),
                "record larger than the limit of 200000 bytes".to_owned()
            ),
            (
                "record 898".to_owned(),
                "record larger than the limit of 200000 bytes".to_owned()
            ),
        ]
    );
}

/// What framing one file gave, item by item.
fn frame_file(path: &Path, map_from: Option<u64>, opts: &FrameOptions) -> Vec<String> {
    let meter = Meter::new(None, None);
    let mut items = Vec::new();
    for located in source::locate(&[path]) {
        source::open_mapped(located, &meter, Default::default(), map_from, &mut |o| {
            let Opened::Input(input) = o else {
                items.push("failed".to_owned());
                return;
            };
            let framing = frame::frame_input(input, opts, &mut |item, _| {
                items.push(match item {
                    Framed::Record {
                        position,
                        payload: Payload::Json(bytes),
                    } => format!("{position} json {}", String::from_utf8_lossy(bytes)),
                    Framed::Record {
                        position,
                        payload: Payload::Csv { row, .. },
                    } => format!("{position} csv {row:?}"),
                    Framed::Unreadable { position, reason } => {
                        format!("{position} unreadable {reason}")
                    }
                })
            });
            items.push(format!("{} {:?}", framing.container, framing.error));
        });
    }
    items
}

/// Generated inputs of every container, cut and spliced at arbitrary places: framing a file
/// mapped gives the very items reading it gives.
#[test]
fn framing_mapped_equals_framing_read_on_generated_inputs() {
    let lines = sign_in_lines();
    let pieces: Vec<Vec<u8>> = vec![
        lines[0].clone().into_bytes(),
        lines[1].clone().into_bytes(),
        b"\n".to_vec(),
        b"\r\n".to_vec(),
        b"\n\n   \n".to_vec(),
        b",".to_vec(),
        b"[".to_vec(),
        b"]".to_vec(),
        b"{\"value\":[".to_vec(),
        b"\"str\\\"ing\"".to_vec(),
        b"\xff\xfe".to_vec(),
        b"\xEF\xBB\xBF".to_vec(),
        b"a,b,\"c\nd\",e\n".to_vec(),
        vec![b'y'; 70_000],
        vec![b' '; 5_000],
    ];
    let opts = FrameOptions {
        max_record_bytes: 150_000,
        yaml_test_cases: false,
    };
    let dir = tempfile::tempdir().unwrap();
    // A fixed linear congruential sequence: the same cases every run.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % n
    };
    for case in 0..48 {
        let mut bytes = Vec::new();
        // Start with a container's opening, then a mix.
        let starts: [&[u8]; 5] = [b"[", b"{\"records\":[", b"", b"a,b,c\n", b"\xEF\xBB\xBF"];
        bytes.extend_from_slice(starts[case % starts.len()]);
        let parts = 5 + next(60);
        for _ in 0..parts {
            let piece = &pieces[next(pieces.len())];
            let repeat = 1 + next(8);
            for _ in 0..repeat {
                bytes.extend_from_slice(piece);
                if case % 2 == 0 {
                    bytes.push(if case % 4 == 0 { b'\n' } else { b',' });
                }
            }
        }
        let cut = bytes.len() - next(bytes.len().min(200));
        bytes.truncate(cut);
        let path = write(dir.path(), &format!("case{case}"), &bytes);
        let read = frame_file(&path, None, &opts);
        let before = windows_mapped();
        let mapped = frame_file(&path, Some(1), &opts);
        assert!(windows_mapped() > before, "case {case} was not mapped");
        assert!(read == mapped, "case {case}: {} bytes", bytes.len());
    }
}
