//! Parquet files of a table's rows, through Arrow column builders (the `parquet` feature).

use std::fmt::Write as _;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use tokentrail_model::Timestamp;

use crate::columns::{Column, Getter, Kind};
use crate::WriteError;

/// Rows buffered per partition before they are handed to the Parquet writer.
const BATCH_ROWS: usize = 8192;
/// Rows per row group: bounds the memory an open writer holds (its row group is kept encoded in
/// memory until full) while keeping row groups large enough for a scan to skip whole ones.
const ROW_GROUP_ROWS: usize = 128 * 1024;
/// Timestamps are UTC: the Parquet column is `isAdjustedToUTC`.
const UTC: &str = "UTC";

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

/// One open Parquet file: rows gathered in column builders, handed to the writer a batch at a
/// time.
pub(crate) struct ParquetFile<T: 'static> {
    rows: Rows<T>,
    writer: ArrowWriter<File>,
}

impl<T> ParquetFile<T> {
    /// A writer of `columns` into `file`, which will be renamed to `path` (named in errors).
    pub(crate) fn open(
        file: File,
        columns: &'static [Column<T>],
        path: &Path,
    ) -> Result<Self, WriteError> {
        let schema = schema_of(columns);
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props))
            .map_err(|source| WriteError::parquet(path, source))?;
        Ok(ParquetFile {
            rows: Rows::new(columns, schema),
            writer,
        })
    }

    /// Add one row; the rows handed to the writer by this call.
    pub(crate) fn push(&mut self, record: &T, path: &Path) -> Result<u64, WriteError> {
        self.rows.push(record);
        if self.rows.len >= BATCH_ROWS {
            return self.flush(path);
        }
        Ok(0)
    }

    fn flush(&mut self, path: &Path) -> Result<u64, WriteError> {
        if self.rows.len == 0 {
            return Ok(0);
        }
        let batch = self.rows.take_batch().map_err(|e| WriteError::Arrow {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        self.writer
            .write(&batch)
            .map_err(|source| WriteError::parquet(path, source))?;
        Ok(batch.num_rows() as u64)
    }

    /// Write what is buffered and the file's footer; the rows handed to the writer by this call.
    pub(crate) fn close(mut self, path: &Path) -> Result<u64, WriteError> {
        let written = self.flush(path)?;
        self.writer
            .close()
            .map_err(|source| WriteError::parquet(path, source))?;
        Ok(written)
    }
}
