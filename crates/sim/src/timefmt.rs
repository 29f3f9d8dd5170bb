//! Time text in the shapes each export writes. Hand-written (days-from-civil) because it runs
//! once or twice per record and must never allocate more than the string it returns.

use std::fmt::Write as _;

use tokentrail_model::Timestamp;

/// Broken-down UTC time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Civil {
    pub(crate) year: i64,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
    pub(crate) micros: u32,
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
#[cfg(test)]
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(crate) fn civil(ts: Timestamp) -> Civil {
    let micros = ts.micros();
    let secs = micros.div_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: (sod / 3600) as u32,
        minute: ((sod % 3600) / 60) as u32,
        second: (sod % 60) as u32,
        micros: micros.rem_euclid(1_000_000) as u32,
    }
}

fn base(c: &Civil, sep: char) -> String {
    let mut s = String::with_capacity(34);
    let _ = write!(
        s,
        "{:04}-{:02}-{:02}{sep}{:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    );
    s
}

/// `2024-03-04T08:01:02.1234560Z`: Log Analytics and diagnostic-settings `time` (7 digits).
pub(crate) fn iso7(ts: Timestamp) -> String {
    let c = civil(ts);
    let mut s = base(&c, 'T');
    let _ = write!(s, ".{:06}0Z", c.micros);
    s
}

/// `2024-03-04T08:01:02.123456+00:00`: diagnostic-settings `createdDateTime`.
pub(crate) fn iso_offset(ts: Timestamp) -> String {
    let c = civil(ts);
    let mut s = base(&c, 'T');
    let _ = write!(s, ".{:06}+00:00", c.micros);
    s
}

/// `2024-03-04T08:01:02Z`: Graph API `createdDateTime`.
pub(crate) fn iso_z(ts: Timestamp) -> String {
    let mut s = base(&civil(ts), 'T');
    s.push('Z');
    s
}

/// `2024-03-04T08:01:02`: UAL `CreationTime` and `IssuedAtTime` (UTC, no zone).
pub(crate) fn ual(ts: Timestamp) -> String {
    base(&civil(ts), 'T')
}

/// `3/4/2024 8:01:02 AM`: the Purview portal export's `CreationDate`.
pub(crate) fn us_locale(ts: Timestamp) -> String {
    let c = civil(ts);
    let (h12, ampm) = match c.hour {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!(
        "{}/{}/{} {}:{:02}:{:02} {ampm}",
        c.month, c.day, c.year, h12, c.minute, c.second
    )
}

/// `2024-03-04`.
pub(crate) fn date(ts: Timestamp) -> String {
    let c = civil(ts);
    format!("{:04}-{:02}-{:02}", c.year, c.month, c.day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).expect("time")
    }

    #[test]
    fn shapes_match_the_exports_and_parse_back() {
        let t = at("2023-09-20T04:05:03.123456Z");
        assert_eq!(iso7(t), "2023-09-20T04:05:03.1234560Z");
        assert_eq!(iso_offset(t), "2023-09-20T04:05:03.123456+00:00");
        assert_eq!(iso_z(t), "2023-09-20T04:05:03Z");
        assert_eq!(ual(t), "2023-09-20T04:05:03");
        assert_eq!(us_locale(t), "9/20/2023 4:05:03 AM");
        assert_eq!(date(t), "2023-09-20");
        for text in [iso7(t), iso_offset(t)] {
            assert_eq!(Timestamp::parse(&text), Some(t));
        }
        assert_eq!(
            Timestamp::parse(&us_locale(t)),
            Some(at("2023-09-20T04:05:03Z"))
        );
    }

    #[test]
    fn noon_and_midnight_in_locale_text() {
        assert_eq!(
            us_locale(at("2024-02-29T00:00:00Z")),
            "2/29/2024 12:00:00 AM"
        );
        assert_eq!(
            us_locale(at("2024-12-31T12:30:00Z")),
            "12/31/2024 12:30:00 PM"
        );
        assert_eq!(
            us_locale(at("2024-12-31T23:59:59Z")),
            "12/31/2024 11:59:59 PM"
        );
    }

    #[test]
    fn civil_round_trips_over_many_days() {
        for day in -800..30_000i64 {
            let c = civil(Timestamp::from_secs(day * 86_400 + 3_723));
            assert_eq!(days_from_civil(c.year, c.month, c.day), day);
            assert_eq!((c.hour, c.minute, c.second), (1, 2, 3));
        }
    }
}
