//! A lazy JSON scanner over one record's text: the collector asks it for the next key, the
//! next value as a scalar, or to skip the next value, and nothing is built that nobody asked
//! for.
//!
//! Why not serde_json: most of a sign-in's bytes are values nobody reads (the conditional
//! access policies and authentication details, often as escaped JSON text), and skipping them
//! through serde's visitor machinery cost more than everything else together. Here a string
//! is crossed 16 or 64 bytes at a time (SSE2 compares through `safe_arch`, a bit per byte for
//! quotes, backslashes and control characters, escapes resolved on the bit masks), a key is
//! lowered in the same pass, and a skipped container is walked by a loop with an explicit bit
//! stack, so hostile nesting costs memory, never the call stack.
//!
//! What is checked is what serde_json checks on the same path: the grammar of everything
//! crossed (brackets that match, commas and colons where they belong, numbers and literals
//! spelled right), escapes that exist, and no raw control characters inside strings. The
//! text is already known to be UTF-8. A value with escapes (the nested fields logged as JSON
//! text) is unescaped here, except `\u` escapes, which are left to serde_json so surrogate
//! pairs decode as they always did.

use std::cell::{Cell, OnceCell};
use std::fmt;
use std::rc::Rc;

pub(crate) use super::keys::KEY_CAP;
use super::keys::{KeyOrder, KeyTable};

/// Why a record is not JSON, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ScanError {
    /// What was wrong.
    pub(crate) reason: &'static str,
    /// Byte offset in the scanned text.
    pub(crate) at: usize,
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.reason, self.at)
    }
}

/// Bit `i` set in every other position, starting at bit 1.
const ODD_BITS: u64 = 0xAAAA_AAAA_AAAA_AAAA;

/// Bytes of input classified at once (one bit per byte in the masks).
const BLOCK: usize = 64;

/// Bytes classified by the short-string fast path.
const LANE: usize = 16;

/// One lane of text: a bit per byte (bit `i` for byte `i`) for quotes, backslashes and
/// control characters.
///
/// With SSE2 (every x86-64 CPU) through `safe_arch`, three compares and three
/// `pmovmskb` per lane: the workspace forbids `unsafe`, and LLVM does not turn the
/// equivalent byte loop into `pmovmskb` (it was tried; it builds the mask one byte at a time).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn lane_masks(lane: [u8; LANE]) -> (u64, u64, u64) {
    use safe_arch::{
        cmp_eq_mask_i8_m128i, m128i, min_u8_m128i, move_mask_i8_m128i, set_splat_i8_m128i,
    };
    let v = m128i::from(lane);
    let bits = |m: m128i| u64::from(move_mask_i8_m128i(m) as u16);
    let quote = bits(cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(b'"' as i8)));
    let backslash = bits(cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(b'\\' as i8)));
    // Unsigned `byte <= 0x1f` is `min(byte, 0x1f) == byte`.
    let control = bits(cmp_eq_mask_i8_m128i(
        min_u8_m128i(v, set_splat_i8_m128i(0x1f)),
        v,
    ));
    (quote, backslash, control)
}

/// One lane of text: a bit per byte that is a quote, a backslash or a control character
/// (one mask for the fast paths, which only ask whether the first of them is a quote).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn lane_special(lane: [u8; LANE]) -> u64 {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, m128i, min_u8_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };
    let v = m128i::from(lane);
    let special = bitor_m128i(
        bitor_m128i(
            cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(b'"' as i8)),
            cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(b'\\' as i8)),
        ),
        cmp_eq_mask_i8_m128i(min_u8_m128i(v, set_splat_i8_m128i(0x1f)), v),
    );
    u64::from(move_mask_i8_m128i(special) as u16)
}

/// One lane of text: a bit per byte that is a quote, a backslash or a control character.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn lane_special(lane: [u8; LANE]) -> u64 {
    let (quote, backslash, control) = lane_masks(lane);
    quote | backslash | control
}

/// One lane of text: a bit per byte for quotes, backslashes and control characters.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn lane_masks(lane: [u8; LANE]) -> (u64, u64, u64) {
    let (mut quote, mut backslash, mut control) = (0, 0, 0);
    for (i, &c) in lane.iter().enumerate() {
        quote |= u64::from(c == b'"') << i;
        backslash |= u64::from(c == b'\\') << i;
        control |= u64::from(c < 0x20) << i;
    }
    (quote, backslash, control)
}

/// The first [`LANE`] bytes of `bytes` (at least that long), as an array the compiler
/// loads in one instruction.
#[inline(always)]
fn lane_of(bytes: &[u8]) -> [u8; LANE] {
    let mut lane = [0u8; LANE];
    if let Some(src) = bytes.get(..LANE) {
        lane.copy_from_slice(src);
    }
    lane
}

/// One block of a string: a bit per byte for quotes, backslashes and control characters.
struct BlockMasks {
    quote: u64,
    backslash: u64,
    control: u64,
}

impl BlockMasks {
    /// The masks of `block`, [`BLOCK`] bytes long (shorter ones leave the bits of the
    /// missing bytes clear).
    #[inline(always)]
    fn of(block: &[u8]) -> BlockMasks {
        let mut m = BlockMasks {
            quote: 0,
            backslash: 0,
            control: 0,
        };
        for (k, lane) in block.chunks_exact(LANE).enumerate() {
            let (q, b, c) = lane_masks(lane_of(lane));
            m.quote |= q << (LANE * k);
            m.backslash |= b << (LANE * k);
            m.control |= c << (LANE * k);
        }
        m
    }
}

/// The bytes of a block escaped by a backslash, given its backslashes and whether the
/// previous block ended in an escaping backslash (`carry`: bit 0, updated for the next
/// block).
///
/// The run-parity trick of simdjson's string scanner: a run of backslashes escapes the byte
/// after it when the run has odd length, and subtracting the run starts from the pattern of
/// odd bits makes the borrows mark exactly those bytes.
#[inline(always)]
fn escaped_bits(backslash: u64, carry: &mut u64) -> u64 {
    if backslash == 0 {
        return std::mem::take(carry);
    }
    let potential = backslash & !*carry;
    let maybe_escaped = potential << 1;
    let codes = ((maybe_escaped | ODD_BITS).wrapping_sub(potential)) ^ ODD_BITS;
    let escaped = codes ^ (backslash | *carry);
    let escape = codes & backslash;
    *carry = escape >> 63;
    escaped
}

/// The bits below the lowest set bit of `mask` (all bits when none is set).
#[inline(always)]
fn below_first(mask: u64) -> u64 {
    (mask & mask.wrapping_neg()).wrapping_sub(1)
}

/// Deepest skipped container kept in the inline bit stack before spilling to the heap.
const INLINE_LEVELS: u32 = 64;

/// Which containers a skipped value is inside, innermost last: a set bit is an object.
struct Levels {
    inline: u64,
    spilled: Vec<u64>,
    depth: u32,
}

impl Levels {
    fn new() -> Levels {
        Levels {
            inline: 0,
            spilled: Vec::new(),
            depth: 0,
        }
    }

    fn push(&mut self, object: bool) {
        if self.depth > 0 && self.depth.is_multiple_of(INLINE_LEVELS) {
            self.spilled.push(self.inline);
            self.inline = 0;
        }
        let bit = self.depth % INLINE_LEVELS;
        if object {
            self.inline |= 1 << bit;
        } else {
            self.inline &= !(1 << bit);
        }
        self.depth += 1;
    }

    /// The innermost container is an object.
    fn top_is_object(&self) -> bool {
        let bit = (self.depth + INLINE_LEVELS - 1) % INLINE_LEVELS;
        self.inline & (1 << bit) != 0
    }

    fn pop(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        if self.depth > 0 && self.depth.is_multiple_of(INLINE_LEVELS) {
            self.inline = self.spilled.pop().unwrap_or(0);
        }
    }
}

/// An object key, ASCII-lower-cased; empty for a key longer than [`KEY_CAP`] (it matches no
/// slot).
pub(crate) struct LowerKey {
    /// Room for whole words: the bytes past `len` are never looked at.
    buf: [u8; KEY_BUF],
    len: usize,
}

/// [`LowerKey`]'s buffer: [`KEY_CAP`] rounded up to whole words.
const KEY_BUF: usize = KEY_CAP.div_ceil(8) * 8;

impl LowerKey {
    /// Lower-case `bytes` (ASCII) into a key.
    #[inline]
    pub(crate) fn new(bytes: &[u8]) -> LowerKey {
        LowerKey::within(bytes, 0, bytes.len())
    }

    /// Lower-case the `len` bytes of `text` at `start` into a key, a word at a time (the
    /// bytes after the key in its last word are lowered too, and never looked at).
    #[inline]
    fn within(text: &[u8], start: usize, len: usize) -> LowerKey {
        let mut k = LowerKey {
            buf: [0; KEY_BUF],
            len: 0,
        };
        if len > KEY_CAP {
            return k;
        }
        for (n, dst) in k.buf.chunks_exact_mut(8).take(len.div_ceil(8)).enumerate() {
            let at = start + 8 * n;
            let mut w = [0u8; 8];
            match text.get(at..at + 8) {
                Some(src) => w.copy_from_slice(src),
                None => {
                    for (d, s) in w.iter_mut().zip(text.get(at..).unwrap_or(&[])) {
                        *d = *s;
                    }
                }
            }
            dst.copy_from_slice(&lower_word(u64::from_le_bytes(w)).to_le_bytes());
        }
        k.len = len;
        k
    }

    /// The lower-cased bytes.
    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

/// The eight bytes of `w` with ASCII upper-case letters lowered; other bytes (UTF-8
/// sequences included) unchanged.
#[inline(always)]
fn lower_word(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = ONES * 0x80;
    let ascii = !w & HIGHS;
    // Seven-bit bytes plus these constants never carry into the next byte: the high bit
    // says `>= 'A'` and `> 'Z'`.
    let low7 = w & (ONES * 0x7f);
    let from_a = low7.wrapping_add(ONES * u64::from(0x80 - b'A'));
    let past_z = low7.wrapping_add(ONES * u64::from(0x80 - b'Z' - 1));
    let upper = from_a & !past_z & ascii;
    w | (upper >> 2)
}

/// A number as serde_json would hand it to a visitor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Number {
    /// Non-negative and within `u64`.
    Unsigned(u64),
    /// Negative and within `i64`.
    Signed(i64),
    /// With a fraction or exponent, or beyond the integers (and `-0`).
    Float(f64),
}

/// One scalar token, as far as the collector cares.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Scalar<'a> {
    /// A string: in the input when it had no escapes, else unescaped into the scanner's
    /// [`Texts`].
    Str(&'a str),
    /// A number.
    Number(Number),
    /// `true` or `false`.
    Bool(bool),
    /// `null`, an object or an array (skipped).
    Other,
}

/// Texts unescaped while reading one record, kept as long as the record's input.
///
/// The nested fields Log Analytics logs as JSON text (`DeviceDetail`, `LocationDetails`, ...)
/// are read from their unescaped copy, and every value with escapes is its unescaped copy:
/// kept here, what is read borrows it, so no slot owns text and a record's slots (a hundred
/// of them) are dropped without looking at each.
#[derive(Default)]
pub(crate) struct Texts {
    slots: [OnceCell<Kept>; TEXT_SLOTS],
    used: Cell<usize>,
    more: OnceCell<Box<Texts>>,
}

/// Texts kept inline before the next [`Texts`] is allocated: a Log Analytics sign-in has four.
const TEXT_SLOTS: usize = 8;

/// One kept text: a record's own, or one shared with the records that had the same.
enum Kept {
    Own(String),
    Shared(Rc<str>),
}

impl Texts {
    /// Keep `text` for as long as `self`.
    pub(crate) fn keep(&self, text: String) -> &str {
        self.keep_kept(Kept::Own(text))
    }

    /// Keep a shared `text` for as long as `self`.
    pub(crate) fn keep_shared(&self, text: Rc<str>) -> &str {
        self.keep_kept(Kept::Shared(text))
    }

    fn keep_kept(&self, text: Kept) -> &str {
        let used = self.used.get();
        let kept = match self.slots.get(used) {
            Some(slot) => {
                self.used.set(used + 1);
                // Slots fill in order, so this one is empty.
                slot.get_or_init(|| text)
            }
            None => return self.more.get_or_init(Box::default).keep_kept(text),
        };
        match kept {
            Kept::Own(t) => t,
            Kept::Shared(t) => t,
        }
    }
}

/// A cursor over one JSON text.
pub(crate) struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    texts: &'a Texts,
    /// Set when the last scalar string read held an escape that is not text (a lone
    /// surrogate, `\ud800`), replaced with U+FFFD; the collector decides whether the field
    /// may keep it ([`Scanner::take_repaired`]).
    repaired: bool,
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `text` that keeps the text it unescapes in `texts`.
    pub(crate) fn new(text: &'a str, texts: &'a Texts) -> Scanner<'a> {
        Scanner {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            texts,
            repaired: false,
        }
    }

    /// True when a string read since the last call held an escape that is not text and was
    /// repaired (see [`Lone`]); clears the mark.
    pub(crate) fn take_repaired(&mut self) -> bool {
        std::mem::take(&mut self.repaired)
    }

    /// `text` for as long as the input, kept in the scanner's [`Texts`].
    pub(crate) fn keep(&self, text: String) -> &'a str {
        self.texts.keep(text)
    }

    /// The texts the scanner keeps what it unescapes in (for JSON text read again).
    pub(crate) fn texts(&self) -> &'a Texts {
        self.texts
    }

    /// Where the cursor is.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The text from the cursor on.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes_at(self.pos)
    }

    /// The text from `at` on.
    pub(crate) fn bytes_at(&self, at: usize) -> &'a [u8] {
        self.bytes.get(at..).unwrap_or_default()
    }

    /// Move the cursor past `n` bytes already known to be a whole token.
    pub(crate) fn advance(&mut self, n: usize) {
        self.pos += n;
    }

    /// An error at the cursor.
    #[cold]
    pub(crate) fn error(&self, reason: &'static str) -> ScanError {
        ScanError {
            reason,
            at: self.pos,
        }
    }

    #[cold]
    fn error_at(reason: &'static str, at: usize) -> ScanError {
        ScanError { reason, at }
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The first byte of the next token (whitespace skipped), not consumed.
    #[inline]
    pub(crate) fn peek(&mut self) -> Result<u8, ScanError> {
        // Every token starts above the space: in compact JSON one compare settles it.
        if let Some(&c) = self.bytes.get(self.pos) {
            if c > b' ' {
                return Ok(c);
            }
        }
        self.skip_ws();
        match self.bytes.get(self.pos) {
            Some(&c) => Ok(c),
            None => Err(self.error("unexpected end of input")),
        }
    }

    /// Consume `c` as the next token.
    #[inline]
    pub(crate) fn expect(&mut self, c: u8, reason: &'static str) -> Result<(), ScanError> {
        if self.peek()? == c {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(reason))
        }
    }

    /// Only whitespace is left.
    pub(crate) fn finish(&mut self) -> Result<(), ScanError> {
        self.skip_ws();
        if self.pos < self.bytes.len() {
            return Err(self.error("trailing characters"));
        }
        Ok(())
    }

    /// Cross a string body; the cursor is just past the opening quote and ends just past the
    /// closing one. Returns whether the string had escapes.
    ///
    /// A short plain string (a key, an id) is settled by one 16-byte lane. Anything else is
    /// crossed 64 bytes at a time without a branch per escape: escaped JSON text (a policy
    /// list logged as a string) has an escape every few bytes, and stopping at each one cost
    /// more than everything else in a record.
    #[inline(always)]
    fn string_body(&mut self) -> Result<bool, ScanError> {
        let b = self.bytes;
        let start = self.pos;
        // Lanes of plain text are crossed until the first special byte: when it is a quote,
        // the string ends there without escapes.
        let mut i = start;
        while let Some(head) = b.get(i..i + LANE) {
            let special = lane_special(lane_of(head));
            if special != 0 {
                let first = special.trailing_zeros() as usize;
                if head.get(first) == Some(&b'"') {
                    self.pos = i + first + 1;
                    return Ok(false);
                }
                break;
            }
            i += LANE;
        }
        self.string_blocks(start)
    }

    /// [`Scanner::string_body`] from `start`, a block at a time.
    #[inline(never)]
    fn string_blocks(&mut self, start: usize) -> Result<bool, ScanError> {
        let b = self.bytes;
        let mut carry = 0u64;
        let mut backslashes = 0u64;
        let mut i = start;
        loop {
            // Spaces stand in for the bytes past the end: they stop nothing.
            let (m, last) = match b.get(i..i + BLOCK) {
                Some(full) => (BlockMasks::of(full), false),
                None => {
                    let mut block = [b' '; BLOCK];
                    for (dst, src) in block.iter_mut().zip(b.get(i..).unwrap_or(&[])) {
                        *dst = *src;
                    }
                    (BlockMasks::of(&block), true)
                }
            };
            let escaped = escaped_bits(m.backslash, &mut carry);
            let ends = m.quote & !escaped;
            // Escaped quotes and backslashes are valid; any other escape letter is looked at.
            let letters = escaped & !(m.quote | m.backslash);
            if ends | m.control | letters != 0 {
                let inside = below_first(ends);
                let control = m.control & inside;
                backslashes |= m.backslash & inside;
                // Escapes before the first control character are reported first, as a
                // byte-at-a-time reading would.
                let mut letters = letters & inside & below_first(control);
                while letters != 0 {
                    Self::escape_end(b, i + letters.trailing_zeros() as usize)?;
                    letters &= letters - 1;
                }
                if control != 0 {
                    return Err(Self::error_at(
                        "control character in a string",
                        i + control.trailing_zeros() as usize,
                    ));
                }
                if ends != 0 {
                    self.pos = i + ends.trailing_zeros() as usize + 1;
                    return Ok(backslashes != 0);
                }
            } else {
                backslashes |= m.backslash;
            }
            if last {
                return Err(Self::error_at("unterminated string", b.len()));
            }
            i += BLOCK;
        }
    }

    /// The end of the escape whose letter is at `i`.
    #[inline]
    fn escape_end(b: &[u8], i: usize) -> Result<usize, ScanError> {
        match b.get(i) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(i + 1),
            Some(b'u') => match b.get(i + 1..i + 5) {
                Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => Ok(i + 5),
                _ => Err(Self::error_at("invalid unicode escape", i)),
            },
            Some(_) => Err(Self::error_at("invalid escape", i)),
            None => Err(Self::error_at("unterminated string", i)),
        }
    }

    /// The next token as a string (the cursor is at its opening quote): in the input when it
    /// has no escapes, else unescaped into the scanner's [`Texts`]. A lone surrogate escape is
    /// handled as `lone` says.
    #[inline]
    fn string_at_quote(&mut self, lone: Lone) -> Result<&'a str, ScanError> {
        let open = self.pos;
        self.pos += 1;
        let escaped = self.string_body()?;
        self.string_text(open, escaped, lone)
    }

    /// The text of the string just crossed, opened at `open`, which `escaped` says had escapes
    /// ([`Scanner::string_at_quote`]). Plain text, nearly every value, is read where it is,
    /// inline; text with escapes out of line.
    #[inline(always)]
    fn string_text(
        &mut self,
        open: usize,
        escaped: bool,
        lone: Lone,
    ) -> Result<&'a str, ScanError> {
        if escaped {
            return self.unescaped_text(open, lone);
        }
        self.text
            .get(open + 1..self.pos - 1)
            .ok_or_else(|| Self::error_at("string cut inside a character", open))
    }

    /// [`Scanner::string_text`] of a string with escapes: unescaped into the [`Texts`].
    #[inline(never)]
    fn unescaped_text(&mut self, open: usize, lone: Lone) -> Result<&'a str, ScanError> {
        let quoted = self
            .text
            .get(open..self.pos)
            .ok_or_else(|| Self::error_at("string cut inside a character", open))?;
        let text = match unescape(quoted) {
            Some(text) => text,
            None => {
                self.repaired |= lone == Lone::Replace;
                unescape_lossy(quoted, lone)
                    .ok_or_else(|| Self::error_at("invalid string escape", open))?
            }
        };
        Ok(self.texts.keep(text))
    }

    /// Start reading an object's entries: the cursor is just past `{`.
    pub(crate) fn entries(&mut self) -> Entries {
        Entries { first: true }
    }

    /// Start reading an array's elements: the cursor is just past `[`.
    pub(crate) fn elements(&mut self) -> Elements {
        Elements { first: true }
    }

    /// Consume `{`, `[` or `"` already seen by [`Scanner::peek`].
    #[inline]
    pub(crate) fn bump(&mut self) {
        self.pos += 1;
    }

    /// The next value as a string, when it is one; anything else is skipped.
    #[inline]
    pub(crate) fn string_or_skip(&mut self) -> Result<Option<&'a str>, ScanError> {
        if self.peek()? == b'"' {
            // The text is JSON or a list read again: an escape that is not text stays as
            // written for that reading to judge, in the field it belongs to.
            self.string_at_quote(Lone::Keep).map(Some)
        } else {
            self.skip_value().map(|()| None)
        }
    }

    /// The next value as a string as written, quotes and escapes included, when it is one;
    /// anything else is skipped. [`Scanner::quoted_text`] reads it as
    /// [`Scanner::string_or_skip`] would have.
    pub(crate) fn quoted_or_skip(&mut self) -> Result<Option<Quoted<'a>>, ScanError> {
        if self.peek()? != b'"' {
            return self.skip_value().map(|()| None);
        }
        let open = self.pos;
        self.pos += 1;
        let escaped = self.string_body()?;
        let text = self
            .text
            .get(open..self.pos)
            .ok_or_else(|| Self::error_at("string cut inside a character", open))?;
        Ok(Some(Quoted {
            text,
            open,
            escaped,
        }))
    }

    /// The text of a string [`Scanner::quoted_or_skip`] crossed last.
    pub(crate) fn quoted_text(&mut self, quoted: Quoted<'a>) -> Result<&'a str, ScanError> {
        self.string_text(quoted.open, quoted.escaped, Lone::Keep)
    }

    /// Skip the next value and hand back its text, as written (an envelope's array, read
    /// again element by element only when the record turns out to be an envelope).
    pub(crate) fn raw_value(&mut self) -> Result<&'a str, ScanError> {
        self.peek()?;
        let start = self.pos;
        self.skip_value()?;
        self.text
            .get(start..self.pos)
            .ok_or_else(|| Self::error_at("value cut inside a character", start))
    }

    /// The next value as a scalar; containers are skipped.
    pub(crate) fn scalar(&mut self) -> Result<Scalar<'a>, ScanError> {
        match self.peek()? {
            b'"' => self.string_at_quote(Lone::Replace).map(Scalar::Str),
            b't' => self.literal(b"true").map(|()| Scalar::Bool(true)),
            b'f' => self.literal(b"false").map(|()| Scalar::Bool(false)),
            b'-' | b'0'..=b'9' => self.number().map(Scalar::Number),
            _ => self.skip_value().map(|()| Scalar::Other),
        }
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<(), ScanError> {
        match self.bytes.get(self.pos..self.pos + word.len()) {
            Some(w) if w == word => {
                self.pos += word.len();
                Ok(())
            }
            _ => Err(self.error("invalid literal")),
        }
    }

    /// Cross a number's digits; returns whether it is a plain integer (no fraction or
    /// exponent).
    fn number_end(&mut self) -> Result<bool, ScanError> {
        let b = self.bytes;
        let digits = |mut i: usize| {
            while let Some(b'0'..=b'9') = b.get(i) {
                i += 1;
            }
            i
        };
        let mut i = self.pos;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(i + 1),
            _ => return Err(Self::error_at("invalid number", i)),
        }
        let mut integer = true;
        if b.get(i) == Some(&b'.') {
            integer = false;
            let end = digits(i + 1);
            if end == i + 1 {
                return Err(Self::error_at("invalid number", end));
            }
            i = end;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            integer = false;
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            let end = digits(i);
            if end == i {
                return Err(Self::error_at("invalid number", end));
            }
            i = end;
        }
        self.pos = i;
        Ok(integer)
    }

    fn number(&mut self) -> Result<Number, ScanError> {
        let start = self.pos;
        let integer = self.number_end()?;
        let slice = self.bytes.get(start..self.pos).unwrap_or(&[]);
        if integer && slice.first() != Some(&b'-') {
            let mut v: u64 = 0;
            let mut fits = true;
            for &d in slice {
                match v
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(u64::from(d - b'0')))
                {
                    Some(n) => v = n,
                    None => {
                        fits = false;
                        break;
                    }
                }
            }
            if fits {
                return Ok(Number::Unsigned(v));
            }
        }
        // Negative, fractional, huge: rare, and serde_json's rounding is the reference.
        let text = self.text.get(start..self.pos).unwrap_or("");
        match serde_json::from_str::<serde_json::Number>(text) {
            Ok(n) => Ok(if let Some(u) = n.as_u64() {
                Number::Unsigned(u)
            } else if let Some(i) = n.as_i64() {
                Number::Signed(i)
            } else {
                Number::Float(n.as_f64().unwrap_or(f64::NAN))
            }),
            Err(_) => Err(Self::error_at("invalid number", start)),
        }
    }

    /// Skip the next value, whatever it is, checking its grammar. No recursion: nesting is
    /// tracked in a bit stack.
    pub(crate) fn skip_value(&mut self) -> Result<(), ScanError> {
        // Most values nobody asked for are strings, written right after their colon.
        if self.bytes.get(self.pos) == Some(&b'"') {
            self.pos += 1;
            return self.string_body().map(|_| ());
        }
        self.skip_any()
    }

    /// [`Scanner::skip_value`] of any value.
    #[inline(never)]
    fn skip_any(&mut self) -> Result<(), ScanError> {
        let mut levels = Levels::new();
        'value: loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    self.string_body()?;
                }
                b'{' => {
                    self.pos += 1;
                    if self.peek()? == b'}' {
                        self.pos += 1;
                    } else {
                        levels.push(true);
                        self.skip_key()?;
                        continue 'value;
                    }
                }
                b'[' => {
                    self.pos += 1;
                    if self.peek()? == b']' {
                        self.pos += 1;
                    } else {
                        levels.push(false);
                        continue 'value;
                    }
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => {
                    self.number_end()?;
                }
                _ => return Err(self.error("expected a value")),
            }
            // After a value: close containers until one continues.
            loop {
                if levels.depth == 0 {
                    return Ok(());
                }
                let object = levels.top_is_object();
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        if object {
                            self.skip_key()?;
                        }
                        continue 'value;
                    }
                    b'}' if object => {
                        self.pos += 1;
                        levels.pop();
                    }
                    b']' if !object => {
                        self.pos += 1;
                        levels.pop();
                    }
                    _ => return Err(self.error("expected , or a closing bracket")),
                }
            }
        }
    }

    /// Cross a key and its colon inside a skipped object.
    #[inline(always)]
    fn skip_key(&mut self) -> Result<(), ScanError> {
        self.expect(b'"', "expected a key")?;
        self.string_body()?;
        self.colon()
    }

    /// Consume the colon after a key (compact JSON has it right there).
    #[inline(always)]
    fn colon(&mut self) -> Result<(), ScanError> {
        if self.bytes.get(self.pos) == Some(&b':') {
            self.pos += 1;
            Ok(())
        } else {
            self.expect(b':', "expected :")
        }
    }

    /// The next key of an object, with its colon consumed; `None` at the end.
    ///
    /// Inlined into each object's loop, so the key's place in the text stays in registers
    /// on its way to the table lookup.
    #[inline(always)]
    fn key(&mut self, first: &mut bool) -> Result<Option<Key<'a>>, ScanError> {
        let c = self.peek()?;
        if *first {
            *first = false;
            if c == b'}' {
                self.pos += 1;
                return Ok(None);
            }
        } else {
            match c {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Ok(None);
                }
                _ => return Err(self.error("expected , or }")),
            }
        }
        if self.peek()? != b'"' {
            return Err(self.error("expected a key"));
        }
        let open = self.pos;
        self.pos += 1;
        // Keys are plain text, read in place; one with escapes is unescaped.
        let key = if self.string_body()? {
            self.escaped_key(open)?
        } else {
            Key::Plain {
                text: self.bytes,
                start: open + 1,
                len: self.pos - open - 2,
            }
        };
        self.colon()?;
        Ok(Some(key))
    }
}

impl<'a> Scanner<'a> {
    /// The key whose opening quote is at `open` and which had escapes, unescaped.
    #[cold]
    #[inline(never)]
    fn escaped_key(&self, open: usize) -> Result<Key<'a>, ScanError> {
        let text = self.text.get(open..self.pos).unwrap_or("");
        // A key with a lone surrogate names no field: with U+FFFD it matches none and is
        // skipped like any other unknown key.
        let unescaped = unescape(text)
            .or_else(|| unescape_lossy(text, Lone::Replace))
            .ok_or_else(|| Self::error_at("invalid string escape", open))?;
        Ok(Key::Unescaped(unescaped.into_bytes()))
    }
}

/// An object key as read: in place in the record's text (most keys), or unescaped.
pub(crate) enum Key<'a> {
    /// The `len` bytes at `start` in `text`.
    Plain {
        text: &'a [u8],
        start: usize,
        len: usize,
    },
    /// A key that had escapes, unescaped.
    Unescaped(Vec<u8>),
}

impl Key<'_> {
    /// The key's field in `table`, matched case-insensitively.
    #[inline(always)]
    pub(crate) fn find<F: Copy, const N: usize, const M: usize>(
        &self,
        table: &KeyTable<F, N, M>,
    ) -> Option<F> {
        match self {
            Key::Plain { text, start, len } => table.find(text, *start, *len),
            Key::Unescaped(bytes) => table.find(bytes, 0, bytes.len()),
        }
    }

    /// The key's bytes as written, when it had no escapes.
    #[inline(always)]
    pub(crate) fn plain(&self) -> Option<&[u8]> {
        match self {
            Key::Plain { text, start, len } => text.get(*start..start + len),
            Key::Unescaped(_) => None,
        }
    }

    /// The key lower-cased (empty when longer than [`KEY_CAP`]).
    pub(crate) fn lower(&self) -> LowerKey {
        match self {
            // In place: whole words are read from the record's text, the bytes after the key
            // lowered with them and never looked at.
            Key::Plain { text, start, len } => LowerKey::within(text, *start, *len),
            Key::Unescaped(bytes) => LowerKey::new(bytes),
        }
    }
}

/// The text of a quoted JSON string whose escapes [`Scanner`] has checked; `None` when it is
/// not text (a lone surrogate).
///
/// The nested fields logged as JSON text (`DeviceDetail`, `Status`, `LocationDetails`, ...)
/// arrive with a `\"` every few bytes, and serde_json's general string reader took a
/// fourteenth of the instructions of decoding such rows. Such text, whose only escapes are
/// `\"` and `\\`, is unescaped by dropping the escaping backslashes a word at a time
/// ([`unescape_quotes`]); other text piece by piece between its backslashes.
fn unescape(quoted: &str) -> Option<String> {
    let body = quoted.strip_prefix('"')?.strip_suffix('"')?;
    unescape_quotes(body).or_else(|| unescape_pieces(quoted, body))
}

/// `body` without its escaping backslashes, when its only escapes are `\"` and `\\`; `None`
/// for any other escape (or text that ends in an escaping backslash).
///
/// Each eight-byte word is shifted over its escaping backslashes (found 64 bytes at a time)
/// and stored whole into a buffer with a word of room past the end: copying the pieces
/// between escapes one by one cost a call to `memcpy` each, a few bytes apiece.
fn unescape_quotes(body: &str) -> Option<String> {
    let bytes = body.as_bytes();
    // Whole words are stored: room for the last one, which may run past the body.
    let mut out = vec![0u8; bytes.len() + 8];
    let mut len = 0;
    let mut dropped = 0;
    let mut carry = 0u64;
    for block in bytes.chunks(BLOCK) {
        let mut padded = [b' '; BLOCK];
        let block: &[u8] = if block.len() == BLOCK {
            block
        } else {
            for (dst, src) in padded.iter_mut().zip(block) {
                *dst = *src;
            }
            &padded
        };
        let m = BlockMasks::of(block);
        let escaped = escaped_bits(m.backslash, &mut carry);
        if escaped & !(m.quote | m.backslash) != 0 {
            return None;
        }
        let mut escaping = m.backslash & !escaped;
        for word in block.chunks_exact(8) {
            if len >= bytes.len() - dropped {
                break;
            }
            let mut w = u64::from_le_bytes(word.try_into().ok()?);
            let mut drop = escaping & 0xff;
            escaping >>= 8;
            let mut kept = 8;
            // From the highest escaping byte down, so the lower ones keep their places.
            while drop != 0 {
                let at = 63 - drop.leading_zeros();
                let below = (1u64 << (8 * at)) - 1;
                w = (w & below) | ((w >> 8) & !below);
                drop &= !(1 << at);
                kept -= 1;
            }
            out.get_mut(len..len + 8)?.copy_from_slice(&w.to_le_bytes());
            len += kept;
            dropped += 8 - kept;
        }
    }
    if carry != 0 {
        return None;
    }
    out.truncate(bytes.len() - dropped);
    String::from_utf8(out).ok()
}

/// [`unescape`] of any text, `body` being `quoted` without its quotes: the pieces between
/// backslashes are copied whole, the backslashes found 64 bytes at a time. A `\u` escape
/// (surrogate pairs, rare in exports) is left to serde_json.
fn unescape_pieces(quoted: &str, body: &str) -> Option<String> {
    let bytes = body.as_bytes();
    let mut out = String::with_capacity(body.len());
    // Everything before `done` is in `out`; backslashes come from a block's mask, not a
    // search per escape.
    let mut done = 0;
    for (n, block) in bytes.chunks(BLOCK).enumerate() {
        let base = n * BLOCK;
        let mut backslashes = if block.len() == BLOCK {
            BlockMasks::of(block).backslash
        } else {
            let mut padded = [b' '; BLOCK];
            for (dst, src) in padded.iter_mut().zip(block) {
                *dst = *src;
            }
            BlockMasks::of(&padded).backslash
        };
        while backslashes != 0 {
            let at = base + backslashes.trailing_zeros() as usize;
            backslashes &= backslashes - 1;
            // The second of `\\` was consumed with the first.
            if at < done {
                continue;
            }
            out.push_str(body.get(done..at)?);
            out.push(match bytes.get(at + 1)? {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                _ => return serde_json::from_str::<String>(quoted).ok(),
            });
            done = at + 2;
        }
    }
    out.push_str(body.get(done..)?);
    Some(out)
}

/// What becomes of a `\u` escape that is not text: a lone surrogate (`\ud800` not followed
/// by a low surrogate, or `\udc00` alone), which JSON's grammar allows and no string can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lone {
    /// U+FFFD in its place, and the scanner marks the repair.
    Replace,
    /// The six characters of the escape, for text that is itself JSON and read again.
    Keep,
}

/// [`unescape`] for a string holding a lone surrogate, which becomes what `lone` says; `None`
/// when an escape is malformed (the scanner has checked them, so only for unchecked text).
fn unescape_lossy(quoted: &str, lone: Lone) -> Option<String> {
    let body = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    let hex4 = |chars: &mut std::str::Chars<'_>| -> Option<u32> {
        let digits: String = chars.by_ref().take(4).collect();
        (digits.len() == 4)
            .then(|| u32::from_str_radix(&digits, 16).ok())
            .flatten()
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'u' => {
                let unit = hex4(&mut chars)?;
                let text = match unit {
                    0xD800..=0xDBFF => {
                        // A high surrogate counts only with the low one right after it.
                        let mut ahead = chars.clone();
                        let low = (ahead.next() == Some('\\') && ahead.next() == Some('u'))
                            .then(|| hex4(&mut ahead))
                            .flatten()
                            .filter(|l| (0xDC00..=0xDFFF).contains(l));
                        match low {
                            Some(low) => {
                                chars = ahead;
                                char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                            }
                            None => None,
                        }
                    }
                    unit => char::from_u32(unit),
                };
                match (text, lone) {
                    (Some(c), _) => out.push(c),
                    (None, Lone::Replace) => out.push(char::REPLACEMENT_CHARACTER),
                    (None, Lone::Keep) => {
                        use std::fmt::Write as _;
                        let _ = write!(out, "\\u{unit:04x}");
                    }
                }
            }
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            '/' => out.push('/'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            _ => return None,
        }
    }
    Some(out)
}

/// A string as written ([`Scanner::quoted_or_skip`]).
#[derive(Clone, Copy)]
pub(crate) struct Quoted<'a> {
    /// The string with its quotes, escapes as written.
    pub(crate) text: &'a str,
    /// Where it opens in the scanned text.
    open: usize,
    /// It has escapes.
    pub(crate) escaped: bool,
}

impl Quoted<'_> {
    /// Where it opens in the scanned text.
    pub(crate) fn open(&self) -> usize {
        self.open
    }
}

/// The state of reading one object's entries.
pub(crate) struct Entries {
    first: bool,
}

impl Entries {
    /// The next key when it is remembered key `i` of `order` written compactly (`,"key":`,
    /// or `"key":` first): its field, with the key and its colon consumed. `None`, with
    /// nothing consumed, for anything else ([`Entries::next_key`] reads it).
    #[inline(always)]
    pub(crate) fn next_known<F: Copy>(
        &mut self,
        s: &mut Scanner<'_>,
        order: &KeyOrder<F>,
        i: u16,
    ) -> Option<Option<F>> {
        let b = s.bytes;
        let quote = if self.first {
            s.pos
        } else if b.get(s.pos) == Some(&b',') {
            s.pos + 1
        } else {
            return None;
        };
        if b.get(quote) != Some(&b'"') {
            return None;
        }
        let (field, end) = order.matches(i, b, quote + 1)?;
        s.pos = end;
        self.first = false;
        Some(field)
    }

    /// The next key (its value is next on the scanner), or `None` after the closing `}`.
    #[inline(always)]
    pub(crate) fn next_key<'a>(
        &mut self,
        s: &mut Scanner<'a>,
    ) -> Result<Option<Key<'a>>, ScanError> {
        s.key(&mut self.first)
    }
}

/// The state of reading one array's elements.
pub(crate) struct Elements {
    first: bool,
}

impl Elements {
    /// True when another element is next on the scanner; false after the closing `]`.
    pub(crate) fn next(&mut self, s: &mut Scanner<'_>) -> Result<bool, ScanError> {
        let c = s.peek()?;
        if self.first {
            self.first = false;
            if c == b']' {
                s.pos += 1;
                return Ok(false);
            }
            return Ok(true);
        }
        match c {
            b',' => {
                s.pos += 1;
                Ok(true)
            }
            b']' => {
                s.pos += 1;
                Ok(false)
            }
            _ => Err(s.error("expected , or ]")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts for a test's scanner: leaked, so what it reads may outlive the helper that read
    /// it (a test's few texts).
    fn texts() -> &'static Texts {
        Box::leak(Box::default())
    }

    fn skip(text: &str) -> Result<usize, ScanError> {
        let mut s = Scanner::new(text, texts());
        s.skip_value()?;
        s.finish()?;
        Ok(s.pos)
    }

    fn keys(text: &str) -> Result<Vec<(Vec<u8>, Scalar<'_>)>, ScanError> {
        let mut s = Scanner::new(text, texts());
        s.expect(b'{', "expected an object")?;
        let mut entries = s.entries();
        let mut out = Vec::new();
        while let Some(k) = entries.next_key(&mut s)? {
            out.push((k.lower().as_bytes().to_vec(), s.scalar()?));
        }
        s.finish()?;
        Ok(out)
    }

    #[test]
    fn skipping_a_string_right_away_ends_where_the_general_skip_does() {
        for text in [
            r#""plain","next""#,
            r#""with \"escapes\" and \u00e9","x""#,
            r#""""#,
            r#"  "after spaces""#,
            r#""unterminated"#,
            "\"control\u{1}\"",
            r#""\q bad escape""#,
            r#"{"an":"object"}"#,
            r#"["an","array"]"#,
        ] {
            let mut fast = Scanner::new(text, texts());
            let mut general = Scanner::new(text, texts());
            assert_eq!(fast.skip_value(), general.skip_any(), "{text}");
            assert_eq!(fast.pos, general.pos, "{text}");
        }
    }

    #[test]
    fn kept_texts_outlive_their_scanner() {
        let texts = Texts::default();
        let kept: Vec<&str> = (0..3 * TEXT_SLOTS + 1)
            .map(|i| texts.keep(format!("text {i}")))
            .collect();
        for (i, t) in kept.iter().enumerate() {
            assert_eq!(*t, format!("text {i}"));
        }
        let s = Scanner::new("{}", &texts);
        assert_eq!(s.keep("x".to_owned()), "x");
    }

    #[test]
    fn words_lower_like_ascii_lowercase() {
        let samples: [&[u8]; 5] = [
            b"AZaz@[`{",
            b"UserId:\"",
            b"\xc3\x89T\xe2\x82\xacZ\x7f",
            b"C_SID_Ab",
            &[0x40, 0x41, 0x5a, 0x5b, 0xc1, 0xda, 0xff, 0x80],
        ];
        for sample in samples {
            let mut w = [0u8; 8];
            w.copy_from_slice(sample);
            let got = lower_word(u64::from_le_bytes(w)).to_le_bytes();
            assert_eq!(got.to_vec(), sample.to_ascii_lowercase(), "{sample:?}");
        }
        for b in 0..=255u8 {
            let got = lower_word(u64::from_le_bytes([b; 8])).to_le_bytes();
            assert_eq!(got, [b.to_ascii_lowercase(); 8], "{b}");
        }
    }

    #[test]
    fn keys_are_lower_cased_and_unescaped() {
        let got = keys(r#"{"C_Sid":"a","Us\u0065rId":"b","k\"q":1}"#).unwrap();
        assert_eq!(got[0], (b"c_sid".to_vec(), Scalar::Str("a")));
        assert_eq!(got[1], (b"userid".to_vec(), Scalar::Str("b")));
        assert_eq!(
            got[2],
            (b"k\"q".to_vec(), Scalar::Number(Number::Unsigned(1)))
        );
        let long = format!(r#"{{"{}":true}}"#, "k".repeat(41));
        assert_eq!(keys(&long).unwrap(), vec![(Vec::new(), Scalar::Bool(true))]);
    }

    #[test]
    fn values_unescape_only_when_needed() {
        let got = keys(r#"{"a":"plain","b":"t\tab \"q\" \\ \/ \u00e9 \ud83d\ude00"}"#).unwrap();
        // Plain text is read in place; text with escapes from its unescaped copy.
        let text = r#"{"a":"plain"}"#;
        match keys(text).unwrap()[0].1 {
            Scalar::Str(t) => assert!(text.as_bytes().as_ptr_range().contains(&t.as_ptr())),
            other => panic!("{other:?}"),
        }
        assert_eq!(got[0].1, Scalar::Str("plain"));
        assert_eq!(got[1].1, Scalar::Str("t\tab \"q\" \\ / \u{e9} \u{1F600}"));
        // A lone surrogate is not text: the scalar holds U+FFFD in its place, and the
        // collector is told (`Scanner::take_repaired`).
        assert_eq!(
            keys(r#"{"a":"\ud83d"}"#).unwrap()[0].1,
            Scalar::Str("\u{fffd}")
        );
    }

    #[test]
    fn numbers_read_like_serde_json() {
        let got = keys(r#"{"a":0,"b":18446744073709551615,"c":-5,"d":1.5e3,"e":-0,"f":18446744073709551616,"g":null,"h":false}"#)
            .unwrap();
        let vals: Vec<_> = got.into_iter().map(|(_, v)| v).collect();
        assert_eq!(
            vals,
            vec![
                Scalar::Number(Number::Unsigned(0)),
                Scalar::Number(Number::Unsigned(u64::MAX)),
                Scalar::Number(Number::Signed(-5)),
                Scalar::Number(Number::Float(1500.0)),
                Scalar::Number(Number::Float(-0.0)),
                Scalar::Number(Number::Float(18446744073709551616.0)),
                Scalar::Other,
                Scalar::Bool(false),
            ]
        );
        for bad in ["01", "1.", "-", "1e", "+1", ".5", "1.e3"] {
            assert!(skip(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nested_values_are_skipped_with_their_grammar_checked() {
        let text = r#" {"a":[1,{"b":"x\"}]"},[],{}],"c":{"d":[true,null,-1.5E-3]}} "#;
        assert_eq!(skip(text), Ok(text.len()));
        // Inside a record, skipping stops right after the value.
        let got = keys(r#"{"skip":{"x":[[[]]]},"then":"y"}"#).unwrap();
        assert_eq!(got[1].1, Scalar::Str("y"));
        for bad in [
            r#"{"a":[1}"#,
            r#"[1,]"#,
            r#"{"a" 1}"#,
            r#"{"a":1,}"#,
            r#"{1:2}"#,
            r#"[1 2]"#,
            r#"nul"#,
            r#"tru"#,
            r#"[1]]"#,
            "\"tab\there\"",
            r#""\x""#,
            r#""\u12G4""#,
        ] {
            assert!(skip(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn truncated_input_is_an_error() {
        let text = r#"{"a":"bc\"d","e":[1,{"f":true}],"g":12.5}"#;
        assert!(skip(text).is_ok());
        for end in 0..text.len() {
            let cut = &text[..end];
            assert!(skip(cut).is_err(), "{cut}");
            assert!(keys(cut).is_err(), "{cut}");
        }
    }

    #[test]
    fn deep_nesting_is_skipped_without_recursion() {
        let depth = 100_000;
        let mut text = String::new();
        for i in 0..depth {
            text.push_str(if i % 3 == 0 { "{\"k\":" } else { "[" });
        }
        text.push('1');
        for i in (0..depth).rev() {
            text.push(if i % 3 == 0 { '}' } else { ']' });
        }
        assert_eq!(skip(&text), Ok(text.len()));
        // One bracket of the wrong kind deep inside is found.
        let wrong = text.replacen("]}", "}}", 1);
        assert!(skip(&wrong).is_err());
    }

    /// The plain byte-at-a-time reading of a string body, to check the word-at-a-time one
    /// against: the end just past the closing quote and whether there were escapes.
    fn reference_string_end(b: &[u8], start: usize) -> Option<(usize, bool)> {
        let mut i = start;
        let mut escapes = false;
        loop {
            match *b.get(i)? {
                b'"' => return Some((i + 1, escapes)),
                b'\\' => {
                    escapes = true;
                    match *b.get(i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                        b'u' if b.get(i + 2..i + 6)?.iter().all(u8::is_ascii_hexdigit) => i += 6,
                        _ => return None,
                    }
                }
                0..=0x1f => return None,
                _ => i += 1,
            }
        }
    }

    /// Where the string opened by the first byte of `text` ends, and whether it had escapes.
    fn string_end(text: &str) -> Result<(usize, bool), ScanError> {
        let mut s = Scanner::new(text, texts());
        s.bump();
        let escapes = s.string_body()?;
        Ok((s.pos, escapes))
    }

    #[test]
    fn unescaping_handles_every_escape() {
        assert_eq!(
            unescape(r#""a\"b\\c\/d\be\ff\ng\rh\ti""#).as_deref(),
            Some("a\"b\\c/d\u{8}e\u{c}f\ng\rh\ti")
        );
        assert_eq!(
            unescape(r#""x\u00e9\ud83d\ude00y""#).as_deref(),
            Some("x\u{e9}\u{1F600}y")
        );
        assert_eq!(unescape(r#""\ud83d""#), None);
        assert_eq!(unescape(r#""plain""#).as_deref(), Some("plain"));
        // Other escapes are left to the piece-by-piece reading.
        assert_eq!(unescape_quotes(r#"a\"b\\c"#).as_deref(), Some("a\"b\\c"));
        assert_eq!(unescape_quotes(r#"a\nb"#), None);
        assert_eq!(unescape_quotes(r#"a\/b"#), None);
        assert_eq!(unescape_quotes(r#"a\u00e9"#), None);
        assert_eq!(unescape_quotes("a\\"), None);
    }

    #[test]
    fn lone_surrogates_are_replaced_or_kept() {
        let lossy = |t: &str| unescape_lossy(t, Lone::Replace);
        assert_eq!(lossy(r#""a\ud800b""#).as_deref(), Some("a\u{fffd}b"));
        assert_eq!(
            lossy(r#""\udc00\ud800""#).as_deref(),
            Some("\u{fffd}\u{fffd}")
        );
        assert_eq!(
            lossy(r#""\ud800\ud83d\ude00 \u00e9\n""#).as_deref(),
            Some("\u{fffd}\u{1F600} \u{e9}\n")
        );
        assert_eq!(lossy(r#""\ud800\u0041""#).as_deref(), Some("\u{fffd}A"));
        assert_eq!(
            unescape_lossy(r#""{\"ua\":\"x\ud800\"}""#, Lone::Keep).as_deref(),
            Some(r#"{"ua":"x\ud800"}"#)
        );
        // A scalar read repairs and marks; a string read again keeps the escape, unmarked.
        let mut s = Scanner::new(r#"["x\ud800", "{\"a\":\"\udfff\"}"]"#, texts());
        s.bump();
        assert_eq!(s.scalar().unwrap(), Scalar::Str("x\u{fffd}"));
        assert!(s.take_repaired());
        assert!(!s.take_repaired());
        s.expect(b',', "comma").unwrap();
        assert_eq!(s.string_or_skip().unwrap(), Some(r#"{"a":"\udfff"}"#));
        assert!(!s.take_repaired());
    }

    #[test]
    fn backslash_runs_decide_which_quote_ends_a_string() {
        // An odd run escapes the quote after it, an even run does not, wherever the run
        // starts relative to the eight-byte words.
        for lead in 0..20 {
            let pad = "a".repeat(lead);
            for run in 0..10 {
                let text = format!("\"{pad}{}\"z\"", "\\".repeat(run));
                let end = if run % 2 == 0 {
                    lead + run + 2
                } else {
                    lead + run + 4
                };
                assert_eq!(
                    string_end(&text),
                    Ok((end, run > 0)),
                    "lead {lead} run {run}"
                );
            }
        }
        // A run that ends a word escapes the first byte of the next one.
        assert_eq!(string_end("\"abcdef\\\"g\""), Ok((11, true)));
        assert_eq!(string_end("\"abcdef\\\\\"g\""), Ok((10, true)));
        assert_eq!(string_end(r#""abcdefg\\\\\\\"h\\\\""#), Ok((22, true)));
    }

    #[test]
    fn long_escaped_json_text_is_crossed_in_one_piece() {
        let inner = r#"[{\"id\":\"5e0f\",\"displayName\":\"Require MFA\",\"result\":\"success\",\"path\":\"C:\\\\temp\\\\\"}]"#
            .repeat(9);
        let text = format!("\"{inner}\",\"next\":1");
        assert_eq!(string_end(&text), Ok((inner.len() + 2, true)));
        // The same text with one escape letter that does not exist, far from the start.
        let bad = format!("\"{}\\q{inner}\"", "a".repeat(70));
        assert_eq!(
            string_end(&bad),
            Err(ScanError {
                reason: "invalid escape",
                at: 72
            })
        );
        // A backslash as the last byte of the input escapes nothing that exists.
        assert_eq!(
            string_end("\"abcdefghij\\").map_err(|e| e.reason),
            Err("unterminated string")
        );
        assert_eq!(string_end("\"abc\u{1}\"").map_err(|e| e.at), Err(4));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn string_ends_match_the_byte_at_a_time_reading(
            body in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", "\"", "\\", "\\\\", "\\\"", "n", "u", "u00e9", "0", "F", "\u{1}", "\u{e9}", " ",
                ]),
                0..120,
            ),
        ) {
            let text = format!("\"{}", body.concat());
            let mut s = Scanner::new(&text, texts());
            s.bump();
            let got = s.string_body().ok().map(|e| (s.pos, e));
            proptest::prop_assert_eq!(got, reference_string_end(text.as_bytes(), 1));
        }

        #[test]
        fn backslash_runs_across_word_and_block_boundaries_end_like_the_reference(
            lead in 0usize..140,
            runs in proptest::collection::vec(
                (0usize..12, proptest::sample::select(vec!["\"", "n", "x", "u12aB", "u12G", "a", "\u{1}"]), 0usize..20),
                1..6,
            ),
        ) {
            // Fillers of any length put each run of backslashes at every offset of the
            // eight-byte words and of 64-byte blocks.
            let mut body = "a".repeat(lead);
            for (backslashes, after, filler) in &runs {
                body.push_str(&"\\".repeat(*backslashes));
                body.push_str(after);
                body.push_str(&"b".repeat(*filler));
            }
            for text in [format!("\"{body}"), format!("\"{body}\"")] {
                let mut s = Scanner::new(&text, texts());
                s.bump();
                let got = s.string_body().ok().map(|e| (s.pos, e));
                proptest::prop_assert_eq!(got, reference_string_end(text.as_bytes(), 1));
            }
        }

        #[test]
        fn unescaping_reads_like_serde_json(
            text in "\\PC{0,40}|[\"\\\\/a\u{1}\n\u{e9}\u{1F600}]{0,40}",
            slashes in proptest::bool::ANY,
        ) {
            // serde_json's own escaping: quotes, backslashes, `\n` and `\u0001` alike.
            let mut quoted = serde_json::to_string(&text).unwrap();
            if slashes {
                quoted = quoted.replace('/', "\\/");
            }
            proptest::prop_assert_eq!(unescape(&quoted), Some(text));
        }

        #[test]
        fn unescaping_long_text_reads_like_serde_json(
            text in "[\"\\\\/ab\u{1}\n\u{e9}]{60,300}",
        ) {
            // Escapes at every offset of the 64-byte blocks, `\\` pairs across their edges.
            let quoted = serde_json::to_string(&text).unwrap();
            proptest::prop_assert_eq!(unescape(&quoted), Some(text));
        }

        #[test]
        fn dropping_escaping_backslashes_reads_like_serde_json(
            text in "[\"\\\\ab\u{e9}\u{1F600}]{0,300}",
        ) {
            // Only `\"` and `\\` escapes, at every offset of the words and blocks.
            let quoted = serde_json::to_string(&text).unwrap();
            let body = &quoted[1..quoted.len() - 1];
            proptest::prop_assert_eq!(unescape_quotes(body), Some(text));
        }

        #[test]
        fn scanning_never_panics(text in "\\PC*|[\\[\\]{}\":,\\\\ a-z0-9.eE+-]{0,200}") {
            let mut s = Scanner::new(&text, texts());
            let _ = s.skip_value();
            let mut s = Scanner::new(&text, texts());
            let _ = s.scalar();
            let _ = crate::decode::collect::Rec::document(&text, texts());
        }

    }

    proptest::proptest! {
        // Each case is a 100,000-level document: a few are enough.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4))]

        #[test]
        fn deep_nesting_never_overflows(
            kinds in proptest::collection::vec(proptest::bool::ANY, 1..64),
            depth in 99_000usize..100_001,
        ) {
            let mut text = String::from("{\"noise\":");
            for i in 0..depth {
                text.push_str(if kinds[i % kinds.len()] { "{\"k\":" } else { "[" });
            }
            text.push_str("null");
            for i in (0..depth).rev() {
                text.push(if kinds[i % kinds.len()] { '}' } else { ']' });
            }
            text.push('}');
            let mut s = Scanner::new(&text, texts());
            proptest::prop_assert!(s.skip_value().is_ok());
            proptest::prop_assert!(crate::decode::collect::Rec::document(&text, texts()).is_ok());
            // Cut short, it is an error, not a crash.
            let cut = &text[..text.len() - 1];
            proptest::prop_assert!(crate::decode::collect::Rec::document(cut, texts()).is_err());
        }
    }
}
