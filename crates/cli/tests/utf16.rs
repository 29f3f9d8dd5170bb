//! Exports saved as UTF-16 (Windows PowerShell 5.1's default for `Out-File`, `>` and
//! `Export-Csv -Encoding Unicode`): read as the same logs saved as UTF-8 are, plain or
//! gzipped, little- or big-endian, with what is not text reported at its line.

use std::path::Path;

mod common;

/// `text` as UTF-16 with its byte order mark.
fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut bytes = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in text.encode_utf16() {
        bytes.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Every file under `from`, written under `to` at the same place by `convert`.
fn convert_tree(from: &Path, to: &Path, convert: &dyn Fn(&Path, &[u8]) -> Vec<u8>) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            convert_tree(&path, &target, convert);
        } else {
            std::fs::write(&target, convert(&path, &std::fs::read(&path).unwrap())).unwrap();
        }
    }
}

/// `detect --format ocsf` run in `dir` on its three log folders: exit code, stdout, stderr.
fn detect(dir: &Path) -> (Option<i32>, String, String) {
    let o = common::tokentrail()
        .current_dir(dir)
        .args(["detect", "signins", "graph", "ual", "--format", "ocsf"])
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn utf16_exports_give_the_findings_of_the_same_exports_in_utf8() {
    let tmp = tempfile::tempdir().unwrap();
    let utf8 = tmp.path().join("utf8");
    let o = common::tokentrail()
        .args(["simulate", "--users", "30", "--days", "2", "--seed", "5"])
        .args(["--attacks", "all", "--formats"])
        .args(["signins=la-jsonl,graph=diagnostic,ual=purview-csv", "--out"])
        .arg(&utf8)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Sign-ins little-endian and gzipped, Graph big-endian, the audit CSV little-endian with
    // Windows line ends: every file of the tenant.
    let wide = tmp.path().join("utf16");
    std::fs::create_dir_all(&wide).unwrap();
    convert_tree(&utf8, &wide, &|path, bytes| {
        let text = std::str::from_utf8(bytes).unwrap();
        let p = path.to_string_lossy();
        if p.contains("/signins/") {
            gzip(&utf16(text, false))
        } else if p.contains("/graph/") {
            utf16(text, true)
        } else if p.contains("/ual/") {
            utf16(&text.replace("\r\n", "\n").replace('\n', "\r\n"), false)
        } else {
            bytes.to_vec()
        }
    });
    let (code, findings, notes) = detect(&utf8);
    assert_eq!(code, Some(0), "{notes}");
    assert!(
        findings.lines().count() >= 4,
        "{} findings",
        findings.lines().count()
    );
    let (wide_code, wide_findings, wide_notes) = detect(&wide);
    assert_eq!(wide_code, Some(0), "{wide_notes}");
    assert!(
        wide_findings == findings,
        "the UTF-16 tenant's findings differ"
    );

    // `inspect` says which files were UTF-16.
    let o = common::tokentrail()
        .current_dir(&wide)
        .args(["inspect", "signins", "graph", "ual"])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&o.stdout);
    let said = |what: &str| listing.lines().filter(|l| l.contains(what)).count();
    assert!(said(", gzip, utf-16le, ") >= 1, "{listing}");
    assert!(said(", utf-16be, ") >= 1, "{listing}");
    assert!(said("(csv, utf-16le, ") >= 1, "{listing}");
}

#[test]
fn utf16_that_is_not_text_is_an_unreadable_record_at_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let record = |id: u32| {
        format!(
            "{{\"CreationTime\":\"2024-03-04T06:3{id}:00\",\"Id\":\"00000000-0000-0000-0000-00000000000{id}\",\
             \"Operation\":\"UserLoggedIn\",\"RecordType\":15,\"UserId\":\"ana@contoso.com\",\
             \"ClientIP\":\"203.0.113.{id}\",\"Workload\":\"AzureActiveDirectory\"}}"
        )
    };
    let mut bytes = utf16(&format!("{}\r\n", record(1)), false);
    // Line 2: a lone low surrogate inside the record.
    let second = record(2);
    let (head, tail) = second.split_at(20);
    for unit in head.encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    bytes.extend(0xDC00u16.to_le_bytes());
    for unit in format!("{tail}\r\n{}\r\n", record(3)).encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    let path = tmp.path().join("audit.jsonl");
    std::fs::write(&path, bytes).unwrap();
    let o = common::tokentrail()
        .args(["inspect"])
        .arg(&path)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{listing}");
    assert!(
        listing.contains("(json-lines, utf-16le, 3 records)"),
        "{listing}"
    );
    let unreadable: Vec<&str> = listing.lines().filter(|l| l.contains(":2:")).collect();
    assert_eq!(unreadable.len(), 1, "{listing}");
    assert!(unreadable[0].contains("UTF-8"), "{listing}");
}

/// The simulator writes UTF-16 tenants itself (`--formats ...,text=utf-16le`): the same
/// findings as the same tenant in UTF-8, every log file starting with the byte order mark.
#[test]
fn the_simulators_utf16_tenants_read_as_its_utf8_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for text in ["utf-8", "utf-16le", "utf-16be"] {
        let dir = tmp.path().join(text);
        let o = common::tokentrail()
            .args(["simulate", "--users", "25", "--days", "1", "--seed", "9"])
            .args(["--formats"])
            .arg(format!(
                "signins=entra-portal-csv,graph=defender-hunting,ual=mgmt-api,text={text}"
            ))
            .arg("--out")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut logs = 0;
        for family in ["signins", "graph", "ual"] {
            let mut stack = vec![dir.join(family)];
            while let Some(p) = stack.pop() {
                if p.is_dir() {
                    stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
                } else {
                    let head = std::fs::read(&p).unwrap();
                    let mark: &[u8] = match text {
                        "utf-16le" => b"\xff\xfe",
                        "utf-16be" => b"\xfe\xff",
                        _ => b"",
                    };
                    assert!(head.starts_with(mark), "{p:?}");
                    logs += 1;
                }
            }
        }
        assert!(logs >= 3, "{logs} log files");
        outputs.push(detect(&dir));
    }
    assert_eq!(outputs[0].0, Some(0), "{}", outputs[0].2);
    assert!(outputs[0].1.lines().count() >= 2, "{}", outputs[0].1);
    for other in &outputs[1..] {
        assert!(other.1 == outputs[0].1, "{}", other.2);
        assert_eq!(other.0, outputs[0].0);
    }
}
