//! The options of every command that judges records (`detect`, `report`, `investigate`,
//! `inventory`, `coverage`), parsed by one clap struct flattened into each and compiled once,
//! before the first record is read, by one function: the commands cannot disagree about what is
//! approved, which network an address is in, or which findings are reported.
//!
//! Also here: records whose time cannot be right (before 2000, more than a day past the run's
//! clock or past the newest record of their log) are listed with their place and kept out of
//! every command's baselines.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use tokentrail_engine::coverage::Family;
use tokentrail_engine::record_times::{Admission, Implausible, RecordTimes};
use tokentrail_engine::{allowlist, EngineConfig};
use tokentrail_ingest::{Decoded, DecodedRecord, IngestReport};
use tokentrail_model::escape::Shown;
use tokentrail_model::{SourceRef, Timestamp};

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

/// What the allowlist did in this run, on `err`: each expired entry, and each entry in force
/// with the findings it suppressed, 0 included. Every command that judges with an allowlist
/// prints it, every run, so an entry that hides too much is seen.
pub fn write_allowlist_notes(
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
    count: u64,
    listed: Vec<(SourceRef, Timestamp, Implausible)>,
}

impl TimeCheck {
    /// Check against the run's clock `now`.
    pub fn new(now: Timestamp) -> TimeCheck {
        TimeCheck {
            times: RecordTimes::new(now),
            held: Vec::new(),
            count: 0,
            listed: Vec::new(),
        }
    }

    fn set_aside(&mut self, source: &SourceRef, time: Timestamp, why: Implausible) {
        self.count += 1;
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

    /// Once every input is read: decide the held records and hand the plausible ones to
    /// `sink`, in the order they were read.
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
                }
            }
        }
        self.listed.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    }

    /// True when a record read again (a second pass over the same inputs, after
    /// [`TimeCheck::release`]) was set aside the first time.
    pub fn set_aside_before(&self, record: &DecodedRecord) -> bool {
        log_and_time(record).is_some_and(|(log, time, _)| self.times.judge(log, time).is_some())
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
            writeln!(
                err,
                "{}: record time {time} is implausible ({why}): set aside, not judged",
                Shown(&source.to_string())
            )?;
        }
        let unlisted = self.count.saturating_sub(self.listed.len() as u64);
        if unlisted > 0 {
            writeln!(
                err,
                "tokentrail: {unlisted} more record(s) with an implausible time not listed"
            )?;
        }
        if self.count > 0 {
            writeln!(
                err,
                "tokentrail: {} record(s) with an implausible time (before 2000, more than a day past the time of the run, or more than a day past the newest record of their log) kept out of judging, coverage and inventories",
                self.count
            )?;
        }
        Ok(())
    }
}
