//! CSV exports decoded on several threads (issue 17): the Entra admin center's sign-in CSV,
//! Purview's audit CSV and `Search-UnifiedAuditLog | Export-Csv`, each with a row that does
//! not fit its header in the middle and a quote never closed at the end, give the same records
//! in the same order, the same report (the unreadable rows at their lines) and the same findings
//! with any number of decoding threads.

use std::path::{Path, PathBuf};

use tokentrail_ingest::{read_paths, ReadOptions};

mod common;

const UNCLOSED: &str = "unclosed quote: a quoted field runs from this row to the end of the file";

/// A tenant with every attack, its sign-ins as the admin center's CSV and its audit log as
/// `ual` (`purview-csv` or `search-csv`).
fn simulate(out: &Path, ual: &str) {
    let o = common::tokentrail()
        .args(["simulate", "--users", "60", "--days", "2", "--seed", "3"])
        .args(["--attacks", "all"])
        .args(["--formats"])
        .arg(format!("signins=entra-portal-csv,ual={ual}"))
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The largest CSV file under `dir`.
fn largest_csv(dir: &Path) -> PathBuf {
    let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .map(|p| (std::fs::metadata(&p).unwrap().len(), p))
        .collect();
    files.sort();
    files.pop().unwrap().1
}

/// Put a row of two fields before the first line past the middle of the file where no quote
/// is open (so it is a row of its own), and end the file with a row whose quote never closes.
/// The lines of the two.
fn damage(path: &Path) -> (u64, u64) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.ends_with('\n'));
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut quotes = 0;
    let mut at = lines.len();
    for (i, line) in lines.iter().enumerate() {
        if i >= lines.len() / 2 && quotes % 2 == 0 {
            at = i;
            break;
        }
        quotes += line.matches('"').count();
    }
    let mut damaged: String = lines[..at].concat();
    damaged.push_str("2024-03-04T10:00:00Z,short row\n");
    damaged.push_str(&lines[at..].concat());
    damaged.push_str("2024-03-05T10:00:00Z,\"never closed,x,y\n");
    std::fs::write(path, damaged).unwrap();
    (at as u64 + 1, lines.len() as u64 + 2)
}

/// Every record read with `threads` decoding threads, and the report, as text.
fn read(paths: &[PathBuf], threads: usize) -> (Vec<String>, serde_json::Value) {
    let opts = ReadOptions {
        decode_threads: threads,
        drop_duplicate_sign_ins: false,
        ..ReadOptions::default()
    };
    let mut records = Vec::new();
    let report = read_paths(paths, &opts, &mut |r| records.push(format!("{r:?}")));
    (records, serde_json::to_value(&report).unwrap())
}

/// Detect's OCSF output with `threads` threads, and its exit code.
fn detect_ocsf(paths: &[PathBuf], threads: usize) -> (Option<i32>, Vec<u8>) {
    let o = common::tokentrail()
        .arg("detect")
        .args(paths)
        .args(["--format", "ocsf", "--now", "2024-03-10", "--threads"])
        .arg(threads.to_string())
        .output()
        .unwrap();
    (o.status.code(), o.stdout)
}

#[test]
fn csv_exports_give_the_same_records_in_order_on_any_number_of_threads() {
    let root = tempfile::tempdir().unwrap();
    let tenant = root.path().join("tenant");
    simulate(&tenant, "purview-csv");
    let sign_ins = largest_csv(&tenant.join("signins/entra-portal"));
    let audit = largest_csv(&tenant.join("ual/purview"));
    // The same audit records as `Search-UnifiedAuditLog | Export-Csv` writes them, beside.
    let other = root.path().join("search");
    simulate(&other, "search-csv");
    std::fs::create_dir(tenant.join("ual/search")).unwrap();
    let search = tenant.join("ual/search/audit.csv");
    std::fs::copy(largest_csv(&other.join("ual/search")), &search).unwrap();
    // Several batches of rows (a batch closes at 512 KiB) before and after the damage.
    for file in [&sign_ins, &audit, &search] {
        let bytes = std::fs::metadata(file).unwrap().len();
        assert!(bytes > 4 * 512 * 1024, "{file:?}: {bytes} bytes");
    }
    let damaged = [damage(&sign_ins), damage(&audit), damage(&search)];
    let paths: Vec<PathBuf> = ["signins", "graph", "ual"]
        .iter()
        .map(|d| tenant.join(d))
        .collect();

    let (inline, inline_report) = read(&paths, 0);
    let files = inline_report["files"].as_array().unwrap();
    let mut unreadable = Vec::new();
    for file in files {
        for u in file["unreadable_records"].as_array().unwrap() {
            let line = u["source"]["position"]["line"].as_u64().expect("a line");
            let reason = u["reason"].as_str().unwrap().to_owned();
            unreadable.push((file["file"].as_str().unwrap().to_owned(), line, reason));
        }
    }
    let fields = |path: &Path| {
        let header = std::fs::read_to_string(path).unwrap();
        let header = header.lines().next().unwrap().to_owned();
        header.split(',').count()
    };
    let mut expected = Vec::new();
    for (file, (short, unclosed)) in [&sign_ins, &audit, &search].into_iter().zip(damaged) {
        let name = file.to_string_lossy().into_owned();
        let short_reason = format!("CSV row: row has 2 fields, the header has {}", fields(file));
        expected.push((name.clone(), short, short_reason));
        expected.push((name, unclosed, UNCLOSED.to_owned()));
    }
    assert_eq!(unreadable, expected);
    assert_eq!(inline_report["totals"]["unreadable"], 6);
    let shapes = |file: &Path| {
        let name = file.to_string_lossy();
        let report = files.iter().find(|f| f["file"] == *name).unwrap();
        report["shapes"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    // Each file read as the export it is.
    assert_eq!(shapes(&sign_ins), ["entra-portal-csv"]);
    assert_eq!(shapes(&audit), ["purview-csv"]);
    assert_eq!(shapes(&search), ["search-unified-audit-log-csv"]);
    assert!(inline.len() > 10_000, "{} records", inline.len());

    for threads in [1, 2, 4] {
        let (records, report) = read(&paths, threads);
        assert_eq!(records.len(), inline.len(), "{threads} threads");
        if let Some(i) = (0..inline.len()).find(|&i| records[i] != inline[i]) {
            panic!(
                "record {i} differs with {threads} threads:\n{}\n{}",
                inline[i], records[i]
            );
        }
        assert!(report == inline_report, "report, {threads} threads");
    }

    let (code, ocsf) = detect_ocsf(&paths, 1);
    assert_eq!(code, Some(1), "unreadable rows: a partial read");
    assert!(ocsf.len() > 1000, "{} bytes of findings", ocsf.len());
    for threads in [2, 4] {
        assert!(
            detect_ocsf(&paths, threads) == (code, ocsf.clone()),
            "detect, {threads} threads"
        );
    }
}
