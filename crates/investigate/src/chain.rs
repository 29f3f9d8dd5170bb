//! Selecting the related records and building the chain, networks, touched objects, finding
//! marks and containment steps from them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use tokentrail_model::{
    Access, AccessSource, Finding, NetworkId, SessionId, SignIn, SignInKind, SourceRef, Timestamp,
    TokenId, Workload,
};

use tokentrail_engine::Detection;
use tokentrail_ingest::OtherRecord;

use crate::context::{key, Context, Directory, Networks};
use crate::rules;
use crate::timeline::{mark, Marked, Marks};
use crate::{
    touches, ChainSignIn, ContainmentStep, FindingRef, InvestigateError, Investigation,
    MailTouched, MailboxRuleChange, NetworkSummary, SessionChain, Subject, TokenUse, Touched,
};
use tokentrail_model::escape;

fn same_text(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.trim().eq_ignore_ascii_case(b.trim()))
}

fn is_user(keys: &BTreeSet<String>, id: Option<&String>, upn: Option<&String>) -> bool {
    [id, upn]
        .into_iter()
        .flatten()
        .any(|k| keys.contains(&key(k)))
}

fn sign_in_matches(subject: &Subject, users: &BTreeSet<String>, s: &SignIn) -> bool {
    match subject {
        Subject::User(_) => is_user(users, s.user_id.as_ref(), s.upn.as_ref()),
        Subject::Session(id) => s.session_id.as_ref() == Some(id),
        Subject::UserSession(_, id) => {
            s.session_id.as_ref() == Some(id) && is_user(users, s.user_id.as_ref(), s.upn.as_ref())
        }
        Subject::Token(t) => s.issued_token().as_ref() == Some(t),
        Subject::Ip(ip) => s.ip == Some(*ip),
    }
}

fn access_matches(subject: &Subject, users: &BTreeSet<String>, a: &Access) -> bool {
    match subject {
        Subject::User(_) => is_user(users, a.user_id.as_ref(), a.upn.as_ref()),
        Subject::Session(id) => a.session_id.as_ref() == Some(id),
        Subject::UserSession(_, id) => {
            a.session_id.as_ref() == Some(id) && is_user(users, a.user_id.as_ref(), a.upn.as_ref())
        }
        Subject::Token(t) => a.token_id.as_ref() == Some(t),
        Subject::Ip(ip) => a.ip == Some(*ip),
    }
}

/// A related record, either kind, with what the chain needs of it.
#[derive(Clone, Copy)]
pub(crate) enum Record<'a> {
    SignIn(&'a SignIn),
    Access(&'a Access),
}

/// By time, then by where the record was read: the one order of every timeline.
pub(crate) fn sort_by_time(records: &mut [Record<'_>]) {
    records.sort_by(|a, b| (a.time(), a.source()).cmp(&(b.time(), b.source())));
}

impl Record<'_> {
    pub(crate) fn time(&self) -> Timestamp {
        match self {
            Record::SignIn(s) => s.time,
            Record::Access(a) => a.time,
        }
    }
    pub(crate) fn source(&self) -> &SourceRef {
        match self {
            Record::SignIn(s) => &s.source,
            Record::Access(a) => &a.source,
        }
    }
    pub(crate) fn ip(&self) -> Option<IpAddr> {
        match self {
            Record::SignIn(s) => s.ip,
            Record::Access(a) => a.ip,
        }
    }
    pub(crate) fn session(&self) -> Option<&SessionId> {
        match self {
            Record::SignIn(s) => s.session_id.as_ref(),
            Record::Access(a) => a.session_id.as_ref(),
        }
    }
    pub(crate) fn token(&self) -> Option<TokenId> {
        match self {
            Record::SignIn(s) => s.issued_token(),
            Record::Access(a) => a.token_id.clone(),
        }
    }
    pub(crate) fn user_fields(&self) -> (Option<&String>, Option<&String>) {
        match self {
            Record::SignIn(s) => (s.user_id.as_ref(), s.upn.as_ref()),
            Record::Access(a) => (a.user_id.as_ref(), a.upn.as_ref()),
        }
    }
    pub(crate) fn user(&self, dir: &Directory) -> Option<String> {
        let (id, upn) = self.user_fields();
        dir.display_user(id, upn)
    }
    pub(crate) fn app(&self, dir: &Directory) -> Option<String> {
        match self {
            Record::SignIn(s) => dir.app(s.app_id.as_ref(), s.app_name.as_ref()),
            Record::Access(a) => dir.app(a.app_id.as_ref(), a.app_name.as_ref()),
        }
    }
}

/// Where a record lives: a sign-in index or an access index.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum At {
    SignIn(usize),
    Access(usize),
}

/// Builds many investigations over the same records: the records are indexed by user, session,
/// token and address once, so each investigation costs what its own records cost.
///
/// The records handed in may be only those related to the subjects that will be investigated
/// (plus the issuing sign-ins of their tokens); the [`Context`] supplies what the whole input
/// says about users and networks.
pub struct Investigator<'a> {
    context: &'a Context,
    sign_ins: &'a [SignIn],
    accesses: &'a [Access],
    others: &'a [OtherRecord],
    marks: Marks<'a>,
    window: Window,
    issuers: HashMap<TokenId, &'a SignIn>,
    by_user: HashMap<String, Vec<At>>,
    by_session: HashMap<&'a SessionId, Vec<At>>,
    by_token: HashMap<TokenId, Vec<At>>,
    by_ip: HashMap<IpAddr, Vec<At>>,
}

/// The earliest sign-in issuing each token (a token may be logged by several rows).
fn issuers(sign_ins: &[SignIn]) -> HashMap<TokenId, &SignIn> {
    let mut issuers: HashMap<TokenId, &SignIn> = HashMap::new();
    for s in sign_ins {
        if let Some(t) = s.issued_token() {
            issuers
                .entry(t)
                .and_modify(|e| {
                    if (s.time, &s.source) < (e.time, &e.source) {
                        *e = s;
                    }
                })
                .or_insert(s);
        }
    }
    issuers
}

impl<'a> Investigator<'a> {
    /// Index `sign_ins` and `accesses`; `findings` are the engine's findings, in its order.
    pub fn new(
        context: &'a Context,
        sign_ins: &'a [SignIn],
        accesses: &'a [Access],
        findings: &'a [Finding],
    ) -> Investigator<'a> {
        let mut inv = Investigator {
            context,
            sign_ins,
            accesses,
            others: &[],
            marks: Marks::new(findings),
            window: Window::default(),
            issuers: issuers(sign_ins),
            by_user: HashMap::new(),
            by_session: HashMap::new(),
            by_token: HashMap::new(),
            by_ip: HashMap::new(),
        };
        for (i, s) in sign_ins.iter().enumerate() {
            inv.index(
                At::SignIn(i),
                [&s.user_id, &s.upn],
                s.session_id.as_ref(),
                s.issued_token(),
                s.ip,
            );
        }
        for (i, a) in accesses.iter().enumerate() {
            inv.index(
                At::Access(i),
                [&a.user_id, &a.upn],
                a.session_id.as_ref(),
                a.token_id.clone(),
                a.ip,
            );
        }
        inv
    }

    /// Also list the inbox-rule and forwarding changes among `others` (the decoded records
    /// that are neither sign-ins nor accesses; those without a mailbox change are ignored).
    pub fn with_mailbox_changes(mut self, others: &'a [OtherRecord]) -> Investigator<'a> {
        self.others = others;
        self
    }

    /// List only the records of the reporting window (`--since`, `--until`, both inclusive) in
    /// the timeline, the counts, what was touched and the containment; chains and networks
    /// still describe every record of the subject, and the findings are the engine's (already
    /// limited to the window).
    pub fn with_window(
        mut self,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> Investigator<'a> {
        self.window = Window { since, until };
        self
    }

    fn index(
        &mut self,
        at: At,
        users: [&Option<String>; 2],
        session: Option<&'a SessionId>,
        token: Option<TokenId>,
        ip: Option<IpAddr>,
    ) {
        let keys: BTreeSet<String> = users.into_iter().flatten().map(|u| key(u)).collect();
        for k in keys {
            self.by_user.entry(k).or_default().push(at);
        }
        if let Some(s) = session {
            self.by_session.entry(s).or_default().push(at);
        }
        if let Some(t) = token {
            self.by_token.entry(t).or_default().push(at);
        }
        if let Some(ip) = ip {
            self.by_ip.entry(ip).or_default().push(at);
        }
    }

    /// Build the investigation of `subject`. Fails with [`InvestigateError::NoMatch`] when no
    /// record belongs to it.
    pub fn investigate(&self, subject: &Subject) -> Result<Investigation, InvestigateError> {
        let mut at: Vec<At> = match subject {
            Subject::User(u) => self
                .context
                .user_keys(u)
                .iter()
                .filter_map(|k| self.by_user.get(k))
                .flatten()
                .copied()
                .collect(),
            Subject::Session(s) => self.by_session.get(s).cloned().unwrap_or_default(),
            Subject::UserSession(u, s) => {
                let users = self.context.user_keys(u);
                let (sign_ins, accesses) = (self.sign_ins, self.accesses);
                self.by_session
                    .get(s)
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|at| match *at {
                        At::SignIn(i) => sign_ins
                            .get(i)
                            .is_some_and(|r| is_user(&users, r.user_id.as_ref(), r.upn.as_ref())),
                        At::Access(i) => accesses
                            .get(i)
                            .is_some_and(|r| is_user(&users, r.user_id.as_ref(), r.upn.as_ref())),
                    })
                    .collect()
            }
            Subject::Token(t) => self.by_token.get(t).cloned().unwrap_or_default(),
            Subject::Ip(ip) => self.by_ip.get(ip).cloned().unwrap_or_default(),
        };
        // Sign-ins first, each kind in input order, as a scan would list them.
        at.sort_unstable();
        at.dedup();
        let records: Vec<Record<'_>> = at
            .into_iter()
            .filter_map(|a| match a {
                At::SignIn(i) => self.sign_ins.get(i).map(Record::SignIn),
                At::Access(i) => self.accesses.get(i).map(Record::Access),
            })
            .collect();
        build(
            subject,
            records,
            self.context,
            &self.issuers,
            &self.marks,
            self.others,
            self.window,
        )
    }
}

/// The reporting window of the timeline.
#[derive(Clone, Copy, Debug, Default)]
struct Window {
    since: Option<Timestamp>,
    until: Option<Timestamp>,
}

impl Window {
    fn holds(self, t: Timestamp) -> bool {
        tokentrail_engine::in_window(self.since, self.until, t, t)
    }
}

/// Build the investigation of `subject` from every decoded sign-in and access and the engine's
/// run over them (its findings, and its view of the networks). Fails with [`InvestigateError::NoMatch`] when no record belongs to the subject.
///
/// For many subjects over the same records, [`Investigator`] indexes them once.
pub fn investigate(
    subject: &Subject,
    sign_ins: &[SignIn],
    accesses: &[Access],
    detection: &Detection,
) -> Result<Investigation, InvestigateError> {
    investigate_with_changes(subject, sign_ins, accesses, &[], detection)
}

/// [`investigate`], also listing the inbox-rule and forwarding changes among `others` (the
/// decoded records that are neither sign-ins nor accesses).
pub fn investigate_with_changes(
    subject: &Subject,
    sign_ins: &[SignIn],
    accesses: &[Access],
    others: &[OtherRecord],
    detection: &Detection,
) -> Result<Investigation, InvestigateError> {
    let context = Context::learn(sign_ins, accesses, detection.networks.clone());
    let subject_users = match subject {
        Subject::User(u) | Subject::UserSession(u, _) => context.user_keys(u),
        _ => BTreeSet::new(),
    };
    let records: Vec<Record<'_>> = sign_ins
        .iter()
        .filter(|s| sign_in_matches(subject, &subject_users, s))
        .map(Record::SignIn)
        .chain(
            accesses
                .iter()
                .filter(|a| access_matches(subject, &subject_users, a))
                .map(Record::Access),
        )
        .collect();
    build(
        subject,
        records,
        &context,
        &issuers(sign_ins),
        &Marks::new(&detection.findings),
        others,
        Window::default(),
    )
}

#[allow(clippy::too_many_arguments)]
fn build(
    subject: &Subject,
    mut records: Vec<Record<'_>>,
    context: &Context,
    issuers: &HashMap<TokenId, &SignIn>,
    marks: &Marks<'_>,
    others: &[OtherRecord],
    window: Window,
) -> Result<Investigation, InvestigateError> {
    if records.is_empty() {
        return Err(InvestigateError::NoMatch(subject.clone()));
    }
    sort_by_time(&mut records);
    let dir = &context.dir;
    let networks = &context.networks;
    // What is reported: the records of the window, each with the findings citing it. The
    // findings are those citing any record of the subject, and chains and networks describe
    // them all, so a window that starts after a session's root still shows the root.
    let shown: Vec<Record<'_>> = records
        .iter()
        .copied()
        .filter(|r| window.holds(r.time()))
        .collect();
    let Marked {
        timeline,
        counts,
        cited,
    } = mark(&records, context, marks);
    let (timeline, counts) = if shown.len() == records.len() {
        (timeline, counts)
    } else {
        let listed = mark(&shown, context, marks);
        (listed.timeline, listed.counts)
    };

    let user_keys: BTreeSet<String> = records
        .iter()
        .flat_map(|r| {
            let (id, upn) = r.user_fields();
            [id, upn].into_iter().flatten()
        })
        .flat_map(|k| dir.user_keys(k))
        .collect();
    let replays = replay_networks(marks, &cited);
    let network_summaries = summarize_networks(&records, context, &user_keys, &replays);
    let sessions = chains(&records, issuers, networks, dir);
    let mut touched = touched(&shown);
    touched.mailbox_rule_changes =
        mailbox_rule_changes(subject, &records, context, &user_keys, others)
            .into_iter()
            .filter(|c| window.holds(c.time))
            .collect();
    let finding_refs: Vec<FindingRef> = cited
        .iter()
        .filter_map(|i| marks.marks.get(*i))
        .map(|m| FindingRef {
            id: m.finding.id.clone(),
            rule: m.finding.rule.code().to_string(),
            severity: m.finding.severity.caption().to_string(),
            title: m.finding.title.clone(),
            first_seen: m.finding.first_seen,
            last_seen: m.finding.last_seen,
        })
        .collect();
    let users: BTreeSet<String> = records.iter().filter_map(|r| r.user(dir)).collect();
    let containment = containment(
        &shown,
        dir,
        networks,
        marks,
        &cited,
        &touched.mailbox_rule_changes,
    );
    // The span of what is listed; the subject's whole span when the window holds none of it.
    let span = if shown.is_empty() { &records } else { &shown };

    Ok(Investigation {
        subject: subject.clone(),
        finding: None,
        records: counts,
        first_seen: span.first().map_or(Timestamp(0), Record::time),
        last_seen: span.last().map_or(Timestamp(0), Record::time),
        users: users.into_iter().collect(),
        sessions,
        networks: network_summaries,
        findings: finding_refs,
        touched,
        containment,
        timeline,
    })
}

/// True for the findings that say a token or session was used from a network it was not
/// established on: their `network` is that network.
fn is_replay(f: &Finding) -> bool {
    f.rule.grouping().network_is_foreign()
}

/// Per network, the cited replay findings that name it.
fn replay_networks(marks: &Marks<'_>, cited: &BTreeSet<usize>) -> BTreeMap<NetworkId, Vec<String>> {
    let mut out: BTreeMap<NetworkId, Vec<String>> = BTreeMap::new();
    for m in cited.iter().filter_map(|i| marks.marks.get(*i)) {
        if let (true, Some(net)) = (is_replay(m.finding), m.finding.network) {
            out.entry(net).or_default().push(m.finding.id.clone());
        }
    }
    for ids in out.values_mut() {
        ids.sort();
        ids.dedup();
    }
    out
}

fn summarize_networks(
    records: &[Record<'_>],
    context: &Context,
    user_keys: &BTreeSet<String>,
    replays: &BTreeMap<NetworkId, Vec<String>>,
) -> Vec<NetworkSummary> {
    let networks = &context.networks;
    let interactive = context.interactive_networks(user_keys);
    let mut by_net: BTreeMap<NetworkId, NetworkSummary> = BTreeMap::new();
    for r in records {
        let (Some(ip), Some(net)) = (r.ip(), networks.of(r.ip())) else {
            continue;
        };
        let entry = by_net.entry(net).or_insert_with(|| NetworkSummary {
            network: net,
            approximate: net.is_approximate(),
            ips: Vec::new(),
            first_seen: r.time(),
            last_seen: r.time(),
            sign_ins: 0,
            accesses: 0,
            interactive_sign_in: interactive.contains(&net),
            established: context.is_own_network(user_keys, net),
            microsoft_service: false,
            replay_findings: replays.get(&net).cloned().unwrap_or_default(),
        });
        if !entry.ips.contains(&ip) {
            entry.ips.push(ip);
        }
        entry.microsoft_service |= context.is_microsoft_service(Some(ip));
        entry.first_seen = entry.first_seen.min(r.time());
        entry.last_seen = entry.last_seen.max(r.time());
        match r {
            Record::SignIn(_) => entry.sign_ins += 1,
            Record::Access(_) => entry.accesses += 1,
        }
    }
    let mut out: Vec<NetworkSummary> = by_net.into_values().collect();
    for n in &mut out {
        n.ips.sort();
    }
    out.sort_by_key(|a| (a.first_seen, a.network));
    out
}

fn chain_sign_in(s: &SignIn, networks: &Networks, dir: &Directory) -> ChainSignIn {
    ChainSignIn {
        time: s.time,
        kind: s.kind.as_str().to_string(),
        ip: s.ip,
        network: networks.of(s.ip),
        app: dir.app(s.app_id.as_ref(), s.app_name.as_ref()),
        token_id: s.issued_token(),
        succeeded: s.succeeded(),
        source: s.source.clone(),
    }
}

fn chains(
    records: &[Record<'_>],
    issuers: &HashMap<TokenId, &SignIn>,
    networks: &Networks,
    dir: &Directory,
) -> Vec<SessionChain> {
    // The issuing sign-in of a token may lie outside the related records (an IP subject).
    let mut by_session: BTreeMap<Option<SessionId>, SessionChain> = BTreeMap::new();
    // Position of each token in its chain's `tokens`, so a busy user stays linear.
    let mut token_index: BTreeMap<Option<SessionId>, HashMap<TokenId, usize>> = BTreeMap::new();
    for r in records {
        let key = r.session().cloned();
        let chain = by_session
            .entry(key.clone())
            .or_insert_with(|| SessionChain {
                session_id: key.clone(),
                first_seen: r.time(),
                last_seen: r.time(),
                interactive_roots: Vec::new(),
                refreshes: Vec::new(),
                tokens: Vec::new(),
                accesses_without_token: 0,
                accesses: 0,
            });
        chain.first_seen = chain.first_seen.min(r.time());
        chain.last_seen = chain.last_seen.max(r.time());
        let index = token_index.entry(key).or_default();
        let token = r.token();
        if let Some(t) = &token {
            if !index.contains_key(t) {
                index.insert(t.clone(), chain.tokens.len());
                let issuer = issuers.get(t);
                chain.tokens.push(TokenUse {
                    token_id: t.clone(),
                    issued_by: issuer.map(|s| s.source.clone()),
                    issued_at: issuer.map(|s| s.time),
                    issued_network: issuer.and_then(|s| networks.of(s.ip)),
                    accesses: 0,
                    first_used: None,
                    last_used: None,
                    used_from: Vec::new(),
                });
            }
        }
        match r {
            Record::SignIn(s) if s.kind == SignInKind::Interactive => {
                chain
                    .interactive_roots
                    .push(chain_sign_in(s, networks, dir));
            }
            Record::SignIn(s) => chain.refreshes.push(chain_sign_in(s, networks, dir)),
            Record::Access(a) => {
                chain.accesses += 1;
                let use_ = token
                    .as_ref()
                    .and_then(|t| index.get(t))
                    .and_then(|i| chain.tokens.get_mut(*i));
                match use_ {
                    Some(u) => {
                        u.accesses += 1;
                        u.first_used = Some(u.first_used.map_or(a.time, |f| f.min(a.time)));
                        u.last_used = Some(u.last_used.map_or(a.time, |l| l.max(a.time)));
                        if let Some(net) = networks.of(a.ip) {
                            if !u.used_from.contains(&net) {
                                u.used_from.push(net);
                                u.used_from.sort();
                            }
                        }
                    }
                    None => chain.accesses_without_token += 1,
                }
            }
        }
    }
    let mut out: Vec<SessionChain> = by_session.into_values().collect();
    out.sort_by(|a, b| {
        (a.session_id.is_none(), a.first_seen, &a.session_id).cmp(&(
            b.session_id.is_none(),
            b.first_seen,
            &b.session_id,
        ))
    });
    out
}

fn touched(records: &[Record<'_>]) -> Touched {
    let mut mail = MailTouched::default();
    let mut mail_objects: BTreeMap<String, u64> = BTreeMap::new();
    let mut files: BTreeMap<String, u64> = BTreeMap::new();
    let mut endpoints: BTreeMap<String, u64> = BTreeMap::new();
    for r in records {
        let Record::Access(a) = r else { continue };
        match a.workload {
            Workload::Mail => {
                mail.records += 1;
                mail.operations += a.count;
                let access_type = a.mail_access_type.as_deref().map(str::trim);
                if access_type.is_some_and(|t| t.eq_ignore_ascii_case("bind")) {
                    mail.bind += a.count;
                } else if access_type.is_some_and(|t| t.eq_ignore_ascii_case("sync")) {
                    mail.sync += a.count;
                }
                // A Graph row's object is its request URI, already listed as an endpoint.
                if let (Some(object), false) = (&a.object, a.log == AccessSource::GraphActivity) {
                    *mail_objects.entry(object.clone()).or_default() += a.count;
                }
            }
            Workload::Files => {
                let name = a.object.clone().unwrap_or_else(|| a.operation.clone());
                *files.entry(name).or_default() += a.count;
            }
            Workload::Teams | Workload::Other => {}
        }
        if a.log == AccessSource::GraphActivity {
            *endpoints.entry(a.operation.clone()).or_default() += a.count;
        }
    }
    mail.objects = touches(mail_objects);
    Touched {
        mail,
        files: touches(files),
        graph_endpoints: touches(endpoints),
        mailbox_rule_changes: Vec::new(),
    }
}

/// Rule and forwarding changes by the investigation's users, on their mailboxes, in its sessions
/// or with its tokens (or from the investigated address), whether logged as admin records or as
/// mailbox accesses (`UpdateInboxRules` from Outlook), by time then source.
fn mailbox_rule_changes(
    subject: &Subject,
    records: &[Record<'_>],
    context: &Context,
    user_keys: &BTreeSet<String>,
    others: &[OtherRecord],
) -> Vec<MailboxRuleChange> {
    let sessions: BTreeSet<&SessionId> = records.iter().filter_map(Record::session).collect();
    let tokens: BTreeSet<TokenId> = records.iter().filter_map(Record::token).collect();
    let ip = match subject {
        Subject::Ip(ip) => Some(*ip),
        _ => None,
    };
    let mut seen = rules::related(others, context, user_keys, &sessions, &tokens, ip);
    for r in records {
        let Record::Access(a) = r else { continue };
        if !rules::is_change_operation(&a.operation) {
            continue;
        }
        let (id, upn) = r.user_fields();
        seen.push(rules::Seen {
            time: a.time,
            operation: &a.operation,
            user: context.dir.display_user(id, upn),
            user_keys: [id, upn]
                .into_iter()
                .flatten()
                .flat_map(|u| context.user_keys(u))
                .collect(),
            ip: a.ip,
            session_id: a.session_id.as_ref(),
            token_id: a.token_id.as_ref(),
            object: a.object.as_ref(),
            parameters: &[],
            source: &a.source,
        });
    }
    let mut out: Vec<MailboxRuleChange> = seen
        .iter()
        .map(|c| rules::describe(c, context, &sessions, &tokens))
        .collect();
    out.sort_by(|a, b| (a.time, &a.source).cmp(&(b.time, &b.source)));
    out
}

fn list(items: &BTreeSet<String>) -> String {
    items.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// The containment steps. Whether a record came from somewhere it should not is the engine's
/// answer, not worked out again here: a record is *foreign* when a live TT001/TT002 finding
/// cites it and names its network (so Microsoft's service, a user's own carrier or office, and
/// whatever the allowlist approved are never foreign); an inbox-rule change is foreign when it
/// came from neither one of the user's own networks nor Microsoft's service.
fn containment(
    records: &[Record<'_>],
    dir: &Directory,
    networks: &Networks,
    marks: &Marks<'_>,
    cited: &BTreeSet<usize>,
    changes: &[MailboxRuleChange],
) -> Vec<ContainmentStep> {
    let on_foreign = |r: &Record<'_>| {
        let network = networks.of(r.ip());
        network.is_some()
            && marks
                .citing(r, r.token().as_ref(), network)
                .iter()
                .filter_map(|i| marks.marks.get(*i))
                .any(|m| is_replay(m.finding) && m.finding.network == network)
    };
    let foreign: BTreeSet<NetworkId> = records
        .iter()
        .filter(|r| on_foreign(r))
        .filter_map(|r| networks.of(r.ip()))
        .collect();
    let foreign_names: BTreeSet<String> = foreign.iter().map(ToString::to_string).collect();
    let cited_findings: Vec<&Finding> = cited
        .iter()
        .filter_map(|i| marks.marks.get(*i))
        .map(|m| m.finding)
        .collect();
    let user_ids: BTreeSet<String> = records
        .iter()
        .filter_map(|r| {
            let (id, upn) = r.user_fields();
            dir.object_id(id, upn)
        })
        .map(|id| key(&id))
        .collect();
    let foreign_changes = changes
        .iter()
        .filter(|c| c.foreign_network == Some(true))
        .count();
    let mut steps = Vec::new();
    if user_ids.is_empty()
        || (cited_findings.is_empty() && foreign.is_empty() && foreign_changes == 0)
    {
        return steps;
    }

    let mut why = Vec::new();
    if !cited_findings.is_empty() {
        let rules: BTreeSet<String> = cited_findings
            .iter()
            .map(|f| f.rule.code().to_string())
            .collect();
        why.push(format!(
            "{} finding(s) ({}) cite these records",
            cited_findings.len(),
            list(&rules)
        ));
    }
    if !foreign.is_empty() {
        why.push(format!(
            "the findings place tokens or sessions on network(s) where they were never established: {}",
            list(&foreign_names)
        ));
    }
    if foreign_changes > 0 {
        why.push(format!(
            "{foreign_changes} inbox-rule or forwarding change(s) came from networks that are neither the user's own (no interactive or device-proven sign-in there) nor Microsoft's service"
        ));
    }
    // A user key may be a UPN (a guest's, chosen by whoever invited it): it is one path
    // segment, percent-encoded.
    let calls: Vec<String> = user_ids
        .iter()
        .map(|id| {
            format!(
                "POST https://graph.microsoft.com/v1.0/users/{}/revokeSignInSessions",
                escape::url_path_segment(id)
            )
        })
        .collect();
    steps.push(ContainmentStep {
        step: "revoke-sessions".into(),
        action: "Revoke the user's refresh tokens and sessions (Microsoft Graph revokeSignInSessions)"
            .into(),
        commands: calls,
        why: format!(
            "{}; revoking invalidates the refresh tokens and session cookies an attacker holds (access tokens stay valid until they expire)",
            why.join("; ")
        ),
    });

    let mut apps: BTreeSet<String> = records
        .iter()
        .filter(|r| on_foreign(r))
        .filter_map(|r| r.app(dir))
        .collect();
    let unapproved: BTreeSet<String> = cited_findings
        .iter()
        .filter(|f| f.rule.grouping().client_is_the_finding())
        .filter_map(|f| f.app_name.clone().or_else(|| f.app_id.clone()))
        .collect();
    apps.extend(unapproved.iter().cloned());
    if !apps.is_empty() {
        let mut reasons = Vec::new();
        if !foreign.is_empty() {
            reasons.push(
                "used from networks where, the findings say, its tokens were never established"
                    .to_string(),
            );
        }
        if !unapproved.is_empty() {
            reasons.push(format!(
                "TT005 flags {} as not part of the tenant's approved clients",
                list(&unapproved)
            ));
        }
        steps.push(ContainmentStep {
            step: "review-consent".into(),
            action: format!(
                "Review the consent granted to {} and remove it where the app is not approved",
                list(&apps)
            ),
            commands: Vec::new(),
            why: reasons.join("; "),
        });
    }

    let foreign_refreshes = records
        .iter()
        .filter(|r| matches!(r, Record::SignIn(s) if s.kind != SignInKind::Interactive && s.succeeded()))
        .filter(|r| on_foreign(r))
        .count();
    let device_code = records.iter().any(|r| {
        matches!(r, Record::SignIn(s)
            if same_text(s.auth_protocol.as_deref(), "deviceCode")
                || same_text(s.transfer_method.as_deref(), "deviceCodeFlow"))
    });
    if foreign_refreshes > 0 || device_code {
        let mut reasons = Vec::new();
        if foreign_refreshes > 0 {
            reasons.push(format!(
                "{foreign_refreshes} sign-in(s) redeemed the session from networks where it was never established, so the session or refresh token is in other hands"
            ));
        }
        if device_code {
            reasons.push(
                "a device-code sign-in issued tokens; device-code phishing hands them to whoever started the flow"
                    .to_string(),
            );
        }
        steps.push(ContainmentStep {
            step: "reset-credentials".into(),
            action: "Reset the user's credentials and review the registered MFA methods, removing any the user did not add".into(),
            commands: Vec::new(),
            why: reasons.join("; "),
        });
    }

    let foreign_mail: u64 = records
        .iter()
        .filter(|r| on_foreign(r))
        .filter_map(|r| match r {
            Record::Access(a) if a.workload == Workload::Mail => Some(a.count),
            _ => None,
        })
        .sum();
    if let Some(step) = inbox_rules_step(foreign_mail, changes) {
        steps.push(step);
    }

    let foreign_accesses = records
        .iter()
        .filter(|r| matches!(r, Record::Access(_)) && on_foreign(r))
        .count();
    if foreign_accesses > 0 || foreign_refreshes > 0 {
        let unbound = records.iter().any(|r| {
            matches!(r, Record::SignIn(s) if !same_text(s.token_protection.as_deref(), "bound"))
        });
        let mut why = format!(
            "tokens were used from networks other than where they were issued ({foreign_accesses} access(es), {foreign_refreshes} sign-in(s))"
        );
        if unbound {
            why.push_str(
                "; the sessions' sign-ins are not token-protected (not bound to a device)",
            );
        }
        steps.push(ContainmentStep {
            step: "conditional-access".into(),
            action: "Consider token protection (device-bound sessions) and a shorter sign-in frequency in Conditional Access for this user and these apps".into(),
            commands: Vec::new(),
            why,
        });
    }
    steps
}

/// Effects that hide or divert mail, as [`rules::effects`] words them.
fn diverts_mail(c: &MailboxRuleChange) -> bool {
    c.effects.iter().any(|e| {
        e.starts_with("forwards")
            || e.starts_with("redirects")
            || e == "deletes the message"
            || e == "rule action Forward"
            || e == "rule action Redirect"
            || e == "rule action Delete"
    })
}

/// The step that removes malicious inbox rules: it cites the changes made from networks the user
/// never signed in from interactively or that divert or delete mail, and how to undo each.
fn inbox_rules_step(foreign_mail: u64, changes: &[MailboxRuleChange]) -> Option<ContainmentStep> {
    let flagged: Vec<&MailboxRuleChange> = changes
        .iter()
        .filter(|c| c.foreign_network == Some(true) || diverts_mail(c))
        .collect();
    if foreign_mail == 0 && flagged.is_empty() {
        return None;
    }
    let mut why = Vec::new();
    for c in &flagged {
        let mut place = format!(
            "{} at {} by {} from {}",
            c.operation,
            c.time,
            c.user.as_deref().unwrap_or("an unknown user"),
            c.ip.map_or_else(|| "an unlogged address".to_string(), |ip| ip.to_string())
        );
        if let Some(n) = c.network {
            place.push_str(&format!(" ({n}"));
            if c.foreign_network == Some(true) {
                place.push_str(", not one of the user's networks");
            }
            place.push(')');
        }
        if c.in_chain {
            place.push_str(", in the investigated session");
        }
        if !c.effects.is_empty() {
            place.push_str(&format!(": {}", c.effects.join(", ")));
        }
        why.push(format!("{place} [{}]", c.source));
    }
    if foreign_mail > 0 {
        let mut text = format!(
            "{foreign_mail} mail operation(s) came from networks where their tokens were never established; attackers with mail access often hide replies with rules"
        );
        if changes.is_empty() {
            text.push_str(
                ", and no inbox-rule or forwarding change by these users is in the inputs, so check the mailbox itself",
            );
        }
        why.push(text);
    }
    // Every name comes from the log, written by whoever made the rule: it goes into a command
    // only as a PowerShell single-quoted string, and a name that cannot be pasted as one is
    // named by when it was changed instead.
    let mut commands: Vec<String> = Vec::new();
    let mut references: Vec<String> = Vec::new();
    for c in &flagged {
        let name = |p: &str| {
            c.parameters
                .iter()
                .find(|x| x.name.eq_ignore_ascii_case(p))
                .map(|x| x.value.clone())
                .filter(|v| !v.is_empty())
        };
        let (command, reference) = if c.operation.eq_ignore_ascii_case("Set-Mailbox") {
            let mailbox = name("Identity")
                .or_else(|| c.object.clone())
                .or_else(|| c.user.clone());
            match mailbox.as_deref().map(escape::powershell_literal) {
                Some(Some(mailbox)) => (
                    Some(format!(
                        "Set-Mailbox -Identity {mailbox} -ForwardingSmtpAddress $null -ForwardingAddress $null -DeliverToMailboxAndForward $false"
                    )),
                    None,
                ),
                _ => (
                    None,
                    Some(format!(
                        "clear the forwarding set on the mailbox changed by {} at {} (find it with Get-Mailbox)",
                        c.operation, c.time
                    )),
                ),
            }
        } else {
            match name("Name")
                .or_else(|| name("Identity"))
                .as_deref()
                .map(escape::powershell_literal)
            {
                Some(Some(rule)) => (Some(format!("Remove-InboxRule -Identity {rule}")), None),
                _ => (
                    None,
                    Some(format!(
                        "remove the rule changed by {} at {} (find it with Get-InboxRule; its name cannot be pasted as logged)",
                        c.operation, c.time
                    )),
                ),
            }
        };
        if let Some(command) = command.filter(|t| !commands.contains(t)) {
            commands.push(command);
        }
        if let Some(reference) = reference.filter(|t| !references.contains(t)) {
            references.push(reference);
        }
    }
    let others = "then check the mailbox for others created since the first foreign access (Get-InboxRule, Get-Mailbox ForwardingSmtpAddress)";
    let action = match (commands.is_empty(), references.is_empty()) {
        (true, true) => "Check the mailbox for inbox rules and forwarding created since the first foreign access (Get-InboxRule, Get-Mailbox ForwardingSmtpAddress) and remove malicious ones".to_string(),
        (false, true) => format!(
            "Remove the malicious inbox rules and forwarding with the commands below; {others}"
        ),
        (true, false) => format!(
            "Remove the malicious inbox rules and forwarding: {}; {others}",
            references.join("; ")
        ),
        (false, false) => format!(
            "Remove the malicious inbox rules and forwarding with the commands below, and {}; {others}",
            references.join("; ")
        ),
    };
    Some(ContainmentStep {
        step: "inbox-rules".into(),
        action,
        commands,
        why: why.join("; "),
    })
}
