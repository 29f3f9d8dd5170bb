//! The framer on any bytes: it never panics, and it cuts the same records whatever the size of
//! the reads it gets (here whole 1 MiB reads against 7-byte ones), so record boundaries never
//! depend on where a read ended.

#![no_main]

use std::io::{self, Read};

use libfuzzer_sys::fuzz_target;
use tokentrail_ingest::frame::{frame, FrameOptions, Framed};
use tokentrail_ingest::Payload;

/// A reader that hands out at most `step` bytes per read.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        let (head, tail) = self.data.split_at(n);
        buf[..n].copy_from_slice(head);
        self.data = tail;
        Ok(n)
    }
}

/// Every item framed, the container and the error, as text to compare.
fn framed(data: &[u8], step: usize, yaml: bool) -> (Vec<String>, String, Option<String>) {
    let opts = FrameOptions {
        max_record_bytes: 1 << 14,
        yaml_test_cases: yaml,
    };
    let mut items = Vec::new();
    let mut reader = Trickle { data, step };
    let framing = frame(&mut reader, &opts, &mut |item| {
        items.push(match item {
            Framed::Record {
                position,
                payload: Payload::Json(bytes),
            } => format!("{position:?} json {bytes:?}"),
            Framed::Record {
                position,
                payload: Payload::Csv { row, .. },
            } => format!("{position:?} csv {:?}", row.iter().collect::<Vec<_>>()),
            Framed::Unreadable { position, reason } => format!("{position:?} unreadable {reason}"),
        })
    });
    (
        items,
        framing.container.to_string(),
        framing.error.map(|e| e.to_string()),
    )
}

fuzz_target!(|data: &[u8]| {
    let yaml = data.len() % 2 == 1;
    let whole = framed(data, usize::MAX, yaml);
    let trickled = framed(data, 7, yaml);
    assert_eq!(whole, trickled);
});
