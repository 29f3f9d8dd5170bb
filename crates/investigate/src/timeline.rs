//! The timeline: one entry per record, each marked with the findings that cite it, for an
//! investigation's records or for the whole tenant.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokentrail_engine::compact::{Reader, Writer};
use tokentrail_engine::spill_file::{Records, SpillFile};
use tokentrail_engine::Detection;
use tokentrail_model::{
    Access, Finding, NetworkId, SessionId, SignIn, SourceRef, Timestamp, TokenId,
};

use crate::chain::Record;
use crate::context::Context;
use crate::{RecordCounts, TimelineEntry};

/// What a finding points at, to mark the records it cites.
pub(crate) struct FindingMarks<'a> {
    pub(crate) finding: &'a Finding,
    sources: BTreeSet<&'a SourceRef>,
}

impl FindingMarks<'_> {
    /// Cited by source, by token, or by session on the finding's network: a session finding is
    /// about the foreign use, not the user's own records in the same session.
    fn cites(
        &self,
        record: &Record<'_>,
        token: Option<&TokenId>,
        network: Option<NetworkId>,
    ) -> bool {
        let f = self.finding;
        self.sources.contains(record.source())
            || (f.token_id.is_some() && f.token_id.as_ref() == token)
            || (f.session_id.is_some()
                && f.session_id.as_ref() == record.session()
                && (f.network.is_none() || f.network == network))
    }
}

/// The findings, indexed by what they cite, so marking a record looks at its candidates only.
pub(crate) struct Marks<'a> {
    pub(crate) marks: Vec<FindingMarks<'a>>,
    by_source: HashMap<&'a SourceRef, Vec<usize>>,
    by_token: HashMap<&'a TokenId, Vec<usize>>,
    by_session: HashMap<&'a SessionId, Vec<usize>>,
}

impl<'a> Marks<'a> {
    pub(crate) fn new(findings: &'a [Finding]) -> Marks<'a> {
        let mut m = Marks {
            marks: Vec::with_capacity(findings.len()),
            by_source: HashMap::new(),
            by_token: HashMap::new(),
            by_session: HashMap::new(),
        };
        for (i, f) in findings.iter().enumerate() {
            let sources: BTreeSet<&SourceRef> = f
                .issue
                .iter()
                .map(|i| &i.source)
                .chain(
                    f.accesses
                        .iter()
                        .flat_map(|e| e.samples.iter().map(|s| &s.source)),
                )
                .collect();
            for s in &sources {
                m.by_source.entry(*s).or_default().push(i);
            }
            if let Some(t) = &f.token_id {
                m.by_token.entry(t).or_default().push(i);
            }
            if let Some(s) = &f.session_id {
                m.by_session.entry(s).or_default().push(i);
            }
            m.marks.push(FindingMarks {
                finding: f,
                sources,
            });
        }
        m
    }

    /// Indices of the findings citing `record`, ascending.
    pub(crate) fn citing(
        &self,
        record: &Record<'_>,
        token: Option<&TokenId>,
        network: Option<NetworkId>,
    ) -> Vec<usize> {
        let mut candidates: Vec<usize> = Vec::new();
        if let Some(v) = self.by_source.get(record.source()) {
            candidates.extend(v);
        }
        if let Some(v) = token.and_then(|t| self.by_token.get(t)) {
            candidates.extend(v);
        }
        if let Some(v) = record.session().and_then(|s| self.by_session.get(s)) {
            candidates.extend(v);
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates.retain(|i| {
            self.marks
                .get(*i)
                .is_some_and(|m| m.cites(record, token, network))
        });
        candidates
    }
}

/// The timeline of some records and what it found on the way.
pub(crate) struct Marked {
    /// One entry per record, in the records' order.
    pub(crate) timeline: Vec<TimelineEntry>,
    pub(crate) counts: RecordCounts,
    /// Indices of the findings citing one of the records.
    pub(crate) cited: BTreeSet<usize>,
}

/// One timeline entry per record (in the order given), each with the findings citing it.
pub(crate) fn mark(records: &[Record<'_>], context: &Context, marks: &Marks<'_>) -> Marked {
    let mut counts = RecordCounts::default();
    let mut cited = BTreeSet::new();
    let timeline = records
        .iter()
        .map(|r| entry(r, context, marks, &mut counts, &mut cited))
        .collect();
    Marked {
        timeline,
        counts,
        cited,
    }
}

/// The timeline entry of one record, counted in `counts`, the findings citing it added to
/// `cited`.
fn entry(
    r: &Record<'_>,
    context: &Context,
    marks: &Marks<'_>,
    counts: &mut RecordCounts,
    cited: &mut BTreeSet<usize>,
) -> TimelineEntry {
    let dir = &context.dir;
    let token = r.token();
    let network = context.networks.of(r.ip());
    let citing = marks.citing(r, token.as_ref(), network);
    let mut ids: Vec<String> = citing
        .iter()
        .filter_map(|i| marks.marks.get(*i))
        .map(|m| m.finding.id.clone())
        .collect();
    cited.extend(citing);
    ids.sort();
    let (record, kind, operation) = match r {
        Record::SignIn(s) => {
            counts.sign_ins += 1;
            let resource = s.resource_name.as_ref().or(s.resource_id.as_ref());
            (
                "sign-in",
                s.kind.as_str().to_string(),
                resource.map_or_else(|| "sign-in".to_string(), |r| format!("sign-in to {r}")),
            )
        }
        Record::Access(a) => {
            counts.accesses += 1;
            ("access", a.log.as_str().to_string(), a.operation.clone())
        }
    };
    TimelineEntry {
        time: r.time(),
        record: record.to_string(),
        kind,
        operation,
        user: r.user(dir),
        ip: r.ip(),
        network,
        app: r.app(dir),
        session_id: r.session().cloned(),
        token_id: token,
        source: r.source().clone(),
        findings: ids,
    }
}

/// How the whole tenant's timeline is put in order: in runs of at most `entries_per_run`
/// entries, each sorted in memory and written to an unnamed temporary file in `dir`, then
/// merged as they are read back. Memory holds one run and a chunk of each run written, however
/// large the tenant. The order does not depend on it.
#[derive(Clone, Debug)]
pub struct TimelineSorting {
    /// Entries sorted in memory at a time (at least 1).
    pub entries_per_run: usize,
    /// Where the runs wait (`None`: the system's temporary directory, `$TMPDIR`).
    pub dir: Option<PathBuf>,
}

/// Entries sorted in memory at a time by default: about 64 MiB of entries (some 500 bytes each
/// with their text).
pub const DEFAULT_ENTRIES_PER_RUN: usize = 1 << 17;

/// What the cursors of all runs read at a time, together: each run's chunk is its share, between
/// [`MIN_CHUNK`] and [`MAX_CHUNK`] bytes.
const READ_BUDGET: usize = 16 << 20;
const MIN_CHUNK: usize = 4 << 10;
const MAX_CHUNK: usize = 256 << 10;

impl Default for TimelineSorting {
    fn default() -> TimelineSorting {
        TimelineSorting {
            entries_per_run: DEFAULT_ENTRIES_PER_RUN,
            dir: None,
        }
    }
}

/// The whole tenant's timeline built record by record, from a reading of the inputs after the
/// one that gave the findings and the context: the entries of [`tenant_timeline`], without
/// holding the records, nor (beyond a run, see [`TimelineSorting`]) the entries.
pub struct TenantTimeline<'a> {
    context: &'a Context,
    marks: Marks<'a>,
    sorting: TimelineSorting,
    /// The entries not yet written, in the order added.
    run: Vec<TimelineEntry>,
    spill: Spill,
    counts: RecordCounts,
    cited: BTreeSet<usize>,
}

/// The runs written so far.
#[derive(Default)]
struct Spill {
    file: Option<SpillFile>,
    /// Each run's stretch of the file, in the order written.
    runs: Vec<(u64, u64)>,
    /// The files records came from: entries name them by index.
    files: Vec<Arc<str>>,
    file_index: HashMap<Arc<str>, u32>,
    /// The temporary file could not be made or written: every entry from then on stays in
    /// memory.
    failed: bool,
    buf: Vec<u8>,
}

impl Spill {
    /// Sort `run` and write it out as one run, leaving it empty; on failure it is left as it
    /// was (sorted: sorting it again with more entries gives the same order).
    fn write(&mut self, run: &mut Vec<TimelineEntry>, dir: Option<&Path>) -> io::Result<()> {
        sort(run);
        if self.file.is_none() {
            self.file = Some(SpillFile::create(dir)?);
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let start = file.len();
        for e in run.iter() {
            let index = match self.file_index.get(&e.source.file) {
                Some(i) => *i,
                None => {
                    let i = u32::try_from(self.files.len()).unwrap_or(u32::MAX);
                    self.files.push(e.source.file.clone());
                    self.file_index.insert(e.source.file.clone(), i);
                    i
                }
            };
            self.buf.clear();
            encode(e, index, &mut self.buf);
            file.append_record(&self.buf)?;
        }
        self.runs.push((start, file.len()));
        run.clear();
        Ok(())
    }
}

/// Sort entries by time, then source; entries with the same time and source keep the order they
/// were added in.
fn sort(entries: &mut [TimelineEntry]) {
    entries.sort_by(|a, b| (a.time, &a.source).cmp(&(b.time, &b.source)));
}

impl<'a> TenantTimeline<'a> {
    /// Ready for the records, with the `context` of all of them and the engine's run over them.
    pub fn new(context: &'a Context, detection: &'a Detection) -> TenantTimeline<'a> {
        TenantTimeline::sorted_by(context, detection, TimelineSorting::default())
    }

    /// [`TenantTimeline::new`], its entries put in order as `sorting` says.
    pub fn sorted_by(
        context: &'a Context,
        detection: &'a Detection,
        sorting: TimelineSorting,
    ) -> TenantTimeline<'a> {
        TenantTimeline {
            context,
            marks: Marks::new(&detection.findings),
            sorting: TimelineSorting {
                entries_per_run: sorting.entries_per_run.max(1),
                dir: sorting.dir,
            },
            run: Vec::new(),
            spill: Spill::default(),
            counts: RecordCounts::default(),
            cited: BTreeSet::new(),
        }
    }

    /// The entry of a sign-in.
    pub fn add_sign_in(&mut self, s: &SignIn) {
        let e = entry(
            &Record::SignIn(s),
            self.context,
            &self.marks,
            &mut self.counts,
            &mut self.cited,
        );
        self.push(e);
    }

    /// The entry of an access.
    pub fn add_access(&mut self, a: &Access) {
        let e = entry(
            &Record::Access(a),
            self.context,
            &self.marks,
            &mut self.counts,
            &mut self.cited,
        );
        self.push(e);
    }

    fn push(&mut self, e: TimelineEntry) {
        self.run.push(e);
        if self.run.len() >= self.sorting.entries_per_run
            && !self.spill.failed
            && self
                .spill
                .write(&mut self.run, self.sorting.dir.as_deref())
                .is_err()
        {
            // Slower to fail than wrong: the entries stay in memory.
            self.spill.failed = true;
        }
    }

    /// Every entry by time, then source (as [`tenant_timeline`] orders its records; entries
    /// with the same time and source in the order added), read as they are needed.
    pub fn finish(self) -> SortedTimeline {
        let TenantTimeline { mut run, spill, .. } = self;
        sort(&mut run);
        let chunk = (READ_BUDGET / spill.runs.len().max(1)).clamp(MIN_CHUNK, MAX_CHUNK);
        let mut sorted = SortedTimeline {
            cursors: spill
                .runs
                .iter()
                .map(|&(from, to)| Records::new(from, to, chunk))
                .collect(),
            file: spill.file,
            files: spill.files,
            memory: run.into_iter(),
            heads: Vec::new(),
            next: BinaryHeap::new(),
            lost: 0,
            memory_only: spill.failed,
        };
        for i in 0..=sorted.cursors.len() {
            let head = sorted.read(i);
            sorted.put(i, head);
        }
        sorted
    }
}

/// The entries of a [`TenantTimeline`] in order: the runs written to disk merged with the one
/// still in memory.
pub struct SortedTimeline {
    /// The runs' file (gone when this is dropped).
    file: Option<SpillFile>,
    files: Vec<Arc<str>>,
    /// One per run written, in the order written.
    cursors: Vec<Records>,
    /// The run still in memory, sorted: the last of the runs.
    memory: std::vec::IntoIter<TimelineEntry>,
    /// The next entry of each run (the one in memory last).
    heads: Vec<Option<TimelineEntry>>,
    /// The runs by their next entry: time, source, then the run, so that entries with the same
    /// time and source come in the order they were added, as one stable sort would give them.
    next: BinaryHeap<Reverse<(Timestamp, SourceRef, usize)>>,
    lost: u64,
    memory_only: bool,
}

impl SortedTimeline {
    /// Entries written to disk that could not be read back (left out of the timeline).
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Runs written to disk.
    pub fn runs_on_disk(&self) -> usize {
        self.cursors.len()
    }

    /// Whether the temporary directory refused the runs, so that the entries were sorted in
    /// memory from then on.
    pub fn sorted_in_memory(&self) -> bool {
        self.memory_only
    }

    /// The next entry of run `i` (the last run is the one in memory).
    fn read(&mut self, i: usize) -> Option<TimelineEntry> {
        let Some(cursor) = self.cursors.get_mut(i) else {
            return self.memory.next();
        };
        let file = self.file.as_mut()?;
        loop {
            match cursor.next(file) {
                Ok(Some(bytes)) => match decode(bytes, &self.files) {
                    Some(e) => return Some(e),
                    None => self.lost += 1,
                },
                Ok(None) => return None,
                Err(_) => {
                    // The rest of the run cannot be read: at least this entry is lost.
                    self.lost += 1;
                    return None;
                }
            }
        }
    }

    fn put(&mut self, i: usize, head: Option<TimelineEntry>) {
        if let Some(e) = &head {
            self.next.push(Reverse((e.time, e.source.clone(), i)));
        }
        if let Some(slot) = self.heads.get_mut(i) {
            *slot = head;
        } else {
            self.heads.push(head);
        }
    }
}

impl Iterator for SortedTimeline {
    type Item = TimelineEntry;

    fn next(&mut self) -> Option<TimelineEntry> {
        let Reverse((_, _, i)) = self.next.pop()?;
        let e = self.heads.get_mut(i)?.take();
        let head = self.read(i);
        self.put(i, head);
        e
    }
}

/// The compact form of an entry in a run, its source's file by index in the run's table.
fn encode(e: &TimelineEntry, file: u32, out: &mut Vec<u8>) {
    // Destructured so that a new field cannot be left out of the runs.
    let TimelineEntry {
        time,
        record,
        kind,
        operation,
        user,
        ip,
        network,
        app,
        session_id,
        token_id,
        source,
        findings,
    } = e;
    let mut w = Writer(out);
    w.time(*time);
    w.str(record);
    w.str(kind);
    w.str(operation);
    w.opt_str(user.as_deref());
    w.opt_ip(*ip);
    match network {
        None => w.u8(0),
        Some(NetworkId::Asn(n)) => {
            w.u8(1);
            w.u32(*n);
        }
        Some(NetworkId::Prefix(ip, len)) => {
            w.u8(2);
            w.opt_ip(Some(*ip));
            w.u8(*len);
        }
    }
    w.opt_str(app.as_deref());
    w.opt_ident(session_id.as_ref().map(|s| &s.0));
    w.opt_ident(token_id.as_ref().map(|t| &t.0));
    w.source(file, source.position);
    w.u32(u32::try_from(findings.len()).unwrap_or(u32::MAX));
    for f in findings {
        w.str(f);
    }
}

/// The entry [`encode`] wrote; `None` for bytes that are not one whole entry.
fn decode(bytes: &[u8], files: &[Arc<str>]) -> Option<TimelineEntry> {
    let mut r = Reader(bytes);
    let e = TimelineEntry {
        time: r.time()?,
        record: r.str()?.to_owned(),
        kind: r.str()?.to_owned(),
        operation: r.str()?.to_owned(),
        user: r.opt_str()?,
        ip: r.opt_ip()?,
        network: match r.u8()? {
            0 => None,
            1 => Some(NetworkId::Asn(r.u32()?)),
            2 => Some(NetworkId::Prefix(r.opt_ip()??, r.u8()?)),
            _ => return None,
        },
        app: r.opt_str()?,
        session_id: r.opt_ident()?.map(SessionId),
        token_id: r.opt_ident()?.map(TokenId),
        source: r.source(files)?,
        findings: (0..r.u32()?)
            .map(|_| r.str().map(str::to_owned))
            .collect::<Option<_>>()?,
    };
    r.is_done().then_some(e)
}

/// The timeline of the whole tenant: every sign-in and access, by time then source, each with
/// the findings of the engine's run over them citing it (and the network the run resolved), as
/// an investigation's timeline lists its own records.
pub fn tenant_timeline(
    sign_ins: &[SignIn],
    accesses: &[Access],
    detection: &Detection,
) -> Vec<TimelineEntry> {
    let context = Context::learn(sign_ins, accesses, detection.networks.clone());
    let mut timeline = TenantTimeline::new(&context, detection);
    sign_ins.iter().for_each(|s| timeline.add_sign_in(s));
    accesses.iter().for_each(|a| timeline.add_access(a));
    timeline.finish().collect()
}
