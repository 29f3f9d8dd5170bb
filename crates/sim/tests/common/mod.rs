//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use tokentrail_sim::{parse_attacks, simulate, Formats, SimConfig, Summary};

/// Run the simulator into a fresh temporary directory.
pub fn run(users: u32, days: u32, seed: u64, formats: &str) -> (tempfile::TempDir, Summary) {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = SimConfig {
        users,
        days,
        seed,
        start: SimConfig::default_start(),
        out: dir.path().to_path_buf(),
        attacks: parse_attacks("all").expect("kinds"),
        formats: Formats::parse(formats).expect("formats"),
        profile: tokentrail_sim::Profile::Default,
    };
    let summary = simulate(&cfg).expect("simulate");
    (dir, summary)
}

/// Every file under `root`, relative, sorted.
pub fn files(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                out.push(p.strip_prefix(root).expect("under root").to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

/// The format combinations that together cover every format of every family.
pub const FORMAT_SETS: [&str; 4] = [
    "signins=la-jsonl,graph=la-jsonl,ual=mgmt-api",
    "signins=diagnostic,graph=diagnostic,ual=jsonl",
    "signins=graph,graph=la-jsonl,ual=purview-csv",
    "signins=la-api,graph=elastic,ual=elastic",
];
