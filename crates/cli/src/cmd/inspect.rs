//! `tokentrail inspect`: what each input holds, and everything that could not be read.
//!
//! Output: per input the container (and compression), the record shapes, the records per
//! family, kind and operation, the time range in RFC 3339 UTC, duplicates dropped, and each
//! unreadable record as `file:line: reason` (or `file#index: reason` inside JSON arrays and
//! envelopes); then a total line. Request paths that differ only by an id (a GUID, a number, a
//! user's address) are counted as one, the id written `{id}`. `--format json` prints the
//! [`IngestReport`] instead, which holds the same facts (the human output is rendered from it).
//!
//! Exit codes (see `crate::exit`):
//! - 0: every input was read.
//! - 1: some records or files could not be read (an empty file counts: see
//!   `tokentrail_ingest::read`), but at least one record was read.
//! - 2: bad arguments, or nothing could be read at all (e.g. the only path does not exist, or
//!   the folders given hold no file).

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use tokentrail_ingest::read::{FileReport, ReadOutcome};
use tokentrail_ingest::{DecodeOptions, IngestReport, ReadOptions};
use tokentrail_model::escape::{self, Shown};

use tokentrail_report::columns::Columns;

use crate::exit;

/// Show what each input file holds: container, record shapes, records per family, kind and
/// operation, time range, and every unreadable record with its place.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tokentrail inspect signins.json exports/          a file and a directory (recursive)
  tokentrail inspect audit.zip graph.jsonl.gz       archives and gzip are read in place
  az rest ... | tokentrail inspect -                standard input
  tokentrail inspect --format json -o report.json exports/   the same report, for machines
  tokentrail inspect --test-cases ../shared/fixtures/public

Formats are recognized from content, not file names: JSON lines, JSON arrays, Graph OData
pages ({\"value\":[...]}), diagnostic-settings envelopes ({\"records\":[...]}), the Entra
admin center's Download JSON, Defender XDR streaming events and advanced hunting results,
single JSON objects, forwarder wrappers (a syslog prefix before the JSON, a `_raw` string, a
whole envelope on one line), CSV (the admin center's Download CSV, Purview,
Search-UnifiedAuditLog, Log Analytics and Sentinel Export to CSV, advanced hunting), gzip and
zip. Records that are not used are counted by file: not relevant (by kind), recognized but not
supported (by shape), or not understood. Request paths that differ only by an id (a GUID, a
number, a user's address) are counted as one, the id written {id}.

Exit codes: 0 every record read; 1 some input unreadable (each place is listed); 2 bad
arguments or nothing readable.")]
pub struct InspectArgs {
    /// Files, directories (read recursively), .gz or .zip archives, or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InspectFormat::Text)]
    pub format: InspectFormat,
    /// Write the report to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The same as `--format json` (kept for scripts written before --format).
    #[arg(long, hide = true, conflicts_with = "format")]
    pub json: bool,
    /// Read test-case files as the raw events they hold: SEKOIA intake-format cases
    /// (`input.message`) and Panther rule YAML (`Tests[].Log`).
    #[arg(long)]
    pub test_cases: bool,
}

/// How the report is written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum InspectFormat {
    /// Per input file, its records by family, kind and operation under column headers.
    Text,
    /// The same report as one JSON object.
    Json,
}

/// Run `inspect`.
pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let opts = ReadOptions {
        decode: DecodeOptions {
            unwrap_test_cases: args.test_cases,
            ..DecodeOptions::default()
        },
        ..ReadOptions::default()
    };
    let report = super::read_with_progress(&args.paths, opts, &mut |_| {});

    let mut out = super::open_output(args.output.as_deref())?;
    if args.json || args.format == InspectFormat::Json {
        escape::write_json_pretty(&mut out, &report)?;
        writeln!(out)?;
        out.flush()?;
        if report.outcome() != ReadOutcome::Clean {
            let t = &report.totals;
            writeln!(
                io::stderr(),
                "tokentrail: {} unreadable records and {} file problems (listed in the JSON report)",
                t.unreadable,
                t.problems
            )?;
        }
    } else {
        render(&mut out, &report)?;
        out.flush()?;
    }
    Ok(ExitCode::from(match report.outcome() {
        // Paths with no file in them: nothing was read, as when the only path does not exist.
        _ if report.totals.files == 0 => exit::USAGE,
        ReadOutcome::Clean => exit::OK,
        ReadOutcome::Partial => exit::PARTIAL,
        ReadOutcome::NothingReadable => exit::USAGE,
    }))
}

/// A serde enum's wire name (`graph-sign-in`), so text and JSON output agree.
fn wire_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::from("?"),
    }
}

fn render(out: &mut dyn Write, report: &IngestReport) -> io::Result<()> {
    for file in &report.files {
        render_file(out, file)?;
    }
    let t = &report.totals;
    let families: Vec<String> = t
        .families
        .iter()
        .map(|(family, n)| format!("{family} {n}"))
        .collect();
    write!(
        out,
        "total: {} inputs, {} records, {} read",
        t.files, t.records, t.events
    )?;
    if !families.is_empty() {
        write!(out, " ({})", families.join(", "))?;
    }
    write!(
        out,
        ", {} unreadable, {} duplicate sign-ins dropped, {} file problems",
        t.unreadable, t.duplicates, t.problems
    )?;
    if let Some(range) = t.time_range {
        write!(out, "; {} to {}", range.first, range.last)?;
    }
    writeln!(out)?;
    if let Some(line) = super::not_used_line(&t.not_used) {
        writeln!(out, "total {}", Shown(&line))?;
    }
    if let Some(message) = report.nothing_usable() {
        writeln!(out, "note: {}", Shown(&message))?;
    }
    Ok(())
}

fn render_file(out: &mut dyn Write, file: &FileReport) -> io::Result<()> {
    match file.container {
        Some(container) => {
            write!(out, "{}  ({container}", Shown(&file.file))?;
            if let Some(tokentrail_ingest::source::Compression::Gzip) = file.compression {
                write!(out, ", gzip")?;
            }
            if let Some(encoding) = file.encoding {
                write!(out, ", {encoding}")?;
            }
            writeln!(out, ", {} records)", file.records)?;
        }
        None => writeln!(out, "{}  (not opened)", Shown(&file.file))?,
    }
    if !file.shapes.is_empty() {
        let shapes: Vec<String> = file
            .shapes
            .iter()
            .map(|(shape, n)| format!("{} {n}", wire_name(shape)))
            .collect();
        writeln!(out, "  shapes: {}", shapes.join(", "))?;
    }
    // Columns as wide as their longest entry in this file, so long kind names stay aligned.
    let rows: Vec<[String; 4]> = file
        .counts
        .iter()
        .map(|count| {
            [
                count.family.to_string(),
                escape::terminal(&count.kind).into_owned(),
                count.records.to_string(),
                Shown(count.operation.as_deref().unwrap_or("-")).to_string(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        let header = ["FAMILY", "KIND", "RECORDS", "OPERATION"];
        let columns = Columns::fit(&header, &rows, &[2]);
        writeln!(out, "  {}", columns.line(&header))?;
        for row in &rows {
            writeln!(out, "  {}", columns.line(row))?;
        }
    }
    if let Some(range) = file.time_range {
        writeln!(out, "  time: {} to {}", range.first, range.last)?;
    }
    if file.duplicates > 0 {
        writeln!(out, "  duplicate sign-ins dropped: {}", file.duplicates)?;
    }
    if file.repaired > 0 {
        writeln!(
            out,
            "  repaired text in displayed fields: {} record(s) (a lone surrogate escape shown as U+FFFD)",
            file.repaired
        )?;
    }
    if let Some(line) = super::not_used_line(&file.not_used) {
        writeln!(out, "  {}", Shown(&line))?;
    }
    if file.kind_unstated > 0 {
        writeln!(
            out,
            "  sign-in kind not stated by the export (interactive or not): {}, read as non-interactive",
            file.kind_unstated
        )?;
    }
    for problem in &file.problems {
        writeln!(out, "  {}: {}", Shown(&file.file), Shown(&problem.message))?;
    }
    if file.unreadable > 0 {
        writeln!(out, "  unreadable records: {}", file.unreadable)?;
        for bad in &file.unreadable_records {
            writeln!(
                out,
                "  {}: {}",
                Shown(&bad.source.to_string()),
                Shown(&bad.reason)
            )?;
        }
        let unlisted = file.unreadable - file.unreadable_records.len() as u64;
        if unlisted > 0 {
            writeln!(out, "  ... and {unlisted} more unreadable records")?;
        }
    }
    writeln!(out)
}
