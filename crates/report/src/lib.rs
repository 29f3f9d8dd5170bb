//! tokentrail-report.
