//! `tokentrail`: follow Microsoft 365 access tokens from the sign-in that minted them to the
//! mail, files and Graph calls they touched, and find the ones reused from elsewhere.
//!
//! This binary only parses arguments, wires the library crates together, draws progress and
//! maps outcomes to exit codes; the logic lives in the `tokentrail-*` crates.

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod asn;
mod cmd;
mod exit;
mod progress;

// Records are decoded (allocated) on the decoding threads and dropped on the reading thread;
// glibc's allocator handles that cross-thread traffic poorly, mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Follow Microsoft 365 access tokens from sign-in to use, and find the ones replayed from
/// somewhere the user never signed in (MITRE ATT&CK AN0959, T1550).
#[derive(Parser, Debug)]
#[command(name = "tokentrail", version, about, long_about = None, after_help = exit::EXIT_CODES_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show what each input file holds: format, families, kinds, operations, time range, and
    /// every unreadable record with its place.
    Inspect(cmd::inspect::InspectArgs),
    /// Find tokens and sessions reused from somewhere the user never signed in (TT001-TT005).
    Detect(cmd::detect::DetectArgs),
    /// Run detection on the built-in example tenant.
    Demo(cmd::demo::DemoArgs),
    /// Say what the logs can and cannot show: per log family presence, span, completeness,
    /// join rates, and a verdict per rule.
    Coverage(cmd::coverage::CoverageArgs),
    /// Reconstruct one user's, session's, token's or IP address's activity: the chain, the
    /// networks, the timeline with its findings, what was touched, and containment steps.
    Investigate(cmd::investigate::InvestigateArgs),
    /// List the legitimate non-interactive and app-only access patterns, and draft an
    /// allowlist from them.
    Inventory(cmd::inventory::InventoryArgs),
    /// Write one self-contained HTML report: summary, findings, each finding's chain and
    /// timeline, coverage verdicts and the top access patterns.
    Report(cmd::report::ReportArgs),
    /// Write the sign-ins, accesses and findings of a user, a session or the whole tenant as
    /// a timeline Timesketch imports (JSON lines or CSV).
    Timeline(cmd::timeline::TimelineArgs),
    /// Write every readable sign-in and access as Parquet tables partitioned by day, in
    /// tokentrail's normalized model (for Spark, Databricks).
    Normalize(cmd::normalize::NormalizeArgs),
    /// Render findings produced elsewhere (Spark's findings table as Parquet, CSV or JSON, or
    /// OCSF lines) as a table, OCSF, CSV, Markdown or HTML.
    Findings(cmd::findings::FindingsArgs),
    /// Write the rules in another engine's language: one Spark SQL script over the normalized
    /// tables, or KQL for Sentinel / Log Analytics (analytic rules or bare queries).
    Export(cmd::export::ExportArgs),
    /// Write a labelled synthetic tenant's logs in the real export formats.
    Simulate(cmd::simulate::SimulateArgs),
    /// Score findings against a synthetic tenant's labels: recall per attack kind and rule,
    /// precision overall.
    Score(cmd::score::ScoreArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Inspect(args) => cmd::inspect::run(args),
        Command::Detect(args) => cmd::detect::run(args),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Coverage(args) => cmd::coverage::run(args),
        Command::Investigate(args) => cmd::investigate::run(args),
        Command::Inventory(args) => cmd::inventory::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Timeline(args) => cmd::timeline::run(args),
        Command::Normalize(args) => cmd::normalize::run(args),
        Command::Findings(args) => cmd::findings::run(args),
        Command::Export(args) => cmd::export::run(args),
        Command::Simulate(args) => cmd::simulate::run(args),
        Command::Score(args) => cmd::score::run(args),
    };
    match outcome {
        Ok(code) => code,
        Err(err) => {
            if exit::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            // Line by line: the message's own lines stay lines, and no control character or
            // bidi override inside one (a file name, say) reaches the terminal.
            let message = exit::error_text(&err);
            let shown: Vec<_> = message
                .split('\n')
                .map(tokentrail_model::escape::terminal)
                .collect();
            let _ = writeln!(std::io::stderr(), "tokentrail: error: {}", shown.join("\n"));
            ExitCode::from(exit::USAGE)
        }
    }
}
