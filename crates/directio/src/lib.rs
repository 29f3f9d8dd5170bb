//! Files read and written around the page cache, where Linux and the file system allow it
//! (`O_DIRECT`).
//!
//! tokentrail reads each input file once and reads each spilled record back once, so the page
//! cache gives it nothing and costs it a copy of every byte and fresh pages for the cache to
//! fill. On the bench VM a cold 2.1 GB export folder took 1.4 s of kernel time just to pass
//! through the cache (`cat`), and a 67 MB spill 0.2 s; direct reads and writes do the same in
//! whole aligned blocks with next to no CPU. Input already in the cache (a second run) is read
//! through it as before: copying from the cache is cheaper than reading the disk again.
//!
//! Everything here falls back to ordinary files: on other systems, on file systems without
//! direct I/O (tmpfs, some network and FUSE file systems), and when a direct read or write is
//! refused.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// The unit of direct reads and writes: offsets, lengths and buffer addresses are multiples
/// of it (4 KiB covers the logical block sizes Linux file systems use).
pub const BLOCK: usize = 4096;

/// A buffer whose usable part starts at a [`BLOCK`]-aligned address, without unsafe code: a
/// vector one block longer than needed, used from its first aligned byte. The vector is never
/// grown, so the address stays put.
#[derive(Debug, Default)]
pub struct AlignedBuf {
    bytes: Vec<u8>,
    start: usize,
}

impl AlignedBuf {
    /// A zeroed buffer of `len` usable bytes.
    pub fn with_len(len: usize) -> AlignedBuf {
        let bytes = vec![0u8; len + BLOCK];
        let start = bytes.as_ptr().align_offset(BLOCK).min(BLOCK);
        AlignedBuf { bytes, start }
    }

    /// Usable bytes.
    pub fn len(&self) -> usize {
        self.bytes.len().saturating_sub(BLOCK)
    }

    /// Whether it has no usable bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Usable bytes `from..to` (clipped to the buffer).
    pub fn get(&self, from: usize, to: usize) -> &[u8] {
        let to = to.min(self.len());
        self.bytes
            .get(self.start + from.min(to)..self.start + to)
            .unwrap_or_default()
    }

    /// Usable bytes `from..to` (clipped to the buffer), to write into.
    pub fn get_mut(&mut self, from: usize, to: usize) -> &mut [u8] {
        let to = to.min(self.len());
        self.bytes
            .get_mut(self.start + from.min(to)..self.start + to)
            .unwrap_or_default()
    }
}

/// Write all of `bytes` at `offset`.
pub fn write_at(file: &File, bytes: &[u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, bytes, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::Write;
        let mut file = file;
        file.seek(SeekFrom::Start(offset))?;
        file.write_all(bytes)
    }
}

/// Fill `out` from `offset`.
pub fn read_exact_at(file: &File, out: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, out, offset)
    }
    #[cfg(not(unix))]
    {
        let mut file = file;
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(out)
    }
}

/// Read what there is at `offset` into `out` (fewer bytes only at the end of the file).
fn read_at(file: &File, out: &mut [u8], offset: u64) -> io::Result<usize> {
    #[cfg(unix)]
    {
        let mut got = 0;
        while got < out.len() {
            let rest = out.get_mut(got..).unwrap_or_default();
            match std::os::unix::fs::FileExt::read_at(file, rest, offset + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(got)
    }
    #[cfg(not(unix))]
    {
        let mut file = file;
        file.seek(SeekFrom::Start(offset))?;
        let mut got = 0;
        while got < out.len() {
            match file.read(out.get_mut(got..).unwrap_or_default()) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(got)
    }
}

/// An unnamed temporary file in `dir` opened for direct I/O, when the system and the file
/// system allow both (a block written and read back says so before anything depends on it;
/// the first real write covers it). `None`: use an ordinary temporary file.
pub fn direct_temp_file(dir: &Path) -> Option<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_TMPFILE | libc::O_DIRECT)
            .open(dir)
            .ok()?;
        let mut probe = AlignedBuf::with_len(BLOCK);
        write_at(&file, probe.get(0, BLOCK), 0).ok()?;
        read_exact_at(&file, probe.get_mut(0, BLOCK), 0).ok()?;
        Some(file)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        None
    }
}

/// Whether the page cache holds the bytes of `file` at a few places (its start, middle and
/// end): asked with `RWF_NOWAIT`, which reads only what the cache holds and never waits for
/// the disk. Where that cannot be asked, the answer is yes (read through the cache as usual).
fn cached(file: &File) -> bool {
    #[cfg(target_os = "linux")]
    {
        use rustix::io::{preadv2, ReadWriteFlags};
        let len = file.metadata().map_or(0, |m| m.len());
        let mut probe = [0u8; 1];
        [0, len / 2, len.saturating_sub(1)].into_iter().all(|at| {
            match preadv2(
                file,
                &mut [io::IoSliceMut::new(&mut probe)],
                at,
                ReadWriteFlags::NOWAIT,
            ) {
                Ok(_) => true,
                // Not in the cache; any other refusal (an old kernel, a file system that
                // does not know the flag) leaves the file to the cache.
                Err(e) => e != rustix::io::Errno::AGAIN,
            }
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file;
        true
    }
}

/// The size of the blocks an input file is read in around the cache: large enough that the
/// disk streams, small enough to stay in the CPU's caches while it is copied out.
const INPUT_BLOCK: usize = 1 << 20;

/// An input file to read once from start to end (with seeks, for archives): around the page
/// cache when the cache does not hold it and direct reads work, through it otherwise.
#[derive(Debug)]
pub struct InputFile {
    /// The file through the cache: every read when `direct` is `None`, and where reading goes
    /// on should a direct read be refused.
    file: File,
    direct: Option<Box<DirectRead>>,
}

/// Reading around the cache: one block read at an aligned offset, handed out from `at`.
#[derive(Debug)]
struct DirectRead {
    file: File,
    block: AlignedBuf,
    /// Bytes of `block` that hold file data: fewer than the block only at the end of the file.
    filled: usize,
    /// The next byte of `block` to hand out.
    at: usize,
    /// The file offset `block` was read from (a multiple of [`INPUT_BLOCK`]).
    offset: u64,
}

impl DirectRead {
    /// Read the block at `offset` (a multiple of [`INPUT_BLOCK`]).
    fn fill(&mut self, offset: u64) -> io::Result<()> {
        self.filled = read_at(&self.file, self.block.get_mut(0, INPUT_BLOCK), offset)?;
        self.offset = offset;
        self.at = 0;
        Ok(())
    }
}

impl InputFile {
    /// Open `path` for reading.
    pub fn open(path: &Path) -> io::Result<InputFile> {
        let file = File::open(path)?;
        let direct = if cached(&file) {
            None
        } else {
            open_direct(path).and_then(|file| {
                let mut d = DirectRead {
                    file,
                    block: AlignedBuf::with_len(INPUT_BLOCK),
                    filled: 0,
                    at: 0,
                    offset: 0,
                };
                // A file system may open a file for direct I/O and refuse the reads: the first
                // block, read now, says so before any byte is handed out.
                d.fill(0).ok().map(|()| Box::new(d))
            })
        };
        Ok(InputFile { file, direct })
    }

    /// Whether it is read around the page cache.
    pub fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// Go on through the cache from byte `at`: a direct read was refused.
    fn through_cache_from(&mut self, at: u64) -> io::Result<()> {
        self.direct = None;
        self.file.seek(SeekFrom::Start(at)).map(drop)
    }
}

impl Read for InputFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(d) = self.direct.as_mut() else {
            return self.file.read(buf);
        };
        if d.at == d.filled {
            if d.filled < INPUT_BLOCK {
                return Ok(0);
            }
            let next = d.offset + INPUT_BLOCK as u64;
            if d.fill(next).is_err() {
                self.through_cache_from(next)?;
                return self.file.read(buf);
            }
        }
        let n = buf.len().min(d.filled - d.at);
        if let Some(out) = buf.get_mut(..n) {
            out.copy_from_slice(d.block.get(d.at, d.at + n));
        }
        d.at += n;
        Ok(n)
    }
}

impl Seek for InputFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let Some(d) = self.direct.as_mut() else {
            return self.file.seek(pos);
        };
        let now = d.offset + d.at as u64;
        let target = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(delta) => now.checked_add_signed(delta),
            SeekFrom::End(delta) => self.file.metadata()?.len().checked_add_signed(delta),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        if !(d.offset..=d.offset + d.filled as u64).contains(&target) {
            let block = target - target % INPUT_BLOCK as u64;
            if d.fill(block).is_err() {
                self.through_cache_from(target)?;
                return Ok(target);
            }
        }
        // Past the end of the file, reads give nothing, as with any file.
        d.at = usize::try_from(target - d.offset).map_or(d.filled, |at| at.min(d.filled));
        Ok(target)
    }
}

fn open_direct(path: &Path) -> Option<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECT)
            .open(path)
            .ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        None
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

    /// A file of `data` written around the page cache where the file system allows it (so the
    /// cache does not hold it), else through it.
    fn uncached_file(dir: &Path, data: &[u8]) -> std::path::PathBuf {
        let path = dir.join("input.jsonl");
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::fs::OpenOptionsExt;
            let direct = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .custom_flags(libc::O_DIRECT)
                .open(&path);
            if let Ok(file) = direct {
                let padded = data.len().next_multiple_of(BLOCK);
                let mut buf = AlignedBuf::with_len(padded);
                buf.get_mut(0, data.len()).copy_from_slice(data);
                write_at(&file, buf.get(0, padded), 0).expect("direct write");
                file.set_len(data.len() as u64).expect("truncate");
                return path;
            }
        }
        std::fs::write(&path, data).expect("write");
        path
    }

    fn read_all(file: &mut InputFile, piece: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; piece];
        loop {
            let n = file.read(&mut buf).expect("read");
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    fn reads_like_the_bytes(path: &Path, data: &[u8]) {
        for piece in [1, 4095, 65_536, 3 * INPUT_BLOCK] {
            let mut file = InputFile::open(path).expect("open");
            assert!(
                read_all(&mut file, piece) == data,
                "read in pieces of {piece}"
            );
        }
        let mut file = InputFile::open(path).expect("open");
        let n = data.len() as u64;
        for (seek, want) in [
            (SeekFrom::Start(0), 0),
            (
                SeekFrom::Start(INPUT_BLOCK as u64 - 1),
                INPUT_BLOCK as u64 - 1,
            ),
            (SeekFrom::Current(2), INPUT_BLOCK as u64 + 1),
            (SeekFrom::End(-10), n - 10),
            (
                SeekFrom::Current(-(INPUT_BLOCK as i64)),
                n - 10 - INPUT_BLOCK as u64,
            ),
            (SeekFrom::Start(5), 5),
        ] {
            assert_eq!(file.seek(seek).expect("seek"), want);
            let mut got = [0u8; 7];
            let k = file.read(&mut got).expect("read");
            let end = (want as usize + k).min(data.len());
            assert!(
                k > 0 && got[..k] == data[want as usize..end],
                "after {seek:?}"
            );
            file.seek(SeekFrom::Current(-(k as i64)))
                .expect("seek back");
        }
        assert_eq!(file.seek(SeekFrom::Start(n + 100)).expect("seek"), n + 100);
        assert_eq!(file.read(&mut [0u8; 8]).expect("read"), 0);
        assert!(file.seek(SeekFrom::Current(-(n as i64) - 200)).is_err());
    }

    #[test]
    fn a_file_the_cache_does_not_hold_reads_as_its_bytes() {
        let dir = tempfile::tempdir().expect("temp dir");
        // More than two blocks, and not a multiple of the block or the alignment.
        let data = pattern(2 * INPUT_BLOCK + 3 * BLOCK + 1234);
        let path = uncached_file(dir.path(), &data);
        reads_like_the_bytes(&path, &data);
    }

    #[test]
    fn a_file_the_cache_holds_is_read_through_it_and_reads_as_its_bytes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = pattern(INPUT_BLOCK + 17);
        let path = dir.path().join("cached.jsonl");
        std::fs::write(&path, &data).expect("write");
        let mut warm = Vec::new();
        File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut warm))
            .expect("read");
        assert!(!InputFile::open(&path).expect("open").is_direct());
        reads_like_the_bytes(&path, &data);
    }

    #[test]
    fn an_empty_file_reads_as_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = uncached_file(dir.path(), &[]);
        let mut file = InputFile::open(&path).expect("open");
        assert_eq!(read_all(&mut file, 10), Vec::<u8>::new());
    }

    /// On a disk file system (as under CI's and the bench machine's temporary directory), a
    /// file written around the cache is read around it.
    #[test]
    #[cfg(target_os = "linux")]
    fn a_disk_file_the_cache_does_not_hold_is_read_around_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        if !on_disk_file_system(dir.path()) {
            eprintln!(
                "skipped: {} is not on ext4, xfs or btrfs",
                dir.path().display()
            );
            return;
        }
        let data = pattern(BLOCK * 3);
        let path = uncached_file(dir.path(), &data);
        assert!(InputFile::open(&path).expect("open").is_direct());
        assert!(direct_temp_file(dir.path()).is_some());
    }

    #[cfg(target_os = "linux")]
    fn on_disk_file_system(dir: &Path) -> bool {
        std::fs::read_to_string("/proc/mounts")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                Some((f.nth(1)?, f.next()?))
            })
            .filter(|(mount, _)| dir.starts_with(mount))
            .max_by_key(|(mount, _)| mount.len())
            .is_some_and(|(_, fs)| matches!(fs, "ext4" | "xfs" | "btrfs"))
    }
}
