//! The two inline SVG drawings of a finding: its chain and its timeline.

use std::collections::{BTreeMap, HashMap, HashSet};

use tokentrail_investigate::Investigation;
use tokentrail_model::{Finding, NetworkId};

use crate::escape;

/// Nodes drawn per chain column; the rest are counted in a last node so the file stays small.
const MAX_NODES: usize = 6;
/// Network lanes drawn in a timeline; the rest share one lane.
const MAX_LANES: usize = 10;
/// Width in pixels of the stretch of a lane whose records share one timeline dot.
const DOT_BUCKET: i64 = 3;

const COL_W: i64 = 220;
const COL_GAP: i64 = 40;
const NODE_H: i64 = 34;
const NODE_GAP: i64 = 8;
const TOP: i64 = 26;

struct Node {
    title: String,
    detail: String,
    attacker: bool,
}

fn net_text(n: Option<&NetworkId>) -> String {
    n.map_or_else(|| "network unknown".to_string(), |n| n.to_string())
}

fn empty(class: &str, text: &str) -> Drawing {
    Drawing {
        open: format!(
            "<svg class=\"{class}\" viewBox=\"0 0 600 40\" width=\"600\" height=\"40\" role=\"img\">\n"
        ),
        body: format!("<text x=\"10\" y=\"24\">{}</text>\n", escape(text)),
    }
}

/// One drawing: its `<svg>` opening tag and its content, apart so that a finding whose drawing
/// repeats an earlier one can refer to it instead of repeating it.
pub(crate) struct Drawing {
    /// The opening tag, with a newline.
    pub(crate) open: String,
    /// What goes inside.
    pub(crate) body: String,
}

/// Draw root sign-ins -> refreshes (grouped by session and network) -> tokens -> accesses
/// (grouped by network). The finding's network is drawn as the attacker's.
pub(crate) fn chain(f: &Finding, inv: Option<&Investigation>) -> Drawing {
    let Some(inv) = inv else {
        return empty(
            "chain",
            "No sign-in or access in the inputs relates to this finding.",
        );
    };
    let mut h = String::new();
    let attacker = |n: Option<&NetworkId>| n.is_some() && n == f.network.as_ref();
    let mut cols: [Vec<Node>; 4] = Default::default();
    let mut edges: Vec<(usize, usize, usize, bool)> = Vec::new();
    let mut token_nodes = Vec::new();
    for chain in &inv.sessions {
        let roots_start = cols[0].len();
        for r in &chain.interactive_roots {
            cols[0].push(Node {
                title: format!("interactive {}", r.time.to_rfc3339()),
                detail: format!(
                    "{} {}",
                    net_text(r.network.as_ref()),
                    r.ip.map(|ip| ip.to_string()).unwrap_or_default()
                ),
                attacker: attacker(r.network.as_ref()),
            });
        }
        let roots_end = cols[0].len();
        let mut groups: BTreeMap<Option<&NetworkId>, usize> = BTreeMap::new();
        for r in &chain.refreshes {
            *groups.entry(r.network.as_ref()).or_default() += 1;
        }
        let mut group_index = BTreeMap::new();
        for (net, n) in &groups {
            let idx = cols[1].len();
            group_index.insert(*net, idx);
            cols[1].push(Node {
                title: format!("{n} refresh(es)"),
                detail: net_text(*net),
                attacker: attacker(*net),
            });
            for root in roots_start..roots_end {
                edges.push((0, root, idx, attacker(*net)));
            }
        }
        for t in &chain.tokens {
            let idx = cols[2].len();
            token_nodes.push((idx, t));
            cols[2].push(Node {
                title: format!("token {}", t.token_id),
                detail: format!(
                    "issued {}; {} access(es)",
                    net_text(t.issued_network.as_ref()),
                    t.accesses
                ),
                attacker: t.used_from.iter().any(|n| attacker(Some(n))),
            });
            let root = chain
                .interactive_roots
                .iter()
                .position(|r| Some(&r.source) == t.issued_by.as_ref());
            match root {
                Some(p) => edges.push((1, roots_start + p, idx, false)),
                None => {
                    if let Some(g) = group_index.get(&t.issued_network.as_ref()) {
                        edges.push((2, *g, idx, attacker(t.issued_network.as_ref())));
                    }
                }
            }
        }
    }
    let mut net_index = BTreeMap::new();
    for n in inv.networks.iter().filter(|n| n.accesses > 0) {
        net_index.insert(n.network, cols[3].len());
        cols[3].push(Node {
            title: format!("{}: {} access(es)", n.network, n.accesses),
            detail: if n.interactive_sign_in {
                "user signed in here interactively".to_string()
            } else {
                "no interactive sign-in here".to_string()
            },
            attacker: attacker(Some(&n.network)),
        });
    }
    for (ti, t) in &token_nodes {
        for u in &t.used_from {
            if let Some(ni) = net_index.get(u) {
                edges.push((3, *ti, *ni, attacker(Some(u))));
            }
        }
    }
    let rows = cols
        .iter()
        .map(|c| c.len().min(MAX_NODES + 1))
        .max()
        .unwrap_or(0)
        .max(1) as i64;
    let width = 4 * COL_W + 3 * COL_GAP + 20;
    let height = TOP + rows * (NODE_H + NODE_GAP) + 10;
    let open = format!(
        "<svg class=\"chain\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"token chain\">\n"
    );
    let x_of = |col: usize| 10 + col as i64 * (COL_W + COL_GAP);
    let y_of = |row: usize| TOP + row.min(MAX_NODES) as i64 * (NODE_H + NODE_GAP);
    for (col, head) in [
        "Interactive sign-ins",
        "Refreshes",
        "Tokens",
        "Accesses by network",
    ]
    .iter()
    .enumerate()
    {
        h.push_str(&format!(
            "<text x=\"{}\" y=\"16\" font-weight=\"bold\">{}</text>\n",
            x_of(col),
            escape(head)
        ));
    }
    // Edge kind 0: root -> refresh group, 1: root -> token, 2: refresh group -> token,
    // 3: token -> network.
    // Edges to nodes past the cap all end on the "more" row: draw each line once.
    let mut drawn = HashSet::new();
    for (kind, from, to, bad) in &edges {
        let (c0, c1) = match kind {
            0 => (0, 1),
            1 => (0, 2),
            2 => (1, 2),
            _ => (2, 3),
        };
        let x1 = x_of(c0) + COL_W;
        let x2 = x_of(c1);
        let y1 = y_of(*from) + NODE_H / 2;
        let y2 = y_of(*to) + NODE_H / 2;
        let mid = (x1 + x2) / 2;
        if !drawn.insert((x1, y1, x2, y2, *bad)) {
            continue;
        }
        h.push_str(&format!(
            "<path class=\"edge{}\" d=\"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}\"/>\n",
            if *bad { " attacker" } else { "" }
        ));
    }
    for (col, nodes) in cols.iter().enumerate() {
        for (row, node) in nodes.iter().take(MAX_NODES).enumerate() {
            let (x, y) = (x_of(col), y_of(row));
            h.push_str(&format!(
                "<rect class=\"node{}\" x=\"{x}\" y=\"{y}\" width=\"{COL_W}\" height=\"{NODE_H}\" rx=\"4\"/><text x=\"{}\" y=\"{}\">{}</text><text x=\"{}\" y=\"{}\">{}</text>\n",
                if node.attacker { " attacker" } else { "" },
                x + 6,
                y + 14,
                escape(&clip(&node.title)),
                x + 6,
                y + 28,
                escape(&clip(&node.detail)),
            ));
        }
        if nodes.len() > MAX_NODES {
            let (x, y) = (x_of(col), y_of(MAX_NODES));
            h.push_str(&format!(
                "<text x=\"{}\" y=\"{}\">{} more</text>\n",
                x + 6,
                y + 20,
                nodes.len() - MAX_NODES
            ));
        }
    }
    Drawing { open, body: h }
}

/// Node text longer than a box is cut, keeping the start (the distinctive part of ids).
fn clip(text: &str) -> String {
    const MAX: usize = 34;
    if text.chars().count() <= MAX {
        return text.to_string();
    }
    let mut s: String = text.chars().take(MAX - 1).collect();
    s.push('\u{2026}');
    s
}

/// Draw every related record over time, one lane per network; the finding's network is
/// highlighted and records the finding cites are ringed.
pub(crate) fn timeline(f: &Finding, inv: Option<&Investigation>) -> Drawing {
    let Some(inv) = inv.filter(|i| !i.timeline.is_empty()) else {
        return empty("timeline", "No records to place on a timeline.");
    };
    let mut h = String::new();
    let mut counts: BTreeMap<Option<NetworkId>, usize> = BTreeMap::new();
    for e in &inv.timeline {
        *counts.entry(e.network).or_default() += 1;
    }
    let mut lanes: Vec<(Option<NetworkId>, usize)> = counts.into_iter().collect();
    // The attacker's lane first, then the busiest.
    lanes.sort_by(|a, b| {
        let fa = a.0.is_some() && a.0 == f.network;
        let fb = b.0.is_some() && b.0 == f.network;
        fb.cmp(&fa).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0))
    });
    let overflow = lanes.len() > MAX_LANES;
    lanes.truncate(MAX_LANES);
    let lane_of =
        |n: &Option<NetworkId>| lanes.iter().position(|(l, _)| l == n).unwrap_or(MAX_LANES);
    let lane_count = lanes.len() + usize::from(overflow);
    let (left, plot_w, lane_h) = (170i64, 800i64, 24i64);
    let width = left + plot_w + 20;
    let height = 20 + lane_count as i64 * lane_h + 30;
    let t0 = inv.first_seen.micros();
    let span = (inv.last_seen.micros() - t0).max(1);
    let x_at = |t: i64| left + ((t - t0) as i128 * plot_w as i128 / span as i128) as i64;
    let open = format!(
        "<svg class=\"timeline\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"timeline\">\n"
    );
    for i in 0..lane_count {
        let (label, bad) = match lanes.get(i) {
            Some((n, c)) => (
                format!("{} ({c})", net_text(n.as_ref())),
                n.is_some() && *n == f.network,
            ),
            None => ("other networks".to_string(), false),
        };
        let y = 20 + i as i64 * lane_h;
        if bad {
            h.push_str(&format!(
                "<rect class=\"lane attacker\" x=\"0\" y=\"{y}\" width=\"{width}\" height=\"{lane_h}\"/>\n"
            ));
        }
        h.push_str(&format!(
            "<line class=\"axis\" x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/><text x=\"6\" y=\"{}\">{}</text>\n",
            y + lane_h / 2,
            left + plot_w,
            y + lane_h / 2,
            y + lane_h / 2 + 4,
            escape(&clip(&label))
        ));
    }
    // Records closer than a bucket in the same lane share one dot, and each lane's dots are
    // one path of zero-length round-capped strokes, so a busy user's timeline stays small
    // however many records it has. A lane's tooltip counts its records.
    let mut dots: Vec<Vec<(i64, bool)>> = vec![Vec::new(); lane_count.max(1)];
    let mut seen: HashMap<(usize, i64), usize> = HashMap::new();
    let mut per_lane = vec![(0usize, 0usize); lane_count.max(1)];
    for e in &inv.timeline {
        let lane = lane_of(&e.network).min(lane_count.saturating_sub(1));
        let x = x_at(e.time.micros());
        let marked = e.findings.contains(&f.id);
        if let Some(c) = per_lane.get_mut(lane) {
            c.0 += 1;
            c.1 += usize::from(marked);
        }
        let Some(lane_dots) = dots.get_mut(lane) else {
            continue;
        };
        match seen.get(&(lane, x / DOT_BUCKET)) {
            Some(i) => {
                if let Some(d) = lane_dots.get_mut(*i) {
                    d.1 |= marked;
                }
            }
            None => {
                seen.insert((lane, x / DOT_BUCKET), lane_dots.len());
                lane_dots.push((x, marked));
            }
        }
    }
    for (lane, lane_dots) in dots.iter().enumerate() {
        if lane_dots.is_empty() {
            continue;
        }
        let y = 20 + lane as i64 * lane_h + lane_h / 2;
        let bad = lanes
            .get(lane)
            .is_some_and(|(n, _)| n.is_some() && *n == f.network);
        let path = |only_marked: bool| -> String {
            lane_dots
                .iter()
                .filter(|(_, m)| !only_marked || *m)
                .map(|(x, _)| format!("M{x} {y}h0"))
                .collect()
        };
        let (records, cited) = per_lane.get(lane).copied().unwrap_or((0, 0));
        let name = match lanes.get(lane) {
            Some((n, _)) => net_text(n.as_ref()),
            None => "other networks".to_string(),
        };
        if cited > 0 {
            h.push_str(&format!("<path class=\"ring\" d=\"{}\"/>\n", path(true)));
        }
        h.push_str(&format!(
            "<path class=\"dots{}\" d=\"{}\"><title>{}</title></path>\n",
            if bad { " attacker" } else { "" },
            path(false),
            escape(&format!(
                "{name}: {records} record(s), {cited} cited by this finding"
            ))
        ));
    }
    let axis_y = 20 + lane_count as i64 * lane_h + 16;
    h.push_str(&format!(
        "<text x=\"{left}\" y=\"{axis_y}\">{}</text><text x=\"{}\" y=\"{axis_y}\" text-anchor=\"end\">{}</text>\n",
        escape(&inv.first_seen.to_rfc3339()),
        left + plot_w,
        escape(&inv.last_seen.to_rfc3339())
    ));
    Drawing { open, body: h }
}
