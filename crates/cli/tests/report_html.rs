//! `tokentrail report` on the example tenant, opened in headless Chromium.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CHROMIUM: &str = "/usr/bin/chromium";
/// Findings the engine raises on the example tenant (`tokentrail detect` lists the same nine).
const EXAMPLE_FINDINGS: usize = 9;

fn tenant() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tenant")
}

fn write_report(out: &Path) {
    let t = tenant();
    let status = Command::new(env!("CARGO_BIN_EXE_tokentrail"))
        .arg("report")
        .args([t.join("signins"), t.join("graph"), t.join("ual")])
        .args(["--now", "2026-11-01T00:00:00Z", "-o"])
        .arg(out)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

fn chromium(dir: &Path, extra: &[String], page: &Path) -> Output {
    Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .args(["--enable-logging=stderr", "--v=0"])
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap()
}

/// Lines of Chromium's log that report a page error or any console message (the report logs
/// nothing, so every one is a fault).
fn console_lines(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.contains("Uncaught") || l.contains(":CONSOLE"))
        .map(String::from)
        .collect()
}

#[test]
fn same_inputs_give_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.html"), dir.path().join("b.html"));
    write_report(&a);
    write_report(&b);
    let html = std::fs::read_to_string(&a).unwrap();
    assert_eq!(html, std::fs::read_to_string(&b).unwrap());
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("Generated 2026-11-01T00:00:00Z"));
    assert_eq!(
        html.matches("<tr class=\"finding-row").count(),
        EXAMPLE_FINDINGS
    );
}

#[test]
fn report_renders_in_headless_chromium() {
    if !Path::new(CHROMIUM).exists() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{CHROMIUM} not found; CI must install Debian's chromium package");
        }
        eprintln!("skipped: {CHROMIUM} not found (apt-get install chromium)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    write_report(&page);

    let dump = chromium(dir.path(), &["--dump-dom".to_string()], &page);
    assert!(dump.status.success(), "chromium failed: {dump:?}");
    let dom = String::from_utf8_lossy(&dump.stdout);
    assert_eq!(console_lines(&dump.stderr), Vec::<String>::new());
    assert_eq!(
        dom.matches("<tr class=\"finding-row").count(),
        EXAMPLE_FINDINGS
    );
    assert_eq!(
        dom.matches("<svg class=\"chain\"").count(),
        EXAMPLE_FINDINGS
    );
    assert_eq!(
        dom.matches("<svg class=\"timeline\"").count(),
        EXAMPLE_FINDINGS
    );
    assert!(dom.contains("<path class=\"edge"));
    assert!(dom.contains("<path class=\"dots"));
    assert!(dom.contains("id=\"coverage\""));
    assert!(dom.contains("id=\"inventory\""));

    let shot = dir.path().join("report.png");
    let run = chromium(
        dir.path(),
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000".to_string(),
        ],
        &page,
    );
    assert!(run.status.success(), "chromium failed: {run:?}");
    assert_eq!(console_lines(&run.stderr), Vec::<String>::new());
    let png = std::fs::read(&shot).unwrap();
    assert!(png.len() > 10_000, "screenshot is {} bytes", png.len());
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
}
