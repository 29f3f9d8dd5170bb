//! CSV read in two steps, so that the sequential one stays small: the framing thread only
//! finds where each row ends ([`RowEnd`], which follows the quoting over every byte), and the
//! decoding thread splits the row's bytes into fields ([`RowFields`]).
//!
//! Both read the grammar as the `csv` crate does with its defaults (RFC 4180, read leniently):
//! `,` between fields; a quote is special only at the start of a field, where it opens a
//! quoted field; inside one, `""` is one quote and another quote closes it; bytes after a
//! closing quote continue the field unquoted, quotes included; outside quotes, `\n`, `\r` and
//! `\r\n` end a record, and empty lines are skipped. A quoted field that is never closed runs
//! to the end of the input (the `csv` crate forgives it silently; the framer reports it).

use csv::ByteRecord;
use memchr::{memchr, memchr3};

/// Where a row's scan is in the grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// At the start of a field: a quote here opens a quoted field.
    FieldStart,
    /// Inside a field that is not quoted (or no longer: after its closing quote).
    Unquoted,
    Quoted,
    /// A quote seen inside a quoted field: either the close or the first half of `""`.
    QuoteInQuoted,
}

/// Finds where one row ends: its first line-end byte outside quotes. A row starts at a byte
/// that is not a line end (the framer skips empty lines first).
pub(crate) struct RowEnd {
    state: State,
}

impl RowEnd {
    pub(crate) fn new() -> RowEnd {
        RowEnd {
            state: State::FieldStart,
        }
    }

    /// True when the bytes scanned so far end inside a quoted field.
    pub(crate) fn in_quotes(&self) -> bool {
        self.state == State::Quoted
    }

    /// Where the row ends in `bytes`, which continue the bytes of the earlier calls: the
    /// index of its line end, or `None` if the row runs on past them.
    pub(crate) fn find(&mut self, bytes: &[u8]) -> Option<usize> {
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
                            i = q + 1;
                        }
                        None => return None,
                    }
                }
                State::FieldStart | State::Unquoted => {
                    // Commas matter only before a quote: the next quote or line end is
                    // searched for, and a quote found opens a field only where a field starts
                    // (right after a comma, or where this state began at one).
                    let is = |b: u8| matches!(b, b'"' | b'\n' | b'\r');
                    match find(rest, is, |r| memchr3(b'"', b'\n', b'\r', r)) {
                        Some(p) if rest.get(p) == Some(&b'"') => {
                            let at_field_start = match p.checked_sub(1) {
                                Some(before) => rest.get(before) == Some(&b','),
                                None => self.state == State::FieldStart,
                            };
                            self.state = if at_field_start {
                                State::Quoted
                            } else {
                                State::Unquoted
                            };
                            i += p + 1;
                        }
                        Some(p) => {
                            self.state = State::FieldStart;
                            return Some(i + p);
                        }
                        None => {
                            self.state = if rest.last() == Some(&b',') {
                                State::FieldStart
                            } else {
                                State::Unquoted
                            };
                            return None;
                        }
                    }
                }
                State::QuoteInQuoted => {
                    let b = rest.first().copied().unwrap_or_default();
                    // Right after a quote inside a quoted field, a second quote is an escaped
                    // quote; anything else closed the field.
                    self.state = match b {
                        b'"' => State::Quoted,
                        b',' => State::FieldStart,
                        b'\n' | b'\r' => {
                            self.state = State::FieldStart;
                            return Some(i);
                        }
                        _ => State::Unquoted,
                    };
                    i += 1;
                }
            }
        }
        None
    }
}

/// Splits rows into fields, reusing its room from row to row.
#[derive(Default)]
pub(crate) struct RowFields {
    record: ByteRecord,
    /// A quoted field with escaped quotes in it, unescaped.
    unescaped: Vec<u8>,
}

impl RowFields {
    /// The fields of `row`: the bytes of one record as the framer cut it (no line end outside
    /// quotes; an unclosed quoted field runs to its end).
    pub(crate) fn split(&mut self, row: &[u8]) -> &ByteRecord {
        self.record.clear();
        let mut i = 0;
        loop {
            let rest = row.get(i..).unwrap_or_default();
            if rest.first() != Some(&b'"') {
                let field_end = find(rest, |b| b == b',', |r| memchr(b',', r));
                self.record
                    .push_field(rest.get(..field_end.unwrap_or(rest.len())).unwrap_or(rest));
                match field_end {
                    Some(p) => i += p + 1,
                    None => return &self.record,
                }
                continue;
            }
            // A quoted field: its content up to the closing quote, each `""` one quote,
            // then whatever follows the closing quote up to the next comma, as it is.
            self.unescaped.clear();
            let mut from = 1;
            let closed = loop {
                let content = rest.get(from..).unwrap_or_default();
                match find(content, |b| b == b'"', |r| memchr(b'"', r)) {
                    Some(q) if content.get(q + 1) == Some(&b'"') => {
                        self.unescaped
                            .extend_from_slice(content.get(..q + 1).unwrap_or_default());
                        from += q + 2;
                    }
                    Some(q) => {
                        self.unescaped
                            .extend_from_slice(content.get(..q).unwrap_or_default());
                        break Some(from + q + 1);
                    }
                    None => {
                        self.unescaped.extend_from_slice(content);
                        break None;
                    }
                }
            };
            let Some(after) = closed else {
                self.record.push_field(&self.unescaped);
                return &self.record;
            };
            let tail = rest.get(after..).unwrap_or_default();
            let field_end = find(tail, |b| b == b',', |r| memchr(b',', r));
            self.unescaped
                .extend_from_slice(tail.get(..field_end.unwrap_or(tail.len())).unwrap_or(tail));
            self.record.push_field(&self.unescaped);
            match field_end {
                Some(p) => i += after + p + 1,
                None => return &self.record,
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The grammar one byte at a time, empty lines apart: the length of each record (its
    /// bytes without its line end), and whether the text ends inside a quoted field.
    pub(crate) fn records_one_byte_at_a_time(text: &[u8]) -> (Vec<usize>, bool) {
        // `None` between records.
        let (mut state, mut len, mut records) = (None, 0, Vec::new());
        for &b in text {
            let at = match state {
                None if matches!(b, b'\n' | b'\r') => continue,
                None => State::FieldStart,
                Some(s) => s,
            };
            state = match (at, b) {
                (State::Quoted, b'"') => Some(State::QuoteInQuoted),
                (State::Quoted, _) => Some(State::Quoted),
                (_, b'\n' | b'\r') => None,
                (_, b',') => Some(State::FieldStart),
                (State::Unquoted, _) => Some(State::Unquoted),
                (_, b'"') => Some(State::Quoted),
                _ => Some(State::Unquoted),
            };
            match state {
                None => {
                    records.push(len);
                    len = 0;
                }
                Some(_) => len += 1,
            }
        }
        if state.is_some() {
            records.push(len);
        }
        (records, state == Some(State::Quoted))
    }

    /// Records: where the reader stood before each, and its fields.
    pub(crate) type Records = Vec<(u64, Vec<Vec<u8>>)>;

    /// Every record as the `csv` crate reads `text` (configured as the framer configured it
    /// before it cut rows itself): where its reader stood before the record, and the fields.
    pub(crate) fn csv_crate_records(text: &[u8], headers: bool) -> Records {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(headers)
            .from_reader(text);
        let mut records = Vec::new();
        let mut record = ByteRecord::new();
        while reader.read_byte_record(&mut record).unwrap() {
            let at = record.position().map_or(u64::MAX, |p| p.byte());
            records.push((at, record.iter().map(<[u8]>::to_vec).collect()));
        }
        records
    }

    /// Records cut by [`RowEnd`] fed the bytes in pieces (cut at every `sizes`, taken round
    /// and round), each split by [`RowFields`]: where the previous record's first line-end
    /// byte left off, and the fields. Also whether the last ended inside quotes.
    fn cut_and_split(text: &[u8], sizes: &[usize]) -> (Records, bool) {
        let mut piece_ends = Vec::new();
        let mut at = 0;
        for size in sizes.iter().cycle() {
            at += size;
            piece_ends.push(at);
            if at >= text.len() {
                break;
            }
        }
        let mut fields = RowFields::default();
        let (mut records, mut in_quotes, mut next) = (Vec::new(), false, 0);
        loop {
            let start = next;
            while text.get(next).is_some_and(|b| matches!(b, b'\n' | b'\r')) {
                next += 1;
            }
            if next >= text.len() {
                return (records, in_quotes);
            }
            let mut row_end = RowEnd::new();
            let mut from = next;
            let end = loop {
                let to = piece_ends.iter().copied().find(|&e| e > from);
                let to = to.unwrap_or(text.len()).min(text.len());
                if let Some(p) = row_end.find(&text[from..to]) {
                    break Some(from + p);
                }
                if to == text.len() {
                    break None;
                }
                from = to;
            };
            let row = &text[next..end.unwrap_or(text.len())];
            let split = fields.split(row).iter().map(<[u8]>::to_vec).collect();
            records.push((start as u64, split));
            in_quotes = end.is_none() && row_end.in_quotes();
            match end {
                Some(end) => next = end + 1,
                None => return (records, in_quotes),
            }
        }
    }

    /// Bytes dense in the ones the grammar turns on.
    fn csv_ish(len: std::ops::Range<usize>) -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            proptest::sample::select(b"xxxyyyy\"\"\"\"\"\",,,,\n\n\r\r".to_vec()),
            len,
        )
    }

    #[test]
    fn rows_and_fields() {
        let text = b"a,\"b,\"\"c\"\"\r\nd\",e\r\n\r\n\nx\"y,\"q\"tail\"z,,\r\"open,\n";
        assert_eq!(
            cut_and_split(text, &[5]),
            (
                vec![
                    (
                        0,
                        vec![b"a".to_vec(), b"b,\"c\"\r\nd".to_vec(), b"e".to_vec()]
                    ),
                    (
                        17,
                        vec![
                            b"x\"y".to_vec(),
                            b"qtail\"z".to_vec(),
                            b"".to_vec(),
                            b"".to_vec()
                        ]
                    ),
                    (37, vec![b"open,\n".to_vec()]),
                ],
                true
            )
        );
        assert_eq!(cut_and_split(text, &[5]).0, csv_crate_records(text, false));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]

        /// Cut in pieces of any size and split, any bytes give the records, fields and
        /// positions the `csv` crate reads, and the end inside quotes the grammar gives.
        #[test]
        fn rows_are_cut_and_split_as_the_csv_crate_reads_them(
            text in csv_ish(0..200),
            sizes in proptest::collection::vec(1usize..40, 1..6),
        ) {
            let (records, in_quotes) = cut_and_split(&text, &sizes);
            proptest::prop_assert_eq!(&records, &csv_crate_records(&text, false));
            let (lengths, ends_in_quotes) = records_one_byte_at_a_time(&text);
            proptest::prop_assert_eq!(lengths.len(), records.len());
            proptest::prop_assert_eq!(in_quotes, ends_in_quotes);
        }

        /// The split search finds what a plain search finds, wherever the byte lies.
        #[test]
        fn find_is_a_plain_search(bytes in proptest::collection::vec(
            // Mostly plain bytes, so that the byte found often lies past the first few.
            proptest::sample::select([&[b'x'; 60][..], b",\"\n\r"].concat()), 0..120,
        )) {
            let is = |b: u8| matches!(b, b'"' | b'\n' | b'\r');
            proptest::prop_assert_eq!(
                find(&bytes, is, |r| memchr3(b'"', b'\n', b'\r', r)),
                bytes.iter().position(|&b| is(b))
            );
            proptest::prop_assert_eq!(
                find(&bytes, |b| b == b'"', |r| memchr(b'"', r)),
                bytes.iter().position(|&b| b == b'"')
            );
        }
    }
}
