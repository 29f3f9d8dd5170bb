//! UTF-16 and UTF-32 text read as UTF-8.
//!
//! Windows PowerShell 5.1 writes UTF-16 by default (`Out-File`, the `>` redirection, and
//! `Export-Csv -Encoding Unicode`), so a responder's exports made with it start with a UTF-16
//! byte order mark; `-Encoding UTF32` writes UTF-32 with its mark. Such a stream is transcoded
//! as it is read; everything after (framing, decoding, positions: lines stay lines) sees
//! UTF-8, without the mark. A stream with no mark passes through untouched, unless its first
//! bytes can only be UTF-16 ([`unmarked_utf16`]).
//!
//! Marks, tried in this order: `FF FE 00 00` UTF-32LE, `00 00 FE FF` UTF-32BE, `FF FE`
//! UTF-16LE, `FE FF` UTF-16BE. (`FF FE 00 00` could also open UTF-16LE text whose first
//! character is U+0000; no export starts with a NUL.)
//!
//! A lone surrogate (UTF-16 that is not text), a UTF-32 unit that is no character, or a cut
//! last unit becomes the byte `0xFF`, which is never UTF-8: the record holding it is reported
//! unreadable at its place, as a record with invalid UTF-8 is, rather than changed or dropped
//! silently.

use std::io::{self, Read};

use serde::Serialize;

/// The text encoding a stream was transcoded from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum TextEncoding {
    /// UTF-16, little-endian (byte order mark `FF FE`).
    #[serde(rename = "utf-16le")]
    Utf16Le,
    /// UTF-16, big-endian (byte order mark `FE FF`).
    #[serde(rename = "utf-16be")]
    Utf16Be,
    /// UTF-16, little-endian, without a byte order mark (told by its first bytes).
    #[serde(rename = "utf-16le-nobom")]
    Utf16LeUnmarked,
    /// UTF-16, big-endian, without a byte order mark (told by its first bytes).
    #[serde(rename = "utf-16be-nobom")]
    Utf16BeUnmarked,
    /// UTF-32, little-endian (byte order mark `FF FE 00 00`).
    #[serde(rename = "utf-32le")]
    Utf32Le,
    /// UTF-32, big-endian (byte order mark `00 00 FE FF`).
    #[serde(rename = "utf-32be")]
    Utf32Be,
}

impl std::fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TextEncoding::Utf16Le => "utf-16le",
            TextEncoding::Utf16Be => "utf-16be",
            TextEncoding::Utf16LeUnmarked => "utf-16le (no byte order mark)",
            TextEncoding::Utf16BeUnmarked => "utf-16be (no byte order mark)",
            TextEncoding::Utf32Le => "utf-32le",
            TextEncoding::Utf32Be => "utf-32be",
        })
    }
}

impl TextEncoding {
    /// Bytes per code unit.
    fn unit_len(self) -> usize {
        match self {
            TextEncoding::Utf32Le | TextEncoding::Utf32Be => 4,
            _ => 2,
        }
    }

    fn little_endian(self) -> bool {
        matches!(
            self,
            TextEncoding::Utf16Le | TextEncoding::Utf16LeUnmarked | TextEncoding::Utf32Le
        )
    }
}

/// Stored bytes read at a time when transcoding.
const RAW: usize = 64 * 1024;

/// Not UTF-8 anywhere in a stream: stands for what UTF-16 or UTF-32 cannot say as text.
const NOT_TEXT: u8 = 0xFF;

/// Bytes looked at before deciding what a stream is: a UTF-32 mark, or four UTF-16 units.
const SNIFF: usize = 8;

/// The encoding, and the length of its byte order mark, that the first bytes of a stream
/// (all of them when it is shorter than [`SNIFF`]) say.
fn sniff(head: &[u8]) -> Option<(TextEncoding, usize)> {
    match head {
        [0xFF, 0xFE, 0, 0, ..] => Some((TextEncoding::Utf32Le, 4)),
        [0, 0, 0xFE, 0xFF, ..] => Some((TextEncoding::Utf32Be, 4)),
        [0xFF, 0xFE, ..] => Some((TextEncoding::Utf16Le, 2)),
        [0xFE, 0xFF, ..] => Some((TextEncoding::Utf16Be, 2)),
        _ => unmarked_utf16(head).map(|e| (e, 0)),
    }
}

/// UTF-16 without a byte order mark, told from its first [`SNIFF`] bytes: four units that are
/// each an ASCII character and a NUL byte (the NUL after it for little-endian, before it for
/// big-endian), the first being what an export opens with (`{`, `[`, `"`, `#` of a `#TYPE`
/// line, or a letter of a CSV header) and the others printable ASCII, tab or a line end.
/// UTF-8 text never holds a NUL byte, so this cannot take UTF-8 for UTF-16; a stream shorter
/// than eight bytes, or opening with anything else (a blank line, a non-ASCII letter), is
/// left as it is.
fn unmarked_utf16(head: &[u8]) -> Option<TextEncoding> {
    let head: &[u8; SNIFF] = head.get(..SNIFF)?.try_into().ok()?;
    let opens = |c: u8| matches!(c, b'{' | b'[' | b'"' | b'#') || c.is_ascii_alphabetic();
    let ascii = |c: u8| matches!(c, b'\t' | b'\n' | b'\r' | 0x20..=0x7E);
    let units = head.chunks_exact(2);
    let le = units
        .clone()
        .enumerate()
        .all(|(i, u)| u[1] == 0 && if i == 0 { opens(u[0]) } else { ascii(u[0]) });
    let be = units
        .enumerate()
        .all(|(i, u)| u[0] == 0 && if i == 0 { opens(u[1]) } else { ascii(u[1]) });
    match (le, be) {
        (true, false) => Some(TextEncoding::Utf16LeUnmarked),
        (false, true) => Some(TextEncoding::Utf16BeUnmarked),
        _ => None,
    }
}

/// A stream read as UTF-8: transcoded when it is UTF-16 or UTF-32 ([`sniff`]).
pub(crate) struct TextReader<'r> {
    inner: &'r mut dyn Read,
    state: State,
}

enum State {
    /// The first bytes, read until [`SNIFF`] are known (or the stream ended).
    Sniffing {
        head: [u8; SNIFF],
        len: usize,
    },
    /// Not transcoded: the sniffed bytes, then the rest as it is.
    Plain {
        head: [u8; SNIFF],
        len: usize,
        at: usize,
    },
    Transcoding(Box<Transcoder>),
}

impl<'r> TextReader<'r> {
    pub(crate) fn new(inner: &'r mut dyn Read) -> Self {
        TextReader {
            inner,
            state: State::Sniffing {
                head: [0; SNIFF],
                len: 0,
            },
        }
    }

    /// What the stream was transcoded from, once reading has begun.
    pub(crate) fn encoding(&self) -> Option<TextEncoding> {
        match &self.state {
            State::Transcoding(t) => Some(t.encoding),
            _ => None,
        }
    }
}

impl Read for TextReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match &mut self.state {
                State::Sniffing { head, len } => {
                    let n = match head.get_mut(*len..) {
                        Some(rest) if !rest.is_empty() => self.inner.read(rest)?,
                        _ => 0,
                    };
                    *len += n;
                    if n > 0 && *len < SNIFF {
                        continue;
                    }
                    let (head, len) = (*head, *len);
                    let known = head.get(..len).unwrap_or_default();
                    self.state = match sniff(known) {
                        Some((encoding, mark)) => State::Transcoding(Box::new(Transcoder::new(
                            encoding,
                            known.get(mark..).unwrap_or_default(),
                        ))),
                        None => State::Plain { head, len, at: 0 },
                    };
                }
                State::Plain { head, len, at } => {
                    if *at < *len {
                        let n = head.get(*at..*len).unwrap_or_default().read(buf)?;
                        *at += n;
                        return Ok(n);
                    }
                    return self.inner.read(buf);
                }
                State::Transcoding(t) => return t.read(&mut *self.inner, buf),
            }
        }
    }
}

/// UTF-16 or UTF-32 code units to UTF-8, across reads of any size.
struct Transcoder {
    encoding: TextEncoding,
    raw: Vec<u8>,
    /// Bytes read while sniffing, past the byte order mark: transcoded first.
    sniffed: Vec<u8>,
    out: Vec<u8>,
    out_at: usize,
    /// A unit's first bytes, when a read ended inside it.
    partial: Vec<u8>,
    /// A high surrogate waiting for its low half (UTF-16).
    high: Option<u16>,
    ended: bool,
}

impl Transcoder {
    fn new(encoding: TextEncoding, sniffed: &[u8]) -> Self {
        Transcoder {
            encoding,
            raw: vec![0; RAW],
            sniffed: sniffed.to_vec(),
            out: Vec::with_capacity(RAW * 3 / 2),
            out_at: 0,
            partial: Vec::with_capacity(4),
            high: None,
            ended: false,
        }
    }

    fn read(&mut self, inner: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(mut rest) = self.out.get(self.out_at..).filter(|r| !r.is_empty()) {
                let n = rest.read(buf)?;
                self.out_at += n;
                return Ok(n);
            }
            if self.ended {
                return Ok(0);
            }
            self.out.clear();
            self.out_at = 0;
            // Taken while its units are pushed (pushing needs the rest of `self`).
            let mut raw = std::mem::take(&mut self.raw);
            let n = if self.sniffed.is_empty() {
                inner.read(&mut raw)?
            } else {
                let n = self.sniffed.len().min(raw.len());
                raw[..n].copy_from_slice(&self.sniffed[..n]);
                self.sniffed.drain(..n);
                n
            };
            if n == 0 {
                self.raw = raw;
                self.ended = true;
                // Part of a unit, or half a pair, at the end.
                if !self.partial.is_empty() || self.high.take().is_some() {
                    self.partial.clear();
                    self.out.push(NOT_TEXT);
                }
                continue;
            }
            let size = self.encoding.unit_len();
            let mut bytes = raw.get(..n).unwrap_or_default();
            if !self.partial.is_empty() {
                let take = (size - self.partial.len()).min(bytes.len());
                let (head, rest) = bytes.split_at(take);
                self.partial.extend_from_slice(head);
                bytes = rest;
                if self.partial.len() == size {
                    let unit = std::mem::take(&mut self.partial);
                    self.push_unit(&unit);
                    self.partial = unit;
                    self.partial.clear();
                }
            }
            let mut units = bytes.chunks_exact(size);
            // One loop per encoding: deciding per unit cost a third of the transcoding.
            match (size, self.encoding.little_endian()) {
                (2, true) => {
                    for u in &mut units {
                        if let [a, b] = *u {
                            self.push(u16::from_le_bytes([a, b]));
                        }
                    }
                }
                (2, false) => {
                    for u in &mut units {
                        if let [a, b] = *u {
                            self.push(u16::from_be_bytes([a, b]));
                        }
                    }
                }
                _ => {
                    for unit in &mut units {
                        self.push_unit(unit);
                    }
                }
            }
            self.partial.extend_from_slice(units.remainder());
            self.raw = raw;
        }
    }

    /// One whole code unit, `unit_len` bytes.
    fn push_unit(&mut self, unit: &[u8]) {
        let le = self.encoding.little_endian();
        match *unit {
            [a, b] => self.push(if le {
                u16::from_le_bytes([a, b])
            } else {
                u16::from_be_bytes([a, b])
            }),
            [a, b, c, d] => self.push_char(if le {
                u32::from_le_bytes([a, b, c, d])
            } else {
                u32::from_be_bytes([a, b, c, d])
            }),
            _ => self.out.push(NOT_TEXT),
        }
    }

    /// One UTF-16 unit.
    #[inline(always)]
    fn push(&mut self, unit: u16) {
        if unit < 0x80 && self.high.is_none() {
            self.out.push(unit as u8);
            return;
        }
        if let Some(high) = self.high.take() {
            if (0xDC00..0xE000).contains(&unit) {
                let c = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                self.push_char(c);
                return;
            }
            self.out.push(NOT_TEXT);
        }
        match unit {
            0xD800..0xDC00 => self.high = Some(unit),
            0xDC00..0xE000 => self.out.push(NOT_TEXT),
            _ => self.push_char(u32::from(unit)),
        }
    }

    /// One character; a surrogate or a number beyond U+10FFFF (UTF-32 that is not text)
    /// becomes [`NOT_TEXT`].
    fn push_char(&mut self, c: u32) {
        match char::from_u32(c) {
            Some(c) => {
                let mut utf8 = [0u8; 4];
                self.out
                    .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
            None => self.out.push(NOT_TEXT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader giving `step` bytes per read.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.bytes.len().min(buf.len()).min(self.step);
            let (now, rest) = self.bytes.split_at(n);
            if let Some(to) = buf.get_mut(..n) {
                to.copy_from_slice(now);
            }
            self.bytes = rest;
            Ok(n)
        }
    }

    fn read_all(bytes: &[u8], step: usize) -> (Vec<u8>, Option<TextEncoding>) {
        let mut inner = Trickle { bytes, step };
        let mut reader = TextReader::new(&mut inner);
        let mut out = Vec::new();
        let mut buf = [0u8; 5];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(buf.get(..n).unwrap_or_default()),
            }
        }
        (out, reader.encoding())
    }

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut bytes = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in text.encode_utf16() {
            bytes.extend(if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        bytes
    }

    #[test]
    fn utf16_text_reads_as_its_utf8_in_reads_of_any_size() {
        let text = "{\"UserId\":\"ana@contoso.com\",\"City\":\"Zürich 😀 東京\"}\r\nnext,line\n";
        for big_endian in [false, true] {
            // The byte order mark is not passed on.
            let expected = text.to_string();
            for step in [1, 2, 3, 7, 64 * 1024] {
                let (out, encoding) = read_all(&utf16(text, big_endian), step);
                assert_eq!(String::from_utf8(out).as_deref(), Ok(expected.as_str()));
                let want = if big_endian {
                    TextEncoding::Utf16Be
                } else {
                    TextEncoding::Utf16Le
                };
                assert_eq!(encoding, Some(want), "step {step}");
            }
        }
    }

    #[test]
    fn other_streams_pass_through_untouched() {
        for bytes in [
            &b""[..],
            b"{",
            b"\xFF",
            b"\xFE",
            b"\xEF\xBB\xBF{\"a\":1}",
            b"[1,2]\n",
            b"\xFF\xFF\xFE",
        ] {
            for step in [1, 2, 100] {
                assert_eq!(read_all(bytes, step), (bytes.to_vec(), None), "{bytes:?}");
            }
        }
    }

    #[test]
    fn what_is_not_text_becomes_a_byte_that_is_not_utf8() {
        // A lone low surrogate, a high one followed by a letter, a high one at the end, and
        // an odd last byte.
        let cases: [(&[u16], &[u8], &[u8]); 4] = [
            (&[0x61, 0xDC00, 0x62], b"", b"a\xFFb"),
            (&[0xD83D, 0x61], b"", b"\xFFa"),
            (&[0x61, 0xD83D], b"", b"a\xFF"),
            (&[0x61], b"\x62", b"a\xFF"),
        ];
        for (units, tail, expected) in cases {
            let mut bytes = vec![0xFF, 0xFE];
            bytes.extend(units.iter().flat_map(|u| u.to_le_bytes()));
            bytes.extend_from_slice(tail);
            for step in [1, 3, 100] {
                let (out, _) = read_all(&bytes, step);
                assert_eq!(out, expected, "{units:?} {tail:?} step {step}");
                assert!(std::str::from_utf8(&out).is_err());
            }
        }
    }

    fn encode(text: &str, encoding: TextEncoding, mark: bool) -> Vec<u8> {
        let le = encoding.little_endian();
        let mut bytes = Vec::new();
        let mut units: Vec<u32> = Vec::new();
        if mark {
            units.push(0xFEFF);
        }
        if encoding.unit_len() == 4 {
            units.extend(text.chars().map(u32::from));
            for u in units {
                bytes.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
            }
        } else {
            units.extend(text.encode_utf16().map(u32::from));
            for u in units {
                let u = u as u16;
                bytes.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
            }
        }
        bytes
    }

    #[test]
    fn utf32_and_unmarked_utf16_read_as_their_utf8() {
        let text = "{\"UserId\":\"ana@contoso.com\",\"City\":\"Zürich 😀 東京\"}\r\nnext,line\n";
        let csv =
            "#TYPE Microsoft.Graph.PowerShell.Models.MicrosoftGraphSignIn\r\n\"Id\",\"City\"\r\n";
        for (encoding, mark) in [
            (TextEncoding::Utf32Le, true),
            (TextEncoding::Utf32Be, true),
            (TextEncoding::Utf16LeUnmarked, false),
            (TextEncoding::Utf16BeUnmarked, false),
        ] {
            for t in [text, csv, "[]\n\n\n", "Id,City\n"] {
                for step in [1, 3, 5, 8, 64 * 1024] {
                    let (out, got) = read_all(&encode(t, encoding, mark), step);
                    assert_eq!(
                        String::from_utf8(out).as_deref(),
                        Ok(t),
                        "{encoding} {step}"
                    );
                    assert_eq!(got, Some(encoding), "{t:?} step {step}");
                }
            }
        }
    }

    #[test]
    fn only_unmistakable_opening_bytes_make_unmarked_utf16() {
        let le = |t: &str| encode(t, TextEncoding::Utf16Le, false);
        let be = |t: &str| encode(t, TextEncoding::Utf16Be, false);
        for bytes in [
            // Shorter than four units.
            le("[1]"),
            be("{}"),
            // Opening with a blank, a line end, a digit or a letter beyond ASCII.
            le(" {\"a\":1}"),
            le("\n{\"a\":1}"),
            le("1,2,3,4"),
            le("Ärger,b"),
            // A control character among the first units.
            le("{\u{1}\"a\":1}"),
            // UTF-8, and UTF-8 with NUL bytes further on.
            b"{\"a\":1}".to_vec(),
            b"Id,City\n\0\0".to_vec(),
            // NUL bytes on both sides.
            vec![0; 16],
        ] {
            assert_eq!(read_all(&bytes, 100), (bytes.clone(), None), "{bytes:?}");
        }
    }

    #[test]
    fn utf32_that_is_not_text_becomes_a_byte_that_is_not_utf8() {
        // A surrogate, a number beyond U+10FFFF, and a cut last unit.
        let cases: [(&[u32], &[u8], &[u8]); 3] = [
            (&[0x61, 0xD800, 0x62], b"", b"a\xFFb"),
            (&[0x61, 0x11_0000], b"", b"a\xFF"),
            (&[0x61], b"\x62\0", b"a\xFF"),
        ];
        for (units, tail, expected) in cases {
            let mut bytes = vec![0xFF, 0xFE, 0, 0];
            bytes.extend(units.iter().flat_map(|u| u.to_le_bytes()));
            bytes.extend_from_slice(tail);
            for step in [1, 3, 100] {
                let (out, got) = read_all(&bytes, step);
                assert_eq!(out, expected, "{units:?} {tail:?} step {step}");
                assert_eq!(got, Some(TextEncoding::Utf32Le));
            }
        }
    }
}
