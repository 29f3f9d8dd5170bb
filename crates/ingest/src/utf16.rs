//! UTF-16 text read as UTF-8.
//!
//! Windows PowerShell 5.1 writes UTF-16 by default (`Out-File`, the `>` redirection, and
//! `Export-Csv -Encoding Unicode`), so a responder's exports made with it start with a UTF-16
//! byte order mark. Such a stream is transcoded as it is read; everything after (framing,
//! decoding, positions: lines stay lines) sees UTF-8, without the mark. A stream without the
//! mark passes through untouched.
//!
//! A lone surrogate (UTF-16 that is not text) or an odd last byte becomes the byte `0xFF`,
//! which is never UTF-8: the record holding it is reported unreadable at its place, as a
//! record with invalid UTF-8 is, rather than changed or dropped silently.

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
}

impl std::fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TextEncoding::Utf16Le => "utf-16le",
            TextEncoding::Utf16Be => "utf-16be",
        })
    }
}

/// Stored bytes read at a time when transcoding.
const RAW: usize = 64 * 1024;

/// Not UTF-8 anywhere in a stream: stands for what UTF-16 cannot say as text.
const NOT_TEXT: u8 = 0xFF;

/// A stream read as UTF-8: transcoded when it starts with a UTF-16 byte order mark.
pub(crate) struct TextReader<'r> {
    inner: &'r mut dyn Read,
    state: State,
}

enum State {
    /// The first bytes, read until two are known (or the stream ended).
    Sniffing {
        head: [u8; 2],
        len: usize,
    },
    /// Not UTF-16: the sniffed bytes, then the rest as it is.
    Plain {
        head: [u8; 2],
        len: usize,
        at: usize,
    },
    Utf16(Box<Transcoder>),
}

impl<'r> TextReader<'r> {
    pub(crate) fn new(inner: &'r mut dyn Read) -> Self {
        TextReader {
            inner,
            state: State::Sniffing {
                head: [0; 2],
                len: 0,
            },
        }
    }

    /// What the stream was transcoded from, once reading has begun.
    pub(crate) fn encoding(&self) -> Option<TextEncoding> {
        match &self.state {
            State::Utf16(t) => Some(t.encoding),
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
                    if n > 0 && *len < 2 {
                        continue;
                    }
                    let (head, len) = (*head, *len);
                    self.state = match head {
                        [0xFF, 0xFE] if len == 2 => {
                            State::Utf16(Box::new(Transcoder::new(TextEncoding::Utf16Le)))
                        }
                        [0xFE, 0xFF] if len == 2 => {
                            State::Utf16(Box::new(Transcoder::new(TextEncoding::Utf16Be)))
                        }
                        _ => State::Plain { head, len, at: 0 },
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
                State::Utf16(t) => return t.read(&mut *self.inner, buf),
            }
        }
    }
}

/// UTF-16 code units to UTF-8, across reads of any size.
struct Transcoder {
    encoding: TextEncoding,
    raw: Vec<u8>,
    out: Vec<u8>,
    out_at: usize,
    /// A unit's first byte, when a read ended between its two.
    odd: Option<u8>,
    /// A high surrogate waiting for its low half.
    high: Option<u16>,
    ended: bool,
}

impl Transcoder {
    fn new(encoding: TextEncoding) -> Self {
        Transcoder {
            encoding,
            raw: vec![0; RAW],
            out: Vec::with_capacity(RAW * 3 / 2),
            out_at: 0,
            odd: None,
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
            let n = inner.read(&mut self.raw)?;
            if n == 0 {
                self.ended = true;
                // Half a unit, or half a pair, at the end.
                if self.odd.take().is_some() || self.high.take().is_some() {
                    self.out.push(NOT_TEXT);
                }
                continue;
            }
            // Taken while its units are pushed (pushing needs the rest of `self`).
            let raw = std::mem::take(&mut self.raw);
            let mut bytes = raw.get(..n).unwrap_or_default();
            if let Some(first) = self.odd.take() {
                if let Some((&second, rest)) = bytes.split_first() {
                    let unit = self.unit(first, second);
                    self.push(unit);
                    bytes = rest;
                }
            }
            let mut pairs = bytes.chunks_exact(2);
            for pair in &mut pairs {
                if let [a, b] = *pair {
                    let unit = self.unit(a, b);
                    self.push(unit);
                }
            }
            self.odd = pairs.remainder().first().copied();
            self.raw = raw;
        }
    }

    fn unit(&self, a: u8, b: u8) -> u16 {
        match self.encoding {
            TextEncoding::Utf16Le => u16::from_le_bytes([a, b]),
            TextEncoding::Utf16Be => u16::from_be_bytes([a, b]),
        }
    }

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
}
