//! The input as the nested record of each wrapping shape: as JSON text in a string (Purview
//! and `Search-UnifiedAuditLog` `AuditData`, Graph `auditData`, Defender `RawEventData`, Log
//! Analytics `DeviceDetail` / `Status` / `LocationDetails`, diagnostic `properties`) and as a
//! value in place. The unescaping of nested text, lone surrogates included, never panics.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use tokentrail_ingest::{decode, DecodeOptions, Payload};
use tokentrail_model::{Position, SourceRef};

const WRAPPERS: [&str; 6] = [
    r#"{"CreationDate":"2026-03-02T10:00:00","UserIds":"a@b.example","Operations":"MailItemsAccessed","AuditData":X}"#,
    r#"{"RecordId":"1","CreationDate":"2026-03-02T10:00:00","RecordType":"50","Operation":"x","UserId":"a","AuditData":X}"#,
    r#"{"id":"1","auditLogRecordType":"ExchangeItemAggregated","auditData":X}"#,
    r#"{"Timestamp":"2026-03-02T10:00:00Z","ActionType":"x","RawEventData":X}"#,
    r#"{"time":"2026-03-02T10:00:00Z","category":"SignInLogs","properties":X}"#,
    r#"{"Type":"AADNonInteractiveUserSignInLogs","TimeGenerated":"2026-03-02T10:00:00Z","CreatedDateTime":"2026-03-02T10:00:00Z","DeviceDetail":X,"Status":X,"LocationDetails":X,"TokenProtectionStatusDetails":X}"#,
];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let quoted = serde_json::to_string(&*text).unwrap_or_default();
    let opts = DecodeOptions::default();
    for wrapper in WRAPPERS {
        for inner in [quoted.as_str(), &*text] {
            let record = wrapper.replace('X', inner);
            let source = SourceRef {
                file: Arc::from("fuzz"),
                position: Position::Line(1),
            };
            let _ = decode(Payload::Json(record.as_bytes()), source, &opts);
        }
    }
});
