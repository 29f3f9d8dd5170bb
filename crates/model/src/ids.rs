//! Token ids (`uti`), session ids (`sid`) and the GUIDs behind them.
//!
//! The current `uti` is 22 characters of unpadded base64url: 16 bytes that, read as a
//! little-endian (Microsoft byte order) GUID, equal the id of the sign-in that issued the token
//! (`ConvertFrom-MsIdUniqueTokenIdentifier` in AzureAD/MSIdentityTools does the same). Exports
//! from 2019-2022 carry instead standard base64 of the GUID's 36-character text. Both normalize
//! to one [`Guid`], so a token id found on an access record and the `id` of a sign-in row compare
//! equal. Anonymized samples carry placeholders that decode to nothing: those are kept verbatim
//! as [`Ident::Opaque`] (compared case-sensitively, as Microsoft specifies for `uti`).

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A GUID held as 128 bits in the order its canonical text reads (`8-4-4-4-12` hex digits).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Guid(pub u128);

impl Guid {
    /// Parse canonical GUID text (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`), optionally in braces,
    /// hex in either case.
    pub fn parse(text: &str) -> Option<Guid> {
        // Nearly every GUID in an export is bare: a table read settles it, and the general
        // reader (spaces, braces) gets only the rest.
        match guid_bits(text.as_bytes(), true) {
            Some(v) => Some(Guid(v)),
            None => Guid::parse_general(text),
        }
    }

    /// The GUID whose text is exactly how a [`Guid`] prints itself (36 characters, lower-case
    /// hex, dashes at 8, 13, 18 and 23): text that can be held as the bits and printed back
    /// unchanged. Braces, spaces and upper case are not.
    pub fn parse_canonical(text: &str) -> Option<Guid> {
        guid_bits(text.as_bytes(), false).map(Guid)
    }

    fn parse_general(text: &str) -> Option<Guid> {
        // Trimming only shortens: shorter text than a GUID's never is one.
        if text.len() < 36 {
            return None;
        }
        let t = crate::text::trim(text);
        let t = t
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .unwrap_or(t);
        let b = t.as_bytes();
        if b.len() != 36 || b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
            return None;
        }
        let mut v: u128 = 0;
        for (i, &c) in b.iter().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                continue;
            }
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return None,
            };
            v = (v << 4) | u128::from(d);
        }
        Some(Guid(v))
    }

    /// The GUID whose Microsoft binary form (little-endian first three groups) is `bytes`.
    pub fn from_ms_bytes(b: [u8; 16]) -> Guid {
        let text_order = [
            b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13],
            b[14], b[15],
        ];
        Guid(u128::from_be_bytes(text_order))
    }

    /// The Microsoft binary form of this GUID (inverse of [`Guid::from_ms_bytes`]).
    pub fn to_ms_bytes(self) -> [u8; 16] {
        let t = self.0.to_be_bytes();
        [
            t[3], t[2], t[1], t[0], t[5], t[4], t[7], t[6], t[8], t[9], t[10], t[11], t[12], t[13],
            t[14], t[15],
        ]
    }

    /// True for a GUID no system generated: the zero GUID, and GUIDs written with fewer than
    /// four distinct hex digits (`11111111-1111-1111-1111-111111111111`, what anonymized
    /// exports and documentation samples put in place of real ids). A random GUID has that few
    /// with a probability below 10^-26. Such an id names nothing: records carrying it must
    /// never be merged or linked by it.
    pub fn is_placeholder(self) -> bool {
        // Two thirds of random GUIDs start with four distinct digits: settled by six compares.
        let [a, b, c, d] = [124, 120, 116, 112].map(|shift| (self.0 >> shift) as u8 & 0xf);
        if a != b && a != c && a != d && b != c && b != d && c != d {
            return false;
        }
        let mut seen = 0u16;
        // A generated GUID shows four distinct digits within its first eight: stop there.
        for shift in [96, 64, 32, 0] {
            let mut v = (self.0 >> shift) as u32;
            for _ in 0..8 {
                seen |= 1 << (v & 0xf);
                v >>= 4;
            }
            if seen.count_ones() >= 4 {
                return false;
            }
        }
        true
    }

    /// The 22-character base64url token id Entra writes for a token issued by the sign-in with
    /// this id.
    pub fn to_uti(self) -> String {
        URL_SAFE_NO_PAD.encode(self.to_ms_bytes())
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            (v >> 96) as u32,
            (v >> 80) as u16,
            (v >> 64) as u16,
            (v >> 48) as u16,
            v & 0xffff_ffff_ffff
        )
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Guid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Guid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Guid::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not a GUID: {s:?}")))
    }
}

/// Not a digit in [`BASE64URL`].
const NOT_DIGIT: u8 = 0xff;

/// The value of each base64url digit.
const BASE64URL: [u8; 256] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut t = [NOT_DIGIT; 256];
    let mut i = 0;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// The bits of `8-4-4-4-12` GUID text of hex digits (upper case too when `upper`), first
/// digit highest. Eight digits at a time, each a byte of a `u64`: a compare per byte costs
/// more than the arithmetic on all eight.
#[inline]
fn guid_bits(text: &[u8], upper: bool) -> Option<u128> {
    let b: &[u8; 36] = text.try_into().ok()?;
    if b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
        return None;
    }
    let four = |at: usize| [b[at], b[at + 1], b[at + 2], b[at + 3]];
    let eight = |x: [u8; 4], y: [u8; 4]| {
        u64::from_be_bytes([x[0], x[1], x[2], x[3], y[0], y[1], y[2], y[3]])
    };
    let chunks = [
        eight(four(0), four(4)),
        eight(four(9), four(14)),
        eight(four(19), four(24)),
        eight(four(28), four(32)),
    ];
    let mut v = [0u64; 4];
    for (out, chunk) in v.iter_mut().zip(chunks) {
        *out = u64::from(hex8(chunk, upper)?);
    }
    Some(u128::from(v[0] << 32 | v[1]) << 64 | u128::from(v[2] << 32 | v[3]))
}

/// Eight hex digits, one a byte of `x` (first digit in the top byte), as 32 bits; `None` when
/// one is not a digit.
#[inline]
fn hex8(x: u64, upper: bool) -> Option<u32> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Below 0x80 every byte, adding less than 0x80 carries into no other byte: the top bit of
    // `x + (0x80 - lo)` says "at least lo".
    let at_least = |lo: u64| x.wrapping_add(ONES * (0x80 - lo)) & HIGH;
    let between = |lo: u64, hi: u64| at_least(lo) & !at_least(hi + 1);
    let mut ok =
        between(u64::from(b'0'), u64::from(b'9')) | between(u64::from(b'a'), u64::from(b'f'));
    if upper {
        ok |= between(u64::from(b'A'), u64::from(b'F'));
    }
    if x & HIGH != 0 || ok != HIGH {
        return None;
    }
    // A digit's value is its low four bits, plus 9 for a letter (the only ones with bit 0x40).
    let mut v = (x & (ONES * 0x0f)) + ((x & (ONES * 0x40)) >> 6) * 9;
    v = (v | v >> 4) & 0x00ff_00ff_00ff_00ff;
    v = (v | v >> 8) & 0x0000_ffff_0000_ffff;
    v = (v | v >> 16) & 0xffff_ffff;
    u32::try_from(v).ok()
}

/// The 16 bytes of a 22-character unpadded base64url token id, when its last digit leaves
/// no stray bits (as the base64 reader requires): without the reader's buffer on the heap.
fn uti_bytes(text: &[u8]) -> Option<[u8; 16]> {
    let b: &[u8; 22] = text.try_into().ok()?;
    let mut bad = 0u8;
    // Ten digits (60 bits) to a `u64`: shifting a `u128` per digit costs two registers.
    let mut read = |digits: &[u8]| {
        digits.iter().fold(0u64, |v, &c| {
            let d = BASE64URL[usize::from(c)];
            bad |= d;
            v << 6 | u64::from(d & 0x3f)
        })
    };
    let high = read(&b[..10]);
    let low = read(&b[10..20]);
    let twenty_first = read(&b[20..21]);
    // 21 digits carry 126 bits; the last one's top two bits end the 128, its low four are
    // padding and must be zero.
    let last = BASE64URL[usize::from(b[21])];
    if (bad | last) & 0xc0 != 0 || last & 0x0f != 0 {
        return None;
    }
    let v = u128::from(high) << 68 | u128::from(low) << 8 | u128::from(twenty_first) << 2;
    Some((v | u128::from(last >> 4)).to_be_bytes())
}

/// An identifier that is a GUID when it decodes to one and otherwise the text as logged.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ident {
    /// Decoded to 128 bits.
    Guid(Guid),
    /// Kept verbatim (placeholders, anonymized values, unknown encodings).
    Opaque(Arc<str>),
}

impl Ident {
    /// The GUID, when the id decoded to one.
    pub fn guid(&self) -> Option<Guid> {
        match self {
            Ident::Guid(g) => Some(*g),
            Ident::Opaque(_) => None,
        }
    }
}

impl Ident {
    /// True for an id that names nothing: a placeholder GUID ([`Guid::is_placeholder`]) or
    /// placeholder text ([`is_placeholder_text`]).
    pub fn is_placeholder(&self) -> bool {
        match self {
            Ident::Guid(g) => g.is_placeholder(),
            Ident::Opaque(s) => is_placeholder_text(s),
        }
    }
}

/// True for record-id text that anonymized exports and samples put in place of a real id:
/// words like `ANONYMIZED` or `REDACTED`, a placeholder GUID ([`Guid::is_placeholder`]), one
/// letter or digit repeated (`33333333333`, `xxxxxxxx-xxxx-...`, `0`), or nothing but
/// punctuation.
pub fn is_placeholder_text(text: &str) -> bool {
    const WORDS: [&str; 8] = [
        "anonymi",
        "redact",
        "placeholder",
        "masked",
        "removed",
        "hidden",
        "sanitiz",
        "sanitis",
    ];
    // Nearly every record id is a GUID as it prints itself: hex digits hold none of the words,
    // so its bits settle it without a lower-cased copy per record.
    if let Some(g) = Guid::parse_canonical(text) {
        return g.is_placeholder();
    }
    let lower = text.trim().to_ascii_lowercase();
    if WORDS.iter().any(|w| lower.contains(w)) {
        return true;
    }
    if let Some(g) = Guid::parse(&lower) {
        return g.is_placeholder();
    }
    let mut distinct: Vec<char> = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    distinct.len() < 2
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ident::Guid(g) => fmt::Display::fmt(g, f),
            Ident::Opaque(s) => f.write_str(s),
        }
    }
}

impl fmt::Debug for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ident::Guid(g) => write!(f, "{g}"),
            Ident::Opaque(s) => write!(f, "opaque:{s:?}"),
        }
    }
}

impl Serialize for Ident {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Decode a token id in any of its encodings; `None` only for empty text.
fn decode_token_text(text: &str) -> Option<Ident> {
    let t = crate::text::trim(text);
    if t.is_empty() {
        return None;
    }
    if let Some(g) = Guid::parse(t) {
        return Some(Ident::Guid(g));
    }
    if let Some(bytes) = uti_bytes(t.as_bytes()) {
        return Some(Ident::Guid(Guid::from_ms_bytes(bytes)));
    }
    decode_token_text_general(t)
}

/// [`decode_token_text`] of trimmed non-empty text that is no bare GUID, by the base64 reader.
fn decode_token_text_general(t: &str) -> Option<Ident> {
    if let Some(g) = Guid::parse_general(t) {
        return Some(Ident::Guid(g));
    }
    if t.len() == 22 {
        if let Ok(bytes) = URL_SAFE_NO_PAD.decode(t) {
            if let Ok(arr) = <[u8; 16]>::try_from(bytes.as_slice()) {
                return Some(Ident::Guid(Guid::from_ms_bytes(arr)));
            }
        }
    }
    if t.len() == 48 {
        if let Ok(bytes) = STANDARD.decode(t) {
            if let Some(g) = std::str::from_utf8(&bytes).ok().and_then(Guid::parse) {
                return Some(Ident::Guid(g));
            }
        }
    }
    Some(Ident::Opaque(Arc::from(t)))
}

/// The unique id of one token (`uti` claim; `UniqueTokenIdentifier`, `SignInActivityId`,
/// `AppAccessContext.UniqueTokenId`), normalized to the issuing sign-in's GUID when it decodes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
#[serde(transparent)]
pub struct TokenId(pub Ident);

impl TokenId {
    /// Decode a logged token id. Returns `None` for empty text; never fails otherwise.
    pub fn parse(text: &str) -> Option<TokenId> {
        decode_token_text(text).map(TokenId)
    }

    /// The token id of a sign-in row, from its `id` (which the `uti` of the token it issued
    /// decodes to).
    pub fn from_guid(g: Guid) -> TokenId {
        TokenId(Ident::Guid(g))
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A sign-in session id (`sid` claim; `SessionId`, `C_Sid`, `AppAccessContext.AADSessionId`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
#[serde(transparent)]
pub struct SessionId(pub Ident);

impl SessionId {
    /// Read a logged session id: a GUID when it is one, otherwise kept verbatim. `None` for
    /// empty text.
    pub fn parse(text: &str) -> Option<SessionId> {
        let t = crate::text::trim(text);
        if t.is_empty() {
            return None;
        }
        Some(SessionId(match Guid::parse(t) {
            Some(g) => Ident::Guid(g),
            None => Ident::Opaque(Arc::from(t)),
        }))
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(s: &str) -> String {
        TokenId::parse(s).map(|t| t.to_string()).unwrap_or_default()
    }

    #[test]
    fn token_id_test_vectors() {
        assert_eq!(
            tok("xMFjTVvJPE2OChJx_YE-AA"),
            "4d63c1c4-c95b-4d3c-8e0a-1271fd813e00"
        );
        assert_eq!(
            tok("3kVZRE8tFkinHtPA7_EFAA"),
            "445945de-2d4f-4816-a71e-d3c0eff10500"
        );
        assert_eq!(
            tok("MDg4YjQ0MDktOWU2My00MjVkLWI3NzctMmM4YzZjMzgwYjAw"),
            "088b4409-9e63-425d-b777-2c8c6c380b00"
        );
    }

    #[test]
    fn placeholders_stay_opaque_and_case_sensitive() {
        let a = TokenId::parse("tOkEnIdEnTiFiEr123").expect("non-empty");
        let b = TokenId::parse("tokenidentifier123").expect("non-empty");
        assert!(matches!(a.0, Ident::Opaque(_)));
        assert_ne!(a, b);
        assert_eq!(TokenId::parse("   "), None);
    }

    #[test]
    fn uti_round_trips_to_the_sign_in_id() {
        let id = Guid::parse("4d63c1c4-c95b-4d3c-8e0a-1271fd813e00").expect("guid");
        assert_eq!(id.to_uti(), "xMFjTVvJPE2OChJx_YE-AA");
        assert_eq!(TokenId::parse(&id.to_uti()), Some(TokenId::from_guid(id)));
    }

    #[test]
    fn placeholder_ids_are_recognized() {
        for text in [
            "00000000-0000-0000-0000-000000000000",
            "11111111-1111-1111-1111-111111111111",
            "11111111-1111-1111-1111-333333333333",
            "ANONYMIZED",
            "33333333333",
            "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
            "<redacted>",
            "0",
            "-",
        ] {
            assert!(is_placeholder_text(text), "{text}");
        }
        for text in [
            "4d63c1c4-c95b-4d3c-8e0a-1271fd813e00",
            "10000000-0000-4000-8000-000000000001",
            "rec-0001",
            "r1",
            "AAMkAGI2TG93AAA=",
        ] {
            assert!(!is_placeholder_text(text), "{text}");
        }
        assert!(Guid(0).is_placeholder());
        assert!(!Guid(0x1000_0000_0000_4000_8000_0000_0000_0001).is_placeholder());
        assert!(TokenId::from_guid(Guid(0)).0.is_placeholder());
    }

    /// A token id read by the general reader only.
    fn general_token(text: &str) -> Option<Ident> {
        Some(text.trim())
            .filter(|t| !t.is_empty())
            .and_then(decode_token_text_general)
    }

    #[test]
    fn ids_read_like_the_general_readers() {
        let texts = [
            "xMFjTVvJPE2OChJx_YE-AA",
            "3kVZRE8tFkinHtPA7_EFAA",
            "3kVZRE8tFkinHtPA7_EFAB",
            "3kVZRE8tFkinHtPA7_EF+A",
            "MDg4YjQ0MDktOWU2My00MjVkLWI3NzctMmM4YzZjMzgwYjAw",
            "4d63c1c4-c95b-4d3c-8e0a-1271fd813e00",
            "4D63C1C4-C95B-4D3C-8E0A-1271FD813E00",
            "{4d63c1c4-c95b-4d3c-8e0a-1271fd813e00}",
            "4d63c1c4-c95b-4d3c-8e0a-1271fd813e0g",
            "4d63c1c4-c95b-4d3c-8e0a_1271fd813e00",
            "4d63c1c4c95b-4d3c-8e0a-1271fd813e00-",
            "00000000-0000-0000-0000-000000000000",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "not-a-guid",
            "x",
        ];
        for t in texts {
            assert_eq!(Guid::parse(t), Guid::parse_general(t), "{t}");
            assert_eq!(decode_token_text(t), general_token(t), "{t}");
        }
        assert_eq!(
            Guid::parse_canonical("4d63c1c4-c95b-4d3c-8e0a-1271fd813e00"),
            Guid::parse("4d63c1c4-c95b-4d3c-8e0a-1271fd813e00")
        );
        for t in [
            "4D63C1C4-C95B-4D3C-8E0A-1271FD813E00",
            "{4d63c1c4-c95b-4d3c-8e0a-1271fd813e00}",
            " 4d63c1c4-c95b-4d3c-8e0a-1271fd813e0",
        ] {
            assert_eq!(Guid::parse_canonical(t), None, "{t}");
        }
    }

    #[test]
    fn guid_text_is_case_insensitive() {
        assert_eq!(
            Guid::parse("{4D63C1C4-C95B-4D3C-8E0A-1271FD813E00}"),
            Guid::parse("4d63c1c4-c95b-4d3c-8e0a-1271fd813e00")
        );
    }

    /// The value of each hex digit; `upper` also reads `A`-`F`.
    const fn hex_table(upper: bool) -> [u8; 256] {
        let mut t = [NOT_DIGIT; 256];
        let mut i = 0;
        while i < 10 {
            t[b'0' as usize + i] = i as u8;
            i += 1;
        }
        let mut i = 0;
        while i < 6 {
            t[b'a' as usize + i] = 10 + i as u8;
            if upper {
                t[b'A' as usize + i] = 10 + i as u8;
            }
            i += 1;
        }
        t
    }

    /// Hex digits in either case.
    const HEX: [u8; 256] = hex_table(true);
    /// Lower-case hex digits only.
    const LOWER_HEX: [u8; 256] = hex_table(false);

    /// The table reader before the eight-digits-at-a-time one: every text must read as by it.
    fn guid_bits_by_table(text: &[u8], digits: &[u8; 256]) -> Option<u128> {
        let b: &[u8; 36] = text.try_into().ok()?;
        if b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
            return None;
        }
        const PLACES: [usize; 32] = [
            0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15, 16, 17, 19, 20, 21, 22, 24, 25, 26, 27,
            28, 29, 30, 31, 32, 33, 34, 35,
        ];
        let mut halves = [0u64; 2];
        let mut bad = 0u8;
        for (half, places) in halves.iter_mut().zip(PLACES.chunks_exact(16)) {
            for &i in places {
                let d = digits[usize::from(b[i])];
                bad |= d;
                *half = *half << 4 | u64::from(d & 0x0f);
            }
        }
        (bad & 0xf0 == 0).then_some(u128::from(halves[0]) << 64 | u128::from(halves[1]))
    }

    /// Every byte value at every place of GUID text (lower and upper case), read by the new
    /// reader and the table: the readers look at each byte alone, so this is every case of
    /// one wrong byte.
    #[test]
    fn guid_bits_reads_every_byte_as_the_table() {
        for base in [
            "4d63c1c4-c95b-4d3c-8e0a-1271fd813e00",
            "4D63C1C4-C95B-4D3C-8E0A-1271FD813E00",
            "00000000-0000-0000-0000-000000000000",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "abcdef01-2345-6789-ABCD-EF0123456789",
        ] {
            for place in 0..36 {
                for byte in 0..=255u8 {
                    let mut text = base.as_bytes().to_vec();
                    text[place] = byte;
                    for (upper, table) in [(true, &HEX), (false, &LOWER_HEX)] {
                        assert_eq!(
                            guid_bits(&text, upper),
                            guid_bits_by_table(&text, table),
                            "{text:?} upper={upper}"
                        );
                    }
                }
            }
        }
    }

    /// The reader before the digits went to `u64` halves: every text must read as by it.
    fn uti_bytes_by_u128(text: &[u8]) -> Option<[u8; 16]> {
        let b: &[u8; 22] = text.try_into().ok()?;
        let mut v: u128 = 0;
        let mut bad = 0u8;
        for &c in &b[..21] {
            let d = BASE64URL[usize::from(c)];
            bad |= d;
            v = v << 6 | u128::from(d & 0x3f);
        }
        let last = BASE64URL[usize::from(b[21])];
        if (bad | last) & 0xc0 != 0 || last & 0x0f != 0 {
            return None;
        }
        Some((v << 2 | u128::from(last >> 4)).to_be_bytes())
    }

    /// Every byte value at every place of a token id, read by both readers.
    #[test]
    fn uti_bytes_reads_every_byte_as_before() {
        for base in [
            "xMFjTVvJPE2OChJx_YE-AA",
            "3kVZRE8tFkinHtPA7_EFAA",
            "_____________________w",
        ] {
            for place in 0..22 {
                for byte in 0..=255u8 {
                    let mut text = base.as_bytes().to_vec();
                    text[place] = byte;
                    assert_eq!(uti_bytes(&text), uti_bytes_by_u128(&text), "{text:?}");
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        #[test]
        fn any_guid_round_trips(v: u128) {
            let g = Guid(v);
            proptest::prop_assert_eq!(Guid::parse(&g.to_string()), Some(g));
            proptest::prop_assert_eq!(TokenId::parse(&g.to_uti()), Some(TokenId::from_guid(g)));
        }

        #[test]
        fn guid_text_reads_like_the_general_reader(
            t in "[0-9a-fA-F-]{36}|[0-9a-fA-Fg]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F ]{12}",
        ) {
            proptest::prop_assert_eq!(Guid::parse(&t), Guid::parse_general(&t));
            proptest::prop_assert_eq!(
                Guid::parse_canonical(&t),
                Guid::parse(&t).filter(|g| g.to_string() == t)
            );
            proptest::prop_assert_eq!(decode_token_text(&t), general_token(&t));
        }

        #[test]
        fn token_text_reads_like_the_general_reader(
            t in "[A-Za-z0-9_+/=-]{21,23}|[A-Za-z0-9_-]{21}[AEIMQUYcgkosw048]",
        ) {
            proptest::prop_assert_eq!(decode_token_text(&t), general_token(&t));
        }

        #[test]
        fn guid_bits_reads_as_the_table(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    4 => proptest::sample::select(b"0123456789abcdefABCDEF-".to_vec()),
                    1 => proptest::num::u8::ANY,
                ],
                34..38,
            ),
        ) {
            for (upper, table) in [(true, &HEX), (false, &LOWER_HEX)] {
                proptest::prop_assert_eq!(guid_bits(&bytes, upper), guid_bits_by_table(&bytes, table));
            }
        }

        #[test]
        fn uti_bytes_reads_as_before(v: u128, text in "[A-Za-z0-9_+/=-]{20,24}") {
            let uti = Guid(v).to_uti();
            proptest::prop_assert_eq!(uti_bytes(uti.as_bytes()), uti_bytes_by_u128(uti.as_bytes()));
            proptest::prop_assert_eq!(uti_bytes(text.as_bytes()), uti_bytes_by_u128(text.as_bytes()));
        }

        #[test]
        fn placeholder_test_counts_distinct_digits(v: u128, digits in proptest::collection::vec(0u128..16, 32)) {
            // Any GUID, and GUIDs of few distinct digits (where the first four often repeat).
            let few = digits.iter().fold(0u128, |g, d| g << 4 | (d % 5));
            for g in [Guid(v), Guid(few)] {
                let distinct = (0..32).map(|i| (g.0 >> (4 * i)) & 0xf).collect::<std::collections::BTreeSet<_>>();
                proptest::prop_assert_eq!(g.is_placeholder(), distinct.len() < 4, "{}", g);
            }
        }

        #[test]
        fn placeholders_are_guids_of_few_digits(v: u128, few in 0usize..6) {
            // Fewer distinct digits than random bits give: keep `few` of the nibble values.
            let g = Guid(if few == 0 { v } else {
                (0..32).fold(0u128, |acc, i| (acc << 4) | (((v >> (i * 4)) & 0xf) % few as u128))
            });
            let digits: std::collections::BTreeSet<char> = g.to_string().chars().filter(|c| *c != '-').collect();
            proptest::prop_assert_eq!(g.is_placeholder(), digits.len() < 4);
        }

        #[test]
        fn never_panics(s in ".{0,60}") {
            let _ = TokenId::parse(&s);
            let _ = SessionId::parse(&s);
        }
    }
}
