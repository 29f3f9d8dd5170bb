//! `tokentrail timeline`: the sign-ins, accesses and findings of a user, a session, a token, an
//! address or the whole tenant, as the JSON lines or CSV that Timesketch imports.
//!
//! The records of a subject are the ones `investigate` relates to it, each marked with the
//! findings that cite it; the fields are documented in the tokentrail-investigate crate
//! (`timesketch` module).

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use tokentrail_investigate::TimesketchFormat;

use super::investigate::{
    judge, judge_held, read_again, read_and_investigate, reads_stdin, Ids, Investigated,
    SubjectArgs,
};
use super::judging::{Judging, JudgingArgs};
use crate::progress::Readings;

/// How the timeline is written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimelineFormat {
    /// JSON lines: one Timesketch event per line (save as .jsonl); also `json`.
    #[value(alias = "json")]
    Jsonl,
    /// CSV with a header row (save as .csv).
    Csv,
}

/// Write a timeline for Timesketch.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tokentrail timeline exports/ -o tenant.jsonl                     every record and finding
  tokentrail timeline exports/ --user adele@contoso.example -o adele.jsonl
  tokentrail timeline exports/ --session s:1963e220 --format csv -o session.csv
  tokentrail timeline exports/ --finding b72c7366 -o finding.jsonl

Each event has Timesketch's message, datetime and timestamp_desc, a timestamp in microseconds,
and the record's user, ip, network, app, session_id, token_id and source; records cited by a
finding carry its id in findings and its rule in tag, and each finding is an event of its own
at its first sighting. Import the file in Timesketch (Upload timeline) or with
`timesketch_importer`; Timesketch accepts only names ending in .jsonl or .csv.

Exit codes: 0 every record read; 1 some input unreadable (each place is listed on
stderr), or timeline entries that waited on disk could not be read back; 2 bad arguments, nothing readable, no sign-in and no access in the inputs, or
nothing matches the subject.")]
pub struct TimelineArgs {
    /// Files, directories (read recursively), .gz or .zip archives, or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Whose records; without one, the whole tenant's.
    #[command(flatten)]
    pub subject: SubjectArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TimelineFormat::Jsonl)]
    pub format: TimelineFormat,
    /// Write to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Allowlist, ASN database, reporting window: as for detect, so the timeline carries the
    /// same live findings; --since/--until limit its events.
    #[command(flatten)]
    pub judging: JudgingArgs,
    /// Entries of the tenant's timeline sorted in memory at a time before they wait on disk
    /// (default about 64 MiB of them); the output does not depend on it.
    #[arg(long, value_name = "N", hide = true)]
    pub entries_per_run: Option<usize>,
}

/// Run `timeline`.
pub fn run(args: TimelineArgs) -> anyhow::Result<ExitCode> {
    let mut err = io::stderr().lock();
    let (format, extension) = match args.format {
        TimelineFormat::Jsonl => (TimesketchFormat::Jsonl, "jsonl"),
        TimelineFormat::Csv => (TimesketchFormat::Csv, "csv"),
    };
    if let Some(path) = &args.output {
        if path.extension().and_then(|e| e.to_str()) != Some(extension) {
            writeln!(
                err,
                "tokentrail: note: Timesketch imports a {} file only when its name ends in .{extension}",
                extension.to_ascii_uppercase()
            )?;
        }
    }
    let Judging { config, mut times } = args.judging.compile()?;
    if !args.subject.is_given() {
        return tenant(&args, format, config, times, &mut err);
    }
    // One subject: only its records are kept (see `read_for_subject`).
    let Investigated {
        investigation,
        detection,
        report,
    } = match read_and_investigate(&args.paths, &args.subject, config, &mut times, &mut err)? {
        Ok(found) => found,
        Err(code) => return Ok(code),
    };
    // The findings that cite the subject's records, in the engine's order.
    let findings = detection
        .findings
        .iter()
        .filter(|f| investigation.findings.iter().any(|r| r.id == f.id))
        .collect::<Vec<_>>();
    let out = super::open_output(args.output.as_deref())?;
    let counts =
        tokentrail_investigate::write_timesketch(out, format, &investigation.timeline, &findings)?;
    let named = tokentrail_model::escape::terminal(&investigation.subject.to_string()).into_owned();
    write_counts(&mut err, counts, &named)?;
    Ok(times.exit_code(&report))
}

/// The whole tenant's timeline: the findings and the context first, then each record's entry,
/// from a second reading, or from the records held when the input can be read only once
/// (standard input). The entries are put in order in runs that wait on disk (see
/// [`tokentrail_investigate::TimelineSorting`]), so memory holds neither the records nor the
/// entries.
fn tenant(
    args: &TimelineArgs,
    format: TimesketchFormat,
    config: tokentrail_engine::EngineConfig,
    mut times: super::judging::TimeCheck,
    err: &mut io::StderrLock<'_>,
) -> anyhow::Result<ExitCode> {
    let window = (config.since, config.until);
    let sorting = tokentrail_investigate::TimelineSorting {
        entries_per_run: args
            .entries_per_run
            .unwrap_or(tokentrail_investigate::DEFAULT_ENTRIES_PER_RUN),
        dir: config.spill_dir.clone(),
    };
    // One progress bar for the two readings.
    let mut readings = Readings::new(2);
    let (held, detection, context, report) = if reads_stdin(&args.paths) {
        let (records, judged, context, read) = judge_held(&args.paths, config, &mut times);
        (Some(records), judged, context, read)
    } else {
        let (judged, context, _, read) = judge(
            &args.paths,
            config,
            &mut times,
            &mut Ids::default(),
            &mut readings,
        );
        (None, judged, context, read)
    };
    let checked = readings.suspend(|| -> anyhow::Result<Option<ExitCode>> {
        if let Some(code) = times.check_input(&report)? {
            return Ok(Some(code));
        }
        super::judging::write_judging_notes(err, &detection)?;
        Ok(None)
    })?;
    if let Some(code) = checked {
        return Ok(code);
    }
    let mut timeline =
        tokentrail_investigate::TenantTimeline::sorted_by(&context, &detection, sorting);
    match &held {
        Some(records) => {
            records
                .sign_ins
                .iter()
                .for_each(|s| timeline.add_sign_in(s));
            records.accesses.iter().for_each(|a| timeline.add_access(a));
        }
        None => read_again(
            &args.paths,
            &times,
            &mut readings,
            &mut |event| match event {
                tokentrail_ingest::Decoded::SignIn(s) => timeline.add_sign_in(&s),
                tokentrail_ingest::Decoded::Access(a) => timeline.add_access(&a),
                tokentrail_ingest::Decoded::Other(_) => {}
            },
        ),
    }
    drop((held, readings));
    let mut entries = timeline.finish();
    if entries.sorted_in_memory() {
        writeln!(
            err,
            "tokentrail: the timeline's sorting file could not be made or written in the temporary directory ($TMPDIR): its entries were sorted in memory"
        )?;
    }
    let findings = detection.findings.iter().collect::<Vec<_>>();
    let out = super::open_output(args.output.as_deref())?;
    let counts = tokentrail_investigate::write_timesketch_in_order(
        out,
        format,
        (&mut entries).filter(|e| tokentrail_engine::in_window(window.0, window.1, e.time, e.time)),
        &findings,
    )?;
    write_counts(err, counts, "the tenant")?;
    if entries.lost() > 0 {
        writeln!(
            err,
            "tokentrail: {} timeline entr(ies) waited on disk and could not be read back: they are not in the timeline (check the temporary directory's disk)",
            entries.lost()
        )?;
        // Not the input's fault, but records are missing all the same (as in `detect`).
        return Ok(ExitCode::from(crate::exit::PARTIAL));
    }
    Ok(times.exit_code(&report))
}

/// The closing line on stderr: how many events were written for whom.
fn write_counts(
    err: &mut dyn Write,
    counts: tokentrail_investigate::TimesketchCounts,
    whom: &str,
) -> io::Result<()> {
    writeln!(
        err,
        "tokentrail: {} event(s) for {whom}: {} sign-in(s), {} access(es), {} finding(s)",
        counts.sign_ins + counts.accesses + counts.findings,
        counts.sign_ins,
        counts.accesses,
        counts.findings
    )
}
