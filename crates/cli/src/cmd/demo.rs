//! `tokentrail demo`: run detection on the example tenant that ships with the source tree
//! (`examples/tenant`, written by `tokentrail simulate`), then score the findings against the
//! attacks injected into it.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use tokentrail_report::ocsf::{ocsf_value, OcsfOptions};
use tokentrail_report::score::{finding_from_value, read_labels, score, Ratio};

use super::detect::{self, DetectArgs, OutputFormat};
use super::judging::JudgingArgs;

/// Where the example tenant lives in the source tree this binary was built from.
const EXAMPLE_TENANT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/tenant");

/// The tenant's log folders; its README, summary and labels are not logs.
const LOG_FOLDERS: [&str; 3] = ["signins", "graph", "ual"];

/// Run detection on the built-in example tenant (a labelled synthetic tenant) and score it.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  cargo run --release -- demo
  tokentrail demo --format ocsf | head -1

The example tenant is examples/tenant in the source tree; its labels.jsonl lists the
attacks injected into it. The same run by hand:
  tokentrail detect examples/tenant/{signins,graph,ual} --format ocsf -o findings.jsonl
  tokentrail score --findings findings.jsonl --labels examples/tenant/labels.jsonl")]
pub struct DemoArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Write findings to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Allowlist, ASN database, reporting window, rules and severity: as for detect.
    #[command(flatten)]
    pub judging: JudgingArgs,
}

fn ratio(r: &Ratio) -> String {
    match r.value {
        Some(v) => format!("{v:.2} ({}/{})", r.hit, r.of),
        None => "n/a".to_owned(),
    }
}

/// Run `demo`.
pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let tenant = PathBuf::from(EXAMPLE_TENANT);
    let tenant = std::fs::canonicalize(&tenant).unwrap_or(tenant);
    if !tenant.is_dir() {
        bail!(
            "the example tenant is not at {} (demo runs from a source checkout; \
             elsewhere use `tokentrail simulate -o DIR` and `tokentrail detect DIR`)",
            tenant.display()
        );
    }
    eprintln!(
        "tokentrail: running detection on the example tenant in {}",
        tenant.display()
    );
    let detect_args = DetectArgs {
        paths: LOG_FOLDERS.iter().map(|f| tenant.join(f)).collect(),
        judging: args.judging,
        format: args.format,
        output: args.output,
        show_suppressed: false,
        test_cases: false,
        threads: None,
        accesses_in_memory: None,
        partitions: None,
    };
    let (detection, report, times) = detect::detect(&detect_args)?;
    let code = detect::finish(&detect_args, &detection, &report, &times)?;

    let labels =
        read_labels(&tenant.join("labels.jsonl")).context("cannot read the tenant's labels")?;
    let mut scored = Vec::with_capacity(detection.findings.len());
    for finding in &detection.findings {
        let value = ocsf_value(finding, &OcsfOptions::default())?;
        scored.push(finding_from_value(&value).map_err(anyhow::Error::msg)?);
    }
    let result = score(&scored, &labels);
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "tokentrail: against the {} injected attacks: recall {}, precision {} (see `tokentrail score`)",
        result.labels,
        ratio(&result.recall),
        ratio(&result.precision)
    )?;
    Ok(code)
}
