//! Finding where one JSON value ends without parsing it: a byte-level state machine that
//! tracks strings, escapes and nesting depth, fed chunk by chunk so a value may span reads.
//!
//! It does not validate: `{"a": tru}` is cut as one value and the decoder reports it. It only
//! needs to agree with a real parser on where well-formed values end, and never to panic or
//! run past the end of its input on malformed ones.

use memchr::memchr2;

/// What kind of value is being scanned, fixed by its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `{...}` or `[...]`.
    Container,
    /// `"..."`.
    String,
    /// A number, `true`, `false`, `null`, or junk: runs to the next delimiter.
    Scalar,
}

/// Progress of one scan.
#[derive(Clone, Debug)]
pub(crate) struct ValueScan {
    kind: Option<Kind>,
    depth: u64,
    in_string: bool,
    escape: bool,
    /// Bytes looked at by the searches so far: the work of the scan, which must stay linear
    /// in the bytes fed (issue 14: a run of `[` was searched again at each one).
    #[cfg(test)]
    examined: u64,
}

/// Result of feeding one chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Feed {
    /// The value continues past this chunk.
    NeedMore,
    /// The value ends after this many bytes of the chunk.
    Done(usize),
}

impl ValueScan {
    /// A scan positioned on the first byte of a value (whitespace already skipped).
    pub(crate) fn new() -> Self {
        ValueScan {
            kind: None,
            depth: 0,
            in_string: false,
            escape: false,
            #[cfg(test)]
            examined: 0,
        }
    }

    /// Bytes looked at by the searches so far.
    #[cfg(test)]
    pub(crate) fn examined(&self) -> u64 {
        self.examined
    }

    /// True when the end of input may legitimately end the value (a bare scalar).
    pub(crate) fn may_end_at_eof(&self) -> bool {
        matches!(self.kind, Some(Kind::Scalar))
    }

    /// Feed the next chunk of the value's bytes.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Feed {
        let mut i = 0;
        if self.kind.is_none() {
            let Some(&first) = chunk.first() else {
                return Feed::NeedMore;
            };
            i = 1;
            match first {
                b'{' | b'[' => {
                    self.kind = Some(Kind::Container);
                    self.depth = 1;
                }
                b'"' => {
                    self.kind = Some(Kind::String);
                    self.in_string = true;
                }
                _ => {
                    self.kind = Some(Kind::Scalar);
                    if is_delimiter(first) {
                        // Not a value at all (e.g. a stray `,`): cut the one byte so the caller
                        // makes progress and the decoder reports it.
                        return Feed::Done(1);
                    }
                }
            }
        }
        match self.kind {
            Some(Kind::Scalar) => match chunk
                .get(i..)
                .and_then(|rest| rest.iter().position(|b| is_delimiter(*b)))
            {
                Some(p) => Feed::Done(i + p),
                None => Feed::NeedMore,
            },
            Some(Kind::String) => match self.scan_string(chunk, i) {
                Some(end) => Feed::Done(end),
                None => Feed::NeedMore,
            },
            Some(Kind::Container) => self.scan_container(chunk, i),
            None => Feed::NeedMore,
        }
    }

    /// Inside a string from `i`: the index just past the closing quote, if in this chunk.
    fn scan_string(&mut self, chunk: &[u8], mut i: usize) -> Option<usize> {
        loop {
            if self.escape {
                if i >= chunk.len() {
                    return None;
                }
                i += 1;
                self.escape = false;
            }
            let rest = chunk.get(i..)?;
            let p = memchr2(b'"', b'\\', rest)?;
            i += p;
            if chunk.get(i) == Some(&b'\\') {
                self.escape = true;
                i += 1;
            } else {
                self.in_string = false;
                return Some(i + 1);
            }
        }
    }

    fn scan_container(&mut self, chunk: &[u8], mut i: usize) -> Feed {
        // 64 bytes at a time: bit masks of the bytes that matter, the escaped bytes, and
        // which bytes lie inside strings (a running parity of the unescaped quotes), so the
        // cost per byte does not depend on how short the strings are. A block with a
        // backslash outside strings (never in well-formed JSON) is walked byte by byte, so
        // the cut is the byte-level state machine's whatever the input.
        while let Some(rest) = chunk.get(i..).filter(|r| !r.is_empty()) {
            let n = rest.len().min(BLOCK);
            // A whole block is read where it lies (a copy first stalled each load on the
            // stores before it); only the chunk's last, short one is copied, zero-padded.
            let padded;
            let block = match rest.get(..BLOCK) {
                Some(whole) => whole,
                None => {
                    padded = zero_padded(rest);
                    &padded[..]
                }
            };
            self.count_examined(n);
            let valid = if n == BLOCK {
                u64::MAX
            } else {
                (1u64 << n) - 1
            };
            let m = Masks::of(block);
            let backslash = m.backslash & valid;
            let (escaped, escape_out) = escaped_bytes(backslash, self.escape, n);
            let quotes = m.quote & valid & !escaped;
            let carried = if self.in_string { u64::MAX } else { 0 };
            let inside = prefix_parity(quotes) ^ carried;
            if backslash & !inside != 0 {
                match self.walk(block.get(..n).unwrap_or_default()) {
                    Some(end) => return Feed::Done(i + end),
                    None => {
                        i += n;
                        continue;
                    }
                }
            }
            let opens = m.open & valid & !inside;
            let closes = m.close & valid & !inside;
            // The value cannot end in this block when it closes fewer brackets than are open.
            if u64::from(closes.count_ones()) < self.depth {
                self.depth =
                    self.depth + u64::from(opens.count_ones()) - u64::from(closes.count_ones());
            } else {
                let mut events = opens | closes;
                while events != 0 {
                    let at = events.trailing_zeros();
                    if opens >> at & 1 == 1 {
                        self.depth += 1;
                    } else {
                        self.depth = self.depth.saturating_sub(1);
                        if self.depth == 0 {
                            return Feed::Done(i + at as usize + 1);
                        }
                    }
                    events &= events - 1;
                }
            }
            self.in_string = inside >> (n - 1) & 1 == 1;
            self.escape = escape_out;
            i += n;
        }
        Feed::NeedMore
    }

    /// The byte-level state machine over `bytes`: where the value ends in them, if it does.
    fn walk(&mut self, bytes: &[u8]) -> Option<usize> {
        for (k, &b) in bytes.iter().enumerate() {
            if self.in_string {
                if self.escape {
                    self.escape = false;
                } else if b == b'\\' {
                    self.escape = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Some(k + 1);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// Count bytes looked at by a search (tests check the total stays linear).
    #[inline(always)]
    fn count_examined(&mut self, _n: usize) {
        #[cfg(test)]
        {
            self.examined += _n as u64;
        }
    }
}

/// Bytes scanned as one block of bit masks.
pub(super) const BLOCK: usize = 64;

/// One bit per byte of a block (bit `k` for byte `k`): its quotes, backslashes, and opening
/// and closing brackets.
#[derive(Debug, Default, PartialEq, Eq)]
struct Masks {
    quote: u64,
    backslash: u64,
    open: u64,
    close: u64,
}

impl Masks {
    /// With SSE2 (every x86-64 CPU) through `safe_arch`, as the decoder's scanner does: four
    /// compares and four `pmovmskb` per 16 bytes, where the word-at-a-time version below
    /// takes about ten operations per byte class and word.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[inline(always)]
    fn of(block: &[u8]) -> Masks {
        use safe_arch::{
            bitor_m128i, cmp_eq_mask_i8_m128i, m128i, move_mask_i8_m128i, set_splat_i8_m128i,
        };
        let bits = |x: m128i| u64::from(move_mask_i8_m128i(x) as u16);
        let mut m = Masks::default();
        for (k, part) in block.chunks_exact(16).take(BLOCK / 16).enumerate() {
            let lane: [u8; 16] = part.try_into().unwrap_or_default();
            let v = m128i::from(lane);
            // See `of_words` for the folding of brackets into braces.
            let folded = bitor_m128i(v, set_splat_i8_m128i(0x20));
            let is = |x: m128i, c: u8| bits(cmp_eq_mask_i8_m128i(x, set_splat_i8_m128i(c as i8)));
            let shift = 16 * k;
            m.quote |= is(v, b'"') << shift;
            m.backslash |= is(v, b'\\') << shift;
            m.open |= is(folded, b'{') << shift;
            m.close |= is(folded, b'}') << shift;
        }
        m
    }

    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    #[inline(always)]
    fn of(block: &[u8]) -> Masks {
        Masks::of_words(block)
    }

    /// The masks, 8 bytes at a time in plain integer operations (elsewhere than x86-64; on
    /// x86-64, tests check the SSE2 version against it).
    #[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
    fn of_words(block: &[u8]) -> Masks {
        let mut m = Masks::default();
        for (k, word) in block.chunks_exact(8).take(BLOCK / 8).enumerate() {
            let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
            // `[` and `]` are `{` and `}` with bit 5 clear, and no other byte turns into a
            // brace when it is set: one comparison finds both kinds of opening bracket.
            let folded = w | 0x2020_2020_2020_2020;
            let shift = 8 * k;
            m.quote |= byte_bits(equal_bytes(w, b'"')) << shift;
            m.backslash |= byte_bits(equal_bytes(w, b'\\')) << shift;
            m.open |= byte_bits(equal_bytes(folded, b'{')) << shift;
            m.close |= byte_bits(equal_bytes(folded, b'}')) << shift;
        }
        m
    }
}

/// The start of `bytes` (shorter than a block) in a block of zeros, which match nothing (of
/// JSON's bytes that matter, or CSV's).
pub(super) fn zero_padded(bytes: &[u8]) -> [u8; BLOCK] {
    let mut block = [0u8; BLOCK];
    let n = bytes.len().min(BLOCK);
    if let (Some(to), Some(from)) = (block.get_mut(..n), bytes.get(..n)) {
        to.copy_from_slice(from);
    }
    block
}

/// The high bit of each byte of `w` that equals `c`, and no other bit. Exact: the sum that
/// tests a byte cannot carry into the next.
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
fn equal_bytes(w: u64, c: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = w ^ (0x0101_0101_0101_0101 * u64::from(c));
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// The high bits of the 8 bytes of `m` gathered into its low 8 bits: each byte's bit is
/// multiplied to its own place in the top byte, and no two products meet there or carry.
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
fn byte_bits(m: u64) -> u64 {
    ((m >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

/// The bytes of a block of `n` bytes that an unescaped backslash escapes (bit 0 too when
/// `escape_in`: the block before ended on one), and whether the block's last byte is such a
/// backslash. Backslashes go in order: one that is escaped escapes nothing.
fn escaped_bytes(backslash: u64, escape_in: bool, n: usize) -> (u64, bool) {
    let mut escaped = u64::from(escape_in);
    let mut rest = backslash;
    let mut escape_out = false;
    while rest != 0 {
        let at = rest.trailing_zeros();
        rest &= rest - 1;
        if escaped >> at & 1 == 1 {
            continue;
        }
        if at as usize + 1 >= n {
            escape_out = true;
        } else {
            escaped |= 1 << (at + 1);
        }
    }
    (escaped, escape_out)
}

/// Bit `k` of the result is the parity of bits `0..=k` of `x`: over the unescaped quotes, set
/// from an opening quote up to (not including) its closing one (of a JSON string, or of a
/// quoted CSV field).
pub(super) fn prefix_parity(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// Bytes that end a bare scalar.
fn is_delimiter(b: u8) -> bool {
    matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n')
}

/// Where the first JSON value of `bytes` ends (index just past it), if it ends inside `bytes`.
/// Leading whitespace is skipped. A bare scalar ends at the end of `bytes`.
pub(crate) fn value_end(bytes: &[u8]) -> Option<usize> {
    let start = bytes
        .iter()
        .position(|b| !super::stream::is_json_space(*b))?;
    let mut scan = ValueScan::new();
    match scan.feed(bytes.get(start..)?) {
        Feed::Done(n) => Some(start + n),
        Feed::NeedMore if scan.may_end_at_eof() => Some(bytes.len()),
        Feed::NeedMore => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Where a container value ends, one byte at a time: the state machine the block scan
    /// must agree with on any input (written here apart from the scanner's own fallback).
    fn end_by_bytes(bytes: &[u8]) -> Option<usize> {
        let (mut depth, mut in_string, mut escape) = (0u64, false, false);
        for (k, &b) in bytes.iter().enumerate() {
            match (in_string, escape, b) {
                (true, true, _) => escape = false,
                (true, false, b'\\') => escape = true,
                (true, false, b'"') => in_string = false,
                (true, false, _) => {}
                (false, _, b'"') => in_string = true,
                (false, _, b'{' | b'[') => depth += 1,
                (false, _, b'}' | b']') => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Some(k + 1);
                    }
                }
                (false, _, _) => {}
            }
        }
        None
    }

    /// Feed `bytes` cut at `cuts` (sorted offsets): where the value ends, if it does.
    fn end_in_pieces(bytes: &[u8], cuts: &[usize]) -> Option<usize> {
        let mut scan = ValueScan::new();
        let mut from = 0;
        for &to in cuts.iter().chain(std::iter::once(&bytes.len())) {
            let to = to.clamp(from, bytes.len());
            let piece = bytes.get(from..to)?;
            if !piece.is_empty() {
                if let Feed::Done(n) = scan.feed(piece) {
                    return Some(from + n);
                }
            }
            from = to;
        }
        None
    }

    /// Bytes that matter to the scan and some that do not, so that every state and every
    /// place in a 64-byte block is met.
    fn jsonish() -> impl Strategy<Value = Vec<u8>> {
        let byte = proptest::sample::select(b"{}[]\"\\\\a ,:".to_vec());
        (
            proptest::sample::select(b"{[".to_vec()),
            proptest::collection::vec(byte, 0..400),
        )
            .prop_map(|(first, mut rest)| {
                rest.insert(0, first);
                rest
            })
    }

    proptest! {
        #[test]
        fn blocks_cut_where_bytes_do(
            bytes in jsonish(),
            mut cuts in proptest::collection::vec(0usize..400, 0..6),
        ) {
            cuts.sort_unstable();
            prop_assert_eq!(end_in_pieces(&bytes, &cuts), end_by_bytes(&bytes));
        }

        /// Well-formed values end where serde_json wrote them to end, with strings holding
        /// brackets, quotes and backslashes, in any pieces.
        #[test]
        fn well_formed_values_end_at_their_end(
            value in json_value(),
            mut cuts in proptest::collection::vec(0usize..600, 0..6),
        ) {
            let mut text = serde_json::to_vec(&serde_json::json!([value])).unwrap_or_default();
            let len = text.len();
            text.extend_from_slice(b" ,[\"tail\"]");
            cuts.sort_unstable();
            prop_assert_eq!(end_in_pieces(&text, &cuts), Some(len));
        }
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let text = proptest::collection::vec(
            proptest::sample::select(vec!['a', '"', '\\', '{', '}', '[', ']', ' ', 'é', '\n']),
            0..40,
        )
        .prop_map(|c| serde_json::Value::String(c.into_iter().collect()));
        let leaf = prop_oneof![text, (0u32..1000).prop_map(serde_json::Value::from)];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                proptest::collection::vec(("[a-z\"]{0,6}", inner), 0..6)
                    .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// The SSE2 masks are the word-at-a-time ones, on bytes dense in the ones that count.
        #[test]
        fn block_masks_agree(bytes in proptest::collection::vec(
            proptest::sample::select(b"{}[]\"\\\\az\x7b\x5b\x02\x00\xff|".to_vec()),
            BLOCK,
        )) {
            let mut block = [0u8; BLOCK];
            block.copy_from_slice(&bytes);
            prop_assert_eq!(Masks::of(&block), Masks::of_words(&block));
        }
    }

    #[test]
    fn escapes_and_strings_across_block_and_piece_edges() {
        // A backslash as the 64th byte escapes the next block's first; as a piece's last
        // byte, the next piece's first.
        let mut text = b"{\"k\":\"".to_vec();
        text.resize(63, b'a');
        text.extend_from_slice(b"\\\"}\"}");
        assert_eq!(text.get(63), Some(&b'\\'));
        assert_eq!(value_end(&text), Some(text.len()));
        assert_eq!(end_in_pieces(&text, &[64]), Some(text.len()));
        // A run of 65 backslashes (odd: the quote after it is escaped) and of 66.
        for (run, ends) in [(65, false), (66, true)] {
            let mut text = b"[\"".to_vec();
            text.extend(std::iter::repeat_n(b'\\', run));
            text.extend_from_slice(b"\"]");
            assert_eq!(value_end(&text).is_some(), ends, "{run} backslashes");
            assert_eq!(end_by_bytes(&text).is_some(), ends, "{run} backslashes");
        }
        // A string that spans several blocks, closed in a later piece.
        let mut text = b"[\"".to_vec();
        text.extend(std::iter::repeat_n(b'}', 200));
        text.extend_from_slice(b"\"]");
        assert_eq!(end_in_pieces(&text, &[70, 130]), Some(text.len()));
        // A backslash outside any string is not an escape (the byte walk decides).
        assert_eq!(value_end(br#"{\"a":1}"#), Some(8));
    }

    #[test]
    fn ends_of_values() {
        assert_eq!(value_end(br#"{"a":"}"} x"#), Some(9));
        assert_eq!(value_end(br#"  {"a":"\"}"}"#), Some(13));
        assert_eq!(value_end(br#"[1,[2,{"b":"]"}],3]tail"#), Some(19));
        assert_eq!(value_end(br#""str\\" ,"#), Some(7));
        assert_eq!(value_end(b"123, 4"), Some(3));
        assert_eq!(value_end(b"true"), Some(4));
        assert_eq!(value_end(br#"{"a":[1,2"#), None);
        assert_eq!(value_end(b"   "), None);
    }

    /// Issue 14: 100 MB of `[` took 52 s, the rest of the chunk searched again at each `[`.
    #[test]
    fn a_run_of_brackets_is_searched_once() {
        let chunk = vec![b'['; 64 * 1024];
        let mut scan = ValueScan::new();
        for _ in 0..4 {
            assert_eq!(scan.feed(&chunk), Feed::NeedMore);
        }
        let fed = 4 * chunk.len() as u64;
        assert!(
            scan.examined() <= 2 * fed,
            "{} bytes examined for {fed} fed",
            scan.examined()
        );
        // The same for runs of quotes and of braces, and a mix.
        for chunk in [
            b"{".repeat(64 * 1024),
            b"[{".repeat(32 * 1024),
            b"[\"\",".repeat(16 * 1024),
        ] {
            let mut scan = ValueScan::new();
            assert_eq!(scan.feed(&chunk), Feed::NeedMore);
            assert!(
                scan.examined() <= 2 * chunk.len() as u64,
                "{}",
                scan.examined()
            );
        }
    }

    #[test]
    fn values_split_across_chunks() {
        let text = br#"{"k":"a\"b\\","l":[{"m":"}]"}]} rest"#;
        for cut in 0..text.len() {
            let (a, b) = text.split_at(cut);
            let mut scan = ValueScan::new();
            let end = match scan.feed(a) {
                Feed::Done(n) => n,
                Feed::NeedMore => match scan.feed(b) {
                    Feed::Done(n) => cut + n,
                    Feed::NeedMore => panic!("no end found for cut {cut}"),
                },
            };
            assert_eq!(end, 31, "cut at {cut}");
        }
    }
}
