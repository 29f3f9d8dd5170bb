//! `decode` never panics: on arbitrary bytes, on arbitrary CSV rows under arbitrary headers,
//! on objects of known keys holding values of any type, and on mutations of valid records.

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{Map, Value};
use tokentrail_ingest::{decode, CsvLayout, DecodeOptions, Payload};
use tokentrail_model::{Position, SourceRef};

fn src() -> SourceRef {
    SourceRef {
        file: Arc::from("prop.json"),
        position: Position::Index(0),
    }
}

fn both_options() -> [DecodeOptions; 2] {
    [
        DecodeOptions::default(),
        DecodeOptions {
            unwrap_test_cases: true,
            ..DecodeOptions::default()
        },
    ]
}

fn decode_json(bytes: &[u8]) {
    for opts in both_options() {
        let _ = decode(Payload::Json(bytes), src(), &opts);
    }
}

/// Keys the decoders look for, in several spellings, plus containers and noise.
const KEYS: &[&str] = &[
    "time",
    "category",
    "Category",
    "Type",
    "properties",
    "input",
    "message",
    "AuditData",
    "auditData",
    "RawEventData",
    "auditLogRecordType",
    "AppAccessContext",
    "DeviceDetail",
    "deviceDetail",
    "Status",
    "status",
    "location",
    "LocationDetails",
    "signInEventTypes",
    "OperationProperties",
    "DeviceProperties",
    "ExtendedProperties",
    "Actor",
    "id",
    "Id",
    "createdDateTime",
    "TimeGenerated",
    "CreationTime",
    "CreationDate",
    "Timestamp",
    "userId",
    "UserId",
    "UserKey",
    "RecordType",
    "Operation",
    "Workload",
    "ClientIP",
    "ClientIPAddress",
    "ipAddress",
    "requestUri",
    "requestMethod",
    "C_Sid",
    "c_sid",
    "C_Iat",
    "C_Idtyp",
    "clientAuthMethod",
    "ResultType",
    "errorCode",
    "uniqueTokenIdentifier",
    "UniqueTokenId",
    "OperationCount",
    "isInteractive",
    "UserType",
    "ActionType",
    "kind",
    "noise",
];

/// Leaves that look like the real thing about half the time.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            "2024-03-05T10:15:30Z",
            "3/5/2024 10:40:00 AM ",
            "1709633460",
            "4d63c1c4-c95b-4d3c-8e0a-1271fd813e00",
            "xMFjTVvJPE2OChJx_YE-AA",
            "[2001:db8::5]:443",
            "SignInLogs",
            "MicrosoftGraphActivityLogs",
            "OfficeActivity",
            "AADNonInteractiveUserSignInLogs",
            "UserLoggedIn",
            "MailItemsAccessed",
            "Exchange",
            "SharePoint",
            "AzureActiveDirectory",
            "50",
            "15",
            "{\"deviceId\":\"d\",\"errorCode\":\"x\"}",
            "{\"RecordType\":50,\"Operation\":\"x\",\"CreationTime\":\"bad\"}",
            "[{\"Name\":\"MailAccessType\",\"Value\":1}]",
            "@{Value=Bind; Name=MailAccessType}",
            "{not json",
            "https://graph.microsoft.com/v1.0/me/messages?$x",
            "",
        ])
        .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
                let mut m = Map::new();
                for (k, v) in kv {
                    m.insert(k.to_owned(), v);
                }
                Value::Object(m)
            }),
        ]
    })
}

/// An object of known keys; some values re-encoded as JSON text, as exports do.
fn record() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((prop::sample::select(KEYS), value(), any::<bool>()), 0..12).prop_map(
        |kv| {
            let mut m = Map::new();
            for (k, v, as_text) in kv {
                let v = if as_text && (v.is_object() || v.is_array()) {
                    Value::String(v.to_string())
                } else {
                    v
                };
                m.insert(k.to_owned(), v);
            }
            serde_json::to_vec(&Value::Object(m)).unwrap()
        },
    )
}

const VALID: &[&str] = &[
    r#"{"time":"2024-03-05T10:16:00Z","category":"SignInLogs","properties":{"id":"4d63c1c4-c95b-4d3c-8e0a-1271fd813e00","createdDateTime":"2024-03-05T10:15:30Z","userId":"u","status":{"errorCode":0},"deviceDetail":{"deviceId":"d"},"uniqueTokenIdentifier":"xMFjTVvJPE2OChJx_YE-AA"}}"#,
    r#"{"TimeGenerated":"2024-03-05T10:20:00Z","CreatedDateTime":"2024-03-05T10:19:58Z","DeviceDetail":"{\"deviceId\":\"x\"}","Status":"{\"errorCode\":50140}","ResultType":"0","Type":"AADNonInteractiveUserSignInLogs"}"#,
    r#"{"time":"2024-03-05T10:31:00Z","category":"MicrosoftGraphActivityLogs","properties":{"timeGenerated":"2024-03-05T10:31:00Z","requestMethod":"GET","requestUri":"https://graph.microsoft.com/v1.0/me/messages","c_Sid":"s","C_Iat":"1709633460"}}"#,
    r#"{"AppAccessContext":{"AADSessionId":"s","UniqueTokenId":"xMFjTVvJPE2OChJx_YE-AA","IssuedAtTime":"2024-03-05T10:15:31"},"CreationTime":"2024-03-05T10:40:00","Id":"i","Operation":"MailItemsAccessed","RecordType":50,"Workload":"Exchange","ClientIP":"1.2.3.4:5","OperationProperties":[{"Name":"MailAccessType","Value":"Bind"}],"OperationCount":3}"#,
    r#"{"CreationTime":"2024-03-05T10:15:30","Id":"4d63c1c4-c95b-4d3c-8e0a-1271fd813e00","Operation":"UserLoggedIn","RecordType":15,"Workload":"AzureActiveDirectory","Actor":[{"ID":"a","Type":0}],"DeviceProperties":[{"Name":"SessionId","Value":"s"}]}"#,
    r#"{"input":{"message":"{\"CreationTime\":\"2024-03-05T10:15:30\",\"Operation\":\"FileAccessed\",\"RecordType\":6,\"Workload\":\"SharePoint\"}"},"expected":{}}"#,
    r#"{"Timestamp":"2024-03-05T10:40:00Z","ActionType":"MailItemsAccessed","RawEventData":"{\"RecordType\":50,\"Operation\":\"MailItemsAccessed\",\"CreationTime\":\"2024-03-05T10:40:00\"}"}"#,
];

/// One edit to a valid record's bytes.
#[derive(Clone, Debug)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Replace(usize, u8),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..16).prop_map(|(at, n)| Edit::Delete(at, n)),
        (
            any::<usize>(),
            prop::collection::vec(
                prop::sample::select(b"{}[]\",:\\0123456789truefalsenull \xff".to_vec()),
                1..6
            )
        )
            .prop_map(|(at, b)| Edit::Insert(at, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Replace(at, b)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, e: &Edit) {
    let len = bytes.len().max(1);
    match e {
        Edit::Delete(at, n) => {
            let at = at % len;
            let end = (at + n).min(bytes.len());
            if at < end {
                bytes.drain(at..end);
            }
        }
        Edit::Insert(at, b) => {
            let at = at % (bytes.len() + 1);
            bytes.splice(at..at, b.iter().copied());
        }
        Edit::Replace(at, b) => {
            if let Some(slot) = bytes.get_mut(at % len) {
                *slot = *b;
            }
        }
        Edit::Truncate(at) => bytes.truncate(at % len),
    }
}

const HEADERS: &[&str] = &[
    "RecordId",
    "CreationDate",
    "RecordType",
    "Operation",
    "UserId",
    "AuditData",
    "UserIds",
    "Operations",
    "\u{feff}TimeGenerated [UTC]",
    "CreatedDateTime",
    "Category",
    "Type",
    "Status",
    "DeviceDetail",
    "IPAddress",
    "RequestUri",
    "SignInActivityId",
    "x",
];

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_json(&bytes);
    }

    #[test]
    fn arbitrary_json_text_never_panics(text in "[{}\\[\\]\",:a-zA-Z0-9_ .\\\\-]{0,200}") {
        decode_json(text.as_bytes());
    }

    #[test]
    fn known_keys_with_values_of_any_type_never_panic(bytes in record()) {
        decode_json(&bytes);
    }

    #[test]
    fn mutated_valid_records_never_panic(
        which in 0..VALID.len(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let mut bytes = VALID[which].as_bytes().to_vec();
        for e in &edits {
            apply(&mut bytes, e);
        }
        decode_json(&bytes);
    }

    #[test]
    fn arbitrary_csv_rows_never_panic(
        header in prop::collection::vec(
            prop_oneof![prop::sample::select(HEADERS).prop_map(str::to_owned), ".{0,10}"],
            0..8,
        ),
        rows in prop::collection::vec(
            prop::collection::vec(
                prop_oneof![
                    leaf().prop_map(|v| match v { Value::String(s) => s, v => v.to_string() }),
                    prop::collection::vec(any::<u8>(), 0..20)
                        .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
                ],
                0..10,
            ),
            1..4,
        ),
        raw_cell in prop::collection::vec(any::<u8>(), 0..20),
    ) {
        let layout = CsvLayout::new(&csv::ByteRecord::from(header.clone()));
        for row in rows {
            let mut record = csv::ByteRecord::from(row);
            // Not every export is UTF-8: add a cell of raw bytes.
            record.push_field(&raw_cell);
            for opts in both_options() {
                let _ = decode(Payload::Csv { layout: &layout, row: &record }, src(), &opts);
            }
        }
    }
}

#[test]
fn deep_nesting_never_crashes() {
    let nest = |open: &str, close: &str| {
        let mut text = String::new();
        for _ in 0..10_000 {
            text.push_str(open);
        }
        text.push('1');
        for _ in 0..10_000 {
            text.push_str(close);
        }
        text
    };
    let deep_objects = nest("{\"properties\":", "}");
    for opts in both_options() {
        assert!(decode(Payload::Json(deep_objects.as_bytes()), src(), &opts).is_err());
    }
    // Deep arrays under a skipped key, a scalar slot, a list slot and an object slot.
    for key in ["noise", "userId", "Actor", "DeviceDetail"] {
        let text = format!("{{\"{key}\":{}}}", nest("[", "]"));
        decode_json(text.as_bytes());
    }
}
