//! Same input, same findings, whatever the layout (issue 12, point 6): the records of one
//! simulated tenant, laid out as written, with folders and files renamed so they sort the
//! other way round, merged into one shuffled file, or split into shuffled halves, read with
//! any number of decoding threads and judged with one or two rule threads and any memory bound
//! (accesses waiting on disk in partitions), give the same findings: the same ids, and
//! everything else in them but the source file names they cite.
//!
//! Other work relies on this test covering thread counts (issue 14).

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use tokentrail_engine::{Engine, EngineConfig};
use tokentrail_ingest::{read_paths, Decoded, ReadOptions};
use tokentrail_model::Timestamp;
use tokentrail_sim::{simulate, Formats, GraphFormat, SignInFormat, SimConfig, UalFormat};

/// The tenant: its data files (path relative to the output, lines), written once and read
/// into memory (the files are deleted then: a static is never dropped, so a temporary
/// directory kept in it would outlive every test run).
struct Tenant {
    files: Vec<(String, Vec<String>)>,
}

fn tenant() -> &'static Tenant {
    static TENANT: OnceLock<Tenant> = OnceLock::new();
    TENANT.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let cfg = SimConfig {
            users: 16,
            days: 3,
            seed: 4242,
            start: SimConfig::default_start(),
            out: dir.path().join("t"),
            attacks: tokentrail_model::AttackKind::ALL.to_vec(),
            formats: Formats {
                sign_ins: SignInFormat::LaJsonl,
                graph: GraphFormat::LaJsonl,
                ual: UalFormat::Jsonl,
                text: Default::default(),
            },
            profile: tokentrail_sim::Profile::SmallOffice,
        };
        let summary = simulate(&cfg).expect("simulate");
        let files = summary
            .files
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(cfg.out.join(&f.path)).expect("read");
                (
                    f.path.clone(),
                    text.lines()
                        .filter(|l| !l.trim().is_empty())
                        .map(String::from)
                        .collect(),
                )
            })
            .collect();
        drop(dir);
        Tenant { files }
    })
}

#[derive(Clone, Copy, Debug)]
enum Layout {
    AsGiven,
    /// Every folder and file renamed so that the files sort in the opposite order.
    Renamed,
    /// Every record in one file, shuffled.
    Merged,
    /// Every file split in two at a random line, each half shuffled.
    Split,
}

/// A fixed permutation (an LCG), so every case is reproducible.
fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut state = seed | 1;
    for i in (1..v.len()).rev() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = usize::try_from(state >> 33).unwrap_or(0) % (i + 1);
        v.swap(i, j);
    }
}

fn write(path: &Path, lines: &[String]) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).expect("write");
}

/// Lay the tenant out under `root`; returns the paths to read.
fn lay_out(t: &Tenant, layout: Layout, seed: u64, root: &Path) -> Vec<PathBuf> {
    let n = t.files.len();
    match layout {
        Layout::AsGiven => {
            for (path, lines) in &t.files {
                write(&root.join(path), lines);
            }
        }
        Layout::Renamed => {
            // `zz-9` sorts after `aa-0`: the first file becomes the last.
            for (i, (path, lines)) in t.files.iter().enumerate() {
                let name = Path::new(path)
                    .file_name()
                    .and_then(|f| f.to_str())
                    .unwrap_or("f.jsonl");
                let folder = format!("{:03}-{}", n - i, path.replace('/', "_"));
                write(
                    &root.join(folder).join(format!("{:03}-{name}", n - i)),
                    lines,
                );
            }
        }
        Layout::Merged => {
            let mut all: Vec<String> = t.files.iter().flat_map(|f| f.1.clone()).collect();
            shuffle(&mut all, seed);
            write(&root.join("everything.jsonl"), &all);
        }
        Layout::Split => {
            for (i, (path, lines)) in t.files.iter().enumerate() {
                let mut lines = lines.clone();
                shuffle(&mut lines, seed.wrapping_add(i as u64));
                let cut = usize::try_from(seed % 97).unwrap_or(0) * lines.len() / 97;
                let (a, b) = lines.split_at(cut);
                write(&root.join(format!("part-b/{path}")), a);
                write(&root.join(format!("part-a/{path}")), b);
            }
        }
    }
    vec![root.to_path_buf()]
}

/// The findings of `paths`, active and suppressed, as JSON without the source files they cite
/// (file names are the one thing a layout changes).
fn findings(
    paths: &[PathBuf],
    decode_threads: usize,
    rule_threads: usize,
    in_memory: usize,
) -> (Vec<String>, serde_json::Value) {
    let config = EngineConfig {
        now: Timestamp::parse("2024-04-01T00:00:00Z").expect("time"),
        threads: rule_threads,
        accesses_in_memory: in_memory,
        ..EngineConfig::default()
    };
    let mut engine = Engine::new(config);
    let opts = ReadOptions {
        decode_threads,
        drop_duplicate_sign_ins: false,
        ..ReadOptions::default()
    };
    let report = read_paths(paths, &opts, &mut |r| match r.event {
        Decoded::SignIn(s) => engine.add_sign_in(*s),
        Decoded::Access(a) => engine.add_access(*a),
        Decoded::Other(_) => {}
    });
    assert_eq!(report.totals.unreadable, 0);
    let d = engine.finish();
    let ids = d.findings.iter().map(|f| f.id.clone()).collect();
    let mut value = serde_json::json!({
        "findings": d.findings,
        "suppressed": d.suppressed,
        "stats": d.stats,
    });
    strip_sources(&mut value);
    (ids, value)
}

fn strip_sources(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.remove("source");
            m.values_mut().for_each(strip_sources);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_sources),
        _ => {}
    }
}

fn baseline() -> &'static (Vec<String>, serde_json::Value) {
    static BASE: OnceLock<(Vec<String>, serde_json::Value)> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let paths = lay_out(tenant(), Layout::AsGiven, 0, dir.path());
        findings(&paths, 0, 1, 0)
    })
}

#[test]
fn the_tenant_has_findings_of_every_rule() {
    let (ids, _) = baseline();
    for rule in ["TT001", "TT002", "TT003", "TT004", "TT005"] {
        assert!(ids.iter().any(|id| id.starts_with(rule)), "{rule}: {ids:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn findings_do_not_depend_on_layout_order_or_threads(
        layout in prop_oneof![
            Just(Layout::AsGiven),
            Just(Layout::Renamed),
            Just(Layout::Merged),
            Just(Layout::Split),
        ],
        seed in any::<u64>(),
        decode_threads in 0usize..4,
        rule_threads in 1usize..3,
        in_memory in prop_oneof![Just(0usize), 50usize..2000],
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let paths = lay_out(tenant(), layout, seed, dir.path());
        let (ids, value) = findings(&paths, decode_threads, rule_threads, in_memory);
        let (base_ids, base_value) = baseline();
        prop_assert_eq!(&ids, base_ids);
        prop_assert_eq!(&value, base_value);
    }
}

/// The OCSF finding ids `tokentrail detect` writes for `paths`.
fn ocsf_ids(paths: &[PathBuf], threads: &str, out: &Path) -> Vec<String> {
    let run = common::tokentrail()
        .args(["detect", "--format", "ocsf", "--threads", threads, "-o"])
        .arg(out)
        .args(paths)
        .output()
        .expect("run detect");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::read_to_string(out)
        .expect("OCSF output")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            v["finding_info"]["uid"].as_str().expect("uid").to_string()
        })
        .collect()
}

/// The must-show of issue 12: one tenant as given, with folders renamed, and merged into one
/// shuffled file, through `tokentrail detect`: the same OCSF finding ids, in the same order.
#[test]
fn detect_writes_the_same_ocsf_ids_for_any_layout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let given = lay_out(tenant(), Layout::AsGiven, 0, &dir.path().join("given"));
    let expected = ocsf_ids(&given, "1", &dir.path().join("given.jsonl"));
    assert_eq!(&expected, &baseline().0);
    for (i, layout) in [Layout::Renamed, Layout::Merged].into_iter().enumerate() {
        let root = dir.path().join(format!("layout-{i}"));
        let paths = lay_out(tenant(), layout, 7 + i as u64, &root);
        for threads in ["1", "3"] {
            let out = dir.path().join(format!("layout-{i}-{threads}.jsonl"));
            assert_eq!(
                ocsf_ids(&paths, threads, &out),
                expected,
                "{layout:?}, {threads} threads"
            );
        }
    }
}
