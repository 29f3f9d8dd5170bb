//! # TT004 orphan-token
//!
//! **What it detects.** A delegated access whose token id appears in no sign-in at all (no
//! sign-in row's token id or id, no UAL `UserLoggedIn` record), while the interactive and the
//! non-interactive sign-in logs both cover the token's issue time (`TokenIssuedAt`, `C_Iat`,
//! `AppAccessContext.IssuedAtTime`; without it, the 28 hours before the access: the longest an
//! access token lives). Coverage is judged on evidence ([`crate::coverage`]): a token issued in
//! a quiet stretch (a small office's night) fires with one step less confidence and the stretch
//! named; inside a hole (a lost page: tokens of several users nobody saw issued, or a rate far
//! below the log's own) the answer is unknown.
//!
//! **Why.** Entra logs every token it issues to a user as a sign-in. A token nobody saw issued,
//! while the logs were complete, was minted or obtained outside the tenant's view — or the
//! export is incomplete. Either way it is a lead worth a look, not proof: low severity.
//!
//! **Evidence.** The accesses grouped with counts, times, IPs, operations, sample record ids,
//! and the token id that matched nothing.
//!
//! **Known false positives and how they are avoided.**
//! - First-party apps without sign-in rows (Microsoft documents this for the Graph activity
//!   log): Microsoft first-party clients are excluded unless
//!   [`crate::Thresholds::orphan_first_party`] is set.
//! - Gaps in the export: the issue time must lie inside coverage of both sign-in logs;
//!   otherwise the access is counted as unknown. A lost page of a busy tenant's sign-ins is a
//!   hole, not a flood of findings.
//! - Placeholder token ids of anonymized samples (they decode to no GUID): counted as unknown.
//! - App-only automation: app-only tokens come from service principal sign-ins; only delegated
//!   access is considered.
//! - Records without a token id are not judged here.
//!
//! **Grouping.** One finding per (user, client app, token): the token is what has no issuance
//! record, and a token lives an hour to a day, so a group stays small and each finding names one
//! thing to look up.
//!
//! **Allowlist.** Match on `app_id` for a client known to act without sign-in rows, with
//! `rules: [TT004]`.

use std::collections::BTreeMap;

use tokentrail_model::{
    AttackKind, Confidence, Grouping, Ident, RuleId, RuleMeta, Severity, TokenId, T1550_001,
};

use super::judging::{resource_of, who, Candidate, Draft, QuietUse};
use super::needs::{Field, Log, Need, Verdict};
use super::{Judge, Lane, Rule};
use crate::correlate::{rec_delegated, Context, Linked};
use crate::coverage::{Covered, Family};
use crate::evidence::{revoke_step, Gathered};
use crate::Tally;
use tokentrail_model::SignInKind;

/// What TT004 declares about itself.
pub static META: RuleMeta = RuleMeta {
    code: "TT004",
    name: "orphan-token",
    summary:
        "An access whose token id appears in no sign-in although sign-in logs cover its issue.",
    severity: Severity::Low,
    analytics: &["AN0529"],
    techniques: T1550_001,
    grouping: Grouping::UserClientAndToken,
    catches: &[AttackKind::OrphanToken],
};

/// TT004's id.
pub const ID: RuleId = RuleId::of(&META);

/// TT004 in the registry.
pub static RULE: Rule = Rule {
    id: ID,
    needs: NEEDS,
    raises: None,
    judge: |_, _| Box::new(Tt004::default()),
    spark_sql: include_str!("spark.sql"),
    kql: include_str!("query.kql"),
    lane: Lane::First,
};

/// What TT004 needs from the logs.
#[rustfmt::skip]
const NEEDS: &[Need] = &[
    Need::AccessLogs {
        unseen: "no token use is seen",
    },
    Need::Logs {
        none_of: &[Log::Interactive],
        verdict: Verdict::Blind,
        reason: "no interactive sign-ins: the rule concludes only where both interactive and non-interactive sign-ins cover a token's issue time",
        present_note: None,
    },
    Need::Logs {
        none_of: &[Log::NonInteractive],
        verdict: Verdict::Blind,
        reason: "no non-interactive sign-ins: the rule concludes only where both interactive and non-interactive sign-ins cover a token's issue time",
        present_note: None,
    },
    Need::Field {
        field: Field::AccessTokenId,
        what: "access records with a token id",
        effect: "an access cannot be tied to its token",
        fix: "Export access logs with their token ids (Graph SignInActivityId, UAL AppAccessContext.UniqueTokenId).",
    },
    Need::Field {
        field: Field::AccessTokenIssuedAt,
        what: "token-bearing access records with the token's issue time",
        effect: "the rule assumes the token was issued up to two hours before the access",
        fix: "Export Graph TokenIssuedAt and UAL AppAccessContext.IssuedAtTime with the records.",
    },
];

/// TT004's state while accesses are judged.
#[derive(Default)]
pub(crate) struct Tt004 {
    groups: BTreeMap<(String, String, TokenId), Group>,
}

struct Group {
    records: Gathered,
    /// Every record logged its token's issue time.
    exact: bool,
    quiet: QuietUse,
}

impl Judge for Tt004 {
    fn access(&mut self, cx: &Context<'_>, l: &Linked<'_>, stats: &mut Tally) {
        let a = l.access;
        if !rec_delegated(a) {
            return;
        }
        let Some(token) = a.token else {
            return;
        };
        if cx.issuer(token).is_some() {
            return;
        }
        let Some(token) = cx.token_id(token) else {
            return;
        };
        if matches!(token.0, Ident::Opaque(_)) {
            stats.unknown(ID, "opaque-token-id");
            return;
        }
        if !cx.thresholds.orphan_first_party
            && cx.lc(a.app_id).is_some_and(|app| cx.is_first_party(app))
        {
            stats.benign(ID, "first-party-without-sign-in-row");
            return;
        }
        let (from, to, exact) = match a.token_issued_at() {
            Some(t) => (t, t, true),
            None => (
                a.time.plus_secs(-cx.thresholds.token_lifetime_secs),
                a.time,
                false,
            ),
        };
        let covered = [SignInKind::Interactive, SignInKind::NonInteractive].map(|k| {
            let f = Family::SignIn(k);
            (cx.coverage.covered(f, from, to), f)
        });
        if covered.iter().any(|(c, _)| *c == Covered::No) {
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
            .entry((user, app, token.clone()))
            .or_insert_with(|| Group {
                records: Gathered::default(),
                exact: true,
                quiet: QuietUse::default(),
            });
        g.records.access(cx, a);
        g.exact &= exact;
        g.quiet.record(&covered);
    }

    fn finish(self: Box<Self>, cx: &Context<'_>) -> Vec<Candidate> {
        self.groups
        .into_iter()
        .filter_map(|((user, app, token), Group { records, exact, quiet })| {
            let first = records.first_access()?.clone();
            let first = &first;
            let app_id = (!app.is_empty()).then(|| app.clone());
            let user_id = cx.owned(first.user_id).or_else(|| (!user.contains('@')).then(|| user.clone()));
            let upn = cx.upn_for(user_id.as_deref(), cx.text(first.upn));
            let issued = first
                .token_issued_at()
                .map_or_else(|| "its issue time".to_string(), |t| t.to_string());
            let why = format!(
                "Token {token} used by client {} for {} ({} record(s)) appears in no sign-in although the interactive and non-interactive sign-in logs cover {issued}.{}",
                app_id.as_deref().unwrap_or("(unknown)"),
                who(user_id.as_deref(), upn.as_deref()),
                records.len(),
                quiet.why(),
            );
            let mut checked = vec![
                "token id compared exactly with every sign-in's token id and id, UAL UserLoggedIn records included".to_string(),
                if exact {
                    "interactive and non-interactive sign-in logs cover the token's logged issue time, with no evidence of a hole there".to_string()
                } else {
                    format!(
                        "issue time not logged: interactive and non-interactive sign-in logs cover the {} h before the access (the longest an access token lives), with no evidence of a hole there",
                        cx.thresholds.token_lifetime_secs / 3600
                    )
                },
                "client is not a Microsoft first-party app (their activity may lack sign-in rows)".to_string(),
                "delegated access only (app-only automation left out)".to_string(),
            ];
            checked.extend(quiet.checked());
            let containment = vec![
                "Confirm the sign-in export is complete for the issue time (all four sign-in categories, no filter on the export).".to_string(),
                format!(
                    "If client {} is not expected for this user, review its consent and revoke the user's sessions.",
                    app_id.as_deref().unwrap_or("(unknown)")
                ),
                revoke_step(user_id.as_deref()),
            ];
            Draft {
                rule: ID,
                group_key: format!("{user}|{app}|{token}"),
                title: "Token with no sign-in that issued it".to_string(),
                why,
                severity: Severity::Low,
                confidence: quiet.confidence(if exact { Confidence::Medium } else { Confidence::Low }),
                user_id,
                upn,
                session_id: first.session.and_then(|s| cx.session_id(s)).cloned(),
                token_id: Some(token),
                app_id: app_id.clone(),
                app_name: cx.app_name(app_id.as_deref(), cx.text(first.app_name)),
                resource: resource_of(cx, None, Some(first)),
                network: cx.access_net(first).map(|n| n.id),
                issue: None,
                sessions: first.session.and_then(|s| cx.session_id(s)).cloned().into_iter().collect(),
                records,
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
