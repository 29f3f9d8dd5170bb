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
        // The next quote or brace and the next bracket at or after the cursor (the chunk's
        // length when there is none), each searched again only once the cursor has passed
        // it: two searches cover the five bytes that matter outside strings, and every byte
        // is looked at about twice, whatever the mix (a run of `[` is not searched to the end
        // of the chunk at each one).
        let len = chunk.len();
        let mut next_a: Option<usize> = None;
        let mut next_b: Option<usize> = None;
        loop {
            if self.in_string {
                match self.scan_string(chunk, i) {
                    Some(end) => i = end,
                    None => return Feed::NeedMore,
                }
            }
            let Some(rest) = chunk.get(i..).filter(|r| !r.is_empty()) else {
                return Feed::NeedMore;
            };
            let a = match next_a {
                Some(a) if a >= i => a,
                _ => {
                    let a = memchr3(b'"', b'{', b'}', rest).map_or(len, |p| i + p);
                    self.count_examined(a.min(len - 1) + 1 - i);
                    next_a = Some(a);
                    a
                }
            };
            let b = match next_b {
                Some(b) if b >= i => b,
                _ => {
                    let b = memchr2(b'[', b']', rest).map_or(len, |p| i + p);
                    self.count_examined(b.min(len - 1) + 1 - i);
                    next_b = Some(b);
                    b
                }
            };
            i = a.min(b);
            match chunk.get(i) {
                Some(b'"') => self.in_string = true,
                Some(b'{' | b'[') => self.depth += 1,
                Some(b'}' | b']') => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Feed::Done(i + 1);
                    }
                }
                _ => return Feed::NeedMore,
            }
            i += 1;
        }
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
