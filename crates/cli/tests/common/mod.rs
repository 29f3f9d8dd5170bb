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
