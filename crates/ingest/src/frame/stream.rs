//! A read buffer that knows where it is: byte offset and line number of the next unread byte,
//! with optional recording of consumed bytes (to cut one record out of a container) and the
//! ability to look ahead further than one read without consuming.

use std::io::{self, Read};

/// Size of one read from the underlying stream.
const READ_CHUNK: usize = 64 * 1024;

/// The buffer is shrunk back to this after a huge record made it grow, so one 100 MB line
/// does not pin 100 MB for the rest of the file.
const RETAINED_CAPACITY: usize = 1024 * 1024;

/// Buffered reader over a byte stream that tracks byte offset and line number.
pub(crate) struct Stream<'r> {
    inner: &'r mut dyn Read,
    buf: Vec<u8>,
    start: usize,
    eof: bool,
    /// Absolute offset of `buf[start]`.
    offset: u64,
    /// 1-based line number of `buf[start]`.
    line: u64,
    recording: Option<Recording>,
}

/// Bytes consumed while recording, up to a limit.
struct Recording {
    bytes: Vec<u8>,
    limit: usize,
    overflow: bool,
}

/// What a recording produced.
pub(crate) enum Recorded {
    /// Every consumed byte.
    Bytes(Vec<u8>),
    /// More bytes than the limit were consumed; nothing is kept.
    TooLarge,
}

impl<'r> Stream<'r> {
    pub(crate) fn new(inner: &'r mut dyn Read) -> Self {
        Stream {
            inner,
            buf: Vec::with_capacity(READ_CHUNK),
            start: 0,
            eof: false,
            offset: 0,
            line: 1,
            recording: None,
        }
    }

    /// Absolute byte offset of the next unread byte.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// 1-based line number of the next unread byte.
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// The buffered, unread bytes.
    pub(crate) fn available(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }

    /// Read more bytes, keeping every unread one. Returns false at the end of the stream.
    pub(crate) fn fill_more(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 0 && self.buf.len() + READ_CHUNK > self.buf.capacity() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let old_len = self.buf.len();
        self.buf.resize(old_len + READ_CHUNK, 0);
        let read = loop {
            match self.inner.read(&mut self.buf[old_len..]) {
                Ok(n) => break Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(e),
            }
        };
        match read {
            Ok(n) => {
                self.buf.truncate(old_len + n);
                if n == 0 {
                    self.eof = true;
                }
                Ok(n > 0)
            }
            Err(e) => {
                self.buf.truncate(old_len);
                Err(e)
            }
        }
    }

    /// Make at least `n` unread bytes available, unless the stream ends first.
    pub(crate) fn fill_to(&mut self, n: usize) -> io::Result<()> {
        while self.available().len() < n {
            if !self.fill_more()? {
                break;
            }
        }
        Ok(())
    }

    /// Consume `n` buffered bytes (at most what is available).
    pub(crate) fn consume(&mut self, n: usize) {
        let end = self.start.saturating_add(n).min(self.buf.len());
        let taken = self.buf.get(self.start..end).unwrap_or_default();
        self.line += memchr::memchr_iter(b'\n', taken).count() as u64;
        self.offset += taken.len() as u64;
        if let Some(rec) = &mut self.recording {
            if !rec.overflow {
                if rec.bytes.len() + taken.len() > rec.limit {
                    rec.overflow = true;
                    rec.bytes = Vec::new();
                } else {
                    rec.bytes.extend_from_slice(taken);
                }
            }
        }
        self.start = end;
        if self.start == self.buf.len() && self.buf.capacity() > RETAINED_CAPACITY {
            self.buf = Vec::with_capacity(READ_CHUNK);
            self.start = 0;
        }
    }

    /// Skip JSON whitespace; return the next byte without consuming it (`None` at the end).
    pub(crate) fn skip_whitespace(&mut self) -> io::Result<Option<u8>> {
        loop {
            let avail = self.available();
            match avail.iter().position(|b| !is_json_space(*b)) {
                Some(i) => {
                    let b = avail.get(i).copied();
                    self.consume(i);
                    return Ok(b);
                }
                None => {
                    let n = avail.len();
                    self.consume(n);
                    if !self.fill_more()? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Start keeping every consumed byte, up to `limit` bytes.
    pub(crate) fn start_recording(&mut self, limit: usize) {
        self.recording = Some(Recording {
            bytes: Vec::new(),
            limit,
            overflow: false,
        });
    }

    /// Stop recording and return what was kept.
    pub(crate) fn stop_recording(&mut self) -> Recorded {
        match self.recording.take() {
            Some(rec) if !rec.overflow => Recorded::Bytes(rec.bytes),
            Some(_) => Recorded::TooLarge,
            None => Recorded::Bytes(Vec::new()),
        }
    }
}

impl Read for Stream<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.available().is_empty() && !self.fill_more()? {
            return Ok(0);
        }
        let avail = self.available();
        let n = avail.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), avail.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.consume(n);
        Ok(n)
    }
}

/// JSON's insignificant whitespace.
pub(crate) fn is_json_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}
