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

use super::scan::{prefix_parity, zero_padded, BLOCK};

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
    ///
    /// 64 bytes at a time: bit masks of the quotes, line ends and commas, and which bytes lie
    /// inside quotes (a running parity of the quotes), so that the cost per byte does not
    /// depend on how close the quotes are (an audit record's JSON has `""` every few bytes).
    /// The parity is the grammar's as long as every quote that opens (by parity) stands where
    /// a quoted field may start or continue: after a comma, a line end or a closing quote
    /// (`""`). A block where one does not (a quote in the middle of a field that is not
    /// quoted, which is part of the field) is walked byte by byte, so the cut is the
    /// grammar's whatever the input.
    pub(crate) fn find(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut i = 0;
        while let Some(rest) = bytes.get(i..).filter(|r| !r.is_empty()) {
            let n = rest.len().min(BLOCK);
            let padded;
            let block = match rest
                .get(..BLOCK)
                .and_then(|b| <&[u8; BLOCK]>::try_from(b).ok())
            {
                Some(whole) => whole,
                None => {
                    padded = zero_padded(rest);
                    &padded
                }
            };
            let m = Masks::of(block);
            let carried = if self.state == State::Quoted {
                u64::MAX
            } else {
                0
            };
            let inside = prefix_parity(m.quote) ^ carried;
            let ends = m.line_end & !inside;
            let before_end = match ends {
                0 => u64::MAX,
                _ => (1u64 << ends.trailing_zeros()) - 1,
            };
            let opens_at_start = matches!(self.state, State::FieldStart | State::QuoteInQuoted);
            let may_open = ((m.comma | m.line_end | m.quote) << 1) | u64::from(opens_at_start);
            if m.quote & inside & !may_open & before_end != 0 {
                match self.walk(rest.get(..n).unwrap_or_default()) {
                    Some(end) => return Some(i + end),
                    None => {
                        i += n;
                        continue;
                    }
                }
            }
            if ends != 0 {
                self.state = State::FieldStart;
                return Some(i + ends.trailing_zeros() as usize);
            }
            self.state = if inside >> (n - 1) & 1 == 1 {
                State::Quoted
            } else {
                match rest.get(n - 1) {
                    Some(b'"') => State::QuoteInQuoted,
                    Some(b',') => State::FieldStart,
                    _ => State::Unquoted,
                }
            };
            i += n;
        }
        None
    }

    /// [`RowEnd::find`] one byte of the grammar at a time, with searches for the next byte
    /// that matters.
    fn walk(&mut self, bytes: &[u8]) -> Option<usize> {
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

/// One bit per byte of a block (bit `k` for byte `k`): its quotes, line ends and commas.
#[derive(Debug, Default, PartialEq, Eq)]
struct Masks {
    quote: u64,
    line_end: u64,
    comma: u64,
}

impl Masks {
    /// With SSE2 (every x86-64 CPU) through `safe_arch`, as the other scanners do: the
    /// workspace forbids `unsafe`, and the byte loop below is not vectorized.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[inline(always)]
    fn of(block: &[u8; BLOCK]) -> Masks {
        use safe_arch::{
            bitor_m128i, cmp_eq_mask_i8_m128i, m128i, move_mask_i8_m128i, set_splat_i8_m128i,
        };
        let bits = |x: m128i| u64::from(move_mask_i8_m128i(x) as u16);
        let is = |v: m128i, c: u8| cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(c as i8));
        let mut m = Masks::default();
        for (k, part) in block.chunks_exact(16).enumerate() {
            let v = m128i::from(<[u8; 16]>::try_from(part).unwrap_or_default());
            let shift = 16 * k;
            m.quote |= bits(is(v, b'"')) << shift;
            m.line_end |= bits(bitor_m128i(is(v, b'\n'), is(v, b'\r'))) << shift;
            m.comma |= bits(is(v, b',')) << shift;
        }
        m
    }

    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    #[inline(always)]
    fn of(block: &[u8; BLOCK]) -> Masks {
        Masks::of_bytes(block)
    }

    /// The masks one byte at a time (elsewhere than x86-64; on x86-64, tests check the SSE2
    /// version against it).
    #[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
    fn of_bytes(block: &[u8; BLOCK]) -> Masks {
        let mut m = Masks::default();
        for (k, &b) in block.iter().enumerate() {
            m.quote |= u64::from(b == b'"') << k;
            m.line_end |= u64::from(matches!(b, b'\n' | b'\r')) << k;
            m.comma |= u64::from(b == b',') << k;
        }
        m
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
            let content = rest.get(1..).unwrap_or_default();
            let closed = unescape_quoted(content, &mut self.unescaped).map(|q| q + 2);
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

/// Bytes of a quoted field copied at once.
const LANE: usize = 16;

/// Appends the content of a quoted field (`content` starts after its opening quote) to `out`
/// up to its closing quote, each `""` as one quote; where the closing quote is (`None`: the
/// field is never closed). A lane of 16 bytes is copied whole and the copy cut after the
/// first quote in it: in an audit record's JSON, `""` comes every few bytes, and a copy of
/// each piece between them cost more than the bytes it copied.
fn unescape_quoted(content: &[u8], out: &mut Vec<u8>) -> Option<usize> {
    let mut k = 0;
    loop {
        let rest = content.get(k..).unwrap_or_default();
        let n = rest.len().min(LANE);
        let mut lane = [0u8; LANE];
        match rest.get(..LANE) {
            Some(whole) => lane.copy_from_slice(whole),
            None => {
                if let (Some(to), Some(from)) = (lane.get_mut(..n), rest.get(..n)) {
                    to.copy_from_slice(from);
                }
            }
        }
        let start = out.len();
        out.extend_from_slice(&lane);
        // Zeros past the end are no quotes.
        let quotes = lane_quotes(lane);
        if quotes == 0 {
            out.truncate(start + n);
            if n < LANE {
                return None;
            }
            k += LANE;
            continue;
        }
        let q = quotes.trailing_zeros() as usize;
        if rest.get(q + 1) == Some(&b'"') {
            out.truncate(start + q + 1);
            k += q + 2;
        } else {
            out.truncate(start + q);
            return Some(k + q);
        }
    }
}

/// A bit per quote in `lane` (bit `k` for byte `k`).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn lane_quotes(lane: [u8; LANE]) -> u32 {
    use safe_arch::{cmp_eq_mask_i8_m128i, m128i, move_mask_i8_m128i, set_splat_i8_m128i};
    let v = m128i::from(lane);
    let bits = move_mask_i8_m128i(cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(b'"' as i8)));
    u32::from(bits as u16)
}

/// A bit per quote in `lane` (bit `k` for byte `k`).
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn lane_quotes(lane: [u8; LANE]) -> u32 {
    lane_quotes_by_byte(lane)
}

/// [`lane_quotes`] one byte at a time (elsewhere than x86-64; on x86-64, tests check the
/// SSE2 version against it).
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
fn lane_quotes_by_byte(lane: [u8; LANE]) -> u32 {
    let mut bits = 0;
    for (k, &b) in lane.iter().enumerate() {
        bits |= u32::from(b == b'"') << k;
    }
    bits
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
            text in csv_ish(0..400),
            sizes in proptest::collection::vec(1usize..160, 1..6),
        ) {
            let (records, in_quotes) = cut_and_split(&text, &sizes);
            proptest::prop_assert_eq!(&records, &csv_crate_records(&text, false));
            let (lengths, ends_in_quotes) = records_one_byte_at_a_time(&text);
            proptest::prop_assert_eq!(lengths.len(), records.len());
            proptest::prop_assert_eq!(in_quotes, ends_in_quotes);
        }

        /// The SSE2 masks are the ones built a byte at a time.
        #[test]
        fn block_masks_agree(bytes in csv_ish(BLOCK..BLOCK + 1)) {
            let block = <[u8; BLOCK]>::try_from(bytes.as_slice()).unwrap();
            proptest::prop_assert_eq!(Masks::of(&block), Masks::of_bytes(&block));
        }

        /// The SSE2 quote bits are the ones found a byte at a time.
        #[test]
        fn lane_quotes_agree(bytes in csv_ish(LANE..LANE + 1)) {
            let lane = <[u8; LANE]>::try_from(bytes.as_slice()).unwrap();
            proptest::prop_assert_eq!(lane_quotes(lane), lane_quotes_by_byte(lane));
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
