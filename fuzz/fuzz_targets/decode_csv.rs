//! A CSV export (Purview, `Search-UnifiedAuditLog`, Log Analytics): the header compiles a
//! layout and each row decodes without panicking.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use tokentrail_ingest::{decode, CsvLayout, DecodeOptions, Payload};
use tokentrail_model::{Position, SourceRef};

fuzz_target!(|data: &[u8]| {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(data);
    let Ok(headers) = reader.byte_headers().cloned() else {
        return;
    };
    let layout = CsvLayout::new(&headers);
    let opts = DecodeOptions::default();
    for (i, row) in reader.byte_records().enumerate() {
        let Ok(row) = row else { return };
        let source = SourceRef {
            file: Arc::from("fuzz"),
            position: Position::Line(i as u64 + 2),
        };
        let _ = decode(
            Payload::Csv {
                layout: &layout,
                row: &row,
            },
            source,
            &opts,
        );
    }
});
