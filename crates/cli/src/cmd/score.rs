//! `tokentrail score`: measure findings against a synthetic tenant's labels.
//!
//! The matching rules and the measures are defined in `tokentrail_report::score`. Scoring is a
//! measurement, not a judgement: the exit code is 0 whatever the recall, and only unreadable
//! input fails the command.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use tokentrail_report::score::{read_findings, read_labels, score};

/// Arguments of `score`.
#[derive(clap::Args, Debug)]
pub struct ScoreArgs {
    /// Findings: OCSF JSON lines as `tokentrail detect --format ocsf` writes them.
    #[arg(long, value_name = "FILE")]
    findings: PathBuf,
    /// Ground truth: the `labels.jsonl` that `tokentrail simulate` wrote.
    #[arg(long, value_name = "FILE")]
    labels: PathBuf,
    /// Print the score as JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Run `score`.
pub fn run(args: ScoreArgs) -> anyhow::Result<ExitCode> {
    let findings = read_findings(&args.findings)?;
    let labels = read_labels(&args.labels)?;
    let result = score(&findings, &labels);
    let text = if args.json {
        let mut json = serde_json::to_string_pretty(&result).context("cannot write the score")?;
        json.push('\n');
        json
    } else {
        result.to_text()
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
