//! Score findings against the ground truth of a synthetic tenant.
//!
//! Inputs: the OCSF JSON lines written by [`crate::ocsf`] (read back through their stable
//! places only, so any producer writing those places can be scored) and the simulator's
//! `labels.jsonl` (one [`Label`] per injected attack).
//!
//! # When a finding matches an attack
//! A finding *refers to* a label when any of these holds:
//! 1. **session**: the finding's `actor.session.uid` is the label's `session_id`;
//! 2. **token**: the finding's `actor.session.credential_uid` is one of the label's `token_ids`;
//! 3. **user and time**: the finding belongs to the label's user (`actor.user.uid` equal to the
//!    label's `user_id`, or `actor.user.name` equal to its UPN, both compared without case) and
//!    its `[first seen, last seen]` overlaps the label's `[start, end]` (bounds included). This
//!    applies only to findings that are not keyed on one session or token: findings with neither
//!    id, and the rules that group per user and client app (TT003, TT005). A TT001, TT002 or
//!    TT004 finding about another session or token of the same user does not match.
//!
//! Session and token ids are compared after the same normalization the model applies (GUID text
//! in lower case; opaque ids verbatim, case-sensitive), so `uti` in base64url and GUID text
//! compare equal. A label's `expected_rules` do not decide the match: they only say which rule
//! is expected to catch the attack, for the per-rule recall.
//!
//! # What is measured
//! - **recall per attack kind**: labels of that kind matched by at least one finding, over the
//!   labels of that kind;
//! - **recall per rule** R: labels expecting R (R in `expected_rules`) matched by a finding of
//!   rule R, over the labels expecting R; labels matched by R without expecting it are counted
//!   apart (`unexpected`);
//! - **overall recall**: labels matched by any finding, over all labels;
//! - **precision**: findings that match at least one label, over all scored findings.
//!
//! Suppressed findings (`status_id` 3) are not alerts and are not scored; they are counted in
//! [`Score::suppressed`]. A ratio with an empty denominator is `None` (`null` in JSON).
//!
//! # Expected misses
//! A label with `expected_miss` is an attack the rules are documented not to catch (a blind
//! spot, such as a residential proxy in the victim's own ISP). It is counted apart: left out of
//! every recall, listed in [`Score::expected_misses`] with whether a finding caught it anyway.
//! A finding that refers to it is still a true positive for precision.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;

use serde::Serialize;
use tokentrail_model::escape::{terminal, Shown};
use tokentrail_model::{AttackKind, Label, RuleId, SessionId, Timestamp, TokenId};

use crate::ocsf::{read_time, STATUS_SUPPRESSED};
use crate::ReportError;

/// A finding as read back from one OCSF line: the places scoring needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScoredFinding {
    /// `finding_info.uid`.
    pub id: String,
    /// `finding_info.analytic.uid`.
    pub rule: RuleId,
    /// `actor.user.uid`.
    pub user_id: Option<String>,
    /// `actor.user.name`.
    pub upn: Option<String>,
    /// `actor.session.uid`, normalized.
    pub session_id: Option<String>,
    /// `actor.session.credential_uid`, normalized.
    pub token_id: Option<String>,
    /// `finding_info.first_seen_time` (`_dt` when present).
    pub first_seen: Timestamp,
    /// `finding_info.last_seen_time` (`_dt` when present).
    pub last_seen: Timestamp,
    /// `status_id` is Suppressed.
    pub suppressed: bool,
}

/// Why a finding was found to refer to a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchReason {
    /// Same session id.
    Session,
    /// The finding's token is one of the label's tokens.
    Token,
    /// Same user, overlapping time, for findings not keyed on a session or token.
    UserAndTime,
}

fn normalize_session(text: &str) -> Option<String> {
    SessionId::parse(text).map(|s| s.to_string())
}

fn normalize_token(text: &str) -> Option<String> {
    TokenId::parse(text).map(|t| t.to_string())
}

/// Whether `finding` refers to the attack `label`, and why (see the module docs).
pub fn matches(finding: &ScoredFinding, label: &Label) -> Option<MatchReason> {
    if let (Some(fs), Some(ls)) = (
        &finding.session_id,
        label.session_id.as_deref().and_then(normalize_session),
    ) {
        if *fs == ls {
            return Some(MatchReason::Session);
        }
    }
    if let Some(ft) = &finding.token_id {
        if label
            .token_ids
            .iter()
            .filter_map(|t| normalize_token(t))
            .any(|lt| lt == *ft)
        {
            return Some(MatchReason::Token);
        }
    }
    let unkeyed = finding.session_id.is_none() && finding.token_id.is_none();
    if unkeyed || finding.rule.grouping().per_user() {
        let same_user = finding
            .user_id
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(&label.user_id))
            || finding
                .upn
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(&label.user));
        let overlaps = finding.first_seen <= label.end && label.start <= finding.last_seen;
        if same_user && overlaps {
            return Some(MatchReason::UserAndTime);
        }
    }
    None
}

/// Read OCSF JSON lines as written by [`crate::ocsf`]. Blank lines are skipped; any other line
/// that lacks a stable place is an error naming the line.
pub fn read_findings(path: &Path) -> Result<Vec<ScoredFinding>, ReportError> {
    let file = std::fs::File::open(path).map_err(|source| ReportError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_findings(std::io::BufReader::new(file), path)
}

/// [`read_findings`] over any reader; `path` names it in errors.
pub fn parse_findings<R: BufRead>(
    reader: R,
    path: &Path,
) -> Result<Vec<ScoredFinding>, ReportError> {
    let mut out = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line_no = index as u64 + 1;
        let line = line.map_err(|source| ReportError::Read {
            path: path.to_owned(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| ReportError::Line {
            path: path.to_owned(),
            line: line_no,
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| bad(format!("not JSON: {e}")))?;
        out.push(finding_from_value(&value).map_err(bad)?);
    }
    Ok(out)
}

fn text_at(value: &serde_json::Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// One OCSF finding read back; `Err` says which place is missing or wrong.
pub fn finding_from_value(value: &serde_json::Value) -> Result<ScoredFinding, String> {
    let id = text_at(value, "/finding_info/uid").ok_or_else(|| "no finding_info.uid".to_owned())?;
    let rule_text = text_at(value, "/finding_info/analytic/uid")
        .ok_or_else(|| "no finding_info.analytic.uid".to_owned())?;
    let rule = tokentrail_engine::rules::find(&rule_text)
        .ok_or_else(|| format!("finding_info.analytic.uid {rule_text:?} is not a rule id"))?;
    let first_seen = read_time(value, "/finding_info/first_seen_time")
        .or_else(|| read_time(value, "/start_time"))
        .ok_or_else(|| "no finding_info.first_seen_time".to_owned())?;
    let last_seen = read_time(value, "/finding_info/last_seen_time")
        .or_else(|| read_time(value, "/end_time"))
        .ok_or_else(|| "no finding_info.last_seen_time".to_owned())?;
    Ok(ScoredFinding {
        id,
        rule,
        user_id: text_at(value, "/actor/user/uid"),
        upn: text_at(value, "/actor/user/name"),
        session_id: text_at(value, "/actor/session/uid").and_then(|s| normalize_session(&s)),
        token_id: text_at(value, "/actor/session/credential_uid").and_then(|t| normalize_token(&t)),
        first_seen,
        last_seen,
        suppressed: value
            .pointer("/status_id")
            .and_then(serde_json::Value::as_u64)
            == Some(u64::from(STATUS_SUPPRESSED)),
    })
}

/// Read `labels.jsonl`: one [`Label`] per line, blank lines skipped.
pub fn read_labels(path: &Path) -> Result<Vec<Label>, ReportError> {
    let file = std::fs::File::open(path).map_err(|source| ReportError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_labels(std::io::BufReader::new(file), path)
}

/// [`read_labels`] over any reader; `path` names it in errors.
pub fn parse_labels<R: BufRead>(reader: R, path: &Path) -> Result<Vec<Label>, ReportError> {
    let mut out = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line.map_err(|source| ReportError::Read {
            path: path.to_owned(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| ReportError::Line {
            path: path.to_owned(),
            line: index as u64 + 1,
            message,
        };
        let label: Label<String> =
            serde_json::from_str(&line).map_err(|e| bad(format!("not a label: {e}")))?;
        out.push(
            label
                .resolve(tokentrail_engine::rules::find)
                .map_err(|e| bad(format!("not a label: {e}")))?,
        );
    }
    Ok(out)
}

/// A ratio with its parts.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Ratio {
    /// Numerator.
    pub hit: usize,
    /// Denominator.
    pub of: usize,
    /// `hit / of`, `None` when `of` is 0.
    pub value: Option<f64>,
}

impl Ratio {
    fn new(hit: usize, of: usize) -> Ratio {
        Ratio {
            hit,
            of,
            value: (of > 0).then(|| hit as f64 / of as f64),
        }
    }
}

impl std::fmt::Display for Ratio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.value {
            Some(v) => write!(f, "{v:.3} ({}/{})", self.hit, self.of),
            None => write!(f, "n/a (0/0)"),
        }
    }
}

/// Recall for one attack kind.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KindScore {
    /// The kind.
    pub kind: AttackKind,
    /// Labels of this kind detected by any finding, over labels of this kind.
    pub recall: Ratio,
}

/// Recall for one rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleScore {
    /// The rule.
    pub rule: RuleId,
    /// Labels expecting this rule and matched by one of its findings, over labels expecting it.
    pub recall: Ratio,
    /// Labels expecting this rule that none of its findings matched.
    pub missed: Vec<String>,
    /// Labels not expecting this rule that one of its findings matched anyway.
    pub unexpected: Vec<String>,
    /// Scored findings of this rule.
    pub findings: usize,
    /// Of those, the ones that match a label.
    pub matched_findings: usize,
}

/// An attack no finding matched.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MissedAttack {
    /// Label id.
    pub id: String,
    /// Kind.
    pub kind: AttackKind,
    /// Victim UPN.
    pub user: String,
    /// Session, when the attack had one.
    pub session_id: Option<String>,
    /// Rules expected to catch it.
    pub expected_rules: Vec<RuleId>,
    /// First attacker record.
    pub start: Timestamp,
    /// Last attacker record.
    pub end: Timestamp,
}

/// An attack labelled as an expected miss (a documented blind spot), scored apart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExpectedMiss {
    /// Label id.
    pub id: String,
    /// Kind.
    pub kind: AttackKind,
    /// Victim UPN.
    pub user: String,
    /// True when a finding refers to it after all.
    pub caught: bool,
    /// What it is, as the label describes it.
    pub description: String,
}

/// A finding that matched no attack (a false positive on a synthetic tenant).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnmatchedFinding {
    /// `finding_info.uid`.
    pub id: String,
    /// Rule.
    pub rule: RuleId,
    /// UPN, else user object id.
    pub user: Option<String>,
    /// Session.
    pub session_id: Option<String>,
    /// Token.
    pub token_id: Option<String>,
    /// First seen.
    pub first_seen: Timestamp,
}

/// The whole score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Score {
    /// Labels scored for recall (expected misses are not among them).
    pub labels: usize,
    /// Findings scored (not suppressed).
    pub findings: usize,
    /// Suppressed findings, not scored.
    pub suppressed: usize,
    /// Labels detected by any finding, over all labels.
    pub recall: Ratio,
    /// Findings matching any label, over scored findings.
    pub precision: Ratio,
    /// Per attack kind present in the labels, in [`AttackKind::ALL`] order.
    pub per_kind: Vec<KindScore>,
    /// Per rule expected by a label or seen in a finding, in id order.
    pub per_rule: Vec<RuleScore>,
    /// Attacks no finding matched, in label order.
    pub missed: Vec<MissedAttack>,
    /// Findings that matched no attack, in input order.
    pub unmatched: Vec<UnmatchedFinding>,
    /// Attacks labelled as expected misses, in label order, scored apart.
    pub expected_misses: Vec<ExpectedMiss>,
}

/// Score `findings` against `labels` (see the module docs for the definitions).
pub fn score(findings: &[ScoredFinding], labels: &[Label]) -> Score {
    let scored: Vec<&ScoredFinding> = findings.iter().filter(|f| !f.suppressed).collect();
    // For each label, the rules of the findings that match it; for each finding, whether any
    // label matches it.
    let mut label_rules: Vec<BTreeSet<RuleId>> = vec![BTreeSet::new(); labels.len()];
    let mut finding_matched = vec![false; scored.len()];
    for (fi, f) in scored.iter().enumerate() {
        for (li, l) in labels.iter().enumerate() {
            if matches(f, l).is_some() {
                if let Some(slot) = label_rules.get_mut(li) {
                    slot.insert(f.rule);
                }
                if let Some(slot) = finding_matched.get_mut(fi) {
                    *slot = true;
                }
            }
        }
    }
    let detected = |li: usize| label_rules.get(li).is_some_and(|r| !r.is_empty());
    // Recall is over the attacks the rules claim; expected misses are listed apart.
    let claimed = |li: usize| labels.get(li).is_some_and(|l| !l.expected_miss);
    let claimed_count = (0..labels.len()).filter(|&li| claimed(li)).count();

    let per_kind = AttackKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let of: Vec<usize> = (0..labels.len())
                .filter(|&li| claimed(li) && labels.get(li).is_some_and(|l| l.kind == kind))
                .collect();
            (!of.is_empty()).then(|| KindScore {
                kind,
                recall: Ratio::new(of.iter().filter(|&&li| detected(li)).count(), of.len()),
            })
        })
        .collect();

    let mut per_rule = Vec::new();
    for rule in tokentrail_engine::rules::ids() {
        let mut expected = 0;
        let mut hit = 0;
        let mut missed = Vec::new();
        let mut unexpected = Vec::new();
        for (li, l) in labels.iter().enumerate().filter(|(li, _)| claimed(*li)) {
            let caught = label_rules.get(li).is_some_and(|r| r.contains(&rule));
            if l.expected_rules.contains(&rule) {
                expected += 1;
                if caught {
                    hit += 1;
                } else {
                    missed.push(l.id.clone());
                }
            } else if caught {
                unexpected.push(l.id.clone());
            }
        }
        let of_rule: Vec<usize> = (0..scored.len())
            .filter(|&fi| scored.get(fi).is_some_and(|f| f.rule == rule))
            .collect();
        if expected == 0 && of_rule.is_empty() {
            continue;
        }
        per_rule.push(RuleScore {
            rule,
            recall: Ratio::new(hit, expected),
            missed,
            unexpected,
            findings: of_rule.len(),
            matched_findings: of_rule
                .iter()
                .filter(|&&fi| finding_matched.get(fi).copied().unwrap_or(false))
                .count(),
        });
    }

    let missed = labels
        .iter()
        .enumerate()
        .filter(|&(li, _)| claimed(li) && !detected(li))
        .map(|(_, l)| MissedAttack {
            id: l.id.clone(),
            kind: l.kind,
            user: l.user.clone(),
            session_id: l.session_id.clone(),
            expected_rules: l.expected_rules.clone(),
            start: l.start,
            end: l.end,
        })
        .collect();
    let unmatched = scored
        .iter()
        .zip(&finding_matched)
        .filter(|(_, &m)| !m)
        .map(|(f, _)| UnmatchedFinding {
            id: f.id.clone(),
            rule: f.rule,
            user: f.upn.clone().or_else(|| f.user_id.clone()),
            session_id: f.session_id.clone(),
            token_id: f.token_id.clone(),
            first_seen: f.first_seen,
        })
        .collect();

    let expected_misses = labels
        .iter()
        .enumerate()
        .filter(|&(li, _)| !claimed(li))
        .map(|(li, l)| ExpectedMiss {
            id: l.id.clone(),
            kind: l.kind,
            user: l.user.clone(),
            caught: detected(li),
            description: l.description.clone(),
        })
        .collect();
    Score {
        labels: claimed_count,
        findings: scored.len(),
        suppressed: findings.len() - scored.len(),
        recall: Ratio::new(
            (0..labels.len())
                .filter(|&li| claimed(li) && detected(li))
                .count(),
            claimed_count,
        ),
        precision: Ratio::new(finding_matched.iter().filter(|&&m| m).count(), scored.len()),
        per_kind,
        per_rule,
        missed,
        unmatched,
        expected_misses,
    }
}

impl Score {
    /// The human report. Ids, users and descriptions come from files anyone may have written:
    /// they are shown as the terminal renderer shows any logged text.
    pub fn to_text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "{} attacks, {} findings scored ({} suppressed, not scored)",
            self.labels, self.findings, self.suppressed
        );
        if !self.expected_misses.is_empty() {
            let _ = writeln!(
                t,
                "{} more attack(s) labelled as expected misses (documented blind spots), scored apart",
                self.expected_misses.len()
            );
        }
        let _ = writeln!(t, "recall     {}", self.recall);
        let _ = writeln!(t, "precision  {}", self.precision);
        if !self.per_kind.is_empty() {
            let _ = writeln!(t, "\nrecall per attack kind:");
            for k in &self.per_kind {
                let _ = writeln!(t, "  {:<20} {}", k.kind.as_str(), k.recall);
            }
        }
        if !self.per_rule.is_empty() {
            let _ = writeln!(t, "\nrecall per rule (attacks expecting the rule):");
            for r in &self.per_rule {
                let _ = writeln!(
                    t,
                    "  {}  {:<18} findings {}, matching an attack {}{}",
                    r.rule,
                    r.recall.to_string(),
                    r.findings,
                    r.matched_findings,
                    if r.unexpected.is_empty() {
                        String::new()
                    } else {
                        format!(", also caught {}", terminal(&r.unexpected.join(" ")))
                    }
                );
            }
        }
        let _ = writeln!(t, "\nmissed attacks ({}):", self.missed.len());
        for m in &self.missed {
            let rules: Vec<&str> = m.expected_rules.iter().map(|r| r.code()).collect();
            let _ = writeln!(
                t,
                "  {}  {}  {}  session {}  expected {}  {} .. {}",
                Shown(&m.id),
                m.kind.as_str(),
                Shown(&m.user),
                Shown(m.session_id.as_deref().unwrap_or("-")),
                if rules.is_empty() {
                    "-".to_owned()
                } else {
                    rules.join(",")
                },
                m.start,
                m.end
            );
        }
        if !self.expected_misses.is_empty() {
            let _ = writeln!(
                t,
                "\nexpected misses ({}, not in recall):",
                self.expected_misses.len()
            );
            for m in &self.expected_misses {
                let _ = writeln!(
                    t,
                    "  {}  {}  {}  {}  {}",
                    Shown(&m.id),
                    m.kind.as_str(),
                    Shown(&m.user),
                    if m.caught { "caught anyway" } else { "missed" },
                    Shown(&m.description)
                );
            }
        }
        let _ = writeln!(t, "\nunmatched findings ({}):", self.unmatched.len());
        for u in &self.unmatched {
            let _ = writeln!(
                t,
                "  {}  {}  {}  session {}  token {}  first seen {}",
                Shown(&u.id),
                u.rule,
                Shown(u.user.as_deref().unwrap_or("-")),
                Shown(u.session_id.as_deref().unwrap_or("-")),
                Shown(u.token_id.as_deref().unwrap_or("-")),
                u.first_seen
            );
        }
        t
    }

    /// Recall per attack kind as a map, for callers that look one up.
    pub fn recall_by_kind(&self) -> BTreeMap<AttackKind, Option<f64>> {
        self.per_kind
            .iter()
            .map(|k| (k.kind, k.recall.value))
            .collect()
    }
}
