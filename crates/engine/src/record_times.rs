//! Record times that cannot be right, found while records stream past, so that no baseline,
//! coverage span or inventory learns from them (a record dated 2099 would stretch a log's
//! coverage to 2099; one dated 1970 would open a 56-year hole).
//!
//! A record's time is implausible when it is
//! - before 2000 ([`EARLIEST_PLAUSIBLE`]): no Microsoft 365 log reaches back that far, so the
//!   time is a decoding accident (epoch zero, `0001-01-01`, milliseconds read as seconds);
//! - more than a day past the run's clock: a log cannot hold the future;
//! - more than a day past the newest record of its log (its [`Family`]). The newest record of a
//!   log is the newest one with company: at least [`SUPPORT`] records of the input (any log)
//!   within a day of it, so a lone stray time cannot make itself the end of its log, while a
//!   burst of activity after a quiet weekend can. A log needs [`MIN_LOG_RECORDS`] records
//!   before its end says anything: folders of samples years apart and hand-written cases are
//!   judged by the first two bounds only.
//!
//! The first two are decoding accidents and are kept out of everything. The third is only
//! reported ([`Implausible::keeps_out`]): an attacker's single refresh and mailbox read on a
//! Sunday night, after a weekend without a record, has no company either, and losing it would
//! cost more than a stray time stretching the export window.
//!
//! The answer for a record must not depend on the order records come in, yet a stream must be
//! able to pass most records on at once. [`RecordTimes::admit`] says [`Admission::Use`] only
//! for a record that no later record can make implausible (a log's end only moves forward as
//! records arrive), [`Admission::Hold`] for one that must wait for the whole input (a few per
//! quiet stretch), and [`RecordTimes::settle`] then decides the held ones by the same rule as
//! if every record had been seen first.

use std::collections::BTreeMap;
use std::fmt;

use rustc_hash::FxHashMap;
use tokentrail_model::Timestamp;

use crate::coverage::Family;

/// The earliest plausible record time.
pub const EARLIEST_PLAUSIBLE: Timestamp = Timestamp(946_684_800_000_000);

/// How far past the run's clock, or past the newest record of its log, a time may lie.
pub const SLACK_SECS: i64 = 86_400;

/// Records of the input (the record itself included) within a day of a record that make it
/// part of its log's activity rather than a stray time.
pub const SUPPORT: u32 = 3;

/// Records a log needs before a time past its newest record counts as implausible.
pub const MIN_LOG_RECORDS: u64 = 100;

const HOUR: i64 = 3600;
/// The support window, in hours each side (the hour buckets make it a day, give or take one).
const WINDOW_HOURS: i64 = SLACK_SECS / HOUR;

/// Why a record time cannot be right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Implausible {
    /// Before [`EARLIEST_PLAUSIBLE`].
    BeforeEarliest,
    /// More than [`SLACK_SECS`] past the run's clock.
    PastClock,
    /// More than [`SLACK_SECS`] past the newest record of its log, which is given.
    PastLogEnd(Timestamp),
}

impl Implausible {
    /// Whether the record is kept out of judging as well as baselines. A time before 2000 or
    /// in the future is a decoding accident; one past its log's end may be the log's last
    /// activity (one refresh and one mailbox read on a Sunday night), so it is only reported.
    pub fn keeps_out(self) -> bool {
        !matches!(self, Implausible::PastLogEnd(_))
    }
}

impl fmt::Display for Implausible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Implausible::BeforeEarliest => f.write_str("before 2000"),
            Implausible::PastClock => f.write_str("more than a day past the time of the run"),
            Implausible::PastLogEnd(end) => write!(
                f,
                "more than a day past the newest record of its log, {end}"
            ),
        }
    }
}

/// What to do with a record now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Use it: its time is plausible whatever comes later.
    Use,
    /// Keep it back until [`RecordTimes::settle`]: it lies past its log's newest record so far.
    Hold,
    /// Its time cannot be right, whatever comes later.
    SetAside(Implausible),
}

#[derive(Clone, Debug, Default)]
struct Log {
    /// Per hour (since the epoch): records, and the newest time among them. Hashed: every record
    /// lands here, the order is needed only when the end moves.
    hours: FxHashMap<i64, (u32, Timestamp)>,
    records: u64,
    /// The newest record with company found so far (it only moves forward).
    end: Option<Timestamp>,
}

/// See the module docs.
#[derive(Clone, Debug)]
pub struct RecordTimes {
    latest: Timestamp,
    /// Records of every log per hour.
    all: FxHashMap<i64, u32>,
    logs: BTreeMap<Family, Log>,
}

fn hour_of(t: Timestamp) -> i64 {
    t.secs().div_euclid(HOUR)
}

impl RecordTimes {
    /// Judge against the run's clock `now`.
    pub fn new(now: Timestamp) -> RecordTimes {
        RecordTimes {
            latest: now.plus_secs(SLACK_SECS),
            all: FxHashMap::default(),
            logs: BTreeMap::new(),
        }
    }

    fn fixed_bounds(&self, time: Timestamp) -> Option<Implausible> {
        if time < EARLIEST_PLAUSIBLE {
            Some(Implausible::BeforeEarliest)
        } else if time > self.latest {
            Some(Implausible::PastClock)
        } else {
            None
        }
    }

    /// Note a record of `log` at `time` and say what to do with it now.
    pub fn admit(&mut self, log: Family, time: Timestamp) -> Admission {
        if let Some(why) = self.fixed_bounds(time) {
            return Admission::SetAside(why);
        }
        let hour = hour_of(time);
        *self.all.entry(hour).or_default() += 1;
        let entry = self.logs.entry(log).or_default();
        entry.records += 1;
        let slot = entry.hours.entry(hour).or_insert((0, time));
        slot.0 += 1;
        slot.1 = slot.1.max(time);
        if self.within_end(log, time) {
            return Admission::Use;
        }
        self.raise_end(log);
        if self.within_end(log, time) {
            Admission::Use
        } else {
            Admission::Hold
        }
    }

    fn within_end(&self, log: Family, time: Timestamp) -> bool {
        self.logs
            .get(&log)
            .and_then(|l| l.end)
            .is_some_and(|end| time <= end.plus_secs(SLACK_SECS))
    }

    /// Records of the input within the support window of `hour`.
    fn company(&self, hour: i64) -> u32 {
        (hour - WINDOW_HOURS..=hour + WINDOW_HOURS)
            .filter_map(|h| self.all.get(&h))
            .sum()
    }

    /// Move `log`'s end to its newest record with company, looking down from its newest hour
    /// to the current end.
    fn raise_end(&mut self, log: Family) {
        let Some(l) = self.logs.get(&log) else {
            return;
        };
        let floor = l.end.map_or(i64::MIN, hour_of);
        let mut above: Vec<(i64, Timestamp)> = l
            .hours
            .iter()
            .filter(|(hour, _)| **hour >= floor)
            .map(|(hour, (_, newest))| (*hour, *newest))
            .collect();
        above.sort_unstable_by(|a, b| b.cmp(a));
        let found = above
            .into_iter()
            .find(|(hour, _)| self.company(*hour) >= SUPPORT)
            .map(|(_, newest)| newest);
        if let (Some(found), Some(l)) = (found, self.logs.get_mut(&log)) {
            l.end = Some(l.end.map_or(found, |e| e.max(found)));
        }
    }

    /// Settle every log's end once the whole input has been seen: from then on
    /// [`RecordTimes::judge`] gives the final answer for any record.
    pub fn settle(&mut self) {
        let logs: Vec<Family> = self.logs.keys().copied().collect();
        for log in logs {
            self.raise_end(log);
        }
    }

    /// Why a record of `log` at `time` cannot be right, judged against everything seen (after
    /// [`RecordTimes::settle`], the final answer); `None` when it is plausible.
    pub fn judge(&self, log: Family, time: Timestamp) -> Option<Implausible> {
        if let Some(why) = self.fixed_bounds(time) {
            return Some(why);
        }
        let l = self.logs.get(&log)?;
        let end = l.end?;
        (l.records >= MIN_LOG_RECORDS && time > end.plus_secs(SLACK_SECS))
            .then_some(Implausible::PastLogEnd(end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokentrail_model::{AccessSource, SignInKind};

    const SIGN_INS: Family = Family::SignIn(SignInKind::NonInteractive);
    const GRAPH: Family = Family::Access(AccessSource::GraphActivity);

    fn t(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    /// Two weeks of a sign-in log, one record every 20 minutes on weekdays 07:00-19:00.
    fn office_log() -> Vec<Timestamp> {
        let monday = t("2024-03-04T07:00:00Z");
        (0..14)
            .filter(|d| d % 7 < 5)
            .flat_map(|d| (0..36).map(move |i| monday.plus_secs(d * 86_400 + i * 1200)))
            .collect()
    }

    /// Feed `records` in order, settle, and give the implausible ones (held or set aside).
    fn run(records: &[(Family, Timestamp)]) -> Vec<(Timestamp, Implausible)> {
        let mut times = RecordTimes::new(t("2026-12-04T00:00:00Z"));
        let mut out = Vec::new();
        let mut held = Vec::new();
        for &(log, time) in records {
            match times.admit(log, time) {
                Admission::Use => {}
                Admission::Hold => held.push((log, time)),
                Admission::SetAside(why) => out.push((time, why)),
            }
        }
        times.settle();
        for (log, time) in held {
            if let Some(why) = times.judge(log, time) {
                out.push((time, why));
            }
        }
        // Whatever was used is plausible by the final rule too.
        for &(log, time) in records {
            if !out.iter().any(|(t, _)| *t == time) {
                assert_eq!(times.judge(log, time), None, "{time}");
            }
        }
        out.sort_by_key(|(t, _)| *t);
        out
    }

    #[test]
    fn stray_times_are_implausible_in_any_order() {
        let mut records: Vec<(Family, Timestamp)> =
            office_log().into_iter().map(|t| (SIGN_INS, t)).collect();
        let end = t("2024-03-15T18:40:00Z");
        assert_eq!(records.last().map(|r| r.1), Some(end));
        records.push((SIGN_INS, t("1970-01-01T00:00:00Z")));
        records.push((SIGN_INS, t("2099-12-31T00:00:00Z")));
        // Months after the export, before the clock: alone, so past the log's end.
        records.push((SIGN_INS, t("2024-06-01T12:00:00Z")));
        let expected = vec![
            (t("1970-01-01T00:00:00Z"), Implausible::BeforeEarliest),
            (t("2024-06-01T12:00:00Z"), Implausible::PastLogEnd(end)),
            (t("2099-12-31T00:00:00Z"), Implausible::PastClock),
        ];
        assert_eq!(run(&records), expected);
        records.reverse();
        assert_eq!(run(&records), expected);
        records.sort_by_key(|r| (r.1.secs() * 7919) % 1_000_003);
        assert_eq!(run(&records), expected);
    }

    #[test]
    fn a_burst_after_a_quiet_weekend_is_the_log_moving_on() {
        let mut records: Vec<(Family, Timestamp)> =
            office_log().into_iter().map(|t| (SIGN_INS, t)).collect();
        // Sunday night, two days after the last record: an attacker's refresh, alone in its
        // log, with the accesses it made in another.
        let sunday = t("2024-03-17T23:00:00Z");
        records.push((SIGN_INS, sunday));
        records.push((GRAPH, sunday.plus_secs(60)));
        records.push((GRAPH, sunday.plus_secs(120)));
        assert_eq!(run(&records), vec![]);
        records.reverse();
        assert_eq!(run(&records), vec![]);
    }

    #[test]
    fn small_inputs_are_judged_by_the_fixed_bounds_only() {
        // Samples years apart: no log end says anything.
        let records = [
            (SIGN_INS, t("2019-05-01T10:00:00Z")),
            (SIGN_INS, t("2019-05-01T10:01:00Z")),
            (SIGN_INS, t("2019-05-01T10:02:00Z")),
            (SIGN_INS, t("2023-09-20T04:05:03Z")),
        ];
        assert_eq!(run(&records), vec![]);
    }
}
