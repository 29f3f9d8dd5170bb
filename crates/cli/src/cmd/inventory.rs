//! `tokentrail inventory`: list the non-interactive and app-only access patterns (client app,
//! principal, identity type, networks, workloads, risky traits) and draft an allowlist from
//! them that a person must review before `detect` accepts it.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use tokentrail_engine::Engine;
use tokentrail_ingest::{DecodeOptions, Decoded};
use tokentrail_posture::{render, InventoryBuilder};

use crate::cmd::coverage::{read_inputs, run_info, ReportFormat};
use crate::cmd::judging::{Judging, JudgingArgs};
use crate::cmd::open_output;

/// List the legitimate non-interactive and app-only access patterns.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tokentrail inventory exports/                           Markdown report on stdout
  tokentrail inventory exports/ --format json -o inventory.json
  tokentrail inventory exports/ --emit-allowlist draft.yaml --owner it-ops@contoso.example

--emit-allowlist writes one allowlist entry per pattern, each with a reason starting with
\"REVIEW:\" and an expiry 90 days after the run. A pattern holding records that live findings
cite (an attacker's client, an orphan token's client) is drafted commented out, with the
finding ids: approving it would silence them. `tokentrail detect --allowlist` refuses the file
(exit 2, naming every such entry) until a person has deleted the patterns that are not
legitimate and replaced each REVIEW text with the real reason.

Exit codes: 0 every record read; 1 some input unreadable or dated impossibly (each place is
listed on stderr); 2 bad arguments, nothing readable, or no sign-in and no access in the
inputs.")]
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
    /// The judging options, as for detect: the findings they give mark the patterns that must
    /// not be approved. The inventory covers every record given, and so do its marks:
    /// --since/--until, --rules and --min-severity do not narrow them.
    #[command(flatten)]
    pub judging: JudgingArgs,
}

/// Run `inventory`.
pub fn run(args: InventoryArgs) -> anyhow::Result<ExitCode> {
    let Judging {
        mut config,
        mut times,
    } = args.judging.compile()?;
    // A pattern holding an attack before --since, or one of a rule or severity left out of
    // the report, is no less an attack.
    config.since = None;
    config.until = None;
    config.rules = None;
    config.min_severity = None;
    let now = config.now;
    let mut builder = InventoryBuilder::new();
    let mut engine = Engine::new(config);
    let report = read_inputs(
        &args.paths,
        DecodeOptions {
            unwrap_test_cases: args.test_cases,
            ..DecodeOptions::default()
        },
        None,
        &mut times,
        &mut |event| match event {
            Decoded::SignIn(s) => {
                builder.add_sign_in(&s);
                engine.add_sign_in(*s);
            }
            Decoded::Access(a) => {
                builder.add_access(&a);
                engine.add_access(*a);
            }
            Decoded::Other(_) => {}
        },
    );
    if let Some(code) = times.check_input(&report)? {
        return Ok(code);
    }
    builder.judged_by(&engine.finish());
    let inventory = builder.finish(run_info(&report, now));
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
        "tokentrail: read {} records from {} input(s); {} access patterns, {} holding records that live findings cite{}",
        report.totals.records,
        report.totals.files,
        inventory.patterns.len(),
        inventory
            .patterns
            .iter()
            .filter(|p| !p.findings.is_empty())
            .count(),
        match &args.emit_allowlist {
            Some(p) => format!(
                "; draft allowlist written to {} (review every REVIEW reason before use)",
                p.display()
            ),
            None => String::new(),
        }
    )?;
    Ok(times.exit_code(&report))
}
