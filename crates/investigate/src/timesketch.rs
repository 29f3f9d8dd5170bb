//! A timeline in the form Timesketch imports: JSON lines or CSV, one event per sign-in, access
//! and finding, in time order.
//!
//! Timesketch's import rules (google/timesketch, `docs/guides/user/import-from-json-csv.md` and
//! the importer in `timesketch/lib/utils.py`): every event has `message` (text), `datetime`
//! (ISO 8601) and `timestamp_desc` (what the time means); any other field is kept as is; a
//! `timestamp` in microseconds since the epoch is used when present (else derived from
//! `datetime`); `tag` is a list of strings (in CSV, one text split at commas); the fields `_id`,
//! `_type`, `_index`, `_source` and `__ts_timeline_id` are dropped; a CSV starts with its header;
//! the file name must end in `.jsonl` or `.csv`. The CSV importer reads `datetime` with
//! `pandas.to_datetime(..., errors="coerce")`, which infers one format from the first rows and
//! drops every row written otherwise: so every time is written in one fixed format.
//!
//! # Fields
//!
//! Every event: `message`, `datetime` (RFC 3339 UTC, always with six fraction digits:
//! `2024-03-05T12:17:00.000000Z`), `timestamp` (microseconds),
//! `timestamp_desc` (`Sign-in time`, `Access time`, `Finding first seen`), `data_type`
//! (`tokentrail:sign-in`, `tokentrail:access`, `tokentrail:finding`), `user`, `ip`, `network`,
//! `app`, `session_id`, `token_id`, and `tag` (the rule codes of the findings that cite the
//! record, or the finding's own rule).
//! Sign-ins and accesses add `kind` (sign-in kind or access log), `operation`, `source`
//! (`file:line`) and `findings` (ids of the findings citing them).
//! Findings add `finding_id`, `rule`, `rule_name`, `severity`, `confidence`, `title`, `why` and
//! `last_seen`.
//!
//! In JSON lines absent fields are left out, and `findings` and `tag` are arrays; in CSV every
//! column is present (empty when absent), `findings` is joined with `;` and `tag` with `,`.

use std::borrow::Borrow;
use std::collections::{BTreeSet, HashMap};
use std::io::Write;

use serde::Serialize;
use tokentrail_model::{escape, Finding, Timestamp};

use crate::{InvestigateError, TimelineEntry};

/// Which of Timesketch's two import formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimesketchFormat {
    /// JSON lines (`.jsonl`).
    Jsonl,
    /// CSV with a header (`.csv`).
    Csv,
}

/// One Timesketch event.
#[derive(Serialize)]
struct Event<'a> {
    message: String,
    datetime: String,
    timestamp: i64,
    timestamp_desc: &'static str,
    data_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    operation: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    findings: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finding_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_name: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_seen: Option<String>,
    tag: Vec<&'static str>,
}

/// The CSV columns, in order.
const COLUMNS: [&str; 24] = [
    "message",
    "datetime",
    "timestamp",
    "timestamp_desc",
    "data_type",
    "user",
    "ip",
    "network",
    "app",
    "session_id",
    "token_id",
    "kind",
    "operation",
    "source",
    "findings",
    "finding_id",
    "rule",
    "rule_name",
    "severity",
    "confidence",
    "title",
    "why",
    "last_seen",
    "tag",
];

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the fraction never shortened.
fn datetime(time: Timestamp) -> String {
    let text = time.to_rfc3339();
    let seconds = text
        .find(['.', 'Z'])
        .map_or(text.as_str(), |end| &text[..end]);
    format!("{seconds}.{:06}Z", time.micros().rem_euclid(1_000_000))
}

fn empty<'a>(time: Timestamp, desc: &'static str, data_type: &'static str) -> Event<'a> {
    Event {
        message: String::new(),
        datetime: datetime(time),
        timestamp: time.micros(),
        timestamp_desc: desc,
        data_type,
        user: None,
        ip: None,
        network: None,
        app: None,
        session_id: None,
        token_id: None,
        kind: None,
        operation: None,
        source: None,
        findings: None,
        finding_id: None,
        rule: None,
        rule_name: None,
        severity: None,
        confidence: None,
        title: None,
        why: None,
        last_seen: None,
        tag: Vec::new(),
    }
}

/// ` by adele@… from 203.0.113.7 (AS64500), app Outlook`: who, from where, with what.
fn actor(user: Option<&str>, ip: Option<&str>, network: Option<&str>, app: Option<&str>) -> String {
    let mut text = String::new();
    if let Some(u) = user {
        text.push_str(&format!(" by {u}"));
    }
    match (ip, network) {
        (Some(ip), Some(n)) => text.push_str(&format!(" from {ip} ({n})")),
        (Some(ip), None) => text.push_str(&format!(" from {ip}")),
        (None, Some(n)) => text.push_str(&format!(" from {n}")),
        (None, None) => {}
    }
    if let Some(a) = app {
        text.push_str(&format!(", app {a}"));
    }
    text
}

fn record_event<'a>(e: &'a TimelineEntry, rules: &HashMap<&str, &'static str>) -> Event<'a> {
    let sign_in = e.record == "sign-in";
    let mut ev = if sign_in {
        empty(e.time, "Sign-in time", "tokentrail:sign-in")
    } else {
        empty(e.time, "Access time", "tokentrail:access")
    };
    ev.user = e.user.as_deref();
    ev.ip = e.ip.map(|ip| ip.to_string());
    ev.network = e.network.map(|n| n.to_string());
    ev.app = e.app.as_deref();
    ev.session_id = e.session_id.as_ref().map(ToString::to_string);
    ev.token_id = e.token_id.as_ref().map(ToString::to_string);
    ev.kind = Some(&e.kind);
    ev.operation = Some(&e.operation);
    ev.source = Some(e.source.to_string());
    ev.findings = Some(&e.findings);
    let tags: BTreeSet<&'static str> = e
        .findings
        .iter()
        .filter_map(|id| rules.get(id.as_str()).copied())
        .collect();
    ev.tag = tags.into_iter().collect();
    let what = if sign_in {
        format!("{} {}", e.kind, e.operation)
    } else {
        format!("{} ({})", e.operation, e.kind)
    };
    ev.message = format!(
        "{what}{}",
        actor(ev.user, ev.ip.as_deref(), ev.network.as_deref(), ev.app)
    );
    if !ev.tag.is_empty() {
        ev.message
            .push_str(&format!("; cited by {}", ev.tag.join(", ")));
    }
    ev
}

fn finding_event(f: &Finding) -> Event<'_> {
    let mut ev = empty(f.first_seen, "Finding first seen", "tokentrail:finding");
    ev.user = f.upn.as_deref().or(f.user_id.as_deref());
    ev.ip = f.src_ip.map(|ip| ip.to_string());
    ev.network = f.network.map(|n| n.to_string());
    ev.app = f.app_name.as_deref().or(f.app_id.as_deref());
    ev.session_id = f.session_id.as_ref().map(ToString::to_string);
    ev.token_id = f.token_id.as_ref().map(ToString::to_string);
    ev.finding_id = Some(&f.id);
    ev.rule = Some(f.rule.code());
    ev.rule_name = Some(f.rule.name());
    ev.severity = Some(f.severity.caption());
    ev.confidence = Some(f.confidence.caption());
    ev.title = Some(&f.title);
    ev.why = Some(&f.why);
    ev.last_seen = Some(datetime(f.last_seen));
    ev.tag = vec![f.rule.code()];
    ev.message = format!(
        "{} {}: {}{}",
        f.rule.code(),
        f.severity.caption(),
        f.title,
        actor(ev.user, ev.ip.as_deref(), ev.network.as_deref(), ev.app)
    );
    ev
}

/// How many events of each kind were written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimesketchCounts {
    /// Sign-in events.
    pub sign_ins: u64,
    /// Access events.
    pub accesses: u64,
    /// Finding events.
    pub findings: u64,
}

/// Write `entries` (an investigation's timeline) and `findings` as Timesketch events, in time
/// order (records before the findings they lead to at the same time, each kind in the order
/// given); see the module docs for the fields.
pub fn write_timesketch(
    out: impl Write,
    format: TimesketchFormat,
    entries: &[TimelineEntry],
    findings: &[&Finding],
) -> Result<TimesketchCounts, InvestigateError> {
    let mut in_order: Vec<&TimelineEntry> = entries.iter().collect();
    // Stable: entries at the same time keep the order given.
    in_order.sort_by_key(|e| e.time);
    write_timesketch_in_order(out, format, in_order, findings)
}

/// [`write_timesketch`] for `entries` already in time order, taken one at a time: the tenant's
/// timeline, which memory need not hold.
pub fn write_timesketch_in_order<E: Borrow<TimelineEntry>>(
    out: impl Write,
    format: TimesketchFormat,
    entries: impl IntoIterator<Item = E>,
    findings: &[&Finding],
) -> Result<TimesketchCounts, InvestigateError> {
    let rules: HashMap<&str, &'static str> = findings
        .iter()
        .map(|f| (f.id.as_str(), f.rule.code()))
        .collect();
    let mut by_first_seen: Vec<&Finding> = findings.to_vec();
    // Stable: findings first seen at the same time keep the order given.
    by_first_seen.sort_by_key(|f| f.first_seen);
    let mut findings = by_first_seen.into_iter().peekable();
    let mut sink = Sink::new(out, format)?;
    for e in entries {
        let e = e.borrow();
        // A finding is written after the records at its first sighting: they lead to it.
        while let Some(f) = findings.next_if(|f| f.first_seen < e.time) {
            sink.write(&finding_event(f))?;
        }
        sink.write(&record_event(e, &rules))?;
    }
    for f in findings {
        sink.write(&finding_event(f))?;
    }
    sink.finish()
}

/// Where events go, one at a time, counted.
enum Sink<W: Write> {
    Jsonl(W, TimesketchCounts),
    Csv(Box<csv::Writer<W>>, TimesketchCounts),
}

impl<W: Write> Sink<W> {
    fn new(out: W, format: TimesketchFormat) -> Result<Sink<W>, InvestigateError> {
        let counts = TimesketchCounts::default();
        Ok(match format {
            TimesketchFormat::Jsonl => Sink::Jsonl(out, counts),
            TimesketchFormat::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(COLUMNS)?;
                Sink::Csv(Box::new(w), counts)
            }
        })
    }

    fn write(&mut self, e: &Event<'_>) -> Result<(), InvestigateError> {
        let counts = match self {
            Sink::Jsonl(out, counts) => {
                escape::write_json(&mut *out, e)?;
                out.write_all(b"\n")?;
                counts
            }
            Sink::Csv(w, counts) => {
                // Messages and fields hold log text: no cell may start a formula.
                w.write_record(
                    csv_row(e)
                        .iter()
                        .map(|cell| escape::csv_cell(cell).into_owned()),
                )?;
                counts
            }
        };
        match e.data_type {
            "tokentrail:sign-in" => counts.sign_ins += 1,
            "tokentrail:access" => counts.accesses += 1,
            _ => counts.findings += 1,
        }
        Ok(())
    }

    fn finish(self) -> Result<TimesketchCounts, InvestigateError> {
        match self {
            Sink::Jsonl(mut out, counts) => {
                out.flush()?;
                Ok(counts)
            }
            Sink::Csv(mut w, counts) => {
                w.flush()?;
                Ok(counts)
            }
        }
    }
}

fn csv_row(e: &Event<'_>) -> [String; 24] {
    let text = |v: Option<&str>| v.unwrap_or_default().to_string();
    [
        e.message.clone(),
        e.datetime.clone(),
        e.timestamp.to_string(),
        e.timestamp_desc.to_string(),
        e.data_type.to_string(),
        text(e.user),
        text(e.ip.as_deref()),
        text(e.network.as_deref()),
        text(e.app),
        text(e.session_id.as_deref()),
        text(e.token_id.as_deref()),
        text(e.kind),
        text(e.operation),
        text(e.source.as_deref()),
        e.findings.map(|f| f.join(";")).unwrap_or_default(),
        text(e.finding_id),
        text(e.rule),
        text(e.rule_name),
        text(e.severity),
        text(e.confidence),
        text(e.title),
        text(e.why),
        text(e.last_seen.as_deref()),
        e.tag.join(","),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_have_one_width() {
        let at = |t: &str| datetime(Timestamp::parse(t).unwrap());
        assert_eq!(at("2024-03-04T06:30:01Z"), "2024-03-04T06:30:01.000000Z");
        assert_eq!(
            at("2024-03-04T06:30:00.906209Z"),
            "2024-03-04T06:30:00.906209Z"
        );
        assert_eq!(at("2024-03-04T06:30:00.5Z"), "2024-03-04T06:30:00.500000Z");
        assert_eq!(at("1969-12-31T23:59:59.5Z"), "1969-12-31T23:59:59.500000Z");
    }
}
