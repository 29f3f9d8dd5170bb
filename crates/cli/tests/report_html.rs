//! `tokentrail report` on the example tenant, opened in headless Chromium.

mod common;

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
    let status = common::tokentrail()
        .arg("report")
        .args([t.join("signins"), t.join("graph"), t.join("ual")])
        .args(["--now", "2026-11-01T00:00:00Z", "-o"])
        .arg(out)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

/// False (the test skips, saying why) when Chromium is missing; under CI=true that fails.
fn chromium_present() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{CHROMIUM} not found; CI must install Debian's chromium package");
    }
    eprintln!("skipped: {CHROMIUM} not found (apt-get install chromium)");
    false
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
    if !chromium_present() {
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
    // The answer first, what was read last.
    let at = |id: &str| dom.find(&format!("<section id=\"{id}\"")).unwrap();
    assert!(at("verdict") < at("findings"));
    assert!(at("findings") < at("details"));
    assert!(at("details") < at("coverage"));
    assert!(at("inventory") < at("inputs"));
    assert!(dom.contains("9 finding(s) on 6 user(s): 4 high, 4 medium, 1 low."));
}

/// Colours of the light scheme (the report's CSS variables), as Chromium paints them.
const NODE_FILL: [u8; 3] = [0xff, 0xff, 0xff]; // --bg, the chain's boxes
const ATTACKER: [u8; 3] = [0xcf, 0x22, 0x2e]; // --bad, the finding's network
const UNSTYLED: [u8; 3] = [0, 0, 0]; // SVG's default fill: a shape no style reached

/// Where each drawing sits on the page, measured by the page itself.
#[derive(serde::Deserialize, Debug)]
struct Chart {
    kind: String,
    x: u32,
    y: u32,
    w: u32,
    h: u32,
    /// The drawing a repeated one refers to (`<use href="#chain-1">`), or its own id.
    draws: String,
}

#[derive(serde::Deserialize)]
struct Probe {
    height: u32,
    /// The bottom of the findings table's first row.
    first_finding_end: u32,
    charts: Vec<Chart>,
}

/// Lays every finding out as it is once scrolled to (`content-visibility: auto` otherwise
/// leaves off-screen articles at an estimated size, so positions would depend on timing).
const LAID_OUT: &str = "<style>article.finding{content-visibility:visible}</style></head>";

/// Measures every drawing's box and writes it into the page for `--dump-dom`.
const PROBE: &str = r#"<pre id="probe"></pre><script>
(function(){var out=[];document.querySelectorAll('svg.chain,svg.timeline').forEach(function(s){
var r=s.getBoundingClientRect();var u=s.querySelector('use');var g=s.querySelector('g[id]');
out.push({kind:s.getAttribute('class'),x:Math.round(r.left+scrollX),y:Math.round(r.top+scrollY),
w:Math.round(r.width),h:Math.round(r.height),draws:u?u.getAttribute('href').slice(1):g?g.id:''});});
var first=document.querySelector('tr.finding-row').getBoundingClientRect();
document.getElementById('probe').textContent=JSON.stringify({height:document.documentElement.scrollHeight,
first_finding_end:Math.round(first.bottom+scrollY),charts:out});})();
</script></body>"#;

/// An RGB screenshot.
struct Shot {
    width: usize,
    rgb: Vec<[u8; 3]>,
}

impl Shot {
    fn read(path: &Path) -> Shot {
        let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        let step = match info.color_type {
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            other => panic!("unexpected screenshot colour type {other:?}"),
        };
        let rgb = buf[..info.buffer_size()]
            .chunks(step)
            .map(|p| [p[0], p[1], p[2]])
            .collect();
        Shot {
            width: info.width as usize,
            rgb,
        }
    }

    /// The pixels inside a drawing, its 1-pixel border left out.
    fn region(&self, c: &Chart) -> Vec<[u8; 3]> {
        let (x0, y0) = (c.x as usize + 2, c.y as usize + 2);
        let (x1, y1) = ((c.x + c.w) as usize - 2, (c.y + c.h) as usize - 2);
        (y0..y1)
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .map(|(x, y)| self.rgb[y * self.width + x])
            .collect()
    }
}

fn count(pixels: &[[u8; 3]], colour: [u8; 3]) -> usize {
    pixels
        .iter()
        .filter(|p| p.iter().zip(colour).all(|(a, b)| a.abs_diff(b) <= 2))
        .count()
}

/// Regression: findings on one session share a drawing, and the repeats (`<use>`) were painted
/// as solid black boxes because the styles did not reach them. Look at the pixels: every chart
/// is painted in the report's colours, and every repeat looks exactly like what it repeats.
#[test]
fn every_chart_is_painted_in_the_report_colours() {
    if !chromium_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.html");
    write_report(&report);
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        html.contains("<use href="),
        "the example tenant no longer repeats a drawing; the test would prove nothing"
    );
    let page = dir.path().join("page.html");
    let page_html = html.replacen("</head>", LAID_OUT, 1);
    std::fs::write(&page, &page_html).unwrap();
    let probe_page = dir.path().join("probe.html");
    std::fs::write(&probe_page, page_html.replacen("</body>", PROBE, 1)).unwrap();

    // Without scrollbars the page is as wide in both windows, so the layout is the same.
    let hide = "--hide-scrollbars".to_string();
    let dump = chromium(
        dir.path(),
        &[
            hide.clone(),
            "--window-size=1280,800".into(),
            "--dump-dom".into(),
        ],
        &probe_page,
    );
    assert!(dump.status.success(), "chromium failed: {dump:?}");
    let dom = String::from_utf8_lossy(&dump.stdout);
    let start = dom.find("<pre id=\"probe\">").unwrap() + "<pre id=\"probe\">".len();
    let json = &dom[start..start + dom[start..].find("</pre>").unwrap()];
    let probe: Probe = serde_json::from_str(json).unwrap();
    assert_eq!(probe.charts.len(), 2 * EXAMPLE_FINDINGS);
    // The verdict and the findings open the first screen (1280x800 less the browser's bars).
    assert!(
        probe.first_finding_end < 700,
        "the first finding ends at y={}",
        probe.first_finding_end
    );

    // A window as tall as the page: one screenshot holds every chart where the probe saw it.
    let shot_path = dir.path().join("page.png");
    let run = chromium(
        dir.path(),
        &[
            hide,
            format!("--window-size=1280,{}", probe.height),
            format!("--screenshot={}", shot_path.display()),
        ],
        &page,
    );
    assert!(run.status.success(), "chromium failed: {run:?}");
    assert_eq!(console_lines(&run.stderr), Vec::<String>::new());
    let shot = Shot::read(&shot_path);

    let mut faults = Vec::new();
    let mut first_of: std::collections::HashMap<&str, Vec<[u8; 3]>> = Default::default();
    let mut repeats = 0;
    for c in &probe.charts {
        let pixels = shot.region(c);
        let n = pixels.len();
        let unstyled = count(&pixels, UNSTYLED);
        // Text is --fg (#1b1f24) blended into the background, never pure black.
        if unstyled * 1000 > n {
            faults.push(format!(
                "{} at y={}: {unstyled} of {n} pixels unstyled black",
                c.kind, c.y
            ));
        }
        // Every example finding has a network: its chain and timeline draw it in red.
        let red = count(&pixels, ATTACKER);
        let min_red = if c.kind == "chain" { 200 } else { 20 };
        if red < min_red {
            faults.push(format!(
                "{} at y={}: {red} pixels of the attacker's red",
                c.kind, c.y
            ));
        }
        if c.kind == "chain" && count(&pixels, NODE_FILL) * 20 < n {
            faults.push(format!(
                "chain at y={}: its boxes are not filled with the background colour",
                c.y
            ));
        }
        match first_of.get(c.draws.as_str()) {
            Some(original) => {
                repeats += 1;
                let differ = original.iter().zip(&pixels).filter(|(a, b)| a != b).count();
                if original.len() != n || differ * 100 > n {
                    faults.push(format!(
                        "{} at y={} repeats {} but {differ} of {n} pixels differ from it",
                        c.kind, c.y, c.draws
                    ));
                }
            }
            None => {
                first_of.insert(&c.draws, pixels);
            }
        }
    }
    assert!(repeats > 0, "no repeated drawing was checked");
    assert_eq!(faults, Vec::<String>::new());
}
