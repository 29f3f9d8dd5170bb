//! Finding where one JSON value ends without parsing it: a byte-level state machine that
//! tracks strings, escapes and nesting depth, fed chunk by chunk so a value may span reads.
//!
//! It does not validate: `{"a": tru}` is cut as one value and the decoder reports it. It only
//! needs to agree with a real parser on where well-formed values end, and never to panic or
//! run past the end of its input on malformed ones.

use memchr::{memchr2, memchr3};

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
        }
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
        loop {
            if self.in_string {
                match self.scan_string(chunk, i) {
                    Some(end) => i = end,
                    None => return Feed::NeedMore,
                }
            }
            let Some(rest) = chunk.get(i..) else {
                return Feed::NeedMore;
            };
            // Jump to the next quote or bracket; the two searches cover the five bytes that
            // matter outside strings.
            let next_a = memchr3(b'"', b'{', b'}', rest);
            let limit = next_a.unwrap_or(rest.len());
            let next_b = rest.get(..limit).and_then(|r| memchr2(b'[', b']', r));
            let Some(p) = next_b.or(next_a) else {
                return Feed::NeedMore;
            };
            i += p;
            match chunk.get(i) {
                Some(b'"') => self.in_string = true,
                Some(b'{' | b'[') => self.depth += 1,
                Some(b'}' | b']') => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Feed::Done(i + 1);
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
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
