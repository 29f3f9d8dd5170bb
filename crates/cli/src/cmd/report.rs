//! `tokentrail report`: one self-contained HTML file with the summary, the findings (sortable
//! and filterable), each finding's chain and timeline, the coverage verdicts and the
//! inventory's top patterns.
//!
//! Unreadable input is listed on stderr as in `detect`, and decides the exit code the same way.
//!
//! The inputs are read twice so that memory stays bounded by the engine, not by the records:
//! the first pass feeds coverage, inventory, detection and the investigation context; the
//! second keeps only the records related to a finding (its session, token, user or address),
//! from which every finding's chain and timeline are drawn. Standard input cannot be read twice,
//! so with `-` the first pass keeps every record instead.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tokentrail_engine::Engine;
use tokentrail_html::ReportInput;
use tokentrail_ingest::{
    DecodeOptions, Decoded, DecodedRecord, IngestReport, OtherRecord, ReadOptions,
};
use tokentrail_investigate::{ContextBuilder, Investigator, Related};
use tokentrail_model::{Access, Guid, SignIn, SignInKind};
use tokentrail_posture::{CoverageBuilder, CoverageOptions, InventoryBuilder};

use super::coverage::run_info;
use super::judging::{Judging, JudgingArgs};
use super::open_output;
use crate::progress::Readings;

/// How the report is written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// One self-contained HTML file.
    Html,
    /// What the page shows, as one JSON object: `run`, `findings` (OCSF objects, as
    /// `detect --format json` writes them), `investigations` (one per finding, in the form of
    /// `investigate --format json`), `coverage` and `inventory` (as those commands write them).
    Json,
}

/// Write a self-contained HTML report of a run.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tokentrail report exports/ -o report.html
  tokentrail report signins/ graph/ ual/ -o case-2026-11.html
  tokentrail report exports/ --allowlist allow.yaml --since 2026-11-01 -o report.html
  tokentrail report exports/ --format json -o report.json

The judging options are those of detect: the report shows the same live findings.

The file has no external assets: it opens offline and can be mailed. It is readable in light
and dark schemes and prints cleanly.

Exit codes: 0 every record read; 1 some input unreadable or dated impossibly (each place is
listed on stderr); 2 bad arguments, nothing readable, or no sign-in and no access in the
inputs.")]
pub struct ReportArgs {
    /// Files, directories (read recursively), .gz or .zip archives, or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Write the report to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Read test-case files as the raw events they hold.
    #[arg(long)]
    pub test_cases: bool,
    /// Allowlist, ASN database, reporting window: as for detect, so the report shows the same
    /// live findings.
    #[command(flatten)]
    pub judging: JudgingArgs,
}

/// Run `report`.
pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let Judging { config, mut times } = args.judging.compile()?;
    let now = config.now;
    let (since, until) = (config.since, config.until);
    let mut coverage = CoverageBuilder::new(CoverageOptions::default());
    let mut inventory = InventoryBuilder::new();
    let mut context = ContextBuilder::new();
    let mut engine = Engine::new(config);
    let stdin = args.paths.iter().any(|p| p == Path::new("-"));
    // With standard input there is no second pass: keep everything now.
    let mut sign_ins: Vec<SignIn> = Vec::new();
    let mut accesses: Vec<Access> = Vec::new();
    // Inbox-rule and forwarding changes are rare: keep them all in the first pass.
    let mut others: Vec<OtherRecord> = Vec::new();
    let (mut sign_in_count, mut access_count) = (0u64, 0u64);
    // Coverage counts duplicate sign-in rows; detection and the chains must see each once.
    let mut seen = Sightings::default();
    let mut sink = |event: Decoded| match event {
        Decoded::SignIn(s) => {
            coverage.add_sign_in(&s);
            inventory.add_sign_in(&s);
            context.add_sign_in(&s);
            if first_sighting(&mut seen, &s) {
                sign_in_count += 1;
                if stdin {
                    sign_ins.push((*s).clone());
                }
                engine.add_sign_in(*s);
            }
        }
        Decoded::Access(a) => {
            coverage.add_access(&a);
            inventory.add_access(&a);
            context.add_access(&a);
            access_count += 1;
            if stdin {
                accesses.push((*a).clone());
            }
            engine.add_access(*a);
        }
        Decoded::Other(o) => {
            if o.mailbox_change.is_some() {
                others.push(o);
            }
        }
    };
    // The same reading as `coverage`: sign-ins of unstated kind wait for the rest of their file,
    // so the coverage and inventory count them in the family the engine judges them in.
    let decode = DecodeOptions {
        unwrap_test_cases: args.test_cases,
        ..DecodeOptions::default()
    };
    // One progress bar for both readings.
    let mut readings = Readings::new(if stdin { 1 } else { 2 });
    let report =
        super::coverage::read_inputs(&args.paths, decode, readings.next(), &mut times, &mut sink);
    if let Some(code) = readings.suspend(|| times.check_input(&report))? {
        return Ok(code);
    }
    let run = run_info(&report, now);
    let coverage = coverage.finish(run.clone());
    let detection = engine.finish();
    readings
        .suspend(|| super::judging::write_judging_notes(&mut io::stderr().lock(), &detection))?;
    inventory.judged_by(&detection);
    let inventory = inventory.finish(run.clone());
    let context = context.finish(detection.networks.clone());

    if !stdin {
        let mut related = Related::new();
        for f in &detection.findings {
            if let Some(subject) = tokentrail_html::finding_subject(f) {
                related.add(&subject, &context);
            }
            // Every sign-in of the finding's user, so the chains find their tokens' issuers.
            if let Some(user) = f.upn.as_ref().or(f.user_id.as_ref()) {
                related.add_user(user, &context);
            }
        }
        seen.clear();
        read(&args.paths, args.test_cases, &mut readings, |record| {
            if times.set_aside_before(&record) {
                return;
            }
            match record.event {
                Decoded::SignIn(s) => {
                    if first_sighting(&mut seen, &s) && related.sign_in(&s) {
                        sign_ins.push(*s);
                    }
                }
                Decoded::Access(a) => {
                    if related.access(&a) {
                        accesses.push(*a);
                    }
                }
                Decoded::Other(_) => {}
            }
        });
    }
    drop(readings);
    let investigator = Investigator::new(&context, &sign_ins, &accesses, &detection.findings)
        .with_mailbox_changes(&others)
        .with_window(since, until);
    let input = ReportInput {
        run: &run,
        sign_ins: sign_in_count,
        accesses: access_count,
        findings: &detection.findings,
        investigator: &investigator,
        coverage: Some(&coverage),
        inventory: Some(&inventory),
    };
    let mut out = open_output(args.output.as_deref())?;
    match args.format {
        ReportFormat::Html => tokentrail_html::write_report(&mut out, &input)?,
        ReportFormat::Json => write_json(&mut out, &input)?,
    }
    out.flush()?;
    writeln!(
        io::stderr(),
        "tokentrail: read {} records from {} input(s); {} finding(s) in the report",
        report.totals.records,
        report.totals.files,
        detection.findings.len()
    )?;
    Ok(times.exit_code(&report))
}

/// The report's content as one JSON object (see [`ReportFormat::Json`]).
fn write_json(out: &mut dyn Write, input: &ReportInput<'_>) -> anyhow::Result<()> {
    let options = tokentrail_report::ocsf::OcsfOptions::default();
    let findings = input
        .findings
        .iter()
        .map(|f| tokentrail_report::ocsf::ocsf_value(f, &options))
        .collect::<Result<Vec<_>, _>>()?;
    // Each finding's investigation, as the HTML page draws its chain and timeline.
    let investigations: Vec<serde_json::Value> = input
        .findings
        .iter()
        .map(|f| {
            let investigation = tokentrail_html::finding_subject(f)
                .and_then(|subject| input.investigator.investigate(&subject).ok())
                .map(|mut inv| {
                    inv.finding = Some(f.id.clone());
                    inv
                });
            serde_json::to_value(investigation)
        })
        .collect::<Result<_, _>>()?;
    let value = serde_json::json!({
        "run": input.run,
        "sign_ins": input.sign_ins,
        "accesses": input.accesses,
        "findings": findings,
        "investigations": investigations,
        "coverage": input.coverage,
        "inventory": input.inventory,
    });
    tokentrail_model::escape::write_json_pretty(&mut *out, &value)?;
    writeln!(out)?;
    Ok(())
}

/// The sign-in rows already read, by id and kind.
type Sightings = rustc_hash::FxHashSet<(Guid, SignInKind)>;

/// False for a sign-in row whose id was already seen for the same kind.
fn first_sighting(seen: &mut Sightings, s: &SignIn) -> bool {
    s.id.is_none_or(|id| seen.insert((id, s.kind)))
}

/// Read every input, handing each decoded record to `sink` (on a thread beside the reading
/// one, in order: it drops most records, and dropping them is work); duplicate sign-ins are
/// kept (the caller counts them for coverage).
fn read(
    paths: &[PathBuf],
    test_cases: bool,
    readings: &mut Readings,
    sink: impl FnMut(DecodedRecord) + Send,
) -> IngestReport {
    let opts = ReadOptions {
        progress: readings.next(),
        decode: DecodeOptions {
            unwrap_test_cases: test_cases,
            ..DecodeOptions::default()
        },
        drop_duplicate_sign_ins: false,
        ..ReadOptions::default()
    };
    super::read_beside(paths, opts, sink).0
}
