//! `tokentrail simulate`: write a labelled synthetic tenant (see `tokentrail-sim`).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use tokentrail_sim::{parse_attacks, parse_profile, parse_start, simulate, Formats, SimConfig};

/// How `simulate` prints its summary.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SummaryFormat {
    /// Counts per family and kind, for people.
    Text,
    /// The summary as one JSON object (the same as the folder's summary.json).
    Json,
}

/// Arguments of `simulate`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tokentrail simulate -o tenant/                      50 users, 1 day, every attack kind
  tokentrail simulate --users 40 --days 14 --seed 7 -o tenant/
  tokentrail simulate --profile small-office --users 25 --days 14 --seed 21 -o office/
  tokentrail simulate --attacks session-replay,orphan-token -o tenant/
  tokentrail simulate --formats signins=diagnostic,ual=purview-csv -o tenant/
  tokentrail detect tenant/ --format ocsf -o findings.jsonl
  tokentrail score --findings findings.jsonl --labels tenant/labels.jsonl

Profiles: default (a busy tenant around the clock, attackers on hosting networks after the
first day) and small-office (5 to 50 people with weekdays and quiet nights and weekends,
laptops carrying long-lived tokens between home and the office, personal devices, attackers
on Azure, on the first day, at night and at weekends, and one expected miss).

The folder gets signins/, graph/, ual/ (one file per day and shape; the admin center CSV
is one file per tab, as the portal writes it), labels.jsonl (the ground truth: one label per
attack; \"expected_miss\": true marks a documented blind spot, which `score` counts apart
from recall) and summary.json. A folder that already holds files is refused unless --force:
two tenants in one folder would be read as one.

Exit codes: 0 written; 2 bad arguments, a non-empty folder without --force, or a write
failure.")]
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
    /// Output directory (created if missing; refused if it holds files, unless --force).
    #[arg(
        short = 'o',
        long = "output",
        visible_alias = "out",
        value_name = "DIR"
    )]
    pub out: PathBuf,
    /// How the summary of what was written is printed on stdout (the folder's summary.json
    /// holds it too).
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub format: SummaryFormat,
    /// Write into a folder that already holds files (same-named files are replaced, others
    /// are left as they are).
    #[arg(long)]
    pub force: bool,
    /// Attacks to inject: `all`, `none`, or a comma list of kinds (stolen-access-token,
    /// session-replay, device-code-phish, orphan-token, no-interactive-root, unapproved-client).
    #[arg(long, default_value = "all")]
    pub attacks: String,
    /// Export shape per family, e.g. `signins=la-jsonl,graph=diagnostic,ual=purview-csv`.
    /// Sign-ins: la-jsonl, diagnostic, graph, entra-portal-csv, defender-hunting,
    /// defender-stream, graph-sdk (Get-MgBetaAuditLogSignIn | ConvertTo-Json). Graph: la-jsonl,
    /// diagnostic, defender-hunting. UAL: mgmt-api, jsonl, purview-csv, search-csv
    /// (Search-UnifiedAuditLog | Export-Csv), defender-stream. Query answers: la-api (Log
    /// Analytics Query API) and kusto-v1 (Azure Data Explorer) for sign-ins and Graph; elastic
    /// (Elasticsearch hits keeping event.original) for every family. A family not named keeps
    /// its default: la-jsonl for sign-ins and Graph, mgmt-api for the UAL. `text=utf-16le` (or
    /// utf-16be) writes every log file as UTF-16, as Windows PowerShell 5.1 saves exports;
    /// utf-16le-nobom and utf-16be-nobom without the byte order mark; utf-32le and utf-32be as
    /// UTF-32 with one; the default is utf-8.
    #[arg(long, value_name = "FAMILY=SHAPE,...")]
    pub formats: Option<String>,
    /// First day (UTC), `YYYY-MM-DD`.
    #[arg(long)]
    pub start: Option<String>,
}

/// Run `simulate`.
pub fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    if let Some(entries) = files_in(&args.out) {
        if !args.force {
            writeln!(
                std::io::stderr(),
                "tokentrail: {} already holds {entries} entr{}; a second tenant there would be \
                 read together with the first. Choose an empty folder, or pass --force.",
                args.out.display(),
                if entries == 1 { "y" } else { "ies" }
            )?;
            return Ok(ExitCode::from(crate::exit::USAGE));
        }
        writeln!(
            std::io::stderr(),
            "tokentrail: --force: writing into {}, which already holds {entries} entr{}; \
             files of the same name are replaced, the others are kept",
            args.out.display(),
            if entries == 1 { "y" } else { "ies" }
        )?;
    }
    let format = args.format;
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
        formats: Formats::parse(args.formats.as_deref().unwrap_or(""))?,
        profile: parse_profile(&args.profile)?,
    };
    let summary =
        simulate(&cfg).with_context(|| format!("simulating into {}", cfg.out.display()))?;
    let mut out = std::io::stdout().lock();
    if format == SummaryFormat::Json {
        tokentrail_model::escape::write_json_pretty(&mut out, &summary)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
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
        tokentrail_model::escape::Shown(&cfg.out.display().to_string()),
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

/// How many entries `dir` holds, when it is a folder that holds any.
fn files_in(dir: &Path) -> Option<usize> {
    let entries = std::fs::read_dir(dir).ok()?.count();
    (entries > 0).then_some(entries)
}
