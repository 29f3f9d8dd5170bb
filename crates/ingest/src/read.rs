//! Reading many paths: every input is located ([`crate::source`]), framed ([`crate::frame`])
//! and decoded ([`crate::decode_all()`]) in one streaming pass; each decoded record goes to the
//! caller's sink as soon as it is read, and an [`IngestReport`] counts everything.
//!
//! # What is reported, and what it means for the exit code
//!
//! Nothing is dropped silently. Per input file the report lists:
//! - *unreadable records* ([`Unreadable`]): a record that was cut out of its container but could
//!   not be decoded (malformed JSON, a CSV row that does not fit, ...) or could not be cut out
//!   (longer than the record limit, cut off by the end of the input, a CSV quote never closed),
//!   each with its place (`file:line` or `file#index`) and reason. The first
//!   [`MAX_LISTED_UNREADABLE`] per file are listed; all are counted.
//! - *file problems* ([`FileProblem`]): the file as a whole could not be read, or reading it
//!   stopped early (missing path, I/O error, truncated or corrupt gzip with the byte and line
//!   reached, a JSON array or object cut off, an unrecognized format, an empty file, a FIFO or
//!   device found in a directory and skipped). Records
//!   read before the problem are kept and counted.
//!
//! **An empty file** (zero bytes, or only whitespace and a byte-order mark) is a file problem
//! of kind [`ProblemKind::Empty`]: an export that came out empty usually means a failed export,
//! so it is reported as unreadable input rather than ignored. A file holding a container with no
//! records (`[]`, `{"value":[]}`, a CSV header alone) is not empty: it was read, and is clean.
//!
//! [`IngestReport::outcome`] sums this up for exit codes: [`ReadOutcome::Clean`] when there is
//! no unreadable record and no file problem (exit 0), [`ReadOutcome::Partial`] when some input
//! was unreadable but at least one record was read (exit 1), and
//! [`ReadOutcome::NothingReadable`] when there were problems and not one record could be read
//! (exit 2).
//!
//! *Repaired records* are not problems: a record whose user agent or another field that is only
//! displayed held an escape that is not text (a lone surrogate, `\ud800`) is kept with U+FFFD
//! in its place, and counted ([`FileReport::repaired`]) so the run can say so.
//!
//! # Duplicate sign-ins
//!
//! One sign-in can appear as several rows (Azure-Sentinel issue #9463). With
//! [`ReadOptions::drop_duplicate_sign_ins`] (the default), a sign-in whose `id` was already seen
//! in the run for the same [`SignInKind`] is counted as a duplicate and not passed to the sink.
//! The kind is part of the key so that a UAL `UserLoggedIn` record, whose `Id` may equal the
//! Entra sign-in's `id`, is kept next to it as separate evidence.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::Serialize;
use tokentrail_model::{Guid, Position, SignInKind, SourceRef, Timestamp};

use crate::decode::{decode_all, DecodeOptions};
use crate::frame::{
    self, Block, Container, FrameError, FrameOptions, Framed, RowFields, Sink,
    DEFAULT_MAX_RECORD_BYTES,
};
use crate::source::{
    self, Compression, ExpansionLimit, Meter, Opened, Origin, ProgressFn, SourceError,
};
use crate::utf16::{TextEncoding, TextReader};
use crate::{CsvLayout, Decoded, DecodedRecord, Disposition, Family, Payload, Shape};

mod parallel;

use parallel::{Outcome, Pipeline, Pool};

pub use crate::source::Progress;

/// Unreadable records listed per file; more are counted but not listed.
pub const MAX_LISTED_UNREADABLE: usize = 1000;

/// Options for [`read_paths`].
#[derive(Clone)]
pub struct ReadOptions {
    /// How records are decoded (also: `unwrap_test_cases` makes the framer read Panther YAML).
    pub decode: DecodeOptions,
    /// Longest record kept; longer ones are reported as unreadable.
    pub max_record_bytes: usize,
    /// Drop sign-ins whose `id` was already seen (for the same kind); see the module docs.
    pub drop_duplicate_sign_ins: bool,
    /// Called with the bytes read so far, at most about once per MiB and once per file.
    pub progress: Option<ProgressFn>,
    /// Threads that decode records while the calling thread reads and frames them; 0 decodes
    /// on the calling thread. The sink sees the same records in the same order either way.
    /// Default: one per core.
    pub decode_threads: usize,
    /// How far a gzip file or zip archive may decompress before reading it stops.
    pub expansion: ExpansionLimit,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            decode: DecodeOptions::default(),
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            drop_duplicate_sign_ins: true,
            progress: None,
            decode_threads: std::thread::available_parallelism().map_or(1, usize::from),
            expansion: ExpansionLimit::default(),
        }
    }
}

impl std::fmt::Debug for ReadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadOptions")
            .field("decode", &self.decode)
            .field("max_record_bytes", &self.max_record_bytes)
            .field("drop_duplicate_sign_ins", &self.drop_duplicate_sign_ins)
            .field("progress", &self.progress.is_some())
            .field("decode_threads", &self.decode_threads)
            .field("expansion", &self.expansion)
            .finish()
    }
}

/// One record that could not be read, and where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unreadable {
    /// File and line or index.
    pub source: SourceRef,
    /// Why.
    pub reason: String,
}

/// What kind of file-level problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// The path does not exist.
    NotFound,
    /// Listing, opening or reading failed.
    Io,
    /// A zip archive or member cannot be read.
    Archive,
    /// The input ends early: a truncated gzip, or a JSON array or object cut off.
    Truncated,
    /// The JSON container is malformed; reading stopped there.
    Malformed,
    /// Content after the end of the top-level JSON value was ignored.
    TrailingContent,
    /// The file is empty.
    Empty,
    /// Not a format tokentrail reads.
    Unrecognized,
    /// A FIFO, socket or device found in a directory, not opened.
    Skipped,
}

/// A problem with a file as a whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileProblem {
    /// What kind.
    pub kind: ProblemKind,
    /// Human-readable detail, with the byte and line reached when known.
    pub message: String,
    /// Line reached, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

/// Records of one family, kind and operation. Operations that differ only by the ids in their
/// request path are counted as one, with each id written `{id}`
/// ([`tokentrail_model::operation_template`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordCount {
    /// The log family.
    pub family: Family,
    /// Sign-in kind, access source, or the other record's kind.
    pub kind: String,
    /// Operation, when the record has one.
    pub operation: Option<String>,
    /// How many.
    pub records: u64,
}

/// Records read but not used, of one disposition and kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotUsed {
    /// Why they are not used.
    pub disposition: Disposition,
    /// What they are (`security-alert`, `defender:IdentityLogonEvents`, `unknown`, ...).
    pub kind: String,
    /// How many.
    pub records: u64,
}

/// Add `n` records of `disposition` and `kind` to a sorted tally.
fn tally_not_used(list: &mut Vec<NotUsed>, disposition: Disposition, kind: &str, n: u64) {
    match list.binary_search_by(|u| (u.disposition, u.kind.as_str()).cmp(&(disposition, kind))) {
        Ok(i) => {
            if let Some(u) = list.get_mut(i) {
                u.records += n;
            }
        }
        Err(i) => list.insert(
            i,
            NotUsed {
                disposition,
                kind: kind.to_owned(),
                records: n,
            },
        ),
    }
}

/// First and last record time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TimeRange {
    /// Earliest record time.
    pub first: Timestamp,
    /// Latest record time.
    pub last: Timestamp,
}

impl TimeRange {
    fn widen(range: &mut Option<TimeRange>, t: Timestamp) {
        match range {
            Some(r) => {
                r.first = r.first.min(t);
                r.last = r.last.max(t);
            }
            None => {
                *range = Some(TimeRange { first: t, last: t });
            }
        }
    }

    fn merge(range: &mut Option<TimeRange>, other: Option<TimeRange>) {
        if let Some(o) = other {
            TimeRange::widen(range, o.first);
            TimeRange::widen(range, o.last);
        }
    }
}

/// What was read from one input (a file, an archive member, or stdin).
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    /// Display name (`path`, `archive.zip!member`, `-`).
    pub file: Arc<str>,
    /// How the stream was stored, when it could be opened.
    pub compression: Option<Compression>,
    /// The text encoding it was read from, when not UTF-8 (it was transcoded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<TextEncoding>,
    /// Container recognized; `None` when the input could not be opened.
    pub container: Option<Container>,
    /// Records cut out of the container, readable or not.
    pub records: u64,
    /// Records passed on (decoded, minus duplicates); the counts below are over these.
    pub events: u64,
    /// Records per family, kind and operation, sorted.
    pub counts: Vec<RecordCount>,
    /// Records per recognized shape.
    pub shapes: BTreeMap<Shape, u64>,
    /// Range of record times.
    pub time_range: Option<TimeRange>,
    /// Sign-ins dropped as duplicates of one already read.
    pub duplicates: u64,
    /// Records kept although a field only displayed (user agent, names) held text that is
    /// not valid Unicode (a lone surrogate escape), replaced with U+FFFD.
    pub repaired: u64,
    /// Records read but not used (neither a sign-in nor an access), by disposition and
    /// kind, sorted.
    pub not_used: Vec<NotUsed>,
    /// Sign-ins whose export does not say whether they were interactive (the Entra admin
    /// center's CSV), read as non-interactive.
    pub kind_unstated: u64,
    /// Records that could not be read.
    pub unreadable: u64,
    /// The first [`MAX_LISTED_UNREADABLE`] of them.
    pub unreadable_records: Vec<Unreadable>,
    /// File-level problems.
    pub problems: Vec<FileProblem>,
}

impl FileReport {
    fn new(file: Arc<str>, compression: Option<Compression>) -> Self {
        FileReport {
            file,
            compression,
            encoding: None,
            container: None,
            records: 0,
            events: 0,
            counts: Vec::new(),
            shapes: BTreeMap::new(),
            time_range: None,
            duplicates: 0,
            repaired: 0,
            not_used: Vec::new(),
            kind_unstated: 0,
            unreadable: 0,
            unreadable_records: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// True when every record was read and the file had no problem.
    pub fn is_clean(&self) -> bool {
        self.unreadable == 0 && self.problems.is_empty()
    }

    fn add_unreadable(&mut self, position: Position, reason: String) {
        self.unreadable += 1;
        if self.unreadable_records.len() < MAX_LISTED_UNREADABLE {
            self.unreadable_records.push(Unreadable {
                source: SourceRef {
                    file: self.file.clone(),
                    position,
                },
                reason,
            });
        }
    }
}

/// Run-level totals.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Totals {
    /// Inputs (files, archive members, stdin), including those that could not be read.
    pub files: u64,
    /// Inputs with an unreadable record or a problem.
    pub files_with_problems: u64,
    /// Records cut out of their containers.
    pub records: u64,
    /// Records passed on.
    pub events: u64,
    /// Records passed on, per family.
    pub families: BTreeMap<Family, u64>,
    /// Duplicate sign-ins dropped.
    pub duplicates: u64,
    /// Records kept with repaired text in a field only displayed.
    pub repaired: u64,
    /// Records read but not used, by disposition and kind, sorted.
    pub not_used: Vec<NotUsed>,
    /// Sign-ins whose kind the export does not state.
    pub kind_unstated: u64,
    /// Unreadable records.
    pub unreadable: u64,
    /// File-level problems.
    pub problems: u64,
    /// Range of record times over every file.
    pub time_range: Option<TimeRange>,
}

/// Everything a run read, per file and in total.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IngestReport {
    /// One report per input, in the order read.
    pub files: Vec<FileReport>,
    /// Sums over the files.
    pub totals: Totals,
}

/// How a run went, for exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// Every input was read.
    Clean,
    /// Some input was unreadable, but at least one record was read.
    Partial,
    /// Some input was unreadable and no record at all was read.
    NothingReadable,
}

impl IngestReport {
    /// Sign-ins and accesses read (duplicates included): the records the rules can use.
    pub fn usable(&self) -> u64 {
        let t = &self.totals;
        let used: u64 = t
            .families
            .iter()
            .filter(|(f, _)| **f != Family::Other)
            .map(|(_, n)| n)
            .sum();
        used + t.duplicates
    }

    /// When no sign-in and no access was read: what was found instead, in one sentence for
    /// a responder (`None` when there is something to judge).
    pub fn nothing_usable(&self) -> Option<String> {
        if self.usable() > 0 {
            return None;
        }
        let t = &self.totals;
        if t.files == 0 {
            return Some("no input files were found in the paths given".to_owned());
        }
        let mut found = Vec::new();
        for d in [
            Disposition::NotRelevant,
            Disposition::NotSupported,
            Disposition::NotUnderstood,
        ] {
            let kinds: Vec<String> = t
                .not_used
                .iter()
                .filter(|u| u.disposition == d)
                .map(|u| format!("{} {}", u.records, u.kind))
                .collect();
            if kinds.is_empty() {
                continue;
            }
            found.push(match d {
                Disposition::NotRelevant => format!("{} (not relevant)", kinds.join(", ")),
                Disposition::NotSupported => {
                    format!("{} (recognized, not supported)", kinds.join(", "))
                }
                Disposition::NotUnderstood => {
                    let n: u64 = t
                        .not_used
                        .iter()
                        .filter(|u| u.disposition == d)
                        .map(|u| u.records)
                        .sum();
                    format!("{n} record(s) not understood")
                }
            });
        }
        if t.unreadable > 0 {
            found.push(format!("{} unreadable record(s)", t.unreadable));
        }
        let problems = t.problems;
        if problems > 0 {
            found.push(format!("{problems} file(s) that could not be read"));
        }
        let found = if found.is_empty() {
            "no records at all".to_owned()
        } else {
            found.join("; ")
        };
        Some(format!(
            "no sign-in and no access record in {} input(s): nothing to judge, and no finding \
             means nothing here. Found instead: {found}",
            t.files
        ))
    }

    /// Sum up the run; see the module docs for the meaning of each outcome.
    pub fn outcome(&self) -> ReadOutcome {
        let t = &self.totals;
        if t.unreadable == 0 && t.problems == 0 {
            ReadOutcome::Clean
        } else if t.events + t.duplicates > 0 {
            ReadOutcome::Partial
        } else {
            ReadOutcome::NothingReadable
        }
    }
}

/// Per-file counting keyed so that the hot path looks up borrowed strings and allocates only
/// for a new key: family, then kind, then operation.
#[derive(Default)]
struct Counter {
    by_family: HashMap<Family, HashMap<String, OperationCounts>>,
}

#[derive(Default)]
struct OperationCounts {
    without_operation: u64,
    by_operation: HashMap<String, u64>,
}

impl Counter {
    fn add(&mut self, family: Family, kind: &str, operation: Option<&str>) {
        let kinds = self.by_family.entry(family).or_default();
        let ops = match kinds.get_mut(kind) {
            Some(ops) => ops,
            None => kinds.entry(kind.to_string()).or_default(),
        };
        match operation {
            None => ops.without_operation += 1,
            Some(op) => match ops.by_operation.get_mut(op) {
                Some(count) => *count += 1,
                None => {
                    ops.by_operation.insert(op.to_string(), 1);
                }
            },
        }
    }

    fn into_counts(self) -> Vec<RecordCount> {
        let mut out = Vec::new();
        for (family, kinds) in self.by_family {
            for (kind, ops) in kinds {
                if ops.without_operation > 0 {
                    out.push(RecordCount {
                        family,
                        kind: kind.clone(),
                        operation: None,
                        records: ops.without_operation,
                    });
                }
                // Requests that differ only by an id are one kind of request (`{id}`); done
                // once per distinct operation, not per record.
                let mut templates: BTreeMap<String, u64> = BTreeMap::new();
                for (operation, records) in ops.by_operation {
                    let template = match tokentrail_model::operation_template(&operation) {
                        std::borrow::Cow::Borrowed(_) => operation,
                        std::borrow::Cow::Owned(t) => t,
                    };
                    *templates.entry(template).or_default() += records;
                }
                for (operation, records) in templates {
                    out.push(RecordCount {
                        family,
                        kind: kind.clone(),
                        operation: Some(operation),
                        records,
                    });
                }
            }
        }
        out.sort_by(|a, b| {
            (a.family, &a.kind, &a.operation).cmp(&(b.family, &b.kind, &b.operation))
        });
        out
    }
}

/// The state shared by every file of one run.
struct Run<'o, 's> {
    opts: &'o ReadOptions,
    frame_opts: FrameOptions,
    seen_sign_ins: HashSet<(SignInKind, Guid)>,
    sink: &'s mut dyn FnMut(DecodedRecord),
}

impl Run<'_, '_> {
    fn read_input(&mut self, input: source::Input<'_>, pool: Option<&Pool>) -> FileReport {
        let mut report = FileReport::new(input.name.clone(), Some(input.compression));
        let mut counter = Counter::default();
        let name = input.name;
        let frame_opts = self.frame_opts.clone();
        let opts: &ReadOptions = self.opts;
        let mut text = TextReader::new(input.reader);
        let framing = match pool {
            None => frame::frame(&mut text, &frame_opts, &mut |item| match item {
                Framed::Record { position, payload } => {
                    let source = SourceRef {
                        file: name.clone(),
                        position,
                    };
                    decode_all(payload, source, &opts.decode, &mut |result| {
                        report.records += 1;
                        match result {
                            Ok(record) => self.accept(record, &mut report, &mut counter),
                            Err(e) => report.add_unreadable(position, e.to_string()),
                        }
                    });
                }
                Framed::Unreadable { position, reason } => {
                    report.records += 1;
                    report.add_unreadable(position, reason);
                }
            }),
            Some(pool) => {
                let mut pipeline = Pipeline::new(pool, name.clone());
                let mut apply = |outcome: Outcome| {
                    report.records += 1;
                    match outcome {
                        Outcome::Record(record) => self.accept(record, &mut report, &mut counter),
                        Outcome::Unreadable { position, reason } => {
                            report.add_unreadable(position, reason)
                        }
                    }
                };
                let mut sink = Batching {
                    pipeline: &mut pipeline,
                    apply: &mut apply,
                    file: &name,
                    decode: &opts.decode,
                };
                let recycler = Some(pool.recycler());
                let framing = frame::frame_into(&mut text, &frame_opts, &mut sink, recycler);
                pipeline.finish(&mut apply);
                framing
            }
        };
        report.container = Some(framing.container);
        report.encoding = text.encoding();
        if let Some(error) = framing.error {
            report
                .problems
                .push(problem_from_frame(error, input.compression));
        }
        report.counts = counter.into_counts();
        report
    }

    fn accept(&mut self, record: DecodedRecord, report: &mut FileReport, counter: &mut Counter) {
        let family = record.family();
        let (kind, operation, time) = match &record.event {
            Decoded::SignIn(s) => {
                if self.opts.drop_duplicate_sign_ins {
                    // A placeholder id (anonymized exports) names no sign-in: never a duplicate.
                    if let Some(id) = s.id.filter(|g| !g.is_placeholder()) {
                        if !self.seen_sign_ins.insert((s.kind, id)) {
                            report.duplicates += 1;
                            return;
                        }
                    }
                }
                (s.kind.as_str(), None, Some(s.time))
            }
            Decoded::Access(a) => (a.log.as_str(), Some(a.operation.as_str()), Some(a.time)),
            Decoded::Other(o) => {
                tally_not_used(&mut report.not_used, o.disposition, &o.kind, 1);
                (o.kind.as_str(), o.operation.as_deref(), o.time)
            }
        };
        if record.kind_unstated {
            report.kind_unstated += 1;
        }
        counter.add(family, kind, operation);
        if record.repaired > 0 {
            report.repaired += 1;
        }
        *report.shapes.entry(record.shape).or_default() += 1;
        if let Some(t) = time {
            TimeRange::widen(&mut report.time_range, t);
        }
        report.events += 1;
        (self.sink)(record);
    }
}

/// The framer's output going into a [`Pipeline`].
struct Batching<'a, 'p> {
    pipeline: &'a mut Pipeline<'p>,
    apply: &'a mut dyn FnMut(Outcome),
    file: &'a Arc<str>,
    decode: &'a DecodeOptions,
}

impl Sink for Batching<'_, '_> {
    fn item(&mut self, item: Framed<'_>) {
        match item {
            Framed::Record {
                position,
                payload: Payload::Json(bytes),
            } => self.pipeline.json(position, bytes, self.apply),
            // The framer hands CSV rows to `csv`; a row handed here instead is decoded here.
            Framed::Record { position, payload } => {
                let source = SourceRef {
                    file: self.file.clone(),
                    position,
                };
                let mut results = Vec::with_capacity(1);
                decode_all(payload, source, self.decode, &mut |r| results.push(r));
                self.pipeline.decoded(position, results, self.apply);
            }
            Framed::Unreadable { position, reason } => self.pipeline.unreadable(position, reason),
        }
    }

    fn shared(&mut self, position: Position, block: &Block, range: std::ops::Range<usize>) {
        self.pipeline.shared(position, block, range, self.apply);
    }

    fn csv(
        &mut self,
        position: Position,
        layout: &Arc<CsvLayout>,
        block: &Block,
        range: std::ops::Range<usize>,
        _fields: &mut RowFields,
    ) {
        self.pipeline
            .csv(position, layout, block, range, self.apply);
    }
}

fn problem_from_frame(error: FrameError, compression: Compression) -> FileProblem {
    let (kind, line) = match &error {
        FrameError::Io { source, line, .. } => {
            let kind = if source.kind() == std::io::ErrorKind::UnexpectedEof {
                ProblemKind::Truncated
            } else {
                ProblemKind::Io
            };
            (kind, Some(*line))
        }
        FrameError::Truncated { line, .. } => (ProblemKind::Truncated, Some(*line)),
        FrameError::PartialAnswer(_) => (ProblemKind::Truncated, None),
        FrameError::Syntax { line, .. } => (ProblemKind::Malformed, Some(*line)),
        FrameError::TrailingContent { line, .. } => (ProblemKind::TrailingContent, Some(*line)),
        FrameError::Empty => (ProblemKind::Empty, None),
        FrameError::Unrecognized(_) | FrameError::Yaml(_) => (ProblemKind::Unrecognized, None),
    };
    let message = match (&error, compression) {
        (FrameError::Io { .. }, Compression::Gzip) => format!("gzip stream: {error}"),
        _ => error.to_string(),
    };
    FileProblem {
        kind,
        message,
        line,
    }
}

fn problem_from_source(error: &SourceError) -> FileProblem {
    let kind = match error {
        SourceError::NotFound => ProblemKind::NotFound,
        SourceError::Io(_) | SourceError::Loop => ProblemKind::Io,
        SourceError::Zip(_)
        | SourceError::NestedZip
        | SourceError::ZipOnStdin
        | SourceError::ArchiveBomb(..) => ProblemKind::Archive,
        SourceError::NotRegular(_) => ProblemKind::Skipped,
    };
    FileProblem {
        kind,
        message: error.to_string(),
        line: None,
    }
}

/// Read every path and hand each decoded record to `sink`, in input order.
///
/// Paths may be files, directories (walked recursively, sorted), gzip files, zip archives, or
/// `-` for standard input. Never fails as a whole: every problem is in the returned report.
pub fn read_paths<P: AsRef<Path>>(
    paths: &[P],
    opts: &ReadOptions,
    sink: &mut dyn FnMut(DecodedRecord),
) -> IngestReport {
    read_located(source::locate(paths), opts, sink)
}

/// [`read_paths`] over inputs already found by [`source::locate`]: a caller that reads its
/// inputs on several threads hands each its share and joins the reports with
/// [`IngestReport::from_files`].
pub fn read_located(
    located: Vec<source::Located>,
    opts: &ReadOptions,
    sink: &mut dyn FnMut(DecodedRecord),
) -> IngestReport {
    let mut total_bytes = Some(0u64);
    for entry in &located {
        match &entry.origin {
            Ok(Origin::File { size, .. }) => total_bytes = total_bytes.map(|t| t + size),
            Ok(Origin::Stdin) => total_bytes = None,
            Err(_) => {}
        }
    }
    let meter = Meter::new(opts.progress.clone(), total_bytes);
    let mut run = Run {
        opts,
        frame_opts: FrameOptions {
            max_record_bytes: opts.max_record_bytes,
            yaml_test_cases: opts.decode.unwrap_test_cases,
        },
        seen_sign_ins: HashSet::default(),
        sink,
    };
    let mut files = Vec::new();
    std::thread::scope(|scope| {
        let pool = (opts.decode_threads > 0)
            .then(|| Pool::start(scope, opts.decode_threads, &opts.decode));
        for entry in located {
            let name = entry.name.clone();
            source::open(entry, &meter, opts.expansion, &mut |opened| match opened {
                Opened::Input(input) => files.push(run.read_input(input, pool.as_ref())),
                Opened::Failed { name, error } => {
                    let mut report = FileReport::new(name, None);
                    report.problems.push(problem_from_source(&error));
                    files.push(report);
                }
            });
            meter.report(&name);
        }
        // Dropping the pool closes the job queue, which ends the decoding threads.
        drop(pool);
    });
    IngestReport::from_files(files)
}

impl IngestReport {
    /// The report of these files, in this order, with their totals.
    pub fn from_files(files: Vec<FileReport>) -> IngestReport {
        let mut totals = Totals::default();
        for f in &files {
            totals.files += 1;
            if !f.is_clean() {
                totals.files_with_problems += 1;
            }
            totals.records += f.records;
            totals.events += f.events;
            totals.duplicates += f.duplicates;
            totals.repaired += f.repaired;
            totals.kind_unstated += f.kind_unstated;
            for u in &f.not_used {
                tally_not_used(&mut totals.not_used, u.disposition, &u.kind, u.records);
            }
            totals.unreadable += f.unreadable;
            totals.problems += f.problems.len() as u64;
            for c in &f.counts {
                *totals.families.entry(c.family).or_default() += c.records;
            }
            TimeRange::merge(&mut totals.time_range, f.time_range);
        }
        IngestReport { files, totals }
    }
}
