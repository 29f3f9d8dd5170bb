//! What a rule needs from the logs, declared by the rule ([`super::Rule::needs`]) and weighed
//! by the `coverage` command (`tokentrail-posture`), which turns each unmet need into a
//! limitation with its fix: the rule says what it cannot do without a log; posture knows how
//! to get that log.

use serde::Serialize;

use crate::Thresholds;

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

/// A log, or group of logs, a rule reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Log {
    /// The interactive sign-in log.
    Interactive,
    /// The non-interactive sign-in log.
    NonInteractive,
    /// UAL `UserLoggedIn` records (interactive logons seen by the audit log).
    UalLogons,
    /// Any access log: Graph activity, Exchange or SharePoint/OneDrive audit.
    AnyAccess,
}

/// A field a rule needs on records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// Accesses naming their token.
    AccessTokenId,
    /// Accesses naming their token or their session.
    AccessLinkable,
    /// Token-bearing accesses logging when their token was issued.
    AccessTokenIssuedAt,
    /// Accesses naming their client app.
    AccessAppId,
    /// Interactive and non-interactive sign-ins naming their session.
    SignInSessionId,
}

/// One thing a rule needs. Needs are weighed in the order the rule lists them.
#[derive(Clone, Copy, Debug)]
pub enum Need {
    /// The access logs that show mail, file and Graph use: blind without any (`unseen` says
    /// what the rule then does not see), degraded without each of Graph activity, Exchange and
    /// SharePoint/OneDrive.
    AccessLogs {
        /// What is not seen without any access log (`no token use is seen`).
        unseen: &'static str,
    },
    /// `verdict` when none of `logs` is present, for `reason`. A need whose logs are all among
    /// those of a [`Verdict::Blind`] need that applies is left out: it says less.
    Logs {
        /// The logs any one of which meets the need.
        none_of: &'static [Log],
        /// How much their absence limits the rule.
        verdict: Verdict,
        /// What the rule cannot do without them.
        reason: &'static str,
        /// Added to `reason` when this log is present (what stands in for the missing ones).
        present_note: Option<(Log, &'static str)>,
    },
    /// Blind when no stretch of any of `of` without a hole is as long as `secs` of the default
    /// thresholds; `reason` may say `{hours}`.
    Stretch {
        /// The logs whose longest covered stretch counts.
        of: &'static [Log],
        /// The length needed.
        secs: fn(&Thresholds) -> i64,
        /// What the rule cannot do without it.
        reason: &'static str,
        /// What to change.
        fix: &'static str,
    },
    /// A field: blind when no record has it, degraded when fewer than half do.
    Field {
        /// Which field.
        field: Field,
        /// The records that should have it, in words.
        what: &'static str,
        /// What the rule cannot do for a record without it.
        effect: &'static str,
        /// What to change.
        fix: &'static str,
    },
}

impl Need {
    /// The logs a [`Need::Logs`] or [`Need::Stretch`] is about.
    pub fn logs(&self) -> &'static [Log] {
        match self {
            Need::Logs { none_of, .. } => none_of,
            Need::Stretch { of, .. } => of,
            Need::AccessLogs { .. } | Need::Field { .. } => &[],
        }
    }
}
