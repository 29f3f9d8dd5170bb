//! The local Spark harness end to end: a simulated tenant normalized to Parquet by
//! `tokentrail normalize`, a Spark SQL script run over it by `bench/spark_sql.py` on
//! `local[2]`, and the result checked against `tokentrail inspect` and the raw logs; and the
//! rules exported by `tokentrail export --target spark-sql` run there, their findings compared
//! with `detect`'s (the differential test).
//!
//! Spark comes from PyPI into the venv `spark-venv` in cargo's target directory
//! (`bash bench/spark-env.sh`, which also installs Java 17 when missing). Without it the test is
//! skipped with a message saying so, except under `CI=true`, where it fails: CI installs it.

// Without the feature only the skip below is compiled, and the shared helpers go unused.
#![cfg_attr(not(feature = "parquet"), allow(dead_code))]

mod common;

#[cfg(not(feature = "parquet"))]
#[test]
fn needs_the_parquet_feature() {
    common::skip_without_feature("parquet");
}

#[cfg(feature = "parquet")]
mod with_parquet {
    use super::common;
    use super::common::run_ok as run;

    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// The venv's python with pyspark, and Java; or why they are not there.
    fn spark_python() -> Result<PathBuf, String> {
        let venv = std::env::var_os("SPARK_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| common::target_dir().join("spark-venv"));
        let python = venv.join("bin/python");
        let imports = Command::new(&python)
            .args(["-c", "import pyspark"])
            .output()
            .map_err(|e| format!("no python at {} ({e})", python.display()))?;
        if !imports.status.success() {
            return Err(format!("{} cannot import pyspark", python.display()));
        }
        Command::new("java")
            .arg("-version")
            .output()
            .map_err(|e| format!("no java on PATH ({e})"))?;
        Ok(python)
    }

    /// Sign-ins per kind over the whole tenant, as `inspect --json` counts them.
    fn inspect_sign_ins(tenant: &Path) -> BTreeMap<String, u64> {
        let out = run(
            common::tokentrail().args(["inspect", "--json"]).arg(tenant),
            "tokentrail inspect",
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("inspect JSON");
        let mut kinds = BTreeMap::new();
        for file in report["files"].as_array().expect("files") {
            for count in file["counts"].as_array().expect("counts") {
                if count["family"] == "sign-ins" {
                    *kinds
                        .entry(count["kind"].as_str().expect("kind").to_owned())
                        .or_default() += count["records"].as_u64().expect("records");
                }
            }
        }
        kinds
    }

    /// Sign-ins per (UTC day of `CreatedDateTime`, kind) in the Log Analytics sign-in tables,
    /// counted from the raw lines.
    fn raw_sign_ins_per_day(tenant: &Path) -> BTreeMap<(String, String), u64> {
        let tables = [
            ("SigninLogs.jsonl", "interactive"),
            ("AADNonInteractiveUserSignInLogs.jsonl", "non-interactive"),
            ("AADServicePrincipalSignInLogs.jsonl", "service-principal"),
            ("AADManagedIdentitySignInLogs.jsonl", "managed-identity"),
        ];
        let mut per_day = BTreeMap::new();
        for (file, kind) in tables {
            let text = std::fs::read_to_string(tenant.join("signins/la").join(file)).expect(file);
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let row: serde_json::Value = serde_json::from_str(line).expect("JSON line");
                let created = row["CreatedDateTime"].as_str().expect("CreatedDateTime");
                *per_day
                    .entry((created[..10].to_owned(), kind.to_owned()))
                    .or_default() += 1;
            }
        }
        per_day
    }

    const SCRIPT: &str = "\
-- Two statements: a view, then the query whose rows are the result; the `;` inside the
-- literal and in this comment do not split statements.
CREATE OR REPLACE TEMPORARY VIEW counted AS
SELECT day, kind, count(*) AS rows_read,
       -- A sign-in logged twice is two rows; inspect, like detect, counts it once (by id).
       count(DISTINCT id) + count_if(id IS NULL) AS sign_ins,
       typeof(day) AS day_type, typeof(min(time)) AS time_type,
       -- The logged uti, decoded, is the id of the sign-in that issued the token.
       count_if(token_id = id) AS uti_is_id, count_if(token_id <> id) AS uti_is_not_id
FROM sign_ins
WHERE kind <> 'not;a kind'
GROUP BY day, kind;

SELECT day, kind, rows_read, sign_ins, day_type, time_type, uti_is_id, uti_is_not_id
FROM counted ORDER BY day, kind
";

    /// The venv's python; `None` (the test is skipped, saying why) when Spark is not set up
    /// outside CI.
    fn spark_or_skip() -> Option<PathBuf> {
        match spark_python() {
            Ok(p) => Some(p),
            Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("CI=true and Spark is not set up: {why} (.ci/run runs bench/spark-env.sh)")
            }
            Err(why) => {
                println!("skipped: local Spark not set up ({why}); run `bash bench/spark-env.sh`");
                None
            }
        }
    }

    /// Run `script` over the normalized folder `lake` on local Spark, writing its result to `out`.
    fn spark_sql(python: &Path, lake: &Path, script: &str, out: &Path, format: &str) {
        let file = out.with_extension("sql");
        std::fs::write(&file, script).expect("script");
        run(
            Command::new(python)
                .arg(common::workspace_root().join("bench/spark_sql.py"))
                .arg("--normalized")
                .arg(lake)
                .arg("--sql")
                .arg(&file)
                .arg("--out")
                .arg(out)
                .args(["--format", format]),
            "bench/spark_sql.py",
        );
    }

    fn normalize(inputs: &[PathBuf], lake: &Path) {
        run(
            common::tokentrail()
                .args(["normalize", "--threads", "2"])
                .args(inputs)
                .arg("--out")
                .arg(lake),
            "tokentrail normalize",
        );
    }

    #[test]
    fn spark_counts_the_normalized_sign_ins_per_day_as_the_raw_logs_and_inspect_do() {
        let Some(python) = spark_or_skip() else {
            return;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let tenant = dir.path().join("tenant");
        let lake = dir.path().join("lake");
        run(
            common::tokentrail()
                .args(["simulate", "--users", "40", "--days", "2", "--seed", "5"])
                .args(["--attacks", "all"])
                .args(["--formats", "signins=la-jsonl,graph=la-jsonl,ual=jsonl"])
                .arg("--out")
                .arg(&tenant),
            "tokentrail simulate",
        );
        normalize(std::slice::from_ref(&tenant), &lake);
        let result = dir.path().join("counts.csv");
        spark_sql(&python, &lake, SCRIPT, &result, "csv");

        let text = std::fs::read_to_string(&result).expect("result");
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("day,kind,rows_read,sign_ins,day_type,time_type,uti_is_id,uti_is_not_id"),
            "{text}"
        );
        // (day, kind) -> (rows, distinct sign-ins)
        let mut spark: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
        let mut uti_is_id = 0u64;
        for line in lines {
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(cells.len(), 8, "{line}");
            // Spark found the partition column by itself, as a date, and read the times as
            // timestamps.
            assert_eq!((cells[4], cells[5]), ("date", "timestamp"), "{line}");
            uti_is_id += cells[6].parse::<u64>().expect("count");
            assert_eq!(
                cells[7], "0",
                "a uti that does not decode to its sign-in's id: {line}"
            );
            spark.insert(
                (cells[0].to_owned(), cells[1].to_owned()),
                (
                    cells[2].parse().expect("count"),
                    cells[3].parse().expect("count"),
                ),
            );
        }
        assert!(uti_is_id > 1000, "{uti_is_id} sign-ins with a uti");
        let days: Vec<&str> = spark.keys().map(|(d, _)| d.as_str()).collect();
        assert!(
            days.contains(&"2024-03-04") && days.contains(&"2024-03-05"),
            "{days:?}"
        );

        let mut per_kind: BTreeMap<String, u64> = BTreeMap::new();
        for ((_, kind), (_, distinct)) in &spark {
            *per_kind.entry(kind.clone()).or_default() += distinct;
        }
        assert_eq!(per_kind, inspect_sign_ins(&tenant));
        assert!(per_kind.contains_key("ual-logon"), "{per_kind:?}");

        let raw = raw_sign_ins_per_day(&tenant);
        let rows: BTreeMap<(String, String), u64> = spark
            .iter()
            .filter(|((_, kind), _)| kind != "ual-logon")
            .map(|(key, (rows, _))| (key.clone(), *rows))
            .collect();
        assert_eq!(rows, raw);
        // The simulator logs some sign-ins twice: every row is in the table.
        let duplicates: u64 = spark.values().map(|(rows, distinct)| rows - distinct).sum();
        assert!(duplicates > 0, "{spark:?}");
    }

    /// Findings as a Spark job writes them (Parquet with Spark's types: INT96 timestamps, bigint
    /// counts; or JSON rows) render as the findings `detect` wrote.
    #[test]
    fn findings_written_by_spark_render_as_detects() {
        let Some(python) = spark_or_skip() else {
            return;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let logs = common::example_tenant();
        let lake = dir.path().join("lake");
        normalize(&logs, &lake);
        let detect = |format: &str| {
            let out = run(
                common::tokentrail()
                    .args(["detect", "--format", format])
                    .args(&logs),
                "tokentrail detect",
            );
            String::from_utf8(out.stdout).expect("utf-8")
        };
        let csv = detect("csv");
        assert!(csv.lines().count() > 5, "{csv}");
        let detected = dir.path().join("detect.csv");
        std::fs::write(&detected, &csv).expect("write");
        // Spark reads the CSV as text and writes typed columns, as a findings query would.
        let script = format!(
            "CREATE OR REPLACE TEMPORARY VIEW detected USING csv \
         OPTIONS (path '{}', header 'true', multiLine 'true', escape '\"');\n\
         SELECT id, rule, rule_name, severity, confidence, status, title, user_id, upn, \
         session_id, token_id, app_id, app_name, resource, src_ip, network, \
         CAST(network_approximate AS BOOLEAN) AS network_approximate, \
         CAST(first_seen AS TIMESTAMP) AS first_seen, CAST(last_seen AS TIMESTAMP) AS last_seen, \
         CAST(records AS BIGINT) AS records, CAST(operations AS BIGINT) AS operations, \
         issue_sign_in_id, issue_kind, CAST(issue_time AS TIMESTAMP) AS issue_time, issue_ip, \
         issue_network, suppression_entry, suppression_reason, why FROM detected",
            detected.display()
        );
        let table = dir.path().join("findings");
        spark_sql(&python, &lake, &script, &table, "parquet");
        let rows = dir.path().join("findings.jsonl");
        spark_sql(&python, &lake, &script, &rows, "json");
        for input in [&table, &rows] {
            for format in ["csv", "table"] {
                let out = run(
                    common::tokentrail()
                        .args(["findings", "--format", format])
                        .arg(input),
                    "tokentrail findings",
                );
                let rendered = String::from_utf8(out.stdout).expect("utf-8");
                let mut detected = detect(format);
                if format == "table" {
                    // The command to run next: over the logs for detect; findings, which does
                    // not know them, names a placeholder.
                    let next = "next: tokentrail investigate";
                    let paths: Vec<String> = logs.iter().map(|p| p.display().to_string()).collect();
                    detected = detected.replace(
                        &format!("{next} {} ", paths.join(" ")),
                        &format!("{next} LOGS "),
                    );
                    assert!(rendered.ends_with(&format!("\n{next} LOGS --finding b72c7366\n")));
                }
                assert_eq!(rendered, detected, "{} as {format}", input.display());
            }
        }
    }

    /// A difference between `detect` and the Spark form that is understood: on tenant `tenant`,
    /// finding `id` differs in `column` (every column of `detect --format csv` is compared;
    /// "finding" when it exists on one side only, its cells then "present" and "absent"), and
    /// `holds(detect's cell, Spark's cell)` says the difference is exactly the one explained.
    /// Every difference the test sees must be listed here, and everything listed must be seen.
    struct Explained {
        tenant: &'static str,
        id: &'static str,
        column: &'static str,
        #[allow(dead_code)] // read by people: why the two differ
        why: &'static str,
        holds: fn(&str, &str) -> bool,
    }

    /// Spark's `why` is detect's without its last sentence, the one naming the quiet stretch of
    /// the interactive sign-in log the finding leaned on (docs/spark.md: not written by the
    /// Spark form; the confidence is lowered all the same, and compared).
    fn quiet_sentence_only(detect: &str, spark: &str) -> bool {
        detect.strip_prefix(spark).is_some_and(|rest| {
            rest.starts_with(" The interactive sign-in log was quiet from ")
                && rest.ends_with("counted as covered, confidence lowered one step.")
        })
    }

    const QUIET: &str = "the Spark form does not write the sentence naming the quiet stretch";

    const EXPLAINED: &[Explained] = &[
        Explained {
            tenant: "small-office",
            id: "TT003-f35083126ade3961",
            column: "why",
            why: QUIET,
            holds: quiet_sentence_only,
        },
        Explained {
            tenant: "small-office",
            id: "TT003-9b2b3b43703bbf7d",
            column: "why",
            why: QUIET,
            holds: quiet_sentence_only,
        },
    ];

    /// An allowlist built from `detect`'s findings on a tenant (its CSV), one entry per kind
    /// of match: the user of a TT001 finding (TT001 only), the /24 of a TT002 finding's IPv4
    /// address (its /128 for IPv6), the client of a TT005 finding, the ASN of a finding's
    /// network, and an expired
    /// entry that would match every TT003 finding of a user.
    fn allowlist_from(detect: &str) -> String {
        let findings: Vec<BTreeMap<String, String>> =
            findings_by_id(detect).into_values().collect();
        let first = |rule: &str, column: &str, pick: &dyn Fn(&str) -> bool| {
            findings
                .iter()
                .filter(|f| f["rule"] == rule)
                .map(|f| f[column].clone())
                .find(|v| pick(v))
                .unwrap_or_else(|| panic!("no {rule} finding with a usable {column}"))
        };
        let user = first("TT001", "user_id", &|v| !v.is_empty());
        let ip = first("TT002", "src_ip", &|v| !v.is_empty());
        let prefix = if ip.contains(':') {
            format!("{ip}/128")
        } else {
            let octets: Vec<&str> = ip.split('.').take(3).collect();
            format!("{}.0/24", octets.join("."))
        };
        let asn = findings
            .iter()
            .filter_map(|f| f["network"].strip_prefix("AS").map(str::to_owned))
            .next()
            .expect("a finding on a network with an ASN");
        let app = first("TT005", "app_id", &|v| !v.is_empty());
        let old_user = first("TT003", "user_id", &|v| !v.is_empty());
        let expires = common::date_in_days(30);
        format!(
            "version: 1
entries:
  - id: expired
    reason: an exception that has ended
    owner: soc@example.com
    expires: 2020-01-31
    rules: [TT003]
    match:
      user: \"{old_user}\"
  - id: by-user
    reason: \"a user's TT001 findings; quotes ' and ; must not reach the script\"
    owner: soc@example.com
    expires: {expires}
    rules: [TT001]
    match:
      user: \"{user}\"
  - id: by-network
    reason: a network
    owner: soc@example.com
    expires: {expires}
    match:
      network: \"{prefix}\"
  - id: by-app
    reason: a client
    owner: soc@example.com
    expires: {expires}
    rules: [TT005]
    match:
      app_id: \"{app}\"
  - id: by-asn
    reason: an ASN
    owner: soc@example.com
    expires: {expires}
    match:
      asn: {asn}
"
        )
    }

    /// Findings of a CSV with detect's columns, by id: every column.
    fn findings_by_id(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers().expect("header").clone();
        assert_eq!(headers.get(0), Some("id"), "{headers:?}");
        let mut out = BTreeMap::new();
        for record in reader.records() {
            let record = record.expect("CSV row");
            let row: BTreeMap<String, String> = headers
                .iter()
                .zip(record.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect();
            let id = row["id"].clone();
            assert!(out.insert(id, row).is_none(), "duplicate id");
        }
        out
    }

    /// The differences between detect's findings and Spark's, as (id, column, detect, spark).
    fn differences(detect: &str, spark: &str) -> Vec<(String, String, String, String)> {
        let (d, s) = (findings_by_id(detect), findings_by_id(spark));
        let mut out = Vec::new();
        for id in d
            .keys()
            .chain(s.keys())
            .collect::<std::collections::BTreeSet<_>>()
        {
            match (d.get(id), s.get(id)) {
                (Some(a), Some(b)) => {
                    for (column, x) in a {
                        let y = b.get(column).cloned().unwrap_or_default();
                        if *x != y {
                            out.push((id.clone(), column.clone(), x.clone(), y));
                        }
                    }
                }
                (a, _) => {
                    let (x, y) = if a.is_some() {
                        ("present", "absent")
                    } else {
                        ("absent", "present")
                    };
                    out.push((id.clone(), "finding".into(), x.into(), y.into()));
                }
            }
        }
        out
    }

    /// The rules exported as Spark SQL, run on local Spark over normalized simulated tenants (a
    /// default one and a small office) with an allowlist, find what `detect` finds (and
    /// suppresses): the same finding ids, and per
    /// finding the same value in every column of `detect --format csv` (rule, severity,
    /// confidence, evidence counts, times, network, user, token, issuing sign-in, ...); every
    /// difference is one listed in [`EXPLAINED`], and holds as explained.
    #[test]
    fn the_exported_rules_on_spark_find_what_detect_finds() {
        let Some(python) = spark_or_skip() else {
            return;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let tenants: [(&str, &[&str]); 2] = [
            ("default", &["--users", "30", "--days", "2", "--seed", "3"]),
            (
                "small-office",
                &[
                    "--profile",
                    "small-office",
                    "--users",
                    "12",
                    "--days",
                    "9",
                    "--seed",
                    "21",
                ],
            ),
        ];
        let mut unexplained = Vec::new();
        let mut seen = Vec::new();
        for (name, args) in tenants {
            let tenant = dir.path().join(name);
            let lake = dir.path().join(format!("{name}-lake"));
            run(
                common::tokentrail()
                    .arg("simulate")
                    .args(args)
                    .args(["--attacks", "all", "--out"])
                    .arg(&tenant),
                "tokentrail simulate",
            );
            normalize(std::slice::from_ref(&tenant), &lake);
            let plain = run(
                common::tokentrail()
                    .args(["detect", "--format", "csv"])
                    .arg(&tenant),
                "tokentrail detect",
            );
            let allowlist = dir.path().join(format!("{name}-allowlist.yaml"));
            let entries = allowlist_from(&String::from_utf8(plain.stdout).expect("utf-8"));
            std::fs::write(&allowlist, &entries).expect("allowlist");
            let script = run(
                common::tokentrail()
                    .args(["export", "--target", "spark-sql", "--normalized"])
                    .arg(&lake)
                    .arg("--allowlist")
                    .arg(&allowlist),
                "tokentrail export",
            );
            let script = String::from_utf8(script.stdout).expect("utf-8");
            let result = dir.path().join(format!("{name}-spark.csv"));
            spark_sql(&python, &lake, &script, &result, "csv");
            let spark = std::fs::read_to_string(&result).expect("Spark's findings");
            let detect = run(
                common::tokentrail()
                    .args([
                        "detect",
                        "--format",
                        "csv",
                        "--show-suppressed",
                        "--allowlist",
                    ])
                    .arg(&allowlist)
                    .arg(&tenant),
                "tokentrail detect",
            );
            let detect = String::from_utf8(detect.stdout).expect("utf-8");
            // Every entry in force suppressed something in detect, the expired one nothing:
            // the comparison covers each kind of match.
            let by_entry = findings_by_id(&detect).into_values().fold(
                BTreeMap::<String, usize>::new(),
                |mut n, f| {
                    *n.entry(f["suppression_entry"].clone()).or_default() += 1;
                    n
                },
            );
            for entry in ["by-user", "by-network", "by-asn", "by-app"] {
                assert!(
                    by_entry.get(entry).is_some_and(|&n| n > 0),
                    "{name}: {entry}: {by_entry:?}\n{entries}"
                );
            }
            assert!(!by_entry.contains_key("expired"), "{name}: {by_entry:?}");
            // The comparison means something: every rule has findings on each tenant.
            let rules: std::collections::BTreeSet<String> = findings_by_id(&detect)
                .values()
                .map(|f| f["rule"].clone())
                .collect();
            assert_eq!(
                rules.iter().map(String::as_str).collect::<Vec<_>>(),
                ["TT001", "TT002", "TT003", "TT004", "TT005"],
                "{name}: {detect}"
            );
            // The header is detect's, column for column.
            assert_eq!(spark.lines().next(), detect.lines().next(), "{name}");
            for (id, column, d, s) in differences(&detect, &spark) {
                let known = EXPLAINED.iter().any(|e| {
                    e.tenant == name && e.id == id && e.column == column && (e.holds)(&d, &s)
                });
                if known {
                    seen.push((name, id));
                } else {
                    unexplained.push(format!("{name}: {id} {column}: detect {d:?}, spark {s:?}"));
                }
            }
        }
        assert!(
            unexplained.is_empty(),
            "differences nobody explained:\n{}",
            unexplained.join("\n")
        );
        for e in EXPLAINED {
            assert!(
                seen.iter().any(|(t, id)| *t == e.tenant && id == e.id),
                "explained but not seen (fixed? remove it): {} {} {}",
                e.tenant,
                e.id,
                e.column
            );
        }
    }
}
