//! Hand-made sign-ins and accesses written by a `Normalizer` and read back: the files, their
//! partitions and every cell are exactly the expected ones.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use tokentrail_model::{
    Access, AccessSource, Actor, ClientAuthMethod, Guid, Position, SessionId, SignIn, SignInKind,
    SourceRef, Timestamp, TokenId, Workload,
};
use tokentrail_parquet::columns::{ACCESS_COLUMNS, SIGN_IN_COLUMNS};
use tokentrail_parquet::write::{write_empty_tables, NULL_PARTITION};
use tokentrail_parquet::{read_text_table, Normalizer, Written, WrittenFile};

const SIGN_IN_ID: &str = "4d63c1c4-c95b-4d3c-8e0a-1271fd813e00";
/// The `uti` of the token the sign-in above issued (Microsoft's test vector).
const UTI: &str = "xMFjTVvJPE2OChJx_YE-AA";

fn source(file: &str, position: Position) -> SourceRef {
    SourceRef {
        file: Arc::from(file),
        position,
    }
}

fn time(text: &str) -> Timestamp {
    Timestamp::parse(text).expect("time")
}

fn sign_in() -> SignIn {
    let mut s = SignIn::new(
        source("signins/day1.jsonl", Position::Line(3)),
        SignInKind::Interactive,
        time("2026-11-30T23:59:59.123456Z"),
    );
    s.id = Guid::parse(SIGN_IN_ID);
    s.user_id = Some("11111111-2222-3333-4444-555555555555".into());
    s.upn = Some("adele@contoso.example".into());
    s.app_id = Some("00000002-0000-0ff1-ce00-000000000000".into());
    s.ip = "2001:DB8:0:0::1".parse::<IpAddr>().ok();
    s.asn = Some(64500);
    s.device.id = Some("dev-1".into());
    s.device.is_managed = Some(true);
    s.device.is_compliant = Some(false);
    s.error_code = Some(0);
    s.is_interactive = Some(true);
    s.incoming_token_type = Some("primaryRefreshToken".into());
    s.token_id = TokenId::parse(UTI);
    // Upper case and braces: the normalized form is the canonical lower-case GUID.
    s.session_id = SessionId::parse("{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}");
    s
}

/// A sign-in whose ids are placeholders that decode to nothing: kept as logged.
fn opaque_sign_in() -> SignIn {
    let mut s = SignIn::new(
        source("signins/day1.jsonl", Position::Line(4)),
        SignInKind::NonInteractive,
        time("2026-12-01T00:00:00Z"),
    );
    s.token_id = TokenId::parse("tOkEnIdEnTiFiEr123");
    s.session_id = SessionId::parse("session-placeholder");
    s.error_code = Some(50126);
    s
}

fn access() -> Access {
    let mut a = Access::new(
        source("ual/records.json", Position::Index(0)),
        AccessSource::ExchangeAudit,
        time("2026-11-30T10:00:00Z"),
        "MailItemsAccessed".into(),
    );
    a.record_id = Some("rec-1".into());
    a.workload = Workload::Mail;
    a.actor = Actor::Delegated;
    a.ip = "198.51.100.7".parse::<IpAddr>().ok();
    a.client_auth_method = Some(ClientAuthMethod::PublicClient);
    a.token_id = TokenId::parse(UTI);
    a.session_id = SessionId::parse("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
    a.token_issued_at = Some(time("2026-11-30T09:59:00Z"));
    a.count = 3;
    a.mail_access_type = Some("Bind".into());
    a
}

fn cells(pairs: &[(&str, &str)], columns: &[&str]) -> Vec<Option<String>> {
    columns
        .iter()
        .map(|c| {
            pairs
                .iter()
                .find(|(k, _)| k == c)
                .map(|(_, v)| (*v).to_owned())
        })
        .collect()
}

fn relative(out: &Path, files: &[WrittenFile]) -> Vec<(String, u64)> {
    files
        .iter()
        .map(|f| {
            let rel = f.path.strip_prefix(out).expect("under out");
            (rel.to_string_lossy().into_owned(), f.rows)
        })
        .collect()
}

#[test]
fn records_read_back_cell_for_cell_in_day_partitions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path();
    let mut n = Normalizer::new(out, 7);
    n.add_sign_in(&sign_in()).expect("sign-in");
    n.add_sign_in(&opaque_sign_in()).expect("sign-in");
    n.add_access(&access()).expect("access");
    let written = n.finish().expect("finish");
    assert_eq!((written.sign_ins, written.accesses), (2, 1));
    assert_eq!(
        relative(out, &written.files),
        [
            ("sign_ins/day=2026-11-30/part-00007.parquet".to_owned(), 1),
            ("sign_ins/day=2026-12-01/part-00007.parquet".to_owned(), 1),
            ("accesses/day=2026-11-30/part-00007.parquet".to_owned(), 1),
        ]
    );
    // No hidden file is left behind.
    for f in &written.files {
        let dir = f.path.parent().expect("dir");
        let names: Vec<_> = std::fs::read_dir(dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, [f.path.file_name().expect("name")]);
    }

    let table = read_text_table(&written.files[0].path).expect("read");
    let names: Vec<&str> = SIGN_IN_COLUMNS.iter().map(|c| c.name).collect();
    assert_eq!(table.columns, names);
    let expected = cells(
        &[
            ("source_file", "signins/day1.jsonl"),
            ("source_line", "3"),
            ("id", SIGN_IN_ID),
            ("kind", "interactive"),
            ("time", "2026-11-30T23:59:59.123456Z"),
            ("user_id", "11111111-2222-3333-4444-555555555555"),
            ("upn", "adele@contoso.example"),
            ("app_id", "00000002-0000-0ff1-ce00-000000000000"),
            ("ip", "2001:db8::1"),
            ("asn", "64500"),
            ("device_id", "dev-1"),
            ("device_is_managed", "true"),
            ("device_is_compliant", "false"),
            ("error_code", "0"),
            ("is_interactive", "true"),
            ("incoming_token_type", "primaryRefreshToken"),
            // The uti decoded: the sign-in's own id.
            ("token_id", SIGN_IN_ID),
            ("issued_token", SIGN_IN_ID),
            ("session_id", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"),
            ("kind_assumed", "false"),
        ],
        &names,
    );
    assert_eq!(table.rows, [expected]);

    let table = read_text_table(&written.files[1].path).expect("read");
    let expected = cells(
        &[
            ("source_file", "signins/day1.jsonl"),
            ("source_line", "4"),
            ("kind", "non-interactive"),
            ("time", "2026-12-01T00:00:00Z"),
            ("error_code", "50126"),
            ("token_id", "tOkEnIdEnTiFiEr123"),
            ("issued_token", "tOkEnIdEnTiFiEr123"),
            ("session_id", "session-placeholder"),
            ("kind_assumed", "false"),
        ],
        &names,
    );
    assert_eq!(table.rows, [expected]);

    let table = read_text_table(&written.files[2].path).expect("read");
    let names: Vec<&str> = ACCESS_COLUMNS.iter().map(|c| c.name).collect();
    assert_eq!(table.columns, names);
    let expected = cells(
        &[
            ("source_file", "ual/records.json"),
            ("source_index", "0"),
            ("log", "exchange-audit"),
            ("record_id", "rec-1"),
            ("time", "2026-11-30T10:00:00Z"),
            ("workload", "mail"),
            ("actor", "delegated"),
            ("ip", "198.51.100.7"),
            ("client_auth_method", "0"),
            ("session_id", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"),
            ("token_id", SIGN_IN_ID),
            ("token_issued_at", "2026-11-30T09:59:00Z"),
            ("operation", "MailItemsAccessed"),
            ("count", "3"),
            ("mail_access_type", "Bind"),
        ],
        &names,
    );
    assert_eq!(table.rows, [expected]);
}

#[test]
fn a_table_without_rows_gets_one_empty_file_with_its_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path();
    let mut n = Normalizer::new(out, 0);
    n.add_access(&access()).expect("access");
    let written = n.finish().expect("finish");
    let empty = write_empty_tables(out, &written).expect("empty tables");
    assert_eq!(
        relative(out, &empty),
        [(
            format!("sign_ins/day={NULL_PARTITION}/part-00000.parquet"),
            0
        )]
    );
    let table = read_text_table(&empty[0].path).expect("read");
    assert_eq!(table.columns.len(), SIGN_IN_COLUMNS.len());
    assert!(table.rows.is_empty());
    // Both tables have rows: nothing to add.
    let both = Written {
        sign_ins: 1,
        accesses: 1,
        files: Vec::new(),
    };
    assert_eq!(write_empty_tables(out, &both).expect("none"), []);
}

#[test]
fn many_rows_span_batches_and_keep_their_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path();
    let mut n = Normalizer::new(out, 1);
    let rows = 20_000u64;
    for i in 0..rows {
        let mut a = access();
        a.source.position = Position::Index(i);
        a.count = i;
        n.add_access(&a).expect("access");
    }
    let written = n.finish().expect("finish");
    assert_eq!(written.accesses, rows);
    let table = read_text_table(&written.files[0].path).expect("read");
    let index = table.column("source_index").expect("column");
    let count = table.column("count").expect("column");
    assert_eq!(table.rows.len() as u64, rows);
    for (i, row) in table.rows.iter().enumerate() {
        assert_eq!(row[index].as_deref(), Some(i.to_string().as_str()));
        assert_eq!(row[count], row[index]);
    }
}

#[test]
fn a_file_that_is_not_parquet_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("findings.parquet");
    std::fs::write(&path, "id,rule\n").expect("write");
    let err = read_text_table(&path).expect_err("not parquet");
    assert!(
        err.to_string()
            .starts_with(&format!("{}: not a readable Parquet file", path.display())),
        "{err}"
    );
}

/// `docs/normalized-schema.md` holds the tables the column list makes. With
/// `TOKENTRAIL_BLESS=1` the page is rewritten instead.
#[test]
fn the_schema_page_matches_the_column_list() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/normalized-schema.md");
    let page = std::fs::read_to_string(&path).expect("docs/normalized-schema.md");
    let (begin, end) = ("<!-- columns:begin -->\n", "<!-- columns:end -->");
    let start = page.find(begin).expect("begin marker") + begin.len();
    let stop = page.find(end).expect("end marker");
    let expected = tokentrail_parquet::columns::schema_markdown();
    if std::env::var_os("TOKENTRAIL_BLESS").is_some() {
        let updated = format!("{}{expected}{}", &page[..start], &page[stop..]);
        std::fs::write(&path, updated).expect("write");
        return;
    }
    assert_eq!(
        &page[start..stop],
        expected,
        "docs/normalized-schema.md is out of date: run with TOKENTRAIL_BLESS=1"
    );
}

/// The model's fields by their serde names, nested objects flattened with `_` (`device.id` is
/// `device_id`); the source is its file and position (line or index).
fn field_columns(value: serde_json::Value) -> Vec<String> {
    let serde_json::Value::Object(fields) = value else {
        panic!("a struct serializes as an object");
    };
    let mut out = Vec::new();
    for (name, value) in fields {
        match (name.as_str(), value) {
            ("source", _) => {
                out.extend(["source_file", "source_line", "source_index"].map(String::from))
            }
            (_, serde_json::Value::Object(inner)) => {
                out.extend(inner.keys().map(|k| format!("{name}_{k}")));
            }
            _ => out.push(name),
        }
    }
    out
}

/// Every field of `SignIn` and `Access` has its column: a field added to the model without one
/// fails here, naming it.
#[test]
fn every_field_of_the_model_has_a_column() {
    let columns = |names: Vec<&str>| -> std::collections::BTreeSet<String> {
        names.into_iter().map(String::from).collect()
    };
    let sign_in_columns = columns(SIGN_IN_COLUMNS.iter().map(|c| c.name).collect());
    for field in field_columns(serde_json::to_value(sign_in()).expect("json")) {
        assert!(
            sign_in_columns.contains(&field),
            "SignIn field {field} has no column"
        );
    }
    let access_columns = columns(ACCESS_COLUMNS.iter().map(|c| c.name).collect());
    for field in field_columns(serde_json::to_value(access()).expect("json")) {
        assert!(
            access_columns.contains(&field),
            "Access field {field} has no column"
        );
    }
}
