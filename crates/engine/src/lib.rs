//! The correlation engine of tokentrail: it links sign-ins (which issue tokens inside sessions)
//! to accesses (which use them) and runs the rules TT001-TT005 over the result.
//!
//! Configuration is built first ([`EngineConfig`] -> [`Engine::new`]), records are added in any
//! order ([`Engine::add_sign_in`], [`Engine::add_access`]), and everything is evaluated in
//! [`Engine::finish`], which sees all input at once: exports come newest-first, files in any
//! order and records late, and none of that may change a finding. Finding ids are hashes of the
//! rule and the group key, so the same input gives the same ids on every run.
//!
//! Records are kept in a compact form from the moment they are added ([`store`]: interned
//! strings and ids, precomputed flags; the sizes are in `docs/engine-memory.md`). Sign-ins stay
//! in memory (one per issued token); accesses, which outnumber everything else, stay in memory
//! up to [`EngineConfig::accesses_in_memory`] and wait on disk beyond it (`spill`), while a
//! summary per session, token and client is learned as they arrive.
//!
//! Data flow inside `finish`: sign-ins merged by `id` (copies and UAL twins become the richest
//! row; placeholder ids never merge) and put in time order -> correlation
//! context (token index, session chains, one network per distinct address, client inventory
//! from the access summary) -> sign-in coverage (on evidence: the tokens accesses used, found
//! or not, and the logs' own rates; see [`coverage`]) -> accesses read back a partition at a
//! time (copies of one record always share a partition and are deduplicated there), each linked
//! once and judged by every rule, which gathers it into its finding groups -> groups become
//! findings -> TT003 raises TT001/TT002 on its sessions -> allowlist suppression ->
//! deterministic order. No rule's answer depends on the order accesses are judged in.

// The rules' own tests (`rules/ttNNN/tests.rs`) are unit tests that share the fixture builders
// of the integration tests, which name this crate by its name.
#[cfg(test)]
extern crate self as tokentrail_engine;
#[cfg(test)]
#[path = "../tests/common/mod.rs"]
mod common;

/// Snapshot `value` as JSON under the calling rule's `snapshots/<name>.snap`.
#[cfg(test)]
macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({
            snapshot_path => "snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_json_snapshot!($name, $value);
        })
    };
}

pub mod allowlist;
pub mod asn;
pub mod catalog;
pub mod cidr;
mod correlate;
pub mod coverage;
mod evidence;
pub mod export;
mod known_networks;
mod network;
pub mod record_times;
pub mod rules;
mod spill;
pub mod store;
mod unstated_kind;

use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use rustc_hash::FxHashMap;
use serde::Serialize;
use tokentrail_model::{
    Access, AccessSource, Finding, RuleId, Severity, SignIn, SignInKind, Suppression, Timestamp,
};

pub use allowlist::{Allowlist, AllowlistError, AllowlistReport};
pub use asn::{AsnDb, AsnDbError, AsnFileKind, AsnSource};
pub use correlate::{is_app_only, is_delegated};
pub use coverage::{Coverage, CoverageBuilder, Covered, Family, Hole, Stretch};
pub use known_networks::{KnownAddress, KnownNetworks};
pub use spill::{DEFAULT_IN_MEMORY, RECORD_BYTES};

use crate::catalog::Catalog;
use crate::correlate::{AccessSummary, Context, Linked};
use crate::evidence::access_cmp;
use crate::spill::AccessLog;
use crate::store::{src_key, AccessRec, RecordId, SignInRec, SrcKey, Store, Sym};

/// The rules' tunable thresholds. Defaults are what the rule pages in `docs/rules/` describe.
#[derive(Clone, Debug, PartialEq)]
pub struct Thresholds {
    /// A silence of a log family longer than this (seconds), or than the time the family
    /// writes 20 records at its average rate if longer (at most 48 h), is a quiet stretch:
    /// still covered unless there is evidence of a hole, but named in the findings that lean
    /// on it, whose confidence is lowered one step (see [`coverage`]). Default 6 h.
    pub coverage_gap_secs: i64,
    /// An access may precede its token's issuing sign-in by this much (clock skew) before the
    /// pair is treated as inconsistent. Default 5 min.
    pub issue_skew_secs: i64,
    /// TT003: interactive sign-in coverage must reach this far (seconds) before a session's
    /// first record for "no interactive root" to be a conclusion. Default 24 h.
    pub root_lookback_secs: i64,
    /// TT004: when an access does not log its token's issue time, its token was issued at most
    /// this long (seconds) before the access: the longest an access token lives. Default 28 h
    /// (Continuous Access Evaluation tokens of Outlook, Teams, SharePoint and OneDrive live up
    /// to 28 hours; other access tokens 60 to 90 minutes).
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
            token_lifetime_secs: 28 * 3600,
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
    /// Report only findings with evidence at or after this time. Every record is still judged
    /// and learned from: baselines, inventories, session chains and lookbacks see all input.
    pub since: Option<Timestamp>,
    /// Report only findings with evidence at or before this time (inclusive bound); as
    /// `since`, it never drops records.
    pub until: Option<Timestamp>,
    /// Report only findings of these rules (`--rules`); `None`: every rule. Every rule still
    /// runs on every record: TT003 raises TT001/TT002 on its sessions whether it is reported
    /// or not.
    pub rules: Option<BTreeSet<RuleId>>,
    /// Report only findings at least this severe (`--min-severity`), as finally judged (after
    /// TT003 has raised TT001/TT002).
    pub min_severity: Option<Severity>,
    /// The export window, when the analyst knows the query window (`--window FROM..TO`):
    /// every log family present covers it unless there is evidence of a hole. Without it, the
    /// window is the span of the input.
    pub window: Option<(Timestamp, Timestamp)>,
    /// "Now" for allowlist expiry; injected so runs are reproducible.
    pub now: Timestamp,
    /// Rule thresholds.
    pub thresholds: Thresholds,
    /// Threads the rules may use in [`Engine::finish`] (0 or 1: the calling thread only).
    /// Findings do not depend on it.
    pub threads: usize,
    /// Accesses held in memory before they wait on disk instead (0: [`DEFAULT_IN_MEMORY`],
    /// about 64 MiB). Findings do not depend on it.
    pub accesses_in_memory: usize,
    /// Where accesses wait on disk (unnamed temporary files, gone when the run ends); `None`:
    /// the system's temporary directory.
    pub spill_dir: Option<PathBuf>,
}

impl EngineConfig {
    /// True when something seen from `first` to `last` reaches into the reporting window
    /// (`since`, `until`); see [`in_window`].
    pub fn reports(&self, first: Timestamp, last: Timestamp) -> bool {
        in_window(self.since, self.until, first, last)
    }

    /// True when a finding of `rule` at `severity` is reported: its rule is selected and it is
    /// at least `min_severity`.
    pub fn selects(&self, rule: RuleId, severity: Severity) -> bool {
        self.rules.as_ref().is_none_or(|r| r.contains(&rule))
            && self.min_severity.is_none_or(|min| severity >= min)
    }
}

/// True when something seen from `first` to `last` reaches into the reporting window from
/// `since` to `until` (both inclusive, either open): a finding with such evidence, a timeline
/// row at such a time.
pub fn in_window(
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    first: Timestamp,
    last: Timestamp,
) -> bool {
    since.is_none_or(|s| last >= s) && until.is_none_or(|u| first <= u)
}

/// Counts that explain a run: what was read, merged, skipped as benign, or left unknown.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Sign-in rows added.
    pub sign_ins_read: u64,
    /// Sign-in rows merged into another row with the same `id` (a copy, or the UAL
    /// `UserLoggedIn` twin of an Entra row); placeholder ids are never merged.
    pub sign_ins_duplicate: u64,
    /// Sign-ins whose export did not state their kind, settled by the stated rows of their file
    /// (the admin center writes one tab per file).
    #[serde(skip_serializing_if = "is_zero")]
    pub sign_ins_kind_settled: u64,
    /// Sign-ins that failed (they issue no token and establish no session).
    pub sign_ins_failed: u64,
    /// Access records added.
    pub accesses_read: u64,
    /// Access records dropped as copies of another (same log and record id, or, without an
    /// id, the same content); of copies the richest is kept.
    pub accesses_duplicate: u64,
    /// Access records that waited on disk and could not be read back (a failing disk): they
    /// were not judged.
    #[serde(skip_serializing_if = "is_zero")]
    pub accesses_lost: u64,
    /// Findings (live or suppressed) whose evidence lies wholly outside `--since`/`--until`:
    /// judged, not reported.
    pub outside_time_window: u64,
    /// Findings (live or suppressed) in the window whose rule `--rules` leaves out, or below
    /// `--min-severity`: judged, not reported.
    pub not_selected: u64,
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

/// The rules' benign and unknown counts, kept by (rule, reason) while the rules run (no text is
/// built per record) and written into [`Stats`] at the end.
#[derive(Default)]
pub(crate) struct Tally {
    benign: FxHashMap<(RuleId, &'static str), u64>,
    unknown: FxHashMap<(RuleId, &'static str), u64>,
}

impl Tally {
    pub(crate) fn benign(&mut self, rule: RuleId, reason: &'static str) {
        self.benign_n(rule, reason, 1);
    }
    /// `n` records explained at once (a whole finding group).
    pub(crate) fn benign_n(&mut self, rule: RuleId, reason: &'static str, n: u64) {
        *self.benign.entry((rule, reason)).or_default() += n;
    }
    pub(crate) fn unknown(&mut self, rule: RuleId, reason: &'static str) {
        *self.unknown.entry((rule, reason)).or_default() += 1;
    }

    fn into_stats(self, stats: &mut Stats) {
        for ((rule, reason), n) in self.benign {
            *stats
                .benign
                .entry(format!("{}:{reason}", rule.code()))
                .or_default() += n;
        }
        for ((rule, reason), n) in self.unknown {
            *stats
                .unknown
                .entry(format!("{}:{reason}", rule.code()))
                .or_default() += n;
        }
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
    /// The network of every address and each user's own networks, as the rules saw them.
    pub networks: KnownNetworks,
    /// Counts.
    pub stats: Stats,
}

/// The engine: configured once, fed records, finished once.
#[derive(Debug)]
pub struct Engine {
    config: EngineConfig,
    catalog: Catalog,
    store: Store,
    sign_ins: Vec<SignInRec>,
    accesses: AccessLog,
    /// What the rules must know of all accesses before judging one.
    summary: AccessSummary,
    stats: Stats,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Engine {
    /// Build the engine (parses the built-in reference data once).
    pub fn new(config: EngineConfig) -> Engine {
        let bound = match config.accesses_in_memory {
            0 => DEFAULT_IN_MEMORY,
            n => n,
        };
        Engine {
            accesses: AccessLog::new(bound, config.spill_dir.clone()),
            config,
            catalog: Catalog::builtin(),
            store: Store::default(),
            sign_ins: Vec::new(),
            summary: AccessSummary::default(),
            stats: Stats::default(),
        }
    }

    /// Add one sign-in row: owned, or borrowed where it came (boxed, as decoders hand it on),
    /// so a kilobyte-sized row is not copied out only to be reduced to its handles.
    pub fn add_sign_in(&mut self, s: impl std::borrow::Borrow<SignIn>) {
        self.stats.sign_ins_read += 1;
        let rec = self.store.sign_in(s.borrow());
        self.sign_ins.push(rec);
    }

    /// Add one access record: owned or borrowed, as [`Engine::add_sign_in`].
    pub fn add_access(&mut self, a: impl std::borrow::Borrow<Access>) {
        self.stats.accesses_read += 1;
        let mut rec = self.store.access(a.borrow());
        rec.seq = u32::try_from(self.accesses.len()).unwrap_or(u32::MAX);
        self.summary.add(&rec);
        self.accesses.push(rec);
    }

    /// Correlate everything added and run the rules.
    pub fn finish(self) -> Detection {
        let Engine {
            config,
            catalog,
            store,
            sign_ins,
            accesses,
            summary,
            mut stats,
        } = self;
        let ranks = store.file_ranks();

        // A sign-in can appear as several rows (in several exports, and as an Entra row and its
        // UAL `UserLoggedIn` twin): the rows of one id become one, the richest row filled from
        // the others, whatever order or files they came in.
        let mut sign_ins = sign_ins;
        stats.sign_ins_kind_settled = unstated_kind::settle_by_file(&mut sign_ins, &store.files);
        let keep = merge_sign_ins(&mut sign_ins, &store, &ranks);
        // Time order; equal times by id, then (rows without an id) by content: file names and
        // input order decide only between rows that say the same.
        let mut order: Vec<SignInOrder> = sign_ins
            .iter()
            .zip(&keep)
            .enumerate()
            .filter(|(_, (_, k))| **k)
            .map(|(i, (s, _))| {
                (
                    s.time,
                    s.id(),
                    if s.id().is_none() {
                        store.sign_in_fingerprint(s)
                    } else {
                        0
                    },
                    src_key(&ranks, s.src()),
                    u32::try_from(i).unwrap_or(u32::MAX),
                )
            })
            .collect();
        drop(keep);
        stats.sign_ins_duplicate = (sign_ins.len() - order.len()) as u64;
        // Unstable is enough: the add order breaks every remaining tie.
        order.sort_unstable();
        let sign_ins = permute(sign_ins, order.iter().map(|o| o.4));
        drop(order);
        stats.sign_ins_failed = sign_ins.iter().filter(|s| !s.succeeded()).count() as u64;

        let mut cx = Context::build(
            &store,
            &sign_ins,
            &summary,
            &catalog,
            &config.thresholds,
            config.asn_db.as_ref(),
        );
        // Sign-in coverage: the window is the whole input's (accesses included) or the one
        // given; a silence of a sign-in log is a hole only on evidence, which includes the
        // tokens accesses used, found or not (so it needs the token index).
        let mut coverage = CoverageBuilder::new(config.thresholds.coverage_gap_secs);
        if let Some((from, to)) = config.window {
            coverage.window(from, to);
        }
        for s in &sign_ins {
            coverage.add(Family::SignIn(s.kind), s.time);
        }
        if let Some((first, last)) = summary.window {
            coverage.see(first);
            coverage.see(last);
        }
        for (at, user, token, found) in
            cx.token_evidence(&summary, config.thresholds.orphan_first_party)
        {
            coverage.token(at, user, token, found);
        }
        cx.set_coverage(coverage.build());
        drop(summary);

        // Each rule judges on one of two lanes; with a second thread, the second lane judges
        // each partition beside the first. Every rule gathers its groups whatever order
        // accesses come in, so neither threads nor partitions change a finding.
        let mut tally = Tally::default();
        let mut second_tally = Tally::default();
        let mut first_lane: Vec<(usize, Box<dyn rules::Judge>)> = Vec::new();
        let mut second_lane: Vec<(usize, Box<dyn rules::Judge>)> = Vec::new();
        for (i, rule) in rules::RULES.iter().enumerate() {
            match rule.lane {
                rules::Lane::First => first_lane.push((i, (rule.judge)(&cx, &mut tally))),
                rules::Lane::Second => second_lane.push((i, (rule.judge)(&cx, &mut second_tally))),
            }
        }
        let mut upns: FxHashMap<Sym, (AccessRec, Sym)> = FxHashMap::default();
        let mut partitions = accesses.into_partitions();
        while let Some(part) = partitions.next() {
            // One per (log, record id), or per content for records without an id: of copies,
            // the richest, then by content, so neither input order nor file names choose (the
            // copies of a record are always in one partition).
            let keep = one_per_key(
                part.iter().map(|a| match a.record_id() {
                    RecordId::None => AccessKey::Content(a.content()),
                    id => AccessKey::Id(a.log, id),
                }),
                |i, j| {
                    let (Some(a), Some(b)) = (part.get(i), part.get(j)) else {
                        return Ordering::Equal;
                    };
                    b.richness()
                        .cmp(&a.richness())
                        .then_with(|| {
                            store
                                .access_fingerprint(a)
                                .cmp(&store.access_fingerprint(b))
                        })
                        .then_with(|| {
                            src_key(&cx.file_ranks, a.src()).cmp(&src_key(&cx.file_ranks, b.src()))
                        })
                        .then(a.seq.cmp(&b.seq))
                },
            );
            let linked: Vec<Linked<'_>> = part
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(a, _)| cx.link(a))
                .collect();
            stats.accesses_duplicate += (part.len() - linked.len()) as u64;
            for l in &linked {
                let a = l.access;
                coverage.add(Family::Access(a.log), a.time);
                if correlate::rec_app_only(a) {
                    stats.accesses_app_only += 1;
                } else if correlate::rec_delegated(a) {
                    if a.token.is_none() && l.session.is_none() {
                        stats.accesses_unlinkable += 1;
                    }
                    if l.issue.is_some() {
                        stats.accesses_token_linked += 1;
                    }
                }
                // A user id's UPN as the first access (in time, file, position order) logged
                // it, when no sign-in did.
                if let Some((id, upn)) = cx.access_upn(a) {
                    if !cx.has_upn(id) {
                        match upns.entry(id) {
                            Entry::Vacant(e) => {
                                e.insert((a.clone(), upn));
                            }
                            Entry::Occupied(mut e) => {
                                if access_cmp(&cx, a, &e.get().0).is_lt() {
                                    e.insert((a.clone(), upn));
                                }
                            }
                        }
                    }
                }
            }
            let cx = &cx;
            let judge = |lane: &mut Vec<(usize, Box<dyn rules::Judge>)>, t: &mut Tally| {
                for l in &linked {
                    for (_, rule) in lane.iter_mut() {
                        rule.access(cx, l, t);
                    }
                }
            };
            let mut first_rules = |t: &mut Tally| judge(&mut first_lane, t);
            let mut second_rules = |t: &mut Tally| judge(&mut second_lane, t);
            if config.threads > 1 {
                std::thread::scope(|scope| {
                    let second = scope.spawn(|| second_rules(&mut second_tally));
                    first_rules(&mut tally);
                    if let Err(panic) = second.join() {
                        std::panic::resume_unwind(panic);
                    }
                });
            } else {
                first_rules(&mut tally);
                second_rules(&mut second_tally);
            }
            drop(linked);
            partitions.recycle(part);
        }
        stats.accesses_lost = partitions.lost;
        cx.learn_upns(upns.into_iter().map(|(id, (_, upn))| (id, upn)));
        let networks = KnownNetworks::learn(&cx);
        let coverage = coverage.build();

        let mut by_rule: Vec<Vec<rules::judging::Candidate>> =
            rules::RULES.iter().map(|_| Vec::new()).collect();
        for (i, rule) in first_lane.into_iter().chain(second_lane) {
            if let Some(slot) = by_rule.get_mut(i) {
                *slot = rule.finish(&cx);
            }
        }
        tally.into_stats(&mut stats);
        second_tally.into_stats(&mut stats);
        rules::raise(&mut by_rule);
        let candidates = by_rule.into_iter().flatten();

        let mut report = AllowlistReport::default();
        let mut findings = Vec::new();
        let mut suppressed = Vec::new();
        let mut seen_ids = BTreeSet::new();
        for c in candidates {
            let mut finding = c.finding;
            if !seen_ids.insert(finding.id.clone()) {
                continue;
            }
            // Judged on every record, reported only when its evidence reaches into the window
            // and its rule and severity are selected; the allowlist still sees it, so an entry
            // it matches is not reported unused.
            let reported = config.reports(finding.first_seen, finding.last_seen);
            let entry = config
                .allowlist
                .as_ref()
                .and_then(|al| al.suppress(finding.rule, &c.scope, config.now, &mut report));
            if !reported {
                stats.outside_time_window += 1;
                continue;
            }
            if !config.selects(finding.rule, finding.severity) {
                stats.not_selected += 1;
                continue;
            }
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
            networks,
            stats,
        }
    }
}

/// How sign-ins are put in order: time, id, content (rows without an id), source, add order.
type SignInOrder = (Timestamp, Option<store::Packed>, u64, SrcKey, u32);

/// What makes two access records one: the same log and record id, or (without an id) the same
/// content.
#[derive(Clone, PartialEq, Eq, Hash)]
enum AccessKey {
    Id(AccessSource, RecordId),
    Content(store::AccessContent),
}

/// Which records to keep when records sharing a key are one record: for each key, the least by
/// `cmp` (asked only for records that share a key). Records without a key are all kept.
fn one_per_key<K: std::hash::Hash + Eq>(
    keys: impl ExactSizeIterator<Item = K>,
    cmp: impl Fn(usize, usize) -> Ordering,
) -> Vec<bool> {
    let mut keep = vec![true; keys.len()];
    let mut best: FxHashMap<K, usize> =
        FxHashMap::with_capacity_and_hasher(keys.len(), Default::default());
    for (i, key) in keys.enumerate() {
        let loser = match best.entry(key) {
            Entry::Vacant(e) => {
                e.insert(i);
                continue;
            }
            Entry::Occupied(mut e) => {
                if cmp(*e.get(), i).is_le() {
                    i
                } else {
                    std::mem::replace(e.get_mut(), i)
                }
            }
        };
        if let Some(k) = keep.get_mut(loser) {
            *k = false;
        }
    }
    keep
}

/// The rows of one sign-in (same id) merged into one: the base is the row of an Entra log
/// before a UAL `UserLoggedIn` twin, then the richest, then by content (and only then by
/// source, when the rows say the same); it takes what it lacks from the others, in that order.
/// Returns which rows remain.
fn merge_sign_ins(sign_ins: &mut [SignInRec], store: &Store, ranks: &[u32]) -> Vec<bool> {
    let mut by_id: FxHashMap<store::Packed, Vec<usize>> = FxHashMap::default();
    for (i, s) in sign_ins.iter().enumerate() {
        if let Some(id) = s.id() {
            by_id.entry(id).or_default().push(i);
        }
    }
    let mut keep = vec![true; sign_ins.len()];
    for rows in by_id.values_mut().filter(|r| r.len() > 1) {
        let rank = |i: usize| {
            sign_ins.get(i).map(|s| {
                (
                    s.kind == SignInKind::UalLogon || s.has(store::sflag::KIND_ASSUMED),
                    std::cmp::Reverse(s.richness()),
                    store.sign_in_fingerprint(s),
                    src_key(ranks, s.src()),
                    i,
                )
            })
        };
        rows.sort_by_cached_key(|&i| rank(i));
        let Some((&base, rest)) = rows.split_first() else {
            continue;
        };
        for &other in rest {
            if let Some(o) = sign_ins.get(other).cloned() {
                if let Some(b) = sign_ins.get_mut(base) {
                    b.merge_from(&o);
                }
            }
            if let Some(k) = keep.get_mut(other) {
                *k = false;
            }
        }
    }
    keep
}

/// Reorders `records` in place so that position `k` holds the record that was at `order[k]`,
/// and drops the records `order` leaves out: each record is moved along its permutation cycle
/// once, and no second copy of the records is ever allocated.
fn permute<T>(mut records: Vec<T>, order: impl Iterator<Item = u32>) -> Vec<T> {
    let n = records.len();
    let mut full: Vec<u32> = Vec::with_capacity(n);
    let mut used = vec![false; n];
    for i in order {
        if let Some(u) = used.get_mut(i as usize) {
            if !*u {
                *u = true;
                full.push(i);
            }
        }
    }
    let kept = full.len();
    // The left-out records go to the end, to be cut off.
    full.extend(
        used.iter()
            .enumerate()
            .filter(|(_, u)| !**u)
            .filter_map(|(i, _)| u32::try_from(i).ok()),
    );
    let mut done = used;
    done.iter_mut().for_each(|d| *d = false);
    for start in 0..n {
        if done.get(start).copied().unwrap_or(true) {
            continue;
        }
        let mut j = start;
        loop {
            if let Some(d) = done.get_mut(j) {
                *d = true;
            }
            let next = full.get(j).map_or(start, |v| *v as usize);
            if next == start {
                break;
            }
            records.swap(j, next);
            j = next;
        }
    }
    records.truncate(kept);
    records
}

#[cfg(test)]
mod tests {
    use super::{one_per_key, permute};

    #[test]
    fn one_per_key_keeps_the_least_of_each_key() {
        let keys = [1, 0, 1, 2, 1, 0];
        let rank = [5, 9, 3, 1, 3, 2];
        assert_eq!(
            one_per_key(keys.into_iter(), |i, j| rank[i].cmp(&rank[j])),
            vec![false, false, true, true, false, true]
        );
    }

    #[test]
    fn permute_reorders_in_place_and_drops_the_left_out() {
        let v = vec!["a", "b", "c", "d", "e"];
        assert_eq!(
            permute(v.clone(), [4u32, 0, 3, 1].into_iter()),
            vec!["e", "a", "d", "b"]
        );
        assert_eq!(
            permute(v.clone(), [0u32, 1, 2, 3, 4].into_iter()),
            v.clone()
        );
        assert_eq!(
            permute(v.clone(), [1u32, 2, 3, 4, 0].into_iter()),
            vec!["b", "c", "d", "e", "a"]
        );
        // Repeated and out-of-range indexes are ignored rather than trusted.
        assert_eq!(permute(v, [2u32, 2, 9].into_iter()), vec!["c"]);
        assert!(permute(Vec::<u8>::new(), std::iter::empty()).is_empty());
    }
}
