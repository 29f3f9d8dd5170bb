//! `tokentrail report`: one self-contained HTML file with the summary, the findings (sortable
//! and filterable), each finding's chain and timeline, the coverage verdicts and the
//! inventory's top patterns.
//!
//! Unreadable input is listed on stderr as in `detect`, and decides the exit code the same way.

use std::cell::RefCell;
use std::collections::HashSet;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use tokentrail_html::ReportInput;
use tokentrail_model::{Access, SignIn, Timestamp};
use tokentrail_posture::{CoverageBuilder, CoverageOptions, InventoryBuilder};

use super::coverage::{read_inputs, run_info};
use super::{check_input, exit_code, open_output, parse_time, wall_clock};

/// Write a self-contained HTML report of a run.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tokentrail report exports/ -o report.html
  tokentrail report signins/ graph/ ual/ -o case-2026-11.html

The file has no external assets: it opens offline and can be mailed. It is readable in light
and dark schemes and prints cleanly.

Exit codes: 0 every record read; 1 some input unreadable (each place is listed on
stderr); 2 bad arguments, or nothing readable.")]
pub struct ReportArgs {
    /// Files, directories (read recursively), .gz or .zip archives, or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Write the report to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Read test-case files as the raw events they hold.
    #[arg(long)]
    pub test_cases: bool,
    /// The date of the run printed in the report (default: now, UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_time, hide = true)]
    pub now: Option<Timestamp>,
}

/// Run `report`.
pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let builders = RefCell::new((
        CoverageBuilder::new(CoverageOptions::default()),
        InventoryBuilder::new(),
    ));
    let mut sign_ins: Vec<SignIn> = Vec::new();
    let mut accesses: Vec<Access> = Vec::new();
    // Coverage counts duplicate sign-in rows; detection and the chains must see each once.
    let mut seen = HashSet::new();
    let report = read_inputs(
        &args.paths,
        args.test_cases,
        &mut |s| {
            let (coverage, inventory) = &mut *builders.borrow_mut();
            coverage.add_sign_in(s);
            inventory.add_sign_in(s);
            if s.id.is_none_or(|id| seen.insert((id, s.kind.as_str()))) {
                sign_ins.push(s.clone());
            }
        },
        &mut |a| {
            let (coverage, inventory) = &mut *builders.borrow_mut();
            coverage.add_access(a);
            inventory.add_access(a);
            accesses.push(a.clone());
        },
    );
    if let Some(code) = check_input(&report)? {
        return Ok(code);
    }
    let run = run_info(&report, args.now.unwrap_or_else(wall_clock));
    let (coverage, inventory) = builders.into_inner();
    let coverage = coverage.finish(run.clone());
    let inventory = inventory.finish(run.clone());
    let detection = super::detect_over(&sign_ins, &accesses);
    let input = ReportInput {
        run: &run,
        sign_ins: &sign_ins,
        accesses: &accesses,
        findings: &detection.findings,
        coverage: &coverage,
        inventory: &inventory,
    };
    let mut out = open_output(args.output.as_deref())?;
    tokentrail_html::write_report(&mut out, &input)?;
    out.flush()?;
    writeln!(
        io::stderr(),
        "tokentrail: read {} records from {} input(s); {} finding(s) in the report",
        report.totals.records,
        report.totals.files,
        detection.findings.len()
    )?;
    Ok(exit_code(&report))
}
