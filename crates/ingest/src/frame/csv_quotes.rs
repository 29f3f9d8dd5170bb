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
                State::Quoted => {
                    // An escaped quote `""` (around every name and value of an audit record's
                    // JSON) leaves the field open: it is passed over here, not through
                    // `QuoteInQuoted`. A pair cut by the end of `bytes` goes that way.
                    let mut from = i;
                    let quote = loop {
                        let next = bytes.get(from..).and_then(|r| {
                            find(r, |b| b == b'"', |r| memchr(b'"', r)).map(|p| from + p)
                        });
                        match next {
                            Some(q) if bytes.get(q + 1) == Some(&b'"') => from = q + 2,
                            next => break next,
                        }
                    };
                    match quote {
                        Some(q) => {
                            self.state = State::QuoteInQuoted;
                            self.record_bytes += (q + 1 - i) as u64;
                            i = q + 1;
                        }
                        None => {
                            self.record_bytes += rest.len() as u64;
                            i = bytes.len();
                        }
                    }
                }
                State::Unquoted => match find(
                    rest,
                    |b| matches!(b, b',' | b'\n' | b'\r'),
                    |r| memchr3(b',', b'\n', b'\r', r),
                ) {
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

/// Bytes looked at one by one before a vector search.
const NEAR: usize = 16;

/// Where the first byte that `is` is lies in `bytes`: the first [`NEAR`] bytes are looked at
/// one by one, the rest with `search`. Inside an audit record's JSON a quote comes every few
/// bytes (`""` around every name and value), and so does a comma in a row of short fields:
/// starting a vector search for every few bytes cost more than the search saved.
fn find(
    bytes: &[u8],
    is: impl Fn(u8) -> bool,
    search: impl Fn(&[u8]) -> Option<usize>,
) -> Option<usize> {
    let (near, far) = bytes.split_at(bytes.len().min(NEAR));
    near.iter()
        .position(|&b| is(b))
        .or_else(|| search(far).map(|p| p + near.len()))
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

    /// Quotes, commas and line ends further than the bytes looked at one by one are found
    /// by the vector search, at the same places.
    #[test]
    fn quoting_states_over_long_fields() {
        let long = "x".repeat(40);
        let json = format!("\"{{\"\"{long}\"\":\"\"{long}\"\"}}\"");
        assert!(!ends_in_quotes(format!("a,b\n{json},{long}\n").as_bytes()));
        assert!(!ends_in_quotes(
            format!("a,b\n{long},{json}\r\n").as_bytes()
        ));
        assert!(ends_in_quotes(format!("a,b\n{long},\"{long}\n").as_bytes()));
        assert!(ends_in_quotes(
            format!("a,b\n{long}\n{json},\"{long}").as_bytes()
        ));
        assert!(!ends_in_quotes(
            format!("a,b\n{long}\"{long},2\n").as_bytes()
        ));
    }

    /// The grammar one byte at a time: whether the text ends inside a quoted field, and the
    /// size of its largest record.
    fn one_byte_at_a_time(text: &[u8]) -> (bool, u64) {
        let (mut state, mut bytes, mut largest) = (State::FieldStart, 0u64, 0u64);
        for &b in text {
            state = match (state, b) {
                (State::Quoted, b'"') => State::QuoteInQuoted,
                (State::Quoted, _) => State::Quoted,
                (State::Unquoted, b',') => State::FieldStart,
                (State::Unquoted, b'\n' | b'\r') => {
                    largest = largest.max(bytes);
                    bytes = 0;
                    State::FieldStart
                }
                (State::Unquoted, _) => State::Unquoted,
                (_, b'"') => State::Quoted,
                (_, b',') => State::FieldStart,
                (_, b'\n' | b'\r') => {
                    largest = largest.max(bytes);
                    bytes = 0;
                    State::FieldStart
                }
                _ => State::Unquoted,
            };
            if !(state == State::FieldStart && matches!(b, b'\n' | b'\r')) {
                bytes += 1;
            }
        }
        (state == State::Quoted, largest.max(bytes))
    }

    proptest::proptest! {
        /// Read in pieces of any size, the tracker tells the end inside quotes and a record
        /// over the limit as reading the grammar one byte at a time does.
        #[test]
        fn tracking_matches_the_grammar_read_one_byte_at_a_time(
            text in proptest::collection::vec(
                proptest::sample::select([&[b'x'; 12][..], b"\"\"\"\",,\n\r"].concat()),
                0..200,
            ),
            sizes in proptest::collection::vec(1usize..40, 1..6),
            limit in 0usize..60,
        ) {
            let (in_quotes, largest) = one_byte_at_a_time(&text);
            let mut pieces = crate::frame::stream::tests::Pieces::new(&text, &sizes);
            let mut t = QuoteTracker::new(&mut pieces, usize::MAX);
            t.read_to_end(&mut Vec::new()).unwrap();
            proptest::prop_assert_eq!(t.ended_in_quotes(), in_quotes);
            let mut pieces = crate::frame::stream::tests::Pieces::new(&text, &sizes);
            let mut t = QuoteTracker::new(&mut pieces, limit);
            let over = t.read_to_end(&mut Vec::new()).is_err();
            proptest::prop_assert_eq!(over, largest > limit as u64);
        }

        /// The split search finds what a plain search finds, wherever the byte lies.
        #[test]
        fn find_is_a_plain_search(bytes in proptest::collection::vec(
            // Mostly plain bytes, so that the byte found often lies past the first few.
            proptest::sample::select([&[b'x'; 60][..], b",\"\n\r"].concat()), 0..120,
        )) {
            let is = |b: u8| matches!(b, b',' | b'\n' | b'\r');
            proptest::prop_assert_eq!(
                find(&bytes, is, |r| memchr3(b',', b'\n', b'\r', r)),
                bytes.iter().position(|&b| is(b))
            );
            proptest::prop_assert_eq!(
                find(&bytes, |b| b == b'"', |r| memchr(b'"', r)),
                bytes.iter().position(|&b| b == b'"')
            );
        }
    }

    #[test]
    fn record_limit() {
        let mut t = QuoteTracker::new(&b"a,b\n\"0123456789\n0123456789\"\n"[..], 16);
        let mut sink = Vec::new();
        assert!(t.read_to_end(&mut sink).is_err());
    }
}
