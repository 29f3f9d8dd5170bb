//! The ASN database a run uses without `--asn-db`: the one installed in
//! `$XDG_DATA_HOME/tokentrail/` (else `~/.local/share/tokentrail/`), announced on stderr with
//! its age. Every database here is written by the test; home and data folders are temporary.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

/// An `@ip-location-db/asn` range file naming the example tenant's unnamed replay network
/// (95.217.252.0/24, shown as that prefix without a database) as a hosting provider's.
const RANGES: &str = "\
95.217.0.0,95.217.255.255,24940,\"Hetzner Online GmbH\"
198.51.100.0,198.51.100.255,64500,\"Example, Inc.\"
";
const PACKAGE: &str = "{\"name\":\"@ip-location-db/asn\",\"version\":\"2.3.2026061719\"}";

fn install(dir: &Path) -> PathBuf {
    let folder = dir.join("tokentrail");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("asn-ipv4.csv"), RANGES).unwrap();
    std::fs::write(folder.join("package.json"), PACKAGE).unwrap();
    folder
}

fn detect(env: &[(&str, &Path)], extra: &[&str]) -> Output {
    let mut command = common::tokentrail();
    for (k, v) in env {
        command.env(k, v);
    }
    command
        .arg("detect")
        .args(common::example_tenant())
        .args(["--format", "csv", "--now", "2026-12-04T00:00:00Z"])
        .args(extra)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The network of the finding with this rule and user, from the CSV.
fn network(out: &Output, rule: &str, upn: &str) -> String {
    let stdout = text(&out.stdout);
    let mut rows = stdout.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (r, u, n) = (col("rule"), col("upn"), col("network"));
    rows.map(|l| l.split(',').collect::<Vec<_>>())
        .find(|f| f[r] == rule && f[u] == upn)
        .map(|f| f[n].to_string())
        .unwrap_or_else(|| panic!("no {rule} finding on {upn}: {stdout}"))
}

const USER: &str = "henrietta.white.0@contoso.example";

#[test]
fn without_a_database_the_network_is_a_prefix_and_stderr_says_how_to_get_one() {
    let home = tempfile::tempdir().unwrap();
    let out = detect(&[("XDG_DATA_HOME", home.path())], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(network(&out, "TT001", USER), "95.217.252.0/24");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "tokentrail: no ASN database (--asn-db FILE, or put one in {}; see the README, \
             \"ASN database\")",
            home.path().join("tokentrail").display()
        )),
        "{stderr}"
    );
}

#[test]
fn the_database_in_xdg_data_home_is_used_and_announced_with_its_age() {
    let home = tempfile::tempdir().unwrap();
    let folder = install(home.path());
    let out = detect(&[("XDG_DATA_HOME", home.path())], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(network(&out, "TT001", USER), "AS24940");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "tokentrail: ASN database (found in {}): {} (address ranges, 2 ranges, package \
             version 2026-06-17, 169 days old; older than 90 days: networks change hands, get a \
             fresh copy)\n",
            folder.display(),
            folder.join("asn-ipv4.csv").display()
        )),
        "{stderr}"
    );
}

#[test]
fn without_xdg_data_home_the_database_is_looked_for_under_home() {
    let home = tempfile::tempdir().unwrap();
    install(&home.path().join(".local/share"));
    let mut command = common::tokentrail();
    command.env_remove("XDG_DATA_HOME").env("HOME", home.path());
    let out = command
        .arg("detect")
        .args(common::example_tenant())
        .args(["--format", "csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(network(&out, "TT001", USER), "AS24940");
    // A relative XDG_DATA_HOME is invalid by the specification and ignored.
    let mut command = common::tokentrail();
    command
        .env("XDG_DATA_HOME", "relative/data")
        .env("HOME", home.path());
    let out = command
        .arg("detect")
        .args(common::example_tenant())
        .args(["--format", "csv"])
        .output()
        .unwrap();
    assert_eq!(network(&out, "TT001", USER), "AS24940");
}

#[test]
fn asn_db_names_the_database_and_overrides_the_installed_one() {
    let home = tempfile::tempdir().unwrap();
    install(home.path());
    let other = tempfile::tempdir().unwrap();
    let csv = other.path().join("mine.csv");
    std::fs::write(&csv, "95.217.252.0,95.217.252.255,64999,Somebody\n").unwrap();
    let out = detect(
        &[("XDG_DATA_HOME", home.path())],
        &["--asn-db", csv.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(network(&out, "TT001", USER), "AS64999");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "tokentrail: ASN database (--asn-db): {} (address ranges, 1 ranges, file modified",
            csv.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("found in"), "{stderr}");

    // A database that cannot be read stops the run before any record is read, said once.
    let missing = other.path().join("GeoLite2-ASN.mmdb");
    let out = detect(&[], &["--asn-db", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(out.stdout.is_empty());
    assert_eq!(
        stderr,
        format!(
            "tokentrail: error: cannot read ASN database {}: {}\n",
            missing.display(),
            std::io::Error::from_raw_os_error(2)
        )
    );
}

#[test]
fn a_broken_installed_database_is_an_error_not_a_silent_fallback() {
    let home = tempfile::tempdir().unwrap();
    let folder = home.path().join("tokentrail");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("GeoLite2-ASN.mmdb"), "truncated download").unwrap();
    let out = detect(&[("XDG_DATA_HOME", home.path())], &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "tokentrail: error: reading the installed ASN database in {}: cannot open ASN \
             database {}: ",
            folder.display(),
            folder.join("GeoLite2-ASN.mmdb").display()
        )),
        "{stderr}"
    );
}

/// Every test runs the binary through `common::tokentrail()`, which keeps the developer's own
/// ASN database out of the results.
#[test]
fn every_test_runs_the_binary_away_from_the_real_home() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut offenders = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            if text.contains(concat!("Command::new(env!(", "\"CARGO_BIN_EXE_")) {
                offenders.push(path.display().to_string());
            }
        }
    }
    assert_eq!(offenders, Vec::<String>::new());
}
