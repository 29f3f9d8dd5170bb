//! Findings produced elsewhere (a Spark job, another tokentrail run) read back into the one
//! [`Finding`] model, so that the same renderers draw them.
//!
//! Two forms are read:
//! - **OCSF JSON lines** as [`crate::ocsf`] writes them: every place the writer fills is read
//!   back, so rendering imported OCSF gives exactly what rendering the original findings gave.
//! - **Rows with the columns of [`crate::csv::COLUMNS`]**: a CSV file, JSON lines of flat
//!   objects (Spark's `df.write.json`), or any table a caller turns into named cells (a Parquet
//!   findings table). A row holds a finding's summary, not its evidence groups: its `records`
//!   and `operations` become one access group spanning `first_seen` to `last_seen` from its
//!   network, and its issuing sign-in (the `issue_*` columns) cites the row it was read from,
//!   since the table does not say where the sign-in row was. `rule_name`, `status` and
//!   `network_approximate` follow from other columns and are not read.
//!
//! A row or line that cannot be read is reported with its place and reason, and the others are
//! still read.

use std::io::{BufRead, Read};
use std::net::IpAddr;
use std::sync::Arc;

use serde_json::Value;
use tokentrail_model::{
    AccessEvidence, Confidence, Finding, IssueEvidence, NetworkId, Position, RuleId, SessionId,
    Severity, SignInKind, SourceRecord, SourceRef, Suppression, Timestamp, TokenId,
};

use crate::ocsf::{read_time, EVIDENCE_ACCESS, EVIDENCE_ISSUE, EVIDENCE_USE};
use crate::ReportError;

/// Columns a findings row must have (the others may be missing or empty).
pub const REQUIRED_COLUMNS: [&str; 6] = [
    "id",
    "rule",
    "severity",
    "confidence",
    "first_seen",
    "last_seen",
];

/// Findings read from one input, and the rows that could not be read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Imported {
    /// The findings, in input order.
    pub findings: Vec<Finding>,
    /// Rows or lines that could not be read.
    pub unreadable: Vec<UnreadableFinding>,
}

/// A row or line that could not be read as a finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnreadableFinding {
    /// Where it is (`file:line`, or `file#row` for tables without lines).
    pub place: SourceRef,
    /// What is wrong with it.
    pub reason: String,
}

impl Imported {
    /// Add the finding read at `place`, or the reason it could not be read.
    pub fn push(&mut self, place: SourceRef, finding: Result<Finding, String>) {
        match finding {
            Ok(f) => self.findings.push(f),
            Err(reason) => self.unreadable.push(UnreadableFinding { place, reason }),
        }
    }
}

/// The place of line or row `n` of input `name`.
pub fn place(name: &Arc<str>, position: Position) -> SourceRef {
    SourceRef {
        file: name.clone(),
        position,
    }
}

/// Read a CSV findings table (a header row, then one finding per row).
pub fn read_csv<R: Read>(reader: R, name: &Arc<str>) -> Result<Imported, ReportError> {
    let mut csv = ::csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(reader);
    let header: Vec<String> = csv
        .headers()
        .map_err(|e| line_error(name, 1, e.to_string()))?
        .iter()
        // A UTF-8 byte order mark (Excel, PowerShell) sticks to the first name.
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
        .collect();
    check_columns(name, &header)?;
    let mut imported = Imported::default();
    for record in csv.records() {
        match record {
            Ok(row) => {
                let line = row.position().map_or(0, |p| p.line());
                let at = place(name, Position::Line(line));
                let finding = finding_from_row(
                    |column| {
                        header
                            .iter()
                            .position(|h| h == column)
                            .and_then(|i| row.get(i))
                    },
                    &at,
                );
                imported.push(at.clone(), finding);
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                imported.push(place(name, Position::Line(line)), Err(e.to_string()));
            }
        }
    }
    Ok(imported)
}

/// Read JSON findings: one object per line (OCSF Detection Findings, or flat objects with the
/// CSV columns), or one JSON array of such objects. Each object is read as OCSF when it has a
/// `class_uid`, as a flat row otherwise.
pub fn read_json<R: BufRead>(mut reader: R, name: &Arc<str>) -> Result<Imported, ReportError> {
    let mut text = String::new();
    reader
        .read_to_string(&mut text)
        .map_err(|e| line_error(name, 1, format!("not UTF-8 text: {e}")))?;
    let text = text.trim_start_matches('\u{feff}');
    let mut imported = Imported::default();
    if text.trim_start().starts_with('[') {
        let values: Vec<Value> = serde_json::from_str(text)
            .map_err(|e| line_error(name, e.line() as u64, format!("malformed JSON: {e}")))?;
        for (i, value) in values.iter().enumerate() {
            let at = place(name, Position::Index(i as u64));
            imported.push(at.clone(), finding_from_json(value, &at));
        }
        return Ok(imported);
    }
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = place(name, Position::Line(i as u64 + 1));
        let finding = serde_json::from_str::<Value>(line)
            .map_err(|e| format!("malformed JSON: {e}"))
            .and_then(|value| finding_from_json(&value, &at));
        imported.push(at, finding);
    }
    Ok(imported)
}

fn finding_from_json(value: &Value, at: &SourceRef) -> Result<Finding, String> {
    let object = value
        .as_object()
        .ok_or_else(|| "expected a JSON object".to_owned())?;
    if object.contains_key("class_uid") {
        return finding_from_ocsf(value);
    }
    let missing: Vec<&str> = REQUIRED_COLUMNS
        .iter()
        .copied()
        .filter(|c| !object.contains_key(*c))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "neither an OCSF finding (no class_uid) nor a findings row (no {})",
            missing.join(", ")
        ));
    }
    let cells: Vec<(&str, Option<String>)> = object
        .iter()
        .map(|(k, v)| (k.as_str(), json_text(v)))
        .collect();
    finding_from_row(
        |column| {
            cells
                .iter()
                .find(|(k, _)| *k == column)
                .and_then(|(_, v)| v.as_deref())
        },
        at,
    )
}

/// A flat JSON value as the text a CSV cell would hold.
fn json_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// Fail unless the header has every required column.
pub fn check_columns(name: &Arc<str>, header: &[String]) -> Result<(), ReportError> {
    let missing: Vec<&str> = REQUIRED_COLUMNS
        .iter()
        .copied()
        .filter(|c| !header.iter().any(|h| h == c))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(line_error(
        name,
        1,
        format!(
            "not a findings table: no column {} (the columns are those of `detect --format csv`)",
            missing.join(", ")
        ),
    ))
}

fn line_error(name: &Arc<str>, line: u64, message: String) -> ReportError {
    ReportError::Line {
        path: name.as_ref().into(),
        line,
        message,
    }
}

/// One finding from a row with the CSV columns; `cell` gives a column's text (`None` or empty
/// for unknown), `at` is the row's place.
pub fn finding_from_row<'a>(
    cell: impl Fn(&str) -> Option<&'a str>,
    at: &SourceRef,
) -> Result<Finding, String> {
    let text = |column: &str| cell(column).map(str::trim).filter(|t| !t.is_empty());
    let owned = |column: &str| text(column).map(str::to_owned);
    let required = |column: &str| text(column).ok_or_else(|| format!("{column} is empty"));
    let time = |column: &str| -> Result<Option<Timestamp>, String> {
        text(column)
            .map(|t| Timestamp::parse(t).ok_or_else(|| format!("{column}: not a time: {t:?}")))
            .transpose()
    };
    let number = |column: &str| -> Result<u64, String> {
        text(column).map_or(Ok(0), |t| {
            t.parse()
                .map_err(|_| format!("{column}: not a count: {t:?}"))
        })
    };
    let ip = |column: &str| -> Result<Option<IpAddr>, String> {
        text(column)
            .map(|t| {
                t.parse()
                    .map_err(|_| format!("{column}: not an address: {t:?}"))
            })
            .transpose()
    };
    let network_cell = |column: &str| -> Result<Option<NetworkId>, String> {
        text(column)
            .map(|t| NetworkId::parse(t).ok_or_else(|| format!("{column}: not a network: {t:?}")))
            .transpose()
    };

    let (rule, severity, confidence) = judgement(
        required("rule")?,
        required("severity")?,
        required("confidence")?,
    )?;
    let first_seen = time("first_seen")?.ok_or("first_seen is empty")?;
    let last_seen = time("last_seen")?.ok_or("last_seen is empty")?;
    let src_ip = ip("src_ip")?;
    let network = network_cell("network")?;
    let app_id = owned("app_id");
    let records = number("records")?;
    let operations = number("operations")?;
    let issue = match text("issue_kind") {
        None => None,
        Some(kind_text) => Some(IssueEvidence {
            source: at.clone(),
            sign_in_id: owned("issue_sign_in_id"),
            kind: SignInKind::parse(kind_text)
                .ok_or_else(|| format!("issue_kind: unknown sign-in kind {kind_text:?}"))?,
            time: time("issue_time")?.ok_or("issue_time is empty while issue_kind is set")?,
            ip: ip("issue_ip")?,
            network: network_cell("issue_network")?,
            app_id: None,
            app_name: None,
            device_id: None,
        }),
    };
    let accesses = if records > 0 || operations > 0 {
        vec![AccessEvidence {
            network,
            ips: src_ip.into_iter().collect(),
            first_seen,
            last_seen,
            records,
            operations,
            operation_counts: Vec::new(),
            app_ids: app_id.iter().cloned().collect(),
            samples: Vec::new(),
        }]
    } else {
        Vec::new()
    };
    let suppression = text("suppression_entry").map(|entry| Suppression {
        entry_id: entry.to_owned(),
        reason: owned("suppression_reason").unwrap_or_default(),
    });
    Ok(Finding {
        id: required("id")?.to_owned(),
        rule,
        title: owned("title").unwrap_or_default(),
        why: owned("why").unwrap_or_default(),
        severity,
        confidence,
        user_id: owned("user_id"),
        upn: owned("upn"),
        session_id: text("session_id").and_then(SessionId::parse),
        token_id: text("token_id").and_then(TokenId::parse),
        app_id,
        app_name: owned("app_name"),
        resource: owned("resource"),
        src_ip,
        network,
        first_seen,
        last_seen,
        issue,
        accesses,
        checked: Vec::new(),
        containment: Vec::new(),
        suppression,
    })
}

/// One finding from an OCSF Detection Finding as [`crate::ocsf`] writes it.
pub fn finding_from_ocsf(v: &Value) -> Result<Finding, String> {
    let s = |pointer: &str| v.pointer(pointer).and_then(Value::as_str);
    let owned = |pointer: &str| s(pointer).map(str::to_owned);
    let required = |pointer: &str| s(pointer).ok_or_else(|| format!("no {pointer}"));
    let time = |pointer: &str| read_time(v, pointer).ok_or_else(|| format!("no {pointer}"));
    if v.get("class_uid").and_then(Value::as_u64) != Some(u64::from(crate::ocsf::CLASS_UID)) {
        return Err(format!(
            "class_uid is not {} (Detection Finding)",
            crate::ocsf::CLASS_UID
        ));
    }
    let (rule, severity, confidence) = judgement(
        required("/finding_info/analytic/uid")?,
        required("/severity")?,
        required("/confidence")?,
    )?;
    let evidences: &[Value] = v
        .get("evidences")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let use_evidence = named(evidences, EVIDENCE_USE).next();
    let issue = named(evidences, EVIDENCE_ISSUE)
        .next()
        .map(issue_of)
        .transpose()?;
    let accesses = named(evidences, EVIDENCE_ACCESS)
        .map(access_of)
        .collect::<Result<Vec<_>, _>>()?;
    let unmapped = v.get("unmapped");
    let strings = |key: &str| -> Vec<String> {
        unmapped
            .and_then(|u| u.get(key))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let suppression = unmapped
        .and_then(|u| u.get("suppression"))
        .map(|s| Suppression {
            entry_id: text_at(s, "/entry_id").unwrap_or_default(),
            reason: text_at(s, "/reason").unwrap_or_default(),
        });
    Ok(Finding {
        id: required("/finding_info/uid")?.to_owned(),
        rule,
        title: owned("/finding_info/title").unwrap_or_default(),
        why: owned("/finding_info/desc")
            .or_else(|| owned("/message"))
            .unwrap_or_default(),
        severity,
        confidence,
        user_id: owned("/actor/user/uid"),
        upn: owned("/actor/user/name"),
        session_id: s("/actor/session/uid").and_then(SessionId::parse),
        token_id: s("/actor/session/credential_uid").and_then(TokenId::parse),
        app_id: owned("/actor/app_uid"),
        app_name: owned("/actor/app_name"),
        resource: use_evidence.and_then(|e| text_at(e, "/data/resource")),
        src_ip: use_evidence
            .map(|e| ip_at(e, "/src_endpoint/ip"))
            .transpose()?
            .flatten(),
        network: use_evidence.map(network_of).transpose()?.flatten(),
        first_seen: time("/finding_info/first_seen_time")?,
        last_seen: time("/finding_info/last_seen_time")?,
        issue,
        accesses,
        checked: strings("checked"),
        containment: strings("containment"),
        suppression,
    })
}

/// The evidences called `name`, in order.
fn named<'v>(evidences: &'v [Value], name: &'v str) -> impl Iterator<Item = &'v Value> {
    evidences
        .iter()
        .filter(move |e| e.get("name").and_then(Value::as_str) == Some(name))
}

/// The rule, severity and confidence named by their text forms.
fn judgement(
    rule: &str,
    severity: &str,
    confidence: &str,
) -> Result<(RuleId, Severity, Confidence), String> {
    fn known<T>(text: &str, what: &str, parse: fn(&str) -> Option<T>) -> Result<T, String> {
        parse(text).ok_or_else(|| format!("{what}: unknown {what} {text:?}"))
    }
    Ok((
        known(rule, "rule", tokentrail_engine::rules::find)?,
        known(severity, "severity", Severity::parse)?,
        known(confidence, "confidence", Confidence::parse)?,
    ))
}

fn text_at(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn ip_at(v: &Value, pointer: &str) -> Result<Option<IpAddr>, String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(|t| {
            t.parse()
                .map_err(|_| format!("{pointer}: not an address: {t:?}"))
        })
        .transpose()
}

fn network_of(evidence: &Value) -> Result<Option<NetworkId>, String> {
    evidence
        .pointer("/data/network")
        .and_then(Value::as_str)
        .map(|t| NetworkId::parse(t).ok_or_else(|| format!("not a network: {t:?}")))
        .transpose()
}

fn source_at(v: &Value, pointer: &str) -> Result<SourceRef, String> {
    let text = v
        .pointer(pointer)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("no {pointer}"))?;
    SourceRef::parse(text).ok_or_else(|| format!("{pointer}: not a record's place: {text:?}"))
}

fn issue_of(e: &Value) -> Result<IssueEvidence, String> {
    let kind_text = e
        .pointer("/data/sign_in_kind")
        .and_then(Value::as_str)
        .ok_or("issue evidence: no sign_in_kind")?;
    Ok(IssueEvidence {
        source: source_at(e, "/data/source")?,
        sign_in_id: text_at(e, "/data/sign_in_id"),
        kind: SignInKind::parse(kind_text)
            .ok_or_else(|| format!("issue evidence: unknown sign-in kind {kind_text:?}"))?,
        time: read_time(e, "/data/time").ok_or("issue evidence: no time")?,
        ip: ip_at(e, "/src_endpoint/ip")?,
        network: network_of(e)?,
        app_id: text_at(e, "/actor/app_uid"),
        app_name: text_at(e, "/actor/app_name"),
        device_id: text_at(e, "/data/device_id"),
    })
}

fn access_of(e: &Value) -> Result<AccessEvidence, String> {
    let array = |pointer: &str| -> &[Value] {
        e.pointer(pointer)
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    };
    let count = |pointer: &str| e.pointer(pointer).and_then(Value::as_u64).unwrap_or(0);
    let ips = array("/data/ips")
        .iter()
        .map(|ip| {
            ip.as_str()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| format!("access evidence: not an address: {ip}"))
        })
        .collect::<Result<Vec<IpAddr>, _>>()?;
    let operation_counts = array("/data/operation_counts")
        .iter()
        .map(|c| {
            Some((
                c.get("operation")?.as_str()?.to_owned(),
                c.get("count")?.as_u64()?,
            ))
        })
        .collect::<Option<Vec<_>>>()
        .ok_or("access evidence: an operation count without operation or count")?;
    let samples = array("/data/samples")
        .iter()
        .map(|s| {
            Ok(SourceRecord {
                source: source_at(s, "/source")?,
                record_id: text_at(s, "/record_id"),
                time: read_time(s, "/time").ok_or("sample: no time")?,
                operation: text_at(s, "/operation").unwrap_or_default(),
                ip: ip_at(s, "/ip")?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(AccessEvidence {
        network: network_of(e)?,
        ips,
        first_seen: read_time(e, "/data/first_seen_time")
            .ok_or("access evidence: no first_seen_time")?,
        last_seen: read_time(e, "/data/last_seen_time")
            .ok_or("access evidence: no last_seen_time")?,
        records: count("/data/records"),
        operations: count("/data/operations"),
        operation_counts,
        app_ids: array("/data/app_ids")
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        samples,
    })
}
