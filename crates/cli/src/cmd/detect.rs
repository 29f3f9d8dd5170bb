//! `tokentrail detect`: read the exports, correlate tokens and sessions, run TT001-TT005, apply
//! the allowlist, and write the findings.
//!
//! Configuration (allowlist, ASN database, time window) is read and checked before the first
//! record, so a typo in the allowlist costs nothing but the message. Findings go to stdout (or
//! `-o FILE`); everything about the run (unreadable records, allowlist entries that expired or
//! matched nothing, suppressed findings, coverage) goes to stderr, so stdout stays pipe-clean.

use std::io::{self, IsTerminal as _, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tokentrail_engine::{Detection, Engine};
use tokentrail_ingest::{DecodeOptions, Decoded, DecodedRecord, Fields, IngestReport, ReadOptions};
use tokentrail_model::Finding;
use tokentrail_report::ocsf::OcsfOptions;
use tokentrail_report::table::TableOptions;

use super::judging::{Judging, JudgingArgs, TimeCheck};
use super::open_output;

/// How findings are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// A terminal table, most severe first, with a summary line.
    Table,
    /// OCSF 1.8.0 Detection Finding, one JSON object per line (docs/finding-schema.md); also
    /// `json`.
    #[value(alias = "json")]
    Ocsf,
    /// CSV with the columns documented in docs/finding-schema.md.
    Csv,
    /// A Markdown summary for tickets; also `md`.
    #[value(alias = "md")]
    Markdown,
}

/// Find tokens and sessions reused from somewhere the user never signed in (TT001-TT005).
#[derive(clap::Args, Debug, Clone)]
#[command(after_help = "\
Examples:
  tokentrail detect exports/                              table on the terminal
  tokentrail detect exports/ --format json -o findings.jsonl   OCSF lines (also --format ocsf)
  tokentrail detect signins.json audit.csv --allowlist allow.yaml --show-suppressed
  tokentrail detect exports/ --asn-db GeoLite2-ASN.mmdb --since 2026-11-01
  tokentrail detect exports/ --min-severity high --rules TT001,TT002
  tokentrail detect exports/ --exclude-rules unapproved-client --format md
  tokentrail detect month/ --partitions 40       a month of a large tenant in 40 parts of its users

The table's first column is each finding's short id, and its last line the command that opens
the first finding's investigation (`tokentrail investigate exports/ --finding b72c7366`);
`investigate` also takes the session and token cells as printed (`--session s:1963e220`).

Rules: TT001 token-replay, TT002 session-replay, TT003 no-interactive-context,
TT004 orphan-token, TT005 unapproved-client (docs/rules/).

Exit codes: 0 every record read; 1 some input unreadable or dated impossibly (each place is
listed on stderr), or records that waited on disk could not be read back; 2 bad arguments or
configuration, nothing readable, or no sign-in and no access in the inputs.")]
pub struct DetectArgs {
    /// Files, directories (read recursively), .gz or .zip archives, or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Allowlist, ASN database, reporting window.
    #[command(flatten)]
    pub judging: JudgingArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Write findings to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also list suppressed findings (they are always counted).
    #[arg(long)]
    pub show_suppressed: bool,
    /// Read test-case files as the raw events they hold (SEKOIA `input.message`, Panther
    /// `Tests[].Log`).
    #[arg(long)]
    pub test_cases: bool,
    /// Threads that decode records (default: one per core). Results do not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Accesses kept in memory; beyond that they wait on disk (unnamed files in the temporary
    /// directory, $TMPDIR) until every sign-in is read. Default about 645,000 (64 MiB). Results
    /// do not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub accesses_in_memory: Option<u64>,
    /// Judge the tenant in N partitions of its users, one at a time, every record waiting on
    /// disk (in $TMPDIR) meanwhile: memory holds one partition's sign-ins instead of all.
    /// Default: all at once in memory up to 8 GiB of logs, beyond that one partition per
    /// 2 GiB (compressed inputs counted at ten times their size). Results do not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub partitions: Option<u16>,
}

/// Read every input into the engine and run it.
pub fn detect(args: &DetectArgs) -> anyhow::Result<(Detection, IngestReport, TimeCheck)> {
    let Judging {
        mut config,
        mut times,
    } = args.judging.compile()?;
    let mut opts = ReadOptions {
        decode: DecodeOptions {
            unwrap_test_cases: args.test_cases,
            // The engine keeps no text that is only displayed: it is not built.
            fields: Fields::Detection,
        },
        // Every row reaches the engine, which merges the rows of one sign-in into the richest
        // whatever order they are read in (the reader would keep the first read).
        drop_duplicate_sign_ins: false,
        ..ReadOptions::default()
    };
    if let Some(threads) = args.threads {
        opts.decode_threads = usize::from(threads);
    }
    // The rules run after reading, on the threads the decoders had.
    config.threads = opts.decode_threads;
    if let Some(n) = args.accesses_in_memory {
        config.accesses_in_memory = usize::try_from(n).unwrap_or(usize::MAX);
    }
    config.partitions = args
        .partitions
        .map_or_else(|| partitions_for(&args.paths), usize::from);
    // Nothing `detect` writes shows the networks of addresses and users.
    config.skip_networks = true;
    let mut engine = Engine::new(config);
    let mut sink = |record: DecodedRecord| match record.event {
        Decoded::SignIn(s) => engine.add_sign_in(s),
        Decoded::Access(a) => engine.add_access(a),
        Decoded::Other(_) => {}
    };
    let (report, _) = super::read_beside(&args.paths, opts, times.filter(&mut sink));
    times.release(&mut sink);
    Ok((engine.finish(), report, times))
}

/// Logs judged at once, in memory, up to this size: about 650 MB of memory at the simulated
/// tenants' rate (README, "Scaling").
const WHOLE_INPUT_BYTES: u64 = 8 << 30;
/// Logs per partition beyond that.
const PARTITION_INPUT_BYTES: u64 = 2 << 30;
/// How much larger than its file a compressed input's logs are, about (gzip and zip shrink
/// JSON and CSV logs some tenfold).
const COMPRESSION: u64 = 10;

/// The partitions of a tenant's users its logs in `paths` are judged in by default (1: at
/// once). Standard input counts as small: its size is not known before it is read.
fn partitions_for(paths: &[PathBuf]) -> usize {
    use tokentrail_ingest::source::{locate, Origin};
    let bytes: u64 = locate(paths)
        .iter()
        .filter_map(|l| match &l.origin {
            Ok(Origin::File { path, size }) => {
                let compressed = path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("gz") || e.eq_ignore_ascii_case("zip"));
                Some(if compressed {
                    size.saturating_mul(COMPRESSION)
                } else {
                    *size
                })
            }
            _ => None,
        })
        .sum();
    if bytes <= WHOLE_INPUT_BYTES {
        1
    } else {
        usize::try_from(bytes.div_ceil(PARTITION_INPUT_BYTES)).unwrap_or(usize::MAX)
    }
}

/// Run `detect`.
pub fn run(args: DetectArgs) -> anyhow::Result<ExitCode> {
    let (detection, report, times) = detect(&args)?;
    finish(&args, &detection, &report, &times)
}

/// Report unreadable input, write the findings and the run notes, and choose the exit code.
pub fn finish(
    args: &DetectArgs,
    detection: &Detection,
    report: &IngestReport,
    times: &TimeCheck,
) -> anyhow::Result<ExitCode> {
    if let Some(code) = times.check_input(report)? {
        return Ok(code);
    }
    write_findings(args, detection)?;
    write_run_notes(&mut io::stderr().lock(), detection, report)?;
    if detection.stats.accesses_lost > 0 || detection.stats.sign_ins_lost > 0 {
        // Not the input's fault, but records went unjudged all the same.
        return Ok(ExitCode::from(1));
    }
    Ok(times.exit_code(report))
}

fn write_findings(args: &DetectArgs, detection: &Detection) -> anyhow::Result<()> {
    let listing = Listing {
        format: args.format,
        output: args.output.as_deref(),
        show_suppressed: args.show_suppressed,
        investigate: investigate_command(&args.paths),
    };
    listing.write(&detection.findings, &detection.suppressed)
}

/// How findings are listed: `detect`'s and `findings`' output options.
pub(crate) struct Listing<'a> {
    /// The format.
    pub format: OutputFormat,
    /// A file, or stdout.
    pub output: Option<&'a Path>,
    /// List suppressed findings too.
    pub show_suppressed: bool,
    /// The `investigate` command over the same logs, which the table ends with.
    pub investigate: Option<String>,
}

/// `tokentrail investigate PATH...` over `paths`, each quoted for a POSIX shell; `None` when
/// one cannot be pasted (standard input, a name with control characters).
pub(crate) fn investigate_command(paths: &[std::path::PathBuf]) -> Option<String> {
    let mut command = String::from("tokentrail investigate");
    for path in paths {
        let text = path.to_str()?;
        if text == "-" {
            return None;
        }
        command.push(' ');
        command.push_str(&tokentrail_model::escape::shell_word(text)?);
    }
    Some(command)
}

impl Listing<'_> {
    /// Write the active `findings` (and `suppressed`, counted or listed as the format does).
    pub fn write(&self, findings: &[Finding], suppressed: &[Finding]) -> anyhow::Result<()> {
        let to_terminal = self.output.is_none() && io::stdout().is_terminal();
        let out = open_output(self.output)?;
        // The table and Markdown count suppressed findings in their summary and list them only
        // on request; the machine formats carry exactly what is listed.
        let all: Vec<Finding> = findings.iter().chain(suppressed).cloned().collect();
        let listed: &[Finding] = if self.show_suppressed { &all } else { findings };
        match self.format {
            OutputFormat::Table => {
                let color = to_terminal && std::env::var_os("NO_COLOR").is_none();
                let options = TableOptions {
                    color,
                    show_suppressed: self.show_suppressed,
                    investigate: self.investigate.clone(),
                };
                tokentrail_report::table::write_table(out, &all, &options)?
            }
            OutputFormat::Ocsf => {
                tokentrail_report::ocsf::write_ocsf_lines(out, listed, &OcsfOptions::default())?
            }
            OutputFormat::Csv => tokentrail_report::csv::write_csv(out, listed)?,
            OutputFormat::Markdown => tokentrail_report::markdown::write_markdown(
                out,
                &all,
                self.show_suppressed,
                self.investigate.as_deref(),
            )?,
        }
        Ok(())
    }
}

fn write_run_notes(
    err: &mut impl Write,
    detection: &Detection,
    report: &IngestReport,
) -> io::Result<()> {
    let t = &report.totals;
    let stats = &detection.stats;
    writeln!(
        err,
        "tokentrail: read {} records from {} input(s): {} sign-ins, {} accesses; {} findings, {} suppressed",
        t.records,
        t.files,
        stats.sign_ins_read,
        stats.accesses_read,
        detection.findings.len(),
        detection.suppressed.len()
    )?;
    if stats.sign_ins_kind_settled > 0 {
        writeln!(
            err,
            "tokentrail: {} sign-in(s) whose export did not state their kind took the kind the \
             other rows of their file state, or its admin center name (one tab per file)",
            stats.sign_ins_kind_settled
        )?;
    }
    super::judging::write_judging_notes(err, detection)?;
    if stats.accesses_lost > 0 {
        writeln!(
            err,
            "tokentrail: {} access record(s) waited on disk and could not be read back: they were not judged (check the temporary directory's disk)",
            stats.accesses_lost
        )?;
    }
    if stats.user_partitions > 1 {
        writeln!(
            err,
            "tokentrail: the tenant was judged in {} partitions of its users, one at a time, its records waiting on disk meanwhile",
            stats.user_partitions
        )?;
    }
    if stats.partition_files_failed > 0 {
        writeln!(
            err,
            "tokentrail: the {} partitions' files could not be made in the temporary directory ($TMPDIR): the tenant was judged at once, in memory",
            stats.partition_files_failed
        )?;
    }
    if stats.sign_ins_lost > 0 {
        writeln!(
            err,
            "tokentrail: {} sign-in row(s) waited on disk and could not be written or read back: they were not judged (check the temporary directory's disk)",
            stats.sign_ins_lost
        )?;
    }
    for (family, f) in &detection.coverage.families {
        for h in &f.holes {
            writeln!(
                err,
                "tokentrail: coverage: the {} has a hole from {} to {} ({}): rules that conclude \"absent\" answered unknown there",
                family.describe(),
                h.stretch.start,
                h.stretch.end,
                h.evidence
            )?;
        }
    }
    let unknown: u64 = stats.unknown.values().sum();
    if unknown > 0 {
        let detail: Vec<String> = stats
            .unknown
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        writeln!(
            err,
            "tokentrail: {unknown} check(s) ended as unknown, not alerted (records without linkable ids, or outside log coverage): {}",
            detail.join(", ")
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use tokentrail_engine::EngineConfig;
    use tokentrail_model::AttackKind;
    use tokentrail_sim::{Formats, Profile, SimConfig};

    use super::*;

    #[test]
    fn logs_beyond_eight_gib_are_judged_in_a_partition_per_two_gib() {
        let dir = tempfile::tempdir().unwrap();
        // Sparse files: their sizes are all that is read.
        let file = |name: &str, len: u64| {
            let path = dir.path().join(name);
            std::fs::File::create(&path).unwrap().set_len(len).unwrap();
            path
        };
        let gib = 1u64 << 30;
        let small = file("signins.json", gib);
        assert_eq!(partitions_for(std::slice::from_ref(&small)), 1);
        let eight = file("graph.json", 7 * gib);
        assert_eq!(partitions_for(&[small.clone(), eight.clone()]), 1);
        let byte_more = file("ual.json", 1);
        assert_eq!(
            partitions_for(&[small.clone(), eight.clone(), byte_more]),
            5
        );
        // A directory is walked; a compressed file counts ten times its size.
        let archive = dir.path().join("archive");
        std::fs::create_dir(&archive).unwrap();
        std::fs::File::create(archive.join("ual.json.gz"))
            .unwrap()
            .set_len(gib + gib / 2)
            .unwrap();
        assert_eq!(partitions_for(std::slice::from_ref(&archive)), 8);
        assert_eq!(partitions_for(&[archive, small]), 8);
        // Standard input's size is not known: it counts as small.
        assert_eq!(partitions_for(&[PathBuf::from("-")]), 1);
    }

    /// The findings and detection statistics of the logs under `dir` read with `fields`.
    fn detection_with(dir: &Path, fields: Fields) -> (Vec<Finding>, String) {
        let opts = ReadOptions {
            decode: DecodeOptions {
                fields,
                ..DecodeOptions::default()
            },
            drop_duplicate_sign_ins: false,
            ..ReadOptions::default()
        };
        let mut engine = Engine::new(EngineConfig::default());
        let report =
            tokentrail_ingest::read_paths(&[dir], &opts, &mut |record| match record.event {
                Decoded::SignIn(s) => engine.add_sign_in(s),
                Decoded::Access(a) => engine.add_access(a),
                Decoded::Other(_) => {}
            });
        assert!(report.totals.records > 0);
        let detection = engine.finish();
        let stats = format!("{:?}", detection.stats);
        (detection.findings, stats)
    }

    /// Detection reads none of the fields [`Fields::Detection`] leaves out: the same findings,
    /// evidence and counts as from every field, on the example tenant and on a simulated small
    /// office (personal phones, which detection tells by their user agent and country).
    #[test]
    fn detection_fields_give_the_findings_of_all_fields() {
        let tenant = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tenant");
        let office = tempfile::tempdir().unwrap();
        tokentrail_sim::simulate(&SimConfig {
            users: 30,
            days: 2,
            seed: 1001,
            start: SimConfig::default_start(),
            out: office.path().to_path_buf(),
            attacks: AttackKind::ALL.to_vec(),
            formats: Formats::default(),
            profile: Profile::SmallOffice,
        })
        .unwrap();
        let dirs: [PathBuf; 2] = [tenant, office.path().to_path_buf()];
        for dir in &dirs {
            let (all, all_stats) = detection_with(dir, Fields::All);
            let (lean, lean_stats) = detection_with(dir, Fields::Detection);
            assert!(!all.is_empty(), "{}", dir.display());
            assert_eq!(all, lean, "{}", dir.display());
            assert_eq!(all_stats, lean_stats, "{}", dir.display());
        }
    }
}
