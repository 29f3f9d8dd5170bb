//! One module per subcommand: its arguments and the function that runs it.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use tokentrail_ingest::read::ReadOutcome;
use tokentrail_ingest::{read_paths, DecodedRecord, IngestReport, ReadOptions};
use tokentrail_model::escape::Shown;
use tokentrail_model::unstated_kind::{settled_kind, StatedKinds};
use tokentrail_model::Timestamp;

use crate::{exit, progress};

pub mod coverage;
pub mod demo;
pub mod detect;
pub mod export;
pub mod findings;
pub mod inspect;
pub mod inventory;
pub mod investigate;
pub mod judging;
pub mod normalize;
pub mod report;
pub mod score;
pub mod simulate;
pub mod timeline;

/// Read `paths` with `opts`, drawing a progress bar when stderr is a terminal (unless `opts`
/// has its own: one of a [`progress::Readings`]), and hand each decoded record to `sink`.
pub fn read_with_progress<P: AsRef<Path>>(
    paths: &[P],
    mut opts: ReadOptions,
    sink: &mut dyn FnMut(DecodedRecord),
) -> IngestReport {
    let mut bar = None;
    if opts.progress.is_none() {
        let one = bar.insert(progress::Readings::new(1));
        opts.progress = one.next();
    }
    let report = read_paths(paths, &opts, sink);
    drop(bar);
    report
}

/// Records handed from the reading thread to the sink's thread at a time.
const SIDE_BATCH: usize = 1024;

/// [`read_with_progress`], with `sink` on a thread of its own: the reading thread frames
/// records and collects the decoding threads' results while the sink (the engine's compaction
/// and indexes, which are sequential) works beside it. The sink sees the same records in the
/// same order as on the calling thread; it is handed back when reading is done.
pub fn read_beside<P, S>(paths: &[P], opts: ReadOptions, mut sink: S) -> (IngestReport, S)
where
    P: AsRef<Path>,
    S: FnMut(DecodedRecord) + Send,
{
    if opts.decode_threads < 2 {
        let report = read_with_progress(paths, opts, &mut sink);
        return (report, sink);
    }
    // A few batches in flight: the reader runs ahead of the sink by at most this much.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<DecodedRecord>>(4);
    std::thread::scope(|scope| {
        let side = scope.spawn(move || {
            for batch in rx {
                batch.into_iter().for_each(&mut sink);
            }
            sink
        });
        let mut batch = Vec::with_capacity(SIDE_BATCH);
        let mut open = true;
        let report = read_with_progress(paths, opts, &mut |record| {
            batch.push(record);
            if batch.len() >= SIDE_BATCH && open {
                // A send fails only when the sink's thread has ended, by a panic: that panic is
                // raised below.
                open = tx
                    .send(std::mem::replace(
                        &mut batch,
                        Vec::with_capacity(SIDE_BATCH),
                    ))
                    .is_ok();
            }
        });
        if open && !batch.is_empty() {
            let _ = tx.send(batch);
        }
        drop(tx);
        match side.join() {
            Ok(sink) => (report, sink),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// List every unreadable record and file problem on `err` as `place: reason`, then a count.
/// File names and reasons may hold text from the inputs: they are shown, never sent raw.
pub fn write_unreadable(err: &mut impl Write, report: &IngestReport) -> io::Result<()> {
    for file in &report.files {
        let name = Shown(&file.file);
        for problem in &file.problems {
            let message = Shown(&problem.message);
            match problem.line {
                Some(line) => writeln!(err, "{name}:{line}: {message}")?,
                None => writeln!(err, "{name}: {message}")?,
            }
        }
        for record in &file.unreadable_records {
            writeln!(
                err,
                "{}: {}",
                Shown(&record.source.to_string()),
                Shown(&record.reason)
            )?;
        }
        let unlisted = file
            .unreadable
            .saturating_sub(file.unreadable_records.len() as u64);
        if unlisted > 0 {
            writeln!(
                err,
                "{name}: {unlisted} more unreadable record(s) not listed"
            )?;
        }
    }
    let t = &report.totals;
    if t.repaired > 0 {
        writeln!(
            err,
            "tokentrail: {} record(s) had text that is not valid Unicode in a field that is only displayed (user agent, names); it was replaced with U+FFFD and the records were kept",
            t.repaired
        )?;
    }
    if t.unreadable > 0 || t.problems > 0 {
        writeln!(
            err,
            "tokentrail: {} unreadable record(s) and {} file problem(s) in {} file(s)",
            t.unreadable, t.problems, t.files_with_problems
        )?;
    }
    Ok(())
}

/// For each input, the records read but not used and why (recognized but not relevant,
/// recognized but not supported, not understood), and the sign-ins whose kind the export does
/// not state: a responder can tell "irrelevant" from "dropped".
pub fn write_not_used(err: &mut impl Write, report: &IngestReport) -> io::Result<()> {
    for file in &report.files {
        let name = Shown(&file.file);
        if let Some(line) = not_used_line(&file.not_used) {
            // Kinds name what the records said they were (`diagnostic:<category>`).
            writeln!(err, "{name}: {}", Shown(&line))?;
        }
        if file.kind_unstated > 0 {
            writeln!(
                err,
                "{name}: {} sign-in(s) whose export does not say whether they were interactive \
                 (Entra admin center CSV): they take the kind the file's other rows state, where those \
                 agree, else the kind the admin center's file name says (InteractiveSignIns_..., \
                 NonInteractiveSignIns_...); otherwise they are read as non-interactive, never as \
                 a session's root",
                file.kind_unstated
            )?;
        }
    }
    Ok(())
}

/// `12 record(s) not used: 5 security-alert, 3 device (not relevant); 4 not understood`, or
/// `None` when every record was used.
pub fn not_used_line(not_used: &[tokentrail_ingest::read::NotUsed]) -> Option<String> {
    use tokentrail_ingest::Disposition;
    let total: u64 = not_used.iter().map(|u| u.records).sum();
    if total == 0 {
        return None;
    }
    let mut parts = Vec::new();
    for (d, label) in [
        (Disposition::NotRelevant, "not relevant"),
        (Disposition::NotSupported, "recognized, not supported"),
    ] {
        let kinds: Vec<String> = not_used
            .iter()
            .filter(|u| u.disposition == d)
            .map(|u| format!("{} {}", u.records, u.kind))
            .collect();
        if !kinds.is_empty() {
            parts.push(format!("{} ({label})", kinds.join(", ")));
        }
    }
    let not_understood: u64 = not_used
        .iter()
        .filter(|u| u.disposition == Disposition::NotUnderstood)
        .map(|u| u.records)
        .sum();
    if not_understood > 0 {
        parts.push(format!("{not_understood} not understood"));
    }
    let advice: Vec<&str> = not_used
        .iter()
        .filter_map(|u| tokentrail_ingest::decode::advice(&u.kind))
        .collect();
    let advice = advice.iter().map(|a| format!(". {a}")).collect::<String>();
    Some(format!(
        "{total} record(s) not used: {}{advice}",
        parts.join("; ")
    ))
}

/// Parse a time option (`--since`, `--until`, `--now`).
pub(crate) fn parse_time(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse(text)
        .ok_or_else(|| format!("not a time: {text:?} (use RFC 3339, e.g. 2026-11-01T00:00:00Z)"))
}

/// Parse `--window FROM..TO`: the export window the analyst queried (two times, RFC 3339 or
/// dates).
pub(crate) fn parse_window(text: &str) -> Result<(Timestamp, Timestamp), String> {
    let (from, to) = text.split_once("..").ok_or_else(|| {
        format!("not a window: {text:?} (use FROM..TO, e.g. 2026-11-01..2026-11-15)")
    })?;
    let (from, to) = (parse_time(from.trim())?, parse_time(to.trim())?);
    if from >= to {
        return Err(format!("window {text:?} ends before it starts"));
    }
    Ok((from, to))
}

/// The current time, UTC.
pub(crate) fn wall_clock() -> Timestamp {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp(micros)
}

/// List unreadable input and the records not used on stderr; `Some(code)` when there is
/// nothing to judge: no sign-in and no access was read (an empty folder, unrelated JSON, only
/// alerts and policies). Then no finding means nothing, and the run says so instead of
/// printing an all-clear.
pub(crate) fn check_input(report: &IngestReport) -> anyhow::Result<Option<ExitCode>> {
    let mut err = io::stderr().lock();
    write_unreadable(&mut err, report)?;
    write_not_used(&mut err, report)?;
    if report.outcome() == ReadOutcome::NothingReadable {
        writeln!(err, "tokentrail: nothing readable in the inputs")?;
    }
    if let Some(message) = report.nothing_usable() {
        writeln!(err, "tokentrail: {}", Shown(&message))?;
        return Ok(Some(ExitCode::from(exit::USAGE)));
    }
    Ok(None)
}

/// The exit code once the report is written.
pub(crate) fn exit_code(report: &IngestReport) -> ExitCode {
    ExitCode::from(match report.outcome() {
        ReadOutcome::Clean => exit::OK,
        _ => exit::PARTIAL,
    })
}

/// Stdout, or a new file.
pub(crate) fn open_output(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(io::stdout().lock())),
    })
}

/// Every record a command that follows a subject needs, in memory.
pub(crate) struct Records {
    pub sign_ins: Vec<tokentrail_model::SignIn>,
    pub accesses: Vec<tokentrail_model::Access>,
    /// The inbox-rule and forwarding changes among the other records (the rest are dropped).
    pub mailbox_changes: Vec<tokentrail_ingest::OtherRecord>,
}

/// Read every input into memory, with progress, setting aside the records whose time `times`
/// finds impossible (`investigate`, `timeline`).
pub(crate) fn read_records<P: AsRef<Path>>(
    paths: &[P],
    times: &mut judging::TimeCheck,
) -> (Records, IngestReport) {
    let mut records = Records {
        sign_ins: Vec::new(),
        accesses: Vec::new(),
        mailbox_changes: Vec::new(),
    };
    let mut sink = |record: DecodedRecord| match record.event {
        tokentrail_ingest::Decoded::SignIn(s) => records.sign_ins.push(*s),
        tokentrail_ingest::Decoded::Access(a) => records.accesses.push(*a),
        tokentrail_ingest::Decoded::Other(o) => {
            if o.mailbox_change.is_some() {
                records.mailbox_changes.push(o);
            }
        }
    };
    let report = read_with_progress(paths, ReadOptions::default(), &mut times.filter(&mut sink));
    times.release(&mut sink);
    (records, report)
}

/// The admin center's sign-ins of unstated kind, held back until every input is read and then
/// settled by their file ([`tokentrail_model::unstated_kind`]), for the commands that count
/// records as they come (coverage, inventory, the report's posture): they then count each in the
/// family the engine judges it in.
#[derive(Debug, Default)]
pub(crate) struct UnstatedKinds {
    stated: rustc_hash::FxHashMap<std::sync::Arc<str>, StatedKinds>,
    held: Vec<DecodedRecord>,
}

impl UnstatedKinds {
    /// The record back when it is no sign-in of unstated kind; held otherwise.
    pub fn pass(&mut self, record: DecodedRecord) -> Option<DecodedRecord> {
        if let tokentrail_ingest::Decoded::SignIn(s) = &record.event {
            if s.kind_assumed {
                self.held.push(record);
                return None;
            }
            // Looked up before the file's name is cloned: nearly every sign-in's file is known.
            match self.stated.get_mut(&s.source.file) {
                Some(stated) => stated.add(s.kind),
                None => self
                    .stated
                    .entry(s.source.file.clone())
                    .or_default()
                    .add(s.kind),
            }
        }
        Some(record)
    }

    /// The held records, in the order they came, each sign-in of the kind its file settles.
    pub fn finish(self) -> impl Iterator<Item = DecodedRecord> {
        let stated = self.stated;
        self.held.into_iter().map(move |mut record| {
            if let tokentrail_ingest::Decoded::SignIn(s) = &mut record.event {
                let by_file = stated.get(&s.source.file).copied().unwrap_or_default();
                if let Some(kind) = settled_kind(by_file, &s.source.file) {
                    s.kind = kind;
                    s.kind_assumed = false;
                }
            }
            record
        })
    }
}

/// Run the engine with the judging options' `config` over events already in memory (for
/// commands that also need the events themselves: `investigate`, `timeline`).
pub fn detect_over(
    config: tokentrail_engine::EngineConfig,
    sign_ins: &[tokentrail_model::SignIn],
    accesses: &[tokentrail_model::Access],
) -> tokentrail_engine::Detection {
    let mut engine = tokentrail_engine::Engine::new(config);
    for s in sign_ins {
        engine.add_sign_in(s.clone());
    }
    for a in accesses {
        engine.add_access(a.clone());
    }
    engine.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sink on its own thread sees every record of the example tenant in the order the
    /// calling thread would have handed them, batch boundaries included.
    #[test]
    fn a_sink_beside_the_reader_sees_the_same_records_in_order() {
        let tenant = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tenant");
        let paths: Vec<_> = ["signins", "graph", "ual"]
            .iter()
            .map(|f| tenant.join(f))
            .collect();
        let opts = |threads| ReadOptions {
            decode_threads: threads,
            ..ReadOptions::default()
        };
        let mut inline = Vec::new();
        let report = read_with_progress(&paths, opts(0), &mut |r| inline.push(format!("{r:?}")));
        assert_eq!(report.totals.records, 1589);
        assert_eq!(inline.len() as u64, report.totals.events);
        assert_eq!(inline.len(), 1588);
        for threads in [2, 3] {
            let mut beside = Vec::new();
            let (beside_report, _) =
                read_beside(&paths, opts(threads), |r| beside.push(format!("{r:?}")));
            assert_eq!(beside_report.totals.records, 1589);
            assert_eq!(beside, inline, "{threads} threads");
        }
    }
}
