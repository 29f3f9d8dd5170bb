//! Per rule, whether the logs given let it work: supported, degraded or blind.
//!
//! What each rule needs (docs/rules/TT00x.md):
//!
//! | rule | blind without | degraded without |
//! |---|---|---|
//! | TT001 token-replay | any access log; every sign-in log (interactive, non-interactive, UAL logons); token ids on accesses | interactive or non-interactive sign-ins; Graph activity, Exchange or SharePoint/OneDrive audit; token ids on half the accesses |
//! | TT002 session-replay | interactive sign-ins and UAL logons (no home network); both non-interactive sign-ins and every access log (nothing uses the session); session ids on sign-ins | interactive sign-ins (UAL logons only); non-interactive sign-ins; every access log; session ids on half the sign-ins |
//! | TT003 no-interactive-context | any access log; interactive sign-ins and UAL logons; a continuous stretch of interactive coverage as long as the 24 h lookback; linkable ids on accesses | interactive sign-ins (UAL logons only); non-interactive sign-ins; Graph activity, Exchange or SharePoint/OneDrive audit; linkable ids on half the accesses |
//! | TT004 orphan-token | any access log; interactive sign-ins; non-interactive sign-ins; token ids on accesses | Graph activity, Exchange or SharePoint/OneDrive audit; token ids on half the accesses; issue times on half the token-bearing accesses |
//! | TT005 unapproved-client | any access log; client app ids on accesses | interactive or non-interactive sign-ins; Graph activity, Exchange or SharePoint/OneDrive audit; client app ids on half the accesses |
//!
//! Service principal and managed identity sign-ins are needed by no rule (app-only access
//! belongs to the inventory), so their absence changes no verdict; it is still reported.

use serde::Serialize;
use tokentrail_engine::coverage::Family;
use tokentrail_engine::Thresholds;
use tokentrail_model::{AccessSource, RuleId, SignInKind};

use crate::coverage::CoverageReport;
use crate::Share;

/// Below this share of records carrying a field a rule needs, the rule is degraded.
pub const MIN_FIELD_SHARE: f64 = 0.5;

/// How well a rule can work on the logs given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Everything the rule needs is there.
    Supported,
    /// The rule runs but misses part of what it should see.
    Degraded,
    /// The rule cannot conclude anything.
    Blind,
}

impl Verdict {
    /// The word used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Supported => "supported",
            Verdict::Degraded => "degraded",
            Verdict::Blind => "blind",
        }
    }
}

/// One thing that limits a rule, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Limitation {
    /// How much it limits the rule.
    pub verdict: Verdict,
    /// What is missing and what the rule cannot do because of it.
    pub reason: String,
    /// What to change, in plain words.
    pub fix: String,
}

/// The verdict for one rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleVerdict {
    /// The rule.
    pub rule: RuleId,
    /// Its short name (`token-replay`).
    pub name: &'static str,
    /// The worst of its limitations, or supported.
    pub verdict: Verdict,
    /// Every limitation found, worst first.
    pub limitations: Vec<Limitation>,
}

const FIX_INTERACTIVE: &str = "Send the SignInLogs category of Entra ID diagnostic settings to \
Log Analytics or a storage account (Entra ID P1 or P2) and include SigninLogs in the export.";
const FIX_NON_INTERACTIVE: &str = "Enable the NonInteractiveUserSignInLogs diagnostic category \
(a separate checkbox from SignInLogs) and export AADNonInteractiveUserSignInLogs; the Graph \
sign-ins API returns only interactive sign-ins unless filtered on signInEventTypes.";
const FIX_GRAPH: &str = "Microsoft Graph activity logs need Entra ID P1 and a diagnostic setting \
that sends MicrosoftGraphActivityLogs to Log Analytics, a storage account or an event hub; \
nothing is kept before that setting exists.";
const FIX_EXCHANGE: &str = "Export the Unified Audit Log's Exchange records (Audit.Exchange \
content, or a Purview audit search); MailItemsAccessed needs Audit (Premium) and mailbox \
auditing turned on.";
const FIX_SHAREPOINT: &str = "Export the Unified Audit Log's SharePoint and OneDrive records \
(Audit.SharePoint content, or a Purview audit search on those workloads).";
const FIX_ANY_ACCESS: &str = "Export at least one access log: Microsoft Graph activity logs \
(Entra ID P1 and a diagnostic setting) or the Unified Audit Log's Exchange and SharePoint \
records (Management Activity API or Purview audit search).";
const FIX_RAW_UAL: &str = "Sentinel's OfficeActivity table drops AppAccessContext and SessionId: \
export the raw Unified Audit Log (Management Activity API, Purview export) or Defender XDR \
CloudAppEvents (RawEventData keeps the record) instead.";

/// What the report says, reduced to what the rules ask.
struct Facts<'r> {
    report: &'r CoverageReport,
    interactive: bool,
    non_interactive: bool,
    ual_logons: bool,
    graph: bool,
    exchange: bool,
    files: bool,
    office_activity: bool,
}

impl Facts<'_> {
    fn any_access(&self) -> bool {
        self.graph || self.exchange || self.files
    }
}

/// Collects a rule's limitations.
#[derive(Default)]
struct Limits(Vec<Limitation>);

impl Limits {
    fn add(&mut self, verdict: Verdict, reason: impl Into<String>, fix: impl Into<String>) {
        self.0.push(Limitation {
            verdict,
            reason: reason.into(),
            fix: fix.into(),
        });
    }

    /// A field the rule needs: blind when no record has it, degraded under
    /// [`MIN_FIELD_SHARE`].
    fn field(&mut self, facts: &Facts<'_>, share: Share, what: &str, effect: &str, fix: &str) {
        let Some(ratio) = share.ratio() else {
            return;
        };
        let fix = if facts.office_activity {
            format!("{fix} {FIX_RAW_UAL}")
        } else {
            fix.to_string()
        };
        if share.count == 0 {
            self.add(
                Verdict::Blind,
                format!("no {what} (0 of {}): {effect}", share.of),
                fix,
            );
        } else if ratio < MIN_FIELD_SHARE {
            self.add(
                Verdict::Degraded,
                format!(
                    "only {} of {what} ({} of {}): {effect} for the rest",
                    share.percent_text(),
                    share.count,
                    share.of
                ),
                fix,
            );
        }
    }

    /// The access logs a rule reads mail, file and Graph use from.
    fn access_logs(&mut self, facts: &Facts<'_>, what: &str) {
        if !facts.any_access() {
            self.add(
                Verdict::Blind,
                format!(
                    "no access log at all (Graph activity, Exchange, SharePoint/OneDrive): {what}"
                ),
                FIX_ANY_ACCESS,
            );
            return;
        }
        if !facts.graph {
            self.add(
                Verdict::Degraded,
                "no Microsoft Graph activity logs: use of tokens through Microsoft Graph is not seen",
                FIX_GRAPH,
            );
        }
        if !facts.exchange {
            self.add(
                Verdict::Degraded,
                "no Exchange audit records: mailbox access (MailItemsAccessed, Send) is not seen",
                FIX_EXCHANGE,
            );
        }
        if !facts.files {
            self.add(
                Verdict::Degraded,
                "no SharePoint or OneDrive audit records: file access is not seen",
                FIX_SHAREPOINT,
            );
        }
    }

    fn finish(mut self, rule: RuleId) -> RuleVerdict {
        self.0.sort_by_key(|l| std::cmp::Reverse(l.verdict));
        RuleVerdict {
            rule,
            name: rule.name(),
            verdict: self
                .0
                .iter()
                .map(|l| l.verdict)
                .max()
                .unwrap_or(Verdict::Supported),
            limitations: self.0,
        }
    }
}

/// Judge every rule on the report's families and fields.
pub(crate) fn judge(report: &CoverageReport) -> Vec<RuleVerdict> {
    let facts = Facts {
        report,
        interactive: report.present(Family::SignIn(SignInKind::Interactive)),
        non_interactive: report.present(Family::SignIn(SignInKind::NonInteractive)),
        ual_logons: report.present(Family::SignIn(SignInKind::UalLogon)),
        graph: report.present(Family::Access(AccessSource::GraphActivity)),
        exchange: report.present(Family::Access(AccessSource::ExchangeAudit)),
        files: report.present(Family::Access(AccessSource::SharePointAudit))
            || report.present(Family::Access(AccessSource::OneDriveAudit)),
        office_activity: report.run.shape_records("office-activity") > 0,
    };
    vec![
        tt001(&facts),
        tt002(&facts),
        tt003(&facts),
        tt004(&facts),
        tt005(&facts),
    ]
}

fn tt001(f: &Facts<'_>) -> RuleVerdict {
    let mut l = Limits::default();
    l.access_logs(f, "no token use is seen");
    if !f.interactive && !f.non_interactive && !f.ual_logons {
        l.add(
            Verdict::Blind,
            "no sign-in logs: no token can be traced to the sign-in that issued it",
            format!("{FIX_INTERACTIVE} {FIX_NON_INTERACTIVE}"),
        );
    } else {
        if !f.non_interactive {
            l.add(
                Verdict::Degraded,
                "no non-interactive sign-ins: tokens issued by silent refreshes (most tokens) \
                 cannot be traced to where they were issued",
                FIX_NON_INTERACTIVE,
            );
        }
        if !f.interactive {
            let also = if f.ual_logons {
                " (UAL logons stand in for some of them)"
            } else {
                ""
            };
            l.add(
                Verdict::Degraded,
                format!(
                    "no interactive sign-ins: tokens issued when the user signed in cannot be \
                     traced{also}"
                ),
                FIX_INTERACTIVE,
            );
        }
    }
    let a = &f.report.completeness.accesses;
    l.field(
        f,
        a.token_id,
        "access records with a token id",
        "an access cannot be tied to its token",
        "Export access logs with their token ids (Graph SignInActivityId, UAL AppAccessContext.UniqueTokenId).",
    );
    l.finish(RuleId::Tt001)
}

fn tt002(f: &Facts<'_>) -> RuleVerdict {
    let mut l = Limits::default();
    if !f.interactive && !f.ual_logons {
        l.add(
            Verdict::Blind,
            "no interactive sign-ins: no session has a home network to compare with",
            FIX_INTERACTIVE,
        );
    } else if !f.interactive {
        l.add(
            Verdict::Degraded,
            "no interactive sign-ins: only UAL logons give sessions their home networks",
            FIX_INTERACTIVE,
        );
    }
    if !f.non_interactive && !f.any_access() {
        l.add(
            Verdict::Blind,
            "no non-interactive sign-ins and no access logs: nothing shows a session being used",
            format!("{FIX_NON_INTERACTIVE} {FIX_ANY_ACCESS}"),
        );
    } else {
        if !f.non_interactive {
            l.add(
                Verdict::Degraded,
                "no non-interactive sign-ins: a stolen refresh token or cookie redeemed from a new \
                 network is seen only when the access logs name the session",
                FIX_NON_INTERACTIVE,
            );
        }
        if !f.any_access() {
            l.add(
                Verdict::Degraded,
                "no access logs: a session used from a new network is seen only through its \
                 sign-ins",
                FIX_ANY_ACCESS,
            );
        }
    }
    let s = &f.report.completeness.sign_ins;
    l.field(
        f,
        s.session_id,
        "interactive and non-interactive sign-ins with a session id",
        "a sign-in cannot be placed in its session",
        "Export sign-in logs with the sessionId column (Log Analytics and diagnostic settings keep it; older exports may not).",
    );
    l.finish(RuleId::Tt002)
}

fn tt003(f: &Facts<'_>) -> RuleVerdict {
    let mut l = Limits::default();
    l.access_logs(f, "no mail or file access is seen");
    if !f.interactive && !f.ual_logons {
        l.add(
            Verdict::Blind,
            "no interactive sign-ins: \"no interactive root\" can never be concluded",
            FIX_INTERACTIVE,
        );
    } else {
        if !f.interactive {
            l.add(
                Verdict::Degraded,
                "no interactive sign-ins: only UAL logons can show a session's interactive root",
                FIX_INTERACTIVE,
            );
        }
        let lookback = Thresholds::default().root_lookback_secs;
        let longest = [SignInKind::Interactive, SignInKind::UalLogon]
            .into_iter()
            .filter_map(|k| f.report.family(Family::SignIn(k)))
            .flat_map(|fam| fam.covered.iter())
            .map(|s| s.secs())
            .max()
            .unwrap_or(0);
        if longest < lookback {
            l.add(
                Verdict::Blind,
                format!(
                    "the interactive sign-in log never covers {} hours without a hole (the export \
                     window is shorter, or holes cut it): \"no interactive root\" is concluded \
                     only inside such a stretch, so it is never concluded",
                    lookback / 3600,
                ),
                "Export a longer, complete stretch of interactive sign-ins: at least the 24-hour lookback before the accesses, every page and file of it.",
            );
        }
    }
    if !f.non_interactive {
        l.add(
            Verdict::Degraded,
            "no non-interactive sign-ins: accesses that name only their token cannot be placed \
             in a session, and device-bound sessions cannot be recognized",
            FIX_NON_INTERACTIVE,
        );
    }
    let a = &f.report.completeness.accesses;
    l.field(
        f,
        a.linkable,
        "access records with a token id or a session id",
        "an access cannot be tied to a session",
        "Export access logs with their linkable ids (Graph SignInActivityId and SessionId, UAL AppAccessContext).",
    );
    l.finish(RuleId::Tt003)
}

fn tt004(f: &Facts<'_>) -> RuleVerdict {
    let mut l = Limits::default();
    l.access_logs(f, "no token use is seen");
    if !f.interactive {
        l.add(
            Verdict::Blind,
            "no interactive sign-ins: the rule concludes only where both interactive and \
             non-interactive sign-ins cover a token's issue time",
            FIX_INTERACTIVE,
        );
    }
    if !f.non_interactive {
        l.add(
            Verdict::Blind,
            "no non-interactive sign-ins: the rule concludes only where both interactive and \
             non-interactive sign-ins cover a token's issue time",
            FIX_NON_INTERACTIVE,
        );
    }
    let a = &f.report.completeness.accesses;
    l.field(
        f,
        a.token_id,
        "access records with a token id",
        "an access cannot be tied to its token",
        "Export access logs with their token ids (Graph SignInActivityId, UAL AppAccessContext.UniqueTokenId).",
    );
    l.field(
        f,
        a.token_issued_at,
        "token-bearing access records with the token's issue time",
        "the rule assumes the token was issued up to two hours before the access",
        "Export Graph TokenIssuedAt and UAL AppAccessContext.IssuedAtTime with the records.",
    );
    l.finish(RuleId::Tt004)
}

fn tt005(f: &Facts<'_>) -> RuleVerdict {
    let mut l = Limits::default();
    l.access_logs(f, "no mail or file access is seen");
    if !f.interactive {
        l.add(
            Verdict::Degraded,
            "no interactive sign-ins: device-code and password flows, the devices behind a \
             session, and the clients the tenant uses cannot be learned from them",
            FIX_INTERACTIVE,
        );
    }
    if !f.non_interactive {
        l.add(
            Verdict::Degraded,
            "no non-interactive sign-ins: tokens from silent refreshes cannot be traced to their \
             flow and device, and clients used silently are not learned",
            FIX_NON_INTERACTIVE,
        );
    }
    let a = &f.report.completeness.accesses;
    l.field(
        f,
        a.app_id,
        "access records with a client app id",
        "the client behind an access is unknown",
        "Export Graph AppId and UAL AppAccessContext.ClientAppId / ApplicationId with the records.",
    );
    l.finish(RuleId::Tt005)
}
