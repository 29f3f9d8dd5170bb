//! Turning the paths a user gives into named byte streams.
//!
//! A path is a file, a directory (walked recursively in sorted order, so runs are
//! deterministic), or `-` for standard input. Inside a directory only regular files are read:
//! a FIFO, socket or device found there is reported and skipped (opening a FIFO blocks until
//! something writes to it); named on the command line, it is read.
//!
//! Compression and archives are recognized by their first bytes, never by file name: gzip
//! (`1f 8b`, multi-member files included) is decompressed on the fly; a zip archive
//! (`PK\x03\x04`) yields one stream per member, named `archive.zip!member/path.json`, and gzip
//! members inside it are decompressed too.
//!
//! Nothing is skipped silently: an entry that cannot be listed, opened or decompressed comes
//! back as a [`SourceError`] with its name, and the other inputs are still read.
//!
//! Decompression is bounded ([`ExpansionLimit`]): once a gzip file, or a zip archive's
//! members together, have produced more than [`ExpansionLimit::floor`] bytes and more than
//! [`ExpansionLimit::ratio`] times the bytes read from storage, reading stops with an error
//! (a decompression bomb turns kilobytes into gigabytes; the simulator's exports compress 9
//! to 14 times with gzip). Decompressed by hand first, the same content is read whole.

use std::cell::Cell;
use std::collections::HashSet;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use serde::Serialize;

/// Bytes between two progress reports.
const PROGRESS_STEP: u64 = 1024 * 1024;

/// A progress report: how many input bytes (as stored, i.e. compressed) were read so far.
#[derive(Clone, Debug)]
pub struct Progress {
    /// Bytes read so far over the whole run.
    pub bytes_read: u64,
    /// Sum of the sizes of every input file, when known (not for standard input).
    pub total_bytes: Option<u64>,
    /// The input being read.
    pub file: Arc<str>,
}

/// A progress callback; called at most about once per MiB read, so it may draw directly.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// How far decompression may expand one input before reading it stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpansionLimit {
    /// Most bytes produced per byte read from storage...
    pub ratio: u64,
    /// ...once more than this many bytes were produced (small inputs expand freely).
    pub floor: u64,
}

impl Default for ExpansionLimit {
    fn default() -> Self {
        ExpansionLimit {
            ratio: 100,
            floor: 64 * 1024 * 1024,
        }
    }
}

/// Bytes read from storage and bytes decompressed from them, for one located input (a gzip
/// file, or every member of a zip archive together).
struct Budget {
    limit: ExpansionLimit,
    stored: Cell<u64>,
    produced: Cell<u64>,
}

impl Budget {
    fn new(limit: ExpansionLimit) -> Rc<Budget> {
        Rc::new(Budget {
            limit,
            stored: Cell::new(0),
            produced: Cell::new(0),
        })
    }

    fn exceeded(&self) -> bool {
        let produced = self.produced.get();
        produced > self.limit.floor && produced > self.stored.get().saturating_mul(self.limit.ratio)
    }

    fn error(&self) -> io::Error {
        io::Error::other(format!(
            "decompressed to {} bytes from {} stored, more than {} times as many: a decompression \
             bomb? Reading stopped; decompress it yourself to read it whole",
            self.produced.get(),
            self.stored.get(),
            self.limit.ratio
        ))
    }
}

/// Decompressed bytes, counted against the input's [`Budget`].
struct Bounded<R> {
    inner: R,
    budget: Rc<Budget>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.budget.exceeded() {
            return Err(self.budget.error());
        }
        let n = self.inner.read(buf)?;
        self.budget
            .produced
            .set(self.budget.produced.get() + n as u64);
        Ok(n)
    }
}

/// How a stream was stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compression {
    /// Plain bytes.
    None,
    /// gzip (one or more members).
    Gzip,
}

/// Why an input could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The path does not exist.
    #[error("no such file or directory")]
    NotFound,
    /// Listing, opening or reading failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The zip archive or one of its members cannot be read.
    #[error("zip archive: {0}")]
    Zip(String),
    /// A zip archive inside a zip archive (not read: its members would need the whole inner
    /// archive in memory).
    #[error("a zip archive inside a zip archive is not read; extract it first")]
    NestedZip,
    /// A zip archive on standard input (reading a zip needs to seek).
    #[error("a zip archive on standard input is not read; pass it as a file")]
    ZipOnStdin,
    /// A directory reached again through a symbolic link.
    #[error("directory already walked (symbolic link loop)")]
    Loop,
    /// A zip archive whose members decompressed beyond the [`ExpansionLimit`]: the rest of
    /// its members are not read.
    #[error("{0}; {1} more member(s) not read")]
    ArchiveBomb(String, usize),
    /// A FIFO, socket or device found while walking a directory: not opened.
    #[error("not a regular file ({0}) found in a directory: skipped (name it on the command line to read it)")]
    NotRegular(&'static str),
}

/// Where an input's bytes come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A file, with its size.
    File {
        /// Path to open.
        path: PathBuf,
        /// Size in bytes when listed.
        size: u64,
    },
    /// Standard input.
    Stdin,
}

/// One input found by [`locate`]: a file or stdin, or the reason it cannot be used.
#[derive(Debug)]
pub struct Located {
    /// Display name: the path as given (joined with directory entries), or `-`.
    pub name: Arc<str>,
    /// What to open.
    pub origin: Result<Origin, SourceError>,
}

/// Expand the user's paths into inputs: directories are walked recursively, entries sorted by
/// name. The list is cheap (no file is opened) so its total size can drive a progress bar.
pub fn locate<P: AsRef<Path>>(paths: &[P]) -> Vec<Located> {
    let mut out = Vec::new();
    let mut seen_dirs = HashSet::new();
    for path in paths {
        let path = path.as_ref();
        if path == Path::new("-") {
            out.push(Located {
                name: Arc::from("-"),
                origin: Ok(Origin::Stdin),
            });
            continue;
        }
        locate_path(path, true, &mut seen_dirs, &mut out);
    }
    out
}

/// What kind of special file `meta` describes.
fn special_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    let _ = meta;
    "a special file"
}

fn display(path: &Path) -> Arc<str> {
    Arc::from(path.to_string_lossy().as_ref())
}

/// Locate `path`: `named` when the user gave it, false for an entry found in a directory.
fn locate_path(path: &Path, named: bool, seen_dirs: &mut HashSet<PathBuf>, out: &mut Vec<Located>) {
    let name = display(path);
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // A dangling symbolic link is reported like a missing file.
            out.push(Located {
                name,
                origin: Err(SourceError::NotFound),
            });
            return;
        }
        Err(e) => {
            out.push(Located {
                name,
                origin: Err(SourceError::Io(e)),
            });
            return;
        }
    };
    if !meta.is_dir() && !meta.is_file() && !named {
        out.push(Located {
            name,
            origin: Err(SourceError::NotRegular(special_kind(&meta))),
        });
        return;
    }
    if !meta.is_dir() {
        out.push(Located {
            name,
            origin: Ok(Origin::File {
                path: path.to_path_buf(),
                size: meta.len(),
            }),
        });
        return;
    }
    // Symbolic links may lead back up the tree: each real directory is walked once.
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if !seen_dirs.insert(canonical) {
        out.push(Located {
            name,
            origin: Err(SourceError::Loop),
        });
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) => {
            out.push(Located {
                name,
                origin: Err(SourceError::Io(e)),
            });
            return;
        }
    };
    let mut children = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => children.push(entry.path()),
            Err(e) => out.push(Located {
                name: name.clone(),
                origin: Err(SourceError::Io(e)),
            }),
        }
    }
    children.sort();
    for child in children {
        locate_path(&child, false, seen_dirs, out);
    }
}

/// Counts bytes read for progress reports; shared by every input of a run.
pub struct Meter {
    callback: Option<ProgressFn>,
    total_bytes: Option<u64>,
    read: Cell<u64>,
    reported: Cell<u64>,
}

impl Meter {
    /// A meter reporting to `callback` (if any), out of `total_bytes` when known.
    pub fn new(callback: Option<ProgressFn>, total_bytes: Option<u64>) -> Self {
        Meter {
            callback,
            total_bytes,
            read: Cell::new(0),
            reported: Cell::new(0),
        }
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.read.get()
    }

    fn add(&self, n: usize, file: &Arc<str>) {
        let read = self.read.get() + n as u64;
        self.read.set(read);
        if read >= self.reported.get() + PROGRESS_STEP {
            self.report(file);
        }
    }

    /// Report the current count now (e.g. when a file is done).
    pub fn report(&self, file: &Arc<str>) {
        self.reported.set(self.read.get());
        if let Some(callback) = &self.callback {
            callback(Progress {
                bytes_read: self.read.get(),
                total_bytes: self.total_bytes,
                file: file.clone(),
            });
        }
    }
}

/// A reader that counts what passes through it into a [`Meter`] and the input's [`Budget`].
struct Counting<'m, R> {
    inner: R,
    meter: &'m Meter,
    name: Arc<str>,
    budget: Rc<Budget>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.meter.add(n, &self.name);
        self.budget.stored.set(self.budget.stored.get() + n as u64);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<'_, R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// One named stream, decompressed.
pub struct Input<'a> {
    /// Display name for reports (`SourceRef.file`).
    pub name: Arc<str>,
    /// How it was stored.
    pub compression: Compression,
    /// Its bytes.
    pub reader: &'a mut dyn Read,
}

/// What [`open`] hands out: a stream to read, or a member that cannot be read.
pub enum Opened<'a> {
    /// A stream.
    Input(Input<'a>),
    /// An input (or archive member) that cannot be read.
    Failed {
        /// Its display name.
        name: Arc<str>,
        /// Why.
        error: SourceError,
    },
}

/// Read up to `N` bytes from the start of a stream (fewer at its end).
fn read_head<const N: usize>(reader: &mut dyn Read) -> io::Result<([u8; N], usize)> {
    let mut head = [0u8; N];
    let mut got = 0;
    while got < N {
        let Some(rest) = head.get_mut(got..) else {
            break;
        };
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((head, got))
}

fn is_gzip(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
}

fn is_zip(head: &[u8]) -> bool {
    // A local file header, or the end-of-central-directory record of an empty archive.
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// Open one located input and hand its stream(s) to `visit`: one for a plain or gzip file,
/// one per member for a zip archive. Decompression stops at `limit`.
pub fn open(
    located: Located,
    meter: &Meter,
    limit: ExpansionLimit,
    visit: &mut dyn FnMut(Opened<'_>),
) {
    let name = located.name;
    let origin = match located.origin {
        Ok(origin) => origin,
        Err(error) => {
            visit(Opened::Failed { name, error });
            return;
        }
    };
    let budget = Budget::new(limit);
    let result = match origin {
        Origin::Stdin => open_stdin(&name, meter, budget, visit),
        Origin::File { path, .. } => open_file(&path, &name, meter, budget, visit),
    };
    if let Err(error) = result {
        visit(Opened::Failed { name, error });
    }
}

fn open_stdin(
    name: &Arc<str>,
    meter: &Meter,
    budget: Rc<Budget>,
    visit: &mut dyn FnMut(Opened<'_>),
) -> Result<(), SourceError> {
    let stdin = io::stdin();
    let mut counted = Counting {
        inner: stdin.lock(),
        meter,
        name: name.clone(),
        budget: budget.clone(),
    };
    let (head, got) = read_head::<4>(&mut counted)?;
    let head = head.get(..got).unwrap_or_default();
    if is_zip(head) {
        return Err(SourceError::ZipOnStdin);
    }
    let mut chained = head.chain(counted);
    stream(name.clone(), head, &mut chained, &budget, visit);
    Ok(())
}

fn open_file(
    path: &Path,
    name: &Arc<str>,
    meter: &Meter,
    budget: Rc<Budget>,
    visit: &mut dyn FnMut(Opened<'_>),
) -> Result<(), SourceError> {
    // Read once from start to end: around the page cache when it does not hold the file.
    let file = tokentrail_directio::InputFile::open(path)?;
    let mut counted = Counting {
        inner: file,
        meter,
        name: name.clone(),
        budget: budget.clone(),
    };
    let (head, got) = read_head::<4>(&mut counted)?;
    let head = head.get(..got).unwrap_or_default();
    if is_zip(head) {
        counted.seek(SeekFrom::Start(0))?;
        return open_zip(counted, name, &budget, visit);
    }
    let mut chained = head.chain(counted);
    stream(name.clone(), head, &mut chained, &budget, visit);
    Ok(())
}

/// Hand out one stream whose first bytes are `head` (already part of `reader`); a gzip
/// stream is decompressed within `budget`.
fn stream(
    name: Arc<str>,
    head: &[u8],
    reader: &mut dyn Read,
    budget: &Rc<Budget>,
    visit: &mut dyn FnMut(Opened<'_>),
) {
    if is_gzip(head) {
        let mut gz = Bounded {
            inner: MultiGzDecoder::new(io::BufReader::new(reader)),
            budget: budget.clone(),
        };
        visit(Opened::Input(Input {
            name,
            compression: Compression::Gzip,
            reader: &mut gz,
        }));
    } else {
        visit(Opened::Input(Input {
            name,
            compression: Compression::None,
            reader,
        }));
    }
}

fn open_zip<R: Read + Seek>(
    reader: R,
    name: &Arc<str>,
    budget: &Rc<Budget>,
    visit: &mut dyn FnMut(Opened<'_>),
) -> Result<(), SourceError> {
    let mut archive = zip::ZipArchive::new(reader).map_err(|e| SourceError::Zip(e.to_string()))?;
    for index in 0..archive.len() {
        if budget.exceeded() {
            // Members may share compressed bytes (an overlapping-entries bomb): once the
            // archive as a whole is past the limit, the rest is not decompressed.
            return Err(SourceError::ArchiveBomb(
                budget.error().to_string(),
                archive.len() - index,
            ));
        }
        let listed_name = archive
            .name_for_index(index)
            .map_or_else(|| format!("#{index}"), str::to_string);
        let member = match archive.by_index(index) {
            Ok(member) => member,
            Err(e) => {
                let member_name = listed_name;
                visit(Opened::Failed {
                    name: Arc::from(format!("{name}!{member_name}")),
                    error: SourceError::Zip(e.to_string()),
                });
                continue;
            }
        };
        if member.is_dir() {
            continue;
        }
        let member_name: Arc<str> = Arc::from(format!("{name}!{}", member.name()));
        let mut member = Bounded {
            inner: member,
            budget: budget.clone(),
        };
        let (head, got) = match read_head::<4>(&mut member) {
            Ok(head) => head,
            Err(e) => {
                visit(Opened::Failed {
                    name: member_name,
                    error: SourceError::Io(e),
                });
                continue;
            }
        };
        let head = head.get(..got).unwrap_or_default();
        if is_zip(head) {
            visit(Opened::Failed {
                name: member_name,
                error: SourceError::NestedZip,
            });
            continue;
        }
        let mut chained = head.chain(&mut member);
        stream(member_name, head, &mut chained, budget, visit);
    }
    Ok(())
}
