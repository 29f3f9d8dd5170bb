//! (being written)
/// Options for reading.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {}
/// Per-file report.
#[derive(Clone, Debug, Default)]
pub struct FileReport {}
/// Whole-run report.
#[derive(Clone, Debug, Default)]
pub struct IngestReport {}
/// One unreadable record.
#[derive(Clone, Debug, Default)]
pub struct Unreadable {}
/// Read every path.
pub fn read_paths() {}
