//! `--asn-db`: a MaxMind-format database built here with `maxminddb-writer`, and address-range
//! CSV files in the layout of the `@ip-location-db/asn` npm package written here by hand.

use std::collections::BTreeMap;
use std::io::Write;

use maxminddb_writer::metadata::IpVersion;
use maxminddb_writer::paths::IpAddrWithMask;
use maxminddb_writer::Database;
use tokentrail_engine::{AsnDb, EngineConfig};
use tokentrail_model::Confidence;

use crate::common::*;

#[derive(serde::Serialize)]
struct AsnRecord {
    autonomous_system_number: u32,
    autonomous_system_organization: &'static str,
}

fn build_db() -> tempfile::NamedTempFile {
    let mut db = Database::default();
    db.metadata.ip_version = IpVersion::V4;
    db.metadata.database_type = "GeoLite2-ASN".into();
    db.metadata.binary_format_major_version = 2;
    db.metadata.languages = vec!["en".into()];
    db.metadata.description = BTreeMap::from([("en".to_string(), "tokentrail test".to_string())])
        .into_iter()
        .collect();
    let ocean = db
        .insert_value(AsnRecord {
            autonomous_system_number: VPS_ASN,
            autonomous_system_organization: "DIGITALOCEAN-ASN",
        })
        .unwrap();
    let carrier = db
        .insert_value(AsnRecord {
            autonomous_system_number: CELL_ASN,
            autonomous_system_organization: "EXAMPLE-MOBILE",
        })
        .unwrap();
    db.insert_node("203.0.113.0/24".parse::<IpAddrWithMask>().unwrap(), ocean);
    db.insert_node("192.0.2.0/24".parse::<IpAddrWithMask>().unwrap(), carrier);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let bytes = db.write_to(Vec::new()).unwrap();
    file.write_all(&bytes).unwrap();
    file
}

#[test]
fn lookups() {
    let file = build_db();
    let db = AsnDb::open(file.path()).unwrap();
    assert_eq!(db.lookup(VPS_V4.parse().unwrap()), Some(VPS_ASN));
    assert_eq!(db.lookup(CELL_V4.parse().unwrap()), Some(CELL_ASN));
    assert_eq!(db.lookup("8.8.8.8".parse().unwrap()), None);
    assert_eq!(db.lookup("2001:db8::1".parse().unwrap()), None);
    assert_eq!(db.sources().len(), 1);
    assert_eq!(db.sources()[0].description, "GeoLite2-ASN");
    assert_eq!(db.sources()[0].dated_by, "built");

    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.mmdb");
    std::fs::write(&junk, b"not a database").unwrap();
    let err = AsnDb::open(&junk).unwrap_err();
    assert!(
        err.to_string().starts_with("cannot open ASN database"),
        "{err}"
    );
    let junk = dir.path().join("junk.csv");
    std::fs::write(&junk, "not a database\nnor is this\n").unwrap();
    let err = AsnDb::open(&junk).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: not an ASN range file (no line is start,end,asn or network,asn; line 2: \"nor is this\")",
            junk.display()
        )
    );
    let empty = tempfile::tempdir().unwrap();
    assert!(AsnDb::find_in(empty.path()).unwrap().is_none());
    let err = AsnDb::open(empty.path()).unwrap_err();
    assert!(err
        .to_string()
        .ends_with("holds no ASN database (.mmdb, or .csv/.tsv address ranges)"));
}

/// `asn-ipv4.csv` as `@ip-location-db/asn` ships it: no header, inclusive ranges, the
/// organization quoted when it holds a comma (and its quotes doubled).
const IPV4_CSV: &str = "\
192.0.2.0,192.0.2.255,64510,EXAMPLE-MOBILE
198.51.100.0,198.51.100.127,64500,\"Example Home, Inc.\"
203.0.113.0,203.0.113.255,14061,\"DigitalOcean, LLC\"
203.0.114.0,203.0.114.255,0,not routed
";
/// `asn-ipv6.csv`: the same layout with IPv6 ends.
const IPV6_CSV: &str = "\
2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64500,\"LLC \"\"HOME\"\"\"
2001:db9::,2001:db9::ffff,14061,DigitalOcean
";
/// `asn-ipv4-num.csv`: the ends as numbers (203.0.113.0 is 3405803776).
const IPV4_NUM_CSV: &str = "3405803776,3405804031,14061,\"DigitalOcean, LLC\"\n";

#[test]
fn ip_location_db_csv_files_and_their_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("asn-ipv4.csv"), IPV4_CSV).unwrap();
    std::fs::write(dir.path().join("asn-ipv6.csv"), IPV6_CSV).unwrap();
    std::fs::write(dir.path().join("README.md"), "not a database").unwrap();
    std::fs::write(
        dir.path().join("package.json"),
        "{\n  \"name\": \"@ip-location-db/asn\",\n  \"version\": \"2.3.2026061719\"\n}\n",
    )
    .unwrap();
    let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();

    let v4 = AsnDb::open(dir.path().join("asn-ipv4.csv")).unwrap();
    assert_eq!(v4.lookup(ip(VPS_V4)), Some(VPS_ASN));
    assert_eq!(v4.lookup(ip("203.0.113.0")), Some(VPS_ASN));
    assert_eq!(v4.lookup(ip("203.0.113.255")), Some(VPS_ASN));
    assert_eq!(v4.lookup(ip("::ffff:203.0.113.66")), Some(VPS_ASN));
    assert_eq!(v4.lookup(ip(HOME_V4)), Some(HOME_ASN));
    assert_eq!(v4.lookup(ip("198.51.100.128")), None);
    assert_eq!(v4.lookup(ip("203.0.114.1")), None, "ASN 0 is no ASN");
    assert_eq!(v4.lookup(ip("2001:db8::1")), None);
    let source = &v4.sources()[0];
    assert_eq!((source.ranges, source.unreadable), (4, 0));
    assert_eq!(source.description, "address ranges");
    assert_eq!(
        (source.built, source.dated_by),
        (
            tokentrail_model::Timestamp::parse("2026-06-17T19:00:00Z"),
            "package version"
        )
    );

    // The folder an npm install leaves: both files, IPv4 and IPv6, other files ignored.
    let both = AsnDb::open(dir.path()).unwrap();
    let names: Vec<_> = both
        .sources()
        .iter()
        .map(|s| s.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["asn-ipv4.csv", "asn-ipv6.csv"]);
    assert_eq!(both.lookup(ip(VPS_V4)), Some(VPS_ASN));
    assert_eq!(both.lookup(ip("2001:db8:a:1::10")), Some(HOME_ASN));
    assert_eq!(both.lookup(ip("2001:db9::1")), Some(VPS_ASN));
    assert_eq!(both.lookup(ip("2001:db9::1:0")), None);

    // The numeric variant, with a bad line counted rather than dropped unseen.
    let num = dir.path().join("num").join("asn-ipv4-num.csv");
    std::fs::create_dir(num.parent().unwrap()).unwrap();
    std::fs::write(&num, format!("{IPV4_NUM_CSV}3405804032,oops,1\n")).unwrap();
    let num = AsnDb::open(&num).unwrap();
    assert_eq!(num.lookup(ip(VPS_V4)), Some(VPS_ASN));
    let source = &num.sources()[0];
    assert_eq!((source.ranges, source.unreadable), (1, 1));
    assert_eq!(
        source.first_unreadable,
        Some((2, "3405804032,oops,1".to_string()))
    );
    // No package.json beside it: the file's own date.
    assert_eq!(source.dated_by, "file modified");
}

#[test]
fn a_folder_with_a_maxmind_file_and_ranges_asks_the_maxmind_file_first() {
    let dir = tempfile::tempdir().unwrap();
    let mmdb = build_db();
    std::fs::copy(mmdb.path(), dir.path().join("GeoLite2-ASN.mmdb")).unwrap();
    // The range file disagrees about 192.0.2.0/24 and knows 198.51.100.0/25 besides.
    std::fs::write(
        dir.path().join("asn-ipv4.csv"),
        IPV4_CSV.replace("64510", "64999"),
    )
    .unwrap();
    let db = AsnDb::open(dir.path()).unwrap();
    let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
    assert_eq!(db.lookup(ip(CELL_V4)), Some(CELL_ASN));
    assert_eq!(db.lookup(ip(HOME_V4)), Some(HOME_ASN));
    assert_eq!(db.sources().len(), 2);
}

#[test]
fn a_range_file_names_the_network_of_a_replayed_token() {
    let sign_ins = vec![S::interactive(1, at("09:00"))
        .from(HOME_V4, Some(HOME_ASN))
        .build()];
    let accesses = vec![A::graph_me(1, at("09:20")).from(VPS_V4).token(1).build()];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("asn-ipv4.csv");
    std::fs::write(&path, IPV4_CSV).unwrap();
    let config = EngineConfig {
        asn_db: Some(AsnDb::open(&path).unwrap()),
        ..Default::default()
    };
    let with = detect_with(config, sign_ins, accesses);
    let f = with
        .findings
        .iter()
        .find(|f| f.rule == tokentrail_engine::rules::tt001::ID)
        .unwrap();
    assert_eq!(f.network.map(|n| n.to_string()).as_deref(), Some("AS14061"));
    assert_eq!(f.confidence, Confidence::High);
}

#[test]
fn access_address_absent_from_sign_ins_gets_its_asn_from_the_database() {
    let sign_ins = vec![S::interactive(1, at("09:00"))
        .from(HOME_V4, Some(HOME_ASN))
        .build()];
    let accesses = vec![A::graph_me(1, at("09:20")).from(VPS_V4).token(1).build()];

    let without = detect(sign_ins.clone(), accesses.clone());
    let f = without
        .findings
        .iter()
        .find(|f| f.rule == tokentrail_engine::rules::tt001::ID)
        .unwrap();
    assert_eq!(
        f.network.map(|n| n.to_string()).as_deref(),
        Some("203.0.113.0/24")
    );
    assert_eq!(f.confidence, Confidence::Low);

    let file = build_db();
    let config = EngineConfig {
        asn_db: Some(AsnDb::open(file.path()).unwrap()),
        ..Default::default()
    };
    let with = detect_with(config, sign_ins, accesses);
    let f = with
        .findings
        .iter()
        .find(|f| f.rule == tokentrail_engine::rules::tt001::ID)
        .unwrap();
    assert_eq!(f.network.map(|n| n.to_string()).as_deref(), Some("AS14061"));
    assert_eq!(f.confidence, Confidence::High);
    assert!(f.checked.iter().any(|c| c.contains("hosting provider")));
}
