//! Exports saved as UTF-16 (Windows PowerShell 5.1's default for `Out-File`, `>` and
//! `Export-Csv -Encoding Unicode`), with or without its byte order mark, or as UTF-32
//! (`-Encoding UTF32`): read as the same logs saved as UTF-8 are, plain, gzipped or in a zip
//! archive, little- or big-endian, with what is not text reported at its line.

use std::path::Path;

mod common;

/// `text` as UTF-16 with its byte order mark.
fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    encode(text, false, big_endian, true)
}

/// `text` as UTF-16 or UTF-32, little- or big-endian, with or without its byte order mark.
fn encode(text: &str, utf32: bool, big_endian: bool, mark: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let chars = mark.then_some('\u{feff}').into_iter().chain(text.chars());
    for c in chars {
        if utf32 {
            let c = u32::from(c);
            out.extend(if big_endian {
                c.to_be_bytes()
            } else {
                c.to_le_bytes()
            });
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.extend(if big_endian {
                    unit.to_be_bytes()
                } else {
                    unit.to_le_bytes()
                });
            }
        }
    }
    out
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

/// A lone surrogate in UTF-16 (with or without its byte order mark), a unit that is no
/// character in UTF-32: the record holding it is unreadable at its line, the others are read.
#[test]
fn utf16_that_is_not_text_is_an_unreadable_record_at_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let record = |id: u32| {
        format!(
            "{{\"CreationTime\":\"2024-03-04T06:3{id}:00\",\"Id\":\"00000000-0000-0000-0000-00000000000{id}\",\
             \"Operation\":\"UserLoggedIn\",\"RecordType\":15,\"UserId\":\"ana@contoso.com\",\
             \"ClientIP\":\"203.0.113.{id}\",\"Workload\":\"AzureActiveDirectory\"}}\r\n"
        )
    };
    let second = record(2);
    let (head, tail) = second.split_at(20);
    /// File, UTF-32, big-endian, byte order mark, the unit that is not text, what inspect says.
    type Case = (&'static str, bool, bool, bool, &'static [u8], &'static str);
    let cases: [Case; 3] = [
        ("audit.jsonl", false, false, true, &[0x00, 0xDC], "utf-16le"),
        (
            "audit32.jsonl",
            true,
            false,
            true,
            &[0, 0, 0x11, 0],
            "utf-32le",
        ),
        (
            "audit16.jsonl",
            false,
            true,
            false,
            &[0xD8, 0x3D],
            "utf-16be (no byte order mark)",
        ),
    ];
    for (name, utf32, big_endian, mark, not_text, said) in cases {
        let mut bytes = encode(&format!("{}{head}", record(1)), utf32, big_endian, mark);
        bytes.extend_from_slice(not_text);
        bytes.extend(encode(
            &format!("{tail}{}", record(3)),
            utf32,
            big_endian,
            false,
        ));
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let o = common::tokentrail()
            .args(["inspect"])
            .arg(&path)
            .output()
            .unwrap();
        let listing = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(1), "{listing}");
        assert!(
            listing.contains(&format!("(json-lines, {said}, 3 records)")),
            "{listing}"
        );
        assert!(listing.contains("unreadable records: 1"), "{listing}");
        let unreadable: Vec<&str> = listing.lines().filter(|l| l.contains(":2:")).collect();
        assert_eq!(unreadable.len(), 1, "{listing}");
        assert!(unreadable[0].contains("UTF-8"), "{listing}");
    }
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

/// The simulator's tenants in UTF-16 without a byte order mark and in UTF-32, sign-ins as the
/// Graph PowerShell SDK's objects: the same OCSF findings, byte for byte, as the same tenant
/// in UTF-8; gzipped in place too; and in a zip archive the same findings but for the
/// archive's name in each evidence source. `inspect` names each encoding.
#[test]
fn unmarked_utf16_and_utf32_tenants_read_as_their_utf8_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let formats = "signins=graph-sdk,graph=diagnostic,ual=search-csv";
    let simulate = |text: &str| {
        let dir = tmp.path().join(text);
        let o = common::tokentrail()
            .args(["simulate", "--users", "25", "--days", "2", "--seed", "11"])
            .args(["--formats"])
            .arg(format!("{formats},text={text}"))
            .arg("--out")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        dir
    };
    let utf8 = simulate("utf-8");
    let (code, findings, notes) = detect(&utf8);
    assert_eq!(code, Some(0), "{notes}");
    assert!(findings.lines().count() >= 4, "{findings}");
    let marks: [(&str, &[u8]); 4] = [
        ("utf-16le-nobom", b"[\0\r\0"),
        ("utf-16be-nobom", b"\0[\0\r"),
        ("utf-32le", b"\xff\xfe\0\0[\0\0\0"),
        ("utf-32be", b"\0\0\xfe\xff\0\0\0["),
    ];
    for (text, opening) in marks {
        let dir = simulate(text);
        let sign_ins = dir.join("signins").join("graph-sdk");
        let first = std::fs::read_dir(&sign_ins)
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let bytes = std::fs::read(first.path()).unwrap();
        assert!(bytes.starts_with(opening), "{text}: {:?}", &bytes[..8]);
        let (wide_code, wide_findings, wide_notes) = detect(&dir);
        assert_eq!(wide_code, Some(0), "{text}: {wide_notes}");
        assert!(wide_findings == findings, "{text}: the findings differ");

        let o = common::tokentrail()
            .current_dir(&dir)
            .args(["inspect", "signins", "graph", "ual"])
            .output()
            .unwrap();
        let listing = String::from_utf8_lossy(&o.stdout);
        let said = match text {
            "utf-16le-nobom" => "utf-16le (no byte order mark)",
            "utf-16be-nobom" => "utf-16be (no byte order mark)",
            other => other,
        };
        let files = listing
            .lines()
            .filter(|l| l.contains(&format!(", {said}, ")))
            .count();
        assert!(files >= 3, "{text}: {listing}");
    }

    // UTF-32LE sign-ins gzipped in place, UTF-16BE Graph logs without a mark, and the audit
    // log's CSV files in one zip archive as UTF-16LE without a mark.
    let mixed = tmp.path().join("mixed");
    std::fs::create_dir_all(&mixed).unwrap();
    convert_tree(&utf8, &mixed, &|path, bytes| {
        let text = std::str::from_utf8(bytes)
            .unwrap()
            .trim_start_matches('\u{feff}');
        let p = path.to_string_lossy();
        if p.contains("/signins/") {
            gzip(&encode(text, true, false, true))
        } else if p.contains("/graph/") {
            encode(text, false, true, false)
        } else {
            bytes.to_vec()
        }
    });
    let (mixed_code, mixed_findings, mixed_notes) = detect(&mixed);
    assert_eq!(mixed_code, Some(0), "{mixed_notes}");
    assert!(
        mixed_findings == findings,
        "gzipped UTF-32: the findings differ"
    );

    let ual = mixed.join("ual");
    let mut members = Vec::new();
    let mut stack = vec![ual.clone()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else {
            members.push(p);
        }
    }
    members.sort();
    assert!(!members.is_empty());
    let archive = tmp.path().join("audit.zip");
    {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&archive).unwrap());
        for m in &members {
            let name = m.strip_prefix(&ual).unwrap().to_string_lossy().into_owned();
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            let text = std::fs::read_to_string(m).unwrap();
            zip.write_all(&encode(
                text.trim_start_matches('\u{feff}'),
                false,
                false,
                false,
            ))
            .unwrap();
        }
        zip.finish().unwrap();
    }
    std::fs::remove_dir_all(&ual).unwrap();
    std::fs::create_dir_all(&ual).unwrap();
    std::fs::rename(&archive, ual.join("audit.zip")).unwrap();
    let (zip_code, zip_findings, zip_notes) = detect(&mixed);
    assert_eq!(zip_code, Some(0), "{zip_notes}");
    let unsourced = |ocsf: &str| {
        ocsf.split("\"source\":\"")
            .map(|part| part.split_once('"').map_or(part, |(_, rest)| rest))
            .collect::<Vec<_>>()
            .join("")
    };
    assert!(zip_findings.contains("audit.zip!"), "{zip_findings}");
    assert!(
        unsourced(&zip_findings) == unsourced(&findings),
        "UTF-16 in a zip archive: the findings differ"
    );
}
