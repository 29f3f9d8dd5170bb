//! The options of every command that judges records (`detect`, `demo`, `report`,
//! `investigate`, `timeline`, `inventory`, `coverage`), parsed by one clap struct flattened into
//! each and compiled once, before the first record is read, by one function: the commands
//! cannot disagree about what is approved, which network an address is in, or which findings
//! are reported (`--since`/`--until`, `--rules`, `--min-severity` are applied by the engine
//! itself, so every command inherits them).
//!
//! Also here: records whose time cannot be right (before 2000, more than a day past the run's
//! clock) are listed with their place and kept out of every command's judging and baselines.
//! Records more than a day past the newest record of their log are listed too, but judged: the
//! last records of an export are where an attacker acting after a quiet weekend would be, and
//! one refresh and one mailbox read are company enough for nobody.

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use tokentrail_engine::coverage::Family;
use tokentrail_engine::record_times::{Admission, Implausible, RecordTimes};
use tokentrail_engine::{allowlist, EngineConfig};
use tokentrail_ingest::{Decoded, DecodedRecord, IngestReport};
use tokentrail_model::escape::Shown;
use tokentrail_model::{RuleId, Severity, SourceRef, Timestamp};

use super::{parse_time, parse_window, wall_clock};
use crate::exit;

/// The judging options (see the module docs).
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Judging options (the same for every command that judges)")]
pub struct JudgingArgs {
    /// Allowlist (YAML, version 1) of approved patterns; the format is in docs/allowlist.md.
    /// Findings it matches are suppressed everywhere: in detect, report and investigate.
    #[arg(long, value_name = "FILE")]
    pub allowlist: Option<PathBuf>,
    /// ASN database for addresses the sign-in logs give no ASN: a MaxMind .mmdb
    /// (GeoLite2-ASN), an address-range CSV (@ip-location-db/asn), or a folder of them.
    /// Default: the one in $XDG_DATA_HOME/tokentrail/ (~/.local/share/tokentrail/), if any.
    #[arg(long, value_name = "FILE|DIR")]
    pub asn_db: Option<PathBuf>,
    /// Report only findings (and timeline rows) from this time on (RFC 3339, or a date). Every
    /// record is still judged: baselines, inventories and lookbacks use all input.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub since: Option<Timestamp>,
    /// Report only findings (and timeline rows) up to this time (RFC 3339, or a date); as
    /// --since, it never drops records.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<Timestamp>,
    /// The export window the logs were queried for (`FROM..TO`, RFC 3339 or dates): every log
    /// given covers it unless the data show a hole (docs/rules/TT003.md, "Coverage"). Default:
    /// the span of the input.
    #[arg(long, value_name = "FROM..TO", value_parser = parse_window)]
    pub window: Option<(Timestamp, Timestamp)>,
    /// Report only findings at least this severe: informational, low, medium, high or critical
    /// (hayabusa's --min-level is accepted too). Severity as finally judged: TT003 raises
    /// TT001/TT002 on its sessions even when TT003 itself is not reported.
    #[arg(long, visible_alias = "min-level", value_name = "SEVERITY", value_parser = parse_severity)]
    pub min_severity: Option<Severity>,
    /// Report only these rules, by code or name, comma-separated or repeated
    /// (`--rules TT001,TT002`, `--rules token-replay`); a rule written with a leading `-` is
    /// left out instead (`--rules -TT005` reports every rule but TT005). Every rule still
    /// judges every record.
    #[arg(long, value_name = "RULES", allow_hyphen_values = true)]
    pub rules: Vec<String>,
    /// Leave these rules out, by code or name, comma-separated or repeated (hayabusa's and
    /// chainsaw's exclude style; the same as `--rules -TT005`).
    #[arg(long, value_name = "RULES")]
    pub exclude_rules: Vec<String>,
    /// The time of the run (default: now, UTC): allowlist expiry, the report's date, and the
    /// latest plausible record time.
    #[arg(long, value_name = "TIME", value_parser = parse_time, hide = true)]
    pub now: Option<Timestamp>,
}

/// The judging options compiled: the engine's configuration and the record-time check.
#[derive(Debug)]
pub struct Judging {
    /// Allowlist, ASN database, reporting window and clock; the read options (threads,
    /// accesses in memory) are the command's to set.
    pub config: EngineConfig,
    /// Records whose time cannot be right, found while reading.
    pub times: TimeCheck,
}

impl JudgingArgs {
    /// Read and check the allowlist and ASN database and the window, reporting every allowlist
    /// error at once. Called before any input is read.
    pub fn compile(&self) -> anyhow::Result<Judging> {
        if let (Some(since), Some(until)) = (self.since, self.until) {
            if since > until {
                bail!("--since {since} is after --until {until}: no finding could be reported");
            }
        }
        let now = self.now.unwrap_or_else(wall_clock);
        let mut config = EngineConfig {
            since: self.since,
            until: self.until,
            rules: rule_selection(&self.rules, &self.exclude_rules)?,
            min_severity: self.min_severity,
            window: self.window,
            now,
            ..EngineConfig::default()
        };
        if let Some(path) = &self.allowlist {
            let text = allowlist::read_file(path)
                .with_context(|| format!("cannot read allowlist {}", path.display()))?;
            match allowlist::parse(&text, now) {
                Ok(list) => config.allowlist = Some(list),
                Err(errors) => {
                    let mut message = format!(
                        "allowlist {} has {} error(s):",
                        path.display(),
                        errors.len()
                    );
                    for e in &errors {
                        message.push_str(&format!(
                            "\n  {}:{}: {}",
                            path.display(),
                            e.line,
                            e.message
                        ));
                    }
                    bail!(message);
                }
            }
        }
        config.asn_db = crate::asn::resolve(self.asn_db.as_deref(), now, &mut io::stderr().lock())?;
        Ok(Judging {
            config,
            times: TimeCheck::new(now),
        })
    }
}

/// The rules named on the command line, each by code or name (`TT001`, `token-replay`, any
/// case). The one place rules are looked up by name in the binary.
fn rule_named(text: &str) -> Option<RuleId> {
    tokentrail_engine::rules::find(text)
}

/// Every rule as `TT001 token-replay`, for messages.
fn known_rules() -> String {
    tokentrail_engine::rules::ids()
        .map(|r| format!("{} {}", r.code(), r.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rules to report from `--rules` (items with a leading `-` are exclusions) and
/// `--exclude-rules`; `None` when every rule is reported. Every unknown name is reported at
/// once, and so is a rule both included and excluded.
fn rule_selection(
    rules: &[String],
    excluded: &[String],
) -> anyhow::Result<Option<BTreeSet<RuleId>>> {
    let items = |lists: &[String]| -> Vec<String> {
        lists
            .iter()
            .flat_map(|l| l.split(','))
            .map(|i| i.trim().to_string())
            .filter(|i| !i.is_empty())
            .collect()
    };
    let (mut include, mut exclude) = (BTreeSet::new(), BTreeSet::new());
    let mut unknown = Vec::new();
    let named = items(rules)
        .into_iter()
        .map(|i| match i.strip_prefix('-') {
            Some(rest) => (rest.trim().to_string(), false),
            None => (i, true),
        })
        .chain(items(excluded).into_iter().map(|i| (i, false)));
    for (name, included) in named {
        match rule_named(&name) {
            Some(rule) if included => {
                include.insert(rule);
            }
            Some(rule) => {
                exclude.insert(rule);
            }
            None => unknown.push(name),
        }
    }
    if !unknown.is_empty() {
        let shown: Vec<String> = unknown
            .iter()
            .map(|u| format!("{:?}", Shown(u).to_string()))
            .collect();
        bail!(
            "no such rule: {} (the rules are {})",
            shown.join(", "),
            known_rules()
        );
    }
    if let Some(both) = include.intersection(&exclude).next() {
        bail!("{both} is both selected and left out by --rules/--exclude-rules");
    }
    if include.is_empty() && exclude.is_empty() {
        return Ok(None);
    }
    let base: BTreeSet<RuleId> = if include.is_empty() {
        tokentrail_engine::rules::ids().collect()
    } else {
        include
    };
    let selected: BTreeSet<RuleId> = base.difference(&exclude).copied().collect();
    if selected.is_empty() {
        bail!(
            "--rules/--exclude-rules leave no rule to report (the rules are {})",
            known_rules()
        );
    }
    Ok(Some(selected))
}

fn parse_severity(text: &str) -> Result<Severity, String> {
    Severity::parse(text).ok_or_else(|| {
        format!("not a severity: {text:?} (informational, low, medium, high or critical)")
    })
}

/// What the judging options did in this run, on `err`: the findings judged but not reported
/// (outside `--since`/`--until`, or left out by `--rules` or `--min-severity`), then the
/// allowlist's notes. Every command that reports findings says it, every run.
pub fn write_judging_notes(
    err: &mut impl Write,
    detection: &tokentrail_engine::Detection,
) -> io::Result<()> {
    let stats = &detection.stats;
    if stats.outside_time_window > 0 {
        writeln!(
            err,
            "tokentrail: {} finding(s) lie wholly outside --since/--until: judged, not reported",
            stats.outside_time_window
        )?;
    }
    if stats.not_selected > 0 {
        writeln!(
            err,
            "tokentrail: {} finding(s) of rules left out by --rules, or below --min-severity: judged, not reported",
            stats.not_selected
        )?;
    }
    write_allowlist_notes(err, &detection.allowlist)
}

/// What the allowlist did in this run, on `err`: each expired entry, and each entry in force
/// with the findings it suppressed, 0 included. Every command that judges with an allowlist
/// prints it, every run, so an entry that hides too much is seen.
fn write_allowlist_notes(
    err: &mut impl Write,
    report: &tokentrail_engine::AllowlistReport,
) -> io::Result<()> {
    for e in &report.expired {
        writeln!(
            err,
            "tokentrail: allowlist entry {:?} (line {}) expired on {}: it no longer applies (owner {})",
            e.id,
            e.line,
            e.expires,
            Shown(&e.owner)
        )?;
    }
    for (e, suppressed) in &report.in_force {
        writeln!(
            err,
            "tokentrail: allowlist entry {:?} (line {}) suppressed {suppressed} finding(s) (owner {}){}",
            e.id,
            e.line,
            Shown(&e.owner),
            if *suppressed == 0 {
                ": it matched no finding"
            } else {
                ""
            }
        )?;
    }
    Ok(())
}

/// Implausible records listed by place; the rest are counted.
const MAX_LISTED: usize = 20;

/// The log a record belongs to and its time, for the records whose times the rules use.
fn log_and_time(record: &DecodedRecord) -> Option<(Family, Timestamp, &SourceRef)> {
    match &record.event {
        Decoded::SignIn(s) => Some((Family::SignIn(s.kind), s.time, &s.source)),
        Decoded::Access(a) => Some((Family::Access(a.log), a.time, &a.source)),
        Decoded::Other(_) => None,
    }
}

/// Sets aside, while records are read, those whose time cannot be right
/// ([`tokentrail_engine::record_times`]), so no command learns from them. Records that must
/// wait for the whole input are held back and handed on by [`TimeCheck::release`].
#[derive(Debug)]
pub struct TimeCheck {
    times: RecordTimes,
    held: Vec<DecodedRecord>,
    /// Records set aside.
    count: u64,
    /// Records judged although they lie past the end of their log.
    late: u64,
    listed: Vec<(SourceRef, Timestamp, Implausible)>,
}

impl TimeCheck {
    /// Check against the run's clock `now`.
    pub fn new(now: Timestamp) -> TimeCheck {
        TimeCheck {
            times: RecordTimes::new(now),
            held: Vec::new(),
            count: 0,
            late: 0,
            listed: Vec::new(),
        }
    }

    fn set_aside(&mut self, source: &SourceRef, time: Timestamp, why: Implausible) {
        if why.keeps_out() {
            self.count += 1;
        } else {
            self.late += 1;
        }
        if self.listed.len() < MAX_LISTED {
            self.listed.push((source.clone(), time, why));
        }
    }

    /// Wrap `sink` so that it sees the records whose time is plausible as they come; the
    /// others are set aside or held for [`TimeCheck::release`].
    pub fn filter<'a, S: FnMut(DecodedRecord)>(
        &'a mut self,
        sink: &'a mut S,
    ) -> impl FnMut(DecodedRecord) + 'a {
        move |record| {
            let Some((log, time, source)) = log_and_time(&record) else {
                return sink(record);
            };
            match self.times.admit(log, time) {
                Admission::Use => sink(record),
                Admission::Hold => self.held.push(record),
                Admission::SetAside(why) => {
                    let source = source.clone();
                    self.set_aside(&source, time, why);
                }
            }
        }
    }

    /// Once every input is read: decide the held records and hand on to `sink`, in the order
    /// they were read, all but those kept out (the ones past their log's end are noted).
    pub fn release<S: FnMut(DecodedRecord)>(&mut self, sink: &mut S) {
        self.times.settle();
        for record in std::mem::take(&mut self.held) {
            let Some((log, time, source)) = log_and_time(&record) else {
                continue;
            };
            match self.times.judge(log, time) {
                None => sink(record),
                Some(why) => {
                    let source = source.clone();
                    self.set_aside(&source, time, why);
                    if !why.keeps_out() {
                        sink(record);
                    }
                }
            }
        }
        self.listed.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    }

    /// True when a record read again (a second pass over the same inputs, after
    /// [`TimeCheck::release`]) was set aside the first time.
    pub fn set_aside_before(&self, record: &DecodedRecord) -> bool {
        log_and_time(record).is_some_and(|(log, time, _)| {
            self.times
                .judge(log, time)
                .is_some_and(Implausible::keeps_out)
        })
    }

    /// List unreadable input, then the records set aside for their time, on stderr;
    /// `Some(code)` when nothing could be read.
    pub fn check_input(&self, report: &IngestReport) -> anyhow::Result<Option<ExitCode>> {
        if let Some(code) = super::check_input(report)? {
            return Ok(Some(code));
        }
        self.write(&mut io::stderr().lock())?;
        Ok(None)
    }

    /// The exit code once the output is written: as for unreadable input, 1 when some record
    /// had a time that cannot be right.
    pub fn exit_code(&self, report: &IngestReport) -> ExitCode {
        if self.count > 0 {
            return ExitCode::from(exit::PARTIAL);
        }
        super::exit_code(report)
    }

    /// List the records set aside on `err` as `place: reason`, then a count.
    pub fn write(&self, err: &mut impl Write) -> io::Result<()> {
        for (source, time, why) in &self.listed {
            let place = Shown(&source.to_string());
            if why.keeps_out() {
                writeln!(
                    err,
                    "{place}: record time {time} is implausible ({why}): set aside, not judged"
                )?;
            } else {
                writeln!(
                    err,
                    "{place}: record time {time} is {why}: judged (an export's last records may \
                     be an attacker's after a quiet stretch); check the export's window"
                )?;
            }
        }
        let unlisted = (self.count + self.late).saturating_sub(self.listed.len() as u64);
        if unlisted > 0 {
            writeln!(
                err,
                "tokentrail: {unlisted} more record(s) with an implausible or late time not listed"
            )?;
        }
        if self.count > 0 {
            writeln!(
                err,
                "tokentrail: {} record(s) with an implausible time (before 2000, or more than a day past the time of the run) kept out of judging, coverage and inventories",
                self.count
            )?;
        }
        if self.late > 0 {
            writeln!(
                err,
                "tokentrail: {} record(s) more than a day past the newest record of their log, judged",
                self.late
            )?;
        }
        Ok(())
    }
}
