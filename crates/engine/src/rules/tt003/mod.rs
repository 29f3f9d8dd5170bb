//! # TT003 no-interactive-context
//!
//! **What it detects.** The literal AN0959: delegated access to mail or files whose token
//! descends from no interactive sign-in anywhere in the lookback, while the interactive sign-in
//! logs do cover that lookback. "Descends from" means: the token's issuing sign-in is
//! interactive, or the session (named by the access, or by the issuing sign-in) has an
//! interactive sign-in or UAL logon in the input.
//!
//! **Why.** Every legitimate delegated token descends from a user being present once. A
//! session that only ever refreshes, with no root, was imported from somewhere else: a stolen
//! refresh token, a primary refresh token redeemed away from its device (from a hosting
//! network: see the blind spot below), a forged or replayed session.
//!
//! **Evidence.** The accesses grouped with counts, times, IPs, operations and sample record
//! ids; the session ids covered; the first non-interactive sign-in of the session when there is
//! one (as `issue`).
//!
//! **Known false positives and how they are avoided.**
//! - Sessions older than the input: "absent" is concluded only when interactive sign-in
//!   coverage ([`crate::coverage`]: the export window less its holes) reaches
//!   [`crate::Thresholds::root_lookback_secs`] (24 h) before the session was first alive (its
//!   first record, or the logged issue of a token it used); otherwise the access is counted as
//!   unknown, not alerted. Across a quiet stretch (a small office's weekend) the finding fires
//!   with the stretch named and one step less confidence.
//! - Records without linkable ids (no token id, no session id): unknown, never alerted.
//! - Exports that do not say which sign-ins were interactive (the Entra admin center's CSV):
//!   a session whose sign-ins include such a row may have its root among them: unknown.
//! - A token whose issuing sign-in has no session id: unknown.
//! - First-party apps without sign-in rows: when neither the token nor the session appears in
//!   any sign-in and the client is a Microsoft first-party app, it is skipped (Microsoft
//!   documents such activity).
//! - Device-bound sessions: when every non-interactive sign-in of the session proves its device
//!   (managed or compliant, PRT, token binding) and none comes from a hosting network, the root
//!   is a device logon outside the sign-in logs' reach; skipped. A primary refresh token
//!   redeemed from a hosting network (Azure included, outside Microsoft's published ranges)
//!   was taken off its device: such a session is judged like any other.
//!
//! **Blind spot.** A stolen primary refresh token redeemed from a residential or mobile
//! network looks exactly like the device itself: every refresh proves the device. TT003 does
//! not see it (a later rule, TT006 device-token-replay, is meant to).
//! - App-only automation: only delegated access is considered.
//!
//! **Grouping.** One finding per (user, client app, network). Medium severity on its own; it
//! raises by one step the severity of TT001 and TT002 findings on the same session.
//!
//! **Allowlist.** Match on `app_id` (and `user`) for approved background services that act for
//! users with tokens of their own, with `rules: [TT003]`.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;
use tokentrail_model::{
    AttackKind, Confidence, Grouping, NetworkId, RuleId, RuleMeta, SessionId, Severity, Timestamp,
    T1550_001,
};

use super::judging::{resource_of, who, Candidate, Draft, QuietUse};
use super::needs::{Field, Log, Need, Verdict};
use super::{Judge, Lane, Raise, Rule};
use crate::correlate::{is_root_kind, rec_delegated, Context, Linked};
use crate::coverage::Covered;
use crate::evidence::{revoke_step, Gathered};
use crate::store::{sflag, Sym};
use crate::Tally;

/// What TT003 declares about itself.
pub static META: RuleMeta = RuleMeta {
    code: "TT003",
    name: "no-interactive-context",
    summary: "Delegated mail or file access whose token descends from no interactive sign-in.",
    severity: Severity::Medium,
    analytics: &["AN0959"],
    techniques: T1550_001,
    grouping: Grouping::UserClientAndNetwork,
    catches: &[AttackKind::NoInteractiveRoot],
};

/// TT003's id.
pub const ID: RuleId = RuleId::of(&META);

/// TT003 in the registry.
pub static RULE: Rule = Rule {
    id: ID,
    needs: NEEDS,
    raises: Some(Raise {
        rules: &[super::tt001::ID, super::tt002::ID],
        because: "the session has no interactive sign-in",
    }),
    judge: |_, _| Box::new(Tt003::default()),
    spark_sql: include_str!("spark.sql"),
    kql: include_str!("query.kql"),
    lane: Lane::First,
};

/// What TT003 needs from the logs.
#[rustfmt::skip]
const NEEDS: &[Need] = &[
    Need::AccessLogs {
        unseen: "no mail or file access is seen",
    },
    Need::Logs {
        none_of: &[Log::Interactive, Log::UalLogons],
        verdict: Verdict::Blind,
        reason: "no interactive sign-ins: \"no interactive root\" can never be concluded",
        present_note: None,
    },
    Need::Logs {
        none_of: &[Log::Interactive],
        verdict: Verdict::Degraded,
        reason: "no interactive sign-ins: only UAL logons can show a session's interactive root",
        present_note: None,
    },
    Need::Stretch {
        of: &[Log::Interactive, Log::UalLogons],
        secs: |t| t.root_lookback_secs,
        reason: "the interactive sign-in log never covers {hours} hours without a hole (the export window is shorter, or holes cut it): \"no interactive root\" is concluded only inside such a stretch, so it is never concluded",
        fix: "Export a longer, complete stretch of interactive sign-ins: at least the 24-hour lookback before the accesses, every page and file of it.",
    },
    Need::Logs {
        none_of: &[Log::NonInteractive],
        verdict: Verdict::Degraded,
        reason: "no non-interactive sign-ins: accesses that name only their token cannot be placed in a session, and device-bound sessions cannot be recognized",
        present_note: None,
    },
    Need::Field {
        field: Field::AccessLinkable,
        what: "access records with a token id or a session id",
        effect: "an access cannot be tied to a session",
        fix: "Export access logs with their linkable ids (Graph SignInActivityId and SessionId, UAL AppAccessContext).",
    },
];

#[derive(Default)]
struct Group {
    records: Gathered,
    sessions: BTreeSet<SessionId>,
    /// The earliest non-interactive sign-in of the sessions, if any.
    first_sign_in: Option<(Timestamp, usize)>,
    session_logged: bool,
    workloads: BTreeSet<&'static str>,
    quiet: QuietUse,
}

/// TT003's state while accesses are judged.
#[derive(Default)]
pub(crate) struct Tt003 {
    groups: BTreeMap<(String, String, Option<NetworkId>), Group>,
    verdicts: FxHashMap<Sym, (bool, Option<Timestamp>)>,
}

impl Judge for Tt003 {
    fn access(&mut self, cx: &Context<'_>, l: &Linked<'_>, stats: &mut Tally) {
        let a = l.access;
        if !rec_delegated(a) || !a.workload.is_mail_or_files() {
            return;
        }
        let session = l.session;
        let issue = l.issue;
        if a.token.is_none() && session.is_none() {
            stats.unknown(ID, "no-linkable-ids");
            return;
        }
        if issue
            .and_then(|s| cx.sign_ins.get(s))
            .is_some_and(|s| is_root_kind(s.kind))
        {
            return;
        }
        let chain = session.and_then(|sid| cx.chain(sid));
        if chain.is_some_and(|c| !c.interactive.is_empty()) {
            return;
        }
        if session.is_none() && issue.is_some() {
            stats.unknown(ID, "issuing-sign-in-without-session");
            return;
        }
        let non_interactive: &[usize] = chain.map_or(&[], |c| c.non_interactive.as_slice());
        // An export that does not say which sign-ins were interactive (the Entra admin center's
        // CSV) may hold the root among them: nothing can be concluded.
        if non_interactive.iter().chain(issue.iter()).any(|&i| {
            cx.sign_ins
                .get(i)
                .is_some_and(|s| s.has(sflag::KIND_ASSUMED))
        }) {
            stats.unknown(ID, "root-kind-unstated");
            return;
        }
        let session_logged = !non_interactive.is_empty() || issue.is_some();
        let first_party = cx.lc(a.app_id).is_some_and(|app| cx.is_first_party(app));
        if !session_logged && first_party {
            stats.benign(ID, "first-party-without-sign-in-row");
            return;
        }
        // Both questions are about the session, not the access: answer them once per session
        // so a long session costs its length, not its length squared.
        let (device_proven, session_start) = match (session, chain) {
            (Some(sid), Some(c)) => *self.verdicts.entry(sid).or_insert_with(|| {
                // A device's own refreshes, on networks a device can be on: a primary refresh
                // token redeemed from a data centre was taken off the device.
                let proven = !c.non_interactive.is_empty()
                    && c.non_interactive.iter().all(|&s| {
                        cx.sign_ins
                            .get(s)
                            .is_some_and(|s| s.has(sflag::PROVES_DEVICE))
                            && cx.sign_in_net(s).is_none_or(|n| !n.hosting)
                    });
                (proven, cx.session_first_seen(sid, c))
            }),
            _ => (false, None),
        };
        if device_proven {
            stats.benign(ID, "device-proven-session");
            return;
        }
        // The lookback starts where the session (or this token) was first alive: a token
        // can be used a day after it was issued.
        let first_seen = session_start
            .unwrap_or(a.time)
            .min(a.time)
            .min(a.token_issued_at().unwrap_or(a.time));
        let covered = cx.interactive_covered(
            first_seen.plus_secs(-cx.thresholds.root_lookback_secs),
            first_seen,
        );
        if covered.0 == Covered::No {
            stats.unknown(ID, "outside-coverage");
            return;
        }
        let Some(user) = l.user else {
            stats.unknown(ID, "no-user");
            return;
        };
        let user = cx.derived_text(user).to_string();
        let app = cx
            .lc(a.app_id)
            .map(|s| cx.derived_text(s).to_string())
            .unwrap_or_default();
        let g = self
            .groups
            .entry((user, app, cx.access_net(a).map(|n| n.id)))
            .or_default();
        g.records.access(cx, a);
        g.quiet.record(&[covered]);
        g.session_logged |= session_logged;
        g.workloads.insert(a.workload.as_str());
        if let Some(sid) = session.and_then(|s| cx.session_id(s)) {
            g.sessions.insert(sid.clone());
        }
        for &s in non_interactive.iter().chain(issue.iter()) {
            if let Some(t) = cx.sign_ins.get(s).map(|x| x.time) {
                if g.first_sign_in.is_none_or(|(ft, fi)| (t, s) < (ft, fi)) {
                    g.first_sign_in = Some((t, s));
                }
            }
        }
    }

    fn finish(self: Box<Self>, cx: &Context<'_>) -> Vec<Candidate> {
        self.groups
        .into_iter()
        .filter_map(|((user, app, net), g)| {
            let first = g.records.first_access()?.clone();
            let first = &first;
            let app_id = (!app.is_empty()).then(|| app.clone());
            let net_text = net.map_or_else(|| "an unknown network".to_string(), |n| n.to_string());
            let user_id = cx.owned(first.user_id).or_else(|| (!user.contains('@')).then(|| user.clone()));
            let upn = cx.upn_for(user_id.as_deref(), cx.text(first.upn));
            let sessions = g.sessions.iter().map(ToString::to_string).collect::<Vec<_>>();
            let workloads = g.workloads.iter().copied().collect::<Vec<_>>().join(" and ");
            let why = format!(
                "{} accessed {workloads} with client {} from {net_text} ({} record(s)) in {} although the interactive sign-in logs cover the {} h before.{}",
                who(user_id.as_deref(), upn.as_deref()),
                app_id.as_deref().unwrap_or("(unknown)"),
                g.records.len(),
                if sessions.is_empty() {
                    "a token with no sign-in and no session".to_string()
                } else {
                    format!("session(s) {} with no interactive sign-in", sessions.join(", "))
                },
                cx.thresholds.root_lookback_secs / 3600,
                g.quiet.why(),
            );
            let mut checked = vec![
                "no interactive sign-in or UAL logon in the session, and the token's issuing sign-in (if any) is not interactive".to_string(),
                format!(
                    "interactive sign-in logs cover the {} h before the session's first record (or its token's issue), with no evidence of a hole there",
                    cx.thresholds.root_lookback_secs / 3600
                ),
                "records carry a token or session id (unlinkable records are not judged)".to_string(),
                "not a Microsoft first-party client acting without any sign-in row".to_string(),
                "the session's non-interactive sign-ins do not all prove a device (managed, compliant, PRT, token binding) from a non-hosting network".to_string(),
                "delegated access only (app-only automation left out)".to_string(),
            ];
            checked.extend(g.quiet.checked());
            let containment = vec![
                revoke_step(user_id.as_deref()),
                format!(
                    "Review the consent and credentials of client {} (GET /oauth2PermissionGrants?$filter=clientId eq '{{service-principal-id}}').",
                    app_id.as_deref().unwrap_or("(unknown)")
                ),
                format!(
                    "Check inbox rules and forwarding (GET /users/{}/mailFolders/inbox/messageRules).",
                    crate::evidence::user_path(user_id.as_deref())
                ),
                "Find where the session came from: its non-interactive sign-ins (device, IP, client) and the user's devices holding primary refresh tokens.".to_string(),
            ];
            Draft {
                rule: ID,
                group_key: format!("{user}|{app}|{net_text}"),
                title: "Mail or file access with no interactive sign-in behind it".to_string(),
                why,
                severity: Severity::Medium,
                confidence: g.quiet.confidence(if g.session_logged {
                    Confidence::High
                } else {
                    Confidence::Medium
                }),
                user_id,
                upn,
                session_id: g.sessions.iter().next().cloned(),
                token_id: first.token.and_then(|t| cx.token_id(t)).cloned(),
                app_id: app_id.clone(),
                app_name: cx.app_name(app_id.as_deref(), cx.text(first.app_name)),
                resource: resource_of(cx, None, Some(first)),
                network: net,
                issue: g.first_sign_in.map(|(_, i)| i),
                records: g.records,
                checked,
                containment,
                sessions: g.sessions,
            }
            .build(cx)
        })
        .collect()
    }
}

#[cfg(test)]
mod tests;
