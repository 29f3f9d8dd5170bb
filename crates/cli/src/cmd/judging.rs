//! The options of every command that judges records (`detect`, `report`, `investigate`,
//! `inventory`, `coverage`), parsed by one clap struct flattened into each and compiled once,
//! before the first record is read, by one function: the commands cannot disagree about what is
//! approved, which network an address is in, or which findings are reported.
//!
//! Also here: records whose time cannot be right (before 2000, or more than a day past the
//! run's clock) are listed with their place and kept out of every command's baselines.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use tokentrail_engine::{allowlist, AsnDb, EngineConfig};
use tokentrail_ingest::{Decoded, DecodedRecord, IngestReport};
use tokentrail_model::{SourceRef, Timestamp};

use super::{parse_time, wall_clock};
use crate::exit;

/// The judging options (see the module docs).
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Judging options (the same for every command that judges)")]
pub struct JudgingArgs {
    /// Allowlist (YAML, version 1) of approved patterns; the format is in docs/allowlist.md.
    /// Findings it matches are suppressed everywhere: in detect, report and investigate.
    #[arg(long, value_name = "FILE")]
    pub allowlist: Option<PathBuf>,
    /// MaxMind-format ASN database (e.g. GeoLite2-ASN.mmdb) for addresses the sign-in logs do
    /// not give an ASN.
    #[arg(long, value_name = "FILE.mmdb")]
    pub asn_db: Option<PathBuf>,
    /// Report only findings (and timeline rows) from this time on (RFC 3339, or a date). Every
    /// record is still judged: baselines, inventories and lookbacks use all input.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub since: Option<Timestamp>,
    /// Report only findings (and timeline rows) up to this time (RFC 3339, or a date); as
    /// --since, it never drops records.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<Timestamp>,
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
            now,
            ..EngineConfig::default()
        };
        if let Some(path) = &self.allowlist {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read allowlist {}", path.display()))?;
            match allowlist::parse(&text) {
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
        if let Some(path) = &self.asn_db {
            let db = AsnDb::open(path)
                .with_context(|| format!("cannot open ASN database {}", path.display()))?;
            config.asn_db = Some(db);
        }
        Ok(Judging {
            config,
            times: TimeCheck::new(now),
        })
    }
}

/// The earliest plausible record time: no Microsoft 365 log reaches back before 2000, so an
/// earlier time is a decoding accident (epoch zero, `0001-01-01`, milliseconds read as seconds).
pub const EARLIEST_PLAUSIBLE: &str = "2000-01-01T00:00:00Z";

/// How far past the run's clock a record time may lie (clock skew between the export and the
/// machine reading it).
pub const FUTURE_SLACK_SECS: i64 = 86_400;

/// Implausible records listed by place; the rest are counted.
const MAX_LISTED: usize = 20;

/// Finds the records whose time cannot be right while they are read, so no command learns from
/// them (a record from 2099 would stretch coverage and inventories to 2099).
#[derive(Debug)]
pub struct TimeCheck {
    earliest: Timestamp,
    latest: Timestamp,
    count: u64,
    listed: Vec<(SourceRef, Timestamp, &'static str)>,
}

impl TimeCheck {
    /// Check against the run's clock `now`.
    pub fn new(now: Timestamp) -> TimeCheck {
        TimeCheck {
            earliest: Timestamp::parse(EARLIEST_PLAUSIBLE).unwrap_or_default(),
            latest: now.plus_secs(FUTURE_SLACK_SECS),
            count: 0,
            listed: Vec::new(),
        }
    }

    /// Why the record's time cannot be right, or `None` when it is plausible (or the record has
    /// no time the rules use: records the engine does not read pass unchecked).
    pub fn implausible(&self, record: &DecodedRecord) -> Option<&'static str> {
        let time = match &record.event {
            Decoded::SignIn(s) => s.time,
            Decoded::Access(a) => a.time,
            Decoded::Other(_) => return None,
        };
        if time < self.earliest {
            Some("before 2000")
        } else if time > self.latest {
            Some("more than a day past the time of the run")
        } else {
            None
        }
    }

    /// True when the record may be used; otherwise it is counted and its place kept for
    /// [`TimeCheck::write`].
    pub fn admits(&mut self, record: &DecodedRecord) -> bool {
        let Some(why) = self.implausible(record) else {
            return true;
        };
        let (time, source) = match &record.event {
            Decoded::SignIn(s) => (s.time, &s.source),
            Decoded::Access(a) => (a.time, &a.source),
            Decoded::Other(_) => return true,
        };
        self.count += 1;
        if self.listed.len() < MAX_LISTED {
            self.listed.push((source.clone(), time, why));
        }
        false
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

    /// Wrap `sink` so that it sees only the records this check admits.
    pub fn filter<'a, S: FnMut(DecodedRecord) + 'a>(
        &'a mut self,
        mut sink: S,
    ) -> impl FnMut(DecodedRecord) + 'a {
        move |record| {
            if self.admits(&record) {
                sink(record);
            }
        }
    }

    /// List the records set aside on `err` as `place: reason`, then a count.
    pub fn write(&self, err: &mut impl Write) -> io::Result<()> {
        for (source, time, why) in &self.listed {
            writeln!(
                err,
                "{source}: record time {time} is implausible ({why}): set aside, not judged"
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
                "tokentrail: {} record(s) with an implausible time (before 2000, or more than a day past the time of the run) kept out of judging, coverage and inventories",
                self.count
            )?;
        }
        Ok(())
    }
}
