//! `tokentrail inventory`: list the non-interactive and app-only access patterns (client app,
//! principal, identity type, networks, workloads, risky traits) and draft an allowlist from
//! them that a person must review before `detect` accepts it.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use tokentrail_model::Timestamp;
use tokentrail_posture::{render, InventoryBuilder};

use crate::cmd::coverage::{read_inputs, run_info, ReportFormat};
use crate::cmd::{check_input, exit_code, open_output, parse_time, wall_clock};

/// List the legitimate non-interactive and app-only access patterns.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tokentrail inventory exports/                           Markdown report on stdout
  tokentrail inventory exports/ --format json -o inventory.json
  tokentrail inventory exports/ --emit-allowlist draft.yaml --owner it-ops@contoso.example

--emit-allowlist writes one allowlist entry per pattern, each with a reason starting with
\"REVIEW:\" and an expiry 90 days after the run. `tokentrail detect --allowlist` refuses the file
(exit 2, naming every such entry) until a person has deleted the patterns that are not
legitimate and replaced each REVIEW text with the real reason.

Exit codes: 0 every record read; 1 some input unreadable (each place is listed on
stderr); 2 bad arguments, nothing readable, or no sign-in and no access in the inputs.")]
pub struct InventoryArgs {
    /// Files, directories (read recursively), .gz or .zip archives, or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
    pub format: ReportFormat,
    /// Write the report to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write a draft allowlist (YAML) with one entry per pattern to FILE.
    #[arg(long, value_name = "FILE")]
    pub emit_allowlist: Option<PathBuf>,
    /// Owner written into each drafted allowlist entry.
    #[arg(long, value_name = "TEXT", default_value = "unassigned")]
    pub owner: String,
    /// Read test-case files as the raw events they hold.
    #[arg(long)]
    pub test_cases: bool,
    /// The date of the run (report header, allowlist expiry; default: now, UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_time, hide = true)]
    pub now: Option<Timestamp>,
}

/// Run `inventory`.
pub fn run(args: InventoryArgs) -> anyhow::Result<ExitCode> {
    let builder = std::cell::RefCell::new(InventoryBuilder::new());
    let report = read_inputs(
        &args.paths,
        args.test_cases,
        &mut |s| builder.borrow_mut().add_sign_in(s),
        &mut |a| builder.borrow_mut().add_access(a),
    );
    if let Some(code) = check_input(&report)? {
        return Ok(code);
    }
    let inventory = builder
        .into_inner()
        .finish(run_info(&report, args.now.unwrap_or_else(wall_clock)));
    if let Some(path) = &args.emit_allowlist {
        std::fs::write(path, inventory.draft_allowlist(&args.owner))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut out = open_output(args.output.as_deref())?;
    match args.format {
        ReportFormat::Md => render::inventory_markdown(&mut out, &inventory)?,
        ReportFormat::Json => render::inventory_json(&mut out, &inventory)?,
    }
    out.flush()?;
    writeln!(
        io::stderr(),
        "tokentrail: read {} records from {} input(s); {} access patterns{}",
        report.totals.records,
        report.totals.files,
        inventory.patterns.len(),
        match &args.emit_allowlist {
            Some(p) => format!(
                "; draft allowlist written to {} (review every REVIEW reason before use)",
                p.display()
            ),
            None => String::new(),
        }
    )?;
    Ok(exit_code(&report))
}
