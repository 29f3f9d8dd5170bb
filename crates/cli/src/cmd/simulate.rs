//! `tokentrail simulate`: write a labelled synthetic tenant (see `tokentrail-sim`).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use tokentrail_sim::{parse_attacks, parse_profile, parse_start, simulate, Formats, SimConfig};

/// Arguments of `simulate`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tokentrail simulate --users 500 --days 7 --seed 7 --out tenant/
  tokentrail simulate --profile small-office --users 25 --days 14 --seed 21 --out office/
  tokentrail simulate --formats signins=graph,ual=purview-csv --out tenant/

Profiles: default (a busy tenant around the clock, attackers on hosting networks after the
first day) and small-office (5 to 50 people with weekdays and quiet nights and weekends,
laptops carrying long-lived tokens between home and the office, personal devices, attackers
on Azure, on the first day, at night and at weekends, and one expected miss). labels.jsonl
holds one label per attack; \"expected_miss\": true marks a documented blind spot, which
`score` counts apart from recall.")]
pub struct SimulateArgs {
    /// What kind of tenant: `default` or `small-office`.
    #[arg(long, default_value = "default")]
    pub profile: String,
    /// People in the tenant (a delegated automation account is added; a small office has 5
    /// to 50).
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
    /// Sign-ins: la-jsonl, diagnostic, graph. Graph: la-jsonl, diagnostic. UAL: mgmt-api,
    /// jsonl, purview-csv.
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
        profile: parse_profile(&args.profile)?,
    };
    let summary =
        simulate(&cfg).with_context(|| format!("simulating into {}", cfg.out.display()))?;
    let mut out = std::io::stdout().lock();
    let who = match cfg.profile {
        tokentrail_sim::Profile::Default => {
            format!("{} users + 1 automation account", summary.users)
        }
        tokentrail_sim::Profile::SmallOffice => {
            format!("a small office of {} people", summary.users)
        }
    };
    writeln!(
        out,
        "wrote {} records in {} files to {} ({who}, {} days, seed {})",
        summary.records(),
        summary.files.len(),
        cfg.out.display(),
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
