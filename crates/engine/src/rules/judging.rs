//! What the rules share while they judge: the [`Candidate`] a rule returns (a finding plus what
//! the allowlist needs to match it), the [`Draft`] it builds one from, and the network and
//! device questions several rules ask.

use std::collections::BTreeSet;

use tokentrail_model::{Confidence, Finding, NetworkId, RuleId, SessionId, Severity, TokenId};

use crate::allowlist::MatchScope;
use crate::correlate::{Chain, Context};
use crate::coverage::{Covered, Family, Stretch, HOLE_MIN_USERS};
use crate::evidence::{finding_id, issue_evidence, Gathered};
use crate::network::{relate, relate_to_any, Net, Relation};
use crate::store::{sflag, AccessRec, SignInRec, Sym};

/// A finding before suppression, with the facts allowlist entries are matched against.
pub(crate) struct Candidate {
    pub finding: Finding,
    pub scope: MatchScope,
    /// Sessions the finding covers (TT003 raises TT001/TT002 findings on these).
    pub sessions: BTreeSet<SessionId>,
}

/// What a rule knows about one group, turned into a [`Candidate`] by [`Draft::build`].
pub(crate) struct Draft {
    pub rule: RuleId,
    pub group_key: String,
    pub title: String,
    pub why: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub user_id: Option<String>,
    pub upn: Option<String>,
    pub session_id: Option<SessionId>,
    pub token_id: Option<TokenId>,
    pub app_id: Option<String>,
    pub app_name: Option<String>,
    pub resource: Option<String>,
    pub network: Option<NetworkId>,
    pub issue: Option<usize>,
    pub records: Gathered,
    pub checked: Vec<String>,
    pub containment: Vec<String>,
    pub sessions: BTreeSet<SessionId>,
}

impl Draft {
    pub fn build(self, cx: &Context<'_>) -> Option<Candidate> {
        let g = &self.records;
        let evidence = g.evidence(cx, self.network)?;
        let src_ip = g.first_ip(cx);
        let mut scope = MatchScope {
            user_id: self.user_id.clone(),
            upn: self.upn.clone(),
            ..MatchScope::default()
        };
        if let Some(app) = &self.app_id {
            scope.app_ids.insert(app.to_ascii_lowercase());
        }
        for app in g.app_handles() {
            if let Some(app) = cx.text(Some(app)) {
                scope.app_ids.insert(app.to_ascii_lowercase());
            }
        }
        for sp in g.service_principal_handles() {
            if let Some(sp) = cx.text(Some(sp)) {
                scope.service_principal_ids.insert(sp.to_ascii_lowercase());
            }
        }
        for ip in g.ip_handles() {
            if let Some(net) = cx.net_of(ip) {
                scope.ips.insert(net.ip);
                scope.asns.insert(net.asn());
            }
        }
        let finding = Finding {
            id: finding_id(self.rule, &self.group_key),
            rule: self.rule,
            title: self.title,
            why: self.why,
            severity: self.severity,
            confidence: self.confidence,
            user_id: self.user_id,
            upn: self.upn,
            session_id: self.session_id,
            token_id: self.token_id,
            app_id: self.app_id,
            app_name: self.app_name,
            resource: self.resource,
            src_ip,
            network: self.network,
            first_seen: evidence.first_seen,
            last_seen: evidence.last_seen,
            issue: self.issue.and_then(|i| issue_evidence(cx, i)),
            accesses: vec![evidence],
            checked: self.checked,
            containment: self.containment,
            suppression: None,
        };
        Some(Candidate {
            finding,
            scope,
            sessions: self.sessions,
        })
    }
}

/// A user for display: the UPN when known, else the object id.
pub(crate) fn who(user_id: Option<&str>, upn: Option<&str>) -> String {
    upn.or(user_id).unwrap_or("an unknown user").to_string()
}

/// The resource a token was for: the issuing sign-in's resource, else the access's API, else
/// its workload.
pub(crate) fn resource_of(
    cx: &Context<'_>,
    issue: Option<&SignInRec>,
    access: Option<&AccessRec>,
) -> Option<String> {
    issue.and_then(|s| cx.owned(s.resource)).or_else(|| {
        access.and_then(|a| {
            cx.text(a.resource_id)
                .map(|r| well_known_resource(r).unwrap_or(r).to_string())
                .or_else(|| Some(a.workload.as_str().to_string()))
        })
    })
}

fn well_known_resource(id: &str) -> Option<&'static str> {
    match id.to_ascii_lowercase().as_str() {
        "00000002-0000-0ff1-ce00-000000000000" => Some("Office 365 Exchange Online"),
        "00000003-0000-0ff1-ce00-000000000000" => Some("Office 365 SharePoint Online"),
        "00000003-0000-0000-c000-000000000000" => Some("Microsoft Graph"),
        _ => None,
    }
}

/// The (device, client) pairs a session used on its home networks: what a roaming device must
/// match.
pub(crate) fn home_devices(cx: &Context<'_>, chain: &Chain, home: &[Net]) -> BTreeSet<(Sym, Sym)> {
    chain
        .interactive
        .iter()
        .chain(&chain.non_interactive)
        .copied()
        .filter(|&i| {
            cx.sign_in_net(i)
                .is_some_and(|n| relate_to_any(n, home.iter()) == Relation::Same)
        })
        .filter_map(|i| cx.sign_ins.get(i))
        .filter_map(|s| Some((s.device_id?, cx.lc(s.app_id)?)))
        .collect()
}

/// True when sign-in `i` proves, by itself, that the session's own device roamed to `net`:
/// it was made from `net`, Entra proved its device in it (managed or compliant, a PRT, token
/// binding), and that device used the same client on a home network of the session. A hosting
/// network is never roaming. The sign-in speaks for itself only: another record on the same
/// network proves nothing about it.
pub(crate) fn roamed(
    cx: &Context<'_>,
    i: usize,
    net: &Net,
    home_devices: &BTreeSet<(Sym, Sym)>,
) -> bool {
    let Some(s) = cx.sign_ins.get(i) else {
        return false;
    };
    !net.hosting
        && s.has(sflag::PROVES_DEVICE)
        && cx
            .sign_in_net(i)
            .is_some_and(|n| relate(n, net) == Relation::Same)
        && match (s.device_id, cx.lc(s.app_id)) {
            (Some(d), Some(app)) => home_devices.contains(&(d, app)),
            _ => false,
        }
}

/// For an access from `net`: its token was issued to a device (the issuing sign-in names one:
/// Entra's view of the sign-in, not a claim inside a token), and a sign-in of the session made
/// from `net` proves that same device roamed there (see [`roamed`]). A token issued to no
/// device (a replayed refresh token, a cookie) never roams.
pub(crate) fn token_device_roamed(
    cx: &Context<'_>,
    chain: &Chain,
    issuer: Option<usize>,
    net: &Net,
    home_devices: &BTreeSet<(Sym, Sym)>,
) -> bool {
    let Some(device) = issuer
        .and_then(|i| cx.sign_ins.get(i))
        .and_then(|s| s.device_id)
    else {
        return false;
    };
    chain.non_interactive.iter().copied().any(|i| {
        cx.sign_ins
            .get(i)
            .is_some_and(|s| s.device_id == Some(device))
            && roamed(cx, i, net, home_devices)
    })
}

/// The (client, user agent and country) of each interactive sign-in of a session that names
/// no device: a personal phone or laptop that Entra does not know, as it signed in at home.
/// A device-code or ROPC sign-in names its client, not the user's device: never one of them.
/// Nor a sign-in from a hosting network, or one whose ASN is unknown: a phone signs in at home,
/// an adversary-in-the-middle proxy relays the victim's sign-in from a data centre.
pub(crate) fn home_unregistered(cx: &Context<'_>, chain: &Chain) -> BTreeSet<(Sym, Sym)> {
    chain
        .interactive
        .iter()
        .filter(|&&i| {
            cx.sign_in_net(i)
                .is_some_and(|n| !n.hosting && n.asn().is_some())
        })
        .filter_map(|&i| unregistered_print(cx, cx.sign_ins.get(i)?))
        .collect()
}

/// What tells a device Entra does not know from another: the (client, user agent and country)
/// of a sign-in that names no device, when it is not a device-code or ROPC sign-in (those name
/// their client, not the user's device). The home side ([`home_unregistered`]) and the roaming
/// side ([`unregistered_roamed`]) both take it from here.
fn unregistered_print(cx: &Context<'_>, s: &SignInRec) -> Option<(Sym, Sym)> {
    if s.device_id.is_some() || s.has(sflag::DEVICE_CODE) || s.has(sflag::ROPC) {
        return None;
    }
    Some((cx.lc(s.app_id)?, s.agent_country?))
}

/// True when sign-in `i`, made from `net`, is the session's own unregistered device that
/// roamed there: it names no device either, and has the client, user agent and country of a
/// device-less interactive sign-in of the session (see [`home_unregistered`]). Nothing proves
/// such a device, so a hosting network is never it, nor a network whose ASN is unknown (whether
/// it is hosting cannot be told: Defender's sign-in tables log none); the copied user agent of
/// a residential proxy in the victim's country is this excuse's blind spot.
pub(crate) fn unregistered_roamed(
    cx: &Context<'_>,
    i: usize,
    net: &Net,
    home_unregistered: &BTreeSet<(Sym, Sym)>,
) -> bool {
    let Some(s) = cx.sign_ins.get(i) else {
        return false;
    };
    !net.hosting
        && net.asn().is_some()
        && cx
            .sign_in_net(i)
            .is_some_and(|n| relate(n, net) == Relation::Same)
        && unregistered_print(cx, s).is_some_and(|print| home_unregistered.contains(&print))
}

/// For an access from `net` whose token was issued to no device: the issuing sign-in is the
/// session's unregistered device (see [`unregistered_roamed`]; never a device-code or ROPC
/// sign-in, whose token went to whoever asked for it), and a sign-in of the session made from
/// `net` is that same device (same client, user agent and country) roaming there.
pub(crate) fn token_unregistered_roamed(
    cx: &Context<'_>,
    chain: &Chain,
    issuer: Option<usize>,
    net: &Net,
    home_unregistered: &BTreeSet<(Sym, Sym)>,
) -> bool {
    let Some(issued) = issuer.and_then(|i| cx.sign_ins.get(i)) else {
        return false;
    };
    let Some(print) = unregistered_print(cx, issued) else {
        return false;
    };
    if !home_unregistered.contains(&print) {
        return false;
    }
    chain.non_interactive.iter().copied().any(|i| {
        cx.sign_ins
            .get(i)
            .is_some_and(|s| unregistered_print(cx, s) == Some(print))
            && unregistered_roamed(cx, i, net, home_unregistered)
    })
}

/// The networks of a chain's successful interactive sign-ins: the session's home.
pub(crate) fn home_networks(cx: &Context<'_>, chain: &Chain) -> Vec<Net> {
    chain
        .interactive
        .iter()
        .filter_map(|i| cx.sign_in_net(*i).copied())
        .collect()
}

/// The severity for a confidence: a low-confidence network comparison is one step less severe.
pub(crate) fn severity_for(base: Severity, confidence: Confidence) -> Severity {
    if confidence == Confidence::Low {
        match base {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            Severity::Medium => Severity::Low,
            Severity::Low | Severity::Informational => Severity::Informational,
        }
    } else {
        base
    }
}

/// One step less confident: what a conclusion across a quiet stretch of the logs costs.
pub(crate) fn lowered(c: Confidence) -> Confidence {
    match c {
        Confidence::High => Confidence::Medium,
        Confidence::Medium | Confidence::Low => Confidence::Low,
    }
}

/// The quiet stretches a finding's "absent" conclusion leaned on, and whether every one of its
/// records did (then its confidence is lowered one step).
#[derive(Debug)]
pub(crate) struct QuietUse {
    stretches: BTreeSet<(Family, Stretch)>,
    every_record: bool,
}

impl Default for QuietUse {
    fn default() -> Self {
        QuietUse {
            stretches: BTreeSet::new(),
            every_record: true,
        }
    }
}

impl QuietUse {
    /// One record's coverage answer (only [`Covered::Yes`] and [`Covered::Quiet`] reach here).
    pub fn record(&mut self, covered: &[(Covered, Family)]) {
        let mut quiet = false;
        for (c, family) in covered {
            if let Covered::Quiet(s) = c {
                self.stretches.insert((*family, *s));
                quiet = true;
            }
        }
        self.every_record &= quiet;
    }

    /// True when every record leaned on a quiet stretch.
    pub fn lowers(&self) -> bool {
        self.every_record && !self.stretches.is_empty()
    }

    /// The confidence once the quiet stretches are weighed.
    pub fn confidence(&self, c: Confidence) -> Confidence {
        if self.lowers() {
            lowered(c)
        } else {
            c
        }
    }

    /// Lines for `checked`, one per stretch (the first few).
    pub fn checked(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .stretches
            .iter()
            .take(MAX_QUIET_NAMED)
            .map(|(f, s)| {
                format!(
                    "the {} was quiet from {} to {} with no evidence of missing records (no tokens of {HOLE_MIN_USERS} or more users issued there and found in no sign-in, no shortfall against its own rate at the same hours elsewhere): counted as covered{}",
                    f.describe(),
                    s.start,
                    s.end,
                    if self.lowers() { ", confidence lowered one step" } else { "" }
                )
            })
            .collect();
        if self.stretches.len() > MAX_QUIET_NAMED {
            out.push(format!(
                "{} more quiet stretch(es) of the sign-in logs leaned on",
                self.stretches.len() - MAX_QUIET_NAMED
            ));
        }
        out
    }

    /// A sentence for `why` when the finding leans on quiet stretches, naming the first.
    pub fn why(&self) -> String {
        match self.stretches.iter().next() {
            Some((f, s)) if self.lowers() => format!(
                " The {} was quiet from {} to {}, with no sign of missing records there: counted as covered, confidence lowered one step.",
                f.describe(),
                s.start,
                s.end
            ),
            _ => String::new(),
        }
    }
}

/// Quiet stretches named per finding; more are counted.
const MAX_QUIET_NAMED: usize = 3;

/// What a low-confidence network comparison adds to `checked`.
pub(crate) const PREFIX_ONLY: &str =
    "ASN of at least one address unknown: networks compared by /24 or /48 prefix, confidence lowered";
