//! The report of a small simulated tenant with every attack kind.

use std::path::PathBuf;

use tokentrail_engine::{Engine, EngineConfig, KnownNetworks};
use tokentrail_ingest::{read_paths, Decoded, ReadOptions};
use tokentrail_investigate::{Context, Investigator};
use tokentrail_model::{Access, AttackKind, Finding, SignIn, Timestamp};
use tokentrail_posture::{CoverageBuilder, CoverageOptions, InventoryBuilder, RunInfo};

struct Tenant {
    sign_ins: Vec<SignIn>,
    accesses: Vec<Access>,
    findings: Vec<Finding>,
    networks: KnownNetworks,
}

fn tenant() -> Tenant {
    let dir = tempfile::tempdir().unwrap();
    let cfg = tokentrail_sim::SimConfig {
        users: 10,
        days: 2,
        seed: 11,
        start: tokentrail_sim::SimConfig::default_start(),
        out: dir.path().to_path_buf(),
        attacks: AttackKind::ALL.to_vec(),
        formats: tokentrail_sim::Formats::default(),
        profile: tokentrail_sim::Profile::Default,
    };
    tokentrail_sim::simulate(&cfg).unwrap();
    let paths: Vec<PathBuf> = ["signins", "graph", "ual"]
        .iter()
        .map(|d| dir.path().join(d))
        .collect();
    let mut sign_ins = Vec::new();
    let mut accesses = Vec::new();
    read_paths(&paths, &ReadOptions::default(), &mut |r| match r.event {
        Decoded::SignIn(s) => sign_ins.push(*s),
        Decoded::Access(a) => accesses.push(*a),
        Decoded::Other(_) => {}
    });
    let mut engine = Engine::new(EngineConfig::default());
    sign_ins.iter().for_each(|s| engine.add_sign_in(s.clone()));
    accesses.iter().for_each(|a| engine.add_access(a.clone()));
    let detection = engine.finish();
    Tenant {
        sign_ins,
        accesses,
        findings: detection.findings,
        networks: detection.networks,
    }
}

fn render(t: &Tenant) -> String {
    let run = RunInfo {
        generated_at: Timestamp::from_secs(1_790_000_000),
        inputs: Vec::new(),
    };
    let mut coverage = CoverageBuilder::new(CoverageOptions::default());
    let mut inventory = InventoryBuilder::new();
    for s in &t.sign_ins {
        coverage.add_sign_in(s);
        inventory.add_sign_in(s);
    }
    for a in &t.accesses {
        coverage.add_access(a);
        inventory.add_access(a);
    }
    let coverage = coverage.finish(run.clone());
    let inventory = inventory.finish(run.clone());
    let context = Context::learn(&t.sign_ins, &t.accesses, t.networks.clone());
    let investigator = Investigator::new(&context, &t.sign_ins, &t.accesses, &t.findings);
    tokentrail_html::render(&tokentrail_html::ReportInput {
        run: &run,
        sign_ins: t.sign_ins.len() as u64,
        accesses: t.accesses.len() as u64,
        findings: &t.findings,
        investigator: &investigator,
        coverage: Some(&coverage),
        inventory: Some(&inventory),
    })
    .unwrap()
}

/// Every tag the report writes itself; a `<` followed by anything else came from record text.
const TAGS: &[&str] = &[
    "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "h4",
    "p", "b", "br", "table", "thead", "tbody", "tr", "th", "td", "section", "label", "input", "a",
    "article", "dl", "dt", "dd", "ul", "li", "svg", "text", "path", "g", "rect", "line", "use",
    "title", "script", "span",
];

/// The text of every tag opened in `html` (from `<` to the next `>`).
fn tags(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').unwrap();
        out.push(&rest[..end]);
        rest = &rest[end..];
    }
    out
}

fn tag_name(tag: &str) -> &str {
    let tag = tag.strip_prefix('/').unwrap_or(tag);
    let end = tag
        .find(|c: char| c.is_whitespace() || c == '/')
        .unwrap_or(tag.len());
    &tag[..end]
}

#[test]
fn report_of_a_simulated_tenant() {
    let mut t = tenant();
    assert!(t.findings.len() >= 5, "{} findings", t.findings.len());
    // Record text with markup and a remote address must come out as text.
    t.findings[0].upn = Some("<script>alert(1)</script>@contoso.example".into());
    t.findings[0].app_name = Some("<img src=https://evil.example/x.png>".into());
    let html = render(&t);
    let n = t.findings.len();

    assert_eq!(html.matches("<tr class=\"finding-row").count(), n);
    assert_eq!(html.matches("<svg class=\"chain\"").count(), n);
    assert_eq!(html.matches("<svg class=\"timeline\"").count(), n);
    assert_eq!(html.matches("<article class=\"finding\"").count(), n);
    for (i, f) in t.findings.iter().enumerate() {
        assert!(html.contains(&format!("<a href=\"#f-{i}\">{}</a>", f.id)));
        assert!(html.contains(&format!("<article class=\"finding\" id=\"f-{i}\">")));
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;@contoso.example"));
    assert!(html.contains("&lt;img src=https://evil.example/x.png&gt;"));

    let all = tags(&html);
    for tag in &all {
        let name = tag_name(tag);
        assert!(TAGS.contains(&name), "unexpected tag <{tag}>");
        for attr in ["src=", "href="] {
            if let Some(i) = tag.find(attr) {
                let value = tag[i + attr.len()..].trim_start_matches('"');
                assert!(
                    !value.starts_with("http://") && !value.starts_with("https://"),
                    "remote reference in <{tag}>"
                );
            }
        }
    }
    assert_eq!(all.iter().filter(|t| **t == "script").count(), 1);
    assert!(html.contains("@media (prefers-color-scheme: dark)"));
    assert!(html.contains("@media print"));
    // The finding's network is drawn as the attacker's in its own chain.
    let articles: Vec<&str> = html.split("<article class=\"finding\"").skip(1).collect();
    assert_eq!(articles.len(), n);
    // A drawing that repeats an earlier one refers to it; resolve that to what is drawn.
    let drawing = |article: &str, kind: &str| -> String {
        let start = article.find(&format!("<svg class=\"{kind}\"")).unwrap();
        let svg = &article[start..start + article[start..].find("</svg>").unwrap()];
        match svg.split("<use href=\"#").nth(1) {
            Some(rest) => {
                let id = &rest[..rest.find('"').unwrap()];
                let at = html.find(&format!("<g id=\"{id}\">")).unwrap();
                html[at..at + html[at..].find("</svg>").unwrap()].to_string()
            }
            None => svg.to_string(),
        }
    };
    let mut uses = 0;
    for (f, article) in t.findings.iter().zip(&articles) {
        uses += article.matches("<use href=").count();
        let (chain, timeline) = (drawing(article, "chain"), drawing(article, "timeline"));
        if f.network.is_some() {
            assert!(chain.contains("class=\"node attacker\""), "{}", f.id);
            assert!(timeline.contains("class=\"lane attacker\""), "{}", f.id);
            assert!(
                timeline.contains("<path class=\"dots attacker\" d=\"M"),
                "{}",
                f.id
            );
        }
    }
    // Every drawing is either drawn once with an id or refers to one.
    assert_eq!(
        html.matches("<g id=\"chain-").count() + html.matches("<g id=\"timeline-").count() + uses,
        2 * n
    );

    assert_eq!(render(&t), html, "same inputs, same bytes");
}
