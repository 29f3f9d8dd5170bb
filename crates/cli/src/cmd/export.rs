//! `tokentrail export`: the rules in another engine's language. The forms themselves are the
//! rules' own (`tokentrail_engine::export`); this command picks one and writes it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use tokentrail_engine::export::kql::{self, KqlOptions};
use tokentrail_engine::export::spark::{spark_sql, SparkOptions};
use tokentrail_engine::{allowlist, Thresholds};
use tokentrail_model::Timestamp;

use super::{parse_time, wall_clock};

/// What to export to.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// One Spark SQL script over the tables `tokentrail normalize` writes (Databricks, any
    /// Spark 3.5): statements separated by `;`, the last a SELECT of the findings.
    SparkSql,
    /// The rules as KQL over the Sentinel / Log Analytics tables.
    Kql,
}

/// How KQL is written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum KqlFormat {
    /// Sentinel scheduled analytic rules (YAML, one file per rule, with query, frequency,
    /// period and entity mappings), the workspace functions they call (an ARM template), and
    /// the allowlist as a watchlist CSV.
    Sentinel,
    /// The bare queries (one `.kql` file per rule in --output, or all on stdout).
    Kql,
    /// The rules as JSON lines, one object per rule (code, name, severity, schedule, what the
    /// KQL form cannot do, the self-contained query), for pipelines that create rules
    /// through an API; on stdout or in the --output file.
    Json,
}

/// Arguments of `export`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tokentrail normalize exports/ --out lake/
  tokentrail export --target spark-sql --normalized lake/ -o rules.sql
  tokentrail export --target spark-sql --normalized lake/ --allowlist allowlist.yaml -o rules.sql
  spark-sql -f rules.sql                 (or a Databricks SQL notebook: docs/spark.md)
  tokentrail findings spark-findings.csv --format html -o report.html
  tokentrail export --target kql --out sentinel/ --allowlist allowlist.yaml
  tokentrail export --target kql --format kql > rules.kql
  tokentrail export --target kql --format json -o rules.jsonl

The Spark script reads DIR/sign_ins and DIR/accesses (give the path the cluster sees:
dbfs:/..., abfss://..., s3://...) and ends with a SELECT of the findings with the columns of
`detect --format csv` and detect's finding ids. What each form cannot do that the engine
does is in docs/spark.md and docs/kql.md.

Exit codes: 0 written; 2 bad arguments, an unreadable allowlist, or a file that cannot be
written.")]
pub struct ExportArgs {
    /// The engine to export to.
    #[arg(long, value_enum)]
    target: Target,
    /// Spark: the folder `tokentrail normalize` wrote, as the cluster sees it.
    #[arg(long, value_name = "DIR", required_if_eq("target", "spark-sql"))]
    normalized: Option<String>,
    /// Spark: a folder the script writes its intermediate tables to, as the cluster sees it
    /// (default: DIR/_tokentrail_work).
    #[arg(long, value_name = "DIR", requires = "normalized")]
    work: Option<String>,
    /// KQL: Sentinel analytic rules (YAML), bare queries, or the rules as JSON lines.
    #[arg(long, value_enum, default_value = "sentinel")]
    format: KqlFormat,
    /// Where to write: a file for Spark SQL (default: stdout); a folder for KQL (one file per
    /// rule; default for bare queries: stdout).
    #[arg(
        short = 'o',
        long = "output",
        visible_alias = "out",
        value_name = "PATH"
    )]
    out: Option<PathBuf>,
    /// The allowlist: for KQL a Sentinel watchlist CSV the queries consult (expired entries
    /// are left out as of --now); for Spark written into the script, whose findings it
    /// matches come back marked suppressed (an entry expired when the script runs matches
    /// nothing).
    #[arg(long, value_name = "FILE")]
    allowlist: Option<PathBuf>,
    /// The time expiry is judged at (default: now, UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_time, hide = true)]
    now: Option<Timestamp>,
}

/// The allowlist at `path`, its errors listed with their lines.
fn read_allowlist(
    path: Option<&std::path::Path>,
    now: Timestamp,
) -> anyhow::Result<Option<allowlist::Allowlist>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read allowlist {}", path.display()))?;
    let allowlist = allowlist::parse(&text, now).map_err(|errors| {
        let lines: Vec<String> = errors
            .iter()
            .map(|e| format!("  {}:{}: {}", path.display(), e.line, e.message))
            .collect();
        anyhow::anyhow!(
            "allowlist {} has {} error(s):\n{}",
            path.display(),
            errors.len(),
            lines.join("\n")
        )
    })?;
    Ok(Some(allowlist))
}

/// Run `export`.
pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    match args.target {
        Target::SparkSql => {
            let normalized = args.normalized.clone().unwrap_or_default();
            let now = args.now.unwrap_or_else(wall_clock);
            let sql = spark_sql(&SparkOptions {
                normalized,
                work: args.work.clone(),
                thresholds: Thresholds::default(),
                allowlist: read_allowlist(args.allowlist.as_deref(), now)?,
            })?;
            write_to(args.out.as_deref(), sql.as_bytes())?;
        }
        Target::Kql => {
            if args.normalized.is_some() {
                bail!("--normalized is for --target spark-sql: the KQL form reads the Sentinel tables themselves");
            }
            let now = args.now.unwrap_or_else(wall_clock);
            let allowlist = read_allowlist(args.allowlist.as_deref(), now)?;
            let options = KqlOptions {
                thresholds: Thresholds::default(),
                allowlist,
                now,
            };
            let files = match args.format {
                KqlFormat::Sentinel => kql::sentinel_rules(&options)?,
                KqlFormat::Kql => kql::bare_queries(&options)?,
                KqlFormat::Json => {
                    let mut lines = String::new();
                    for q in kql::rule_queries(&options)? {
                        let m = q.rule.meta();
                        let rule = serde_json::json!({
                            "rule": m.code,
                            "name": m.name,
                            "severity": format!("{:?}", m.severity).to_ascii_lowercase(),
                            "queryFrequency": q.frequency,
                            "queryPeriod": q.period,
                            "cannot": q.cannot,
                            "watchlist": kql::WATCHLIST_ALIAS,
                            "query": q.query,
                        });
                        lines.push_str(&rule.to_string());
                        lines.push('\n');
                    }
                    write_to(args.out.as_deref(), lines.as_bytes())?;
                    return Ok(ExitCode::SUCCESS);
                }
            };
            match (&args.out, args.format) {
                (Some(dir), _) => {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                    for (name, text) in &files {
                        let path = dir.join(name);
                        std::fs::write(&path, text)
                            .with_context(|| format!("cannot write {}", path.display()))?;
                    }
                    let _ = writeln!(
                        std::io::stderr(),
                        "tokentrail: wrote {} file(s) to {}",
                        files.len(),
                        dir.display()
                    );
                }
                (None, KqlFormat::Kql) => {
                    let mut all = String::new();
                    for (name, text) in files.iter().filter(|(n, _)| n.ends_with(".kql")) {
                        all.push_str(&format!("// ---- {name}\n{text}\n"));
                    }
                    write_to(None, all.as_bytes())?;
                }
                // Written above, to stdout or the --output file.
                (None, KqlFormat::Json) => {}
                (None, KqlFormat::Sentinel) => {
                    bail!("Sentinel rules are one file per rule: give --out DIR (or --format kql for the bare queries on stdout)")
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_to(path: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match path {
        Some(p) if p != Path::new("-") => {
            std::fs::write(p, bytes).with_context(|| format!("cannot write {}", p.display()))
        }
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()?;
            Ok(())
        }
    }
}
