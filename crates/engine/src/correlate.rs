//! The correlation state every rule reads: sign-ins and accesses (deduplicated, in time order),
//! the token index (token id -> issuing sign-in), session chains (interactive roots,
//! non-interactive sign-ins, accesses), the network of every record, and the tenant's client
//! inventory. Built once in [`crate::Engine::finish`], after every record has arrived, so the
//! order records came in cannot change any answer.
//!
//! Token and session ids, addresses and strings arrive interned (see [`crate::store`]), so the
//! indexes here are plain vectors indexed by handle, and every per-record fact the rules ask
//! for (its network, its user, its client's lower-case id) is computed once per distinct value.

use rustc_hash::{FxHashMap, FxHashSet};
use tokentrail_model::{
    Access, Actor, NetworkId, SessionId, SignIn, SignInKind, Timestamp, TokenId,
};

use crate::asn::AsnDb;
use crate::catalog::Catalog;
use crate::coverage::{Coverage, Covered, Family};
use crate::network::{count_votes, relate, AsnVotes, Net, Relation};
use crate::store::{sflag, AccessRec, SignInRec, Store, Strings, Sym};
use crate::tenant::{ClientUse, Tenant, TenantShare};
use crate::Thresholds;

/// The records of one session.
#[derive(Clone, Debug, Default)]
pub(crate) struct Chain {
    /// Successful interactive sign-ins (and UAL logons): the roots.
    pub interactive: Vec<usize>,
    /// Successful non-interactive sign-ins.
    pub non_interactive: Vec<usize>,
}

/// How one partition's users use one client app, while it is learned.
#[derive(Clone, Debug, Default)]
struct ClientSeen {
    users: FxHashSet<Sym>,
    days: FxHashSet<i64>,
    first_seen: Option<Timestamp>,
}

impl ClientSeen {
    fn saw(&mut self, user: Sym, t: Timestamp) {
        self.users.insert(user);
        self.days.insert(t.secs().div_euclid(86_400));
        self.first_seen = Some(self.first_seen.map_or(t, |f| f.min(t)));
    }
}

/// A client as an access logs it: (client id, user id, UPN).
pub(crate) type ClientKey = (Option<Sym>, Option<Sym>, Option<Sym>);

/// What the rules need to know about all accesses before they judge the first one, learned as
/// accesses are added (the accesses themselves wait on disk, see [`crate::spill`]). Every entry
/// is per client and user, per session or per token, never per record; copies of one record
/// change nothing here (sets and minimums), so no deduplication is needed first.
#[derive(Debug, Default)]
pub(crate) struct AccessSummary {
    /// Delegated accesses per (client id, user id, UPN) as logged: the UTC days they were seen
    /// on and the first time (the client inventory's share of accesses).
    pub clients: FxHashMap<ClientKey, (FxHashSet<i64>, Timestamp)>,
    /// The first access naming each session.
    pub session_first: FxHashMap<Sym, Timestamp>,
    /// The first access of each token among accesses naming no session (their session is
    /// their token's issuing sign-in's, known only at the end).
    pub token_first: FxHashMap<Sym, Timestamp>,
    /// The first and last time of any access.
    pub window: Option<(Timestamp, Timestamp)>,
    /// Per token handle that delegated accesses logged an issue time for: the earliest such
    /// time, and the user id, UPN and client of the access that logged it (the evidence
    /// coverage weighs, see [`crate::coverage`]). Indexed by handle: one slot per token, no
    /// hashing per access.
    pub issued: Vec<Option<IssuedAt>>,
}

/// When a token was issued, as an access logged it, and whose it was.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IssuedAt {
    pub at: Timestamp,
    pub user_id: Option<Sym>,
    pub upn: Option<Sym>,
    pub app: Option<Sym>,
}

impl AccessSummary {
    pub fn add(&mut self, a: &AccessRec) {
        self.window = Some(match self.window {
            None => (a.time, a.time),
            Some((f, l)) => (f.min(a.time), l.max(a.time)),
        });
        // A session or token is alive from its token's issue, which can be a day before the
        // access (Continuous Access Evaluation tokens live up to 28 hours).
        let alive = a.token_issued_at().map_or(a.time, |t| t.min(a.time));
        let first = |m: &mut FxHashMap<Sym, Timestamp>, k: Sym| {
            m.entry(k)
                .and_modify(|t| *t = (*t).min(alive))
                .or_insert(alive);
        };
        match (a.session, a.token) {
            (Some(s), _) => first(&mut self.session_first, s),
            (None, Some(t)) => first(&mut self.token_first, t),
            (None, None) => {}
        }
        if let (Some(token), Some(at), true) = (a.token, a.token_issued_at(), rec_delegated(a)) {
            let seen = IssuedAt {
                at,
                user_id: a.user_id,
                upn: a.upn,
                app: a.app_id,
            };
            if self.issued.len() <= token.index() {
                self.issued.resize(token.index() + 1, None);
            }
            if let Some(slot) = self.issued.get_mut(token.index()) {
                if slot.is_none_or(|e| at < e.at) {
                    *slot = Some(seen);
                }
            }
        }
        if rec_delegated(a) && (a.user_id.is_some() || a.upn.is_some()) {
            let e = self
                .clients
                .entry((a.app_id, a.user_id, a.upn))
                .or_insert_with(|| (FxHashSet::default(), a.time));
            e.0.insert(a.time.secs().div_euclid(86_400));
            e.1 = e.1.min(a.time);
        }
    }
}

/// An access with what the context links it to, worked out once and read by every rule.
pub(crate) struct Linked<'r> {
    pub access: &'r AccessRec,
    /// The sign-in that issued its token.
    pub issue: Option<usize>,
    /// Its session: its own, or its issuing sign-in's.
    pub session: Option<Sym>,
    /// The user it acts for (see [`Context::user_of_access`]).
    pub user: Option<Sym>,
}

/// What the catalog says about a lower-case client id.
const FIRST_PARTY: u8 = 1;
const TOOLING: u8 = 2;

/// Everything the rules need, read-only.
pub(crate) struct Context<'a> {
    pub store: &'a Store,
    pub sign_ins: &'a [SignInRec],
    /// Per token handle: the successful sign-in that issued it (the earliest, should several
    /// claim it).
    tokens: Vec<u32>,
    /// Per session handle: its chain.
    sessions: Vec<Chain>,
    /// Per session handle: its first access.
    session_access_first: Vec<Option<Timestamp>>,
    /// UPN (trimmed, lower case) -> the user object id a sign-in gave it.
    upn_to_id: FxHashMap<Sym, Sym>,
    /// Per address handle: its network.
    nets: Vec<Net>,
    /// Coverage of the sign-in logs (see [`Context::set_coverage`]).
    pub coverage: Coverage,
    pub catalog: &'a Catalog,
    pub thresholds: &'a Thresholds,
    /// Successful interactive sign-ins per user.
    user_interactive: FxHashMap<Sym, Vec<usize>>,
    /// Where each user's devices proved themselves: see [`Context::established`].
    established: FxHashMap<(Sym, NetKey), Earliest>,
    /// Per /24 or /48 prefix where devices of at least [`TENANT_NETWORK_USERS`] users proved
    /// themselves: when the last of those users first did (the tenant's own networks, such as
    /// the office).
    tenant_networks: FxHashMap<NetworkId, Timestamp>,
    /// Client app id (lower case) -> how the tenant uses it (user sign-ins and delegated
    /// accesses).
    pub inventory: FxHashMap<Sym, ClientUse>,
    /// The first and last user sign-in of the input: the span the inventory was learned over.
    pub sign_in_span: Option<(Timestamp, Timestamp)>,
    /// How many distinct users were seen.
    pub user_count: usize,
    /// Strings derived from the input (lower-case ids, trimmed UPNs).
    derived: Strings,
    /// Per input string handle: its lower-case form, and its trimmed lower-case form when not
    /// empty (handles into `derived`; 0 = not computed yet, `u32::MAX` = none).
    lc: Vec<u32>,
    key: Vec<u32>,
    /// Per input string handle: the UPN it shows (see `Lower::upn_text`).
    upn: Vec<u32>,
    /// Per derived handle: catalog flags (computed once per distinct lower-case client id).
    app_flags: Vec<u8>,
    /// User object id (lower case) -> UPN as first logged, from sign-ins and accesses.
    id_to_upn: FxHashMap<Sym, Sym>,
    /// Per file handle: its rank in name order (see [`Store::file_ranks`]).
    pub file_ranks: Vec<u32>,
}

/// How the established-network index finds a network: by ASN when the network has one, and by
/// prefix for the comparisons [`crate::network::relate`] makes by prefix (an address without
/// ASN against any sign-in address, an address with ASN against sign-in addresses without).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum NetKey {
    Asn(u32),
    Prefix(NetworkId),
    PrefixWithoutAsn(NetworkId),
}

/// Users whose devices proved themselves in one /24 or /48 make it a network of the tenant (the
/// office where colleagues sign in every workday), established for every user.
pub(crate) const TENANT_NETWORK_USERS: usize = 3;

/// The earliest device-proven sign-ins of one user on one network, from two different sessions
/// (enough to answer "one before `t` outside session `s`" for any `s`).
type Earliest = [Option<(Timestamp, Option<Sym>)>; 2];

fn keep_earliest(e: &mut Earliest, time: Timestamp, session: Option<Sym>) {
    // Sign-ins come in time order, so the first sign-in of each session is its earliest; a
    // sign-in without a session is a session of its own.
    let same =
        |x: &Option<(Timestamp, Option<Sym>)>| x.is_some_and(|(_, s)| s.is_some() && s == session);
    if e.iter().any(same) {
        return;
    }
    if let Some(slot) = e.iter_mut().find(|x| x.is_none()) {
        *slot = Some((time, session));
    }
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
    app_only(
        a.actor,
        a.user_id.is_some() || a.upn.is_some(),
        a.service_principal_id.is_some(),
        a.client_auth_method.is_some_and(|m| m.is_confidential()),
    )
}

/// True for delegated access (a token acting for a user).
pub fn is_delegated(a: &Access) -> bool {
    delegated(
        a.actor,
        a.user_id.is_some() || a.upn.is_some(),
        a.service_principal_id.is_some(),
        a.client_auth_method.is_some_and(|m| m.is_confidential()),
    )
}

fn app_only(actor: Actor, user: bool, sp: bool, confidential: bool) -> bool {
    match actor {
        Actor::AppOnly => true,
        Actor::Delegated => false,
        Actor::Unknown => !user && (sp || confidential),
    }
}

fn delegated(actor: Actor, user: bool, sp: bool, confidential: bool) -> bool {
    match actor {
        Actor::Delegated => true,
        Actor::AppOnly => false,
        Actor::Unknown => !app_only(actor, user, sp, confidential) && user,
    }
}

/// [`is_app_only`] of a kept access.
pub(crate) fn rec_app_only(a: &AccessRec) -> bool {
    app_only(
        a.actor,
        a.user_id.is_some() || a.upn.is_some(),
        a.service_principal_id.is_some(),
        a.client_auth_method.is_some_and(|m| m.is_confidential()),
    )
}

/// [`is_delegated`] of a kept access.
pub(crate) fn rec_delegated(a: &AccessRec) -> bool {
    delegated(
        a.actor,
        a.user_id.is_some() || a.upn.is_some(),
        a.service_principal_id.is_some(),
        a.client_auth_method.is_some_and(|m| m.is_confidential()),
    )
}

const NOT_YET: u32 = 0;
const NONE: u32 = u32::MAX;

fn to_slot(s: Option<Sym>) -> u32 {
    s.map_or(NONE, Sym::raw)
}

fn from_slot(v: u32) -> Option<Sym> {
    if v == NONE {
        None
    } else {
        Sym::from_raw(v)
    }
}

/// The memoized lower-case forms of input strings.
struct Lower<'s> {
    input: &'s Strings,
    derived: Strings,
    lc: Vec<u32>,
    key: Vec<u32>,
    upn: Vec<u32>,
}

/// The forms [`Lower`] remembers of an input string.
#[derive(Clone, Copy)]
enum Form {
    /// Lower case.
    Lc,
    /// Trimmed and lower case, `None` when empty.
    Key,
    /// A logged UPN worth showing (trimmed, with an `@`): some logs put the object id in the
    /// UPN column.
    Upn,
}

impl Lower<'_> {
    /// The `form` of an input string, worked out (and interned) the first time it is asked for.
    fn remembered(&mut self, form: Form, s: Option<Sym>) -> Option<Sym> {
        let s = s?;
        let cache = match form {
            Form::Lc => &mut self.lc,
            Form::Key => &mut self.key,
            Form::Upn => &mut self.upn,
        };
        let slot = cache.get_mut(s.index())?;
        if *slot != NOT_YET {
            return from_slot(*slot);
        }
        let text = self.input.get(Some(s));
        let v = match form {
            Form::Lc => text.and_then(|t| self.derived.intern(&t.to_ascii_lowercase())),
            Form::Key => text
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .and_then(|t| self.derived.intern(&t.to_ascii_lowercase())),
            Form::Upn => text
                .map(str::trim)
                .filter(|t| t.contains('@'))
                .and_then(|t| self.derived.intern(t)),
        };
        *slot = to_slot(v);
        v
    }

    fn lc(&mut self, s: Option<Sym>) -> Option<Sym> {
        self.remembered(Form::Lc, s)
    }

    fn key(&mut self, s: Option<Sym>) -> Option<Sym> {
        self.remembered(Form::Key, s)
    }

    fn upn_text(&mut self, s: Option<Sym>) -> Option<Sym> {
        self.remembered(Form::Upn, s)
    }

    /// [`Lower::key`] of a string already lowered (the passes that share the forms read them
    /// only).
    fn known_key(&self, s: Option<Sym>) -> Option<Sym> {
        from_slot(*self.key.get(s?.index())?)
    }

    /// The user a sign-in names, by object id else UPN (keys already lowered).
    fn known_user(&self, s: &SignInRec) -> Option<Sym> {
        self.known_key(s.user_id).or_else(|| self.known_key(s.upn))
    }

    /// [`Lower::upn_text`] of a string already lowered.
    fn known_upn_text(&self, s: Option<Sym>) -> Option<Sym> {
        from_slot(*self.upn.get(s?.index())?)
    }
}

/// The token index, the session chains and the UPN <-> user id maps: one pass over the sign-ins
/// in time order (the earliest issuer and the first UPN win).
struct Issuing {
    tokens: Vec<u32>,
    sessions: Vec<Chain>,
    session_access_first: Vec<Option<Timestamp>>,
    upn_to_id: FxHashMap<Sym, Sym>,
    id_to_upn: FxHashMap<Sym, Sym>,
}

impl Issuing {
    fn index(
        store: &Store,
        sign_ins: &[SignInRec],
        accesses: &AccessSummary,
        lower: &Lower<'_>,
    ) -> Issuing {
        let mut tokens: Vec<u32> = vec![NONE; store.tokens.len()];
        let mut sessions: Vec<Chain> = vec![Chain::default(); store.sessions.len()];
        let mut upn_to_id = FxHashMap::default();
        let mut id_to_upn = FxHashMap::default();
        for (i, s) in sign_ins.iter().enumerate() {
            let id = lower.known_key(s.user_id);
            if let (Some(upn), Some(id)) = (lower.known_key(s.upn), id) {
                upn_to_id.entry(upn).or_insert(id);
            }
            if let (Some(upn), Some(id)) = (lower.known_upn_text(s.upn), id) {
                id_to_upn.entry(id).or_insert(upn);
            }
            if !s.succeeded() {
                continue;
            }
            if let Some(slot) = s.issued_token.and_then(|t| tokens.get_mut(t.index())) {
                if *slot == NONE {
                    *slot = u32::try_from(i).unwrap_or(NONE);
                }
            }
            if let Some(chain) = s.session.and_then(|t| sessions.get_mut(t.index())) {
                if is_root_kind(s.kind) {
                    chain.interactive.push(i);
                } else if s.kind == SignInKind::NonInteractive {
                    chain.non_interactive.push(i);
                }
            }
        }
        let mut session_access_first: Vec<Option<Timestamp>> = vec![None; store.sessions.len()];
        let mut first_access = |sid: Sym, t: Timestamp| {
            if let Some(slot) = session_access_first.get_mut(sid.index()) {
                *slot = Some(slot.map_or(t, |f| f.min(t)));
            }
        };
        for (&sid, &t) in &accesses.session_first {
            first_access(sid, t);
        }
        for (&token, &t) in &accesses.token_first {
            let session = tokens
                .get(token.index())
                .filter(|v| **v != NONE)
                .and_then(|v| sign_ins.get(*v as usize))
                .and_then(|s| s.session);
            if let Some(sid) = session {
                first_access(sid, t);
            }
        }
        Issuing {
            tokens,
            sessions,
            session_access_first,
            upn_to_id,
            id_to_upn,
        }
    }
}

/// Each user's successful interactive sign-ins, the client inventory's share of sign-ins, the
/// users and the span the sign-ins cover.
struct UserSignIns {
    user_interactive: FxHashMap<Sym, Vec<usize>>,
    inventory: FxHashMap<Sym, ClientSeen>,
    users: FxHashSet<Sym>,
    span: Option<(Timestamp, Timestamp)>,
}

impl UserSignIns {
    fn learn(sign_ins: &[SignInRec], lower: &Lower<'_>) -> UserSignIns {
        let mut user_interactive: FxHashMap<Sym, Vec<usize>> = FxHashMap::default();
        let mut inventory: FxHashMap<Sym, ClientSeen> = FxHashMap::default();
        let mut users = FxHashSet::default();
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
            let Some(user) = lower.known_user(s) else {
                continue;
            };
            if is_root_kind(s.kind) {
                user_interactive.entry(user).or_default().push(i);
            }
            if let Some(app) = lower.known_key(s.app_id) {
                inventory.entry(app).or_default().saw(user, s.time);
            }
            users.insert(user);
        }
        UserSignIns {
            user_interactive,
            inventory,
            users,
            span,
        }
    }
}

/// The networks each user's devices proved themselves on (hosting and Microsoft's own ranges
/// never count): sign-ins are in time order.
struct Established {
    established: FxHashMap<(Sym, NetKey), Earliest>,
}

/// The sign-ins that prove the user's device: successful user sign-ins with a user and an address.
fn device_proven<'s>(
    sign_ins: &'s [SignInRec],
    lower: &'s Lower<'_>,
) -> impl Iterator<Item = (&'s SignInRec, Sym, Sym)> + 's {
    sign_ins.iter().filter_map(|s| {
        if !s.succeeded() || !s.has(sflag::PROVES_DEVICE) || !s.kind.is_user() {
            return None;
        }
        Some((s, lower.known_user(s)?, s.ip?))
    })
}

impl Established {
    fn learn(sign_ins: &[SignInRec], lower: &Lower<'_>, nets: &[Net]) -> Established {
        let mut established: FxHashMap<(Sym, NetKey), Earliest> = FxHashMap::default();
        for (s, user, ip) in device_proven(sign_ins, lower) {
            let Some(net) = nets.get(ip.index()) else {
                continue;
            };
            if net.hosting || net.microsoft {
                continue;
            }
            let prefix = NetworkId::prefix_of(net.ip);
            let keys = match net.asn() {
                Some(a) => [NetKey::Asn(a), NetKey::Prefix(prefix)],
                None => [NetKey::PrefixWithoutAsn(prefix), NetKey::Prefix(prefix)],
            };
            for k in keys {
                keep_earliest(established.entry((user, k)).or_default(), s.time, s.session);
            }
        }
        Established { established }
    }
}

/// A number for a user (or any derived string) that is the same in every partition of a tenant.
fn stable_number(value: &(impl std::hash::Hash + ?Sized)) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(value)
}

/// These records' share of what is tenant-wide, with the ASN `votes` counted beside (the
/// coverage is added by the caller).
fn tenant_share(
    store: &Store,
    sign_ins: &[SignInRec],
    lower: &Lower<'_>,
    users: &UserSignIns,
    votes: AsnVotes,
) -> TenantShare {
    let inventory = users
        .inventory
        .iter()
        .filter_map(|(app, seen)| {
            Some((
                lower.derived.get(Some(*app))?.to_owned(),
                ClientUse {
                    users: seen.users.len(),
                    days: seen.days.clone(),
                    first_seen: seen.first_seen,
                },
            ))
        })
        .collect();
    let mut device_firsts: FxHashMap<(std::net::IpAddr, u64), Timestamp> = FxHashMap::default();
    for (s, user, ip) in device_proven(sign_ins, lower) {
        let (Some(addr), Some(user)) = (store.ips.get(ip), lower.derived.get(Some(user))) else {
            continue;
        };
        device_firsts
            .entry((*addr, stable_number(user)))
            .and_modify(|t| *t = (*t).min(s.time))
            .or_insert(s.time);
    }
    TenantShare {
        votes,
        inventory,
        span: users.span,
        users: users.users.len(),
        device_firsts,
    }
}

/// What a [`Context`] is built from.
pub(crate) struct Inputs<'a, 's> {
    pub store: &'a Store,
    /// In time order, merged.
    pub sign_ins: &'a [SignInRec],
    pub accesses: &'s AccessSummary,
    pub catalog: &'a Catalog,
    pub thresholds: &'a Thresholds,
    pub asn_db: Option<&'a AsnDb>,
    /// A second thread may work beside this one.
    pub beside: bool,
}

impl<'a> Context<'a> {
    /// The context of these sign-ins and accesses. With `tenant`, what is tenant-wide comes
    /// from it (a partition of a tenant); without, from these records' share of it (the whole
    /// tenant, or a partition learning its share), which is returned too.
    pub fn build(
        inputs: Inputs<'a, '_>,
        tenant: Option<&Tenant<'_>>,
    ) -> (Context<'a>, Option<TenantShare>) {
        let Inputs {
            store,
            sign_ins,
            accesses,
            catalog,
            thresholds,
            asn_db,
            beside,
        } = inputs;
        let mut lower = Lower {
            input: &store.strings,
            derived: Strings::default(),
            lc: vec![NOT_YET; store.strings.len()],
            key: vec![NOT_YET; store.strings.len()],
            upn: vec![NOT_YET; store.strings.len()],
        };
        // Derived strings are numbered in the order they are first asked for: the passes over
        // the sign-ins below ask in this order, once lowered here, so they can run on two
        // threads reading the forms and the numbering stays what one pass would give.
        for s in sign_ins {
            lower.key(s.user_id);
            lower.key(s.upn);
            lower.upn_text(s.upn);
        }
        for s in sign_ins {
            if s.kind.is_user() && s.succeeded() && lower.known_user(s).is_some() {
                lower.key(s.app_id);
            }
        }
        let lowered = &lower;
        // The token index and the ASN votes beside the users' sign-ins.
        // The token index, and (when the tenant is learned from these records) the ASN votes,
        // beside the users' sign-ins.
        let issuing = || {
            let votes = tenant.is_none().then(|| {
                let mut votes = AsnVotes::default();
                count_votes(
                    &mut votes,
                    sign_ins
                        .iter()
                        .filter_map(|s| Some((store.ips.get(s.ip?).copied()?, s.asn))),
                );
                votes
            });
            (Issuing::index(store, sign_ins, accesses, lowered), votes)
        };
        let ((issuing, votes), mut users) = std::thread::scope(|scope| {
            let indexing = beside.then(|| scope.spawn(issuing));
            let users = UserSignIns::learn(sign_ins, lowered);
            (indexing.map_or_else(issuing, crate::joined), users)
        });
        let Issuing {
            tokens,
            sessions,
            session_access_first,
            upn_to_id,
            id_to_upn,
        } = issuing;
        for (&(app, user_id, upn), (days, first)) in &accesses.clients {
            let user = lower.key(user_id).or_else(|| {
                lower
                    .key(upn)
                    .map(|upn| upn_to_id.get(&upn).copied().unwrap_or(upn))
            });
            let Some(user) = user else {
                continue;
            };
            users.users.insert(user);
            if let Some(app) = lower.key(app) {
                let used = users.inventory.entry(app).or_default();
                used.users.insert(user);
                used.days.extend(days.iter().copied());
                used.first_seen = Some(used.first_seen.map_or(*first, |f| f.min(*first)));
            }
        }
        // What is tenant-wide: given, or learned from these records' share of it.
        let share;
        let own;
        let tenant = match tenant {
            Some(t) => {
                share = None;
                t
            }
            None => {
                let votes = votes.unwrap_or_default();
                let learned = tenant_share(store, sign_ins, &lower, &users, votes);
                own = Tenant::learn(&learned, asn_db, catalog);
                share = Some(learned);
                &own
            }
        };
        let nets: Vec<Net> = store
            .ips
            .list()
            .iter()
            .map(|ip| tenant.networks.resolve(*ip))
            .collect();
        let Established { established } = Established::learn(sign_ins, &lower, &nets);
        // Every input string's lower-case, key and UPN forms, so the accesses (read back
        // after this) find them computed.
        for sym in store.strings.syms() {
            lower.lc(Some(sym));
            lower.key(Some(sym));
            lower.upn_text(Some(sym));
        }
        // The clients these records name, as the tenant uses them (a client another
        // partition's users signed in with is in the inventory here too).
        let inventory = tenant
            .inventory
            .iter()
            .filter_map(|(app, used)| Some((lower.derived.lookup(app)?, used.clone())))
            .collect();
        let Lower {
            derived,
            lc,
            key,
            upn,
            ..
        } = lower;
        let app_flags = (0..derived.len())
            .map(|i| {
                let text = derived.list_get(i).unwrap_or_default();
                let mut f = 0;
                if catalog.is_first_party(text) {
                    f |= FIRST_PARTY;
                }
                if catalog.is_tooling(text) {
                    f |= TOOLING;
                }
                f
            })
            .collect();
        let cx = Context {
            store,
            sign_ins,
            tokens,
            sessions,
            session_access_first,
            upn_to_id,
            nets,
            coverage: Coverage::default(),
            catalog,
            thresholds,
            user_interactive: users.user_interactive,
            established,
            tenant_networks: tenant.tenant_networks.clone(),
            inventory,
            sign_in_span: tenant.span,
            user_count: tenant.user_count,
            derived,
            lc,
            key,
            upn,
            app_flags,
            id_to_upn,
            file_ranks: store.file_ranks(),
        };
        (cx, share)
    }

    /// An access with its issuing sign-in, session and user.
    pub fn link<'r>(&self, a: &'r AccessRec) -> Linked<'r> {
        let issue = a.token.and_then(|t| self.issuer(t));
        let session = a.session.or_else(|| {
            issue
                .and_then(|s| self.sign_ins.get(s))
                .and_then(|s| s.session)
        });
        // The user an access acts for: object id, else the object id a sign-in gave the UPN,
        // else the UPN.
        let user = self.key(a.user_id).or_else(|| {
            self.key(a.upn)
                .map(|upn| self.upn_to_id.get(&upn).copied().unwrap_or(upn))
        });
        Linked {
            access: a,
            issue,
            session,
            user,
        }
    }

    /// The user object id (key) and UPN an access shows, for [`Context::learn_upns`].
    pub fn access_upn(&self, a: &AccessRec) -> Option<(Sym, Sym)> {
        let upn = from_slot(*self.upn.get(a.upn?.index())?)?;
        Some((self.key(a.user_id)?, upn))
    }

    /// UPNs learned from accesses, for user ids no sign-in gave one.
    pub fn learn_upns(&mut self, found: impl IntoIterator<Item = (Sym, Sym)>) {
        for (id, upn) in found {
            self.id_to_upn.entry(id).or_insert(upn);
        }
    }

    /// True when a sign-in gave this user id a UPN.
    pub fn has_upn(&self, id: Sym) -> bool {
        self.id_to_upn.contains_key(&id)
    }

    /// An input string.
    pub fn text(&self, s: Option<Sym>) -> Option<&'a str> {
        self.store.strings.get(s)
    }

    /// An input string, owned.
    pub fn owned(&self, s: Option<Sym>) -> Option<String> {
        self.text(s).map(String::from)
    }

    /// A derived string (user keys, lower-case client ids).
    pub fn derived_text(&self, s: Sym) -> &str {
        self.derived.get(Some(s)).unwrap_or_default()
    }

    /// The lower-case form of an input string (not trimmed).
    pub fn lc(&self, s: Option<Sym>) -> Option<Sym> {
        from_slot(*self.lc.get(s?.index())?)
    }

    fn key(&self, s: Option<Sym>) -> Option<Sym> {
        from_slot(*self.key.get(s?.index())?)
    }

    /// True when the catalog knows a lower-case client id as first party.
    pub fn is_first_party(&self, lc_app: Sym) -> bool {
        self.app_flags
            .get(lc_app.index())
            .is_some_and(|f| f & FIRST_PARTY != 0)
    }

    /// True when the catalog lists a lower-case client id as a tooling default.
    pub fn is_tooling(&self, lc_app: Sym) -> bool {
        self.app_flags
            .get(lc_app.index())
            .is_some_and(|f| f & TOOLING != 0)
    }

    /// The sign-in that issued a token.
    pub fn issuer(&self, token: Sym) -> Option<usize> {
        self.tokens
            .get(token.index())
            .filter(|v| **v != NONE)
            .map(|v| *v as usize)
    }

    /// A session's chain.
    pub fn chain(&self, session: Sym) -> Option<&Chain> {
        self.sessions.get(session.index())
    }

    /// Every session with its chain.
    pub fn chains(&self) -> impl Iterator<Item = (Sym, &Chain)> {
        self.store
            .sessions
            .syms()
            .filter_map(|s| Some((s, self.sessions.get(s.index())?)))
    }

    pub fn session_id(&self, s: Sym) -> Option<&'a SessionId> {
        self.store.sessions.get(s)
    }

    pub fn token_id(&self, s: Sym) -> Option<&'a TokenId> {
        self.store.tokens.get(s)
    }

    /// The UPN of a user object id, as any sign-in or access of that user logged it.
    pub fn upn_of(&self, user_id: &str) -> Option<&str> {
        let key = self.derived.lookup(&user_id.trim().to_ascii_lowercase())?;
        self.derived.get(self.id_to_upn.get(&key).copied())
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
        self.nets.get(self.sign_ins.get(i)?.ip?.index())
    }

    /// The network of an address handle.
    pub fn net_of(&self, ip: Sym) -> Option<&Net> {
        self.nets.get(ip.index())
    }

    pub fn access_net(&self, a: &AccessRec) -> Option<&Net> {
        self.nets.get(a.ip?.index())
    }

    /// The address of a handle.
    pub fn ip(&self, s: Option<Sym>) -> Option<std::net::IpAddr> {
        self.store.ips.get(s?).copied()
    }

    /// The user a sign-in acts for: object id, else UPN (trimmed, lower case).
    pub fn user_of_sign_in(&self, s: &SignInRec) -> Option<Sym> {
        self.key(s.user_id).or_else(|| self.key(s.upn))
    }

    /// When a session was first seen (any sign-in or access of it).
    pub fn session_first_seen(&self, sid: Sym, chain: &Chain) -> Option<Timestamp> {
        let s = chain
            .interactive
            .iter()
            .chain(&chain.non_interactive)
            .filter_map(|i| self.sign_ins.get(*i))
            .map(|s| s.time);
        let a = self
            .session_access_first
            .get(sid.index())
            .copied()
            .flatten();
        s.chain(a).min()
    }

    /// The coverage of the sign-in logs, once it is known: it weighs the tokens accesses used
    /// (see [`Context::token_evidence`]), so it comes after the context is built.
    pub fn set_coverage(&mut self, coverage: Coverage) {
        self.coverage = coverage;
    }

    /// Do the interactive sign-in logs (or UAL logons) cover `[from, to]`, and the family that
    /// does: with records around when either has them, else across a quiet stretch.
    pub fn interactive_covered(&self, from: Timestamp, to: Timestamp) -> (Covered, Family) {
        let answers = [SignInKind::Interactive, SignInKind::UalLogon].map(|k| {
            (
                self.coverage.covered(Family::SignIn(k), from, to),
                Family::SignIn(k),
            )
        });
        answers
            .iter()
            .find(|(c, _)| *c == Covered::Yes)
            .or_else(|| answers.iter().find(|(c, _)| *c != Covered::No))
            .copied()
            .unwrap_or((Covered::No, Family::SignIn(SignInKind::Interactive)))
    }

    /// The tokens accesses logged an issue time for, as coverage weighs them: (issue time,
    /// user, token, kind of the sign-in that issued it), the user and the token numbered by
    /// their text, the same in every partition of a tenant (coverage counts distinct users
    /// over all partitions). Placeholder token ids say nothing;
    /// first-party clients may lawfully lack sign-in rows, so their unmatched tokens say
    /// nothing either unless `first_party_counts`.
    pub fn token_evidence<'s>(
        &'s self,
        summary: &'s AccessSummary,
        first_party_counts: bool,
    ) -> impl Iterator<Item = (Timestamp, u64, u64, Option<SignInKind>)> + 's {
        summary.issued.iter().enumerate().filter_map(move |(i, e)| {
            let e = e.as_ref()?;
            let token = Sym::from_raw(u32::try_from(i + 1).ok()?)?;
            let found = self
                .issuer(token)
                .and_then(|i| self.sign_ins.get(i))
                .map(|s| s.kind);
            if found.is_none() {
                let opaque = self
                    .token_id(token)
                    .is_some_and(|t| matches!(t.0, tokentrail_model::Ident::Opaque(_)));
                let first_party = self.lc(e.app).is_some_and(|app| self.is_first_party(app));
                if opaque || (first_party && !first_party_counts) {
                    return None;
                }
            }
            let user = self.key(e.user_id).or_else(|| {
                self.key(e.upn)
                    .map(|upn| self.upn_to_id.get(&upn).copied().unwrap_or(upn))
            })?;
            let user = stable_number(self.derived.get(Some(user))?);
            Some((e.at, user, stable_number(self.token_id(token)?), found))
        })
    }

    /// True when `net` is established for `user` at `at`: a sign-in of the user from that
    /// network proved the user's device (managed or compliant, a PRT, token binding) before
    /// `at`, in a session other than `own` (within its own session a record is judged by the
    /// roaming rules instead); or the address's /24 or /48 is a network of the tenant, where
    /// devices of [`TENANT_NETWORK_USERS`] users proved themselves before `at` (the office).
    /// Hosting networks and Microsoft's ranges are never established.
    pub fn established(&self, user: Sym, net: &Net, at: Timestamp, own: Option<Sym>) -> bool {
        if net.hosting || net.microsoft {
            return false;
        }
        let prefix = NetworkId::prefix_of(net.ip);
        if self.tenant_networks.get(&prefix).is_some_and(|t| *t < at) {
            return true;
        }
        let keys: &[NetKey] = match net.asn() {
            Some(a) => &[NetKey::Asn(a), NetKey::PrefixWithoutAsn(prefix)],
            None => &[NetKey::Prefix(prefix)],
        };
        keys.iter()
            .filter_map(|k| self.established.get(&(user, *k)))
            .flatten()
            .flatten()
            .any(|(t, s)| *t < at && (s.is_none() || *s != own))
    }

    /// A successful interactive sign-in of `user` from `net` within the travel window of `at`:
    /// the user went there and signed in again. Hosting networks never count.
    pub fn travel_sign_in(&self, user: Sym, net: &Net, at: Timestamp) -> Option<usize> {
        if net.hosting {
            return None;
        }
        let window = self.thresholds.travel_window_secs;
        self.user_interactive
            .get(&user)?
            .iter()
            .copied()
            .find(|&i| {
                self.sign_ins.get(i).is_some_and(|s| {
                    s.time >= at.plus_secs(-window) && s.time <= at.plus_secs(window)
                }) && self
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
