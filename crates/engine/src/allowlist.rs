//! The allowlist: approved exceptions, each with a reason, an owner and an expiry date.
//!
//! ```yaml
//! version: 1
//! entries:
//!   - id: backup-app                     # unique
//!     reason: "Mailbox backup by Contoso Backup, change CHG-1042"
//!     owner: "it-ops@contoso.example"
//!     expires: 2027-06-30                # the entry applies through this day (UTC)
//!     rules: [TT003, TT005]              # optional; default all rules
//!     match: { app_id: "...", service_principal_id: "...", user: "upn or object id",
//!              network: "CIDR", asn: 16509 }   # all given keys must match
//! ```
//!
//! The file is checked entry by entry and every problem is reported at once with its line.
//! An entry whose `reason` starts with `REVIEW` is a draft (`inventory --emit-allowlist` writes
//! those) and is refused until a person writes the real reason. Suppression happens after
//! detection: a suppressed finding keeps the entry that matched and is counted, never dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::Serialize;
use serde_yaml::Value;
use tokentrail_model::{RuleId, Timestamp};

use crate::cidr::Cidr;

/// One problem in an allowlist file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct AllowlistError {
    /// 1-based line the problem is on (or the line of the entry it concerns).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// The keys of `match`: every key given must match the finding.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EntryMatch {
    /// Client application id (compared case-insensitively).
    pub app_id: Option<String>,
    /// Service principal object id (compared case-insensitively).
    pub service_principal_id: Option<String>,
    /// User principal name or user object id (compared case-insensitively).
    pub user: Option<String>,
    /// Every address of the finding lies in this prefix.
    #[serde(serialize_with = "ser_cidr")]
    pub network: Option<Cidr>,
    /// Every network of the finding is this autonomous system.
    pub asn: Option<u32>,
}

fn ser_cidr<S: serde::Serializer>(c: &Option<Cidr>, s: S) -> Result<S::Ok, S::Error> {
    match c {
        Some(c) => s.collect_str(c),
        None => s.serialize_none(),
    }
}

/// One allowlist entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Unique id.
    pub id: String,
    /// Why the exception exists.
    pub reason: String,
    /// Who answers for it.
    pub owner: String,
    /// Last day (UTC) the entry applies, as written.
    pub expires: String,
    /// Start of the day after `expires`: from then on the entry no longer applies.
    #[serde(skip)]
    pub expires_at: Timestamp,
    /// Rules it applies to; `None` for all.
    pub rules: Option<BTreeSet<RuleId>>,
    /// What it matches.
    #[serde(rename = "match")]
    pub matcher: EntryMatch,
    /// Line where the entry starts.
    pub line: usize,
}

impl Entry {
    /// True when the entry no longer applies at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }

    pub(crate) fn matches(&self, rule: RuleId, scope: &MatchScope) -> bool {
        if let Some(rules) = &self.rules {
            if !rules.contains(&rule) {
                return false;
            }
        }
        let m = &self.matcher;
        let all_eq = |set: &BTreeSet<String>, want: &str| {
            !set.is_empty() && set.iter().all(|v| v.eq_ignore_ascii_case(want))
        };
        if let Some(app) = &m.app_id {
            if !all_eq(&scope.app_ids, app) {
                return false;
            }
        }
        if let Some(sp) = &m.service_principal_id {
            if !all_eq(&scope.service_principal_ids, sp) {
                return false;
            }
        }
        if let Some(user) = &m.user {
            let hit = scope
                .user_id
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(user))
                || scope
                    .upn
                    .as_deref()
                    .is_some_and(|u| u.eq_ignore_ascii_case(user));
            if !hit {
                return false;
            }
        }
        if let Some(net) = m.network {
            if scope.ips.is_empty() || !scope.ips.iter().all(|ip| net.contains(*ip)) {
                return false;
            }
        }
        if let Some(asn) = m.asn {
            if scope.asns.is_empty() || !scope.asns.iter().all(|a| *a == Some(asn)) {
                return false;
            }
        }
        true
    }
}

/// What a finding covers, for matching allowlist entries.
#[derive(Clone, Debug, Default)]
pub(crate) struct MatchScope {
    pub app_ids: BTreeSet<String>,
    pub service_principal_ids: BTreeSet<String>,
    pub user_id: Option<String>,
    pub upn: Option<String>,
    pub ips: BTreeSet<IpAddr>,
    /// The ASN of every network covered (`None` for a prefix-only network).
    pub asns: BTreeSet<Option<u32>>,
}

/// A parsed, validated allowlist.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Allowlist {
    /// Entries in file order.
    pub entries: Vec<Entry>,
}

/// An entry named in the end-of-run report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EntryStatus {
    /// Entry id.
    pub id: String,
    /// Line where it starts.
    pub line: usize,
    /// Its expiry date as written.
    pub expires: String,
    /// Its owner.
    pub owner: String,
}

impl EntryStatus {
    fn of(e: &Entry) -> Self {
        EntryStatus {
            id: e.id.clone(),
            line: e.line,
            expires: e.expires.clone(),
            owner: e.owner.clone(),
        }
    }
}

/// How the allowlist was used in one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AllowlistReport {
    /// Entries past their expiry date: they no longer apply.
    pub expired: Vec<EntryStatus>,
    /// Entries in force that matched no finding.
    pub unused: Vec<EntryStatus>,
    /// Findings suppressed per entry id.
    pub applied: BTreeMap<String, u64>,
}

impl Allowlist {
    /// Find the first entry in force at `now` that matches, counting its use in `report`.
    pub(crate) fn suppress(
        &self,
        rule: RuleId,
        scope: &MatchScope,
        now: Timestamp,
        report: &mut AllowlistReport,
    ) -> Option<&Entry> {
        let entry = self
            .entries
            .iter()
            .find(|e| !e.is_expired(now) && e.matches(rule, scope))?;
        *report.applied.entry(entry.id.clone()).or_default() += 1;
        Some(entry)
    }

    /// The end-of-run report: expired entries, and entries in force that matched nothing.
    pub(crate) fn finish_report(&self, now: Timestamp, report: &mut AllowlistReport) {
        for e in &self.entries {
            if e.is_expired(now) {
                report.expired.push(EntryStatus::of(e));
            } else if !report.applied.contains_key(&e.id) {
                report.unused.push(EntryStatus::of(e));
            }
        }
    }
}

/// Where entries and keys sit in the text, so errors can name lines. The YAML is simple enough
/// (one list of mappings) that a scan of indentation finds each entry's first line.
struct Lines<'t> {
    lines: Vec<&'t str>,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn is_blank(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Self {
        Lines {
            lines: text.lines().collect(),
        }
    }

    /// 0-based index of the first line holding `key:` in `[from, to)`.
    fn find_key(&self, key: &str, from: usize, to: usize) -> Option<usize> {
        (from..to.min(self.lines.len())).find(|&i| {
            self.lines.get(i).is_some_and(|l| {
                let code = l.split('#').next().unwrap_or("");
                code.match_indices(key).any(|(pos, _)| {
                    let before = code[..pos].chars().next_back();
                    let after = code[pos + key.len()..].trim_start().chars().next();
                    matches!(
                        before,
                        None | Some(' ' | '\t' | '{' | ',' | '-' | '"' | '\'')
                    ) && matches!(after, Some(':') | Some('"') | Some('\''))
                })
            })
        })
    }

    /// 0-based first lines of the items of the top-level `entries` list, and the line after
    /// the list.
    fn entry_starts(&self) -> (Vec<usize>, usize) {
        let Some(head) = self.find_key("entries", 0, self.lines.len()) else {
            return (Vec::new(), self.lines.len());
        };
        let mut starts = Vec::new();
        let mut item_indent: Option<usize> = None;
        let mut end = self.lines.len();
        for (i, line) in self.lines.iter().enumerate().skip(head + 1) {
            if is_blank(line) {
                continue;
            }
            let ind = indent(line);
            let dash = line.trim_start().starts_with('-');
            match item_indent {
                None if dash => {
                    item_indent = Some(ind);
                    starts.push(i);
                }
                None => {
                    end = i;
                    break;
                }
                Some(w) if ind == w && dash => starts.push(i),
                Some(w) if ind < w || (ind == w && !dash) => {
                    end = i;
                    break;
                }
                Some(_) => {}
            }
        }
        (starts, end)
    }
}

const ENTRY_KEYS: [&str; 6] = ["id", "reason", "owner", "expires", "rules", "match"];
const MATCH_KEYS: [&str; 5] = ["app_id", "service_principal_id", "user", "network", "asn"];

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Parse and validate an allowlist. `now` decides nothing here (expiry is judged by the engine
/// at its own `now`), but an entry that has already expired when parsed is still valid: it is
/// reported at the end of the run, not refused.
pub fn parse(text: &str) -> Result<Allowlist, Vec<AllowlistError>> {
    let root: Value = match serde_yaml::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return Err(vec![AllowlistError {
                line: e.location().map_or(1, |l| l.line()),
                message: format!("not valid YAML: {e}"),
            }])
        }
    };
    let lines = Lines::new(text);
    let mut errors = Vec::new();
    let err = |errors: &mut Vec<AllowlistError>, line0: usize, message: String| {
        errors.push(AllowlistError {
            line: line0 + 1,
            message,
        })
    };
    let Value::Mapping(top) = root else {
        return Err(vec![AllowlistError {
            line: 1,
            message: "an allowlist is a mapping with `version: 1` and `entries:`".into(),
        }]);
    };
    let top_line = |key: &str| lines.find_key(key, 0, lines.lines.len()).unwrap_or(0);
    for (k, _) in &top {
        let name = scalar_text(k).unwrap_or_default();
        if name != "version" && name != "entries" {
            err(
                &mut errors,
                top_line(&name),
                format!("unknown key `{name}` (expected `version` and `entries`)"),
            );
        }
    }
    match top.get("version") {
        Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
        Some(other) => err(
            &mut errors,
            top_line("version"),
            format!(
                "unsupported version {} (expected 1)",
                scalar_text(other).unwrap_or_else(|| "?".into())
            ),
        ),
        None => err(&mut errors, 0, "missing `version: 1`".into()),
    }
    let items: Vec<Value> = match top.get("entries") {
        Some(Value::Sequence(s)) => s.clone(),
        Some(Value::Null) | None => Vec::new(),
        Some(_) => {
            err(
                &mut errors,
                top_line("entries"),
                "`entries` must be a list".into(),
            );
            Vec::new()
        }
    };
    let (mut starts, list_end) = lines.entry_starts();
    if starts.len() != items.len() {
        // A flow-style list (`entries: [...]`): every entry is reported at the list's line.
        starts = vec![top_line("entries"); items.len()];
    }
    let mut entries = Vec::new();
    let mut seen_ids: BTreeMap<String, usize> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let start = starts.get(i).copied().unwrap_or(0);
        let end = starts
            .get(i + 1)
            .copied()
            .unwrap_or(list_end)
            .max(start + 1);
        let at = |key: &str| lines.find_key(key, start, end).unwrap_or(start);
        if let Some(entry) = validate_entry(item, i, start, &at, &mut errors, &mut seen_ids) {
            entries.push(entry);
        }
    }
    if errors.is_empty() {
        Ok(Allowlist { entries })
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

fn validate_entry(
    item: &Value,
    index: usize,
    start: usize,
    at: &dyn Fn(&str) -> usize,
    errors: &mut Vec<AllowlistError>,
    seen_ids: &mut BTreeMap<String, usize>,
) -> Option<Entry> {
    let before = errors.len();
    let mut push = |line0: usize, message: String| {
        errors.push(AllowlistError {
            line: line0 + 1,
            message,
        })
    };
    let Value::Mapping(map) = item else {
        push(start, format!("entry {} is not a mapping", index + 1));
        return None;
    };
    let id = map.get("id").and_then(scalar_text).unwrap_or_default();
    let label = if id.is_empty() {
        format!("entry {}", index + 1)
    } else {
        format!("entry `{id}`")
    };
    for (k, _) in map {
        let name = scalar_text(k).unwrap_or_default();
        if !ENTRY_KEYS.contains(&name.as_str()) {
            push(
                at(&name),
                format!(
                    "{label}: unknown key `{name}` (expected one of {})",
                    ENTRY_KEYS.join(", ")
                ),
            );
        }
    }
    if id.trim().is_empty() {
        push(start, format!("{label}: `id` is required"));
    } else if let Some(first) = seen_ids.get(&id) {
        push(
            at("id"),
            format!("{label}: duplicate id (first used on line {first})"),
        );
    } else {
        seen_ids.insert(id.clone(), at("id") + 1);
    }
    let required = |key: &str, push: &mut dyn FnMut(usize, String)| -> String {
        match map.get(key).and_then(scalar_text) {
            Some(v) if !v.trim().is_empty() => v.trim().to_string(),
            Some(_) => {
                push(at(key), format!("{label}: `{key}` must not be empty"));
                String::new()
            }
            None => {
                push(start, format!("{label}: `{key}` is required"));
                String::new()
            }
        }
    };
    let reason = required("reason", &mut push);
    if reason.starts_with("REVIEW") {
        push(
            at("reason"),
            format!(
                "{label}: refused: its reason starts with REVIEW (a draft from `inventory \
                 --emit-allowlist`); review the exception and write the real reason"
            ),
        );
    }
    let owner = required("owner", &mut push);
    let expires = required("expires", &mut push);
    let mut expires_at = Timestamp::default();
    if !expires.is_empty() {
        match Timestamp::parse(&expires).filter(|_| expires.len() == 10) {
            Some(day) => expires_at = day.plus_secs(86_400),
            None => push(
                at("expires"),
                format!("{label}: `expires` must be a date like 2027-06-30, not {expires:?}"),
            ),
        }
    }
    let rules = match map.get("rules") {
        None | Some(Value::Null) => None,
        Some(Value::Sequence(seq)) => {
            let mut set = BTreeSet::new();
            for r in seq {
                let text = scalar_text(r).unwrap_or_default();
                match crate::rules::find(&text) {
                    Some(rule) => {
                        set.insert(rule);
                    }
                    None => push(at("rules"), format!("{label}: unknown rule {text:?}")),
                }
            }
            if seq.is_empty() {
                push(
                    at("rules"),
                    format!("{label}: `rules` is empty (leave it out for all rules)"),
                );
            }
            Some(set)
        }
        Some(_) => {
            push(
                at("rules"),
                format!("{label}: `rules` must be a list like [TT003, TT005]"),
            );
            None
        }
    };
    let matcher = validate_match(map.get("match"), &label, start, at, &mut push);
    if errors.len() > before {
        return None;
    }
    Some(Entry {
        id,
        reason,
        owner,
        expires,
        expires_at,
        rules,
        matcher,
        line: start + 1,
    })
}

fn validate_match(
    value: Option<&Value>,
    label: &str,
    start: usize,
    at: &dyn Fn(&str) -> usize,
    push: &mut dyn FnMut(usize, String),
) -> EntryMatch {
    let mut m = EntryMatch::default();
    let map = match value {
        Some(Value::Mapping(map)) if !map.is_empty() => map,
        Some(Value::Mapping(_)) | Some(Value::Null) | None => {
            push(
                value.map_or(start, |_| at("match")),
                format!(
                    "{label}: `match` needs at least one of {} (an entry that matches everything \
                     would hide every finding)",
                    MATCH_KEYS.join(", ")
                ),
            );
            return m;
        }
        Some(_) => {
            push(at("match"), format!("{label}: `match` must be a mapping"));
            return m;
        }
    };
    for (k, v) in map {
        let key = scalar_text(k).unwrap_or_default();
        let text = scalar_text(v).map(|t| t.trim().to_string());
        let line = at(&key);
        match (key.as_str(), text) {
            (_, None) => push(
                line,
                format!("{label}: match `{key}` must be a single value"),
            ),
            ("app_id", Some(t)) if !t.is_empty() => m.app_id = Some(t.to_ascii_lowercase()),
            ("service_principal_id", Some(t)) if !t.is_empty() => {
                m.service_principal_id = Some(t.to_ascii_lowercase())
            }
            ("user", Some(t)) if !t.is_empty() => m.user = Some(t.to_ascii_lowercase()),
            ("network", Some(t)) => match Cidr::parse(&t) {
                Some(c) => m.network = Some(c),
                None => push(
                    line,
                    format!("{label}: match `network` {t:?} is not a CIDR prefix"),
                ),
            },
            ("asn", Some(t)) => {
                let digits = t.trim_start_matches("AS").trim_start_matches("as");
                match digits.parse::<u32>() {
                    Ok(n) => m.asn = Some(n),
                    Err(_) => push(
                        line,
                        format!("{label}: match `asn` {t:?} is not an AS number"),
                    ),
                }
            }
            (k, Some(_)) if MATCH_KEYS.contains(&k) => {
                push(line, format!("{label}: match `{k}` must not be empty"))
            }
            (k, Some(_)) => push(
                line,
                format!(
                    "{label}: unknown match key `{k}` (expected one of {})",
                    MATCH_KEYS.join(", ")
                ),
            ),
        }
    }
    m
}
