//! One module per subcommand: its arguments and the function that runs it.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use tokentrail_ingest::read::ReadOutcome;
use tokentrail_ingest::{read_paths, DecodedRecord, IngestReport, ReadOptions};
use tokentrail_model::Timestamp;

use crate::{exit, progress};

pub mod coverage;
pub mod demo;
pub mod detect;
pub mod inspect;
pub mod inventory;
pub mod investigate;
pub mod report;
pub mod score;
pub mod simulate;

/// Read `paths` with `opts`, drawing a progress bar when stderr is a terminal, and hand each
/// decoded record to `sink`.
pub fn read_with_progress<P: AsRef<Path>>(
    paths: &[P],
    mut opts: ReadOptions,
    sink: &mut dyn FnMut(DecodedRecord),
) -> IngestReport {
    let bar = progress::bytes_bar();
    opts.progress = progress::callback(&bar);
    let report = read_paths(paths, &opts, sink);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    report
}

/// List every unreadable record and file problem on `err` as `place: reason`, then a count.
pub fn write_unreadable(err: &mut impl Write, report: &IngestReport) -> io::Result<()> {
    for file in &report.files {
        for problem in &file.problems {
            match problem.line {
                Some(line) => writeln!(err, "{}:{line}: {}", file.file, problem.message)?,
                None => writeln!(err, "{}: {}", file.file, problem.message)?,
            }
        }
        for record in &file.unreadable_records {
            writeln!(err, "{}: {}", record.source, record.reason)?;
        }
        let unlisted = file
            .unreadable
            .saturating_sub(file.unreadable_records.len() as u64);
        if unlisted > 0 {
            writeln!(
                err,
                "{}: {unlisted} more unreadable record(s) not listed",
                file.file
            )?;
        }
    }
    let t = &report.totals;
    if t.unreadable > 0 || t.problems > 0 {
        writeln!(
            err,
            "tokentrail: {} unreadable record(s) and {} file problem(s) in {} file(s)",
            t.unreadable, t.problems, t.files_with_problems
        )?;
    }
    Ok(())
}

/// Parse a time option (`--since`, `--until`, `--now`).
pub(crate) fn parse_time(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse(text)
        .ok_or_else(|| format!("not a time: {text:?} (use RFC 3339, e.g. 2026-11-01T00:00:00Z)"))
}

/// The current time, UTC.
pub(crate) fn wall_clock() -> Timestamp {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp(micros)
}

/// List unreadable input on stderr; `Some(code)` when nothing could be read.
pub(crate) fn check_input(report: &IngestReport) -> anyhow::Result<Option<ExitCode>> {
    let mut err = io::stderr().lock();
    write_unreadable(&mut err, report)?;
    if report.outcome() == ReadOutcome::NothingReadable {
        writeln!(err, "tokentrail: nothing readable in the inputs")?;
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

/// Run the engine at default settings over events already in memory (for commands that also
/// need the events themselves: `investigate`, `report`).
pub fn detect_over(
    sign_ins: &[tokentrail_model::SignIn],
    accesses: &[tokentrail_model::Access],
) -> tokentrail_engine::Detection {
    let mut engine = tokentrail_engine::Engine::new(tokentrail_engine::EngineConfig::default());
    for s in sign_ins {
        engine.add_sign_in(s.clone());
    }
    for a in accesses {
        engine.add_access(a.clone());
    }
    engine.finish()
}
