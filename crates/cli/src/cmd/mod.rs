//! One module per subcommand: its arguments and the function that runs it.

use std::io::{self, Write};

use tokentrail_ingest::IngestReport;

pub mod coverage;
pub mod demo;
pub mod detect;
pub mod inspect;
pub mod inventory;
pub mod score;
pub mod simulate;

/// List every unreadable record and file problem on `err` as `place: reason`, then a count.
pub fn write_unreadable(err: &mut impl Write, report: &IngestReport) -> io::Result<()> {
    for file in &report.files {
        for problem in &file.problems {
            match problem.line {
                Some(line) => writeln!(err, "{}:{line}: {}", file.file, problem.message)?,
                None => writeln!(err, "{}: {}", file.file, problem.message)?,
            }
        }
        for record in &file.unreadable_records {
            writeln!(err, "{}: {}", record.source, record.reason)?;
        }
        let unlisted = file
            .unreadable
            .saturating_sub(file.unreadable_records.len() as u64);
        if unlisted > 0 {
            writeln!(
                err,
                "{}: {unlisted} more unreadable record(s) not listed",
                file.file
            )?;
        }
    }
    let t = &report.totals;
    if t.unreadable > 0 || t.problems > 0 {
        writeln!(
            err,
            "tokentrail: {} unreadable record(s) and {} file problem(s) in {} file(s)",
            t.unreadable, t.problems, t.files_with_problems
        )?;
    }
    Ok(())
}
