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
    investigation, judge, judge_held, read_again, read_for_subject, reads_stdin, ForSubject, Ids,
    SubjectArgs,
};
use super::judging::{Judging, JudgingArgs};

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
stderr); 2 bad arguments, nothing readable, no sign-in and no access in the inputs, or
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
    let window = (config.since, config.until);
    let detection;
    let (entries, findings, report);
    let mut named = None;
    if args.subject.is_given() {
        // One subject: only its records are kept (see `read_for_subject`).
        let ForSubject {
            records,
            detection: judged,
            context,
            resolved,
            report: read,
        } = read_for_subject(&args.paths, &args.subject, config, &mut times);
        if let Some(code) = times.check_input(&read)? {
            return Ok(code);
        }
        super::judging::write_judging_notes(&mut err, &judged)?;
        let subject = match resolved {
            Ok(Some(resolved)) => resolved.subject,
            Ok(None) => return Ok(ExitCode::from(crate::exit::USAGE)),
            Err(message) => {
                writeln!(err, "tokentrail: {message}")?;
                return Ok(ExitCode::from(crate::exit::USAGE));
            }
        };
        let investigation =
            match investigation(&subject, &records, &context, &judged, window, &mut err)? {
                Ok(inv) => inv,
                Err(code) => return Ok(code),
            };
        named = Some(subject);
        detection = judged;
        // The findings that cite the subject's records, in the engine's order.
        findings = detection
            .findings
            .iter()
            .filter(|f| investigation.findings.iter().any(|r| r.id == f.id))
            .collect::<Vec<_>>();
        entries = investigation.timeline;
        report = read;
    } else {
        // The whole tenant: the findings and the context first, then each record's entry, from
        // a second reading (memory holds the entries, not the records as well), or from the
        // records held when the input can be read only once (standard input).
        let (held, judged, context, read) = if reads_stdin(&args.paths) {
            let (records, judged, context, read) = judge_held(&args.paths, config, &mut times);
            (Some(records), judged, context, read)
        } else {
            let (judged, context, _, read) =
                judge(&args.paths, config, &mut times, &mut Ids::default());
            (None, judged, context, read)
        };
        if let Some(code) = times.check_input(&read)? {
            return Ok(code);
        }
        super::judging::write_judging_notes(&mut err, &judged)?;
        detection = judged;
        let mut timeline = tokentrail_investigate::TenantTimeline::new(&context, &detection);
        match &held {
            Some(records) => {
                records
                    .sign_ins
                    .iter()
                    .for_each(|s| timeline.add_sign_in(s));
                records.accesses.iter().for_each(|a| timeline.add_access(a));
            }
            None => read_again(&args.paths, &times, &mut |event| match event {
                tokentrail_ingest::Decoded::SignIn(s) => timeline.add_sign_in(&s),
                tokentrail_ingest::Decoded::Access(a) => timeline.add_access(&a),
                tokentrail_ingest::Decoded::Other(_) => {}
            }),
        }
        drop(held);
        let mut all = timeline.finish();
        all.retain(|e| tokentrail_engine::in_window(window.0, window.1, e.time, e.time));
        entries = all;
        findings = detection.findings.iter().collect::<Vec<_>>();
        report = read;
    }
    let out = super::open_output(args.output.as_deref())?;
    let counts = tokentrail_investigate::write_timesketch(out, format, &entries, &findings)?;
    writeln!(
        err,
        "tokentrail: {} event(s) for {}: {} sign-in(s), {} access(es), {} finding(s)",
        counts.sign_ins + counts.accesses + counts.findings,
        named.map_or_else(
            || "the tenant".to_string(),
            |s| tokentrail_model::escape::terminal(&s.to_string()).into_owned()
        ),
        counts.sign_ins,
        counts.accesses,
        counts.findings
    )?;
    Ok(times.exit_code(&report))
}
