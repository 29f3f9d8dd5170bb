//! Reading a Parquet table back as text cells: how findings tables written elsewhere (Spark's
//! `df.write.parquet`) are imported, and how tests read the normalized tables back.
//!
//! Every cell becomes the text its column's model type reads from: strings as they are,
//! integers and booleans in their usual spelling, timestamps as RFC 3339 UTC (whatever their
//! unit, Spark's INT96 included), dates as `YYYY-MM-DD`. A column of any other type is an error
//! naming it, not a silently empty cell.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrowPrimitiveType, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tokentrail_model::Timestamp;

/// Why a Parquet table could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened.
    #[error("cannot read {path}: {source}", path = path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file is not Parquet, or is damaged.
    #[error("{path}: not a readable Parquet file: {message}", path = path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What the Parquet reader said.
        message: String,
    },
    /// A column has a type that has no text form here.
    #[error("{path}: column {column} has type {data_type}, which is not read (text, integers, booleans, timestamps and dates are)", path = path.display())]
    ColumnType {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// Its Arrow type.
        data_type: String,
    },
}

/// A table read as text: column names, and rows of cells (`None` for null).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextTable {
    /// Column names, in file order.
    pub columns: Vec<String>,
    /// Rows, in file order.
    pub rows: Vec<Vec<Option<String>>>,
}

impl TextTable {
    /// The position of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// Read every row of the Parquet file at `path` as text.
pub fn read_text_table(path: &Path) -> Result<TextTable, ReadError> {
    let file = File::open(path).map_err(|source| ReadError::Io {
        path: path.to_owned(),
        source,
    })?;
    let parquet_error = |e: &dyn std::fmt::Display| ReadError::Parquet {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| parquet_error(&e))?;
    let columns: Vec<String> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let reader = builder.build().map_err(|e| parquet_error(&e))?;
    let mut table = TextTable {
        columns,
        rows: Vec::new(),
    };
    for batch in reader {
        let batch = batch.map_err(|e| parquet_error(&e))?;
        append_rows(&mut table.rows, &batch, path)?;
    }
    Ok(table)
}

fn append_rows(
    rows: &mut Vec<Vec<Option<String>>>,
    batch: &RecordBatch,
    path: &Path,
) -> Result<(), ReadError> {
    let first = rows.len();
    rows.extend((0..batch.num_rows()).map(|_| Vec::with_capacity(batch.num_columns())));
    for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
        let cells = column_text(array.as_ref()).ok_or_else(|| ReadError::ColumnType {
            path: path.to_owned(),
            column: field.name().clone(),
            data_type: field.data_type().to_string(),
        })?;
        for (row, cell) in rows[first..].iter_mut().zip(cells) {
            row.push(cell);
        }
    }
    Ok(())
}

/// The cells of one column as text; `None` for a type with no text form here.
fn column_text(array: &dyn Array) -> Option<Vec<Option<String>>> {
    let cells = |f: &dyn Fn(usize) -> String| -> Vec<Option<String>> {
        (0..array.len())
            .map(|i| (!array.is_null(i)).then(|| f(i)))
            .collect()
    };
    Some(match array.data_type() {
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            cells(&|i| a.value(i).to_owned())
        }
        DataType::LargeUtf8 => {
            let a = array.as_string::<i64>();
            cells(&|i| a.value(i).to_owned())
        }
        DataType::Utf8View => {
            let a = array.as_string_view();
            cells(&|i| a.value(i).to_owned())
        }
        DataType::Boolean => {
            let a = array.as_boolean();
            cells(&|i| a.value(i).to_string())
        }
        DataType::Int8 => shown::<Int8Type>(array),
        DataType::Int16 => shown::<Int16Type>(array),
        DataType::Int32 => shown::<Int32Type>(array),
        DataType::Int64 => shown::<Int64Type>(array),
        DataType::UInt8 => shown::<UInt8Type>(array),
        DataType::UInt16 => shown::<UInt16Type>(array),
        DataType::UInt32 => shown::<UInt32Type>(array),
        DataType::UInt64 => shown::<UInt64Type>(array),
        DataType::Float32 => shown::<Float32Type>(array),
        DataType::Float64 => shown::<Float64Type>(array),
        DataType::Timestamp(unit, _) => {
            let micros = |v: i64| match unit {
                TimeUnit::Second => v.saturating_mul(1_000_000),
                TimeUnit::Millisecond => v.saturating_mul(1_000),
                TimeUnit::Microsecond => v,
                TimeUnit::Nanosecond => v.div_euclid(1_000),
            };
            let value = |i: usize| -> i64 {
                match unit {
                    TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(i),
                    TimeUnit::Millisecond => {
                        array.as_primitive::<TimestampMillisecondType>().value(i)
                    }
                    TimeUnit::Microsecond => {
                        array.as_primitive::<TimestampMicrosecondType>().value(i)
                    }
                    TimeUnit::Nanosecond => {
                        array.as_primitive::<TimestampNanosecondType>().value(i)
                    }
                }
            };
            cells(&|i| Timestamp(micros(value(i))).to_rfc3339())
        }
        DataType::Date32 => {
            let a = array.as_primitive::<arrow_array::types::Date32Type>();
            cells(&|i| {
                let day = Timestamp::from_secs(i64::from(a.value(i)) * 86_400).to_rfc3339();
                day.get(..10).map_or(day.clone(), str::to_owned)
            })
        }
        DataType::Null => vec![None; array.len()],
        _ => return None,
    })
}

fn shown<T: ArrowPrimitiveType>(array: &dyn Array) -> Vec<Option<String>>
where
    T::Native: std::fmt::Display,
{
    let a = array.as_primitive::<T>();
    (0..a.len())
        .map(|i| (!a.is_null(i)).then(|| a.value(i).to_string()))
        .collect()
}
