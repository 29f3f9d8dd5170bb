//! One JSON record of any shape (sign-ins, Graph activity, UAL, envelopes, test cases): the
//! decoder never panics and gives the same result twice.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use tokentrail_ingest::{decode, DecodeOptions, Fields, Payload};
use tokentrail_model::{Position, SourceRef};

fuzz_target!(|data: &[u8]| {
    for (unwrap_test_cases, fields) in [
        (false, Fields::All),
        (true, Fields::All),
        (false, Fields::Detection),
    ] {
        let opts = DecodeOptions {
            unwrap_test_cases,
            fields,
        };
        let source = || SourceRef {
            file: Arc::from("fuzz"),
            position: Position::Line(1),
        };
        let first = decode(Payload::Json(data), source(), &opts);
        let again = decode(Payload::Json(data), source(), &opts);
        assert_eq!(first, again);
    }
});
