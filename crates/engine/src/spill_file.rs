//! The spill's temporary file. Spilled accesses are written once and read back once, so where
//! the file system allows it the file goes around the page cache (see `tokentrail-directio`):
//! whole aligned blocks, gathered in a staging buffer, the last one padded when the first read
//! comes. Anywhere else it is an ordinary temporary file. Either way the kernel deletes it when
//! the run ends, even on a crash.
//!
//! Records of varying size are appended with their length first ([`SpillFile::append_record`])
//! and read back a stretch at a time ([`Records`]).

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use tokentrail_directio::{direct_temp_file, read_exact_at, write_at, AlignedBuf, BLOCK};

/// What a direct file gathers before one write.
const STAGING: usize = 1 << 20;

/// What a file that is one of many (a partition of a tenant's users) gathers before one write:
/// hundreds of them are written at once.
const SMALL_STAGING: usize = 64 << 10;

/// An unnamed temporary file, appended to, then read at offsets.
#[derive(Debug)]
pub struct SpillFile {
    file: File,
    /// Boxed: its buffers' bookkeeping need not make every holder of a file larger.
    direct: Option<Box<Direct>>,
    /// Bytes appended.
    len: u64,
}

/// The state of a file written around the page cache.
#[derive(Debug)]
struct Direct {
    /// Bytes not yet written, fewer than `staging_len`, at the aligned start of `staging`.
    staged: usize,
    /// What is gathered before one write (a multiple of [`BLOCK`]).
    staging_len: usize,
    staging: AlignedBuf,
    /// Bytes written so far (a multiple of [`BLOCK`]).
    written: u64,
    /// The last partial block was written padded: nothing more may be appended.
    sealed: bool,
    /// The buffer reads go through.
    reading: AlignedBuf,
}

impl SpillFile {
    /// A new file in `dir` (the system's temporary directory when `None`).
    pub fn create(dir: Option<&Path>) -> io::Result<SpillFile> {
        SpillFile::create_in(dir, true, STAGING)
    }

    /// [`SpillFile::create`] for one of many files written at once: it holds less in memory,
    /// and writes more often.
    pub fn create_small(dir: Option<&Path>) -> io::Result<SpillFile> {
        SpillFile::create_in(dir, true, SMALL_STAGING)
    }

    /// [`SpillFile::create`], around the page cache only when `direct` allows, gathering
    /// `staging_len` bytes per write.
    fn create_in(dir: Option<&Path>, direct: bool, staging_len: usize) -> io::Result<SpillFile> {
        let temp;
        let dir = match dir {
            Some(d) => d,
            None => {
                temp = std::env::temp_dir();
                &temp
            }
        };
        if let Some(file) = direct.then(|| direct_temp_file(dir)).flatten() {
            return Ok(SpillFile {
                file,
                direct: Some(Box::new(Direct {
                    staged: 0,
                    staging_len,
                    staging: AlignedBuf::with_len(staging_len),
                    written: 0,
                    sealed: false,
                    reading: AlignedBuf::default(),
                })),
                len: 0,
            });
        }
        Ok(SpillFile {
            file: tempfile::tempfile_in(dir)?,
            direct: None,
            len: 0,
        })
    }

    /// Whether reads and writes go around the page cache.
    #[cfg(test)]
    pub fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// Bytes appended so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Nothing appended yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Append `bytes`.
    pub fn append(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        let Some(d) = self.direct.as_mut() else {
            self.file.write_all(bytes)?;
            self.len += bytes.len() as u64;
            return Ok(());
        };
        if d.sealed {
            return Err(io::Error::other("spill file appended to after a read"));
        }
        self.len += bytes.len() as u64;
        while !bytes.is_empty() {
            let room = d.staging_len - d.staged;
            let (now, rest) = bytes.split_at(bytes.len().min(room));
            d.staging
                .get_mut(d.staged, d.staged + now.len())
                .copy_from_slice(now);
            d.staged += now.len();
            bytes = rest;
            if d.staged == d.staging_len {
                write_at(&self.file, d.staging.get(0, d.staging_len), d.written)?;
                d.written += d.staging_len as u64;
                d.staged = 0;
            }
        }
        Ok(())
    }

    /// Append one record, its length first (read back by [`Records`]).
    pub fn append_record(&mut self, record: &[u8]) -> io::Result<()> {
        let len = u32::try_from(record.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
        self.append(&len.to_le_bytes())?;
        self.append(record)
    }

    /// Give back the buffer reads went through (the next read takes a new one).
    pub fn done_reading(&mut self) {
        if let Some(d) = self.direct.as_mut() {
            d.reading = AlignedBuf::default();
        }
    }

    /// Read `out.len()` bytes from byte `offset` of what was appended.
    pub fn read_at(&mut self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        let end = offset + out.len() as u64;
        if end > self.len {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let Some(d) = self.direct.as_mut() else {
            return read_exact_at(&self.file, out, offset);
        };
        if !d.sealed {
            // The last partial block goes out padded to a whole one: direct writes are
            // whole blocks, and the padding is never read as records.
            let padded = d.staged.next_multiple_of(BLOCK);
            d.staging.get_mut(d.staged, padded).fill(0);
            if padded > 0 {
                write_at(&self.file, d.staging.get(0, padded), d.written)?;
            }
            d.sealed = true;
            d.staging = AlignedBuf::default();
        }
        let from = offset - offset % BLOCK as u64;
        let to = end.next_multiple_of(BLOCK as u64);
        let span = usize::try_from(to - from).map_err(io::Error::other)?;
        if d.reading.len() < span {
            d.reading = AlignedBuf::with_len(span.next_multiple_of(d.staging_len));
        }
        read_exact_at(&self.file, d.reading.get_mut(0, span), from)?;
        let skip = (offset - from) as usize;
        out.copy_from_slice(d.reading.get(skip, skip + out.len()));
        Ok(())
    }
}

/// The records [`SpillFile::append_record`] wrote in a stretch of a file, read a chunk at a
/// time: many can be open on one file at once (the runs of a merge), each holding a chunk.
#[derive(Debug)]
pub struct Records {
    /// Where the next chunk starts.
    offset: u64,
    end: u64,
    chunk: usize,
    /// Bytes read and not yet handed out, from `at`.
    pending: Vec<u8>,
    at: usize,
}

impl Records {
    /// The records from byte `from` to byte `to` (where a record starts and where one ends),
    /// read `chunk` bytes at a time.
    pub fn new(from: u64, to: u64, chunk: usize) -> Records {
        Records {
            offset: from,
            end: to.max(from),
            chunk: chunk.max(1),
            pending: Vec::new(),
            at: 0,
        }
    }

    /// The next record's bytes, `Ok(None)` after the last; an error when `file` cannot be read
    /// or the stretch ends inside a record.
    pub fn next<'r>(&'r mut self, file: &mut SpillFile) -> io::Result<Option<&'r [u8]>> {
        loop {
            if let Some((from, to)) = self.whole() {
                self.at = to;
                return Ok(self.pending.get(from..to));
            }
            if self.offset >= self.end {
                return if self.at == self.pending.len() {
                    Ok(None)
                } else {
                    Err(io::ErrorKind::UnexpectedEof.into())
                };
            }
            self.pending.drain(..self.at);
            self.at = 0;
            let n = usize::try_from((self.end - self.offset).min(self.chunk as u64))
                .unwrap_or(self.chunk);
            let old = self.pending.len();
            self.pending.resize(old + n, 0);
            file.read_at(self.offset, self.pending.get_mut(old..).unwrap_or_default())?;
            self.offset += n as u64;
        }
    }

    /// Where the next record's bytes are in `pending`, when all of them are there.
    fn whole(&self) -> Option<(usize, usize)> {
        let len = self.pending.get(self.at..self.at + 4)?;
        let len = u32::from_le_bytes(len.try_into().ok()?) as usize;
        let from = self.at + 4;
        (self.pending.len() >= from + len).then_some((from, from + len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes that say where they are, so a read from the wrong offset cannot pass.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i % 251) as u8 ^ (i / 251) as u8)
            .collect()
    }

    fn appended_in_pieces(file: &mut SpillFile, data: &[u8], piece: usize) {
        for chunk in data.chunks(piece) {
            file.append(chunk).expect("append");
        }
    }

    fn reads_back_every_range(file: &mut SpillFile, data: &[u8]) {
        assert_eq!(file.len(), data.len() as u64);
        // Ranges at block edges, across the staging buffer's edge, within a block, the whole
        // file, the last byte, and empty.
        let n = data.len();
        let edges = [
            0,
            1,
            103,
            104,
            BLOCK - 1,
            BLOCK,
            BLOCK + 1,
            STAGING - 5,
            STAGING,
            n - 1,
        ];
        for &from in edges.iter().filter(|&&f| f < n) {
            for len in [0, 1, 104, 3 * 104, BLOCK, STAGING + 7, n - from] {
                let len = len.min(n - from);
                let mut out = vec![0xAAu8; len];
                file.read_at(from as u64, &mut out).expect("read");
                assert!(
                    out == data[from..from + len],
                    "bytes {from}..{}",
                    from + len
                );
            }
        }
        let mut past = [0u8; 1];
        assert_eq!(
            file.read_at(n as u64, &mut past).map_err(|e| e.kind()),
            Err(io::ErrorKind::UnexpectedEof)
        );
        // Reads settle the file: nothing more is appended to a direct one.
        if file.is_direct() {
            assert!(file.append(&[1]).is_err());
        }
    }

    /// Both kinds of file where the file system allows direct I/O, the direct one with both
    /// staging sizes (else the ordinary one three times: which it is depends on the file
    /// system under the test's temporary directory).
    fn both_kinds(dir: &Path) -> Vec<SpillFile> {
        [(true, STAGING), (true, SMALL_STAGING), (false, STAGING)]
            .into_iter()
            .map(|(direct, staging)| {
                SpillFile::create_in(Some(dir), direct, staging).expect("create")
            })
            .collect()
    }

    #[test]
    fn what_is_appended_is_read_back_at_any_offset() {
        let dir = tempfile::tempdir().expect("temp dir");
        // Not a multiple of the block or staging size, and more than one staging buffer.
        let data = pattern(2 * STAGING + 3 * BLOCK + 1234);
        for piece in [104, 4096 * 104, STAGING + 1] {
            for mut file in both_kinds(dir.path()) {
                appended_in_pieces(&mut file, &data, piece);
                reads_back_every_range(&mut file, &data);
                // A file whose reading buffer was given back reads on.
                file.done_reading();
                reads_back_every_range(&mut file, &data);
            }
        }
    }

    #[test]
    fn a_file_shorter_than_a_block_is_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = pattern(300);
        for mut file in both_kinds(dir.path()) {
            appended_in_pieces(&mut file, &data, 104);
            let mut out = vec![0u8; 196];
            file.read_at(104, &mut out).expect("read");
            assert_eq!(out, data[104..300]);
        }
    }

    #[test]
    fn only_a_file_asked_to_goes_around_the_page_cache() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ordinary = SpillFile::create_in(Some(dir.path()), false, STAGING).expect("create");
        assert!(!ordinary.is_direct());
        let missing = dir.path().join("missing");
        assert!(SpillFile::create(Some(&missing)).is_err());
    }

    #[test]
    fn records_are_read_back_by_stretch_whatever_the_chunk() {
        let dir = tempfile::tempdir().expect("temp dir");
        // Records of 0 to 2,999 bytes, each saying which it is.
        let records: Vec<Vec<u8>> = (0..40u32)
            .map(|i| {
                (0..(i * 75) as usize)
                    .map(|j| (i as usize + j) as u8)
                    .collect()
            })
            .collect();
        for mut file in both_kinds(dir.path()) {
            let mut starts = Vec::new();
            for r in &records {
                starts.push(file.len());
                file.append_record(r).expect("append");
            }
            starts.push(file.len());
            // Two stretches read at once, interleaved, as a merge reads its runs.
            for chunk in [1, 7, 4096, 1 << 20] {
                let mut first = Records::new(starts[0], starts[25], chunk);
                let mut second = Records::new(starts[25], starts[40], chunk);
                for i in 0..25 {
                    let got = first.next(&mut file).expect("read").map(<[u8]>::to_vec);
                    assert_eq!(got.as_ref(), Some(&records[i]), "chunk {chunk}, record {i}");
                    if i + 25 < 40 {
                        let got = second.next(&mut file).expect("read").map(<[u8]>::to_vec);
                        assert_eq!(got.as_ref(), Some(&records[i + 25]));
                    }
                }
                assert_eq!(first.next(&mut file).expect("end"), None);
                assert_eq!(second.next(&mut file).expect("end"), None);
            }
            // A stretch that ends inside a record is an error, not a short record.
            let mut cut = Records::new(starts[0], starts[2] - 1, 64);
            assert!(cut.next(&mut file).expect("first").is_some());
            assert!(cut.next(&mut file).is_err());
        }
    }
}
