//! Watches the bytes a CSV reader consumes for the one fault the `csv` crate forgives
//! silently: a quoted field never closed, which swallows every later row into one field. It
//! also bounds the size of one CSV record, which the `csv` crate does not.

use std::collections::VecDeque;
use std::io::{self, Read};

use memchr::{memchr, memchr3};

/// Where the tracker is in the CSV grammar (RFC 4180 as the `csv` crate reads it: a quote is
/// special only at the start of a field, `""` inside a quoted field is one quote, and bytes
/// after a closing quote continue the field unquoted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote seen inside a quoted field: either the close or the first half of `""`.
    QuoteInQuoted,
}

/// A `Read` adapter that tracks CSV quoting and record size over the bytes passing through.
pub(crate) struct QuoteTracker<R> {
    inner: R,
    state: State,
    record_bytes: u64,
    limit: u64,
    eof: bool,
    over_limit: bool,
    /// Bytes passed through so far.
    passed: u64,
    /// Offsets of newlines not yet behind a queried record start.
    newlines: VecDeque<u64>,
    /// Newlines already behind a queried record start.
    lines_before: u64,
}

impl<R: Read> QuoteTracker<R> {
    pub(crate) fn new(inner: R, limit: usize) -> Self {
        QuoteTracker {
            inner,
            state: State::FieldStart,
            record_bytes: 0,
            limit: limit as u64,
            eof: false,
            over_limit: false,
            passed: 0,
            newlines: VecDeque::new(),
            lines_before: 0,
        }
    }

    /// True once the input has ended inside a quoted field.
    pub(crate) fn ended_in_quotes(&self) -> bool {
        self.eof && self.state == State::Quoted
    }

    /// The 1-based line of a record starting at byte `start` (offsets from the tracker's
    /// start). Starts must be queried in increasing order. A record never starts with a
    /// newline, so a start that points at the `\n` of the previous CRLF gives the same line.
    pub(crate) fn line_of(&mut self, start: u64) -> u64 {
        while self.newlines.front().is_some_and(|&nl| nl <= start) {
            self.newlines.pop_front();
            self.lines_before += 1;
        }
        self.lines_before + 1
    }

    fn track(&mut self, bytes: &[u8]) {
        let base = self.passed;
        self.newlines
            .extend(memchr::memchr_iter(b'\n', bytes).map(|i| base + i as u64));
        self.passed += bytes.len() as u64;
        let mut i = 0;
        while let Some(rest) = bytes.get(i..).filter(|r| !r.is_empty()) {
            match self.state {
                State::Quoted => match memchr(b'"', rest) {
                    Some(p) => {
                        self.state = State::QuoteInQuoted;
                        self.record_bytes += p as u64 + 1;
                        i += p + 1;
                    }
                    None => {
                        self.record_bytes += rest.len() as u64;
                        i = bytes.len();
                    }
                },
                State::Unquoted => match memchr3(b',', b'\n', b'\r', rest) {
                    Some(p) => {
                        self.record_bytes += p as u64;
                        i += p;
                        self.state = State::FieldStart;
                    }
                    None => {
                        self.record_bytes += rest.len() as u64;
                        i = bytes.len();
                    }
                },
                State::FieldStart | State::QuoteInQuoted => {
                    let b = rest.first().copied().unwrap_or(b'\n');
                    // At a field start a quote opens a quoted field; right after a quote inside
                    // one, a second quote is an escaped quote: both land in `Quoted`.
                    self.state = match b {
                        b'"' => State::Quoted,
                        b',' => State::FieldStart,
                        b'\n' | b'\r' => {
                            self.over_limit |= self.record_bytes > self.limit;
                            self.record_bytes = 0;
                            State::FieldStart
                        }
                        _ => State::Unquoted,
                    };
                    if !matches!(b, b'\n' | b'\r') {
                        self.record_bytes += 1;
                    }
                    i += 1;
                }
            }
        }
    }
}

impl<R: Read> Read for QuoteTracker<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        if n == 0 && !out.is_empty() {
            self.eof = true;
        }
        self.track(out.get(..n).unwrap_or_default());
        if self.over_limit || self.record_bytes > self.limit {
            return Err(io::Error::other(format!(
                "a CSV record is larger than the limit of {} bytes",
                self.limit
            )));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends_in_quotes(text: &[u8]) -> bool {
        let mut t = QuoteTracker::new(text, usize::MAX);
        let mut sink = Vec::new();
        t.read_to_end(&mut sink).unwrap();
        t.ended_in_quotes()
    }

    #[test]
    fn quoting_states() {
        assert!(!ends_in_quotes(b"a,b\n\"x,\"\"y\"\"\nz\",2\n"));
        assert!(ends_in_quotes(b"a,b\n\"x,y\n1,2\n"));
        assert!(!ends_in_quotes(b"a,b\nx\"y,2\n"));
        assert!(!ends_in_quotes(b"a,b\n\"x\"tail,2\n"));
        assert!(ends_in_quotes(b"a,b\n1,\"\"\"\n"));
    }

    #[test]
    fn record_limit() {
        let mut t = QuoteTracker::new(&b"a,b\n\"0123456789\n0123456789\"\n"[..], 16);
        let mut sink = Vec::new();
        assert!(t.read_to_end(&mut sink).is_err());
    }
}
