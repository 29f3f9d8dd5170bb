//! Per rule, whether the logs given let it work: supported, degraded or blind.
//!
//! Each rule declares what it needs from the logs (`tokentrail_engine::rules::Rule::needs`:
//! the access logs, sign-in logs, a long enough stretch of coverage, fields on the records);
//! this module weighs every rule of the registry against the coverage report and gives each
//! unmet need its fix. Service principal and managed identity sign-ins are needed by no rule
//! (app-only access belongs to the inventory), so their absence changes no verdict; it is still
//! reported.

use serde::Serialize;
use tokentrail_engine::coverage::Family;
use tokentrail_engine::rules::{Field, Log, Need, RULES};
use tokentrail_engine::Thresholds;
use tokentrail_model::{AccessSource, RuleId, SignInKind};

use crate::coverage::CoverageReport;
use crate::Share;

/// Below this share of records carrying a field a rule needs, the rule is degraded.
pub const MIN_FIELD_SHARE: f64 = 0.5;

pub use tokentrail_engine::rules::Verdict;

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
    RULES
        .iter()
        .map(|rule| weigh(&facts, rule.id, rule.needs))
        .collect()
}

impl Facts<'_> {
    fn present(&self, log: Log) -> bool {
        match log {
            Log::Interactive => self.interactive,
            Log::NonInteractive => self.non_interactive,
            Log::UalLogons => self.ual_logons,
            Log::AnyAccess => self.any_access(),
        }
    }
}

/// How to get a log, when it is missing (UAL logons are never asked for: they only stand in).
fn fix_for(log: Log) -> Option<&'static str> {
    match log {
        Log::Interactive => Some(FIX_INTERACTIVE),
        Log::NonInteractive => Some(FIX_NON_INTERACTIVE),
        Log::UalLogons => None,
        Log::AnyAccess => Some(FIX_ANY_ACCESS),
    }
}

/// The limitations of one rule: its needs in order; a need about logs that are all among those
/// of a blind need that applied is left out (it says less).
fn weigh(f: &Facts<'_>, rule: RuleId, needs: &[Need]) -> RuleVerdict {
    let mut l = Limits::default();
    let mut blind_logs: Vec<Log> = Vec::new();
    for need in needs {
        let logs = need.logs();
        if !logs.is_empty() && logs.iter().all(|log| blind_logs.contains(log)) {
            continue;
        }
        match *need {
            Need::AccessLogs { unseen } => l.access_logs(f, unseen),
            Need::Logs {
                none_of,
                verdict,
                reason,
                present_note,
            } => {
                if none_of.iter().any(|log| f.present(*log)) {
                    continue;
                }
                let note = present_note
                    .filter(|(log, _)| f.present(*log))
                    .map_or("", |(_, note)| note);
                let fix: Vec<&str> = none_of.iter().filter_map(|log| fix_for(*log)).collect();
                l.add(verdict, format!("{reason}{note}"), fix.join(" "));
                if verdict == Verdict::Blind {
                    blind_logs.extend_from_slice(none_of);
                }
            }
            Need::Stretch {
                of,
                secs,
                reason,
                fix,
            } => {
                let needed = secs(&Thresholds::default());
                let longest = of
                    .iter()
                    .filter_map(|log| match log {
                        Log::Interactive => Some(SignInKind::Interactive),
                        Log::NonInteractive => Some(SignInKind::NonInteractive),
                        Log::UalLogons => Some(SignInKind::UalLogon),
                        Log::AnyAccess => None,
                    })
                    .filter_map(|k| f.report.family(Family::SignIn(k)))
                    .flat_map(|fam| fam.covered.iter())
                    .map(|s| s.secs())
                    .max()
                    .unwrap_or(0);
                if longest < needed {
                    l.add(
                        Verdict::Blind,
                        reason.replace("{hours}", &(needed / 3600).to_string()),
                        fix,
                    );
                }
            }
            Need::Field {
                field,
                what,
                effect,
                fix,
            } => {
                let a = &f.report.completeness.accesses;
                let share = match field {
                    Field::AccessTokenId => a.token_id,
                    Field::AccessLinkable => a.linkable,
                    Field::AccessTokenIssuedAt => a.token_issued_at,
                    Field::AccessAppId => a.app_id,
                    Field::SignInSessionId => f.report.completeness.sign_ins.session_id,
                };
                l.field(f, share, what, effect, fix);
            }
        }
    }
    l.finish(rule)
}
