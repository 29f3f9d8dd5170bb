//! Renderers for tokentrail [`Finding`](tokentrail_model::Finding)s and the scorer that measures
//! findings against a synthetic tenant's labels.
//!
//! Every renderer reads the same model, so the terminal, the CSV and the OCSF output cannot
//! disagree about what was found:
//! - [`ocsf`]: OCSF 1.8.0 Detection Finding (class 2004) JSON lines, the machine contract
//!   documented in `docs/finding-schema.md`;
//! - [`table`]: a terminal table, most severe first, with a summary line;
//! - [`csv`]: one row per finding with stable, documented columns;
//! - [`markdown`]: a summary for tickets and pull requests;
//! - [`score`]: reads OCSF lines back and scores them against `labels.jsonl`;
//! - [`import`]: reads findings produced elsewhere (OCSF lines, CSV or JSON rows) back into the
//!   model, so the renderers above draw them.

pub mod columns;
pub mod csv;
mod error;
pub mod import;
pub mod markdown;
pub mod ocsf;
pub mod score;
pub mod table;
mod text;

pub use error::ReportError;
