//! A read buffer that knows where it is: byte offset and line number of the next unread byte,
//! with optional recording of consumed bytes (to cut one record out of a container) and the
//! ability to look ahead further than one read without consuming.
//!
//! A plain file may instead be mapped ([`Stream::mapped`]): the unread bytes are then a part
//! of a window of the map, and a recording is a range of it, with no copy. The map is revealed
//! in the same steps as reads would deliver the file (the format sniff's head, then
//! [`READ_CHUNK`] at a time), so every look-ahead decision sees exactly the bytes it would
//! have seen reading, and the records, positions and errors are the same either way.

use std::io::{self, Read};
use std::ops::Range;
use std::sync::Arc;

use memmap2::Mmap;

use crate::source::Mappable;

/// Size of one read from the underlying stream.
const READ_CHUNK: usize = 64 * 1024;

/// The buffer is shrunk back to this after a huge record made it grow, so one 100 MB line
/// does not pin 100 MB for the rest of the file.
const RETAINED_CAPACITY: usize = 1024 * 1024;

/// Bytes of a file mapped at a time. A window is unmapped once the framer has passed it and
/// the last batch of records cut from it is decoded: the memory the process holds (its RSS
/// counts mapped pages) stays a few windows, not the file. A record longer than a window
/// gets a window of its own.
#[cfg(not(test))]
const WINDOW_BYTES: usize = 32 * 1024 * 1024;
/// Small in tests, so that records and recordings cross windows in small inputs.
#[cfg(test)]
const WINDOW_BYTES: usize = 100_003;

#[cfg(test)]
thread_local! {
    /// Windows mapped by streams on this thread: tests check that mapping really happened.
    pub(crate) static WINDOWS_MAPPED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// A mapped part of a file, shared by the framer and the batches of records cut from it.
pub(crate) type Window = Arc<Mmap>;

/// Buffered reader over a byte stream that tracks byte offset and line number.
pub(crate) struct Stream<'r> {
    inner: &'r mut dyn Read,
    /// Where reading goes on when a mapped file can no longer be mapped (read from there).
    tail: Option<Box<dyn Read + 'r>>,
    /// The file being read through maps, and the window mapped now.
    map: Option<Mapped<'r>>,
    /// Bytes read are `buf[start..end]` (or `window[start..end]` when mapped); the rest of
    /// `buf` is room for the next read. It stays initialized, so a read does not zero its room
    /// first.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// Absolute offset of `buf[start]`.
    offset: u64,
    /// 1-based line number of `buf[start]`.
    line: u64,
    recording: Option<Recording>,
}

/// A file read through maps.
struct Mapped<'r> {
    file: Mappable<'r>,
    /// Holds the file's bytes `at..at + window.len()`; `None` before the first reveal.
    window: Option<Window>,
    at: u64,
}

/// Bytes consumed while recording, up to a limit.
struct Recording {
    /// The bytes, when reading (when mapped they stay in the map, from `from` on).
    bytes: Vec<u8>,
    /// Absolute offset of the first recorded byte.
    from: u64,
    /// Bytes consumed while recording.
    len: usize,
    limit: usize,
    overflow: bool,
}

/// What a recording produced.
pub(crate) enum Recorded {
    /// Every consumed byte.
    Bytes(Vec<u8>),
    /// Every consumed byte, as this range of a mapped window.
    Mapped(Window, Range<usize>),
    /// More bytes than the limit were consumed; nothing is kept.
    TooLarge,
}

impl<'r> Stream<'r> {
    pub(crate) fn new(inner: &'r mut dyn Read) -> Self {
        Stream {
            inner,
            tail: None,
            map: None,
            buf: Vec::new(),
            start: 0,
            end: 0,
            eof: false,
            offset: 0,
            line: 1,
            recording: None,
        }
    }

    /// A stream over `file`'s map; `inner` (the same bytes) is read instead if the first map
    /// fails.
    pub(crate) fn mapped(inner: &'r mut dyn Read, file: Mappable<'r>) -> Self {
        let mut s = Stream::new(inner);
        s.map = Some(Mapped {
            file,
            window: None,
            at: 0,
        });
        s
    }

    /// The window the unread bytes lie in, when mapped: a record handed out from
    /// [`Stream::available`] is a range of it.
    pub(crate) fn window(&self) -> Option<&Window> {
        self.map.as_ref().and_then(|m| m.window.as_ref())
    }

    /// What `start` and `end` index.
    fn held(&self) -> &[u8] {
        match &self.map {
            Some(m) => m.window.as_deref().map_or(&[], |w| w),
            None => &self.buf,
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
        self.held().get(self.start..self.end).unwrap_or_default()
    }

    /// Read more bytes, keeping every unread one. Returns false at the end of the stream.
    pub(crate) fn fill_more(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.map.is_some() {
            match self.reveal() {
                Ok(more) => return Ok(more),
                // Address space or a file system that cannot map: read the rest.
                Err(_) => self.unmap()?,
            }
        }
        if self.start > 0 && self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.start > 0 && self.end + READ_CHUNK > self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end + READ_CHUNK > self.buf.len() {
            self.buf.resize(self.end + READ_CHUNK, 0);
        }
        let room = self.end..self.end + READ_CHUNK;
        let inner: &mut dyn Read = match &mut self.tail {
            Some(tail) => tail,
            None => self.inner,
        };
        let read = loop {
            match inner.read(self.buf.get_mut(room.clone()).unwrap_or_default()) {
                Ok(n) => break Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(e),
            }
        };
        let n = read?;
        self.end += n.min(READ_CHUNK);
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    /// Mapped: make the next step of the file available, mapping a new window when it runs
    /// past the current one. The new window starts at the first byte still needed (the
    /// recording's start, or the first unread byte), so the unread bytes stay contiguous.
    fn reveal(&mut self) -> io::Result<bool> {
        let Some(m) = &mut self.map else {
            return Ok(false);
        };
        let size = m.file.len();
        let head = m.file.head() as u64;
        let end = m.at + self.end as u64;
        let step = if end < head {
            head - end
        } else {
            READ_CHUNK as u64
        };
        let step = step.min(size.saturating_sub(end));
        if step == 0 {
            self.eof = true;
            return Ok(false);
        }
        let mapped_end = m.at + m.window.as_ref().map_or(0, |w| w.len() as u64);
        if end + step > mapped_end {
            let keep = match &self.recording {
                Some(rec) if !rec.overflow => rec.from,
                _ => m.at + self.start as u64,
            };
            let len = (end + step - keep)
                .max(WINDOW_BYTES as u64)
                .min(size - keep);
            let len = usize::try_from(len).map_err(io::Error::other)?;
            let window = m.file.map(keep, len)?;
            #[cfg(test)]
            WINDOWS_MAPPED.with(|n| n.set(n.get() + 1));
            self.start = (m.at + self.start as u64 - keep) as usize;
            self.end = (end - keep) as usize;
            m.at = keep;
            m.window = Some(Arc::new(window));
        }
        self.end += step as usize;
        if end >= head {
            m.file.count(step as usize);
        }
        Ok(true)
    }

    /// Stop mapping: the unread (and recorded) bytes are copied into the buffer and the rest
    /// of the file is read from where the map ended.
    fn unmap(&mut self) -> io::Result<()> {
        let Some(m) = self.map.take() else {
            return Ok(());
        };
        let Some(window) = &m.window else {
            // Nothing was taken from a map: `inner` is untouched and reads it all.
            return Ok(());
        };
        let resume = m.at + self.end as u64;
        if let Some(rec) = &mut self.recording {
            if !rec.overflow {
                let from = (rec.from - m.at) as usize;
                rec.bytes = window.get(from..self.start).unwrap_or_default().to_vec();
            }
        }
        self.buf = window
            .get(self.start..self.end)
            .unwrap_or_default()
            .to_vec();
        self.end -= self.start;
        self.start = 0;
        self.tail = Some(m.file.read_from(resume)?);
        Ok(())
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
        self.consume_counted(n, None);
    }

    /// Consume a line of `n` bytes whose one newline is its last byte, as the caller found:
    /// the line number moves on without a second look at every byte.
    pub(crate) fn consume_line(&mut self, n: usize) {
        self.consume_counted(n, Some(1));
    }

    fn consume_counted(&mut self, n: usize, newlines: Option<u64>) {
        let end = self.start.saturating_add(n).min(self.end);
        let mapped = self.map.is_some();
        let held: &[u8] = match &self.map {
            Some(m) => m.window.as_deref().map_or(&[], |w| &w[..]),
            None => &self.buf,
        };
        let taken = held.get(self.start..end).unwrap_or_default();
        self.line += match newlines {
            Some(count) if taken.len() == n => count,
            _ => memchr::memchr_iter(b'\n', taken).count() as u64,
        };
        self.offset += taken.len() as u64;
        if let Some(rec) = &mut self.recording {
            if !rec.overflow {
                if rec.len + taken.len() > rec.limit {
                    rec.overflow = true;
                    rec.bytes = Vec::new();
                } else {
                    rec.len += taken.len();
                    if !mapped {
                        rec.bytes.extend_from_slice(taken);
                    }
                }
            }
        }
        self.start = end;
        if self.start == self.end && self.buf.len() > RETAINED_CAPACITY {
            self.buf = Vec::new();
            self.start = 0;
            self.end = 0;
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
            from: self.offset,
            len: 0,
            limit,
            overflow: false,
        });
    }

    /// Stop recording and return what was kept.
    pub(crate) fn stop_recording(&mut self) -> Recorded {
        match self.recording.take() {
            Some(rec) if !rec.overflow => match &self.map {
                Some(Mapped {
                    window: Some(window),
                    at,
                    ..
                }) => {
                    let from = rec.from.saturating_sub(*at) as usize;
                    Recorded::Mapped(Arc::clone(window), from..from + rec.len)
                }
                _ => Recorded::Bytes(rec.bytes),
            },
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `piece` bytes per read, as pipes and archives do.
    struct Pieces<'a> {
        rest: &'a [u8],
        piece: usize,
    }

    impl Read for Pieces<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.rest.len().min(out.len()).min(self.piece);
            let (head, tail) = self.rest.split_at(n);
            out[..n].copy_from_slice(head);
            self.rest = tail;
            Ok(n)
        }
    }

    /// Lines cut the way the JSON-lines framer cuts them, with the line number each began on.
    fn lines(text: &[u8], piece: usize) -> Vec<(u64, Vec<u8>)> {
        let mut reader = Pieces { rest: text, piece };
        let mut s = Stream::new(&mut reader);
        let mut out = Vec::new();
        loop {
            let line = s.line();
            let mut searched = 0;
            let newline = loop {
                let avail = s.available();
                if let Some(p) = memchr::memchr(b'\n', &avail[searched..]) {
                    break Some(searched + p);
                }
                searched = avail.len();
                if !s.fill_more().unwrap() {
                    break None;
                }
            };
            match newline {
                Some(len) => {
                    out.push((line, s.available()[..len].to_vec()));
                    s.consume_line(len + 1);
                }
                None => {
                    let rest = s.available().to_vec();
                    if !rest.is_empty() {
                        out.push((line, rest));
                    }
                    assert_eq!(
                        s.offset(),
                        text.len() as u64 - out.last().map_or(0, |l| l.1.len()) as u64
                    );
                    return out;
                }
            }
        }
    }

    /// Line numbers and contents survive reads of any size, lines longer than one read, and
    /// the buffer growing for a huge line and shrinking after it.
    #[test]
    fn lines_keep_their_numbers_across_reads() {
        let mut text = Vec::new();
        let mut expected = Vec::new();
        for n in 0..3000u64 {
            let len = match n % 500 {
                7 => 3 * READ_CHUNK + 5,
                8 => RETAINED_CAPACITY + 17,
                k => (k * 37 % 211) as usize,
            };
            let line: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            expected.push((n + 1, line.clone()));
            text.extend_from_slice(&line);
            text.push(b'\n');
        }
        text.extend_from_slice(b"last line, no newline");
        expected.push((3001, b"last line, no newline".to_vec()));
        for piece in [1 << 20, READ_CHUNK, 4093, 61] {
            assert!(lines(&text, piece) == expected, "reads of {piece} bytes");
        }
    }
}
