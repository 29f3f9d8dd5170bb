//! `tokentrail investigate`: reconstruct one user's, session's, token's or address's activity
//! (the chain, the networks, the timeline with the findings on it, what was touched) and the
//! containment steps that follow from it.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use tokentrail_ingest::{Decoded, ReadOptions};
use tokentrail_investigate::{InvestigateError, Subject};
use tokentrail_model::{SessionId, TokenId};

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
#[command(
    group(clap::ArgGroup::new("subject").required(true).multiple(false)),
    after_help = "\
Examples:
  tokentrail investigate exports/ --user adele@contoso.example
  tokentrail investigate exports/ --session 6f1e2a... --format json -o case.json
  tokentrail investigate exports/ --token xMFjTVvJPE2OChJx_YE-AA --format csv

Exit codes: 0 every record read; 1 some input unreadable (each place is listed on
stderr); 2 bad arguments, nothing readable, or nothing matches the subject."
)]
pub struct InvestigateArgs {
    /// Files, directories (read recursively), .gz or .zip archives, or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// A user, by object id or user principal name (case-insensitive).
    #[arg(long, group = "subject", value_name = "USER")]
    pub user: Option<String>,
    /// A session id (`sid`, `SessionId`).
    #[arg(long, group = "subject", value_name = "SESSION", value_parser = parse_session)]
    pub session: Option<SessionId>,
    /// A token, by `uti` (`uniqueTokenIdentifier`) or sign-in id GUID.
    #[arg(long, group = "subject", value_name = "TOKEN", value_parser = parse_token)]
    pub token: Option<TokenId>,
    /// A client IP address.
    #[arg(long, group = "subject", value_name = "IP")]
    pub ip: Option<IpAddr>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InvestigateFormat::Md)]
    pub format: InvestigateFormat,
    /// Write to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn parse_session(text: &str) -> Result<SessionId, String> {
    SessionId::parse(text).ok_or_else(|| "the session id is empty".to_string())
}

fn parse_token(text: &str) -> Result<TokenId, String> {
    TokenId::parse(text).ok_or_else(|| "the token id is empty".to_string())
}

impl InvestigateArgs {
    fn subject(&self) -> Option<Subject> {
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

/// Run `investigate`.
pub fn run(args: InvestigateArgs) -> anyhow::Result<ExitCode> {
    let mut err = io::stderr().lock();
    let Some(subject) = args.subject() else {
        writeln!(
            err,
            "tokentrail: give one of --user, --session, --token or --ip"
        )?;
        return Ok(ExitCode::from(exit::USAGE));
    };
    let mut sign_ins = Vec::new();
    let mut accesses = Vec::new();
    // Only inbox-rule and forwarding changes are kept of the other records.
    let mut others = Vec::new();
    let opts = ReadOptions::default();
    let report = super::read_with_progress(&args.paths, opts, &mut |record| match record.event {
        Decoded::SignIn(s) => sign_ins.push(*s),
        Decoded::Access(a) => accesses.push(*a),
        Decoded::Other(o) => {
            if o.mailbox_change.is_some() {
                others.push(o);
            }
        }
    });
    if let Some(code) = super::check_input(&report)? {
        return Ok(code);
    }

    let detection = super::detect_over(&sign_ins, &accesses);
    let investigation = match tokentrail_investigate::investigate_with_changes(
        &subject,
        &sign_ins,
        &accesses,
        &others,
        &detection.findings,
    ) {
        Ok(inv) => inv,
        Err(e @ InvestigateError::NoMatch(_)) => {
            writeln!(
                err,
                "tokentrail: {}",
                tokentrail_model::escape::Shown(&e.to_string())
            )?;
            return Ok(ExitCode::from(exit::USAGE));
        }
        Err(e) => return Err(e.into()),
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
    Ok(super::exit_code(&report))
}
