//! The one error type of this crate.

use std::path::PathBuf;

/// Why a report could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Writing the output failed (a closed pipe included; the binary treats that as success).
    #[error("cannot write the report: {0}")]
    Write(#[from] std::io::Error),
    /// A finding could not be serialized.
    #[error("cannot serialize finding {id}: {source}")]
    Serialize {
        /// The finding's id.
        id: String,
        /// What serde said.
        source: serde_json::Error,
    },
    /// Writing a CSV row failed.
    #[error("cannot write CSV: {0}")]
    Csv(#[from] ::csv::Error),
    /// An input file could not be read.
    #[error("cannot read {path}: {source}", path = path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A line of an input file is not what it should be.
    #[error("{path}:{line}: {message}", path = path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        message: String,
    },
}
