//! Everything `simulate` writes, the ingest crate reads back: zero unreadable records, and per
//! file the same record count and the same counts per kind as `summary.json`, in every format.

mod common;

use std::collections::BTreeMap;

use tokentrail_ingest::{read_paths, ReadOptions};
use tokentrail_sim::Summary;

#[test]
fn ingest_reads_back_every_format_with_equal_counts() {
    for formats in common::FORMAT_SETS {
        let (dir, summary) = common::run(10, 2, 21, formats);
        let saved: Summary = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("summary.json")).expect("summary.json"),
        )
        .expect("summary parses");
        assert_eq!(saved, summary);
        let opts = ReadOptions {
            drop_duplicate_sign_ins: false,
            ..ReadOptions::default()
        };
        for file in &summary.files {
            let path = dir.path().join(&file.path);
            let mut events = 0u64;
            let report = read_paths(&[&path], &opts, &mut |_| events += 1);
            assert_eq!(report.files.len(), 1, "{}", file.path);
            let got = &report.files[0];
            assert!(
                got.is_clean(),
                "{formats}: {}: {:?} {:?}",
                file.path,
                got.problems,
                got.unreadable_records.first()
            );
            assert_eq!(
                got.records, file.records,
                "{formats}: {} records",
                file.path
            );
            assert_eq!(got.events, file.records, "{formats}: {} events", file.path);
            assert_eq!(events, file.records, "{formats}: {} sink", file.path);
            let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
            for c in &got.counts {
                *kinds.entry(c.kind.clone()).or_insert(0) += c.records;
            }
            assert_eq!(kinds, file.kinds, "{formats}: {} kinds", file.path);
        }
    }
}
