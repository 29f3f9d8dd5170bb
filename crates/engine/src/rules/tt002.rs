//! # TT002 session-replay
//!
//! **What it detects.** A session used from a network where it was never established
//! interactively. The networks of a session's interactive sign-ins (and UAL logons) are its
//! home; a non-interactive sign-in or a delegated access in the session, after the root, from a
//! network outside home fires.
//!
//! **Why.** This is the stolen session cookie / refresh token / adversary-in-the-middle
//! pattern: the attacker never signs in, they continue the victim's session from their own
//! network, typically a hosting provider, and typically with no device id at all.
//!
//! **Evidence.** The root (earliest interactive) sign-in; the non-interactive sign-ins and
//! accesses from the new network grouped with counts, times, IPs and sample record ids.
//!
//! **Known false positives and how they are avoided.**
//! - Phones switching between Wi-Fi and cellular: when a non-interactive sign-in from the new
//!   network proves the device itself (Entra marks it managed or compliant, a PRT was redeemed,
//!   or the session is token-bound), the device is one the session used at home and the client
//!   is that device's usual client there, the move is roaming. A device id on an access record
//!   proves nothing (it is a claim inside the token).
//! - A hosting or VPS network (built-in list of ASNs) is never roaming and never travel.
//! - Travel: an interactive sign-in by the same user from the new network (any session) within
//!   the travel window explains it.
//! - Microsoft infrastructure (AS8075, published ranges), dual stack (ASN comparison; an IPv6
//!   prefix without ASN is not compared with IPv4 homes), confidential clients (their
//!   non-interactive sign-ins log the original IP; their accesses come from their own servers).
//! - Sessions whose root is not in the input: no home, nothing concluded (that is TT003's
//!   question, asked only inside coverage).
//!
//! **Grouping.** One finding per (session, new network).
//!
//! **Allowlist.** Match on `user` and `network`/`asn` for a known egress (a VPN concentrator
//! that is not in the sign-in logs), with `rules: [TT002]`.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use tokentrail_model::{Confidence, NetworkId, RuleId, Severity, SignInKind};

use super::{
    home_networks, resource_of, roaming_proof, severity_for, who, Candidate, Draft, PREFIX_ONLY,
};
use crate::correlate::{rec_delegated, Context, Linked};
use crate::evidence::{revoke_step, Gathered};
use crate::network::{relate_to_any, Net, Relation};
use crate::store::{sflag, Sym};
use crate::Tally;

const RULE: RuleId = RuleId::Tt002;

struct Group {
    net: Net,
    confidence: Confidence,
    records: Gathered,
}

/// What TT002 knows about one session with an interactive root.
struct Rooted {
    root: usize,
    home: Vec<Net>,
}

/// TT002's state: the sessions with an interactive root, and per (session, network) the
/// records seen there.
pub(crate) struct Tt002 {
    rooted: FxHashMap<Sym, Rooted>,
    groups: BTreeMap<(Sym, NetworkId), Group>,
}

impl Tt002 {
    /// Learn every session's root and home, and judge its non-interactive sign-ins.
    pub fn new(cx: &Context<'_>, stats: &mut Tally) -> Tt002 {
        let mut t = Tt002 {
            rooted: FxHashMap::default(),
            groups: BTreeMap::new(),
        };
        for (sid, chain) in cx.chains() {
            let home = home_networks(cx, chain);
            let Some(root) = chain
                .interactive
                .iter()
                .copied()
                .filter_map(|i| cx.sign_ins.get(i).map(|s| (s.time, i)))
                .min()
                .map(|(_, i)| i)
            else {
                continue;
            };
            if home.is_empty() {
                stats.unknown(RULE, "root-without-ip");
                continue;
            }
            t.rooted.insert(sid, Rooted { root, home });
            for &i in &chain.non_interactive {
                let Some(s) = cx.sign_ins.get(i) else {
                    continue;
                };
                let confidential =
                    s.kind == SignInKind::NonInteractive && s.has(sflag::CONFIDENTIAL);
                if let Some(g) = t.judge(cx, sid, s.time, cx.sign_in_net(i), confidential, stats) {
                    g.sign_in(cx, i);
                }
            }
        }
        t
    }

    /// The group a record of session `sid` at `time` from `net` belongs to, or `None` (counted
    /// in `stats` when explained or unknown).
    fn judge(
        &mut self,
        cx: &Context<'_>,
        sid: Sym,
        time: tokentrail_model::Timestamp,
        net: Option<&Net>,
        confidential: bool,
        stats: &mut Tally,
    ) -> Option<&mut Gathered> {
        let rooted = self.rooted.get(&sid)?;
        let net = net?;
        let root_time = cx.sign_ins.get(rooted.root)?.time;
        if time < root_time {
            stats.unknown(RULE, "before-root");
            return None;
        }
        if net.microsoft {
            stats.benign(RULE, "microsoft-infrastructure");
            return None;
        }
        let confidence = match relate_to_any(net, rooted.home.iter()) {
            Relation::Same => return None,
            Relation::Unknown => {
                stats.unknown(RULE, "dual-stack-prefix-only");
                return None;
            }
            Relation::Differ(c) => c,
        };
        if confidential {
            stats.benign(RULE, "confidential-client");
            return None;
        }
        let g = self.groups.entry((sid, net.id)).or_insert_with(|| Group {
            net: *net,
            confidence,
            records: Gathered::default(),
        });
        g.confidence = g.confidence.min(confidence);
        Some(&mut g.records)
    }

    pub fn access(&mut self, cx: &Context<'_>, l: &Linked<'_>, stats: &mut Tally) {
        let a = l.access;
        let Some(sid) = l.session else {
            return;
        };
        if !rec_delegated(a) || !self.rooted.contains_key(&sid) {
            return;
        }
        // A token issued to a confidential client is used by that client's server, wherever it
        // runs.
        let issued_confidential = l
            .issue
            .and_then(|s| cx.sign_ins.get(s))
            .is_some_and(|s| s.has(sflag::CONFIDENTIAL));
        let confidential =
            issued_confidential || a.client_auth_method.is_some_and(|m| m.is_confidential());
        if let Some(g) = self.judge(cx, sid, a.time, cx.access_net(a), confidential, stats) {
            g.access(cx, a);
        }
    }

    pub fn finish(self, cx: &Context<'_>, stats: &mut Tally) -> Vec<Candidate> {
        let mut out = Vec::new();
        for ((sid, net_id), g) in self.groups {
            let Some(rooted) = self.rooted.get(&sid) else {
                continue;
            };
            let Some(chain) = cx.chain(sid) else {
                continue;
            };
            let Some(root_sign_in) = cx.sign_ins.get(rooted.root) else {
                continue;
            };
            if roaming_proof(cx, chain, &rooted.home, &g.net).is_some() {
                stats.benign_n(RULE, "device-roaming", g.records.len());
                continue;
            }
            let first_time = g.records.first_time().unwrap_or(root_sign_in.time);
            let user = cx.user_of_sign_in(root_sign_in);
            if user.is_some_and(|u| cx.travel_sign_in(u, &g.net, first_time).is_some()) {
                stats.benign_n(RULE, "travel-interactive-sign-in", g.records.len());
                continue;
            }
            if let Some(c) = draft(cx, sid, rooted.root, &rooted.home, net_id, g) {
                out.push(c);
            }
        }
        out
    }
}

fn draft(
    cx: &Context<'_>,
    sid: Sym,
    root: usize,
    home: &[Net],
    net_id: NetworkId,
    g: Group,
) -> Option<Candidate> {
    let s = cx.sign_ins.get(root)?;
    let sid = cx.session_id(sid)?;
    let mut homes: Vec<String> = home.iter().map(|n| n.id.to_string()).collect();
    homes.sort();
    homes.dedup();
    let (sign_ins, accesses) = (g.records.sign_ins(), g.records.accesses());
    let no_device = !g.records.sign_in_with_device();
    let first_access = g.records.first_access().cloned();
    let user_id = cx.text(s.user_id);
    let upn = cx.upn_for(user_id, cx.text(s.upn));
    let mut why = format!(
        "Session {sid} established interactively by {} on {} was used from {net_id} ({sign_ins} non-interactive sign-in(s), {accesses} access(es))",
        who(user_id, upn.as_deref()),
        homes.join(", "),
    );
    if g.net.hosting {
        why.push_str(", a hosting network");
    }
    if sign_ins > 0 && no_device {
        why.push_str(", with no device id");
    }
    why.push('.');
    let mut checked = vec![
        "new network is not Microsoft infrastructure (AS8075, Microsoft 365 and Entra ID published ranges)".to_string(),
        "networks compared by ASN against every interactive sign-in of the session (dual stack and carrier NAT stay one network)".to_string(),
        "no sign-in from the new network proves the session's own device with its usual client (phone roaming)".to_string(),
        format!(
            "no interactive sign-in by the user from the new network within {} h (travel)",
            cx.thresholds.travel_window_secs / 3600
        ),
        "non-interactive sign-ins and accesses by confidential clients left out (they log the original IP)".to_string(),
        "device id on access records not taken as proof: it is a claim inside the token".to_string(),
    ];
    if g.net.hosting {
        checked.push(format!(
            "{net_id} is a hosting provider: never roaming or travel"
        ));
    }
    if g.confidence == Confidence::Low {
        checked.push(PREFIX_ONLY.to_string());
    }
    let mut containment = vec![
        revoke_step(user_id),
        "Reset the user's password and review their MFA methods: a replayed session usually means the session cookie was phished (adversary-in-the-middle) or stolen from the device.".to_string(),
        format!(
            "Check inbox rules and forwarding (GET /users/{}/mailFolders/inbox/messageRules) and review the mail and files the records cite.",
            crate::evidence::user_path(user_id)
        ),
        "Require token protection (token binding) and compliant devices for this user's sessions with Conditional Access.".to_string(),
    ];
    if g.net.hosting {
        containment.push(format!(
            "Block sign-ins from {net_id} with a Conditional Access named location."
        ));
    }
    Draft {
        rule: RULE,
        group_key: format!("{sid}|{net_id}"),
        title: "Session used from a network where it was never established".to_string(),
        why,
        severity: severity_for(Severity::High, g.confidence),
        confidence: g.confidence,
        user_id: user_id.map(String::from),
        upn,
        session_id: Some(sid.clone()),
        token_id: None,
        app_id: cx.owned(s.app_id),
        app_name: cx.app_name(cx.text(s.app_id), cx.text(s.app_name)),
        resource: resource_of(cx, Some(s), first_access.as_ref()),
        network: Some(net_id),
        issue: Some(root),
        records: g.records,
        checked,
        containment,
        sessions: std::iter::once(sid.clone()).collect(),
    }
    .build(cx)
}
