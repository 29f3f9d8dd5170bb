//! tokentrail's normalized model as Parquet: the sign-ins and accesses every reader produced,
//! written as two tables partitioned by day for engines that run beyond one machine (Spark,
//! Databricks, Sentinel's data lake), and Parquet tables read back as text (findings a Spark
//! job produced).
//!
//! - [`columns`]: the one list of columns per table, their types and their documentation;
//! - [`write`]: one [`write::Normalizer`] per input file, Hive-style day partitions;
//! - [`read`]: any Parquet file back as text cells.

pub mod columns;
#[cfg(feature = "parquet")]
mod parquet_file;
#[cfg(feature = "parquet")]
pub mod read;
pub mod write;

use std::path::{Path, PathBuf};

#[cfg(feature = "parquet")]
pub use read::{read_text_table, ReadError, TextTable};
pub use write::{Normalizer, TableFormat, Written, WrittenFile};

/// Why normalized records could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Creating a folder or file, or renaming a finished file, failed.
    #[error("cannot write {path}: {source}", path = path.display())]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The Parquet writer failed (the disk filled up, most likely).
    #[cfg(feature = "parquet")]
    #[error("cannot write {path}: {source}", path = path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What the Parquet writer said.
        source: parquet::errors::ParquetError,
    },
    /// A batch of rows did not fit the table's schema (a bug: the columns make both).
    #[cfg(feature = "parquet")]
    #[error("cannot build rows for {path}: {message}", path = path.display())]
    Arrow {
        /// The file.
        path: PathBuf,
        /// What Arrow said.
        message: String,
    },
    /// Parquet was asked of a build without the `parquet` feature.
    #[cfg(not(feature = "parquet"))]
    #[error("this build writes no Parquet (the `parquet` feature is off)")]
    NoParquet,
}

impl WriteError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        WriteError::Io {
            path: path.to_owned(),
            source,
        }
    }

    #[cfg(feature = "parquet")]
    fn parquet(path: &Path, source: parquet::errors::ParquetError) -> Self {
        WriteError::Parquet {
            path: path.to_owned(),
            source,
        }
    }
}
