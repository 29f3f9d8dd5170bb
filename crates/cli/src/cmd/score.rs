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
#[command(after_help = "\
Examples:
  tokentrail simulate --users 40 --days 14 -o tenant/
  tokentrail detect tenant/ --format ocsf -o findings.jsonl
  tokentrail score --findings findings.jsonl --labels tenant/labels.jsonl
  tokentrail score --findings findings.jsonl --labels tenant/labels.jsonl --format json -o score.json

A finding matches an injected attack when it names the attack's session or one of its tokens,
or (for findings keyed on no session or token, and TT003/TT005) its user within its time span;
the rules are documented in the tokentrail-report crate (score module). Recall is per attack
kind and per rule; precision is over every unsuppressed finding.

Exit codes: 0 scored (whatever the recall); 2 bad arguments, or a file that cannot be read or
holds a line that is not a finding or a label (its line number is given).")]
pub struct ScoreArgs {
    /// Findings: OCSF JSON lines as `tokentrail detect --format ocsf` writes them.
    #[arg(long, value_name = "FILE")]
    findings: PathBuf,
    /// Ground truth: the `labels.jsonl` that `tokentrail simulate` wrote.
    #[arg(long, value_name = "FILE")]
    labels: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ScoreFormat::Text)]
    format: ScoreFormat,
    /// Write the score to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Deprecated: the same as `--format json`.
    #[arg(long, hide = true, conflicts_with = "format")]
    json: bool,
}

/// How the score is written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScoreFormat {
    /// Recall and precision, per attack kind and rule, with the misses listed.
    Text,
    /// The same measures as one JSON object.
    Json,
}

/// Run `score`.
pub fn run(args: ScoreArgs) -> anyhow::Result<ExitCode> {
    let findings = read_findings(&args.findings)?;
    let labels = read_labels(&args.labels)?;
    let result = score(&findings, &labels);
    let text = if args.json || args.format == ScoreFormat::Json {
        // Finding and label ids come from files anyone may have written: the escaper shows
        // control and bidi characters as escapes, as every other JSON output does.
        let mut json = Vec::new();
        tokentrail_model::escape::write_json_pretty(&mut json, &result)
            .context("cannot write the score")?;
        json.push(b'\n');
        String::from_utf8(json).context("cannot write the score")?
    } else {
        result.to_text()
    };
    let mut out = super::open_output(args.output.as_deref())?;
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
