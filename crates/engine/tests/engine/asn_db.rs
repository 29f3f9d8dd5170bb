//! `--asn-db`: a MaxMind-format database built here with `maxminddb-writer`.

use std::collections::BTreeMap;
use std::io::Write;

use maxminddb_writer::metadata::IpVersion;
use maxminddb_writer::paths::IpAddrWithMask;
use maxminddb_writer::Database;
use tokentrail_engine::{AsnDb, EngineConfig};
use tokentrail_model::{Confidence, RuleId};

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
    let mut junk = tempfile::NamedTempFile::new().unwrap();
    junk.write_all(b"not a database").unwrap();
    let err = AsnDb::open(junk.path()).unwrap_err();
    assert!(
        err.to_string().starts_with("cannot open ASN database"),
        "{err}"
    );
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
        .find(|f| f.rule == RuleId::Tt001)
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
        .find(|f| f.rule == RuleId::Tt001)
        .unwrap();
    assert_eq!(f.network.map(|n| n.to_string()).as_deref(), Some("AS14061"));
    assert_eq!(f.confidence, Confidence::High);
    assert!(f.checked.iter().any(|c| c.contains("hosting provider")));
}
