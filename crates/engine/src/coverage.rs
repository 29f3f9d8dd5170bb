//! Coverage: the time spans for which each log family is present in the input.
//!
//! Records of one family are sorted by time and merged into spans; a span ends where the next
//! record of that family is further away than the family's gap threshold. The threshold is the
//! larger of the configured minimum (six hours by default:
//! [`crate::Thresholds::coverage_gap_secs`]) and the time in which the family, at its own
//! average rate over the input, writes [`EXPECTED_RECORDS_IN_HOLE`] records, capped at
//! [`MAX_RATE_GAP_SECS`]. A large tenant
//! writes sign-in rows every few minutes, so a quiet stretch of several hours means the export
//! has a hole; a tenant of six people may sign in interactively a dozen times a day, and a quiet
//! night is not a hole there.
//!
//! Exports cover one window for every log, so the quiet stretch before a family's first record
//! and after its last one, inside the window all the input spans, is treated like any other
//! quiet stretch: up to the family's gap threshold it is covered. A family whose records stop
//! hours before the others is thus covered only up to its threshold past its last record.
//! A rule that concludes "absent" (no sign-in, no interactive root) asks coverage first; outside
//! it the answer is "unknown" and is counted, not alerted.

use std::collections::BTreeMap;
use std::fmt;

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

impl Serialize for Family {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One stretch of time a family covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Span {
    /// First record.
    pub start: Timestamp,
    /// Last record.
    pub end: Timestamp,
    /// Records inside.
    pub records: u64,
}

/// A quiet stretch counts as a hole in a family's log only when the family, at its average rate,
/// would have written at least this many records in it (the chance of a Poisson stream of that
/// rate staying silent that long is below one in four hundred million).
pub const EXPECTED_RECORDS_IN_HOLE: i64 = 20;

/// The rate-based threshold never exceeds two days: a log silent for longer is not covering,
/// however sparse it is (a folder of sample records years apart must not read as years of
/// coverage).
pub const MAX_RATE_GAP_SECS: i64 = 48 * 3600;

/// Coverage of every family seen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// The smallest gap (seconds) that splits a family's records into separate spans.
    pub gap_secs: i64,
    /// The gap actually used per family (see the module docs).
    pub family_gap_secs: BTreeMap<Family, i64>,
    /// Spans per family, in time order.
    pub families: BTreeMap<Family, Vec<Span>>,
}

impl Coverage {
    /// Build from (family, time) pairs in any order.
    pub fn build(records: impl IntoIterator<Item = (Family, Timestamp)>, gap_secs: i64) -> Self {
        let mut b = CoverageBuilder::new(gap_secs);
        for (family, t) in records {
            b.add(family, t);
        }
        b.build()
    }

    /// The spans of `family` (empty when it is absent).
    pub fn spans(&self, family: Family) -> &[Span] {
        self.families.get(&family).map_or(&[], Vec::as_slice)
    }

    /// True when one span of `family` holds the whole of `[from, to]`.
    pub fn covers(&self, family: Family, from: Timestamp, to: Timestamp) -> bool {
        let (from, to) = if from <= to { (from, to) } else { (to, from) };
        self.spans(family)
            .iter()
            .any(|s| s.start <= from && to <= s.end)
    }
}

/// The gap threshold of one family given its record count and first and last times.
fn family_gap(count: u64, first: Timestamp, last: Timestamp, min_gap_secs: i64) -> i64 {
    let intervals = i64::try_from(count.saturating_sub(1)).unwrap_or(i64::MAX);
    if intervals == 0 {
        return min_gap_secs;
    }
    let mean_interval = (last.secs() - first.secs()) / intervals;
    min_gap_secs.max(
        mean_interval
            .saturating_mul(EXPECTED_RECORDS_IN_HOLE)
            .min(MAX_RATE_GAP_SECS),
    )
}

/// Records of one family that fall in one bucket of time.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    first: Timestamp,
    last: Timestamp,
    records: u64,
}

/// Coverage learned one record at a time, in any order, in memory that grows with the time the
/// input spans, not with its records.
///
/// Time is cut into buckets as wide as the smallest gap that can split a span (the configured
/// minimum): two records of one bucket are never split, so a bucket only needs its first and
/// last record and a count, and spans come out exactly as if every time had been kept and
/// sorted.
#[derive(Clone, Debug)]
pub struct CoverageBuilder {
    gap_secs: i64,
    /// Bucket width in microseconds.
    width: i64,
    families: BTreeMap<Family, BTreeMap<i64, Bucket>>,
    window: Option<(Timestamp, Timestamp)>,
}

impl CoverageBuilder {
    /// An empty builder; `gap_secs` is the smallest gap that splits a span.
    pub fn new(gap_secs: i64) -> Self {
        CoverageBuilder {
            gap_secs,
            // A gap under a second can split records a microsecond apart.
            width: if gap_secs >= 1 {
                gap_secs.saturating_mul(1_000_000)
            } else {
                1
            },
            families: BTreeMap::new(),
            window: None,
        }
    }

    /// One record of `family` at `t`.
    pub fn add(&mut self, family: Family, t: Timestamp) {
        self.see(t);
        let b = self
            .families
            .entry(family)
            .or_default()
            .entry(t.micros().div_euclid(self.width))
            .or_insert(Bucket {
                first: t,
                last: t,
                records: 0,
            });
        b.first = b.first.min(t);
        b.last = b.last.max(t);
        b.records += 1;
    }

    /// A time some record of the input has, whatever its family: the window every family's
    /// coverage is clamped to (see the module docs).
    pub fn see(&mut self, t: Timestamp) {
        self.window = Some(match self.window {
            None => (t, t),
            Some((a, b)) => (a.min(t), b.max(t)),
        });
    }

    /// The coverage of everything added so far.
    pub fn build(&self) -> Coverage {
        let mut family_gap_secs = BTreeMap::new();
        let mut families = BTreeMap::new();
        for (family, buckets) in &self.families {
            let (Some(first), Some(last)) = (buckets.values().next(), buckets.values().last())
            else {
                continue;
            };
            let count = buckets.values().map(|b| b.records).sum();
            let gap = family_gap(count, first.first, last.last, self.gap_secs);
            family_gap_secs.insert(*family, gap);
            let mut spans: Vec<Span> = Vec::new();
            for b in buckets.values() {
                match spans.last_mut() {
                    Some(s) if b.first <= s.end.plus_secs(gap) => {
                        s.end = b.last;
                        s.records += b.records;
                    }
                    _ => spans.push(Span {
                        start: b.first,
                        end: b.last,
                        records: b.records,
                    }),
                }
            }
            if let Some((window_start, window_end)) = self.window {
                if let Some(first) = spans.first_mut() {
                    first.start = first.start.plus_secs(-gap).max(window_start);
                }
                if let Some(last) = spans.last_mut() {
                    last.end = last.end.plus_secs(gap).min(window_end);
                }
            }
            families.insert(*family, spans);
        }
        Coverage {
            gap_secs: self.gap_secs,
            family_gap_secs,
            families,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_split_at_large_gaps() {
        let i = Family::SignIn(SignInKind::Interactive);
        let t = |h: i64| Timestamp::from_secs(h * 3600);
        // A busy first three hours (one sign-in a minute) keep the threshold at the 6 h minimum.
        let busy = (0..=180).map(|m| (i, Timestamp::from_secs(m * 60)));
        let cov = Coverage::build(busy.chain([(i, t(10)), (i, t(20))]), 6 * 3600);
        // The last record is the end of the whole input, so nothing is added past it.
        assert_eq!(
            cov.spans(i),
            &[
                Span {
                    start: t(0),
                    end: t(3),
                    records: 181
                },
                Span {
                    start: t(10),
                    end: t(10),
                    records: 1
                },
                Span {
                    start: t(20),
                    end: t(20),
                    records: 1
                },
            ]
        );
        assert!(cov.covers(i, t(1), t(2)));
        assert!(!cov.covers(i, t(2), t(10)));
        assert!(!cov.covers(Family::Access(AccessSource::GraphActivity), t(1), t(1)));
        assert_eq!(i.to_string(), "sign-in:interactive");
    }

    #[test]
    fn a_sparse_family_tolerates_longer_quiet_stretches() {
        let i = Family::SignIn(SignInKind::Interactive);
        let n = Family::SignIn(SignInKind::NonInteractive);
        let t = |m: i64| Timestamp::from_secs(m * 60);
        // Interactive: 5 sign-ins over 40 h (mean interval 10 h) -> 200 h, capped at 48 h:
        // one span.
        let sparse = [0, 600, 1200, 1800, 2400].map(|m| (i, t(m)));
        // Non-interactive: every 10 minutes for 10 h, then 8 h of silence, then more: the mean
        // interval is small, so the 6 h minimum applies and the silence is a hole.
        let dense = (0..60)
            .map(|k| (n, t(k * 10)))
            .chain((0..60).map(|k| (n, t(1080 + k * 10))));
        let cov = Coverage::build(sparse.into_iter().chain(dense), 6 * 3600);
        assert_eq!(cov.spans(i).len(), 1);
        assert_eq!(cov.family_gap_secs.get(&i), Some(&MAX_RATE_GAP_SECS));
        assert_eq!(cov.spans(n).len(), 2);
        assert_eq!(cov.family_gap_secs.get(&n), Some(&(6 * 3600)));
    }

    #[test]
    fn quiet_ends_inside_the_input_window_are_covered_up_to_the_threshold() {
        let i = Family::SignIn(SignInKind::Interactive);
        let g = Family::Access(AccessSource::GraphActivity);
        let t = |m: i64| Timestamp::from_secs(m * 60);
        // Graph activity spans 00:00 to 24:00; interactive sign-ins every minute from 08:00 to
        // 10:00 (threshold: the 6 h minimum).
        let graph = (0..=24).map(|h| (g, t(h * 60)));
        let interactive = (480..=600).map(|m| (i, t(m)));
        let cov = Coverage::build(graph.chain(interactive), 6 * 3600);
        assert_eq!(
            cov.spans(i),
            &[Span {
                start: t(120),
                end: t(960),
                records: 121
            }]
        );
        assert!(cov.covers(i, t(150), t(900)));
        assert!(!cov.covers(i, t(60), t(500)));
        assert!(!cov.covers(i, t(500), t(1000)));
    }

    #[test]
    fn sample_records_years_apart_are_not_years_of_coverage() {
        let i = Family::SignIn(SignInKind::Interactive);
        let day = |d: i64| Timestamp::from_secs(d * 86_400);
        let cov = Coverage::build([(i, day(0)), (i, day(400)), (i, day(800))], 6 * 3600);
        assert_eq!(cov.spans(i).len(), 3);
        assert!(!cov.covers(i, day(100), day(100)));
    }
}
