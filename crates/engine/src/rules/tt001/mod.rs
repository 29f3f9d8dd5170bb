//! # TT001 token-replay
//!
//! **What it detects.** A token used from a different network than the one it was issued to:
//! for each delegated access, the sign-in that issued its token (exact token id match, UAL
//! `UserLoggedIn` records included) is found, and the rule fires when the access network
//! differs from the issuing network and the access came after the issue.
//!
//! **Why.** An access token is a bearer credential. Stolen from a browser, a log or a proxy,
//! it works from anywhere for its lifetime (an hour or more; up to 28 hours for Continuous
//! Access Evaluation tokens) without any sign-in the victim's
//! logs would show: the only trace is the same token id in two places.
//!
//! **Evidence.** The issuing sign-in (id, time, IP, network, client, device); the accesses from
//! the new network grouped (count, first and last time, IPs, operations, sample record ids).
//!
//! **Known false positives and how they are avoided.**
//! - Microsoft's own infrastructure fetching for the user (the published Microsoft 365 and
//!   Entra ranges) on either side: skipped, whatever the delay. The rest of AS8075 is Azure,
//!   where anyone rents a machine: a hosting network, never an excuse.
//! - Dual-stack clients: networks are compared by ASN, so IPv4 and IPv6 addresses of one ASN
//!   are one network; an address without ASN is never compared with an issuing address of the
//!   other family. It is compared instead, by prefix and with low confidence, with the
//!   session's sign-in addresses of its own family on the issuing network (the client's other
//!   stack); when the session shows none, the access is counted unknown
//!   (`TT001:dual-stack-prefix-only`), not alerted.
//! - Carrier NAT and address rotation: ASNs are compared, not IPs.
//! - Confidential clients: their non-interactive sign-ins log the original issuing IP, not the
//!   caller's; tokens issued by such a sign-in, and accesses by a confidential client
//!   (`ClientAuthMethod` 1 or 2), are skipped.
//! - Phone roaming: the access's token was issued to a device (its issuing sign-in names one),
//!   and a sign-in of the session from the access network proves that same device with its
//!   usual client; or the session has an interactive sign-in from there; or the token was
//!   issued to the session's personal phone (no device id; the client, user agent and country
//!   of a device-less interactive sign-in of the session) and a device-less sign-in of the
//!   session with that client, agent and country was made from the access network.
//! - A laptop moving between the user's own networks: the access network is established for
//!   the user ([`crate::correlate::Context::established`]: a device-proven sign-in of the user
//!   there, in another session, before the access).
//! - Travel: the user signed in interactively from the access network within the travel
//!   window of the access. Hosting networks are never roaming, established or travel.
//! - A device id on the access record is *not* an excuse: it is a claim inside the token and
//!   travels with it.
//!
//! When only a prefix is known for one side (no ASN from the logs or the `--asn-db` database),
//! the finding has low confidence and one step less severity.
//!
//! **Grouping.** One finding per (token, access network), counting every access it covers.
//!
//! **Allowlist.** Match on `app_id` and `network`/`asn` (for example a secure web gateway that
//! re-originates traffic), with `rules: [TT001]`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use rustc_hash::FxHashMap;
use tokentrail_model::{
    AttackKind, Confidence, Grouping, NetworkId, RuleId, RuleMeta, Severity, SignInKind, T1550_001,
};

use super::judging::{
    home_devices, home_networks, home_unregistered, resource_of, severity_for, token_device_roamed,
    token_unregistered_roamed, who, Candidate, Draft, PREFIX_ONLY,
};
use super::needs::{Field, Log, Need, Verdict};
use super::{Judge, Lane, Rule};
use crate::correlate::{rec_delegated, Context, Linked};
use crate::evidence::{revoke_step, Gathered};
use crate::network::{relate, relate_to_any, Net, Relation};
use crate::store::{sflag, Sym};
use crate::Tally;

/// What TT001 declares about itself.
pub static META: RuleMeta = RuleMeta {
    code: "TT001",
    name: "token-replay",
    summary: "A token used from a different network than the one it was issued to.",
    severity: Severity::High,
    analytics: &["AN0959", "AN0527"],
    techniques: T1550_001,
    grouping: Grouping::TokenAndNetwork,
    catches: &[AttackKind::StolenAccessToken, AttackKind::DeviceCodePhish],
};

/// TT001's id.
pub const ID: RuleId = RuleId::of(&META);

/// TT001 in the registry.
pub static RULE: Rule = Rule {
    id: ID,
    needs: NEEDS,
    raises: None,
    judge: |_, _| Box::new(Tt001::default()),
    spark_sql: include_str!("spark.sql"),
    kql: include_str!("query.kql"),
    lane: Lane::First,
};

/// What TT001 needs from the logs.
#[rustfmt::skip]
const NEEDS: &[Need] = &[
    Need::AccessLogs {
        unseen: "no token use is seen",
    },
    Need::Logs {
        none_of: &[Log::Interactive, Log::NonInteractive, Log::UalLogons],
        verdict: Verdict::Blind,
        reason: "no sign-in logs: no token can be traced to the sign-in that issued it",
        present_note: None,
    },
    Need::Logs {
        none_of: &[Log::NonInteractive],
        verdict: Verdict::Degraded,
        reason: "no non-interactive sign-ins: tokens issued by silent refreshes (most tokens) cannot be traced to where they were issued",
        present_note: None,
    },
    Need::Logs {
        none_of: &[Log::Interactive],
        verdict: Verdict::Degraded,
        reason: "no interactive sign-ins: tokens issued when the user signed in cannot be traced",
        present_note: Some((Log::UalLogons, " (UAL logons stand in for some of them)")),
    },
    Need::Field {
        field: Field::AccessTokenId,
        what: "access records with a token id",
        effect: "an access cannot be tied to its token",
        fix: "Export access logs with their token ids (Graph SignInActivityId, UAL AppAccessContext.UniqueTokenId).",
    },
];

struct Group {
    issue: usize,
    access_net: Net,
    confidence: Confidence,
    records: Gathered,
}

/// An access address of one family without an ASN cannot be compared with an issuing address of
/// the other family (the dual-stack case). The session's own sign-ins often show the issuing
/// network's address of the access's family (a dual-stack client signs in over both): compare
/// the access with those twins by prefix, as a same-family comparison would. No twin: unknown.
fn via_twins(cx: &Context<'_>, sid: Sym, issue_net: &Net, access_net: &Net) -> Relation {
    let Some(chain) = cx.chain(sid) else {
        return Relation::Unknown;
    };
    let twins: Vec<Net> = chain
        .interactive
        .iter()
        .chain(&chain.non_interactive)
        .filter_map(|&i| cx.sign_in_net(i).copied())
        .filter(|n| {
            n.ip.is_ipv4() == access_net.ip.is_ipv4() && relate(n, issue_net) == Relation::Same
        })
        .collect();
    relate_to_any(access_net, twins.iter())
}

/// Was the session established on `net` by the user: an interactive sign-in of the session
/// from there, or (for a token issued to a device Entra proved) a sign-in there that proves
/// that same device with its usual client?
fn session_established_on(
    cx: &Context<'_>,
    sid: Sym,
    issue: usize,
    issue_net: &Net,
    net: &Net,
) -> bool {
    let Some(chain) = cx.chain(sid) else {
        return false;
    };
    if net.hosting {
        return false;
    }
    let interactive_there = chain.interactive.iter().any(|&i| {
        cx.sign_in_net(i)
            .is_some_and(|n| relate(n, net) == Relation::Same)
    });
    if interactive_there {
        return true;
    }
    let mut home = home_networks(cx, chain);
    home.push(*issue_net);
    token_device_roamed(cx, chain, Some(issue), net, &home_devices(cx, chain, &home))
        || token_unregistered_roamed(cx, chain, Some(issue), net, &home_unregistered(cx, chain))
}

/// TT001's state while accesses are judged.
#[derive(Default)]
pub(crate) struct Tt001 {
    groups: BTreeMap<(Sym, NetworkId), Group>,
    established_cache: FxHashMap<(Sym, usize, IpAddr), bool>,
}

impl Judge for Tt001 {
    fn access(&mut self, cx: &Context<'_>, l: &Linked<'_>, stats: &mut Tally) {
        let a = l.access;
        if !rec_delegated(a) {
            return;
        }
        let (Some(token), Some(issue)) = (a.token, l.issue) else {
            return;
        };
        let Some(s) = cx.sign_ins.get(issue) else {
            return;
        };
        let (Some(issue_net), Some(access_net)) = (cx.sign_in_net(issue), cx.access_net(a)) else {
            stats.unknown(ID, "no-ip");
            return;
        };
        if a.time < s.time.plus_secs(-cx.thresholds.issue_skew_secs) {
            stats.unknown(ID, "access-before-issue");
            return;
        }
        if access_net.microsoft || issue_net.microsoft {
            stats.benign(ID, "microsoft-infrastructure");
            return;
        }
        let session = l.session;
        let relation = match relate(issue_net, access_net) {
            Relation::Unknown => session.map_or(Relation::Unknown, |sid| {
                via_twins(cx, sid, issue_net, access_net)
            }),
            r => r,
        };
        let confidence = match relation {
            Relation::Same => return,
            Relation::Unknown => {
                stats.unknown(ID, "dual-stack-prefix-only");
                return;
            }
            Relation::Differ(c) => c,
        };
        if (s.kind == SignInKind::NonInteractive && s.has(sflag::CONFIDENTIAL))
            || a.client_auth_method.is_some_and(|m| m.is_confidential())
        {
            stats.benign(ID, "confidential-client");
            return;
        }
        // Memoized per (session, issuing sign-in, access address): a long replay repeats it.
        // Not per network id: when one side has no ASN, `relate` compares /24 or /48 prefixes,
        // so two addresses of one network id can get different answers.
        let established = session.is_some_and(|sid| {
            *self
                .established_cache
                .entry((sid, issue, access_net.ip))
                .or_insert_with(|| session_established_on(cx, sid, issue, issue_net, access_net))
        });
        if established {
            stats.benign(ID, "session-established-on-network");
            return;
        }
        if let Some(user) = l.user.or_else(|| cx.user_of_sign_in(s)) {
            if cx.established(user, access_net, a.time, session) {
                stats.benign(ID, "established-network");
                return;
            }
            if cx.travel_sign_in(user, access_net, a.time).is_some() {
                stats.benign(ID, "travel-interactive-sign-in");
                return;
            }
        }
        let g = self
            .groups
            .entry((token, access_net.id))
            .or_insert_with(|| Group {
                issue,
                access_net: *access_net,
                confidence,
                records: Gathered::default(),
            });
        g.confidence = g.confidence.min(confidence);
        g.records.access(cx, a);
    }

    fn finish(self: Box<Self>, cx: &Context<'_>) -> Vec<Candidate> {
        self.groups
            .into_iter()
            .filter_map(|((token, net_id), g)| {
                let token = cx.token_id(token)?.clone();
                let s = cx.sign_ins.get(g.issue)?;
                let first = g.records.first_access().cloned();
                let first = first.as_ref();
                let session = first.and_then(|a| cx.link(a).session);
            let user_id = cx.owned(s.user_id).or_else(|| first.and_then(|a| cx.owned(a.user_id)));
            let upn = cx.upn_for(
                user_id.as_deref(),
                cx.text(s.upn).or_else(|| first.and_then(|a| cx.text(a.upn))),
            );
            let app_id = cx.owned(s.app_id).or_else(|| first.and_then(|a| cx.owned(a.app_id)));
            let app_name = cx.app_name(
                app_id.as_deref(),
                cx.text(s.app_name).or(first.and_then(|a| cx.text(a.app_name))),
            );
            let issue_net = cx.sign_in_net(g.issue)?;
            let mut checked = vec![
                "access network is not Microsoft infrastructure (the published Microsoft 365 and Entra ID ranges; the rest of AS8075 is Azure hosting)".to_string(),
                "networks compared by ASN, not IP (dual stack and carrier NAT stay one network)".to_string(),
                "issuing sign-in is not a confidential client's non-interactive sign-in, accesses are not by a confidential client".to_string(),
                "session not established on the access network (no interactive sign-in there; no sign-in there proves the device the token was issued to, with its usual client; the token was not issued to the session's personal phone, no device id with the client, user agent and country of a device-less interactive sign-in of the session, seen there)".to_string(),
                "access network not established for the user (no device-proven sign-in there in another session before the access)".to_string(),
                format!(
                    "no interactive sign-in by the user from the access network within {} h of the access (travel)",
                    cx.thresholds.travel_window_secs / 3600
                ),
                "device id on the access records not taken as proof: it is a claim inside the token".to_string(),
            ];
            if g.confidence == Confidence::Low {
                checked.push(PREFIX_ONLY.to_string());
            }
            if g.access_net.hosting {
                checked.push(format!("access network {net_id} is a hosting provider"));
            }
            let records = g.records.len();
            let why = format!(
                "Token {token} issued to {} on {} at {} was used from {} by {records} record(s).",
                who(user_id.as_deref(), upn.as_deref()),
                issue_net.id,
                s.time,
                net_id,
            );
            let mut containment = vec![
                revoke_step(user_id.as_deref()),
                format!(
                    "Review what was read or changed from {net_id}: the records cited here; for mail, check inbox rules and forwarding (GET /users/{}/mailFolders/inbox/messageRules).",
                    crate::evidence::user_path(user_id.as_deref())
                ),
                "Require token protection (Conditional Access token binding) for the user's sign-in sessions where the client supports it.".to_string(),
            ];
            if g.access_net.hosting {
                containment.push(format!(
                    "Block sign-ins from {net_id} with a Conditional Access named location: no user works from a hosting network."
                ));
            }
            Draft {
                rule: ID,
                group_key: format!("{token}|{net_id}"),
                title: "Token used from a network it was not issued to".to_string(),
                why,
                severity: severity_for(Severity::High, g.confidence),
                confidence: g.confidence,
                user_id,
                upn,
                session_id: session.and_then(|x| cx.session_id(x)).cloned(),
                token_id: Some(token),
                app_id,
                app_name,
                resource: resource_of(cx, Some(s), first),
                network: Some(net_id),
                issue: Some(g.issue),
                records: g.records,
                checked,
                containment,
                sessions: session.and_then(|x| cx.session_id(x)).cloned().into_iter().collect(),
            }
            .build(cx)
        })
        .collect()
    }
}

#[cfg(test)]
mod tests;
