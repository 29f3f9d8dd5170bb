//! The correlation engine of tokentrail: it links sign-ins (which issue tokens inside sessions)
//! to accesses (which use them) and runs the rules TT001-TT005 over the result.
//!
//! Configuration is built first ([`EngineConfig`] -> [`Engine::new`]), records are added in any
//! order ([`Engine::add_sign_in`], [`Engine::add_access`]), and everything is evaluated in
//! [`Engine::finish`], which sees all input at once: exports come newest-first, files in any
//! order and records late, and none of that may change a finding. Finding ids are hashes of the
//! rule and the group key, so the same input gives the same ids on every run.
//!
//! Data flow inside `finish`: deduplicate (sign-ins by `id`, accesses by log and record id) ->
//! sort -> coverage -> correlation context (token index, session chains, networks) -> rules ->
//! TT003 raises TT001/TT002 on its sessions -> allowlist suppression -> deterministic order.

pub mod allowlist;
pub mod asn;
pub mod catalog;
pub mod cidr;
mod correlate;
pub mod coverage;
mod evidence;
mod network;
mod rules;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tokentrail_model::{Access, Finding, RuleId, SignIn, Suppression, Timestamp};

pub use allowlist::{Allowlist, AllowlistError, AllowlistReport};
pub use asn::{AsnDb, AsnDbError};
pub use correlate::{is_app_only, is_delegated};
pub use coverage::{Coverage, Family, Span};

use crate::catalog::Catalog;
use crate::correlate::Context;

/// The rules' tunable thresholds. Defaults are what the rule pages in `docs/rules/` describe.
#[derive(Clone, Debug, PartialEq)]
pub struct Thresholds {
    /// A gap longer than this (seconds) between two records of one log family splits its
    /// coverage into two spans. Default 6 h.
    pub coverage_gap_secs: i64,
    /// An access may precede its token's issuing sign-in by this much (clock skew) before the
    /// pair is treated as inconsistent. Default 5 min.
    pub issue_skew_secs: i64,
    /// TT003: interactive sign-in coverage must reach this far (seconds) before a session's
    /// first record for "no interactive root" to be a conclusion. Default 24 h.
    pub root_lookback_secs: i64,
    /// TT004: when an access does not log its token's issue time, its token was issued at most
    /// this long (seconds) before the access. Default 2 h.
    pub token_lifetime_secs: i64,
    /// TT001/TT002: an interactive sign-in by the same user from the new network within this
    /// many seconds explains the move as travel. Default 12 h.
    pub travel_window_secs: i64,
    /// TT005: a client used by at least this many distinct users is part of the tenant's
    /// inventory. Default 3.
    pub inventory_min_users: usize,
    /// TT005: ... or by at least this share of all users seen. Default 0.02.
    pub inventory_min_user_share: f64,
    /// TT005: a client is also part of the inventory when it is in steady use: first seen
    /// within this many seconds of the start of the sign-in logs... Default 24 h.
    pub inventory_established_secs: i64,
    /// TT005: ... and seen on at least this many distinct UTC days (fewer when the sign-in logs
    /// span fewer days, but never fewer than 2). Default 3.
    pub inventory_min_days: usize,
    /// TT004: also report first-party Microsoft clients (off by default: Microsoft documents
    /// that some of their activity has no sign-in row).
    pub orphan_first_party: bool,
    /// Source records cited per evidence group. Default 5.
    pub max_samples: usize,
    /// Distinct IPs listed per evidence group. Default 10.
    pub max_ips: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            coverage_gap_secs: 6 * 3600,
            issue_skew_secs: 300,
            root_lookback_secs: 24 * 3600,
            token_lifetime_secs: 2 * 3600,
            travel_window_secs: 12 * 3600,
            inventory_min_users: 3,
            inventory_min_user_share: 0.02,
            inventory_established_secs: 24 * 3600,
            inventory_min_days: 3,
            orphan_first_party: false,
            max_samples: 5,
            max_ips: 10,
        }
    }
}

/// Everything the engine needs before the first record is read.
#[derive(Debug, Default)]
pub struct EngineConfig {
    /// Approved exceptions.
    pub allowlist: Option<Allowlist>,
    /// Optional MaxMind-format ASN database.
    pub asn_db: Option<AsnDb>,
    /// Ignore records before this time.
    pub since: Option<Timestamp>,
    /// Ignore records after this time (inclusive bound).
    pub until: Option<Timestamp>,
    /// "Now" for allowlist expiry; injected so runs are reproducible.
    pub now: Timestamp,
    /// Rule thresholds.
    pub thresholds: Thresholds,
}

/// Counts that explain a run: what was read, merged, skipped as benign, or left unknown.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Sign-in rows added.
    pub sign_ins_read: u64,
    /// Sign-in rows dropped as duplicates of another row with the same `id`.
    pub sign_ins_duplicate: u64,
    /// Sign-ins that failed (they issue no token and establish no session).
    pub sign_ins_failed: u64,
    /// Access records added.
    pub accesses_read: u64,
    /// Access records dropped as duplicates (same log and record id).
    pub accesses_duplicate: u64,
    /// Records outside `--since`/`--until`.
    pub outside_time_window: u64,
    /// App-only accesses (inventory and TT005 material, not AN0959).
    pub accesses_app_only: u64,
    /// Delegated accesses naming neither a token nor a session: nothing links them.
    pub accesses_unlinkable: u64,
    /// Delegated accesses whose token id matched an issuing sign-in.
    pub accesses_token_linked: u64,
    /// Records a rule found explained by a benign reason, per `rule:reason`.
    pub benign: BTreeMap<String, u64>,
    /// Records a rule could not judge (outside coverage, incomparable networks...), per
    /// `rule:reason`.
    pub unknown: BTreeMap<String, u64>,
    /// Active findings per rule.
    pub findings: BTreeMap<RuleId, u64>,
    /// Suppressed findings per rule.
    pub suppressed: BTreeMap<RuleId, u64>,
}

impl Stats {
    pub(crate) fn benign(&mut self, rule: RuleId, reason: &str) {
        *self
            .benign
            .entry(format!("{}:{reason}", rule.code()))
            .or_default() += 1;
    }
    pub(crate) fn unknown(&mut self, rule: RuleId, reason: &str) {
        *self
            .unknown
            .entry(format!("{}:{reason}", rule.code()))
            .or_default() += 1;
    }
}

/// The result of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Detection {
    /// Active findings: severity descending, then first seen, then id.
    pub findings: Vec<Finding>,
    /// Findings an allowlist entry matched, each with `suppression` set, in the same order.
    pub suppressed: Vec<Finding>,
    /// Expired and unused allowlist entries, and how often each entry applied.
    pub allowlist: AllowlistReport,
    /// Time spans present per log family.
    pub coverage: Coverage,
    /// Counts.
    pub stats: Stats,
}

/// The engine: configured once, fed records, finished once.
#[derive(Debug)]
pub struct Engine {
    config: EngineConfig,
    catalog: Catalog,
    sign_ins: Vec<SignIn>,
    accesses: Vec<Access>,
    stats: Stats,
}

impl Engine {
    /// Build the engine (parses the built-in reference data once).
    pub fn new(config: EngineConfig) -> Engine {
        Engine {
            config,
            catalog: Catalog::builtin(),
            sign_ins: Vec::new(),
            accesses: Vec::new(),
            stats: Stats::default(),
        }
    }

    fn in_window(&self, t: Timestamp) -> bool {
        self.config.since.is_none_or(|s| t >= s) && self.config.until.is_none_or(|u| t <= u)
    }

    /// Add one sign-in row.
    pub fn add_sign_in(&mut self, s: SignIn) {
        self.stats.sign_ins_read += 1;
        if self.in_window(s.time) {
            self.sign_ins.push(s);
        } else {
            self.stats.outside_time_window += 1;
        }
    }

    /// Add one access record.
    pub fn add_access(&mut self, a: Access) {
        self.stats.accesses_read += 1;
        if self.in_window(a.time) {
            self.accesses.push(a);
        } else {
            self.stats.outside_time_window += 1;
        }
    }

    /// Correlate everything added and run the rules.
    pub fn finish(self) -> Detection {
        let Engine {
            config,
            catalog,
            mut sign_ins,
            mut accesses,
            mut stats,
        } = self;

        // A sign-in can appear as several rows (and in several exports): keep one per id, the
        // one read first in (file, position) order so the choice does not depend on input order.
        sign_ins.sort_by(|a, b| (a.id, &a.source).cmp(&(b.id, &b.source)));
        let before = sign_ins.len();
        sign_ins.dedup_by(|later, first| later.id.is_some() && later.id == first.id);
        stats.sign_ins_duplicate = (before - sign_ins.len()) as u64;
        sign_ins.sort_by(|a, b| (a.time, &a.source).cmp(&(b.time, &b.source)));
        stats.sign_ins_failed = sign_ins.iter().filter(|s| !s.succeeded()).count() as u64;

        accesses.sort_by(|a, b| {
            (a.log, &a.record_id, &a.source).cmp(&(b.log, &b.record_id, &b.source))
        });
        let before = accesses.len();
        accesses.dedup_by(|later, first| {
            later.record_id.is_some()
                && later.log == first.log
                && later.record_id == first.record_id
        });
        stats.accesses_duplicate = (before - accesses.len()) as u64;
        accesses.sort_by(|a, b| (a.time, &a.source).cmp(&(b.time, &b.source)));

        let coverage = Coverage::build(
            sign_ins
                .iter()
                .map(|s| (Family::SignIn(s.kind), s.time))
                .chain(accesses.iter().map(|a| (Family::Access(a.log), a.time))),
            config.thresholds.coverage_gap_secs,
        );

        let cx = Context::build(
            &sign_ins,
            &accesses,
            &coverage,
            &catalog,
            &config.thresholds,
            config.asn_db.as_ref(),
        );
        for (i, a) in accesses.iter().enumerate() {
            if correlate::is_app_only(a) {
                stats.accesses_app_only += 1;
            } else if correlate::is_delegated(a) {
                if a.token_id.is_none() && cx.access_session.get(i).is_none_or(Option::is_none) {
                    stats.accesses_unlinkable += 1;
                }
                if cx.access_issue.get(i).is_some_and(Option::is_some) {
                    stats.accesses_token_linked += 1;
                }
            }
        }

        let mut candidates = Vec::new();
        candidates.extend(rules::tt001::evaluate(&cx, &mut stats));
        candidates.extend(rules::tt002::evaluate(&cx, &mut stats));
        let tt003 = rules::tt003::evaluate(&cx, &mut stats);
        candidates.extend(rules::tt004::evaluate(&cx, &mut stats));
        candidates.extend(rules::tt005::evaluate(&cx, &mut stats));
        rules::raise_on_no_interactive_context(&mut candidates, &tt003);
        candidates.extend(tt003);

        let mut report = AllowlistReport::default();
        let mut findings = Vec::new();
        let mut suppressed = Vec::new();
        let mut seen_ids = BTreeSet::new();
        for c in candidates {
            let mut finding = c.finding;
            if !seen_ids.insert(finding.id.clone()) {
                continue;
            }
            let entry = config
                .allowlist
                .as_ref()
                .and_then(|al| al.suppress(finding.rule, &c.scope, config.now, &mut report));
            match entry {
                Some(e) => {
                    finding.suppression = Some(Suppression {
                        entry_id: e.id.clone(),
                        reason: e.reason.clone(),
                    });
                    *stats.suppressed.entry(finding.rule).or_default() += 1;
                    suppressed.push(finding);
                }
                None => {
                    *stats.findings.entry(finding.rule).or_default() += 1;
                    findings.push(finding);
                }
            }
        }
        if let Some(al) = &config.allowlist {
            al.finish_report(config.now, &mut report);
        }
        let order = |a: &Finding, b: &Finding| {
            b.severity
                .cmp(&a.severity)
                .then(a.first_seen.cmp(&b.first_seen))
                .then_with(|| a.id.cmp(&b.id))
        };
        findings.sort_by(order);
        suppressed.sort_by(order);
        Detection {
            findings,
            suppressed,
            allowlist: report,
            coverage,
            stats,
        }
    }
}
