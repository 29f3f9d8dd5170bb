//! `tokentrail normalize`: the example tenant as Parquet day partitions, read back; output
//! independent of the worker count; unreadable input listed; a used folder refused.

// Without the feature the Parquet tests are skipped, and some shared helpers go unused.
#![cfg_attr(not(feature = "parquet"), allow(dead_code))]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every file under `dir`, relative, sorted, with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root");
                out.insert(
                    rel.to_string_lossy().into_owned(),
                    std::fs::read(&path).expect("file"),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn normalize(inputs: &[PathBuf], out: &Path, extra: &[&str]) -> std::process::Output {
    common::tokentrail()
        .arg("normalize")
        .args(inputs)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("run tokentrail normalize")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What `normalize --format json` says of the example tenant written into `lake`.
fn example_tenant_as_json_lines(lake: &Path) -> String {
    format!(
        "tokentrail: read 1589 records from 8 input(s); wrote 495 sign-ins and 1094 accesses \
         to {} (14 JSON lines file(s) over 2 day(s))\n",
        lake.display()
    )
}

/// JSON lines need no Parquet: every build writes the example tenant in the tables' layout.
#[test]
fn every_build_writes_the_example_tenant_as_json_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lake = dir.path().join("lake");
    let out = normalize(
        &common::example_tenant(),
        &lake,
        &["--threads", "2", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), example_tenant_as_json_lines(&lake));
    let mut per_table: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_kind: BTreeMap<String, u64> = BTreeMap::new();
    for (name, bytes) in files(&lake) {
        assert!(name.ends_with(".jsonl"), "{name}");
        let table = name.split('/').next().expect("table").to_owned();
        for line in String::from_utf8(bytes).expect("UTF-8").lines() {
            let row: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(line).expect("a JSON object per line");
            if table == "sign_ins" {
                let kind = row["kind"].as_str().expect("kind").to_owned();
                *per_kind.entry(kind).or_default() += 1;
            }
            *per_table.entry(table.clone()).or_default() += 1;
        }
    }
    assert_eq!(
        per_table,
        BTreeMap::from([("accesses".to_owned(), 1094), ("sign_ins".to_owned(), 495)])
    );
    assert_eq!(
        per_kind,
        BTreeMap::from(
            [
                ("interactive", 28),
                ("managed-identity", 24),
                ("non-interactive", 355),
                ("service-principal", 60),
                ("ual-logon", 28),
            ]
            .map(|(k, n)| (k.to_owned(), n))
        )
    );
}

/// A build without Parquet says how to get the tables before it reads or removes anything.
#[cfg(not(feature = "parquet"))]
#[test]
fn a_build_without_parquet_refuses_it_before_touching_the_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lake = dir.path().join("lake");
    let old = lake.join("sign_ins/day=2024-03-04/part-00000.parquet");
    std::fs::create_dir_all(old.parent().expect("parent")).expect("dir");
    std::fs::write(&old, b"an earlier run's table").expect("old table");
    let out = normalize(&common::example_tenant(), &lake, &["--force"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "without Parquet support: write JSON lines in the same layout with --format json"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(&old).expect("still there"),
        b"an earlier run's table"
    );
}

#[cfg(not(feature = "parquet"))]
#[test]
fn the_parquet_tables_need_the_parquet_feature() {
    common::skip_without_feature("parquet");
}

#[cfg(feature = "parquet")]
mod with_parquet {
    use super::{common, files, normalize, stderr};

    use std::collections::BTreeMap;
    use std::path::Path;

    use tokentrail_parquet::{read_text_table, TextTable};

    /// Every row of every file of `table` under `lake`.
    fn rows(lake: &Path, table: &str) -> TextTable {
        let mut all = TextTable::default();
        for name in files(&lake.join(table)).keys() {
            let t = read_text_table(&lake.join(table).join(name)).expect("parquet");
            all.columns = t.columns;
            all.rows.extend(t.rows);
        }
        all
    }

    #[test]
    fn the_example_tenant_is_written_as_day_partitions_per_input() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lake = dir.path().join("lake");
        let out = normalize(&common::example_tenant(), &lake, &["--threads", "2"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(
            stderr(&out),
            format!(
                "tokentrail: read 1589 records from 8 input(s); wrote 495 sign-ins and 1094 \
             accesses to {} (14 Parquet file(s) over 2 day(s))\n",
                lake.display()
            )
        );
        // Inputs in read order: the four sign-in tables (0-3), the two Graph days (4, 5), the two
        // Purview days (6, 7), whose UserLoggedIn records are sign-ins and the rest accesses.
        let names: Vec<String> = files(&lake).into_keys().collect();
        let mut expected = Vec::new();
        for (day, accesses, sign_ins) in [
            ("2024-03-04", [4, 6], [0, 1, 2, 3, 6]),
            ("2024-03-05", [5, 7], [0, 1, 2, 3, 7]),
        ] {
            for part in accesses {
                expected.push(format!("accesses/day={day}/part-{part:05}.parquet"));
            }
            for part in sign_ins {
                expected.push(format!("sign_ins/day={day}/part-{part:05}.parquet"));
            }
        }
        expected.sort();
        assert_eq!(names, expected);

        let sign_ins = rows(&lake, "sign_ins");
        assert_eq!(sign_ins.rows.len(), 495);
        let col = |name| sign_ins.column(name).expect(name);
        let (id, token, issued, kind) =
            (col("id"), col("token_id"), col("issued_token"), col("kind"));
        let mut per_kind: BTreeMap<&str, u64> = BTreeMap::new();
        let mut decoded = 0;
        for row in &sign_ins.rows {
            *per_kind
                .entry(row[kind].as_deref().expect("kind"))
                .or_default() += 1;
            // A logged uti, decoded, is the id of the sign-in that issued the token.
            if let (Some(t), Some(i)) = (&row[token], &row[id]) {
                assert_eq!(t, i);
                decoded += 1;
            }
            assert_eq!(row[issued], row[token].clone().or(row[id].clone()));
        }
        // The lines of each Log Analytics table (the non-interactive one logs one sign-in twice:
        // inspect counts 354 and one duplicate), and inspect's 28 UAL logons.
        assert_eq!(
            per_kind,
            BTreeMap::from([
                ("interactive", 28),
                ("managed-identity", 24),
                ("non-interactive", 355),
                ("service-principal", 60),
                ("ual-logon", 28),
            ])
        );
        // Every Log Analytics row with both `UniqueTokenIdentifier` and `Id` (467 of 467).
        assert_eq!(decoded, 467);
        let accesses = rows(&lake, "accesses");
        assert_eq!(accesses.rows.len(), 1094);
    }

    #[test]
    fn the_output_does_not_depend_on_the_number_of_workers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let one = dir.path().join("one");
        let three = dir.path().join("three");
        for (out, threads) in [(&one, "1"), (&three, "3")] {
            let run = normalize(&common::example_tenant(), out, &["--threads", threads]);
            assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
        }
        let (a, b) = (files(&one), files(&three));
        assert_eq!(a.len(), 14);
        assert!(a == b, "the files differ between 1 and 3 workers");
    }

    #[test]
    fn unreadable_records_are_listed_and_the_readable_ones_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tenant = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tenant");
        let good = std::fs::read_to_string(tenant.join("signins/la/SigninLogs.jsonl"))
            .expect("example sign-ins");
        let first = good.lines().next().expect("a line");
        let input = dir.path().join("signins.jsonl");
        std::fs::write(&input, format!("{first}\n{{\"Id\": \n")).expect("write");
        let lake = dir.path().join("lake");
        let out = normalize(std::slice::from_ref(&input), &lake, &[]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!("{}:2: malformed JSON", input.display())),
            "{err}"
        );
        assert!(
            err.ends_with(&format!(
                "wrote 1 sign-ins and 0 accesses to {} (2 Parquet file(s) over 1 day(s); 1 \
             table(s) without rows written empty)\n",
                lake.display()
            )),
            "{err}"
        );
        assert_eq!(rows(&lake, "sign_ins").rows.len(), 1);
        // The table without rows is there with its columns, so a query over it still runs.
        let accesses = rows(&lake, "accesses");
        assert!(accesses.rows.is_empty());
        assert_eq!(
            accesses.columns[..4],
            ["source_file", "source_line", "source_index", "log"]
        );
        assert_eq!(
            files(&lake.join("accesses"))
                .into_keys()
                .collect::<Vec<_>>(),
            ["day=__HIVE_DEFAULT_PARTITION__/part-00000.parquet"]
        );
    }

    #[test]
    fn nothing_readable_exits_2() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("junk.jsonl");
        std::fs::write(&input, "{\"Id\": \n").expect("write");
        let out = normalize(std::slice::from_ref(&input), &dir.path().join("lake"), &[]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("\ntokentrail: nothing readable in the inputs\n"),
            "{}",
            stderr(&out)
        );
        assert!(!dir.path().join("lake/sign_ins").exists());
    }

    #[test]
    fn a_folder_that_holds_files_is_refused_unless_forced_and_then_only_the_tables_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lake = dir.path().join("lake");
        let stale = lake.join("sign_ins/day=1999-01-01/part-00099.parquet");
        std::fs::create_dir_all(stale.parent().expect("dir")).expect("mkdir");
        std::fs::write(&stale, "old").expect("write");
        std::fs::write(lake.join("NOTES.md"), "keep me").expect("write");

        let out = normalize(&common::example_tenant(), &lake, &[]);
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(
            stderr(&out),
            format!(
                "tokentrail: {} already holds 2 entries; tables written there would be read \
             together with what is in it. Choose an empty folder, or pass --force to replace \
             its sign_ins/ and accesses/ tables.\n",
                lake.display()
            )
        );
        assert!(stale.exists());

        let out = normalize(&common::example_tenant(), &lake, &["--force"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(!stale.exists());
        assert_eq!(
            std::fs::read_to_string(lake.join("NOTES.md")).expect("kept"),
            "keep me"
        );
        assert_eq!(files(&lake).len(), 15);
    }

    /// `--format json` writes the same tables in the same partitions as JSON lines: the same
    /// rows, one object per row with the Parquet columns in their order, times as RFC 3339.
    #[test]
    fn json_lines_hold_the_same_rows_in_the_same_layout() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (lake, json_lake) = (dir.path().join("lake"), dir.path().join("json"));
        let tenant = common::example_tenant();
        assert_eq!(normalize(&tenant, &lake, &[]).status.code(), Some(0));
        let out = normalize(&tenant, &json_lake, &["--format", "json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(
            stderr(&out),
            super::example_tenant_as_json_lines(&json_lake)
        );
        let parquet_names: Vec<String> = files(&lake)
            .into_keys()
            .map(|n| n.replace(".parquet", ".jsonl"))
            .collect();
        let json_files = files(&json_lake);
        assert_eq!(
            json_files.keys().cloned().collect::<Vec<_>>(),
            parquet_names
        );
        for table in ["sign_ins", "accesses"] {
            let parquet = rows(&lake, table);
            let mut json_rows: Vec<Vec<Option<String>>> = Vec::new();
            for (name, bytes) in &json_files {
                if !name.starts_with(table) {
                    continue;
                }
                for line in String::from_utf8(bytes.clone()).expect("utf-8").lines() {
                    let row: serde_json::Map<String, serde_json::Value> =
                        serde_json::from_str(line).expect("a JSON object per line");
                    // The columns in their order (the map read back sorts them).
                    assert!(line.starts_with("{\"source_file\":"), "{line}");
                    let mut columns = parquet.columns.clone();
                    columns.sort();
                    assert_eq!(row.keys().cloned().collect::<Vec<_>>(), columns, "{table}");
                    json_rows.push(
                        parquet
                            .columns
                            .iter()
                            .map(|c| match &row[c] {
                                serde_json::Value::Null => None,
                                serde_json::Value::String(s) => Some(s.clone()),
                                other => Some(other.to_string()),
                            })
                            .collect(),
                    );
                }
            }
            assert_eq!(json_rows.len(), parquet.rows.len(), "{table}");
            // Ids and times agree row for row (files in the same order, rows in read order).
            let id = parquet
                .column("id")
                .or(parquet.column("record_id"))
                .expect("id");
            let time = parquet.column("time").expect("time");
            for (j, p) in json_rows.iter().zip(&parquet.rows) {
                assert_eq!(j[id], p[id], "{table}");
                let (jt, pt) = (j[time].as_deref().unwrap(), p[time].as_deref().unwrap());
                assert_eq!(
                    tokentrail_model::Timestamp::parse(jt),
                    tokentrail_model::Timestamp::parse(pt),
                    "{table}: {jt} {pt}"
                );
            }
        }
    }
}
