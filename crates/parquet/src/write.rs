//! Writing normalized records as Parquet (or JSON lines, [`TableFormat`]), one writer per
//! input file, partitioned by day.
//!
//! A folder written by [`Normalizer`]s reads in Spark as two tables with Hive-style partition
//! discovery (`spark.read.parquet("DIR/sign_ins")` gives a `day` column of type date):
//!
//! ```text
//! DIR/sign_ins/day=2026-11-30/part-00000.parquet
//! DIR/accesses/day=2026-11-30/part-00002.parquet
//! ```
//!
//! `part-N` is the input's number in read order, so the rows of one input stay in one file per
//! day, in the order they were read, and a reader can tell which input came first (the engine
//! keeps the first of duplicate sign-ins in that order). A file is written under a hidden name
//! (`.part-N.parquet.tmp`, which Spark skips) and renamed when complete, so an interrupted run
//! never leaves a truncated file where a reader would look.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use tokentrail_model::{Access, SignIn, Timestamp};

use crate::columns::{Column, Getter, ACCESS_COLUMNS, PARTITION_COLUMN, SIGN_IN_COLUMNS};
#[cfg(feature = "parquet")]
pub use crate::parquet_file::schema_of;
use crate::WriteError;

/// The partition value Hive and Spark use for a null partition (a time with no calendar date).
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// The name of input `part`'s Parquet file in each partition.
pub fn part_file_name(part: usize) -> String {
    TableFormat::Parquet.file_name(part)
}

/// How a table's files are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TableFormat {
    /// Parquet with the Arrow schema of `schema_of`, Snappy-compressed (only with the
    /// `parquet` feature: without it, opening such a file is [`WriteError::NoParquet`]).
    #[default]
    Parquet,
    /// JSON lines, one object per row with the same columns in the same order: text as
    /// strings, booleans and integers as themselves, times as RFC 3339 UTC strings, absent
    /// values `null` (Spark: `spark.read.json("DIR/sign_ins")`).
    JsonLines,
}

impl TableFormat {
    /// The name of input `part`'s file in each partition.
    pub fn file_name(self, part: usize) -> String {
        match self {
            TableFormat::Parquet => format!("part-{part:05}.parquet"),
            TableFormat::JsonLines => format!("part-{part:05}.jsonl"),
        }
    }
}

/// One row as a JSON object of its columns, in column order.
struct JsonRow<'a, T: 'static> {
    columns: &'static [Column<T>],
    record: &'a T,
}

impl<T> serde::Serialize for JsonRow<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let record = self.record;
        let mut map = s.serialize_map(Some(self.columns.len()))?;
        for column in self.columns {
            match &column.get {
                Getter::Text(get) => map.serialize_entry(column.name, &get(record))?,
                Getter::Shown(get) => {
                    map.serialize_entry(column.name, &get(record).map(|v| v.to_string()))?
                }
                Getter::Derived(get) => map.serialize_entry(column.name, &get(record))?,
                Getter::Bool(get) => map.serialize_entry(column.name, &get(record))?,
                Getter::Int(get) => map.serialize_entry(column.name, &get(record))?,
                Getter::Time(get) => {
                    map.serialize_entry(column.name, &get(record).map(|t| t.to_rfc3339()))?
                }
            }
        }
        map.end()
    }
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The partition a record at `time` belongs to: its UTC day number since the epoch, `None` for
/// a time with no calendar date. Only a new partition's name is ever formatted.
fn day_key(time: Timestamp) -> Option<i64> {
    chrono::DateTime::from_timestamp_micros(time.micros())
        .map(|_| time.micros().div_euclid(MICROS_PER_DAY))
}

/// The partition's value in its directory name: `YYYY-MM-DD` (UTC), or the null partition.
fn day_name(day: Option<i64>) -> String {
    day.and_then(|d| chrono::DateTime::from_timestamp_micros(d.saturating_mul(MICROS_PER_DAY)))
        .map_or_else(|| NULL_PARTITION.to_owned(), |t| t.date_naive().to_string())
}

/// The partition (`YYYY-MM-DD`, UTC) a record at `time` belongs to.
pub fn day_of(time: Timestamp) -> String {
    day_name(day_key(time))
}

/// Where an open partition file's rows go.
enum Sink<T: 'static> {
    /// Rows gathered in column builders, handed to the writer a batch at a time.
    // Boxed: the writer is large, and a JSON lines file needs none.
    #[cfg(feature = "parquet")]
    Parquet(Box<crate::parquet_file::ParquetFile<T>>),
    /// Rows written as they come, one JSON object per line.
    JsonLines {
        columns: &'static [Column<T>],
        out: BufWriter<File>,
    },
}

/// One open partition file: where its rows go, and how many were written.
struct PartitionFile<T: 'static> {
    sink: Sink<T>,
    written: u64,
    hidden: PathBuf,
    path: PathBuf,
}

impl<T> PartitionFile<T> {
    fn push(&mut self, record: &T) -> Result<(), WriteError> {
        match &mut self.sink {
            #[cfg(feature = "parquet")]
            Sink::Parquet(file) => self.written += file.push(record, &self.path)?,
            Sink::JsonLines { columns, out } => {
                let row = JsonRow { columns, record };
                tokentrail_model::escape::write_json(&mut *out, &row)
                    .map_err(|e| WriteError::io(&self.path, e.into()))?;
                out.write_all(b"\n")
                    .map_err(|source| WriteError::io(&self.path, source))?;
                self.written += 1;
            }
        }
        Ok(())
    }

    fn close(self) -> Result<WrittenFile, WriteError> {
        // Parquet rows still buffered are counted as the writer takes them.
        let last_rows = match self.sink {
            #[cfg(feature = "parquet")]
            Sink::Parquet(file) => file.close(&self.path)?,
            Sink::JsonLines { mut out, .. } => {
                out.flush()
                    .map_err(|source| WriteError::io(&self.path, source))?;
                0
            }
        };
        std::fs::rename(&self.hidden, &self.path)
            .map_err(|source| WriteError::io(&self.path, source))?;
        Ok(WrittenFile {
            path: self.path,
            rows: self.written + last_rows,
        })
    }
}

/// A table's file written, and its row count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenFile {
    /// Where it is.
    pub path: PathBuf,
    /// Rows in it.
    pub rows: u64,
}

/// One table's files of one input, one per day.
struct TableFiles<T: 'static> {
    dir: PathBuf,
    file_name: String,
    format: TableFormat,
    columns: &'static [Column<T>],
    days: BTreeMap<Option<i64>, PartitionFile<T>>,
}

impl<T> TableFiles<T> {
    fn new(dir: PathBuf, format: TableFormat, part: usize, columns: &'static [Column<T>]) -> Self {
        TableFiles {
            dir,
            file_name: format.file_name(part),
            format,
            columns,
            days: BTreeMap::new(),
        }
    }

    fn push(&mut self, time: Timestamp, record: &T) -> Result<(), WriteError> {
        let day = day_key(time);
        let file = match self.days.get_mut(&day) {
            Some(file) => file,
            None => {
                let file = self.open(&day_name(day))?;
                self.days.entry(day).or_insert(file)
            }
        };
        file.push(record)
    }

    fn open(&self, day: &str) -> Result<PartitionFile<T>, WriteError> {
        open_partition(&self.dir, day, &self.file_name, self.format, self.columns)
    }

    fn close(self) -> Result<Vec<WrittenFile>, WriteError> {
        self.days.into_values().map(PartitionFile::close).collect()
    }
}

fn open_partition<T>(
    table_dir: &Path,
    day: &str,
    file_name: &str,
    format: TableFormat,
    columns: &'static [Column<T>],
) -> Result<PartitionFile<T>, WriteError> {
    let dir = table_dir.join(format!("{PARTITION_COLUMN}={day}"));
    let path = dir.join(file_name);
    let hidden = dir.join(format!(".{file_name}.tmp"));
    // Made only for a format this build writes.
    let create = || {
        std::fs::create_dir_all(&dir).map_err(|source| WriteError::io(&dir, source))?;
        File::create(&hidden).map_err(|source| WriteError::io(&hidden, source))
    };
    let sink =
        match format {
            #[cfg(feature = "parquet")]
            TableFormat::Parquet => Sink::Parquet(Box::new(
                crate::parquet_file::ParquetFile::open(create()?, columns, &path)?,
            )),
            #[cfg(not(feature = "parquet"))]
            TableFormat::Parquet => return Err(WriteError::NoParquet),
            TableFormat::JsonLines => Sink::JsonLines {
                columns,
                out: BufWriter::new(create()?),
            },
        };
    Ok(PartitionFile {
        sink,
        written: 0,
        hidden,
        path,
    })
}

/// What one input's [`Normalizer`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Sign-in rows written.
    pub sign_ins: u64,
    /// Access rows written.
    pub accesses: u64,
    /// The files, sign-ins' first, each table's in day order.
    pub files: Vec<WrittenFile>,
}

/// Writes the sign-ins and accesses of one input under a normalized folder.
pub struct Normalizer {
    sign_ins: TableFiles<SignIn>,
    accesses: TableFiles<Access>,
}

impl Normalizer {
    /// A Parquet writer for input number `part` (its place in read order) under `out`.
    pub fn new(out: &Path, part: usize) -> Normalizer {
        Normalizer::with_format(out, part, TableFormat::Parquet)
    }

    /// A writer of `format` for input number `part` under `out`.
    pub fn with_format(out: &Path, part: usize, format: TableFormat) -> Normalizer {
        Normalizer {
            sign_ins: TableFiles::new(out.join(SIGN_INS), format, part, SIGN_IN_COLUMNS),
            accesses: TableFiles::new(out.join(ACCESSES), format, part, ACCESS_COLUMNS),
        }
    }

    /// Add one sign-in row.
    pub fn add_sign_in(&mut self, sign_in: &SignIn) -> Result<(), WriteError> {
        self.sign_ins.push(sign_in.time, sign_in)
    }

    /// Add one access record.
    pub fn add_access(&mut self, access: &Access) -> Result<(), WriteError> {
        self.accesses.push(access.time, access)
    }

    /// Write what is buffered and close every file.
    pub fn finish(self) -> Result<Written, WriteError> {
        let sign_ins = self.sign_ins.close()?;
        let accesses = self.accesses.close()?;
        let count = |files: &[WrittenFile]| files.iter().map(|f| f.rows).sum();
        Ok(Written {
            sign_ins: count(&sign_ins),
            accesses: count(&accesses),
            files: sign_ins.into_iter().chain(accesses).collect(),
        })
    }
}

/// The sign-ins table's directory under a normalized folder.
pub const SIGN_INS: &str = "sign_ins";
/// The accesses table's directory under a normalized folder.
pub const ACCESSES: &str = "accesses";

/// Give a table that no input had a row for one empty file (in the null partition), so that
/// a reader still finds the table and its schema: Spark cannot infer the schema of a folder
/// with no Parquet file, and a query over both tables would fail on the missing one.
pub fn write_empty_tables(out: &Path, written: &Written) -> Result<Vec<WrittenFile>, WriteError> {
    write_empty_tables_as(out, written, TableFormat::Parquet)
}

/// [`write_empty_tables`] in `format` (an empty JSON lines file keeps the table's folder).
pub fn write_empty_tables_as(
    out: &Path,
    written: &Written,
    format: TableFormat,
) -> Result<Vec<WrittenFile>, WriteError> {
    let mut files = Vec::new();
    let name = format.file_name(0);
    if written.sign_ins == 0 {
        let dir = out.join(SIGN_INS);
        let file = open_partition(&dir, NULL_PARTITION, &name, format, SIGN_IN_COLUMNS)?;
        files.push(file.close()?);
    }
    if written.accesses == 0 {
        let dir = out.join(ACCESSES);
        let file = open_partition(&dir, NULL_PARTITION, &name, format, ACCESS_COLUMNS)?;
        files.push(file.close()?);
    }
    Ok(files)
}

impl Written {
    /// Add another input's counts and files.
    pub fn merge(&mut self, other: Written) {
        self.sign_ins += other.sign_ins;
        self.accesses += other.accesses;
        self.files.extend(other.files);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_belongs_to_the_utc_day_of_its_time() {
        let day = |text: &str| day_of(Timestamp::parse(text).expect("time"));
        assert_eq!(day("2026-11-30T00:00:00Z"), "2026-11-30");
        assert_eq!(day("2026-11-30T23:59:59.999999Z"), "2026-11-30");
        assert_eq!(day("2026-12-01T00:30:00+01:00"), "2026-11-30");
        assert_eq!(day("1969-12-31T23:59:59Z"), "1969-12-31");
        assert_eq!(day_of(Timestamp(i64::MAX)), NULL_PARTITION);
        assert_eq!(day_of(Timestamp(i64::MIN)), NULL_PARTITION);
    }
}
