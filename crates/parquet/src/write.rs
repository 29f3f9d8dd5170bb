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
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use tokentrail_model::{Access, SignIn, Timestamp};

use crate::columns::{Column, Getter, Kind, ACCESS_COLUMNS, PARTITION_COLUMN, SIGN_IN_COLUMNS};
use crate::WriteError;

/// Rows buffered per partition before they are handed to the Parquet writer.
const BATCH_ROWS: usize = 8192;
/// Rows per row group: bounds the memory an open writer holds (its row group is kept encoded in
/// memory until full) while keeping row groups large enough for a scan to skip whole ones.
const ROW_GROUP_ROWS: usize = 128 * 1024;
/// The partition value Hive and Spark use for a null partition (a time with no calendar date).
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";
/// Timestamps are UTC: the Parquet column is `isAdjustedToUTC`.
const UTC: &str = "UTC";

/// The name of input `part`'s Parquet file in each partition.
pub fn part_file_name(part: usize) -> String {
    TableFormat::Parquet.file_name(part)
}

/// How a table's files are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TableFormat {
    /// Parquet with the Arrow schema of [`schema_of`], Snappy-compressed.
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

/// The Arrow schema of a table's files.
pub fn schema_of<T>(columns: &[Column<T>]) -> SchemaRef {
    let fields: Vec<Field> = columns
        .iter()
        .map(|c| Field::new(c.name, data_type(c.kind()), true))
        .collect();
    Arc::new(Schema::new(fields))
}

fn data_type(kind: Kind) -> DataType {
    match kind {
        Kind::Text => DataType::Utf8,
        Kind::Bool => DataType::Boolean,
        Kind::Int => DataType::Int64,
        Kind::Time => DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
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

enum Builder {
    Text(StringBuilder),
    Bool(BooleanBuilder),
    Int(Int64Builder),
    Time(TimestampMicrosecondBuilder),
}

impl Builder {
    fn new(kind: Kind) -> Builder {
        match kind {
            Kind::Text => Builder::Text(StringBuilder::new()),
            Kind::Bool => Builder::Bool(BooleanBuilder::new()),
            Kind::Int => Builder::Int(Int64Builder::new()),
            Kind::Time => Builder::Time(TimestampMicrosecondBuilder::new().with_timezone(UTC)),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Time(b) => Arc::new(b.finish()),
        }
    }
}

/// Rows of one table being collected column by column.
struct Rows<T: 'static> {
    columns: &'static [Column<T>],
    schema: SchemaRef,
    builders: Vec<Builder>,
    len: usize,
}

impl<T> Rows<T> {
    fn new(columns: &'static [Column<T>], schema: SchemaRef) -> Self {
        Rows {
            columns,
            schema,
            builders: columns.iter().map(|c| Builder::new(c.kind())).collect(),
            len: 0,
        }
    }

    fn push(&mut self, record: &T) {
        for (column, builder) in self.columns.iter().zip(&mut self.builders) {
            match (&column.get, builder) {
                (Getter::Text(get), Builder::Text(b)) => b.append_option(get(record)),
                (Getter::Shown(get), Builder::Text(b)) => match get(record) {
                    Some(value) => {
                        // Writing into a StringBuilder cannot fail; the value is completed by
                        // the empty append.
                        let _ = write!(b, "{value}");
                        b.append_value("");
                    }
                    None => b.append_null(),
                },
                (Getter::Derived(get), Builder::Text(b)) => b.append_option(get(record)),
                (Getter::Bool(get), Builder::Bool(b)) => b.append_option(get(record)),
                (Getter::Int(get), Builder::Int(b)) => b.append_option(get(record)),
                (Getter::Time(get), Builder::Time(b)) => {
                    b.append_option(get(record).map(Timestamp::micros))
                }
                // Builders are made from the same columns' kinds, so they always pair up.
                _ => unreachable!("builder made for another column kind"),
            }
        }
        self.len += 1;
    }

    fn take_batch(&mut self) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let arrays: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        self.len = 0;
        RecordBatch::try_new(self.schema.clone(), arrays)
    }
}

/// Where an open partition file's rows go.
enum Sink<T: 'static> {
    /// Rows gathered in column builders, handed to the writer a batch at a time.
    Parquet {
        rows: Rows<T>,
        // Boxed: the writer is large, and a JSON lines file needs none.
        writer: Box<ArrowWriter<File>>,
    },
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
            Sink::Parquet { rows, .. } => {
                rows.push(record);
                if rows.len >= BATCH_ROWS {
                    self.flush()?;
                }
            }
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

    fn flush(&mut self) -> Result<(), WriteError> {
        let Sink::Parquet { rows, writer } = &mut self.sink else {
            return Ok(());
        };
        if rows.len == 0 {
            return Ok(());
        }
        let batch = rows.take_batch().map_err(|e| WriteError::Arrow {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        self.written += batch.num_rows() as u64;
        writer
            .write(&batch)
            .map_err(|source| WriteError::parquet(&self.path, source))
    }

    fn close(mut self) -> Result<WrittenFile, WriteError> {
        self.flush()?;
        match self.sink {
            Sink::Parquet { writer, .. } => {
                writer
                    .close()
                    .map_err(|source| WriteError::parquet(&self.path, source))?;
            }
            Sink::JsonLines { mut out, .. } => {
                out.flush()
                    .map_err(|source| WriteError::io(&self.path, source))?;
            }
        }
        std::fs::rename(&self.hidden, &self.path)
            .map_err(|source| WriteError::io(&self.path, source))?;
        Ok(WrittenFile {
            path: self.path,
            rows: self.written,
        })
    }
}

/// A Parquet file written, and its row count.
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
    schema: SchemaRef,
    days: BTreeMap<Option<i64>, PartitionFile<T>>,
}

impl<T> TableFiles<T> {
    fn new(dir: PathBuf, format: TableFormat, part: usize, columns: &'static [Column<T>]) -> Self {
        TableFiles {
            dir,
            file_name: format.file_name(part),
            format,
            columns,
            schema: schema_of(columns),
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
        open_partition(
            &self.dir,
            day,
            &self.file_name,
            self.format,
            self.columns,
            self.schema.clone(),
        )
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
    schema: SchemaRef,
) -> Result<PartitionFile<T>, WriteError> {
    let dir = table_dir.join(format!("{PARTITION_COLUMN}={day}"));
    std::fs::create_dir_all(&dir).map_err(|source| WriteError::io(&dir, source))?;
    let path = dir.join(file_name);
    let hidden = dir.join(format!(".{file_name}.tmp"));
    let file = File::create(&hidden).map_err(|source| WriteError::io(&hidden, source))?;
    let sink = match format {
        TableFormat::Parquet => {
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
                .build();
            let writer = ArrowWriter::try_new(file, schema.clone(), Some(props))
                .map_err(|source| WriteError::parquet(&path, source))?;
            Sink::Parquet {
                rows: Rows::new(columns, schema),
                writer: Box::new(writer),
            }
        }
        TableFormat::JsonLines => Sink::JsonLines {
            columns,
            out: BufWriter::new(file),
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
        let schema = schema_of(SIGN_IN_COLUMNS);
        let file = open_partition(&dir, NULL_PARTITION, &name, format, SIGN_IN_COLUMNS, schema)?;
        files.push(file.close()?);
    }
    if written.accesses == 0 {
        let dir = out.join(ACCESSES);
        let schema = schema_of(ACCESS_COLUMNS);
        let file = open_partition(&dir, NULL_PARTITION, &name, format, ACCESS_COLUMNS, schema)?;
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
