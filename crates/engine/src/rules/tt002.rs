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

use tokentrail_model::{Confidence, NetworkId, RuleId, Severity, SignInKind};

use super::{
    home_networks, resource_of, roaming_proof, severity_for, who, Candidate, Draft, PREFIX_ONLY,
};
use crate::correlate::{rec_delegated, Context};
use crate::evidence::{revoke_step, Rec};
use crate::network::{relate_to_any, Net, Relation};
use crate::store::{sflag, Sym};
use crate::Tally;

const RULE: RuleId = RuleId::Tt002;

struct Group {
    net: Net,
    confidence: Confidence,
    records: Vec<Rec>,
}

pub(crate) fn evaluate(cx: &Context<'_>, stats: &mut Tally) -> Vec<Candidate> {
    let mut out = Vec::new();
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
        let Some(root_sign_in) = cx.sign_ins.get(root) else {
            continue;
        };
        if home.is_empty() {
            stats.unknown(RULE, "root-without-ip");
            continue;
        }
        let mut groups: BTreeMap<NetworkId, Group> = BTreeMap::new();
        let records = chain
            .non_interactive
            .iter()
            .map(|&i| Rec::SignIn(i))
            .chain(chain.accesses.iter().map(|&i| Rec::Access(i)));
        for rec in records {
            let (time, net, confidential) = match rec {
                Rec::SignIn(i) => {
                    let Some(s) = cx.sign_ins.get(i) else {
                        continue;
                    };
                    (
                        s.time,
                        cx.sign_in_net(i),
                        s.kind == SignInKind::NonInteractive && s.has(sflag::CONFIDENTIAL),
                    )
                }
                Rec::Access(i) => {
                    let Some(a) = cx.accesses.get(i) else {
                        continue;
                    };
                    if !rec_delegated(a) {
                        continue;
                    }
                    // A token issued to a confidential client is used by that client's
                    // server, wherever it runs.
                    let issued_confidential = cx
                        .access_issue(i)
                        .and_then(|s| cx.sign_ins.get(s))
                        .is_some_and(|s| s.has(sflag::CONFIDENTIAL));
                    (
                        a.time,
                        cx.access_net(i),
                        issued_confidential
                            || a.client_auth_method.is_some_and(|m| m.is_confidential()),
                    )
                }
            };
            let Some(net) = net else {
                continue;
            };
            if time < root_sign_in.time {
                stats.unknown(RULE, "before-root");
                continue;
            }
            if net.microsoft {
                stats.benign(RULE, "microsoft-infrastructure");
                continue;
            }
            let confidence = match relate_to_any(net, home.iter()) {
                Relation::Same => continue,
                Relation::Unknown => {
                    stats.unknown(RULE, "dual-stack-prefix-only");
                    continue;
                }
                Relation::Differ(c) => c,
            };
            if confidential {
                stats.benign(RULE, "confidential-client");
                continue;
            }
            let g = groups.entry(net.id).or_insert_with(|| Group {
                net: *net,
                confidence,
                records: Vec::new(),
            });
            g.confidence = g.confidence.min(confidence);
            g.records.push(rec);
        }
        for (net_id, g) in groups {
            if roaming_proof(cx, chain, &home, &g.net).is_some() {
                for _ in &g.records {
                    stats.benign(RULE, "device-roaming");
                }
                continue;
            }
            let first_time = g
                .records
                .iter()
                .map(|r| super::record_time(cx, *r))
                .min()
                .unwrap_or(root_sign_in.time);
            let user = cx.user_of_sign_in(root_sign_in);
            if user.is_some_and(|u| cx.travel_sign_in(u, &g.net, first_time).is_some()) {
                for _ in &g.records {
                    stats.benign(RULE, "travel-interactive-sign-in");
                }
                continue;
            }
            if let Some(c) = draft(cx, sid, root, &home, net_id, g) {
                out.push(c);
            }
        }
    }
    out
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
    let (sign_ins, accesses) = g.records.iter().fold((0, 0), |(s, a), r| match r {
        Rec::SignIn(_) => (s + 1, a),
        Rec::Access(_) => (s, a + 1),
    });
    let no_device = g.records.iter().all(|r| match r {
        Rec::SignIn(i) => cx.sign_ins.get(*i).is_some_and(|s| s.device_id.is_none()),
        Rec::Access(_) => true,
    });
    let first_access = g.records.iter().find_map(|r| match r {
        Rec::Access(i) => cx.accesses.get(*i),
        Rec::SignIn(_) => None,
    });
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
            user_id.unwrap_or("{user-id}")
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
        resource: resource_of(cx, Some(s), first_access),
        network: Some(net_id),
        issue: Some(root),
        records: g.records,
        checked,
        containment,
        sessions: std::iter::once(sid.clone()).collect(),
    }
    .build(cx)
}
