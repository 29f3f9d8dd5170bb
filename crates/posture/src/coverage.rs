//! Coverage: what the logs given can show, and what they cannot.
//!
//! [`CoverageBuilder`] is fed every sign-in and access once (in any order) and
//! [`CoverageBuilder::finish`] produces a [`CoverageReport`]:
//!
//! - per log family and kind ([`FAMILIES`]): present or missing, records, duplicates (rows that
//!   repeat an id already read), first and last record, the stretches the rules treat as
//!   covered, the holes (silences with evidence of missing records) and the quiet stretches
//!   (long silences without such evidence, still covered): the same
//!   [`tokentrail_engine::Coverage`] the rules consult, built from the same evidence (the
//!   tokens accesses used, found in a sign-in or not, and each log's own rate); the largest gap,
//!   and the time covered against a retention target;
//! - field completeness: the share of accesses with a token id, a session id, an IP (and the
//!   client app id and token issue time the rules also use); the share of interactive and
//!   non-interactive sign-ins with a session id, an ASN, a device id;
//! - join rates over delegated accesses: the share whose token id names a successful sign-in of
//!   the input (of those that carry a token id), and the share whose session (its own, or its
//!   issuing sign-in's) has an interactive root in the input (of those with a session);
//! - per rule a [`RuleVerdict`].
//!
//! Memory grows with the number of records of each family (one timestamp each) and with the
//! distinct token and session ids, not with the records' size.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use tokentrail_engine::catalog::Catalog;
use tokentrail_engine::coverage::{Coverage, Family, Hole, Stretch, Window};
use tokentrail_engine::{is_delegated, Thresholds};
use tokentrail_model::{
    Access, AccessSource, Ident, SessionId, SignIn, SignInKind, Timestamp, TokenId,
};

use crate::verdict::{self, RuleVerdict};
use crate::{folded, RunInfo, Share, Sightings};

/// The families a coverage report always lists, in report order, with their names in plain
/// words. Teams audit records are listed only when present: no rule needs them.
pub const FAMILIES: [(Family, &str); 9] = [
    (
        Family::SignIn(SignInKind::Interactive),
        "Interactive user sign-ins (SigninLogs)",
    ),
    (
        Family::SignIn(SignInKind::NonInteractive),
        "Non-interactive user sign-ins (AADNonInteractiveUserSignInLogs)",
    ),
    (
        Family::SignIn(SignInKind::ServicePrincipal),
        "Service principal sign-ins (AADServicePrincipalSignInLogs)",
    ),
    (
        Family::SignIn(SignInKind::ManagedIdentity),
        "Managed identity sign-ins (AADManagedIdentitySignInLogs)",
    ),
    (
        Family::SignIn(SignInKind::UalLogon),
        "Unified Audit Log logons (UserLoggedIn)",
    ),
    (
        Family::Access(AccessSource::GraphActivity),
        "Microsoft Graph activity logs",
    ),
    (
        Family::Access(AccessSource::ExchangeAudit),
        "Unified Audit Log: Exchange",
    ),
    (
        Family::Access(AccessSource::SharePointAudit),
        "Unified Audit Log: SharePoint",
    ),
    (
        Family::Access(AccessSource::OneDriveAudit),
        "Unified Audit Log: OneDrive",
    ),
];

/// Listed only when present: audit records made with a logged token are accesses, but no rule
/// needs them to judge.
const DIRECTORY_AUDIT: (Family, &str) = (
    Family::Access(AccessSource::DirectoryAudit),
    "Entra audit log: directory changes made with a logged token",
);

const TEAMS: (Family, &str) = (
    Family::Access(AccessSource::TeamsAudit),
    "Unified Audit Log: Teams",
);

/// Holes and quiet stretches listed per family; more are counted.
pub const MAX_LISTED_GAPS: usize = 20;

/// Settings of a coverage run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoverageOptions {
    /// How many days of each log the organisation means to keep (`--retention-target`).
    pub retention_target_days: u32,
    /// The shortest silence called a quiet stretch (seconds); the engine's default so the
    /// report says what the rules will see.
    pub gap_secs: i64,
    /// The export window, when known (`--window`); else the span of the input.
    pub window: Option<(Timestamp, Timestamp)>,
}

impl Default for CoverageOptions {
    fn default() -> Self {
        CoverageOptions {
            retention_target_days: 180,
            gap_secs: Thresholds::default().coverage_gap_secs,
            window: None,
        }
    }
}

/// A stretch with no record of a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// The last record before the gap.
    pub from: Timestamp,
    /// The first record after it.
    pub to: Timestamp,
    /// Its length in seconds.
    pub secs: i64,
}

/// How complete the linking fields of sign-in rows are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SignInFields {
    /// Rows with a session id (`sessionId`).
    pub session_id: Share,
    /// Rows with an autonomous system number.
    pub asn: Share,
    /// Rows with a device id.
    pub device_id: Share,
}

impl SignInFields {
    fn add(&mut self, s: &SignIn) {
        self.session_id.add(s.session_id.is_some());
        self.asn.add(s.asn.is_some());
        self.device_id.add(s.device.id.is_some());
    }

    fn merge(&mut self, o: &SignInFields) {
        self.session_id.merge(o.session_id);
        self.asn.merge(o.asn);
        self.device_id.merge(o.device_id);
    }
}

/// How complete the linking fields of access records are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AccessFields {
    /// Records with a token id (`SignInActivityId`, `AppAccessContext.UniqueTokenId`).
    pub token_id: Share,
    /// Records with a session id (`SessionId`, `AppAccessContext.AADSessionId`).
    pub session_id: Share,
    /// Records with a client IP.
    pub ip: Share,
    /// Records with a client app id.
    pub app_id: Share,
    /// Of the records with a token id, those that log when it was issued.
    pub token_issued_at: Share,
    /// Records with a token id or a session id: anything that links them.
    pub linkable: Share,
}

impl AccessFields {
    fn add(&mut self, a: &Access) {
        self.token_id.add(a.token_id.is_some());
        self.session_id.add(a.session_id.is_some());
        self.ip.add(a.ip.is_some());
        self.app_id.add(a.app_id.is_some());
        if a.token_id.is_some() {
            self.token_issued_at.add(a.token_issued_at.is_some());
        }
        self.linkable
            .add(a.token_id.is_some() || a.session_id.is_some());
    }

    fn merge(&mut self, o: &AccessFields) {
        self.token_id.merge(o.token_id);
        self.session_id.merge(o.session_id);
        self.ip.merge(o.ip);
        self.app_id.merge(o.app_id);
        self.token_issued_at.merge(o.token_issued_at);
        self.linkable.merge(o.linkable);
    }
}

/// Field completeness over the whole input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Completeness {
    /// Over every access record (all access logs).
    pub accesses: AccessFields,
    /// Over interactive and non-interactive user sign-ins (the kinds that carry sessions and
    /// devices).
    pub sign_ins: SignInFields,
}

/// How often delegated accesses join the sign-in logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Joins {
    /// Of the delegated accesses with a token id, those whose token a successful sign-in of the
    /// input issued.
    pub token_to_sign_in: Share,
    /// Of the delegated accesses with a session (their own session id, or their issuing
    /// sign-in's), those whose session has a successful interactive sign-in (or UAL logon).
    pub session_to_interactive_root: Share,
}

/// Coverage of one log family and kind.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FamilyCoverage {
    /// The family (`sign-in:interactive`, `access:graph-activity`, ...).
    pub family: Family,
    /// Its name in plain words.
    pub name: &'static str,
    /// True when at least one record was read.
    pub present: bool,
    /// Records read, duplicates excluded.
    pub records: u64,
    /// Rows that repeat the id of a row already read (sign-in `id`, access record id).
    pub duplicates: u64,
    /// The first record.
    pub first: Option<Timestamp>,
    /// The last record.
    pub last: Option<Timestamp>,
    /// From the first record to the last, in seconds.
    pub span_secs: i64,
    /// Time the rules treat as covered (the export window less the holes), in seconds.
    pub covered_secs: i64,
    /// Distinct UTC days with at least one record.
    pub days_with_records: u64,
    /// True when first-to-last reaches the retention target.
    pub retention_met: bool,
    /// The stretches the rules treat as covered: the export window less the holes.
    pub covered: Vec<Stretch>,
    /// The median interval between consecutive records, in seconds.
    pub median_interval_secs: Option<i64>,
    /// The longest stretch without a record.
    pub largest_gap: Option<Gap>,
    /// Silences with evidence of missing records (the first [`MAX_LISTED_GAPS`]): the rules
    /// answer "unknown" there.
    pub holes: Vec<Hole>,
    /// How many holes there are in all.
    pub hole_count: u64,
    /// Long silences without evidence of missing records (the first [`MAX_LISTED_GAPS`]):
    /// covered, but findings leaning on them say so and lose one step of confidence.
    pub quiet: Vec<Stretch>,
    /// How many quiet stretches there are in all.
    pub quiet_count: u64,
    /// Field completeness of sign-in rows (sign-in families).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_in_fields: Option<SignInFields>,
    /// Field completeness of access records (access families).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_fields: Option<AccessFields>,
}

/// What the logs can and cannot show.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoverageReport {
    /// When, and from which inputs.
    pub run: RunInfo,
    /// The retention target, in days.
    pub retention_target_days: u32,
    /// The shortest silence (seconds) called a quiet stretch.
    pub gap_secs: i64,
    /// The export window every family is judged over.
    pub window: Option<Window>,
    /// One entry per family, in [`FAMILIES`] order.
    pub families: Vec<FamilyCoverage>,
    /// Field completeness.
    pub completeness: Completeness,
    /// Join rates.
    pub joins: Joins,
    /// Per rule TT001-TT005: supported, degraded or blind, with reasons and fixes.
    pub rules: Vec<RuleVerdict>,
}

impl CoverageReport {
    /// The coverage of `family` (every family of [`FAMILIES`] is listed).
    pub fn family(&self, family: Family) -> Option<&FamilyCoverage> {
        self.families.iter().find(|f| f.family == family)
    }

    /// True when `family` has at least one record.
    pub fn present(&self, family: Family) -> bool {
        self.family(family).is_some_and(|f| f.present)
    }
}

/// Token id -> the session and kind of the sign-in that issued it.
type Issued = FxHashMap<TokenId, (Option<SessionId>, SignInKind)>;

/// When an access logged its token was issued, and whose it was (user, client): the evidence
/// coverage weighs.
#[derive(Debug)]
struct IssuedAt {
    at: Timestamp,
    user: Option<String>,
    upn: Option<String>,
    app: Option<String>,
}

/// Accumulates what [`CoverageReport`] needs in one pass over the records.
#[derive(Debug, Default)]
pub struct CoverageBuilder {
    options: CoverageOptions,
    times: BTreeMap<Family, Vec<Timestamp>>,
    duplicates: BTreeMap<Family, u64>,
    seen: Sightings,
    sign_in_fields: BTreeMap<SignInKind, SignInFields>,
    access_fields: BTreeMap<AccessSource, AccessFields>,
    issued: Issued,
    roots: FxHashSet<SessionId>,
    /// Delegated accesses per token id they carry: (all, those without their own session id).
    by_token: FxHashMap<TokenId, (u64, u64)>,
    /// Delegated accesses per session id they carry themselves.
    by_session: FxHashMap<SessionId, u64>,
    /// Per token that delegated accesses logged an issue time for: the earliest.
    token_issued_at: FxHashMap<TokenId, IssuedAt>,
    /// UPN (trimmed, lower case) -> the user object id a sign-in gave it.
    upn_to_id: FxHashMap<String, String>,
}

impl CoverageBuilder {
    /// A builder with `options`.
    pub fn new(options: CoverageOptions) -> Self {
        CoverageBuilder {
            options,
            ..CoverageBuilder::default()
        }
    }

    /// Add one sign-in row.
    pub fn add_sign_in(&mut self, s: &SignIn) {
        let family = Family::SignIn(s.kind);
        if let Some(id) = s.id.filter(|g| !g.is_placeholder()) {
            if !self.seen.first_sign_in(s.kind, id) {
                *self.duplicates.entry(family).or_default() += 1;
                return;
            }
        }
        self.times.entry(family).or_default().push(s.time);
        self.sign_in_fields.entry(s.kind).or_default().add(s);
        if let (Some(upn), Some(id)) = (folded(s.upn.as_deref()), folded(s.user_id.as_deref())) {
            // Looked up before it is owned: nearly every row names a user already known.
            if !self.upn_to_id.contains_key(&*upn) {
                self.upn_to_id.insert(upn.into_owned(), id.into_owned());
            }
        }
        // Failed sign-ins issue no token and establish no session: the engine ignores them
        // for linking, and so do the join rates.
        if !s.succeeded() {
            return;
        }
        if let Some(token) = s.issued_token() {
            self.issued
                .entry(token)
                .or_insert_with(|| (s.session_id.clone(), s.kind));
        }
        if matches!(s.kind, SignInKind::Interactive | SignInKind::UalLogon) {
            if let Some(sid) = &s.session_id {
                self.roots.insert(sid.clone());
            }
        }
    }

    /// Add one access record.
    pub fn add_access(&mut self, a: &Access) {
        let family = Family::Access(a.log);
        if let Some(id) = a
            .record_id
            .as_ref()
            .filter(|t| !tokentrail_model::ids::is_placeholder_text(t))
        {
            if !self.seen.first_access(a.log, id) {
                *self.duplicates.entry(family).or_default() += 1;
                return;
            }
        }
        self.times.entry(family).or_default().push(a.time);
        self.access_fields.entry(a.log).or_default().add(a);
        if !is_delegated(a) {
            return;
        }
        if let Some(token) = &a.token_id {
            let counts = self.by_token.entry(token.clone()).or_default();
            counts.0 += 1;
            if a.session_id.is_none() {
                counts.1 += 1;
            }
        }
        if let Some(sid) = &a.session_id {
            *self.by_session.entry(sid.clone()).or_default() += 1;
        }
        if let (Some(token), Some(at)) = (&a.token_id, a.token_issued_at) {
            // Built only when it is kept: most accesses repeat a token already seen, no earlier.
            let seen = || IssuedAt {
                at,
                user: key(a.user_id.as_deref()),
                upn: key(a.upn.as_deref()),
                app: key(a.app_id.as_deref()),
            };
            match self.token_issued_at.get_mut(token) {
                Some(e) if at < e.at => *e = seen(),
                Some(_) => {}
                None => {
                    self.token_issued_at.insert(token.clone(), seen());
                }
            }
        }
    }

    /// Compute the report.
    pub fn finish(self, run: RunInfo) -> CoverageReport {
        let CoverageBuilder {
            options,
            mut times,
            duplicates,
            sign_in_fields,
            access_fields,
            issued,
            roots,
            by_token,
            by_session,
            token_issued_at,
            upn_to_id,
            ..
        } = self;
        // The engine's coverage, built from the same evidence: every record's time, and the
        // tokens accesses logged an issue time for (see `tokentrail_engine::coverage`).
        let mut judged = tokentrail_engine::CoverageBuilder::new(options.gap_secs);
        if let Some((from, to)) = options.window {
            judged.window(from, to);
        }
        for (family, ts) in &times {
            for t in ts {
                judged.add(*family, *t);
            }
        }
        let catalog = Catalog::builtin();
        let mut users: FxHashMap<String, u64> = FxHashMap::default();
        for (n, (token, e)) in (0u64..).zip(&token_issued_at) {
            let found = issued.get(token).map(|(_, kind)| *kind);
            if found.is_none()
                && (matches!(token.0, Ident::Opaque(_))
                    || e.app.as_deref().is_some_and(|a| catalog.is_first_party(a)))
            {
                continue;
            }
            let user = e.user.clone().or_else(|| {
                e.upn
                    .as_ref()
                    .map(|u| upn_to_id.get(u).cloned().unwrap_or_else(|| u.clone()))
            });
            let Some(user) = user else { continue };
            let next = users.len() as u64;
            let user = *users.entry(user).or_insert(next);
            judged.token(e.at, user, n, found);
        }
        let judged = judged.build();
        let mut listed: Vec<(Family, &'static str)> = FAMILIES.to_vec();
        for optional in [TEAMS, DIRECTORY_AUDIT] {
            if times.contains_key(&optional.0) {
                listed.push(optional);
            }
        }
        let target_secs = i64::from(options.retention_target_days) * 86_400;
        let families = listed
            .into_iter()
            .map(|(family, name)| {
                let mut ts = times.remove(&family).unwrap_or_default();
                ts.sort_unstable();
                let mut row = family_row(family, name, &ts, &judged, target_secs);
                row.duplicates = duplicates.get(&family).copied().unwrap_or(0);
                match family {
                    Family::SignIn(kind) => {
                        row.sign_in_fields =
                            Some(sign_in_fields.get(&kind).copied().unwrap_or_default())
                    }
                    Family::Access(log) => {
                        row.access_fields =
                            Some(access_fields.get(&log).copied().unwrap_or_default())
                    }
                }
                row
            })
            .collect();

        let mut completeness = Completeness::default();
        for f in access_fields.values() {
            completeness.accesses.merge(f);
        }
        for kind in [SignInKind::Interactive, SignInKind::NonInteractive] {
            if let Some(f) = sign_in_fields.get(&kind) {
                completeness.sign_ins.merge(f);
            }
        }

        let mut joins = Joins::default();
        for (token, (all, without_session)) in &by_token {
            joins.token_to_sign_in.of += all;
            if let Some((session, _)) = issued.get(token) {
                joins.token_to_sign_in.count += all;
                // Accesses naming only their token inherit the issuing sign-in's session.
                if let Some(sid) = session {
                    joins.session_to_interactive_root.of += without_session;
                    if roots.contains(sid) {
                        joins.session_to_interactive_root.count += without_session;
                    }
                }
            }
        }
        for (sid, n) in &by_session {
            joins.session_to_interactive_root.of += n;
            if roots.contains(sid) {
                joins.session_to_interactive_root.count += n;
            }
        }

        let mut report = CoverageReport {
            run,
            retention_target_days: options.retention_target_days,
            gap_secs: options.gap_secs,
            window: judged.window,
            families,
            completeness,
            joins,
            rules: Vec::new(),
        };
        report.rules = verdict::judge(&report);
        report
    }
}

/// Trimmed, lower case, `None` when empty: how the engine keys users and clients.
fn key(s: Option<&str>) -> Option<String> {
    folded(s).map(Cow::into_owned)
}

fn family_row(
    family: Family,
    name: &'static str,
    ts: &[Timestamp],
    judged: &Coverage,
    target_secs: i64,
) -> FamilyCoverage {
    let covered = judged.covered_stretches(family);
    let first = ts.first().copied();
    let last = ts.last().copied();
    let span_secs = match (first, last) {
        (Some(f), Some(l)) => l.secs() - f.secs(),
        _ => 0,
    };
    let covered_secs = covered.iter().map(Stretch::secs).sum();
    let mut days: Vec<i64> = ts.iter().map(|t| t.secs().div_euclid(86_400)).collect();
    days.dedup();
    let gaps: Vec<Gap> = ts
        .windows(2)
        .filter_map(|w| match w {
            [a, b] => Some(Gap {
                from: *a,
                to: *b,
                secs: b.secs() - a.secs(),
            }),
            _ => None,
        })
        .collect();
    let median_interval_secs = {
        let mut secs: Vec<i64> = gaps.iter().map(|g| g.secs).collect();
        secs.sort_unstable();
        secs.get(secs.len() / 2).copied()
    };
    // The earliest of the longest gaps, so the choice does not depend on anything but times.
    let largest_gap = gaps
        .iter()
        .copied()
        .reduce(|best, g| if g.secs > best.secs { g } else { best });
    let (holes, quiet) = judged
        .family(family)
        .map_or((&[][..], &[][..]), |f| (&f.holes[..], &f.quiet[..]));
    FamilyCoverage {
        family,
        name,
        present: !ts.is_empty(),
        records: ts.len() as u64,
        duplicates: 0,
        first,
        last,
        span_secs,
        covered_secs,
        days_with_records: days.len() as u64,
        retention_met: !ts.is_empty() && span_secs >= target_secs,
        covered,
        median_interval_secs,
        largest_gap,
        hole_count: holes.len() as u64,
        holes: holes.iter().take(MAX_LISTED_GAPS).copied().collect(),
        quiet_count: quiet.len() as u64,
        quiet: quiet.iter().take(MAX_LISTED_GAPS).copied().collect(),
        sign_in_fields: None,
        access_fields: None,
    }
}
