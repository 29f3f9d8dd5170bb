//! The correlation state every rule reads: sign-ins and accesses (deduplicated, in time order),
//! the token index (token id -> issuing sign-in), session chains (interactive roots,
//! non-interactive sign-ins, accesses), the network of every record, and the tenant's client
//! inventory. Built once in [`crate::Engine::finish`], after every record has arrived, so the
//! order records came in cannot change any answer.

use std::collections::{BTreeMap, BTreeSet};

use tokentrail_model::{Access, Actor, SessionId, SignIn, SignInKind, Timestamp, TokenId};

use crate::asn::AsnDb;
use crate::catalog::Catalog;
use crate::coverage::{Coverage, Family};
use crate::network::{relate, Net, Networks, Relation};
use crate::Thresholds;

/// The records of one session.
#[derive(Clone, Debug, Default)]
pub(crate) struct Chain {
    /// Successful interactive sign-ins (and UAL logons): the roots.
    pub interactive: Vec<usize>,
    /// Successful non-interactive sign-ins.
    pub non_interactive: Vec<usize>,
    /// Accesses that name the session, or whose token a sign-in of the session issued.
    pub accesses: Vec<usize>,
}

/// How one client app is used in the tenant, as the input shows it.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClientUse {
    /// Users seen with it (sign-ins and delegated accesses).
    pub users: BTreeSet<String>,
    /// Distinct UTC days it was seen on (days since the epoch).
    pub days: BTreeSet<i64>,
    /// Its first record.
    pub first_seen: Option<Timestamp>,
}

impl ClientUse {
    fn saw(&mut self, user: &str, t: Timestamp) {
        if !self.users.contains(user) {
            self.users.insert(user.to_string());
        }
        self.days.insert(t.secs().div_euclid(86_400));
        self.first_seen = Some(self.first_seen.map_or(t, |f| f.min(t)));
    }
}

/// Everything the rules need, read-only.
pub(crate) struct Context<'a> {
    pub sign_ins: &'a [SignIn],
    pub accesses: &'a [Access],
    /// Token id -> the successful sign-in that issued it (the earliest, should several claim it).
    pub tokens: BTreeMap<TokenId, usize>,
    pub sessions: BTreeMap<SessionId, Chain>,
    /// Per access: its session (its own, or its issuing sign-in's).
    pub access_session: Vec<Option<SessionId>>,
    /// Per access: the sign-in that issued its token.
    pub access_issue: Vec<Option<usize>>,
    sign_in_nets: Vec<Option<Net>>,
    access_nets: Vec<Option<Net>>,
    pub coverage: &'a Coverage,
    pub catalog: &'a Catalog,
    pub thresholds: &'a Thresholds,
    /// Successful interactive sign-ins per user.
    pub user_interactive: BTreeMap<String, Vec<usize>>,
    /// Client app id (lower case) -> how the tenant uses it (user sign-ins and delegated
    /// accesses).
    pub inventory: BTreeMap<String, ClientUse>,
    /// The first and last user sign-in of the input: the span the inventory was learned over.
    pub sign_in_span: Option<(Timestamp, Timestamp)>,
    /// Every user seen.
    pub users: BTreeSet<String>,
    upn_to_id: BTreeMap<String, String>,
    /// User object id (lower case) -> UPN as first logged, from sign-ins and accesses.
    id_to_upn: BTreeMap<String, String>,
}

/// True for a confidential client's sign-in (`clientCredentialType` other than none).
pub(crate) fn confidential_sign_in(s: &SignIn) -> bool {
    s.client_credential_type
        .as_deref()
        .map(str::trim)
        .is_some_and(|t| !t.is_empty() && !t.eq_ignore_ascii_case("none"))
}

/// True when the sign-in itself proves the device: a device id together with Entra marking it
/// managed or compliant, a primary refresh token redeemed, or a token-bound session.
pub(crate) fn proves_device(s: &SignIn) -> bool {
    s.device.id.is_some()
        && (s.device.is_managed == Some(true)
            || s.device.is_compliant == Some(true)
            || s.incoming_token_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("primaryRefreshToken"))
            || s.token_protection
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("bound")))
}

/// True for an interactive kind (a root): interactive sign-ins and UAL logons.
pub(crate) fn is_root_kind(kind: SignInKind) -> bool {
    matches!(kind, SignInKind::Interactive | SignInKind::UalLogon)
}

/// True for app-only access: the record says so, or it names a service principal and no user.
pub fn is_app_only(a: &Access) -> bool {
    match a.actor {
        Actor::AppOnly => true,
        Actor::Delegated => false,
        Actor::Unknown => {
            a.user_id.is_none()
                && a.upn.is_none()
                && (a.service_principal_id.is_some()
                    || a.client_auth_method.is_some_and(|m| m.is_confidential()))
        }
    }
}

/// True for delegated access (a token acting for a user).
pub fn is_delegated(a: &Access) -> bool {
    match a.actor {
        Actor::Delegated => true,
        Actor::AppOnly => false,
        Actor::Unknown => !is_app_only(a) && (a.user_id.is_some() || a.upn.is_some()),
    }
}

fn lower(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_lowercase)
}

/// A logged UPN worth showing: some logs put the object id in the UPN column.
fn upn_text(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|t| t.contains('@'))
        .map(String::from)
}

impl<'a> Context<'a> {
    pub fn build(
        sign_ins: &'a [SignIn],
        accesses: &'a [Access],
        coverage: &'a Coverage,
        catalog: &'a Catalog,
        thresholds: &'a Thresholds,
        asn_db: Option<&'a AsnDb>,
    ) -> Context<'a> {
        let networks = Networks::learn(sign_ins, asn_db, catalog);
        let sign_in_nets = sign_ins
            .iter()
            .map(|s| s.ip.map(|ip| networks.resolve(ip)))
            .collect();
        let access_nets = accesses
            .iter()
            .map(|a| a.ip.map(|ip| networks.resolve(ip)))
            .collect();
        let mut tokens = BTreeMap::new();
        let mut sessions: BTreeMap<SessionId, Chain> = BTreeMap::new();
        let mut upn_to_id = BTreeMap::new();
        let mut id_to_upn = BTreeMap::new();
        for (i, s) in sign_ins.iter().enumerate() {
            if let (Some(upn), Some(id)) = (lower(&s.upn), lower(&s.user_id)) {
                upn_to_id.entry(upn).or_insert(id);
            }
            if let (Some(upn), Some(id)) = (upn_text(&s.upn), lower(&s.user_id)) {
                id_to_upn.entry(id).or_insert(upn);
            }
            if !s.succeeded() {
                continue;
            }
            if let Some(t) = s.issued_token() {
                tokens.entry(t).or_insert(i);
            }
            if let Some(sid) = &s.session_id {
                let chain = sessions.entry(sid.clone()).or_default();
                if is_root_kind(s.kind) {
                    chain.interactive.push(i);
                } else if s.kind == SignInKind::NonInteractive {
                    chain.non_interactive.push(i);
                }
            }
        }
        let mut access_session = Vec::with_capacity(accesses.len());
        let mut access_issue = Vec::with_capacity(accesses.len());
        for (i, a) in accesses.iter().enumerate() {
            if let (Some(upn), Some(id)) = (upn_text(&a.upn), lower(&a.user_id)) {
                id_to_upn.entry(id).or_insert(upn);
            }
            let issue = a.token_id.as_ref().and_then(|t| tokens.get(t).copied());
            let session = a.session_id.clone().or_else(|| {
                issue
                    .and_then(|s| sign_ins.get(s))
                    .and_then(|s| s.session_id.clone())
            });
            if let Some(sid) = &session {
                sessions.entry(sid.clone()).or_default().accesses.push(i);
            }
            access_session.push(session);
            access_issue.push(issue);
        }
        let mut cx = Context {
            sign_ins,
            accesses,
            tokens,
            sessions,
            access_session,
            access_issue,
            sign_in_nets,
            access_nets,
            coverage,
            catalog,
            thresholds,
            user_interactive: BTreeMap::new(),
            inventory: BTreeMap::new(),
            sign_in_span: None,
            users: BTreeSet::new(),
            upn_to_id,
            id_to_upn,
        };
        let mut user_interactive: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut inventory: BTreeMap<String, ClientUse> = BTreeMap::new();
        let mut users = BTreeSet::new();
        let mut span: Option<(Timestamp, Timestamp)> = None;
        for (i, s) in sign_ins.iter().enumerate() {
            if !s.kind.is_user() {
                continue;
            }
            // Failed sign-ins still show the log was being written.
            span = Some(span.map_or((s.time, s.time), |(a, b)| (a.min(s.time), b.max(s.time))));
            if !s.succeeded() {
                continue;
            }
            let Some(user) = cx.user_of_sign_in(s) else {
                continue;
            };
            if is_root_kind(s.kind) {
                user_interactive.entry(user.clone()).or_default().push(i);
            }
            if let Some(app) = lower(&s.app_id) {
                inventory.entry(app).or_default().saw(&user, s.time);
            }
            users.insert(user);
        }
        for a in accesses.iter().filter(|a| is_delegated(a)) {
            let Some(user) = cx.user_of_access(a) else {
                continue;
            };
            if let Some(app) = lower(&a.app_id) {
                inventory.entry(app).or_default().saw(&user, a.time);
            }
            users.insert(user);
        }
        cx.user_interactive = user_interactive;
        cx.inventory = inventory;
        cx.sign_in_span = span;
        cx.users = users;
        cx
    }

    /// The UPN of a user object id, as any sign-in or access of that user logged it.
    pub fn upn_of(&self, user_id: &str) -> Option<&str> {
        self.id_to_upn
            .get(&user_id.trim().to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The UPN to show for a finding: the one its records logged, else the one any other
    /// sign-in or access of the same user object id logged (Graph rows carry only the id).
    pub fn upn_for(&self, user_id: Option<&str>, logged: Option<&str>) -> Option<String> {
        logged
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(String::from)
            .or_else(|| user_id.and_then(|id| self.upn_of(id)).map(String::from))
    }

    pub fn sign_in_net(&self, i: usize) -> Option<&Net> {
        self.sign_in_nets.get(i).and_then(Option::as_ref)
    }

    pub fn access_net(&self, i: usize) -> Option<&Net> {
        self.access_nets.get(i).and_then(Option::as_ref)
    }

    /// The user a sign-in acts for: object id, else UPN.
    pub fn user_of_sign_in(&self, s: &SignIn) -> Option<String> {
        lower(&s.user_id).or_else(|| lower(&s.upn))
    }

    /// The user an access acts for: object id, else the object id a sign-in gave the UPN, else
    /// the UPN.
    pub fn user_of_access(&self, a: &Access) -> Option<String> {
        lower(&a.user_id)
            .or_else(|| lower(&a.upn).map(|upn| self.upn_to_id.get(&upn).cloned().unwrap_or(upn)))
    }

    /// When a session was first seen (any sign-in or access of it).
    pub fn session_first_seen(&self, chain: &Chain) -> Option<Timestamp> {
        let s = chain
            .interactive
            .iter()
            .chain(&chain.non_interactive)
            .filter_map(|i| self.sign_ins.get(*i))
            .map(|s| s.time);
        let a = chain
            .accesses
            .iter()
            .filter_map(|i| self.accesses.get(*i))
            .map(|a| a.time);
        s.chain(a).min()
    }

    /// True when interactive sign-in logs (or UAL logons) cover `[from, to]`.
    pub fn interactive_covered(&self, from: Timestamp, to: Timestamp) -> bool {
        self.coverage
            .covers(Family::SignIn(SignInKind::Interactive), from, to)
            || self
                .coverage
                .covers(Family::SignIn(SignInKind::UalLogon), from, to)
    }

    /// A successful interactive sign-in of `user` from `net` within the travel window of `at`:
    /// the user went there and signed in again. Hosting networks never count.
    pub fn travel_sign_in(&self, user: &str, net: &Net, at: Timestamp) -> Option<usize> {
        if net.hosting {
            return None;
        }
        let window = self.thresholds.travel_window_secs;
        self.user_interactive.get(user)?.iter().copied().find(|&i| {
            self.sign_ins
                .get(i)
                .is_some_and(|s| s.time >= at.plus_secs(-window) && s.time <= at.plus_secs(window))
                && self
                    .sign_in_net(i)
                    .is_some_and(|n| relate(n, net) == Relation::Same)
        })
    }

    /// Display name of a client app id: as logged, else from the reference data.
    pub fn app_name(&self, app_id: Option<&str>, logged: Option<&str>) -> Option<String> {
        logged.map(String::from).or_else(|| {
            app_id
                .and_then(|a| self.catalog.app_name(a))
                .map(String::from)
        })
    }
}
