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
pub mod compact;
mod correlate;
pub mod coverage;
mod evidence;
pub mod export;
mod known_networks;
mod network;
mod partition;
pub mod record_times;
pub mod rules;
mod spill;
pub mod spill_file;
pub mod store;
mod tenant;
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
use crate::store::{src_key, AccessRec, RecordId, SignInRec, Store, Sym};

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
    /// Judge the tenant in this many partitions of its users, one at a time, the records
    /// waiting on disk (in `spill_dir`) meanwhile: memory then holds one partition's sign-ins
    /// instead of all (0 or 1: every record in memory at once). Findings do not depend on it.
    pub partitions: usize,
    /// Leave [`Detection::networks`] empty: a caller that shows only the findings (`detect`)
    /// need not pay for a table of every address and user. Findings do not depend on it.
    pub skip_networks: bool,
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
    /// Sign-in rows that waited on disk in their user's partition and could not be written or
    /// read back: they were not judged.
    #[serde(skip_serializing_if = "is_zero")]
    pub sign_ins_lost: u64,
    /// The partitions of the tenant's users judged one at a time ([`EngineConfig::partitions`];
    /// 0 when every record was judged at once in memory).
    #[serde(skip_serializing_if = "is_zero")]
    pub user_partitions: u64,
    /// The partitions asked for when their files could not be made (in `spill_dir`): the tenant
    /// was judged at once, in memory.
    #[serde(skip_serializing_if = "is_zero")]
    pub partition_files_failed: u64,
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

impl Stats {
    /// Add another partition's counts.
    fn add(&mut self, other: Stats) {
        // Destructured so that a new count cannot be forgotten here.
        let Stats {
            sign_ins_read,
            sign_ins_duplicate,
            sign_ins_kind_settled,
            sign_ins_failed,
            accesses_read,
            accesses_duplicate,
            accesses_lost,
            sign_ins_lost,
            user_partitions,
            partition_files_failed,
            outside_time_window,
            not_selected,
            accesses_app_only,
            accesses_unlinkable,
            accesses_token_linked,
            benign,
            unknown,
            findings,
            suppressed,
        } = other;
        self.sign_ins_read += sign_ins_read;
        self.sign_ins_duplicate += sign_ins_duplicate;
        self.sign_ins_kind_settled += sign_ins_kind_settled;
        self.sign_ins_failed += sign_ins_failed;
        self.accesses_read += accesses_read;
        self.accesses_duplicate += accesses_duplicate;
        self.accesses_lost += accesses_lost;
        self.sign_ins_lost += sign_ins_lost;
        self.user_partitions += user_partitions;
        self.partition_files_failed += partition_files_failed;
        self.outside_time_window += outside_time_window;
        self.not_selected += not_selected;
        self.accesses_app_only += accesses_app_only;
        self.accesses_unlinkable += accesses_unlinkable;
        self.accesses_token_linked += accesses_token_linked;
        for (k, n) in benign {
            *self.benign.entry(k).or_default() += n;
        }
        for (k, n) in unknown {
            *self.unknown.entry(k).or_default() += n;
        }
        for (k, n) in findings {
            *self.findings.entry(k).or_default() += n;
        }
        for (k, n) in suppressed {
            *self.suppressed.entry(k).or_default() += n;
        }
    }
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
    /// The network of every address and each user's own networks, as the rules saw them
    /// (empty when [`EngineConfig::skip_networks`]).
    pub networks: KnownNetworks,
    /// Counts.
    pub stats: Stats,
}

/// The engine: configured once, fed records, finished once.
#[derive(Debug)]
pub struct Engine {
    config: EngineConfig,
    catalog: Catalog,
    input: Input,
}

/// Where the engine keeps what it was given.
#[derive(Debug)]
enum Input {
    /// In memory, to be judged at once.
    Whole(Box<Records>),
    /// On disk in the partitions of their users, to be judged one partition at a time.
    Partitioned(Box<partition::Spool>),
}

/// The records one engine judges: the whole input, or one partition of a tenant's users.
#[derive(Debug)]
struct Records {
    store: Store,
    sign_ins: Vec<SignInRec>,
    accesses: AccessLog,
    /// What the rules must know of all accesses before judging one.
    summary: AccessSummary,
    stats: Stats,
    /// False while a partition learns its share of the tenant: the accesses' summary is all
    /// it needs of them.
    keep_accesses: bool,
}

impl Records {
    fn new(config: &EngineConfig) -> Records {
        let bound = match config.accesses_in_memory {
            0 => DEFAULT_IN_MEMORY,
            n => n,
        };
        Records {
            accesses: AccessLog::new(bound, config.spill_dir.clone()),
            store: Store::default(),
            sign_ins: Vec::new(),
            summary: AccessSummary::default(),
            stats: Stats::default(),
            keep_accesses: true,
        }
    }

    /// Partition `part` of `spool`, read back.
    fn read(
        config: &EngineConfig,
        spool: &mut partition::Spool,
        part: usize,
        keep_accesses: bool,
    ) -> Records {
        let mut records = Records::new(config);
        records.keep_accesses = keep_accesses;
        let (sign_ins, accesses) = spool.read(part, |r| match r {
            partition::Spooled::SignIn(s) => records.add_sign_in(&s),
            partition::Spooled::Access(a) => records.add_access(&a),
        });
        records.stats.sign_ins_lost += sign_ins;
        records.stats.accesses_lost += accesses;
        records
    }

    fn add_sign_in(&mut self, s: &SignIn) {
        self.stats.sign_ins_read += 1;
        let rec = self.store.sign_in(s);
        self.sign_ins.push(rec);
    }

    fn add_access(&mut self, a: &Access) {
        self.stats.accesses_read += 1;
        let mut rec = self.store.access(a);
        rec.seq = u32::try_from(self.accesses.len()).unwrap_or(u32::MAX);
        self.summary.add(&rec);
        if self.keep_accesses {
            self.accesses.push(rec);
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Engine {
    /// Build the engine (parses the built-in reference data once).
    pub fn new(config: EngineConfig) -> Engine {
        // Partition files that cannot be made leave every record in memory: the findings are
        // the same, only the memory is not bounded.
        let input = match config.partitions {
            0 | 1 => Input::Whole(Box::new(Records::new(&config))),
            n => match partition::Spool::create(n, config.spill_dir.as_deref()) {
                Ok(spool) => Input::Partitioned(Box::new(spool)),
                Err(_) => {
                    let mut records = Records::new(&config);
                    records.stats.partition_files_failed = n as u64;
                    Input::Whole(Box::new(records))
                }
            },
        };
        Engine {
            input,
            config,
            catalog: Catalog::builtin(),
        }
    }

    /// Add one sign-in row: owned, or borrowed where it came (boxed, as decoders hand it on),
    /// so a kilobyte-sized row is not copied out only to be reduced to its handles.
    pub fn add_sign_in(&mut self, s: impl std::borrow::Borrow<SignIn>) {
        match &mut self.input {
            Input::Whole(r) => r.add_sign_in(s.borrow()),
            Input::Partitioned(spool) => spool.add_sign_in(s.borrow()),
        }
    }

    /// Add one access record: owned or borrowed, as [`Engine::add_sign_in`].
    pub fn add_access(&mut self, a: impl std::borrow::Borrow<Access>) {
        match &mut self.input {
            Input::Whole(r) => r.add_access(a.borrow()),
            Input::Partitioned(spool) => spool.add_access(a.borrow()),
        }
    }

    /// Correlate everything added and run the rules.
    pub fn finish(self) -> Detection {
        let Engine {
            config,
            catalog,
            input,
        } = self;
        match input {
            Input::Whole(records) => {
                let judged = records.judge(&config, &catalog, None);
                Judged::conclude(vec![judged], None, &config)
            }
            Input::Partitioned(spool) => finish_partitioned(&config, &catalog, *spool),
        }
    }
}

/// Judge a tenant whose records wait on disk in the partitions of their users (see
/// [`partition`]): each partition learns its share of the tenant, then each is judged against
/// the whole tenant.
fn finish_partitioned(
    config: &EngineConfig,
    catalog: &Catalog,
    mut spool: partition::Spool,
) -> Detection {
    spool.settle();
    let stated = std::mem::take(&mut spool.stated);
    let mut share = tenant::TenantShare::default();
    let mut coverage = CoverageBuilder::new(config.thresholds.coverage_gap_secs);
    if let Some((from, to)) = config.window {
        coverage.window(from, to);
    }
    for part in 0..spool.partitions() {
        let records = Records::read(config, &mut spool, part, false);
        let (s, c) = records.share(config, catalog, Some(&stated));
        share.add(s);
        coverage.add_builder(c);
    }
    let tenant = tenant::Tenant::learn(&share, config.asn_db.as_ref(), catalog);
    drop(share);
    let sign_in_coverage = coverage.build_in_place();
    let judging = TenantJudging {
        tenant: &tenant,
        coverage: &sign_in_coverage,
        stated: &stated,
    };
    // What could not be read back is counted by the judging's reading (in each part's stats).
    let parts = (0..spool.partitions())
        .map(|part| {
            Records::read(config, &mut spool, part, true).judge(config, catalog, Some(&judging))
        })
        .collect();
    let mut detection = Judged::conclude(parts, Some(coverage), config);
    detection.stats.user_partitions = spool.partitions() as u64;
    detection.stats.sign_ins_lost += spool.lost_sign_ins;
    detection.stats.accesses_lost += spool.lost_accesses;
    detection
}

/// What is tenant-wide, as the partitions of a tenant are judged against it.
pub(crate) struct TenantJudging<'t> {
    pub tenant: &'t tenant::Tenant<'t>,
    /// The sign-in logs' coverage, from every partition's sign-ins and tokens.
    pub coverage: &'t Coverage,
    /// What every file's rows that state their kind say.
    pub stated: &'t FxHashMap<std::sync::Arc<str>, tokentrail_model::unstated_kind::StatedKinds>,
}

/// One partition's judgement, before the findings of all are put together.
pub(crate) struct Judged {
    /// Per rule (in [`rules::RULES`] order), its candidates, raised by TT003.
    candidates: Vec<Vec<rules::judging::Candidate>>,
    /// The accesses' coverage (and, for a whole tenant, the sign-ins').
    coverage: CoverageBuilder,
    networks: KnownNetworks,
    stats: Stats,
}

impl Judged {
    /// The detection of a tenant judged in `parts`: the allowlist, the reporting window and
    /// the order of the findings. `tenant_coverage` is the sign-in logs' coverage of a tenant
    /// judged in partitions (each part then brings its accesses' only).
    fn conclude(
        parts: Vec<Judged>,
        tenant_coverage: Option<CoverageBuilder>,
        config: &EngineConfig,
    ) -> Detection {
        let mut coverage = tenant_coverage;
        let mut networks = KnownNetworks::default();
        let mut stats = Stats::default();
        let mut by_rule: Vec<Vec<rules::judging::Candidate>> =
            rules::RULES.iter().map(|_| Vec::new()).collect();
        for part in parts {
            match coverage.as_mut() {
                Some(c) => c.add_builder(part.coverage),
                None => coverage = Some(part.coverage),
            }
            networks.add(part.networks);
            stats.add(part.stats);
            for (mine, theirs) in by_rule.iter_mut().zip(part.candidates) {
                mine.extend(theirs);
            }
        }
        let coverage = coverage
            .unwrap_or_else(|| CoverageBuilder::new(config.thresholds.coverage_gap_secs))
            .build_in_place();

        let mut report = AllowlistReport::default();
        let mut findings = Vec::new();
        let mut suppressed = Vec::new();
        let mut seen_ids = BTreeSet::new();
        for c in by_rule.into_iter().flatten() {
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

/// Sign-ins merged (a sign-in can appear as several rows: in several exports, and as an Entra
/// row and its UAL `UserLoggedIn` twin; the rows of one id become one, the richest row filled
/// from the others, whatever order or files they came in) and put in time order.
fn settled_sign_ins(
    mut sign_ins: Vec<SignInRec>,
    store: &Store,
    ranks: &[u32],
    stated: Option<&FxHashMap<std::sync::Arc<str>, tokentrail_model::unstated_kind::StatedKinds>>,
    stats: &mut Stats,
) -> Vec<SignInRec> {
    stats.sign_ins_kind_settled =
        unstated_kind::settle_by_file(&mut sign_ins, &store.files, stated);
    let keep = merge_sign_ins(&mut sign_ins, store, ranks);
    // Time order; equal times by id, then (rows without an id) by content: file names and
    // input order decide only between rows that say the same.
    let mut order: Vec<SignInOrder> = sign_ins
        .iter()
        .zip(&keep)
        .enumerate()
        .filter(|(_, (_, k))| **k)
        .map(|(i, (s, _))| {
            let id = s.id();
            (
                s.time,
                id.is_some(),
                id.unwrap_or(store::Packed::of(tokentrail_model::Guid(0))),
                u32::try_from(i).unwrap_or(u32::MAX),
            )
        })
        .collect();
    drop(keep);
    stats.sign_ins_duplicate = (sign_ins.len() - order.len()) as u64;
    // Unstable is enough: the add order breaks every remaining tie. After merging, no two rows
    // share an id, so only rows without one can tie on (time, id); those few are ordered by
    // content and source, worked out for them alone.
    order.sort_unstable();
    for tied in order
        .chunk_by_mut(|a, b| !a.1 && !b.1 && a.0 == b.0)
        .filter(|t| t.len() > 1)
    {
        tied.sort_by_cached_key(|o| {
            let s = sign_ins.get(o.3 as usize);
            (
                s.map(|s| store.sign_in_fingerprint(s)),
                s.map(|s| src_key(ranks, s.src())),
                o.3,
            )
        });
    }
    let sign_ins = permute(sign_ins, order.iter().map(|o| o.3));
    drop(order);
    stats.sign_ins_failed = sign_ins.iter().filter(|s| !s.succeeded()).count() as u64;
    sign_ins
}

/// The sign-in logs' coverage: the window is the whole input's (accesses included) or the one
/// given; a silence of a sign-in log is a hole only on evidence, which includes the tokens
/// accesses used, found or not (so it needs the token index).
fn sign_in_coverage(
    cx: &Context<'_>,
    summary: &AccessSummary,
    config: &EngineConfig,
) -> CoverageBuilder {
    let mut coverage = CoverageBuilder::new(config.thresholds.coverage_gap_secs);
    if let Some((from, to)) = config.window {
        coverage.window(from, to);
    }
    for s in cx.sign_ins {
        coverage.add(Family::SignIn(s.kind), s.time);
    }
    if let Some((first, last)) = summary.window {
        coverage.see(first);
        coverage.see(last);
    }
    for (at, user, token, found) in cx.token_evidence(summary, config.thresholds.orphan_first_party)
    {
        coverage.token(at, user, token, found);
    }
    coverage
}

/// What the correlation context of these records is built from.
fn context_inputs<'a, 's>(
    store: &'a Store,
    sign_ins: &'a [SignInRec],
    summary: &'s AccessSummary,
    catalog: &'a Catalog,
    config: &'a EngineConfig,
) -> correlate::Inputs<'a, 's> {
    correlate::Inputs {
        store,
        sign_ins,
        accesses: summary,
        catalog,
        thresholds: &config.thresholds,
        asn_db: config.asn_db.as_ref(),
        beside: config.threads > 1,
    }
}

impl Records {
    /// This partition's share of what is tenant-wide, and of the sign-in logs' coverage.
    fn share(
        self,
        config: &EngineConfig,
        catalog: &Catalog,
        stated: Option<
            &FxHashMap<std::sync::Arc<str>, tokentrail_model::unstated_kind::StatedKinds>,
        >,
    ) -> (tenant::TenantShare, CoverageBuilder) {
        let Records {
            store,
            sign_ins,
            summary,
            mut stats,
            ..
        } = self;
        let ranks = store.file_ranks();
        let sign_ins = settled_sign_ins(sign_ins, &store, &ranks, stated, &mut stats);
        let (cx, share) = Context::build(
            context_inputs(&store, &sign_ins, &summary, catalog, config),
            None,
        );
        let coverage = sign_in_coverage(&cx, &summary, config);
        // Built without a tenant, the context always learns a share.
        (share.unwrap_or_default(), coverage)
    }

    /// Correlate and run the rules: against `tenant` when given (a partition of a tenant),
    /// else against what these records show of it (the whole tenant).
    fn judge(
        self,
        config: &EngineConfig,
        catalog: &Catalog,
        tenant: Option<&TenantJudging<'_>>,
    ) -> Judged {
        let Records {
            store,
            sign_ins,
            accesses,
            summary,
            mut stats,
            keep_accesses: _,
        } = self;
        let ranks = store.file_ranks();
        // Reading the accesses back and dropping their copies needs no sign-in: with a second
        // thread, it runs beside the sign-in and context work below, one partition ahead.
        std::thread::scope(|scope| {
            let mut feed = Feed::start(accesses, config.threads > 1, scope, &store, &ranks);
            let stated = tenant.map(|t| t.stated);
            let sign_ins = settled_sign_ins(sign_ins, &store, &ranks, stated, &mut stats);
            let (mut cx, _) = Context::build(
                context_inputs(&store, &sign_ins, &summary, catalog, config),
                tenant.map(|t| t.tenant),
            );
            // A tenant's partition adds its accesses to the coverage; the whole tenant adds
            // them to its sign-ins'.
            let mut coverage = match tenant {
                Some(t) => {
                    cx.set_coverage(t.coverage.clone());
                    CoverageBuilder::new(config.thresholds.coverage_gap_secs)
                }
                None => {
                    let mut c = sign_in_coverage(&cx, &summary, config);
                    cx.set_coverage(c.build_in_place());
                    c
                }
            };
            drop(summary);
            // Each rule judges on one of two lanes; with a second thread, the second lane judges
            // each partition beside the first. Every rule gathers its groups whatever order
            // accesses come in, so neither threads nor partitions change a finding.
            let mut tally = Tally::default();
            let mut second_tally = Tally::default();
            let beside = config.threads > 1;
            let lane = |which: rules::Lane, tally: &mut Tally| {
                rules::RULES
                    .iter()
                    .enumerate()
                    .filter(|(_, rule)| rule.lane == which)
                    .map(|(i, rule)| (i, (rule.judge)(&cx, tally)))
                    .collect::<Vec<(usize, Box<dyn rules::Judge>)>>()
            };
            // The rules learn their sessions (and judge the sign-ins) on their lanes too.
            let (mut first_lane, mut second_lane) = if beside {
                std::thread::scope(|scope| {
                    let second = scope.spawn(|| lane(rules::Lane::Second, &mut second_tally));
                    let first = lane(rules::Lane::First, &mut tally);
                    (first, joined(second))
                })
            } else {
                (
                    lane(rules::Lane::First, &mut tally),
                    lane(rules::Lane::Second, &mut second_tally),
                )
            };
            let mut upns: FxHashMap<Sym, (AccessRec, Sym)> = FxHashMap::default();
            let mut used = None;
            while let Some(prepared) = feed.next(used.take()) {
                let Prepared {
                    records: part,
                    keep,
                } = &prepared;
                // Linking reads the context only: with a second thread, each links half.
                let link = |records, keep| link_kept(&cx, records, keep);
                let half = part.len() / 2;
                let (records_a, records_b) = part.split_at(half);
                let (keep_a, keep_b) = keep.split_at(half.min(keep.len()));
                let linked: [Vec<Linked<'_>>; 2] = if beside {
                    std::thread::scope(|scope| {
                        let b = scope.spawn(|| link(records_b, keep_b));
                        let a = link(records_a, keep_a);
                        [a, joined(b)]
                    })
                } else {
                    [link(records_a, keep_a), link(records_b, keep_b)]
                };
                let kept: usize = linked.iter().map(Vec::len).sum();
                stats.accesses_duplicate += (part.len() - kept) as u64;
                let cx = &cx;
                let mut count = || {
                    for l in linked.iter().flatten() {
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
                        // A user id's UPN as the first access (in time, file, position order)
                        // logged it, when no sign-in did.
                        if let Some((id, upn)) = cx.access_upn(a) {
                            if !cx.has_upn(id) {
                                match upns.entry(id) {
                                    Entry::Vacant(e) => {
                                        e.insert((a.clone(), upn));
                                    }
                                    Entry::Occupied(mut e) => {
                                        if access_cmp(cx, a, &e.get().0).is_lt() {
                                            e.insert((a.clone(), upn));
                                        }
                                    }
                                }
                            }
                        }
                    }
                };
                let judge = |lane: &mut Vec<(usize, Box<dyn rules::Judge>)>, t: &mut Tally| {
                    for l in linked.iter().flatten() {
                        for (_, rule) in lane.iter_mut() {
                            rule.access(cx, l, t);
                        }
                    }
                };
                let mut first_rules = |t: &mut Tally| judge(&mut first_lane, t);
                let mut second_rules = |t: &mut Tally| judge(&mut second_lane, t);
                if beside {
                    // The counting runs on the first lane's thread, beside the second lane.
                    std::thread::scope(|scope| {
                        let second = scope.spawn(|| second_rules(&mut second_tally));
                        count();
                        first_rules(&mut tally);
                        joined(second);
                    });
                } else {
                    count();
                    first_rules(&mut tally);
                    second_rules(&mut second_tally);
                }
                drop(linked);
                used = Some(prepared);
            }
            stats.accesses_lost += feed.lost();
            cx.learn_upns(upns.into_iter().map(|(id, (_, upn))| (id, upn)));
            let networks = if config.skip_networks {
                KnownNetworks::default()
            } else {
                KnownNetworks::learn(&cx)
            };
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
            Judged {
                candidates: by_rule,
                coverage,
                networks,
                stats,
            }
        })
    }
}

/// What a scoped thread returned; a panic on it goes on on the joining thread.
pub(crate) fn joined<T>(thread: std::thread::ScopedJoinHandle<'_, T>) -> T {
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// How sign-ins are put in order: time, id, content (rows without an id), source, add order.
/// (Rows with an id first by the id, rows without one by content, source and add order: see
/// `finish`.) 32 bytes, where the whole key would take 56.
type SignInOrder = (Timestamp, bool, store::Packed, u32);

/// What makes two access records one: the same log and record id, or (without an id) the same
/// content.
#[derive(Clone, PartialEq, Eq, Hash)]
enum AccessKey {
    Id(AccessSource, RecordId),
    Content(store::AccessContent),
}

fn access_key(a: &AccessRec) -> AccessKey {
    match a.record_id() {
        RecordId::None => AccessKey::Content(a.content()),
        id => AccessKey::Id(a.log, id),
    }
}

/// The accesses of `records` that `keep` keeps, linked.
fn link_kept<'r>(cx: &Context<'_>, records: &'r [AccessRec], keep: &[bool]) -> Vec<Linked<'r>> {
    records
        .iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(a, _)| cx.link(a))
        .collect()
}

/// A partition of accesses, its copies marked, ready to be linked and judged.
struct Prepared {
    records: Vec<AccessRec>,
    /// False for a copy of another record of the partition.
    keep: Vec<bool>,
}

/// Mark the copies in a partition: one per (log, record id), or per content for records
/// without an id. Of copies, the richest, then by content, so neither input order nor file
/// names choose (the copies of a record are always in one partition).
fn prepare(
    records: Vec<AccessRec>,
    mut keep: Vec<bool>,
    scratch: &mut Vec<(u64, usize)>,
    store: &Store,
    ranks: &[u32],
) -> Prepared {
    one_per_key(
        records.len(),
        |i| records.get(i).map(access_key),
        |i, j| {
            let (Some(a), Some(b)) = (records.get(i), records.get(j)) else {
                return Ordering::Equal;
            };
            b.richness()
                .cmp(&a.richness())
                .then_with(|| {
                    store
                        .access_fingerprint(a)
                        .cmp(&store.access_fingerprint(b))
                })
                .then_with(|| src_key(ranks, a.src()).cmp(&src_key(ranks, b.src())))
                .then(a.seq.cmp(&b.seq))
        },
        scratch,
        &mut keep,
    );
    Prepared { records, keep }
}

/// Where `finish` gets its partitions of accesses: read and prepared on the calling thread, or
/// on a thread of their own one partition ahead of the rules (two partitions in memory at
/// most: the one judged and the one prepared).
enum Feed<'scope, 'env> {
    Here {
        parts: spill::Partitions,
        scratch: Vec<(u64, usize)>,
        spare_keep: Vec<bool>,
        store: &'env Store,
        ranks: &'env [u32],
    },
    Beside {
        ready: std::sync::mpsc::Receiver<Prepared>,
        used: std::sync::mpsc::Sender<Prepared>,
        reader: std::thread::ScopedJoinHandle<'scope, u64>,
    },
}

impl<'scope, 'env> Feed<'scope, 'env> {
    fn start(
        accesses: AccessLog,
        beside: bool,
        scope: &'scope std::thread::Scope<'scope, 'env>,
        store: &'env Store,
        ranks: &'env [u32],
    ) -> Feed<'scope, 'env> {
        if !beside {
            return Feed::Here {
                parts: accesses.into_partitions(1),
                scratch: Vec::new(),
                spare_keep: Vec::new(),
                store,
                ranks,
            };
        }
        // A rendezvous: the reader hands a partition over only when the rules ask for the
        // next, so it never runs more than one partition ahead.
        let (ready_tx, ready) = std::sync::mpsc::sync_channel::<Prepared>(0);
        let (used, used_rx) = std::sync::mpsc::channel::<Prepared>();
        let reader = scope.spawn(move || {
            let mut here = Feed::Here {
                parts: accesses.into_partitions(2),
                scratch: Vec::new(),
                spare_keep: Vec::new(),
                store,
                ranks,
            };
            loop {
                // The buffers of a judged partition hold the next.
                for u in used_rx.try_iter() {
                    here.give_back(u);
                }
                let Some(p) = here.next(None) else {
                    break;
                };
                if ready_tx.send(p).is_err() {
                    break;
                }
            }
            here.lost()
        });
        Feed::Beside {
            ready,
            used,
            reader,
        }
    }

    /// The next partition; `used` is the last one, judged (its buffers are reused).
    fn next(&mut self, used: Option<Prepared>) -> Option<Prepared> {
        match self {
            Feed::Here {
                parts,
                scratch,
                spare_keep,
                store,
                ranks,
            } => {
                if let Some(u) = used {
                    parts.recycle(u.records);
                    *spare_keep = u.keep;
                }
                let part = parts.next()?;
                Some(prepare(
                    part,
                    std::mem::take(spare_keep),
                    scratch,
                    store,
                    ranks,
                ))
            }
            Feed::Beside {
                ready, used: back, ..
            } => {
                if let Some(u) = used {
                    // The reader may be done: then the buffers are simply dropped.
                    let _ = back.send(u);
                }
                ready.recv().ok()
            }
        }
    }

    fn give_back(&mut self, used: Prepared) {
        if let Feed::Here {
            parts, spare_keep, ..
        } = self
        {
            parts.recycle(used.records);
            *spare_keep = used.keep;
        }
    }

    /// Records that waited on disk and could not be read back.
    fn lost(self) -> u64 {
        match self {
            Feed::Here { parts, .. } => parts.lost,
            Feed::Beside { ready, reader, .. } => {
                drop(ready);
                joined(reader)
            }
        }
    }
}

/// Which records to keep when records sharing a key are one record: for each key, the least by
/// `cmp` (asked only for records that share a key, in index order), in `keep`. Records are
/// grouped by a hash of their key, sorted, rather than in a hash map of the keys: 16 bytes per
/// record instead of a key's, and no large table to fault in for every partition.
fn one_per_key<K: std::hash::Hash + Eq>(
    n: usize,
    key: impl Fn(usize) -> K,
    cmp: impl Fn(usize, usize) -> Ordering,
    scratch: &mut Vec<(u64, usize)>,
    keep: &mut Vec<bool>,
) {
    use std::hash::BuildHasher;
    keep.clear();
    keep.resize(n, true);
    scratch.clear();
    scratch.extend((0..n).map(|i| (rustc_hash::FxBuildHasher.hash_one(key(i)), i)));
    scratch.sort_unstable();
    // The least so far of each distinct key sharing one hash (almost always one key).
    let mut best: Vec<(K, usize)> = Vec::new();
    for run in scratch.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
        best.clear();
        for &(_, i) in run {
            let k = key(i);
            let loser = match best.iter_mut().find(|(b, _)| *b == k) {
                None => {
                    best.push((k, i));
                    continue;
                }
                Some((_, b)) => {
                    if cmp(*b, i).is_le() {
                        i
                    } else {
                        std::mem::replace(b, i)
                    }
                }
            };
            if let Some(k) = keep.get_mut(loser) {
                *k = false;
            }
        }
    }
}

/// The rows of one sign-in (same id) merged into one: the base is the row of an Entra log
/// before a UAL `UserLoggedIn` twin, then the richest, then by content (and only then by
/// source, when the rows say the same); it takes what it lacks from the others, in that order.
/// Returns which rows remain.
fn merge_sign_ins(sign_ins: &mut [SignInRec], store: &Store, ranks: &[u32]) -> Vec<bool> {
    // The rows of each id as a chain through `next` (most ids have one row): no list is
    // allocated per id.
    const END: u32 = u32::MAX;
    let mut head: FxHashMap<store::Packed, u32> =
        FxHashMap::with_capacity_and_hasher(sign_ins.len(), Default::default());
    let mut next: Vec<u32> = vec![END; sign_ins.len()];
    let mut shared: Vec<store::Packed> = Vec::new();
    for (i, s) in sign_ins.iter().enumerate() {
        let (Some(id), Ok(i)) = (s.id(), u32::try_from(i)) else {
            continue;
        };
        match head.entry(id) {
            Entry::Vacant(e) => {
                e.insert(i);
            }
            Entry::Occupied(mut e) => {
                // Its second row: the id is shared from now on.
                if next.get(*e.get() as usize) == Some(&END) {
                    shared.push(id);
                }
                if let Some(n) = next.get_mut(i as usize) {
                    *n = std::mem::replace(e.get_mut(), i);
                }
            }
        }
    }
    let mut keep = vec![true; sign_ins.len()];
    let mut rows: Vec<usize> = Vec::new();
    for id in &shared {
        rows.clear();
        let mut at = head.get(id).copied().unwrap_or(END);
        while at != END {
            rows.push(at as usize);
            at = next.get(at as usize).copied().unwrap_or(END);
        }
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
        let (mut scratch, mut keep) = (Vec::new(), Vec::new());
        one_per_key(
            keys.len(),
            |i| keys[i],
            |i, j| rank[i].cmp(&rank[j]),
            &mut scratch,
            &mut keep,
        );
        assert_eq!(keep, vec![false, false, true, true, false, true]);
    }

    #[test]
    fn documented_finish_sizes_are_the_real_sizes() {
        let doc = include_str!("../../../docs/engine-memory.md");
        for (name, size) in [
            ("SignInOrder", std::mem::size_of::<super::SignInOrder>()),
            ("(u64, usize)", std::mem::size_of::<(u64, usize)>()),
        ] {
            let row = doc
                .lines()
                .find(|l| l.starts_with(&format!("| `{name}` |")))
                .unwrap_or_else(|| panic!("docs/engine-memory.md has no row for `{name}`"));
            assert!(
                row.ends_with(&format!("| {size} |")),
                "`{name}` is {size} bytes: {row}"
            );
        }
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
