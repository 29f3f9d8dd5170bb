//! `tokentrail investigate`: reconstruct one user's, session's, token's or address's activity
//! (the chain, the networks, the timeline with the findings on it, what was touched) and the
//! containment steps that follow from it.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use tokentrail_engine::Detection;
use tokentrail_investigate::{
    Context, InvestigateError, Investigation, Investigator, Related, Subject,
};
use tokentrail_model::escape::Shown;
use tokentrail_model::{Finding, SessionId, Timestamp, TokenId};

use super::judging::{Judging, JudgingArgs};
use crate::exit;
use crate::progress::Readings;

/// How the investigation is written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvestigateFormat {
    /// Markdown for the case file; also `md`.
    #[value(name = "markdown", alias = "md")]
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
  tokentrail investigate exports/ --finding b72c7366          the id detect's table printed
  tokentrail investigate exports/ --user adele@contoso.example
  tokentrail investigate exports/ --session s:1963e220 --format json -o case.json
  tokentrail investigate exports/ --user adele@contoso.example --session 1963e220
  tokentrail investigate exports/ --token xMFjTVvJPE2OChJx_YE-AA --format csv
  tokentrail investigate exports/ --ip 203.0.113.66 --allowlist allow.yaml --since 2026-11-01

Ids may be given as detect's table prints them (a short finding id, s:SESSION, t:TOKEN) or as
any unique prefix; a prefix of several ids lists them and exits 2. The Markdown leads with the
findings, the sessions involved, the containment and the networks; then the timeline; then
what was touched and every session's chain.

The judging options are those of detect, so the findings and containment agree with it:
--since/--until limit the timeline, counts and what was touched; the chains and networks still
show every record of the subject.

Exit codes: 0 every record read; 1 some input unreadable or dated impossibly (each place is
listed on stderr); 2 bad arguments, nothing readable, no sign-in and no access in
the inputs, nothing matches the subject, or an id names no finding or several ids.")]
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

/// One user, session, token, client address or finding: the subject of `investigate` and
/// `timeline`. Ids are taken as the findings table shows them: a session as `s:b0f5585c`, a
/// token as `t:xMFjTVvJ`, a finding by its short id; any unique prefix will do.
#[derive(clap::Args, Debug, Clone)]
pub struct SubjectArgs {
    /// A user, by object id or user principal name (case-insensitive), or a unique prefix of
    /// one; with --session, that user's records in the session.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// A session id (`sid`, `SessionId`), or a unique prefix of one (`s:b0f5585c`).
    #[arg(long, value_name = "SESSION")]
    pub session: Option<String>,
    /// A token, by `uti` (`uniqueTokenIdentifier`) or sign-in id GUID, or a unique prefix of
    /// one (`t:xMFjTVvJ`).
    #[arg(long, value_name = "TOKEN", conflicts_with_all = ["user", "session"])]
    pub token: Option<String>,
    /// A client IP address.
    #[arg(long, value_name = "IP", conflicts_with_all = ["user", "session", "token"])]
    pub ip: Option<IpAddr>,
    /// A finding, by id (`TT002-b72c7366...`) or the short id the findings table shows
    /// (`b72c7366`): its session, else its token, else its user is investigated.
    #[arg(
        long,
        value_name = "ID",
        conflicts_with_all = ["user", "session", "token", "ip"]
    )]
    pub finding: Option<String>,
}

/// A subject as named on the command line, with the ids resolved against the records.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// Whose records.
    pub subject: Subject,
    /// The finding it was opened from (`--finding`), by full id.
    pub finding: Option<String>,
}

/// The one id among `candidates` that `given` names: the same text (ASCII case aside), else
/// the only one it is a prefix of. `Ok(None)` when none: the caller goes on with `given` and
/// reports that nothing matches. `what` names the ids in messages (`session`).
fn one_of<'a>(
    what: &str,
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Result<Option<String>, String> {
    let mut prefixed: BTreeSet<&str> = BTreeSet::new();
    for c in candidates {
        if c.eq_ignore_ascii_case(given) {
            return Ok(Some(c.to_string()));
        }
        if c.len() > given.len()
            && c.is_char_boundary(given.len())
            && c[..given.len()].eq_ignore_ascii_case(given)
        {
            prefixed.insert(c);
        }
    }
    match prefixed.len() {
        0 => Ok(None),
        1 => Ok(prefixed.pop_first().map(str::to_string)),
        n => {
            let shown: Vec<String> = prefixed
                .iter()
                .take(5)
                .map(|c| Shown(c).to_string())
                .collect();
            Err(format!(
                "{} is the start of {n} {what} ids: {}{} (give more of it)",
                Shown(given),
                shown.join(", "),
                if n > 5 { ", ..." } else { "" }
            ))
        }
    }
}

/// The session or token id `given` names among `ids`, without the `tag` (`s:`, `t:`) the
/// findings table puts before it; `given` itself when it names none of them.
fn named_id(what: &str, tag: &str, given: &str, ids: &BTreeSet<String>) -> Result<String, String> {
    let given = given.trim();
    let given = match given.get(..tag.len()) {
        Some(t) if t.eq_ignore_ascii_case(tag) => given[tag.len()..].trim(),
        _ => given,
    };
    Ok(one_of(what, given, ids.iter().map(String::as_str))?.unwrap_or_else(|| given.to_string()))
}

impl SubjectArgs {
    /// True when a subject is named.
    pub fn is_given(&self) -> bool {
        self.user.is_some()
            || self.session.is_some()
            || self.token.is_some()
            || self.ip.is_some()
            || self.finding.is_some()
    }

    /// The subject named, its ids resolved against the `ids` of the inputs and the findings of
    /// `detection` (live and suppressed); `Ok(None)` when none is named; the message when an id
    /// is the start of several, or names no finding.
    pub fn resolve(&self, ids: &Ids, detection: &Detection) -> Result<Option<Resolved>, String> {
        if let Some(given) = &self.finding {
            let finding = find_finding(given, detection)?;
            let subject = if let Some(s) = &finding.session_id {
                Subject::Session(s.clone())
            } else if let Some(t) = &finding.token_id {
                Subject::Token(t.clone())
            } else if let Some(u) = finding.upn.as_ref().or(finding.user_id.as_ref()) {
                Subject::User(u.clone())
            } else if let Some(ip) = finding.src_ip {
                Subject::Ip(ip)
            } else {
                return Err(format!(
                    "finding {} names no session, token, user or address to investigate",
                    Shown(&finding.id)
                ));
            };
            return Ok(Some(Resolved {
                subject,
                finding: Some(finding.id.clone()),
            }));
        }
        let user = match &self.user {
            Some(given) => {
                let users = ids
                    .users
                    .iter()
                    .chain(&ids.access_users)
                    .map(String::as_str);
                Some(one_of("user", given.trim(), users)?.unwrap_or_else(|| given.clone()))
            }
            None => None,
        };
        let session = match &self.session {
            Some(given) => {
                let text = named_id("session", "s:", given, &ids.sessions)?;
                Some(SessionId::parse(&text).ok_or("the session id is empty")?)
            }
            None => None,
        };
        let token = match &self.token {
            Some(given) => {
                let text = named_id("token", "t:", given, &ids.tokens)?;
                Some(TokenId::parse(&text).ok_or("the token id is empty")?)
            }
            None => None,
        };
        let subject = match (user, session, token, self.ip) {
            (Some(u), Some(s), _, _) => Subject::UserSession(u, s),
            (Some(u), None, _, _) => Subject::User(u),
            (None, Some(s), _, _) => Subject::Session(s),
            (None, None, Some(t), _) => Subject::Token(t),
            (None, None, None, Some(ip)) => Subject::Ip(ip),
            (None, None, None, None) => return Ok(None),
        };
        Ok(Some(Resolved {
            subject,
            finding: None,
        }))
    }
}

/// The finding `given` names: its whole id, a prefix of it (`TT002-b72c`), or a prefix of
/// the hash the findings table shows (`b72c7366`), any case.
fn find_finding<'a>(given: &str, detection: &'a Detection) -> Result<&'a Finding, String> {
    let given = given.trim();
    let all = || detection.findings.iter().chain(&detection.suppressed);
    let by_id = one_of("finding", given, all().map(|f| f.id.as_str()))?;
    let id = match by_id {
        Some(id) => Some(id),
        None => {
            // The short ids, each standing for its finding's id.
            let short: Vec<(&str, &str)> = all()
                .map(|f| (f.id.as_str(), tokentrail_model::finding_hash(&f.id)))
                .collect();
            one_of("finding", given, short.iter().map(|(_, h)| *h))?.and_then(|hash| {
                short
                    .iter()
                    .find(|(_, h)| *h == hash)
                    .map(|(id, _)| id.to_string())
            })
        }
    };
    id.and_then(|id| all().find(|f| f.id == id)).ok_or_else(|| {
        format!(
            "no finding's id is or starts with {} ({} finding(s) in this run; `tokentrail detect` lists them)",
            Shown(given),
            detection.findings.len() + detection.suppressed.len()
        )
    })
}

/// The ids of the inputs a subject's names are resolved against, gathered as records pass:
/// user ids and UPNs (those of sign-ins first, each in the order first logged: the first exact
/// match wins), session ids and token ids, each kind only when the subject names one.
#[derive(Debug, Default)]
pub(crate) struct Ids {
    wants: (bool, bool, bool),
    users: Vec<String>,
    access_users: Vec<String>,
    seen_users: std::collections::HashSet<String>,
    seen_access_users: std::collections::HashSet<String>,
    sessions: BTreeSet<String>,
    tokens: BTreeSet<String>,
}

impl Ids {
    /// Ready to gather the kinds of ids `subject` names.
    pub fn wanted_by(subject: &SubjectArgs) -> Ids {
        Ids {
            wants: (
                subject.user.is_some(),
                subject.session.is_some(),
                subject.token.is_some(),
            ),
            ..Ids::default()
        }
    }

    /// The ids of records already in memory.
    pub fn of(subject: &SubjectArgs, records: &super::Records) -> Ids {
        let mut ids = Ids::wanted_by(subject);
        records.sign_ins.iter().for_each(|s| ids.add_sign_in(s));
        records.accesses.iter().for_each(|a| ids.add_access(a));
        ids
    }

    pub fn add_sign_in(&mut self, s: &tokentrail_model::SignIn) {
        let (users, sessions, tokens) = self.wants;
        if users {
            for u in [&s.user_id, &s.upn].into_iter().flatten() {
                if self.seen_users.insert(u.clone()) {
                    self.users.push(u.clone());
                }
            }
        }
        if let Some(x) = s.session_id.as_ref().filter(|_| sessions) {
            self.sessions.insert(x.to_string());
        }
        if let Some(t) = s.issued_token().filter(|_| tokens) {
            self.tokens.insert(t.to_string());
        }
    }

    pub fn add_access(&mut self, a: &tokentrail_model::Access) {
        let (users, sessions, tokens) = self.wants;
        if users {
            for u in [&a.user_id, &a.upn].into_iter().flatten() {
                // After the sign-ins' own: a user a sign-in logged is found there first.
                if !self.seen_users.contains(u) && self.seen_access_users.insert(u.clone()) {
                    self.access_users.push(u.clone());
                }
            }
        }
        if let Some(x) = a.session_id.as_ref().filter(|_| sessions) {
            self.sessions.insert(x.to_string());
        }
        if let Some(t) = a.token_id.as_ref().filter(|_| tokens) {
            self.tokens.insert(t.to_string());
        }
    }
}

/// What `investigate` and `timeline` know of the inputs for one subject.
pub(crate) struct ForSubject {
    /// The records the subject's investigation can touch (every record with standard input).
    pub records: super::Records,
    /// The engine's run over every record.
    pub detection: Detection,
    /// What every record says of users, clients and networks.
    pub context: Context,
    /// The subject, or why its name names none.
    pub resolved: Result<Option<Resolved>, String>,
    pub report: tokentrail_ingest::IngestReport,
}

/// Read the inputs for the subject `args` names. The engine, the context and the ids are fed as
/// records pass; the subject is resolved against them; then the inputs are read again for the
/// records its investigation can touch ([`Related`]), and once more for the sign-ins that issued
/// the tokens those records used (the chains find a token's issuer among the records kept).
/// So memory holds the engine's compact records and the subject's, not every decoded record.
/// Standard input cannot be read twice: then every record is kept, as before.
pub(crate) fn read_for_subject(
    paths: &[PathBuf],
    args: &SubjectArgs,
    config: tokentrail_engine::EngineConfig,
    times: &mut super::judging::TimeCheck,
) -> ForSubject {
    if reads_stdin(paths) {
        let (records, detection, context, report) = judge_held(paths, config, times);
        let resolved = args.resolve(&Ids::of(args, &records), &detection);
        return ForSubject {
            records,
            detection,
            context,
            resolved,
            report,
        };
    }
    // One progress bar for the two readings (three when the chains need their issuers).
    let mut readings = Readings::new(2);
    let mut ids = Ids::wanted_by(args);
    let (detection, context, mailbox_changes, report) =
        judge(paths, config, times, &mut ids, &mut readings);
    let resolved = args.resolve(&ids, &detection);
    drop(ids);
    let mut records = super::Records {
        sign_ins: Vec::new(),
        accesses: Vec::new(),
        mailbox_changes,
    };
    if let Ok(Some(subject)) = &resolved {
        let mut related = Related::new();
        related.add(&subject.subject, &context);
        read_again(paths, times, &mut readings, &mut |event| match event {
            tokentrail_ingest::Decoded::SignIn(s) if related.sign_in(&s) => {
                records.sign_ins.push(*s)
            }
            tokentrail_ingest::Decoded::Access(a) if related.access(&a) => {
                records.accesses.push(*a)
            }
            _ => {}
        });
        // The tokens the kept records used whose issuing sign-in was not kept.
        let issued: std::collections::HashSet<TokenId> = records
            .sign_ins
            .iter()
            .filter_map(tokentrail_model::SignIn::issued_token)
            .collect();
        let issuers: std::collections::HashSet<TokenId> = records
            .accesses
            .iter()
            .filter_map(|a| a.token_id.clone())
            .filter(|t| !issued.contains(t))
            .collect();
        if !issuers.is_empty() {
            records.sign_ins.clear();
            read_again(paths, times, &mut readings, &mut |event| {
                if let tokentrail_ingest::Decoded::SignIn(s) = event {
                    if related.sign_in(&s) || s.issued_token().is_some_and(|t| issuers.contains(&t))
                    {
                        records.sign_ins.push(*s);
                    }
                }
            });
        }
    }
    ForSubject {
        records,
        detection,
        context,
        resolved,
        report,
    }
}

/// The first reading of the inputs for `investigate` and `timeline`: the engine's run over
/// every record, the context every record teaches, the inbox-rule and forwarding changes, and
/// the `ids` a subject's names resolve against; the records themselves are not kept.
pub(crate) fn judge(
    paths: &[PathBuf],
    config: tokentrail_engine::EngineConfig,
    times: &mut super::judging::TimeCheck,
    ids: &mut Ids,
    readings: &mut Readings,
) -> (
    Detection,
    Context,
    Vec<tokentrail_ingest::OtherRecord>,
    tokentrail_ingest::IngestReport,
) {
    let mut engine = tokentrail_engine::Engine::new(config);
    let mut context = tokentrail_investigate::ContextBuilder::new();
    let mut mailbox_changes = Vec::new();
    let mut sink = |record: tokentrail_ingest::DecodedRecord| match record.event {
        tokentrail_ingest::Decoded::SignIn(s) => {
            context.add_sign_in(&s);
            ids.add_sign_in(&s);
            engine.add_sign_in(s);
        }
        tokentrail_ingest::Decoded::Access(a) => {
            context.add_access(&a);
            ids.add_access(&a);
            engine.add_access(a);
        }
        tokentrail_ingest::Decoded::Other(o) => {
            if o.mailbox_change.is_some() {
                mailbox_changes.push(o);
            }
        }
    };
    // The engine and the context work beside the reading thread, as in `detect`.
    let opts = tokentrail_ingest::ReadOptions {
        progress: readings.next(),
        ..Default::default()
    };
    let (report, _) = super::read_beside(paths, opts, times.filter(&mut sink));
    times.release(&mut sink);
    let detection = engine.finish();
    let context = context.finish(detection.networks.clone());
    (detection, context, mailbox_changes, report)
}

/// Whether `paths` name standard input, which can be read only once.
pub(crate) fn reads_stdin(paths: &[PathBuf]) -> bool {
    paths.iter().any(|p| p == std::path::Path::new("-"))
}

/// [`judge`] for inputs read only once (standard input): every record held in memory.
pub(crate) fn judge_held(
    paths: &[PathBuf],
    config: tokentrail_engine::EngineConfig,
    times: &mut super::judging::TimeCheck,
) -> (
    super::Records,
    Detection,
    Context,
    tokentrail_ingest::IngestReport,
) {
    let (records, report) = super::read_records(paths, times);
    let detection = super::detect_over(config, &records.sign_ins, &records.accesses);
    let context = Context::learn(
        &records.sign_ins,
        &records.accesses,
        detection.networks.clone(),
    );
    (records, detection, context, report)
}

/// Read the inputs again after [`judge`], handing `keep` every record it did not set aside for
/// its time (what is unreadable was reported the first time).
pub(crate) fn read_again(
    paths: &[PathBuf],
    times: &super::judging::TimeCheck,
    readings: &mut Readings,
    keep: &mut dyn FnMut(tokentrail_ingest::Decoded),
) {
    super::read_with_progress(
        paths,
        tokentrail_ingest::ReadOptions {
            progress: readings.next(),
            ..Default::default()
        },
        &mut |record| {
            if !times.set_aside_before(&record) {
                keep(record.event);
            }
        },
    );
}

/// The investigation of `subject` by the engine's run over `records` (its live findings and its
/// networks), its timeline limited to the reporting `window` (`--since`, `--until`); or the
/// exit code when no record matches it (said on `err`).
pub(crate) fn investigation(
    subject: &Subject,
    records: &super::Records,
    context: &Context,
    detection: &Detection,
    window: (Option<Timestamp>, Option<Timestamp>),
    err: &mut dyn Write,
) -> anyhow::Result<Result<Investigation, ExitCode>> {
    let investigator = Investigator::new(
        context,
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

/// What `investigate` and `timeline` found for one subject.
pub(crate) struct Investigated {
    pub investigation: Investigation,
    /// The engine's run over every record.
    pub detection: Detection,
    pub report: tokentrail_ingest::IngestReport,
}

/// [`read_for_subject`] and the subject's [`investigation`], each step's problems said on `err`:
/// nothing readable, the judging notes, a name that names no subject or one without records
/// (then the exit code instead).
pub(crate) fn read_and_investigate(
    paths: &[PathBuf],
    args: &SubjectArgs,
    config: tokentrail_engine::EngineConfig,
    times: &mut super::judging::TimeCheck,
    err: &mut io::StderrLock<'_>,
) -> anyhow::Result<Result<Investigated, ExitCode>> {
    let window = (config.since, config.until);
    let ForSubject {
        records,
        detection,
        context,
        resolved,
        report,
    } = read_for_subject(paths, args, config, times);
    if let Some(code) = times.check_input(&report)? {
        return Ok(Err(code));
    }
    super::judging::write_judging_notes(err, &detection)?;
    let resolved = match resolved {
        Ok(Some(resolved)) => resolved,
        Ok(None) => return Ok(Err(ExitCode::from(exit::USAGE))),
        Err(message) => {
            writeln!(err, "tokentrail: {message}")?;
            return Ok(Err(ExitCode::from(exit::USAGE)));
        }
    };
    let mut investigation = match investigation(
        &resolved.subject,
        &records,
        &context,
        &detection,
        window,
        err,
    )? {
        Ok(inv) => inv,
        Err(code) => return Ok(Err(code)),
    };
    investigation.finding = resolved.finding;
    Ok(Ok(Investigated {
        investigation,
        detection,
        report,
    }))
}

/// Run `investigate`.
pub fn run(args: InvestigateArgs) -> anyhow::Result<ExitCode> {
    let mut err = io::stderr().lock();
    if !args.subject.is_given() {
        writeln!(
            err,
            "tokentrail: give one of --user, --session (with --user, or alone), --token, --ip or --finding"
        )?;
        return Ok(ExitCode::from(exit::USAGE));
    }
    let Judging { config, mut times } = args.judging.compile()?;
    let (investigation, report) =
        match read_and_investigate(&args.paths, &args.subject, config, &mut times, &mut err)? {
            Ok(Investigated {
                investigation,
                report,
                ..
            }) => (investigation, report),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// The whole id wins over the longer ids it starts; a prefix names the one id it starts;
    /// a prefix of several is refused, naming them; none leaves the text as given.
    #[test]
    fn ids_are_named_whole_or_by_a_unique_prefix() {
        let sessions = ids(&["abc", "abcd-1", "b0f5585c-0000", "b0f6"]);
        let named = |given: &str| named_id("session", "s:", given, &sessions);
        assert_eq!(named("abc").as_deref(), Ok("abc"));
        assert_eq!(named("ABCD").as_deref(), Ok("abcd-1"));
        assert_eq!(named("s:b0f5585c").as_deref(), Ok("b0f5585c-0000"));
        assert_eq!(named(" S:b0f5 ").as_deref(), Ok("b0f5585c-0000"));
        assert_eq!(
            named("b0f"),
            Err("b0f is the start of 2 session ids: b0f5585c-0000, b0f6 (give more of it)".into())
        );
        assert_eq!(named("zz").as_deref(), Ok("zz"));
        // Prefixes are compared by characters: one ending inside a multi-byte character is no
        // prefix, and no panic.
        let odd = ids(&["é1", "éé"]);
        assert!(named_id("token", "t:", "\u{e9}", &odd).is_err());
        assert_eq!(named_id("token", "t:", "x", &odd).as_deref(), Ok("x"));
    }
}
