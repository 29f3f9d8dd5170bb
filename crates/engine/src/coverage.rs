//! Coverage: for each log family, whether the input shows it was written over the export
//! window, judged on evidence rather than on silence.
//!
//! **The export window** is the span of the whole input (the first and last record of any
//! family), or the window the analyst gives (`--window FROM..TO`) when the query window is
//! known. **Every family present in the input covers the whole window**, unless there is
//! evidence that records of it are missing somewhere. A family is silent between two of its
//! records, and before its first and after its last one inside the window; such a silence is
//! judged, never assumed:
//!
//! - **A hole** (not covered: a rule that would conclude "absent" there answers "unknown") is a
//!   silence with evidence that records are missing:
//!   - *tokens nobody saw issued*: delegated accesses whose tokens were issued inside the
//!     silence (their logged `TokenIssuedAt`, `C_Iat`, `IssuedAtTime`), by at least
//!     [`HOLE_MIN_USERS`] different users, none found in any sign-in (a lost page or file of
//!     the sign-in log); Microsoft first-party clients, whose activity Microsoft documents may
//!     lack sign-in rows, do not count (unless the run reports them, see
//!     [`crate::Thresholds::orphan_first_party`]); or
//!   - *a rate far below the family's own*: at the family's own rate at the same hours of the
//!     week elsewhere in the window (the same weekday and hour in at least two other weeks;
//!     else the same hour on at least two other weekdays, or other weekend days), taking the
//!     least of them, at least [`EXPECTED_RECORDS_IN_HOLE`] records would have been written in
//!     the silence, and none were.
//!
//!   A token issued inside the silence that *is* found in the family proves the family was
//!   written there: no hole.
//! - **A quiet stretch** (covered) is a silence without such evidence that is long for the
//!   family: longer than the larger of [`crate::Thresholds::coverage_gap_secs`] (6 h) and the
//!   time in which the family, at its average rate over the input, writes
//!   [`EXPECTED_RECORDS_IN_HOLE`] records (never more than [`MAX_QUIET_SECS`]). A small office
//!   is quiet at night and at weekends, which is exactly when attackers act: a rule that
//!   concludes "absent" across a quiet stretch still fires, names the stretch in its evidence
//!   and lowers its confidence one step.
//!
//! Coverage is learned one record at a time in any order (a count per family and five-minute
//! bucket), so memory grows with the time the input spans, not with its records.

use std::collections::BTreeMap;
use std::fmt;

use rustc_hash::FxHashMap;

use serde::{Serialize, Serializer};
use tokentrail_model::{AccessSource, SignInKind, Timestamp};

/// A log family (sign-in kind, or access log) whose coverage is tracked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// One of the sign-in logs (or UAL logons).
    SignIn(SignInKind),
    /// Graph activity, or the UAL of one workload.
    Access(AccessSource),
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Family::SignIn(k) => write!(f, "sign-in:{}", k.as_str()),
            Family::Access(s) => write!(f, "access:{}", s.as_str()),
        }
    }
}

impl Family {
    /// The log in plain words (`interactive sign-in log`).
    pub fn describe(self) -> String {
        match self {
            Family::SignIn(SignInKind::UalLogon) => "UAL logon (UserLoggedIn) log".to_string(),
            Family::SignIn(k) => format!("{} sign-in log", k.as_str()),
            Family::Access(s) => format!("{} log", s.as_str()),
        }
    }
}

impl Serialize for Family {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A stretch of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Stretch {
    /// The last record before it (or the window's start).
    pub start: Timestamp,
    /// The first record after it (or the window's end).
    pub end: Timestamp,
}

impl Stretch {
    /// Its length in seconds.
    pub fn secs(&self) -> i64 {
        self.end.secs() - self.start.secs()
    }

    /// True when it shares time with `[from, to]` (silences are open: a record at either end
    /// is the family writing).
    pub fn overlaps(&self, from: Timestamp, to: Timestamp) -> bool {
        self.start < to && from < self.end
    }
}

impl fmt::Display for Stretch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {}", self.start, self.end)
    }
}

/// Why a silence is taken for missing records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct HoleEvidence {
    /// Tokens issued inside the silence that no sign-in issued, and the distinct users they
    /// belong to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmatched_tokens: Option<UnmatchedTokens>,
    /// The records the family, at its own rate at the same hours elsewhere, would have written
    /// there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_records: Option<u64>,
}

/// Tokens nobody saw issued inside a silence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct UnmatchedTokens {
    /// Distinct tokens.
    pub tokens: u64,
    /// Distinct users they belong to.
    pub users: u64,
}

impl fmt::Display for HoleEvidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(u) = self.unmatched_tokens {
            parts.push(format!(
                "{} token(s) of {} user(s) issued there and found in no sign-in",
                u.tokens, u.users
            ));
        }
        if let Some(n) = self.expected_records {
            parts.push(format!(
                "about {n} record(s) expected at the log's own rate at the same hours elsewhere, none written"
            ));
        }
        f.write_str(&parts.join("; "))
    }
}

/// A silence with evidence that records are missing: not covered.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Hole {
    /// When.
    #[serde(flatten)]
    pub stretch: Stretch,
    /// Why it is taken for missing records.
    pub evidence: HoleEvidence,
}

/// The coverage of one family.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FamilyCoverage {
    /// Records of it.
    pub records: u64,
    /// Its first record.
    pub first: Timestamp,
    /// Its last record.
    pub last: Timestamp,
    /// A silence longer than this (seconds) is a quiet stretch (see the module docs).
    pub quiet_after_secs: i64,
    /// Long silences without evidence of missing records: covered.
    pub quiet: Vec<Stretch>,
    /// Silences with evidence of missing records: not covered.
    pub holes: Vec<Hole>,
}

/// The export window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Window {
    /// Its start.
    pub start: Timestamp,
    /// Its end.
    pub end: Timestamp,
    /// True when the analyst gave it; otherwise it is the span of the input.
    pub given: bool,
}

/// A rule's question "did this family cover `[from, to]`?", answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Covered {
    /// No: the family is absent, the stretch leaves the window, or it meets a hole.
    No,
    /// Yes, with records around.
    Yes,
    /// Yes, but across this quiet stretch of the family (the first one it meets).
    Quiet(Stretch),
}

/// A quiet stretch counts as a hole by rate when the family, at its own rate at the same hours
/// elsewhere, would have written at least this many records in it (the chance of a Poisson
/// stream of that rate staying silent that long is below one in four hundred million). It is
/// also the number of records, at the family's average rate, that makes a silence long enough
/// to be called quiet.
pub const EXPECTED_RECORDS_IN_HOLE: i64 = 20;

/// A silence longer than this is always a quiet stretch, however sparse the family.
pub const MAX_QUIET_SECS: i64 = 48 * 3600;

/// Different users whose tokens, issued inside a silence, no sign-in issued: that many make the
/// silence a hole (one or two users' unknown tokens are a lead for TT004, not a lost export).
pub const HOLE_MIN_USERS: usize = 3;

/// Coverage is kept in buckets of this many seconds.
const BUCKET_SECS: i64 = 300;

/// Coverage of every family seen.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Coverage {
    /// The export window (`None` when the input is empty).
    pub window: Option<Window>,
    /// The shortest silence called quiet ([`crate::Thresholds::coverage_gap_secs`]).
    pub quiet_min_secs: i64,
    /// Per family present.
    pub families: BTreeMap<Family, FamilyCoverage>,
}

impl Coverage {
    /// Build from (family, time) pairs in any order, with no token evidence; the window is
    /// their span.
    pub fn build(records: impl IntoIterator<Item = (Family, Timestamp)>, quiet_secs: i64) -> Self {
        let mut b = CoverageBuilder::new(quiet_secs);
        for (family, t) in records {
            b.add(family, t);
        }
        b.build()
    }

    /// The coverage of `family`, when present.
    pub fn family(&self, family: Family) -> Option<&FamilyCoverage> {
        self.families.get(&family)
    }

    /// Does `family` cover `[from, to]`: present, the stretch inside the window, and no hole
    /// meeting it?
    pub fn covered(&self, family: Family, from: Timestamp, to: Timestamp) -> Covered {
        let (from, to) = if from <= to { (from, to) } else { (to, from) };
        let (Some(w), Some(f)) = (self.window, self.families.get(&family)) else {
            return Covered::No;
        };
        if from < w.start || to > w.end {
            return Covered::No;
        }
        if f.holes.iter().any(|h| h.stretch.overlaps(from, to)) {
            return Covered::No;
        }
        match f.quiet.iter().find(|q| q.overlaps(from, to)) {
            Some(q) => Covered::Quiet(*q),
            None => Covered::Yes,
        }
    }

    /// True when `family` covers `[from, to]` (quiet or not).
    pub fn covers(&self, family: Family, from: Timestamp, to: Timestamp) -> bool {
        self.covered(family, from, to) != Covered::No
    }

    /// The stretches `family` covers: the window less its holes (empty when absent).
    pub fn covered_stretches(&self, family: Family) -> Vec<Stretch> {
        let (Some(w), Some(f)) = (self.window, self.families.get(&family)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut start = w.start;
        for h in &f.holes {
            if h.stretch.start > start {
                out.push(Stretch {
                    start,
                    end: h.stretch.start,
                });
            }
            start = start.max(h.stretch.end);
        }
        if w.end > start {
            out.push(Stretch { start, end: w.end });
        }
        out
    }
}

/// Records of one family that fall in one bucket of time.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    first: Timestamp,
    last: Timestamp,
    records: u64,
}

/// A token an access used, with a logged issue time: the evidence a silence of the sign-in logs
/// is a hole (or is not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct IssuedToken {
    at: Timestamp,
    /// The sign-in family that issued it, when found.
    found: Option<SignInKind>,
    /// Any number, equal for equal users.
    user: u64,
    /// Any number, equal for equal tokens.
    token: u64,
}

/// Coverage learned one record at a time, in any order.
#[derive(Clone, Debug)]
pub struct CoverageBuilder {
    quiet_secs: i64,
    /// Per family, its buckets (hashed as records come; sorted when coverage is built).
    families: BTreeMap<Family, FxHashMap<i64, Bucket>>,
    seen: Option<(Timestamp, Timestamp)>,
    given: Option<(Timestamp, Timestamp)>,
    tokens: Vec<IssuedToken>,
    /// `tokens` is in order (see [`CoverageBuilder::build_in_place`]).
    tokens_sorted: bool,
}

impl CoverageBuilder {
    /// An empty builder; `quiet_secs` is the shortest silence called quiet.
    pub fn new(quiet_secs: i64) -> Self {
        CoverageBuilder {
            quiet_secs,
            families: BTreeMap::new(),
            seen: None,
            given: None,
            tokens: Vec::new(),
            tokens_sorted: true,
        }
    }

    /// The export window the analyst knows (instead of the span of the input).
    pub fn window(&mut self, from: Timestamp, to: Timestamp) {
        self.given = Some(if from <= to { (from, to) } else { (to, from) });
    }

    /// One record of `family` at `t`.
    pub fn add(&mut self, family: Family, t: Timestamp) {
        self.see(t);
        let b = self
            .families
            .entry(family)
            .or_default()
            .entry(t.secs().div_euclid(BUCKET_SECS))
            .or_insert(Bucket {
                first: t,
                last: t,
                records: 0,
            });
        b.first = b.first.min(t);
        b.last = b.last.max(t);
        b.records += 1;
    }

    /// A time some record of the input has, whatever its family: the window reaches it.
    pub fn see(&mut self, t: Timestamp) {
        self.seen = Some(match self.seen {
            None => (t, t),
            Some((a, b)) => (a.min(t), b.max(t)),
        });
    }

    /// A token a delegated access used, issued at `at` (as the access logs it) to `user`;
    /// `found` is the kind of the sign-in that issued it, `None` when no sign-in did. Leave out
    /// tokens that may lawfully lack a sign-in row (first-party clients) and placeholder ids.
    /// `user` and `token` are any numbers equal for equal users and tokens.
    ///
    /// Add the sign-ins first: a token is evidence only when issued inside a silence of a log
    /// that issues user tokens, so one issued within a bucket of records of both such logs is
    /// not kept (a month of a large tenant uses millions of tokens, and few fall in a
    /// silence). A bucket that covers `at` now covers it whatever records come later, also
    /// when builders of a tenant's partitions are added together.
    pub fn token(&mut self, at: Timestamp, user: u64, token: u64, found: Option<SignInKind>) {
        let bucket = at.secs().div_euclid(BUCKET_SECS);
        let covered = |kind: SignInKind| {
            self.families
                .get(&Family::SignIn(kind))
                .and_then(|buckets| buckets.get(&bucket))
                .is_some_and(|b| b.first <= at && at <= b.last)
        };
        if covered(SignInKind::Interactive) && covered(SignInKind::NonInteractive) {
            return;
        }
        self.tokens_sorted = false;
        self.tokens.push(IssuedToken {
            at,
            found,
            user,
            token,
        });
    }

    /// Add what another builder learned (another partition of the same tenant's users, with
    /// the same silence length).
    pub fn add_builder(&mut self, other: CoverageBuilder) {
        let CoverageBuilder {
            quiet_secs: _,
            families,
            seen,
            given,
            mut tokens,
            tokens_sorted: _,
        } = other;
        for (family, buckets) in families {
            let mine = self.families.entry(family).or_default();
            for (k, b) in buckets {
                mine.entry(k)
                    .and_modify(|m| {
                        m.first = m.first.min(b.first);
                        m.last = m.last.max(b.last);
                        m.records += b.records;
                    })
                    .or_insert(b);
            }
        }
        if let Some((a, b)) = seen {
            self.see(a);
            self.see(b);
        }
        if self.given.is_none() {
            self.given = given;
        }
        if !tokens.is_empty() {
            self.tokens.append(&mut tokens);
            self.tokens_sorted = false;
        }
    }

    /// The coverage of everything added so far.
    pub fn build(&self) -> Coverage {
        if self.tokens_sorted {
            return self.judge_all(&self.tokens);
        }
        let mut tokens = self.tokens.clone();
        tokens.sort_unstable();
        self.judge_all(&tokens)
    }

    /// [`CoverageBuilder::build`], putting the tokens in order where they are: a builder built
    /// more than once (the engine's, before and after the accesses) neither copies nor sorts
    /// them again.
    pub fn build_in_place(&mut self) -> Coverage {
        if !self.tokens_sorted {
            self.tokens.sort_unstable();
            self.tokens_sorted = true;
        }
        self.judge_all(&self.tokens)
    }

    fn judge_all(&self, tokens: &[IssuedToken]) -> Coverage {
        let window = match (self.given, self.seen) {
            (Some((start, end)), _) => Some(Window {
                start,
                end,
                given: true,
            }),
            (None, Some((start, end))) => Some(Window {
                start,
                end,
                given: false,
            }),
            (None, None) => None,
        };
        let families = match window {
            Some(w) => self
                .families
                .iter()
                .filter_map(|(family, buckets)| {
                    let sorted: BTreeMap<i64, Bucket> =
                        buckets.iter().map(|(k, b)| (*k, *b)).collect();
                    Some((
                        *family,
                        judge(*family, &sorted, w, tokens, self.quiet_secs)?,
                    ))
                })
                .collect(),
            None => BTreeMap::new(),
        };
        Coverage {
            window,
            quiet_min_secs: self.quiet_secs,
            families,
        }
    }
}

/// The silences of one family inside the window, each judged.
fn judge(
    family: Family,
    buckets: &BTreeMap<i64, Bucket>,
    w: Window,
    tokens: &[IssuedToken],
    quiet_secs: i64,
) -> Option<FamilyCoverage> {
    let first = buckets.values().next()?.first;
    let last = buckets.values().last()?.last;
    let records: u64 = buckets.values().map(|b| b.records).sum();
    let quiet_after_secs = quiet_after(records, first, last, quiet_secs);
    let rate = Rate::new(buckets, w);
    // Orphan-token evidence speaks for the logs that issue user tokens.
    let token_family = match family {
        Family::SignIn(k @ (SignInKind::Interactive | SignInKind::NonInteractive)) => Some(k),
        _ => None,
    };
    let mut silences = Vec::new();
    if first > w.start {
        silences.push(Stretch {
            start: w.start,
            end: first,
        });
    }
    let mut prev: Option<Timestamp> = None;
    for b in buckets.values() {
        if let Some(p) = prev {
            if b.first > p {
                silences.push(Stretch {
                    start: p,
                    end: b.first,
                });
            }
        }
        prev = Some(b.last);
    }
    if w.end > last {
        silences.push(Stretch {
            start: last,
            end: w.end,
        });
    }
    let mut quiet = Vec::new();
    let mut holes = Vec::new();
    for s in silences {
        if s.secs() <= 0 {
            continue;
        }
        let mut evidence = HoleEvidence::default();
        let mut proven = false;
        if let Some(kind) = token_family {
            let lo = tokens.partition_point(|t| t.at <= s.start);
            let hi = tokens.partition_point(|t| t.at < s.end);
            let inside = tokens.get(lo..hi).unwrap_or_default();
            proven = inside.iter().any(|t| t.found == Some(kind));
            let mut users: Vec<u64> = Vec::new();
            let mut unmatched: Vec<u64> = Vec::new();
            for t in inside.iter().filter(|t| t.found.is_none()) {
                users.push(t.user);
                unmatched.push(t.token);
            }
            users.sort_unstable();
            users.dedup();
            unmatched.sort_unstable();
            unmatched.dedup();
            if users.len() >= HOLE_MIN_USERS {
                evidence.unmatched_tokens = Some(UnmatchedTokens {
                    tokens: unmatched.len() as u64,
                    users: users.len() as u64,
                });
            }
        }
        if !proven {
            let expected = rate.expected(s);
            if expected >= EXPECTED_RECORDS_IN_HOLE as f64 {
                evidence.expected_records = Some(expected.round() as u64);
            }
        }
        if !proven && (evidence.unmatched_tokens.is_some() || evidence.expected_records.is_some()) {
            holes.push(Hole {
                stretch: s,
                evidence,
            });
        } else if s.secs() > quiet_after_secs {
            quiet.push(s);
        }
    }
    Some(FamilyCoverage {
        records,
        first,
        last,
        quiet_after_secs,
        quiet,
        holes,
    })
}

/// The silence after which a family is quiet: the configured minimum, or the time the family
/// writes [`EXPECTED_RECORDS_IN_HOLE`] records at its average rate, capped at
/// [`MAX_QUIET_SECS`].
fn quiet_after(records: u64, first: Timestamp, last: Timestamp, min_secs: i64) -> i64 {
    let intervals = i64::try_from(records.saturating_sub(1)).unwrap_or(i64::MAX);
    if intervals == 0 {
        return min_secs;
    }
    let mean_interval = (last.secs() - first.secs()) / intervals;
    min_secs.max(
        mean_interval
            .saturating_mul(EXPECTED_RECORDS_IN_HOLE)
            .min(MAX_QUIET_SECS),
    )
}

const HOUR: i64 = 3600;
const WEEK_HOURS: i64 = 7 * 24;

/// Hours like a silent one needed before the family's rate there is known.
const MIN_LIKE_HOURS: usize = 2;

/// A family's records in time, to compare a silence with the same hours elsewhere.
struct Rate<'b> {
    buckets: &'b BTreeMap<i64, Bucket>,
    /// The hours wholly inside the window.
    first_hour: i64,
    last_hour: i64,
}

impl<'b> Rate<'b> {
    fn new(buckets: &'b BTreeMap<i64, Bucket>, w: Window) -> Rate<'b> {
        Rate {
            buckets,
            first_hour: (w.start.secs() + HOUR - 1).div_euclid(HOUR),
            last_hour: w.end.secs().div_euclid(HOUR) - 1,
        }
    }

    /// Records the family would have written in `s` at its own rate at the same hours
    /// elsewhere in the window: each hour's part of the silence is laid over the same part of
    /// the hours like it (so a silence the family keeps every night at that minute expects
    /// nothing), and the least count found there is taken, so that one busy evening elsewhere
    /// makes no quiet evening a hole.
    fn expected(&self, s: Stretch) -> f64 {
        if self.last_hour < self.first_hour {
            return 0.0;
        }
        let (a, b) = (s.start.secs(), s.end.secs());
        let mut total = 0.0;
        let mut h = a.div_euclid(HOUR);
        while h * HOUR < b {
            let part = (a.max(h * HOUR), b.min((h + 1) * HOUR));
            let inside_silence = |x: i64| x * HOUR < b && a < (x + 1) * HOUR;
            total += self.usual(h, part, &inside_silence);
            h += 1;
        }
        total
    }

    /// The least count, over the hours like `h` (the same hour of the week in other weeks;
    /// with fewer than [`MIN_LIKE_HOURS`] of those, the same hour of the day on other days of
    /// the same kind, weekday or weekend) other than those in `skip`, of the records in `part`
    /// of the hour moved to that hour. Nothing is expected where fewer than
    /// [`MIN_LIKE_HOURS`] hours are like it: one other day does not make a rate.
    fn usual(&self, h: i64, part: (i64, i64), skip: &dyn Fn(i64) -> bool) -> f64 {
        let least_of = |step: i64, keep: &dyn Fn(i64) -> bool| -> Option<f64> {
            let mut n = 0usize;
            let mut least = f64::INFINITY;
            let mut x = h - (h - self.first_hour).div_euclid(step) * step;
            while x <= self.last_hour {
                if x != h && !skip(x) && keep(x) {
                    let shift = (x - h) * HOUR;
                    n += 1;
                    least = least.min(self.count(part.0 + shift, part.1 + shift));
                }
                x += step;
            }
            (n >= MIN_LIKE_HOURS).then_some(least)
        };
        let weekend = |x: i64| (x.div_euclid(24) + 3).rem_euclid(7) >= 5;
        least_of(WEEK_HOURS, &|_| true)
            .or_else(|| least_of(24, &|x| weekend(x) == weekend(h)))
            .unwrap_or(0.0)
    }

    /// Records in `[a, b)` (seconds): whole buckets, and the share of a bucket's records that
    /// its first-to-last span puts inside.
    fn count(&self, a: i64, b: i64) -> f64 {
        let range = a.div_euclid(BUCKET_SECS)..=b.div_euclid(BUCKET_SECS);
        self.buckets
            .range(range)
            .map(|(_, k)| {
                let (f, l) = (k.first.secs(), k.last.secs());
                if a <= f && l < b {
                    k.records as f64
                } else if l == f {
                    0.0
                } else {
                    let overlap = (l.min(b) - f.max(a)).max(0) as f64;
                    k.records as f64 * overlap / (l - f) as f64
                }
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const I: Family = Family::SignIn(SignInKind::Interactive);
    const N: Family = Family::SignIn(SignInKind::NonInteractive);
    const G: Family = Family::Access(AccessSource::GraphActivity);

    /// Midnight UTC of 2024-03-04, a Monday, plus `secs`.
    fn t(secs: i64) -> Timestamp {
        Timestamp::from_secs(1_709_510_400 + secs)
    }

    /// Hour `h` after that Monday's midnight.
    fn hour(h: i64) -> Timestamp {
        t(h * 3600)
    }

    /// `per_hour` records, evenly spread, in each of the hours `[from, to)` of every day in
    /// `days`.
    fn office_hours(
        family: Family,
        days: &[i64],
        from: i64,
        to: i64,
        per_hour: i64,
    ) -> Vec<(Family, Timestamp)> {
        let mut out = Vec::new();
        for d in days {
            for h in from..to {
                for k in 0..per_hour {
                    out.push((family, t((d * 24 + h) * 3600 + k * 3600 / per_hour)));
                }
            }
        }
        out
    }

    #[test]
    fn a_small_office_is_quiet_at_night_and_at_weekends_not_missing() {
        // Two weeks of weekday office hours (08:00-18:00, four sign-ins an hour), nothing at
        // night or at weekends; Graph activity around the clock sets the window.
        let weekdays: Vec<i64> = (0..14).filter(|d| d % 7 < 5).collect();
        let mut records = office_hours(I, &weekdays, 8, 18, 4);
        records.extend((0..14 * 24).map(|h| (G, hour(h))));
        let cov = Coverage::build(records, 6 * 3600);
        let f = cov.family(I).unwrap();
        assert_eq!(f.holes, vec![]);
        // 400 records over 273.75 h: twenty of them take 13.7 h, so every night (14.25 h) and
        // weekend is a quiet stretch, and the trailing one after the last Friday; the eight
        // hours before the first Monday morning are not.
        assert_eq!(f.quiet_after_secs, 985_500 / 399 * 20);
        assert_eq!(f.quiet.len(), 9 + 1, "{:#?}", f.quiet);
        assert_eq!(f.quiet[4].secs(), (62 * 60 + 15) * 60);
        // Saturday 03:00, with the 24 h before it, is covered across Thursday night's quiet
        // stretch.
        let saturday = hour(5 * 24 + 3);
        assert_eq!(
            cov.covered(I, saturday.plus_secs(-24 * 3600), saturday),
            Covered::Quiet(Stretch {
                start: t((3 * 24 + 17) * 3600 + 45 * 60),
                end: hour(4 * 24 + 8)
            })
        );
        // Tuesday noon is covered with records all around.
        assert_eq!(cov.covered(I, hour(24 + 11), hour(24 + 12)), Covered::Yes);
        // Outside the window, or for an absent family, nothing is covered.
        assert_eq!(cov.covered(I, hour(-1), hour(1)), Covered::No);
        assert_eq!(cov.covered(N, hour(1), hour(2)), Covered::No);
        assert_eq!(I.to_string(), "sign-in:interactive");
    }

    #[test]
    fn a_missing_day_of_a_busy_log_is_a_hole_by_rate() {
        // Non-interactive sign-ins every two minutes of two weeks, but the second Wednesday is
        // missing: the same hours of the first Wednesday say 720 records (and the two minutes
        // before midnight, empty every night, add nothing).
        let days: Vec<i64> = (0..14).filter(|d| *d != 9).collect();
        let cov = Coverage::build(office_hours(N, &days, 0, 24, 30), 6 * 3600);
        let f = cov.family(N).unwrap();
        let last_before = t(9 * 24 * 3600 - 120);
        assert_eq!(
            f.holes,
            vec![Hole {
                stretch: Stretch {
                    start: last_before,
                    end: hour(10 * 24)
                },
                evidence: HoleEvidence {
                    unmatched_tokens: None,
                    expected_records: Some(720),
                },
            }]
        );
        assert!(!cov.covers(N, hour(9 * 24 + 12), hour(9 * 24 + 12)));
        assert!(cov.covers(N, hour(8 * 24 + 12), hour(8 * 24 + 13)));
        assert_eq!(
            cov.covered_stretches(N),
            vec![
                Stretch {
                    start: hour(0),
                    end: last_before
                },
                Stretch {
                    start: hour(10 * 24),
                    end: t(14 * 24 * 3600 - 120)
                },
            ]
        );
    }

    #[test]
    fn tokens_of_several_users_nobody_issued_make_a_hole_and_one_found_disproves_it() {
        // Sparse non-interactive sign-ins: one an hour for three days, none from 01:00 to
        // 05:00 on the second night. The rate says nothing (four records expected).
        let mut b = CoverageBuilder::new(6 * 3600);
        for h in 0..72 {
            if !(24 + 2..24 + 5).contains(&h) {
                b.add(N, hour(h));
            }
        }
        let mut with_tokens = b.clone();
        for (user, token) in [(1, 10), (2, 20), (3, 30), (3, 31)] {
            with_tokens.token(t((24 + 2) * 3600 + 1800), user, token, None);
        }
        let cov = with_tokens.build();
        let f = cov.family(N).unwrap();
        assert_eq!(
            f.holes,
            vec![Hole {
                stretch: Stretch {
                    start: hour(25),
                    end: hour(29)
                },
                evidence: HoleEvidence {
                    unmatched_tokens: Some(UnmatchedTokens {
                        tokens: 4,
                        users: 3
                    }),
                    expected_records: None,
                },
            }]
        );
        assert_eq!(
            f.holes[0].evidence.to_string(),
            "4 token(s) of 3 user(s) issued there and found in no sign-in"
        );
        // Two users are a lead, not a lost page.
        let mut two = b.clone();
        two.token(hour(26), 1, 10, None);
        two.token(hour(26), 2, 20, None);
        assert_eq!(two.build().family(N).unwrap().holes, vec![]);
        // A token issued in the silence that the family did issue proves it was written.
        with_tokens.token(hour(26), 4, 40, Some(SignInKind::NonInteractive));
        assert_eq!(with_tokens.build().family(N).unwrap().holes, vec![]);
        // Found in another family proves nothing about this one.
        let mut other = b.clone();
        for (user, token) in [(1, 10), (2, 20), (3, 30)] {
            other.token(hour(26), user, token, None);
        }
        other.token(hour(26), 4, 40, Some(SignInKind::Interactive));
        assert_eq!(other.build().family(N).unwrap().holes.len(), 1);
    }

    #[test]
    fn a_given_window_reaches_beyond_the_records() {
        let mut b = CoverageBuilder::new(6 * 3600);
        for h in 10..20 {
            b.add(I, hour(h));
        }
        assert_eq!(
            b.build().window.map(|w| (w.start, w.given)),
            Some((hour(10), false))
        );
        b.window(hour(0), hour(30));
        let cov = b.build();
        assert_eq!(
            cov.window,
            Some(Window {
                start: hour(0),
                end: hour(30),
                given: true
            })
        );
        // The ten hours before the first record: no evidence of a hole, so covered (and not
        // even quiet: ten records in nine hours make twenty hours of silence ordinary).
        assert_eq!(cov.covered(I, hour(1), hour(2)), Covered::Yes);
        assert_eq!(cov.family(I).map(|f| f.quiet_after_secs), Some(20 * 3600));
        assert_eq!(cov.covered(I, hour(-1), hour(2)), Covered::No);
    }

    #[test]
    fn sample_records_years_apart_are_quiet_not_missing() {
        let day = |d: i64| Timestamp::from_secs(d * 86_400);
        let cov = Coverage::build([(I, day(0)), (I, day(400)), (I, day(800))], 6 * 3600);
        let f = cov.family(I).unwrap();
        assert_eq!(f.holes, vec![]);
        assert_eq!(f.quiet.len(), 2);
        assert_eq!(f.quiet_after_secs, MAX_QUIET_SECS);
        assert!(matches!(
            cov.covered(I, day(100), day(100)),
            Covered::Quiet(_)
        ));
    }
}
