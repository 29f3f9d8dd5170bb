//! `tokentrail coverage`: say what the logs given can and cannot show, per log family and per
//! rule, as a dated report (Markdown) or JSON.
//!
//! The report goes to stdout (or `-o FILE`); unreadable input is listed on stderr as in
//! `detect`, and decides the exit code the same way.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use tokentrail_ingest::{DecodeOptions, Decoded, DecodedRecord, Fields, IngestReport, ReadOptions};
use tokentrail_model::Timestamp;
use tokentrail_posture::{render, CoverageBuilder, CoverageOptions, InputFile, RunInfo};

use super::judging::{Judging, JudgingArgs, TimeCheck};
use super::open_output;

/// How a posture report is written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// A dated Markdown report for people (and for the compliance file); also `md`.
    #[value(name = "markdown", alias = "md")]
    Md,
    /// The same report as JSON.
    Json,
}

/// Say what the logs can and cannot show.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tokentrail coverage exports/                         Markdown report on stdout
  tokentrail coverage exports/ -o coverage-2026-11.md  the report to attach as evidence
  tokentrail coverage signins/ ual/ --format json --retention-target 365d

For each log family (interactive, non-interactive, service principal and managed identity
sign-ins; UAL logons; Graph activity; UAL Exchange, SharePoint, OneDrive): present or missing,
records, span, days against the retention target, gaps, duplicates; the share of records with
the linking fields; how often accesses join their sign-ins; and for each rule TT001-TT005 a
verdict (supported, degraded, blind) with the reason and the fix.

Exit codes: 0 every record read; 1 some input unreadable or dated impossibly (each place is
listed on stderr); 2 bad arguments, nothing readable, or no sign-in and no access in the
inputs.")]
pub struct CoverageArgs {
    /// Files, directories (read recursively), .gz or .zip archives, or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
    pub format: ReportFormat,
    /// How long each log should reach back (e.g. 180d, 26w, 365).
    #[arg(long, value_name = "DAYS", default_value = "180d", value_parser = parse_days)]
    pub retention_target: u32,
    /// Write the report to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Read test-case files as the raw events they hold.
    #[arg(long)]
    pub test_cases: bool,
    /// The judging options, as for detect. Coverage describes every record given, so the
    /// allowlist and ASN database are only checked here, and --since/--until, --rules and
    /// --min-severity do not narrow it.
    #[command(flatten)]
    pub judging: JudgingArgs,
}

fn parse_days(text: &str) -> Result<u32, String> {
    tokentrail_posture::parse_days(text).map_err(|e| e.to_string())
}

/// Read every input once with `decode`, handing the records `times` admits to `sink`;
/// `progress` moves the command's bar (`None`: a bar of this reading's own).
/// Duplicate sign-in rows are passed on: the posture builders count them. The sink (the posture builders, and
/// the engine for `inventory` and `report`: sequential work per record) runs on a thread
/// beside the reading one ([`super::read_beside`]), in the same order.
pub(crate) fn read_inputs(
    paths: &[PathBuf],
    decode: DecodeOptions,
    progress: Option<tokentrail_ingest::source::ProgressFn>,
    times: &mut TimeCheck,
    sink: &mut (dyn FnMut(Decoded) + Send),
) -> IngestReport {
    let opts = ReadOptions {
        decode,
        progress,
        drop_duplicate_sign_ins: false,
        ..ReadOptions::default()
    };
    let mut sink = |record: DecodedRecord| sink(record.event);
    let mut unstated = super::UnstatedKinds::default();
    let report = {
        let mut settled = |record: DecodedRecord| {
            if let Some(record) = unstated.pass(record) {
                sink(record);
            }
        };
        let (report, _) = super::read_beside(paths, opts, times.filter(&mut settled));
        times.release(&mut settled);
        report
    };
    unstated.finish().for_each(&mut sink);
    report
}

/// The report header: the date of the run and the inputs read.
pub(crate) fn run_info(report: &IngestReport, now: Timestamp) -> RunInfo {
    let inputs = report
        .files
        .iter()
        .map(|f| InputFile {
            name: f.file.to_string(),
            records: f.records,
            unreadable: f.unreadable,
            shapes: f
                .shapes
                .iter()
                .map(|(shape, n)| {
                    let name = serde_json::to_value(shape)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_else(|| format!("{shape:?}"));
                    (name, *n)
                })
                .collect(),
        })
        .collect();
    RunInfo {
        generated_at: now,
        inputs,
    }
}

/// Run `coverage`.
pub fn run(args: CoverageArgs) -> anyhow::Result<ExitCode> {
    let Judging { config, mut times } = args.judging.compile()?;
    let mut builder = CoverageBuilder::new(CoverageOptions {
        retention_target_days: args.retention_target,
        window: config.window,
        ..CoverageOptions::default()
    });
    let decode = DecodeOptions {
        unwrap_test_cases: args.test_cases,
        // Coverage reads ids, times and the linking fields only: text that is only ever
        // displayed is not built (nor dropped unread, on the sink's thread).
        fields: Fields::Detection,
    };
    let report = read_inputs(
        &args.paths,
        decode,
        None,
        &mut times,
        &mut |event| match event {
            Decoded::SignIn(s) => builder.add_sign_in(&s),
            Decoded::Access(a) => builder.add_access(&a),
            Decoded::Other(_) => {}
        },
    );
    if let Some(code) = times.check_input(&report)? {
        return Ok(code);
    }
    let coverage = builder.finish(run_info(&report, config.now));
    let mut out = open_output(args.output.as_deref())?;
    match args.format {
        ReportFormat::Md => render::coverage_markdown(&mut out, &coverage)?,
        ReportFormat::Json => render::coverage_json(&mut out, &coverage)?,
    }
    out.flush()?;
    let missing = coverage.families.iter().filter(|f| !f.present).count();
    writeln!(
        io::stderr(),
        "tokentrail: read {} records from {} input(s); {} log famil{} missing; rules: {}",
        report.totals.records,
        report.totals.files,
        missing,
        if missing == 1 { "y" } else { "ies" },
        coverage
            .rules
            .iter()
            .map(|v| format!("{} {}", v.rule.code(), v.verdict.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    Ok(times.exit_code(&report))
}
