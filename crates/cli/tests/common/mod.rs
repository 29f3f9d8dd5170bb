//! What every CLI test shares.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `tokentrail`, with a home and a data folder that do not exist: the binary looks for an
/// installed ASN database there (`$XDG_DATA_HOME/tokentrail/`, `~/.local/share/tokentrail/`),
/// and a test must not judge networks with whatever database the developer has installed.
pub fn tokentrail() -> Command {
    let nowhere = concat!(env!("CARGO_TARGET_TMPDIR"), "/no-home");
    let mut command = Command::new(env!("CARGO_BIN_EXE_tokentrail"));
    command.env("XDG_DATA_HOME", nowhere).env("HOME", nowhere);
    command
}

/// The example tenant's three log folders (`examples/tenant/{signins,graph,ual}`).
// Not every test file reads the example tenant.
#[allow(dead_code)]
pub fn example_tenant() -> Vec<PathBuf> {
    let t = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tenant");
    ["signins", "graph", "ual"]
        .iter()
        .map(|d| t.join(d))
        .collect()
}

/// A simulated tenant with every attack kind: `users` users over three days, seed 7, written
/// to `dir`.
// Not every test file simulates a tenant.
#[allow(dead_code)]
pub fn simulate_with_attacks(dir: &Path, users: u32) {
    let out = tokentrail()
        .args([
            "simulate",
            "--users",
            &users.to_string(),
            "--days",
            "3",
            "--seed",
            "7",
        ])
        .args(["--attacks", "all", "--out"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// For the tests of a feature the binary was built without: skipped with a message. They cannot
/// pass by skipping in CI: `.ci/run` runs them in a job of their own built with the feature,
/// where this skip is not compiled at all.
// Only the test files of optional features call it, and only when the feature is off.
#[allow(dead_code)]
pub fn skip_without_feature(feature: &str) {
    println!(
        "skipped: tokentrail built without the `{feature}` feature; run \
         cargo test -p tokentrail --features {feature}"
    );
}

/// The workspace's root folder.
#[allow(dead_code)]
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// Cargo's target directory, where the binary under test was built (`<target>/<profile>/`):
/// right whatever `CARGO_TARGET_DIR` said and wherever cargo was run from. The Python venvs of
/// the reference tests live there.
#[allow(dead_code)]
pub fn target_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_tokentrail"));
    bin.ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .expect("the binary lies in <target>/<profile>/")
}

/// Run `command` (`what` names it in messages) and return its output; a failure to start or a
/// non-zero exit fails the test with its stderr.
#[allow(dead_code)]
pub fn run_ok(command: &mut Command, what: &str) -> std::process::Output {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The UTC date `days` days from today (`YYYY-MM-DD`): an allowlist entry's `expires`, which
/// must lie within a year of the run.
// Not every test file writes an allowlist.
#[allow(dead_code)]
pub fn date_in_days(days: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let time = tokentrail_model::Timestamp::from_secs(now + days * 86_400).to_rfc3339();
    time.get(..10).unwrap_or_default().to_owned()
}
