//! `tokentrail normalize`: every readable sign-in and access, normalized, written as Parquet
//! tables partitioned by day, for engines that run beyond one machine (Spark, Databricks).
//!
//! Each input file is read and written by one worker, as many at once as `--threads` allows:
//! the files are independent, so the work splits along them. The schema is in
//! `docs/normalized-schema.md`. Unreadable records are listed on stderr and decide the exit
//! code, as in `detect`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::exit;

/// How the normalized tables are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormalizeFormat {
    /// Apache Parquet, one table per folder, partitioned by day.
    Parquet,
    /// JSON lines in the same folders and partitions, one object per row with the same
    /// columns (times as RFC 3339 UTC text): `part-N.jsonl`.
    Json,
}

/// Write every readable record as Parquet in tokentrail's normalized model.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tokentrail normalize exports/ -o lake/
  tokentrail normalize signins/ graph/ ual/ -o lake/ --threads 8
  tokentrail normalize exports/ --format json -o lake-json/     part-N.jsonl, same layout
  spark-sql> SELECT day, kind, count(*) FROM parquet.`lake/sign_ins` GROUP BY day, kind;

The folder gets two tables, each partitioned by the UTC day of its records (Hive style, so
Spark and Databricks find the `day` column by themselves):
  OUT/sign_ins/day=YYYY-MM-DD/part-N.parquet   one row per sign-in row read
  OUT/accesses/day=YYYY-MM-DD/part-N.parquet   one row per access record read
where N is the input's number in read order (.jsonl with --format json). Token and session ids are normalized as detect
reads them (a `uti` becomes the GUID of the sign-in that issued it). Duplicate sign-in rows are
all written: a query keeps the first by (N, source line or index) as detect does. Columns:
docs/normalized-schema.md.

Exit codes: 0 every record read and written; 1 some input unreadable (each place is listed on
stderr); 2 bad arguments, a non-empty folder without --force, nothing readable, or a write
failure.")]
pub struct NormalizeArgs {
    /// Files, directories (read recursively), .gz or .zip archives, or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The folder to write the tables into (created if missing).
    #[arg(
        short = 'o',
        long = "output",
        visible_alias = "out",
        value_name = "DIR"
    )]
    pub out: PathBuf,
    /// Output format: Parquet (typed columns, what Spark and Databricks read best) or JSON
    /// lines in the same layout.
    #[arg(long, value_enum, default_value_t = NormalizeFormat::Parquet)]
    pub format: NormalizeFormat,
    /// Write into a folder that already holds files: its sign_ins/ and accesses/ tables are
    /// replaced, anything else in it is left alone.
    #[arg(long)]
    pub force: bool,
    /// Input files read and written at once (default: one per core). The output does not
    /// depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Read test-case files as the raw events they hold (SEKOIA `input.message`, Panther
    /// `Tests[].Log`).
    #[arg(long)]
    pub test_cases: bool,
}

/// Run `normalize`.
pub fn run(args: NormalizeArgs) -> anyhow::Result<ExitCode> {
    // Refused before the folder is touched or anything read.
    #[cfg(not(feature = "parquet"))]
    if args.format == NormalizeFormat::Parquet {
        anyhow::bail!(
            "this tokentrail was built without Parquet support: write JSON lines in the same \
             layout with --format json, or build it with the `parquet` feature \
             (cargo install --path crates/cli --features parquet)"
        )
    }
    if let Some(code) = prepare_out(&args.out, args.force)? {
        return Ok(code);
    }
    imp::run(&args)
}

/// Refuse a folder that holds files unless `force`; with it, remove the two tables a previous
/// run wrote (stale files would be read as part of the new tables).
fn prepare_out(out: &Path, force: bool) -> anyhow::Result<Option<ExitCode>> {
    let entries = std::fs::read_dir(out).map_or(0, |d| d.count());
    if entries == 0 {
        return Ok(None);
    }
    if !force {
        eprintln!(
            "tokentrail: {} already holds {entries} entr{}; tables written there would be read \
             together with what is in it. Choose an empty folder, or pass --force to replace \
             its sign_ins/ and accesses/ tables.",
            out.display(),
            if entries == 1 { "y" } else { "ies" }
        );
        return Ok(Some(ExitCode::from(exit::USAGE)));
    }
    for table in ["sign_ins", "accesses"] {
        let dir = out.join(table);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| {
                anyhow::anyhow!("cannot remove the old table {}: {e}", dir.display())
            })?;
        }
    }
    Ok(None)
}

mod imp {
    use std::io;
    use std::path::Path;
    use std::process::ExitCode;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use anyhow::Context as _;
    use tokentrail_ingest::read::read_located;
    use tokentrail_ingest::source::{locate, Located, Origin, Progress, ProgressFn};
    use tokentrail_ingest::{DecodeOptions, Decoded, FileReport, IngestReport, ReadOptions};
    use tokentrail_parquet::write::write_empty_tables_as;
    use tokentrail_parquet::{Normalizer, TableFormat, WriteError, Written};

    use super::NormalizeArgs;
    use crate::cmd::{check_input, exit_code};
    use crate::progress;

    /// What one worker made of one input.
    type Outcome = (Vec<FileReport>, Result<Written, WriteError>);

    pub fn run(args: &NormalizeArgs) -> anyhow::Result<ExitCode> {
        let format = match args.format {
            super::NormalizeFormat::Parquet => TableFormat::Parquet,
            super::NormalizeFormat::Json => TableFormat::JsonLines,
        };

        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("cannot create {}", args.out.display()))?;
        let inputs = locate(&args.paths);
        let total_bytes: u64 = inputs
            .iter()
            .map(|l| match &l.origin {
                Ok(Origin::File { size, .. }) => *size,
                _ => 0,
            })
            .sum();
        let threads = args.threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, usize::from),
            usize::from,
        );
        let workers = threads.min(inputs.len()).max(1);
        let bar = progress::bytes_bar();
        if let Some(bar) = &bar {
            bar.set_length(total_bytes);
        }
        let opts = ReadOptions {
            decode: DecodeOptions {
                unwrap_test_cases: args.test_cases,
                ..DecodeOptions::default()
            },
            // Every row is written; a query keeps the first of duplicates, as the engine does.
            drop_duplicate_sign_ins: false,
            // Inputs are spread over the workers; each decodes its own on its thread.
            decode_threads: 0,
            ..ReadOptions::default()
        };

        let jobs: Vec<Mutex<Option<Located>>> =
            inputs.into_iter().map(|l| Mutex::new(Some(l))).collect();
        let outcomes: Vec<Mutex<Option<Outcome>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    let part = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(part) else { break };
                    let Some(input) = lock(job).take() else {
                        continue;
                    };
                    let mut opts = opts.clone();
                    opts.progress = bar.as_ref().map(|bar| moved_by(bar.clone()));
                    let outcome = normalize_one(input, part, &args.out, format, &opts);
                    *lock(&outcomes[part]) = Some(outcome);
                });
            }
        });
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }

        let mut files = Vec::new();
        let mut written = Written::default();
        for outcome in outcomes {
            let Some((reports, result)) = outcome.into_inner().unwrap_or_else(|p| p.into_inner())
            else {
                continue;
            };
            files.extend(reports);
            written.merge(result?);
        }
        let report = IngestReport::from_files(files);
        if let Some(code) = check_input(&report)? {
            return Ok(code);
        }
        let empty = write_empty_tables_as(&args.out, &written, format)?;
        summary(
            &mut io::stderr().lock(),
            &args.out,
            &report,
            &written,
            empty.len(),
            format,
        )?;
        Ok(exit_code(&report))
    }

    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        // A worker that panicked leaves its slot as it was; the panic itself is raised when the
        // scope ends.
        m.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Read one input (a file, an archive's members, or stdin) and write its records.
    fn normalize_one(
        input: Located,
        part: usize,
        out: &Path,
        format: TableFormat,
        opts: &ReadOptions,
    ) -> Outcome {
        let mut normalizer = Normalizer::with_format(out, part, format);
        // The first write error stops the writing (not the reading, whose report is kept).
        let mut failed: Option<WriteError> = None;
        let report = read_located(vec![input], opts, &mut |record| {
            if failed.is_some() {
                return;
            }
            let result = match &record.event {
                Decoded::SignIn(s) => normalizer.add_sign_in(s),
                Decoded::Access(a) => normalizer.add_access(a),
                Decoded::Other(_) => Ok(()),
            };
            if let Err(e) = result {
                failed = Some(e);
            }
        });
        let result = match failed {
            Some(e) => Err(e),
            None => normalizer.finish(),
        };
        (report.files, result)
    }

    /// A progress callback that moves `bar` by what one worker read since its last call.
    fn moved_by(bar: indicatif::ProgressBar) -> ProgressFn {
        let last = AtomicU64::new(0);
        Arc::new(move |p: Progress| {
            let before = last.swap(p.bytes_read, Ordering::Relaxed);
            bar.inc(p.bytes_read.saturating_sub(before));
            bar.set_message(p.file.to_string());
        })
    }

    fn summary(
        err: &mut impl io::Write,
        out: &Path,
        report: &IngestReport,
        written: &Written,
        empty_tables: usize,
        format: TableFormat,
    ) -> io::Result<()> {
        let days: std::collections::BTreeSet<&std::ffi::OsStr> = written
            .files
            .iter()
            .filter_map(|f| f.path.parent().and_then(Path::file_name))
            .collect();
        writeln!(
            err,
            "tokentrail: read {} records from {} input(s); wrote {} sign-ins and {} accesses to {} \
             ({} {} file(s) over {} day(s){})",
            report.totals.records,
            report.totals.files,
            written.sign_ins,
            written.accesses,
            out.display(),
            written.files.len() + empty_tables,
            match format {
                TableFormat::Parquet => "Parquet",
                TableFormat::JsonLines => "JSON lines",
            },
            days.len(),
            match empty_tables {
                0 => String::new(),
                n => format!("; {n} table(s) without rows written empty"),
            }
        )
    }
}
