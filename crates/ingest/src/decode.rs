//! (being written)
use tokentrail_model::SourceRef;

use crate::{DecodeError, DecodedRecord, Payload};

/// Options that change how records are decoded.
#[derive(Clone, Debug, Default)]
pub struct DecodeOptions {
    /// Read SEKOIA intake-format test cases (`{"input":{"message":"<raw event>"}}`) as the raw
    /// event they hold.
    pub unwrap_test_cases: bool,
}

/// Column layout of a CSV file, compiled once from its header.
#[derive(Clone, Debug)]
pub struct CsvLayout {}

impl CsvLayout {
    /// Compile the layout from the header row.
    pub fn new(_headers: &csv::ByteRecord) -> CsvLayout {
        CsvLayout {}
    }
}

/// Decode one record.
pub fn decode(
    _payload: Payload<'_>,
    _source: SourceRef,
    _opts: &DecodeOptions,
) -> Result<DecodedRecord, DecodeError> {
    Err(DecodeError::Missing("decoder"))
}
