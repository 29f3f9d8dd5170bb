//! `tokentrail findings`: render findings produced elsewhere (a Spark job over the normalized
//! tables, another tokentrail run) with the same renderers as `detect` and `report`.
//!
//! A command of its own rather than a `report` option: `report` reads logs and writes one HTML
//! file, while imported findings come without logs and are wanted in every format `detect`
//! writes. Each input is recognized by its content: Parquet (`PAR1`), JSON (OCSF lines, or flat
//! rows as Spark's `df.write.json` writes them), else CSV with the columns of
//! `detect --format csv`. A folder is read as Spark writes a table: every file in it, in name
//! order, except the hidden ones (`_SUCCESS`, `.crc` files).

use std::fs::File;
use std::io::{self, BufReader, Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use tokentrail_investigate::{Context, Investigator};
use tokentrail_model::{Finding, Timestamp};
use tokentrail_posture::{InputFile, RunInfo};
use tokentrail_report::import::{self, Imported};

use super::detect::{Listing, OutputFormat};
use super::{open_output, parse_time, wall_clock};
use crate::exit;

/// How imported findings are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindingsFormat {
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
    /// The self-contained HTML report (without coverage, which needs the logs).
    Html,
}

/// Render findings produced elsewhere: a findings table (Parquet, CSV or JSON rows with the
/// columns of `detect --format csv`) or OCSF JSON lines.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  tokentrail findings spark-out/findings/                 a folder of part files, as a table
  tokentrail findings findings.parquet --format html -o report.html
  tokentrail findings findings.jsonl --format csv          OCSF lines to CSV
  tokentrail detect logs/ --format csv | tokentrail findings -

What a findings table does not hold is not made up: a row's records and operations become one
access group over its time span, and its issuing sign-in cites the row. OCSF lines hold every
detail and render exactly as the run that wrote them. The order of the input is kept (the table
sorts most severe first).

Exit codes: 0 every finding read; 1 some rows unreadable (each place is listed on stderr);
2 bad arguments, or an input that is not a findings table.")]
pub struct FindingsArgs {
    /// Findings files, folders of part files, or `-` for standard input (CSV or JSON).
    #[arg(required = true, value_name = "IMPORT")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FindingsFormat::Table)]
    pub format: FindingsFormat,
    /// Write to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also list suppressed findings (they are always counted).
    #[arg(long)]
    pub show_suppressed: bool,
    /// The date of the run printed in the HTML report (default: now, UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_time, hide = true)]
    pub now: Option<Timestamp>,
}

/// Run `findings`.
pub fn run(args: FindingsArgs) -> anyhow::Result<ExitCode> {
    let mut inputs = Vec::new();
    for path in &args.paths {
        inputs.extend(files_of(path)?);
    }
    let mut findings = Vec::new();
    let mut listed = Vec::new();
    let mut unreadable = 0u64;
    let mut err = io::stderr().lock();
    for path in &inputs {
        let name: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
        let imported = read_input(path, &name)?;
        for u in &imported.unreadable {
            // Rows come from files made elsewhere: their text is shown, never sent raw.
            writeln!(
                err,
                "{}: {}",
                tokentrail_model::escape::Shown(&u.place.to_string()),
                tokentrail_model::escape::Shown(&u.reason)
            )?;
        }
        listed.push(InputFile {
            name: name.to_string(),
            records: (imported.findings.len() + imported.unreadable.len()) as u64,
            unreadable: imported.unreadable.len() as u64,
            ..InputFile::default()
        });
        unreadable += imported.unreadable.len() as u64;
        findings.extend(imported.findings);
    }
    if unreadable > 0 {
        writeln!(
            err,
            "tokentrail: {unreadable} unreadable finding row(s) in {} input(s)",
            listed.iter().filter(|f| f.unreadable > 0).count()
        )?;
    }
    drop(err);
    let (suppressed, active): (Vec<Finding>, Vec<Finding>) =
        findings.into_iter().partition(|f| f.suppression.is_some());
    let format = match args.format {
        FindingsFormat::Table => OutputFormat::Table,
        FindingsFormat::Ocsf => OutputFormat::Ocsf,
        FindingsFormat::Csv => OutputFormat::Csv,
        FindingsFormat::Markdown => OutputFormat::Markdown,
        FindingsFormat::Html => {
            let run = RunInfo {
                generated_at: args.now.unwrap_or_else(wall_clock),
                inputs: listed,
            };
            write_html(args.output.as_deref(), &run, &active)?;
            return Ok(code(unreadable));
        }
    };
    Listing {
        format,
        output: args.output.as_deref(),
        show_suppressed: args.show_suppressed,
        // The logs these findings came from are not known here.
        investigate: Some("tokentrail investigate LOGS".to_string()),
    }
    .write(&active, &suppressed)?;
    Ok(code(unreadable))
}

fn code(unreadable: u64) -> ExitCode {
    ExitCode::from(if unreadable > 0 {
        exit::PARTIAL
    } else {
        exit::OK
    })
}

/// The report of imported findings: no logs, so no coverage or inventory; each finding's chain
/// and timeline are drawn from its own evidence.
fn write_html(output: Option<&Path>, run: &RunInfo, findings: &[Finding]) -> anyhow::Result<()> {
    let context = Context::learn(&[], &[], tokentrail_engine::KnownNetworks::default());
    let investigator = Investigator::new(&context, &[], &[], findings);
    let input = tokentrail_html::ReportInput {
        run,
        sign_ins: 0,
        accesses: 0,
        findings,
        investigator: &investigator,
        coverage: None,
        inventory: None,
    };
    let mut out = open_output(output)?;
    tokentrail_html::write_report(&mut out, &input)?;
    out.flush()?;
    Ok(())
}

/// A file as itself; a folder as its visible files in name order (Spark's part files without
/// `_SUCCESS` and the hidden `.crc` files).
fn files_of(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files = Vec::new();
    for entry in
        std::fs::read_dir(path).with_context(|| format!("cannot read {}", path.display()))?
    {
        let entry = entry.with_context(|| format!("cannot read {}", path.display()))?;
        let name = entry.file_name();
        let hidden = name.to_string_lossy().starts_with(['.', '_']);
        if !hidden && entry.path().is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    if files.is_empty() {
        anyhow::bail!("{}: no findings file in the folder", path.display());
    }
    Ok(files)
}

/// What an input holds, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Content {
    Parquet,
    Json,
    Csv,
}

fn sniff(head: &[u8]) -> Content {
    if head.starts_with(b"PAR1") {
        return Content::Parquet;
    }
    let text = head.strip_prefix("\u{feff}".as_bytes()).unwrap_or(head);
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => Content::Json,
        _ => Content::Csv,
    }
}

fn read_input(path: &Path, name: &Arc<str>) -> anyhow::Result<Imported> {
    let reader: Box<dyn Read> = if path == Path::new("-") {
        Box::new(io::stdin().lock())
    } else {
        Box::new(File::open(path).with_context(|| format!("cannot read {}", path.display()))?)
    };
    let mut reader = BufReader::new(reader);
    let head = std::io::BufRead::fill_buf(&mut reader)
        .with_context(|| format!("cannot read {}", path.display()))?
        .to_vec();
    Ok(match sniff(&head) {
        Content::Parquet if path == Path::new("-") => {
            // Parquet's footer is at the end: reading it needs a file to seek in.
            anyhow::bail!("Parquet on standard input is not read; pass it as a file")
        }
        Content::Parquet => read_parquet(path, name)?,
        Content::Json => import::read_json(reader, name)?,
        Content::Csv => import::read_csv(reader, name)?,
    })
}

#[cfg(feature = "parquet")]
fn read_parquet(path: &Path, name: &Arc<str>) -> anyhow::Result<Imported> {
    let table = tokentrail_parquet::read_text_table(path)?;
    import::check_columns(name, &table.columns)?;
    let mut imported = Imported::default();
    for (i, row) in table.rows.iter().enumerate() {
        let at = import::place(name, tokentrail_model::Position::Index(i as u64));
        let finding = import::finding_from_row(
            |column| table.column(column).and_then(|c| row[c].as_deref()),
            &at,
        );
        imported.push(at, finding);
    }
    Ok(imported)
}

#[cfg(not(feature = "parquet"))]
fn read_parquet(path: &Path, _: &Arc<str>) -> anyhow::Result<Imported> {
    anyhow::bail!(
        "{} is Parquet, and this tokentrail was built without Parquet support; build it with \
         the `parquet` feature (cargo install --path crates/cli --features parquet)",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_recognized_by_their_first_bytes() {
        assert_eq!(sniff(b"PAR1\x15\x04"), Content::Parquet);
        assert_eq!(sniff(b"{\"class_uid\":2004}"), Content::Json);
        assert_eq!(sniff(b"\xef\xbb\xbf \n[{\"id\":1}]"), Content::Json);
        assert_eq!(sniff(b"id,rule,rule_name"), Content::Csv);
        assert_eq!(sniff(b""), Content::Csv);
    }
}
