//! A read buffer that knows where it is: byte offset and line number of the next unread byte,
//! with optional recording of consumed bytes (to cut one record out of a container) and the
//! ability to look ahead further than one read without consuming.
//!
//! The buffer is a shared [`Block`]: a sink that keeps records beyond the framing call (the
//! decoding threads) may hold the block they lie in rather than copy them. A held block is
//! never written again; the next read goes into a fresh block, into which only the unread
//! bytes (the start of a record cut by the read) are copied.

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

/// Size of one read from the underlying stream. Large, because every read is a system call
/// and a page-cache lookup (64 KiB reads were 34,000 calls for tier M's 2.1 GB); not much
/// larger, so a block is still in the cache when the records cut out of it are decoded.
pub(crate) const READ_CHUNK: usize = 1024 * 1024;

/// The buffer is shrunk back to this after a huge record made it grow, so one 100 MB line
/// does not pin 100 MB for the rest of the file.
const RETAINED_CAPACITY: usize = 4 * READ_CHUNK;

/// Read blocks kept for reuse by a [`Recycler`]: more than the batches in flight hold with up
/// to five decoding threads; beyond that, blocks are freed.
const MAX_RECYCLED: usize = 16;

/// Longest block kept for reuse: one grown for a long line is freed, not kept.
const MAX_RECYCLED_LEN: usize = 2 * READ_CHUNK;

/// Bytes read from a stream; records framed from it are ranges of it.
pub(crate) type Block = Arc<Vec<u8>>;

/// Blocks whose last holder let go of them, for the next reads: a fresh block would cost an
/// allocation and the zeroing of its megabyte (the buffer stays initialized so that a read
/// need not zero its room), which is about what sharing the block saves.
#[derive(Default)]
pub(crate) struct Recycler {
    spare: Mutex<Vec<Vec<u8>>>,
}

impl Recycler {
    fn take(&self) -> Option<Vec<u8>> {
        self.spare.lock().ok()?.pop()
    }

    /// Let go of `block`; kept for reuse if this was its last holder.
    pub(crate) fn give(&self, block: Block) {
        let Some(bytes) = Arc::into_inner(block) else {
            return;
        };
        if bytes.len() > MAX_RECYCLED_LEN {
            return;
        }
        if let Ok(mut spare) = self.spare.lock() {
            if spare.len() < MAX_RECYCLED {
                spare.push(bytes);
            }
        }
    }
}

/// Buffered reader over a byte stream that tracks byte offset and line number.
pub(crate) struct Stream<'r> {
    inner: &'r mut dyn Read,
    /// Where blocks come from and go back to, when a sink holds them.
    recycler: Option<&'r Recycler>,
    /// Bytes read are `buf[start..end]`; the rest of `buf` is room for the next read. It
    /// stays initialized, so a read does not zero its room first.
    buf: Block,
    start: usize,
    end: usize,
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
    pub(crate) fn new(inner: &'r mut dyn Read, recycler: Option<&'r Recycler>) -> Self {
        Stream {
            inner,
            recycler,
            buf: Arc::new(recycler.and_then(Recycler::take).unwrap_or_default()),
            start: 0,
            end: 0,
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
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// The block the buffered bytes are in, and where `range` of [`Stream::available`] is in
    /// it.
    pub(crate) fn shared(&self, range: std::ops::Range<usize>) -> (&Block, std::ops::Range<usize>) {
        (&self.buf, self.start + range.start..self.start + range.end)
    }

    /// Read more bytes, keeping every unread one. Returns false at the end of the stream.
    pub(crate) fn fill_more(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if Arc::get_mut(&mut self.buf).is_none() {
            self.carry_over();
        }
        // The block is this stream's alone now: `make_mut` does not copy it.
        let buf = Arc::make_mut(&mut self.buf);
        if self.start > 0 && self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.start > 0 && self.end + READ_CHUNK > buf.len() {
            buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        grow(buf, self.end + READ_CHUNK);
        let room = self.end..self.end + READ_CHUNK;
        let read = loop {
            match self
                .inner
                .read(buf.get_mut(room.clone()).unwrap_or_default())
            {
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
        let taken = self.buf.get(self.start..end).unwrap_or_default();
        self.line += match newlines {
            Some(count) if taken.len() == n => count,
            _ => memchr::memchr_iter(b'\n', taken).count() as u64,
        };
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
        if self.start == self.end && self.buf.len() > RETAINED_CAPACITY {
            let huge = std::mem::take(&mut self.buf);
            self.let_go(huge);
            self.start = 0;
            self.end = 0;
        }
    }

    /// A sink holds records of the current block: leave it to them, and carry the unread
    /// bytes (the start of a record cut by the last read) over to a fresh block.
    fn carry_over(&mut self) {
        let mut fresh = self.recycler.and_then(Recycler::take).unwrap_or_default();
        let unread = self.start..self.end;
        let tail = unread.len();
        grow(&mut fresh, tail + READ_CHUNK);
        if let (Some(dst), Some(src)) = (fresh.get_mut(..tail), self.buf.get(unread)) {
            dst.copy_from_slice(src);
        }
        let held = std::mem::replace(&mut self.buf, Arc::new(fresh));
        self.let_go(held);
        self.start = 0;
        self.end = tail;
    }

    fn let_go(&self, block: Block) {
        if let Some(recycler) = self.recycler {
            recycler.give(block);
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

impl Drop for Stream<'_> {
    fn drop(&mut self) {
        let last = std::mem::take(&mut self.buf);
        self.let_go(last);
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

/// Make `buf` at least `len` bytes long, zeroing only what is added, with capacity for a read
/// more: a block going round the recycler then seldom has to move (a reallocation copies it).
fn grow(buf: &mut Vec<u8>, len: usize) {
    if buf.len() < len {
        buf.reserve(len + READ_CHUNK - buf.len());
        buf.resize(len, 0);
    }
}

/// JSON's insignificant whitespace.
pub(crate) fn is_json_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A reader that hands out at most `sizes[i]` bytes in its `i`-th read (the sizes taken
    /// round and round), as pipes, archives and gzip streams do.
    pub(crate) struct Pieces<'a> {
        rest: &'a [u8],
        sizes: &'a [usize],
        reads: usize,
    }

    impl<'a> Pieces<'a> {
        pub(crate) fn new(rest: &'a [u8], sizes: &'a [usize]) -> Self {
            Pieces {
                rest,
                sizes,
                reads: 0,
            }
        }
    }

    impl Read for Pieces<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let piece = self.sizes[self.reads % self.sizes.len()];
            self.reads += 1;
            let n = self.rest.len().min(out.len()).min(piece);
            let (head, tail) = self.rest.split_at(n);
            out[..n].copy_from_slice(head);
            self.rest = tail;
            Ok(n)
        }
    }

    /// Lines cut the way the JSON-lines framer cuts them, with the line number each began on.
    fn lines(text: &[u8], piece: usize) -> Vec<(u64, Vec<u8>)> {
        let sizes = [piece];
        let mut reader = Pieces::new(text, &sizes);
        let mut s = Stream::new(&mut reader, None);
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
