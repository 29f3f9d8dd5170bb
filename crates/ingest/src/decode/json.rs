//! Full JSON parsing, for what the collector's scanner does not read: telling a record that
//! is not an object from malformed text.
//!
//! `serde_json`: it stops at 128 levels of nesting with an error. `sonic-rs` was tried as a
//! drop-in (same serde interface, SIMD skipping): on the benchmark corpus it was at most a
//! fifth faster, and it overflows the stack on deeply nested arrays inside skipped values,
//! which hostile input can trigger.

use serde::Deserialize;

/// Parse `text` as one JSON value of type `T`, borrowing from it where possible.
pub(crate) fn from_str<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}
