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
//!
//! Catch-all entries are refused, because one of them silences a whole tenant: a `network`
//! wider than a /16 of IPv4 ([`MAX_IPV4_PREFIX`]) or a /32 of IPv6 ([`MAX_IPV6_PREFIX`]),
//! IPv4-mapped and NAT64 forms included (private ranges excepted); a value with `*` or `?` (values are compared exactly,
//! so a pattern is a mistake or an attempt at one); an `expires` more than
//! [`MAX_EXPIRY_DAYS`] days after the run. The file itself is bounded ([`MAX_BYTES`],
//! [`MAX_ENTRIES`]), and checking it costs time linear in its size.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read as _;
use std::net::IpAddr;
use std::path::Path;

use serde::Serialize;
use serde_yaml::Value;
use tokentrail_model::{RuleId, Timestamp};

use crate::cidr::Cidr;

/// Largest allowlist file read: 1 MiB, some thousands of entries.
pub const MAX_BYTES: usize = 1024 * 1024;
/// Most entries in one allowlist.
pub const MAX_ENTRIES: usize = 10_000;
/// Latest expiry accepted, in days after the run: an exception is reviewed at least yearly.
pub const MAX_EXPIRY_DAYS: i64 = 366;
/// Widest IPv4 `network` accepted (a /16: 65,536 addresses, a large organization's range).
pub const MAX_IPV4_PREFIX: u8 = 16;
/// Widest IPv6 `network` accepted (a /32: an organization's or provider's allocation).
pub const MAX_IPV6_PREFIX: u8 = 32;

/// Read an allowlist file, refusing one larger than [`MAX_BYTES`] before reading it all.
pub fn read_file(path: &Path) -> std::io::Result<String> {
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_BYTES as u64 + 1)
        .read_to_string(&mut text)?;
    if text.len() > MAX_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than the allowlist limit of {MAX_BYTES} bytes"),
        ));
    }
    Ok(text)
}

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
    /// Every entry in force, in file order, with the findings it suppressed (0 included): a
    /// run says what each exception hid.
    pub in_force: Vec<(EntryStatus, u64)>,
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
                continue;
            }
            let suppressed = report.applied.get(&e.id).copied().unwrap_or(0);
            if suppressed == 0 {
                report.unused.push(EntryStatus::of(e));
            }
            report.in_force.push((EntryStatus::of(e), suppressed));
        }
    }
}

/// Where entries and keys sit in the text, so errors can name lines. The YAML is simple enough
/// (one list of mappings) that a scan of indentation finds each entry's first line, and one
/// pass over the lines indexes where each mapping key is written, so that naming the line of
/// any key costs a lookup, not a scan (a file of many unknown keys stays linear).
struct Lines<'t> {
    lines: Vec<&'t str>,
    /// Each mapping key written in the text, with the 0-based lines it is on, ascending.
    keys: HashMap<&'t str, Vec<usize>>,
    /// Lines looked at so far, over every lookup: the work the line numbers cost.
    visited: std::cell::Cell<usize>,
}

/// The lines of `text` as YAML counts them, so that line numbers agree with the YAML
/// parser's: a line ends at `\n`, `\r\n`, a lone `\r` (found by fuzzing: the parser named
/// lines past the end of a file with carriage returns), U+0085, U+2028 or U+2029.
pub fn yaml_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']) {
        lines.push(&rest[..at]);
        let tail = &rest[at..];
        let mut chars = tail.chars();
        let c = chars.next().unwrap_or('\n');
        rest = chars.as_str();
        if c == '\r' {
            rest = rest.strip_prefix('\n').unwrap_or(rest);
        }
    }
    if !rest.is_empty() {
        lines.push(rest);
    }
    lines
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn is_blank(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// The mapping keys written on one line (comment removed): block keys after the indentation
/// and any `- ` list markers, flow keys after `{` or `,`, plain or quoted.
fn line_keys(code: &str) -> Vec<&str> {
    let mut keys = Vec::new();
    let mut rest = code;
    let mut key_may_start = true;
    while let Some(c) = rest.chars().next() {
        if key_may_start {
            match c {
                ' ' | '\t' | '{' | ',' => {
                    rest = &rest[1..];
                    continue;
                }
                '-' if rest[1..].starts_with([' ', '\t']) || rest.len() == 1 => {
                    rest = &rest[1..];
                    continue;
                }
                '"' | '\'' => {
                    let Some(close) = rest[1..].find(c) else {
                        break;
                    };
                    let key = &rest[1..=close];
                    rest = &rest[close + 2..];
                    if rest.trim_start().starts_with(':') {
                        keys.push(key);
                    }
                }
                _ => {
                    // A plain key ends at `: ` (or a `:` ending the line); a `,`, `{` or `}`
                    // first means this was a value.
                    let end = rest
                        .char_indices()
                        .find(|&(i, ch)| {
                            matches!(ch, ',' | '{' | '}')
                                || (ch == ':'
                                    && matches!(
                                        rest[i + 1..].chars().next(),
                                        None | Some(' ' | '\t' | ',' | '}')
                                    ))
                        })
                        .map(|(i, _)| i);
                    match end {
                        Some(end) if rest[end..].starts_with(':') => {
                            keys.push(rest[..end].trim_end());
                            rest = &rest[end + 1..];
                        }
                        Some(end) => rest = &rest[end..],
                        None => break,
                    }
                }
            }
            key_may_start = false;
            continue;
        }
        match c {
            '{' | ',' => key_may_start = true,
            '"' | '\'' => {
                // A quoted value: skip to its end.
                match rest[1..].find(c) {
                    Some(close) => {
                        rest = &rest[close + 2..];
                        continue;
                    }
                    None => break,
                }
            }
            _ => {}
        }
        rest = &rest[c.len_utf8()..];
    }
    keys
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Self {
        let lines = yaml_lines(text);
        let mut keys: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, line) in lines.iter().enumerate() {
            let code = line.split('#').next().unwrap_or("");
            for key in line_keys(code) {
                keys.entry(key).or_default().push(i);
            }
        }
        Lines {
            visited: std::cell::Cell::new(lines.len()),
            lines,
            keys,
        }
    }

    /// 0-based index of the first line holding `key:` in `[from, to)`.
    fn find_key(&self, key: &str, from: usize, to: usize) -> Option<usize> {
        let at = self.keys.get(key)?;
        let first = at.partition_point(|&i| i < from);
        self.visited.set(self.visited.get() + 1);
        at.get(first).copied().filter(|&i| i < to)
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

/// Parse and validate an allowlist for a run at `now`: an `expires` more than
/// [`MAX_EXPIRY_DAYS`] after `now` is refused. An entry that has already expired is still
/// valid: it is reported at the end of the run, not refused.
pub fn parse(text: &str, now: Timestamp) -> Result<Allowlist, Vec<AllowlistError>> {
    if text.len() > MAX_BYTES {
        return Err(vec![AllowlistError {
            line: 1,
            message: format!(
                "the allowlist is {} bytes, more than the limit of {MAX_BYTES}",
                text.len()
            ),
        }]);
    }
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
    if items.len() > MAX_ENTRIES {
        return Err(vec![AllowlistError {
            line: top_line("entries") + 1,
            message: format!(
                "{} entries, more than the limit of {MAX_ENTRIES}",
                items.len()
            ),
        }]);
    }
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
        let place = Place {
            index: i,
            start,
            now,
        };
        if let Some(entry) = validate_entry(item, &place, &at, &mut errors, &mut seen_ids) {
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

/// Where an entry is, and the run it is checked for.
struct Place {
    /// 0-based position in the list.
    index: usize,
    /// 0-based first line.
    start: usize,
    /// The run's time, which bounds `expires`.
    now: Timestamp,
}

fn validate_entry(
    item: &Value,
    place: &Place,
    at: &dyn Fn(&str) -> usize,
    errors: &mut Vec<AllowlistError>,
    seen_ids: &mut BTreeMap<String, usize>,
) -> Option<Entry> {
    let (index, start) = (place.index, place.start);
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
            Some(day) if day > place.now.plus_secs(MAX_EXPIRY_DAYS * 86_400) => push(
                at("expires"),
                format!(
                    "{label}: `expires` {expires} is more than {MAX_EXPIRY_DAYS} days after {} \
                     (the date of the run): an exception is renewed at least once a year",
                    place.now.to_rfc3339().get(..10).unwrap_or_default()
                ),
            ),
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
            ("app_id" | "service_principal_id" | "user", Some(t)) if t.contains(['*', '?']) => {
                push(
                    line,
                    format!(
                        "{label}: match `{key}` {t:?} is a pattern: values are compared \
                         exactly, and a catch-all entry is refused"
                    ),
                )
            }
            ("app_id", Some(t)) if !t.is_empty() => m.app_id = Some(t.to_ascii_lowercase()),
            ("service_principal_id", Some(t)) if !t.is_empty() => {
                m.service_principal_id = Some(t.to_ascii_lowercase())
            }
            ("user", Some(t)) if !t.is_empty() => m.user = Some(t.to_ascii_lowercase()),
            ("network", Some(t)) => match Cidr::parse(&t) {
                Some(c) => match too_wide(c) {
                    Some(family) => push(
                        line,
                        format!(
                            "{label}: match `network` {t:?} covers more than {family}: an entry \
                             this wide hides findings from anywhere (the limits are /{MAX_IPV4_PREFIX} \
                             for IPv4 and /{MAX_IPV6_PREFIX} for IPv6; `asn` names a provider's \
                             whole network)"
                        ),
                    ),
                    None => m.network = Some(c),
                },
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

/// Which limit a prefix breaks, if any: more than a /32 of IPv6, or more than a /16 of the
/// IPv4 addresses, counted in each form an IPv4 address takes in IPv6 (mapped `::ffff:0:0/96`,
/// NAT64 `64:ff9b::/96`), so `::ffff:0.0.0.0/96` is as wide as `0.0.0.0/0`.
///
/// A prefix inside a private range (`10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`,
/// `fc00::/7`) names the organization's own network, whatever its width, and is accepted.
fn too_wide(c: Cidr) -> Option<&'static str> {
    let (start, end) = c.interval();
    let private = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"];
    if private.iter().filter_map(|p| Cidr::parse(p)).any(|p| {
        let (lo, hi) = p.interval();
        lo <= start && end <= hi
    }) {
        return None;
    }
    if end - start >= 1u128 << (128 - MAX_IPV6_PREFIX) {
        return Some("a /32 of IPv6");
    }
    const IPV4_IN_IPV6: [u128; 2] = [0xffff_0000_0000, 0x0064_ff9b_u128 << 96];
    for base in IPV4_IN_IPV6 {
        let (lo, hi) = (start.max(base), end.min(base + 0xffff_ffff));
        if lo <= hi && hi - lo >= 1u128 << (32 - MAX_IPV4_PREFIX) {
            return Some("a /16 of IPv4");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_where_yaml_ends_them() {
        assert_eq!(
            yaml_lines("a\nb\r\nc\rd\u{85}e\u{2028}f\u{2029}g"),
            ["a", "b", "c", "d", "e", "f", "g"]
        );
        assert_eq!(yaml_lines("a\n"), ["a"]);
        assert_eq!(yaml_lines("a\n\nb"), ["a", "", "b"]);
        assert!(yaml_lines("").is_empty());
        // A YAML error names a line the file has.
        let text = "version: 1\rentries: [\r  {id: x,\r";
        let errors = parse(text, Timestamp::default()).unwrap_err();
        assert!(errors[0].line <= yaml_lines(text).len() + 1, "{errors:?}");
        // And so do the checks: this file ends its lines with carriage returns.
        let text = "version: 1\rentries:\r  - id: x\r    reason: r\r    owner: o\r    expires: 2027-01-31\r    match: { colour: blue }\r";
        let errors = parse(text, Timestamp::parse("2026-12-01").unwrap()).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 7, "{errors:?}");
    }

    /// Issue 14: 380 KB of unknown keys took 26 s, each key's line looked up by a scan of its
    /// entry. The work to place every key must grow with the text, not with its square.
    #[test]
    fn line_numbers_cost_work_linear_in_the_text() {
        let mut text = String::from("version: 1\nentries:\n  - id: x\n    reason: r\n    owner: o\n    expires: 2027-01-01\n    match: { asn: 1 }\n");
        for i in 0..5_000 {
            text.push_str(&format!("    unknown{i}: v\n"));
        }
        let lines = Lines::new(&text);
        let (starts, end) = lines.entry_starts();
        assert_eq!(starts, [2]);
        for i in (0..5_000).step_by(7) {
            assert_eq!(
                lines.find_key(&format!("unknown{i}"), 2, end),
                Some(7 + i),
                "key {i}"
            );
        }
        let visited = lines.visited.get();
        assert!(
            visited <= 4 * lines.lines.len(),
            "{visited} line visits for {} lines",
            lines.lines.len()
        );
    }
}
