//! `tokentrail simulate`: write a labelled synthetic tenant (see `tokentrail-sim`).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use tokentrail_sim::{parse_attacks, parse_start, simulate, Formats, SimConfig};

/// Arguments of `simulate`.
#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    /// People in the tenant (a delegated automation account is added).
    #[arg(long, default_value_t = 50)]
    pub users: u32,
    /// Days to simulate.
    #[arg(long, default_value_t = 1)]
    pub days: u32,
    /// Seed: the same arguments give byte-identical output.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output directory (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Attacks to inject: `all`, `none`, or a comma list of kinds (stolen-access-token,
    /// session-replay, device-code-phish, orphan-token, no-interactive-root, unapproved-client).
    #[arg(long, default_value = "all")]
    pub attacks: String,
    /// Export shape per family, e.g. `signins=la-jsonl,graph=diagnostic,ual=purview-csv`.
    /// Sign-ins: la-jsonl, diagnostic, graph, entra-portal-csv, defender-hunting,
    /// defender-stream. Graph: la-jsonl, diagnostic, defender-hunting. UAL: mgmt-api, jsonl,
    /// purview-csv, defender-stream.
    #[arg(long, default_value = "")]
    pub formats: String,
    /// First day (UTC), `YYYY-MM-DD`.
    #[arg(long)]
    pub start: Option<String>,
}

/// Run `simulate`.
pub fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let cfg = SimConfig {
        users: args.users,
        days: args.days,
        seed: args.seed,
        start: match args.start.as_deref() {
            Some(text) => parse_start(text)?,
            None => SimConfig::default_start(),
        },
        out: args.out,
        attacks: parse_attacks(&args.attacks)?,
        formats: Formats::parse(&args.formats)?,
    };
    let summary =
        simulate(&cfg).with_context(|| format!("simulating into {}", cfg.out.display()))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "wrote {} records in {} files to {} ({} users + 1 automation account, {} days, seed {})",
        summary.records(),
        summary.files.len(),
        cfg.out.display(),
        summary.users,
        summary.days,
        summary.seed
    )?;
    for (family, n) in &summary.families {
        writeln!(out, "  {family:<16} {n:>10}")?;
    }
    for (kind, n) in &summary.kinds {
        writeln!(out, "    {kind:<18} {n:>10}")?;
    }
    writeln!(
        out,
        "  labels           {:>10}  (labels.jsonl; counts in summary.json)",
        summary.labels
    )?;
    Ok(ExitCode::SUCCESS)
}
