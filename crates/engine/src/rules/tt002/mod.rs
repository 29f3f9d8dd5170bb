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
//! **Known false positives and how they are avoided.** Every excuse is judged for one record
//! at a time: another record on the same network proves nothing about it.
//! - Phones switching between Wi-Fi and cellular: a non-interactive sign-in from the new
//!   network that proves its device itself (Entra marks it managed or compliant, a PRT was
//!   redeemed, or the session is token-bound), on a device the session used at home with that
//!   client, is roaming; an access is roaming when its token was issued to a device (its
//!   issuing sign-in names one) and a sign-in of the session from the new network proves that device there. A
//!   device id on an access record proves nothing (it is a claim inside the token).
//! - A personal phone Entra does not know: a device-less sign-in with the client, user agent
//!   and country of a device-less interactive sign-in of the session, never on a hosting
//!   network or for a device-code or ROPC sign-in; an access whose token such a sign-in issued,
//!   when a sign-in of the session from the new network is that same phone.
//! - A laptop moving between the user's own networks: a record from a network established for
//!   the user ([`crate::correlate::Context::established`]) is explained.
//! - A hosting or VPS network (built-in list of ASNs, Azure included) is never roaming,
//!   established or travel.
//! - Travel: an interactive sign-in by the same user from the new network (any session) within
//!   the travel window of the record explains it.
//! - Microsoft infrastructure (the published ranges only), dual stack (ASN comparison; an IPv6
//!   prefix without ASN is not compared with IPv4 homes), confidential clients (their
//!   non-interactive sign-ins log the original IP; their accesses come from their own servers).
//! - Sessions whose root is not in the input: no home, nothing concluded (that is TT003's
//!   question, asked only inside coverage).
//!
//! **Grouping.** One finding per (session, new network).
//!
//! **Allowlist.** Match on `user` and `network`/`asn` for a known egress (a VPN concentrator
//! that is not in the sign-in logs), with `rules: [TT002]`.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;

use tokentrail_model::{
    AttackKind, Confidence, Grouping, NetworkId, RuleId, RuleMeta, Severity, SignInKind, Timestamp,
    T1550_001,
};

use super::judging::{
    home_devices, home_networks, home_unregistered, resource_of, roamed, severity_for,
    token_device_roamed, token_unregistered_roamed, unregistered_roamed, who, Candidate, Draft,
    PREFIX_ONLY,
};
use super::needs::{Field, Log, Need, Verdict};
use super::{Judge, Lane, Rule};
use crate::correlate::{rec_delegated, Context, Linked};
use crate::evidence::{revoke_step, Gathered};
use crate::network::{relate_to_any, Net, Relation};
use crate::store::{sflag, Sym};
use crate::Tally;

/// What TT002 declares about itself.
pub static META: RuleMeta = RuleMeta {
    code: "TT002",
    name: "session-replay",
    summary: "A session used from a network where it was never established interactively.",
    severity: Severity::High,
    analytics: &["AN0959", "AN0527"],
    techniques: T1550_001,
    grouping: Grouping::SessionAndNetwork,
    catches: &[
        AttackKind::StolenAccessToken,
        AttackKind::SessionReplay,
        AttackKind::DeviceCodePhish,
    ],
};

/// TT002's id.
pub const ID: RuleId = RuleId::of(&META);

/// TT002 in the registry.
pub static RULE: Rule = Rule {
    id: ID,
    needs: NEEDS,
    raises: None,
    judge: |cx, stats| Box::new(Tt002::new(cx, stats)),
    spark_sql: include_str!("spark.sql"),
    kql: include_str!("query.kql"),
    lane: Lane::Second,
};

/// What TT002 needs from the logs.
#[rustfmt::skip]
const NEEDS: &[Need] = &[
    Need::Logs {
        none_of: &[Log::Interactive, Log::UalLogons],
        verdict: Verdict::Blind,
        reason: "no interactive sign-ins: no session has a home network to compare with",
        present_note: None,
    },
    Need::Logs {
        none_of: &[Log::Interactive],
        verdict: Verdict::Degraded,
        reason: "no interactive sign-ins: only UAL logons give sessions their home networks",
        present_note: None,
    },
    Need::Logs {
        none_of: &[Log::NonInteractive, Log::AnyAccess],
        verdict: Verdict::Blind,
        reason: "no non-interactive sign-ins and no access logs: nothing shows a session being used",
        present_note: None,
    },
    Need::Logs {
        none_of: &[Log::NonInteractive],
        verdict: Verdict::Degraded,
        reason: "no non-interactive sign-ins: a stolen refresh token or cookie redeemed from a new network is seen only when the access logs name the session",
        present_note: None,
    },
    Need::Logs {
        none_of: &[Log::AnyAccess],
        verdict: Verdict::Degraded,
        reason: "no access logs: a session used from a new network is seen only through its sign-ins",
        present_note: None,
    },
    Need::Field {
        field: Field::SignInSessionId,
        what: "interactive and non-interactive sign-ins with a session id",
        effect: "a sign-in cannot be placed in its session",
        fix: "Export sign-in logs with the sessionId column (Log Analytics and diagnostic settings keep it; older exports may not).",
    },
];

struct Group {
    net: Net,
    confidence: Confidence,
    records: Gathered,
}

/// What TT002 knows about one session with an interactive root.
struct Rooted {
    root: usize,
    home: Vec<Net>,
    /// The (device, client) pairs the session used at home (see [`home_devices`]).
    devices: BTreeSet<(Sym, Sym)>,
    /// The (client, user agent and country) pairs of its device-less interactive sign-ins (see
    /// [`home_unregistered`]).
    unregistered: BTreeSet<(Sym, Sym)>,
    /// The user the root signed in.
    user: Option<Sym>,
}

/// One record of a session, as TT002 judges it.
struct Record<'n> {
    time: Timestamp,
    net: Option<&'n Net>,
    confidential: bool,
    /// A non-interactive sign-in of the session: it speaks for its own device.
    sign_in: Option<usize>,
    /// An access: the sign-in that issued its token.
    issuer: Option<usize>,
}

/// TT002's state: the sessions with an interactive root, and per (session, network) the
/// records seen there that nothing explained.
pub(crate) struct Tt002 {
    rooted: FxHashMap<Sym, Rooted>,
    groups: BTreeMap<(Sym, NetworkId), Group>,
    /// Per (session, access address, issuing sign-in): did the token's device roam there, or
    /// else the session's unregistered device.
    roamed: FxHashMap<(Sym, Sym, usize), Roaming>,
}

/// How a record's own device explains a new network, if it does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Roaming {
    /// A device Entra proved, used by the session at home.
    Device,
    /// The session's device-less client (same client, user agent and country).
    Unregistered,
    No,
}

impl Tt002 {
    /// Learn every session's root and home, and judge its non-interactive sign-ins.
    pub fn new(cx: &Context<'_>, stats: &mut Tally) -> Tt002 {
        let mut t = Tt002 {
            rooted: FxHashMap::default(),
            groups: BTreeMap::new(),
            roamed: FxHashMap::default(),
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
                stats.unknown(ID, "root-without-ip");
                continue;
            }
            let devices = home_devices(cx, chain, &home);
            let unregistered = home_unregistered(cx, chain);
            let user = cx.sign_ins.get(root).and_then(|s| cx.user_of_sign_in(s));
            t.rooted.insert(
                sid,
                Rooted {
                    root,
                    home,
                    devices,
                    unregistered,
                    user,
                },
            );
            for &i in &chain.non_interactive {
                let Some(s) = cx.sign_ins.get(i) else {
                    continue;
                };
                let record = Record {
                    time: s.time,
                    net: cx.sign_in_net(i),
                    confidential: s.kind == SignInKind::NonInteractive
                        && s.has(sflag::CONFIDENTIAL),
                    sign_in: Some(i),
                    issuer: None,
                };
                if let Some(g) = t.judge(cx, sid, &record, None, stats) {
                    g.sign_in(cx, i);
                }
            }
        }
        t
    }

    /// The group a record of session `sid` belongs to, or `None` (counted in `stats` when
    /// explained or unknown). Every excuse is decided for this record alone: another record
    /// from the same network proves nothing about it.
    fn judge(
        &mut self,
        cx: &Context<'_>,
        sid: Sym,
        r: &Record<'_>,
        access_ip: Option<Sym>,
        stats: &mut Tally,
    ) -> Option<&mut Gathered> {
        let rooted = self.rooted.get(&sid)?;
        let net = r.net?;
        let root_time = cx.sign_ins.get(rooted.root)?.time;
        if r.time < root_time {
            stats.unknown(ID, "before-root");
            return None;
        }
        if net.microsoft {
            stats.benign(ID, "microsoft-infrastructure");
            return None;
        }
        let confidence = match relate_to_any(net, rooted.home.iter()) {
            Relation::Same => return None,
            Relation::Unknown => {
                stats.unknown(ID, "dual-stack-prefix-only");
                return None;
            }
            Relation::Differ(c) => c,
        };
        if r.confidential {
            stats.benign(ID, "confidential-client");
            return None;
        }
        let roaming = match (r.sign_in, r.issuer, access_ip) {
            (Some(i), _, _) => {
                if roamed(cx, i, net, &rooted.devices) {
                    Roaming::Device
                } else if unregistered_roamed(cx, i, net, &rooted.unregistered) {
                    Roaming::Unregistered
                } else {
                    Roaming::No
                }
            }
            (None, Some(issuer), Some(ip)) => {
                let chain = cx.chain(sid)?;
                *self.roamed.entry((sid, ip, issuer)).or_insert_with(|| {
                    if token_device_roamed(cx, chain, Some(issuer), net, &rooted.devices) {
                        Roaming::Device
                    } else if token_unregistered_roamed(
                        cx,
                        chain,
                        Some(issuer),
                        net,
                        &rooted.unregistered,
                    ) {
                        Roaming::Unregistered
                    } else {
                        Roaming::No
                    }
                })
            }
            _ => Roaming::No,
        };
        match roaming {
            Roaming::Device => {
                stats.benign(ID, "device-roaming");
                return None;
            }
            Roaming::Unregistered => {
                stats.benign(ID, "unregistered-device-roaming");
                return None;
            }
            Roaming::No => {}
        }
        if let Some(user) = rooted.user {
            if cx.established(user, net, r.time, Some(sid)) {
                stats.benign(ID, "established-network");
                return None;
            }
            if cx.travel_sign_in(user, net, r.time).is_some() {
                stats.benign(ID, "travel-interactive-sign-in");
                return None;
            }
        }
        let g = self.groups.entry((sid, net.id)).or_insert_with(|| Group {
            net: *net,
            confidence,
            records: Gathered::default(),
        });
        g.confidence = g.confidence.min(confidence);
        Some(&mut g.records)
    }
}

impl Judge for Tt002 {
    fn access(&mut self, cx: &Context<'_>, l: &Linked<'_>, stats: &mut Tally) {
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
        let record = Record {
            time: a.time,
            net: cx.access_net(a),
            confidential: issued_confidential
                || a.client_auth_method.is_some_and(|m| m.is_confidential()),
            sign_in: None,
            issuer: l.issue,
        };
        if let Some(g) = self.judge(cx, sid, &record, a.ip, stats) {
            g.access(cx, a);
        }
    }

    fn finish(self: Box<Self>, cx: &Context<'_>) -> Vec<Candidate> {
        let mut out = Vec::new();
        for ((sid, net_id), g) in self.groups {
            let Some(rooted) = self.rooted.get(&sid) else {
                continue;
            };
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
        "new network is not Microsoft infrastructure (the published Microsoft 365 and Entra ID ranges; the rest of AS8075 is Azure hosting)".to_string(),
        "networks compared by ASN against every interactive sign-in of the session (dual stack and carrier NAT stay one network)".to_string(),
        "each record judged on its own: no record here is a sign-in proving the session's own device with its usual client, or an access whose token was issued to such a device that roamed here (phone roaming); nor a sign-in naming no device with the client, user agent and country of a device-less interactive sign-in of the session, on a network with a known ASN that is not hosting, or an access whose token such a sign-in issued (a personal phone)".to_string(),
        "the new network is not established for the user (no device-proven sign-in there in another session before)".to_string(),
        format!(
            "no interactive sign-in by the user from the new network within {} h of each record (travel)",
            cx.thresholds.travel_window_secs / 3600
        ),
        "non-interactive sign-ins and accesses by confidential clients left out (they log the original IP)".to_string(),
        "device id on access records not taken as proof: it is a claim inside the token".to_string(),
    ];
    if g.net.hosting {
        checked.push(format!(
            "{net_id} is a hosting provider: never roaming, travel or established"
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
        rule: ID,
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

#[cfg(test)]
mod tests;
