//! # TT005 unapproved-client
//!
//! **What it detects.** Delegated mail or file access by
//! - a client the tenant does not use: not a Microsoft first-party app, not in the inventory
//!   learned from the data, and not allowlisted. The inventory holds a client when either
//!   - it is seen with at least [`crate::Thresholds::inventory_min_users`] users (or
//!     [`crate::Thresholds::inventory_min_user_share`] of all users): broad use; or
//!   - it is in steady, established use: first seen within
//!     [`crate::Thresholds::inventory_established_secs`] (24 h) of the first user sign-in of the
//!     input, and seen on at least [`crate::Thresholds::inventory_min_days`] (3) distinct UTC
//!     days (every day when the sign-in logs span fewer, never fewer than 2). This is how a
//!     single delegated automation account (a reporting script with its own app registration)
//!     joins the inventory while an app that first appears mid-window does not; or
//! - a token obtained through a risky flow: device code (`authenticationProtocol` deviceCode,
//!   `originalTransferMethod` deviceCodeFlow) or resource-owner password (ROPC), on the token's
//!   issuing sign-in or any sign-in of its session; or
//! - a first-party public client that token-theft tooling impersonates (Azure CLI, Azure
//!   PowerShell, Graph Command Line Tools, Visual Studio Code, Microsoft Authentication Broker...,
//!   list in `src/data/tooling_clients.txt` with sources) from a device the sign-in shows as
//!   unmanaged.
//!
//! **Why.** Consent phishing brings a new client into the tenant; device-code phishing hands the
//! attacker a token for a public client; FOCI refresh tokens can be exchanged into any of the
//! tooling clients without an app registration.
//!
//! **Evidence.** The accesses grouped; the issuing or root sign-in (flow, device); the reasons
//! in `why`.
//!
//! **Known false positives and how they are avoided.**
//! - App-only automation: only delegated access is considered (service principals with their
//!   own credentials belong to the inventory).
//! - First-party apps, including those without sign-in rows, are part of Microsoft 365, not
//!   "unapproved" (only the tooling criterion applies to the tooling subset).
//! - Niche line-of-business apps: learned from the data by distinct users; small tenants get
//!   low confidence; the allowlist (`app_id`) approves the rest.
//! - Delegated automation accounts (one user, one app, every day): learned as steady use.
//!
//! **Blind spot.** Steady use is learned, not approved: an unapproved client that was already
//! there when the logs begin and keeps reading on several days (an attacker present from the
//! first day, a consent granted before the export window) is taken for part of the tenant. The
//! longer the input reaches back before the suspected compromise, the smaller this gap (give the
//! whole export and narrow the report with `--since`, which never shortens what is learned).
//! Review the learned
//! single-user clients (`inventory`) and allowlist the approved ones explicitly.
//! - Everyday clients that tooling also borrows (Teams, Office, OneDrive sync, Edge, Company
//!   Portal) are not on the tooling list: only a risky flow flags them.
//! - Unknown device state (no sign-in, no `IsManagedDevice`) is not taken as unmanaged.
//!
//! **Grouping.** One finding per (user, client app).
//!
//! **Allowlist.** Match on `app_id` (optionally `user`) with `rules: [TT005]` for an approved
//! client; device code for meeting-room devices: `app_id` plus `user`.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;
use tokentrail_model::{AttackKind, Confidence, Grouping, RuleId, RuleMeta, Severity, T1550_001};

use super::judging::{resource_of, who, Candidate, Draft};
use super::needs::{Field, Log, Need, Verdict};
use super::{Judge, Lane, Rule};
use crate::correlate::{is_root_kind, rec_delegated, Chain, Context, Linked};
use crate::evidence::{revoke_step, Gathered};
use crate::store::{sflag, Sym};
use crate::tenant::ClientUse;
use crate::Tally;

/// What TT005 declares about itself.
pub static META: RuleMeta = RuleMeta {
    code: "TT005",
    name: "unapproved-client",
    summary:
        "Delegated mail or file access by a client the tenant does not use, or via a risky flow.",
    severity: Severity::Medium,
    analytics: &["AN0529"],
    techniques: T1550_001,
    grouping: Grouping::UserAndClient,
    catches: &[AttackKind::DeviceCodePhish, AttackKind::UnapprovedClient],
};

/// TT005's id.
pub const ID: RuleId = RuleId::of(&META);

/// TT005 in the registry.
pub static RULE: Rule = Rule {
    id: ID,
    needs: NEEDS,
    raises: None,
    judge: |cx, _| Box::new(Tt005::new(cx)),
    spark_sql: include_str!("spark.sql"),
    kql: include_str!("query.kql"),
    lane: Lane::Second,
};

/// What TT005 needs from the logs.
#[rustfmt::skip]
const NEEDS: &[Need] = &[
    Need::AccessLogs {
        unseen: "no mail or file access is seen",
    },
    Need::Logs {
        none_of: &[Log::Interactive],
        verdict: Verdict::Degraded,
        reason: "no interactive sign-ins: device-code and password flows, the devices behind a session, and the clients the tenant uses cannot be learned from them",
        present_note: None,
    },
    Need::Logs {
        none_of: &[Log::NonInteractive],
        verdict: Verdict::Degraded,
        reason: "no non-interactive sign-ins: tokens from silent refreshes cannot be traced to their flow and device, and clients used silently are not learned",
        present_note: None,
    },
    Need::Field {
        field: Field::AccessAppId,
        what: "access records with a client app id",
        effect: "the client behind an access is unknown",
        fix: "Export Graph AppId and UAL AppAccessContext.ClientAppId / ApplicationId with the records.",
    },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Reason {
    DeviceCode,
    Ropc,
    ToolingUnmanaged,
    NotInInventory,
}

impl Reason {
    fn text(self) -> &'static str {
        match self {
            Reason::DeviceCode => "token obtained through the device code flow",
            Reason::Ropc => "token obtained with the resource-owner password flow",
            Reason::ToolingUnmanaged => {
                "a client token-theft tooling impersonates, from an unmanaged device"
            }
            Reason::NotInInventory => "a client the tenant does not use",
        }
    }
}

/// True when the tenant's own data shows `app` in use: by at least `min_users` users, or in
/// steady use since the sign-in logs begin (see [`established`]).
fn in_inventory(cx: &Context<'_>, app: Sym, min_users: usize) -> bool {
    cx.inventory
        .get(&app)
        .is_some_and(|u| u.users >= min_users || established(cx, u))
}

/// Steady, established use: the client was already in use when the sign-in logs begin (first
/// seen within [`crate::Thresholds::inventory_established_secs`] of their first row) and was
/// seen on at least [`crate::Thresholds::inventory_min_days`] distinct UTC days, or on every
/// day when the logs span fewer days, and never on fewer than two. One day of data cannot show
/// steady use, so nothing is learned this way from it.
fn established(cx: &Context<'_>, used: &ClientUse) -> bool {
    let (Some((start, end)), Some(first)) = (cx.sign_in_span, used.first_seen) else {
        return false;
    };
    let span_days = end.secs().div_euclid(86_400) - start.secs().div_euclid(86_400) + 1;
    let min_days = i64::try_from(cx.thresholds.inventory_min_days)
        .unwrap_or(i64::MAX)
        .min(span_days)
        .max(2);
    first <= start.plus_secs(cx.thresholds.inventory_established_secs)
        && i64::try_from(used.days.len()).unwrap_or(i64::MAX) >= min_days
}

const RISKY_FLOWS: u8 = sflag::DEVICE_CODE | sflag::ROPC;

/// The risky flows any sign-in of a session shows, and the first sign-in (interactive ones
/// first, each list in time order) that shows one.
fn risky_flows(cx: &Context<'_>, chain: &Chain) -> (u8, Option<usize>) {
    let mut flows = 0;
    let mut first = None;
    for &i in chain.interactive.iter().chain(&chain.non_interactive) {
        let f = cx.sign_ins.get(i).map_or(0, |s| s.flags & RISKY_FLOWS);
        if f != 0 {
            flows |= f;
            first = first.or(Some(i));
        }
    }
    (flows, first)
}

#[derive(Default)]
struct Group {
    records: Gathered,
    /// The sessions of its accesses.
    sessions: BTreeSet<Sym>,
    reasons: BTreeSet<Reason>,
    /// The sign-in that shows the flow or the device, earliest first.
    evidence_sign_in: Option<(tokentrail_model::Timestamp, usize)>,
}

/// TT005's state while accesses are judged.
pub(crate) struct Tt005 {
    min_users: usize,
    groups: BTreeMap<(String, String), Group>,
    session_flows: FxHashMap<Sym, (u8, Option<usize>)>,
}

impl Tt005 {
    pub fn new(cx: &Context<'_>) -> Tt005 {
        Tt005 {
            min_users: cx.thresholds.inventory_min_users.max(
                (cx.thresholds.inventory_min_user_share * cx.user_count as f64).ceil() as usize,
            ),
            groups: BTreeMap::new(),
            session_flows: FxHashMap::default(),
        }
    }
}

impl Judge for Tt005 {
    fn access(&mut self, cx: &Context<'_>, l: &Linked<'_>, stats: &mut Tally) {
        let a = l.access;
        let min_users = self.min_users;
        if !rec_delegated(a) || !a.workload.is_mail_or_files() {
            return;
        }
        let Some(app) = cx.lc(a.app_id) else {
            stats.unknown(ID, "no-client-id");
            return;
        };
        let issue = l.issue;
        let session = l.session;
        let chain = session.and_then(|sid| cx.chain(sid));
        // The risky flows shown by the issuing sign-in, then by the session's sign-ins (asked
        // once per session: a long session would otherwise cost its length per access).
        let mut flows = 0u8;
        let mut shown_by: Option<usize> = None;
        if let Some(s) = issue.and_then(|s| cx.sign_ins.get(s)) {
            flows |= s.flags & RISKY_FLOWS;
            if flows != 0 {
                shown_by = issue;
            }
        }
        if let (Some(sid), Some(c)) = (session, chain) {
            let (f, first) = *self
                .session_flows
                .entry(sid)
                .or_insert_with(|| risky_flows(cx, c));
            flows |= f;
            shown_by = shown_by.or(first);
        }
        let mut reasons = BTreeSet::new();
        if flows & sflag::DEVICE_CODE != 0 {
            reasons.insert(Reason::DeviceCode);
        }
        if flows & sflag::ROPC != 0 {
            reasons.insert(Reason::Ropc);
        }
        if cx.is_tooling(app) {
            // The device as the token's own sign-in (or the session's root) shows it.
            let device_sign_in = issue.or_else(|| {
                chain.and_then(|c| {
                    c.interactive
                        .iter()
                        .copied()
                        .find(|&s| cx.sign_ins.get(s).is_some_and(|x| is_root_kind(x.kind)))
                })
            });
            let unmanaged = match device_sign_in.and_then(|s| cx.sign_ins.get(s)) {
                Some(s) => !s.has(sflag::MANAGED),
                None => a.is_managed_device == Some(false),
            };
            if unmanaged {
                reasons.insert(Reason::ToolingUnmanaged);
                shown_by = shown_by.or(device_sign_in);
            }
        } else if !cx.is_first_party(app) && !in_inventory(cx, app, min_users) {
            reasons.insert(Reason::NotInInventory);
            shown_by = shown_by.or(issue);
        }
        if reasons.is_empty() {
            return;
        }
        let Some(user) = l.user else {
            stats.unknown(ID, "no-user");
            return;
        };
        let user = cx.derived_text(user).to_string();
        let app = cx.derived_text(app).to_string();
        let g = self.groups.entry((user, app)).or_default();
        g.records.access(cx, a);
        g.sessions.extend(session);
        g.reasons.extend(reasons);
        if let Some(s) = shown_by {
            if let Some(t) = cx.sign_ins.get(s).map(|x| x.time) {
                if g.evidence_sign_in.is_none_or(|(ft, fi)| (t, s) < (ft, fi)) {
                    g.evidence_sign_in = Some((t, s));
                }
            }
        }
    }

    fn finish(self: Box<Self>, cx: &Context<'_>) -> Vec<Candidate> {
        let min_users = self.min_users;
        let small_tenant = cx.user_count < cx.thresholds.inventory_min_users.saturating_mul(10);
        self.groups
        .into_iter()
        .filter_map(|((user, app), g)| {
            let first = g.records.first_access()?.clone();
            let first = &first;
            let first_session = cx.link(first).session;
            let flow = g.reasons.contains(&Reason::DeviceCode) || g.reasons.contains(&Reason::Ropc);
            let user_id = cx.owned(first.user_id).or_else(|| (!user.contains('@')).then(|| user.clone()));
            let upn = cx.upn_for(user_id.as_deref(), cx.text(first.upn));
            let app_name = cx.app_name(Some(&app), cx.text(first.app_name));
            let reasons: Vec<&str> = g.reasons.iter().map(|r| r.text()).collect();
            let why = format!(
                "{} read mail or files with client {}{} ({} record(s)): {}.",
                who(user_id.as_deref(), upn.as_deref()),
                app,
                app_name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default(),
                g.records.len(),
                reasons.join("; "),
            );
            let confidence = if flow {
                Confidence::High
            } else if g.reasons.contains(&Reason::NotInInventory) && small_tenant {
                Confidence::Low
            } else {
                Confidence::Medium
            };
            let checked = vec![
                "delegated access only (app-only automation left out)".to_string(),
                format!(
                    "client inventory learned from the data: clients seen with at least {min_users} users, or in use since the sign-in logs begin and on at least {} distinct days, plus Microsoft first-party apps",
                    cx.thresholds.inventory_min_days.max(2)
                ),
                "device code and ROPC looked up on the token's issuing sign-in and every sign-in of its session".to_string(),
                "device state taken from the sign-in (managed or compliant), never from the access record".to_string(),
            ];
            let mut containment = vec![
                format!(
                    "Review the consent granted to client {app} (GET /oauth2PermissionGrants?$filter=clientId eq '{{service-principal-id}}') and remove it if unapproved."
                ),
                revoke_step(user_id.as_deref()),
                format!(
                    "Check inbox rules and forwarding (GET /users/{}/mailFolders/inbox/messageRules).",
                    crate::evidence::user_path(user_id.as_deref())
                ),
            ];
            if g.reasons.contains(&Reason::DeviceCode) {
                containment.push(
                    "Block the device code flow with a Conditional Access authentication-flows policy except for the devices that need it.".to_string(),
                );
            }
            if g.reasons.contains(&Reason::Ropc) {
                containment.push("Reset the user's password: ROPC means the password itself was used.".to_string());
            }
            Draft {
                rule: ID,
                group_key: format!("{user}|{app}"),
                title: if flow {
                    "Mail or file access with a token from a risky sign-in flow".to_string()
                } else {
                    "Mail or file access by an unapproved client".to_string()
                },
                why,
                severity: if flow { Severity::High } else { Severity::Medium },
                confidence,
                user_id,
                upn,
                session_id: first_session.and_then(|s| cx.session_id(s)).cloned(),
                token_id: first.token.and_then(|t| cx.token_id(t)).cloned(),
                app_id: Some(app.clone()),
                app_name,
                resource: resource_of(cx, None, Some(first)),
                network: cx.access_net(first).map(|n| n.id),
                issue: g.evidence_sign_in.map(|(_, i)| i),
                sessions: g
                    .sessions
                    .iter()
                    .filter_map(|s| cx.session_id(*s).cloned())
                    .collect(),
                records: g.records,
                checked,
                containment,
            }
            .build(cx)
        })
        .collect()
    }
}

#[cfg(test)]
mod tests;
