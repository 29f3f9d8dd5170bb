//! `tokentrail investigate`: reconstruct one user's, session's, token's or address's activity
//! (the chain, the networks, the timeline with the findings on it, what was touched) and the
//! containment steps that follow from it.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use tokentrail_engine::Detection;
use tokentrail_investigate::{Context, InvestigateError, Investigation, Investigator, Subject};
use tokentrail_model::Timestamp;
use tokentrail_model::{SessionId, TokenId};

use super::judging::{Judging, JudgingArgs};
use crate::exit;

/// How the investigation is written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvestigateFormat {
    /// Markdown for the case file.
    Md,
    /// One JSON object (fields documented in the tokentrail-investigate crate).
    Json,
    /// The timeline as CSV.
    Csv,
}

/// Reconstruct one user's, session's, token's or IP address's activity.
#[derive(clap::Args, Debug, Clone)]
#[command(after_help = "\
Examples:
  tokentrail investigate exports/ --user adele@contoso.example
  tokentrail investigate exports/ --session 6f1e2a... --format json -o case.json
  tokentrail investigate exports/ --token xMFjTVvJPE2OChJx_YE-AA --format csv
  tokentrail investigate exports/ --ip 203.0.113.66 --allowlist allow.yaml --since 2026-11-01

The judging options are those of detect, so the findings and containment agree with it:
--since/--until limit the timeline, counts and what was touched; the chains and networks still
show every record of the subject.

Exit codes: 0 every record read; 1 some input unreadable or dated impossibly (each place is
listed on stderr); 2 bad arguments, nothing readable, no sign-in and no access in
the inputs, or nothing matches the subject.")]
pub struct InvestigateArgs {
    /// Files, directories (read recursively), .gz or .zip archives, or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Whose records.
    #[command(flatten)]
    pub subject: SubjectArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InvestigateFormat::Md)]
    pub format: InvestigateFormat,
    /// Write to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Allowlist, ASN database, reporting window: as for detect, so the findings and the
    /// containment agree with it.
    #[command(flatten)]
    pub judging: JudgingArgs,
}

/// One user, session, token or client address: the subject of `investigate` and `timeline`.
#[derive(clap::Args, Debug, Clone)]
#[group(id = "subject", multiple = false)]
pub struct SubjectArgs {
    /// A user, by object id or user principal name (case-insensitive).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// A session id (`sid`, `SessionId`).
    #[arg(long, value_name = "SESSION", value_parser = parse_session)]
    pub session: Option<SessionId>,
    /// A token, by `uti` (`uniqueTokenIdentifier`) or sign-in id GUID.
    #[arg(long, value_name = "TOKEN", value_parser = parse_token)]
    pub token: Option<TokenId>,
    /// A client IP address.
    #[arg(long, value_name = "IP")]
    pub ip: Option<IpAddr>,
}

fn parse_session(text: &str) -> Result<SessionId, String> {
    SessionId::parse(text).ok_or_else(|| "the session id is empty".to_string())
}

fn parse_token(text: &str) -> Result<TokenId, String> {
    TokenId::parse(text).ok_or_else(|| "the token id is empty".to_string())
}

impl SubjectArgs {
    /// The subject named, if any.
    pub fn subject(&self) -> Option<Subject> {
        if let Some(u) = &self.user {
            return Some(Subject::User(u.clone()));
        }
        if let Some(s) = &self.session {
            return Some(Subject::Session(s.clone()));
        }
        if let Some(t) = &self.token {
            return Some(Subject::Token(t.clone()));
        }
        self.ip.map(Subject::Ip)
    }
}

/// The investigation of `subject` by the engine's run over `records` (its live findings and its
/// networks), its timeline limited to the reporting `window` (`--since`, `--until`); or the
/// exit code when no record matches it (said on `err`).
pub(crate) fn investigation(
    subject: &Subject,
    records: &super::Records,
    detection: &Detection,
    window: (Option<Timestamp>, Option<Timestamp>),
    err: &mut dyn Write,
) -> anyhow::Result<Result<Investigation, ExitCode>> {
    let context = Context::learn(
        &records.sign_ins,
        &records.accesses,
        detection.networks.clone(),
    );
    let investigator = Investigator::new(
        &context,
        &records.sign_ins,
        &records.accesses,
        &detection.findings,
    )
    .with_mailbox_changes(&records.mailbox_changes)
    .with_window(window.0, window.1);
    match investigator.investigate(subject) {
        Ok(inv) => Ok(Ok(inv)),
        Err(e @ InvestigateError::NoMatch(_)) => {
            writeln!(
                err,
                "tokentrail: {}",
                tokentrail_model::escape::Shown(&e.to_string())
            )?;
            Ok(Err(ExitCode::from(exit::USAGE)))
        }
        Err(e) => Err(e.into()),
    }
}

/// Run `investigate`.
pub fn run(args: InvestigateArgs) -> anyhow::Result<ExitCode> {
    let mut err = io::stderr().lock();
    let Some(subject) = args.subject.subject() else {
        writeln!(
            err,
            "tokentrail: give one of --user, --session, --token or --ip"
        )?;
        return Ok(ExitCode::from(exit::USAGE));
    };
    let Judging { config, mut times } = args.judging.compile()?;
    let window = (config.since, config.until);
    let (records, report) = super::read_records(&args.paths, &mut times);
    if let Some(code) = times.check_input(&report)? {
        return Ok(code);
    }

    let detection = super::detect_over(config, &records.sign_ins, &records.accesses);
    super::judging::write_allowlist_notes(&mut err, &detection.allowlist)?;
    let investigation = match investigation(&subject, &records, &detection, window, &mut err)? {
        Ok(inv) => inv,
        Err(code) => return Ok(code),
    };

    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(io::stdout().lock())),
    };
    match args.format {
        InvestigateFormat::Md => tokentrail_investigate::write_markdown(out, &investigation)?,
        InvestigateFormat::Json => tokentrail_investigate::write_json(out, &investigation)?,
        InvestigateFormat::Csv => tokentrail_investigate::write_csv(out, &investigation)?,
    }
    writeln!(
        err,
        "tokentrail: {} sign-in(s) and {} access(es) related to {}; {} finding(s) cite them",
        investigation.records.sign_ins,
        investigation.records.accesses,
        tokentrail_model::escape::Shown(&investigation.subject.to_string()),
        investigation.findings.len()
    )?;
    Ok(times.exit_code(&report))
}
