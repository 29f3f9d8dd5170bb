//! UTC timestamps with microsecond precision, and the parsers for every time format the
//! exports use.
//!
//! Exports disagree on time text: ISO 8601 with `Z` or an offset (sign-in logs, Graph), ISO
//! without a zone (UAL `CreationTime`, which is UTC), ISO with a space instead of `T` (Panther,
//! some CSVs), ISO with a trailing space (Purview), and US locale text (`9/20/2023 4:05:03 AM`,
//! Purview and Log Analytics CSV, also with a comma after the date). All are read as UTC unless
//! an explicit offset says otherwise. Epoch seconds appear in raw claims (`C_Iat`). Windows
//! PowerShell 5.1's `ConvertTo-Json` writes a `DateTime` as `\/Date(1764583200000)\/`
//! (milliseconds since the epoch, UTC; after JSON unescaping `/Date(1764583200000)/`), and a
//! `DateTimeOffset` or a local `DateTime` with an offset suffix, `/Date(1764583200000+0100)/`,
//! whose number is still UTC milliseconds (the .NET `DataContractJsonSerializer` format).

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time, microseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

const MICROS_PER_SEC: i64 = 1_000_000;

impl Timestamp {
    /// From whole seconds since the epoch.
    pub fn from_secs(secs: i64) -> Self {
        Timestamp(secs.saturating_mul(MICROS_PER_SEC))
    }

    /// Whole seconds since the epoch (floor).
    pub fn secs(self) -> i64 {
        self.0.div_euclid(MICROS_PER_SEC)
    }

    /// Microseconds since the epoch.
    pub fn micros(self) -> i64 {
        self.0
    }

    /// This time plus a number of seconds (saturating).
    pub fn plus_secs(self, secs: i64) -> Self {
        Timestamp(self.0.saturating_add(secs.saturating_mul(MICROS_PER_SEC)))
    }

    /// Parse any of the time formats the exports use. Returns `None` for text that is not a
    /// time; callers report that as an unreadable field.
    pub fn parse(text: &str) -> Option<Self> {
        let t = crate::text::trim(text);
        if t.is_empty() {
            return None;
        }
        let bytes = t.as_bytes();
        if bytes.starts_with(b"/Date(") || bytes.starts_with(b"\\/Date(") {
            return parse_ms_json_date(t);
        }
        if bytes.len() >= 10 && bytes[4] == b'-' && bytes[7] == b'-' {
            return parse_iso(t);
        }
        if bytes.iter().all(|b| b.is_ascii_digit()) && (9..=11).contains(&bytes.len()) {
            return t.parse::<i64>().ok().map(Timestamp::from_secs);
        }
        parse_us_locale(t)
    }

    /// RFC 3339 text in UTC with a `Z` suffix; fractional seconds only when present.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.secs();
        let micros = self.0.rem_euclid(MICROS_PER_SEC);
        match DateTime::<Utc>::from_timestamp(secs, 0) {
            Some(dt) => {
                write!(f, "{}", dt.format("%Y-%m-%dT%H:%M:%S"))?;
                if micros != 0 {
                    let mut frac = format!("{micros:06}");
                    while frac.ends_with('0') {
                        frac.pop();
                    }
                    write!(f, ".{frac}")?;
                }
                f.write_str("Z")
            }
            None => write!(f, "@{}us", self.0),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Timestamp::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not a time: {s:?}")))
    }
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

fn civil_to_micros(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<i64> {
    if !(1..=12).contains(&mo)
        || !(0..=23).contains(&h)
        || !(0..=59).contains(&mi)
        || !(0..=60).contains(&s)
    {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(y).ok()?,
        u32::try_from(mo).ok()?,
        u32::try_from(d).ok()?,
    )?;
    let days = i64::from(
        date.signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1)?)
            .num_days() as i32,
    );
    Some(((days * 86_400) + h * 3600 + mi * 60 + s) * MICROS_PER_SEC)
}

/// `YYYY-MM-DD[T| ]HH:MM[:SS[.fff...]][Z|+hh:mm|-hh:mm| UTC]`, with surrounding blanks allowed.
fn parse_iso(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    let y = digits(&b[0..4])?;
    let mo = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    if b.len() == 10 {
        return civil_to_micros(y, mo, d, 0, 0, 0).map(Timestamp);
    }
    if !(b[10] == b'T' || b[10] == b' ' || b[10] == b't') || b.len() < 16 {
        return None;
    }
    let h = digits(&b[11..13])?;
    if b[13] != b':' {
        return None;
    }
    let mi = digits(&b[14..16])?;
    let mut i = 16;
    let mut s = 0;
    if i < b.len() && b[i] == b':' {
        s = digits(b.get(i + 1..i + 3)?)?;
        i += 3;
    }
    let mut frac_micros = 0i64;
    if i < b.len() && (b[i] == b'.' || b[i] == b',') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = &b[start..i];
        let mut scale = 100_000i64;
        for &c in frac.iter().take(6) {
            frac_micros += i64::from(c - b'0') * scale;
            scale /= 10;
        }
    }
    let mut offset_secs = 0i64;
    // Only ASCII was read up to `i`: it is a character boundary, the text needs no new check.
    let rest = crate::text::trim(text.get(i..)?);
    match rest {
        "" | "Z" | "z" | "UTC" | "+00:00" | "GMT" => {}
        r if (r.starts_with('+') || r.starts_with('-')) && (r.len() == 6 || r.len() == 5) => {
            let rb = r.as_bytes();
            let sign = if rb[0] == b'-' { -1 } else { 1 };
            let (hh, mm) = if rb.len() == 6 {
                if rb[3] != b':' {
                    return None;
                }
                (digits(&rb[1..3])?, digits(&rb[4..6])?)
            } else {
                (digits(&rb[1..3])?, digits(&rb[3..5])?)
            };
            offset_secs = sign * (hh * 3600 + mm * 60);
        }
        _ => return None,
    }
    let base = civil_to_micros(y, mo, d, h, mi, s)?;
    Some(Timestamp(base + frac_micros - offset_secs * MICROS_PER_SEC))
}

/// `/Date(ms)/` or `/Date(ms+hhmm)/` (also `-hhmm`), and the same still JSON-escaped
/// (`\/Date(ms)\/`, as a CSV cell or a log line may carry it): the time is the milliseconds,
/// which are UTC whatever the suffix says (it only tells the writer's zone). The number may be
/// negative (before 1970); text that is not a whole number, a malformed suffix, or a time
/// beyond what [`Timestamp`] holds is not a time.
fn parse_ms_json_date(t: &str) -> Option<Timestamp> {
    let body = t
        .strip_prefix("\\/Date(")
        .and_then(|r| r.strip_suffix(")\\/"))
        .or_else(|| t.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")))?;
    let (sign, unsigned) = match body.as_bytes().first()? {
        b'-' => (-1, &body[1..]),
        b'+' => (1, &body[1..]),
        _ => (1, body),
    };
    let end = unsigned
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(unsigned.len());
    let (number, zone) = unsigned.split_at(end);
    // At most 18 digits: `digits` then cannot overflow an i64.
    if number.is_empty() || number.len() > 18 {
        return None;
    }
    let ms = sign * digits(number.as_bytes())?;
    if !zone.is_empty() {
        let zb = zone.as_bytes();
        let (hh, mm) = match zb {
            [b'+' | b'-', ..] if zb.len() == 5 => (digits(&zb[1..3])?, digits(&zb[3..5])?),
            _ => return None,
        };
        if hh > 23 || mm > 59 {
            return None;
        }
    }
    // The instant must also be one `Display` can show as a calendar time.
    let micros = ms.checked_mul(1000)?;
    DateTime::<Utc>::from_timestamp(micros.div_euclid(MICROS_PER_SEC), 0)?;
    Some(Timestamp(micros))
}

/// `M/D/YYYY[,] h:mm[:ss[.fff]] [AM|PM]`, as Purview and Log Analytics CSV exports write it.
fn parse_us_locale(t: &str) -> Option<Timestamp> {
    let (date, time) = t.split_once(' ')?;
    let date = date.trim_end_matches(',');
    let mut dp = date.split('/');
    let mo = digits(dp.next()?.as_bytes())?;
    let d = digits(dp.next()?.as_bytes())?;
    let y = digits(dp.next()?.as_bytes())?;
    if dp.next().is_some() || y < 1000 {
        return None;
    }
    let time = time.trim();
    let (clock, meridiem) = match time.rsplit_once(' ') {
        Some((c, m)) => (c.trim(), Some(m.trim())),
        None => (time, None),
    };
    let mut cp = clock.split(':');
    let mut h = digits(cp.next()?.as_bytes())?;
    let mi = digits(cp.next()?.as_bytes())?;
    let (s, frac_micros) = match cp.next() {
        Some(sec) => {
            let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
            let mut fm = 0i64;
            let mut scale = 100_000i64;
            for c in frac.bytes().take(6) {
                if !c.is_ascii_digit() {
                    return None;
                }
                fm += i64::from(c - b'0') * scale;
                scale /= 10;
            }
            (digits(whole.as_bytes())?, fm)
        }
        None => (0, 0),
    };
    if cp.next().is_some() {
        return None;
    }
    match meridiem.map(str::to_ascii_uppercase).as_deref() {
        None => {}
        Some("AM") => {
            if h == 12 {
                h = 0
            } else if h > 12 {
                return None;
            }
        }
        Some("PM") => {
            if h < 12 {
                h += 12
            } else if h > 12 {
                return None;
            }
        }
        Some(_) => return None,
    }
    civil_to_micros(y, mo, d, h, mi, s).map(|m| Timestamp(m + frac_micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        Timestamp::parse(s)
            .map(|t| t.to_string())
            .unwrap_or_else(|| "NONE".into())
    }

    #[test]
    fn parses_every_export_format() {
        assert_eq!(p("2023-09-20T04:05:03Z"), "2023-09-20T04:05:03Z");
        assert_eq!(
            p("2023-09-20T04:05:03.1234567Z"),
            "2023-09-20T04:05:03.123456Z"
        );
        assert_eq!(p("2020-09-29T08:59:26"), "2020-09-29T08:59:26Z");
        assert_eq!(p("2023-09-20T04:05:03.000Z "), "2023-09-20T04:05:03Z");
        assert_eq!(p("2023-09-20 04:05:03.123"), "2023-09-20T04:05:03.123Z");
        assert_eq!(p("2023-09-20T06:05:03+02:00"), "2023-09-20T04:05:03Z");
        assert_eq!(p("9/20/2023 4:05:03 AM"), "2023-09-20T04:05:03Z");
        assert_eq!(p("9/20/2023 12:05:03 AM"), "2023-09-20T00:05:03Z");
        assert_eq!(p("9/20/2023 12:05:03 PM"), "2023-09-20T12:05:03Z");
        assert_eq!(p("9/20/2023, 4:05:03.250 PM"), "2023-09-20T16:05:03.25Z");
        assert_eq!(p("1695182703"), "2023-09-20T04:05:03Z");
        assert_eq!(p("2023-09-20"), "2023-09-20T00:00:00Z");
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "yesterday",
            "2023-13-01T00:00:00Z",
            "2023-02-30T00:00:00Z",
            "13/45/2023 1:00 AM",
            "2023-09-20T04:05:03Q",
            "9/20/2023 13:00:00 PM",
        ] {
            assert_eq!(p(s), "NONE", "{s}");
        }
    }

    #[test]
    fn parses_powershell_json_dates() {
        assert_eq!(p("/Date(1764583200000)/"), "2025-12-01T10:00:00Z");
        assert_eq!(p("\\/Date(1764583200000)\\/"), "2025-12-01T10:00:00Z");
        assert_eq!(p(" /Date(1764583200123)/ "), "2025-12-01T10:00:00.123Z");
        // The suffix names the writer's zone; the number is UTC all the same.
        assert_eq!(p("/Date(1764583200000+0100)/"), "2025-12-01T10:00:00Z");
        assert_eq!(p("/Date(1764583200000-0530)/"), "2025-12-01T10:00:00Z");
        assert_eq!(p("/Date(0)/"), "1970-01-01T00:00:00Z");
        assert_eq!(p("/Date(-1000)/"), "1969-12-31T23:59:59Z");
        assert_eq!(p("/Date(-86400000+0000)/"), "1969-12-31T00:00:00Z");
    }

    #[test]
    fn rejects_malformed_powershell_json_dates() {
        for s in [
            "/Date()/",
            "/Date(abc)/",
            "/Date(12a)/",
            "/Date(-)/",
            "/Date(1764583200000)",
            "/Date(1764583200000+01)/",
            "/Date(1764583200000+2500)/",
            "/Date(1764583200000+01:00)/",
            "/Date(1764583200000 )/",
            "/Date(--1)/",
            // Beyond i64 milliseconds, and beyond what a calendar time can show.
            "/Date(99999999999999999999999)/",
            "/Date(9223372036854775807)/",
            "/Date(999999999999999999)/",
            "/Date(-999999999999999999)/",
            "Date(1764583200000)",
        ] {
            assert_eq!(p(s), "NONE", "{s}");
        }
    }

    proptest::proptest! {
        #[test]
        fn powershell_json_dates_never_panic(s in "(\\\\)?/Date\\([-+]?[0-9a-z+-]{0,24}\\)(\\\\)?/") {
            let _ = Timestamp::parse(&s);
        }


        #[test]
        fn never_panics(s in ".{0,40}") {
            let _ = Timestamp::parse(&s);
        }

        #[test]
        fn round_trips(secs in 0i64..4_000_000_000, micros in 0i64..1_000_000) {
            let t = Timestamp(secs * 1_000_000 + micros);
            proptest::prop_assert_eq!(Timestamp::parse(&t.to_string()), Some(t));
        }
    }
}
