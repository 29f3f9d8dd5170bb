//! What the whole input says that every investigation needs beyond its own records: who is who,
//! which network an address belongs to, and where each user signed in interactively. It is
//! learned in one pass, so a caller can keep only the records its investigations concern.
//!
//! Which network an address is in, whether it is Microsoft's service, and which networks are a
//! user's own are the engine's answers ([`KnownNetworks`], from the same run that produced the
//! findings): an investigation never judges a network differently from `detect`.

use std::collections::BTreeSet;
use std::net::IpAddr;

use rustc_hash::FxHashMap;
use tokentrail_engine::{KnownAddress, KnownNetworks};
use tokentrail_model::text::folded;
use tokentrail_model::{Access, NetworkId, SignIn, SignInKind};

/// Lower-cased trimmed text: users and apps are compared case-insensitively.
pub(crate) fn key(text: &str) -> String {
    folded(text).into_owned()
}

/// `map[key(k)]`, set to `value` when it holds nothing yet. The key is owned only then: nearly
/// every record names a user or app already known.
fn first_spelling(map: &mut FxHashMap<String, String>, k: &str, value: &str) {
    let k = folded(k);
    if !map.contains_key(&*k) {
        map.insert(k.into_owned(), value.to_string());
    }
}

/// Networks of addresses: as the engine resolved them (logged ASN, `--asn-db`, neighbours),
/// else the ASN a sign-in row logged for the address, else its prefix.
#[derive(Clone, Debug, Default)]
pub(crate) struct Networks {
    logged: FxHashMap<IpAddr, u32>,
    known: KnownNetworks,
}

impl Networks {
    fn learn(&mut self, s: &SignIn) {
        if let (Some(ip), Some(asn)) = (s.ip, s.asn) {
            self.logged.entry(ip).or_insert(asn);
        }
    }

    pub(crate) fn of(&self, ip: Option<IpAddr>) -> Option<NetworkId> {
        let ip = ip?;
        Some(match (self.known.address(ip), self.logged.get(&ip)) {
            (Some(known), _) => known.network,
            (None, Some(asn)) => NetworkId::Asn(*asn),
            (None, None) => NetworkId::prefix_of(ip),
        })
    }

    /// What the engine knows of an address.
    pub(crate) fn known(&self, ip: Option<IpAddr>) -> Option<&KnownAddress> {
        self.known.address(ip?)
    }
}

/// A user's object id and UPN (sign-ins log both, Graph rows only the id, UAL rows often only
/// the UPN), and app display names (Graph and UAL rows often log only the app id). The first
/// spelling seen wins.
#[derive(Clone, Debug, Default)]
pub(crate) struct Directory {
    upn_of: FxHashMap<String, String>,
    id_of: FxHashMap<String, String>,
    app_names: FxHashMap<String, String>,
}

impl Directory {
    fn learn(
        &mut self,
        id: Option<&String>,
        upn: Option<&String>,
        app_id: Option<&String>,
        app_name: Option<&String>,
    ) {
        if let (Some(id), Some(upn)) = (id, upn) {
            first_spelling(&mut self.upn_of, id, upn);
            first_spelling(&mut self.id_of, upn, id);
        }
        if let (Some(app_id), Some(name)) = (app_id, app_name) {
            first_spelling(&mut self.app_names, app_id, name);
        }
    }

    /// Add what `later` knows and `self` does not: sign-ins are learned before accesses.
    fn merge(&mut self, later: Directory) {
        for (k, v) in later.upn_of {
            self.upn_of.entry(k).or_insert(v);
        }
        for (k, v) in later.id_of {
            self.id_of.entry(k).or_insert(v);
        }
        for (k, v) in later.app_names {
            self.app_names.entry(k).or_insert(v);
        }
    }

    /// Every spelling (lower-cased) of the user `text` names.
    pub(crate) fn user_keys(&self, text: &str) -> BTreeSet<String> {
        let k = key(text);
        let mut keys = BTreeSet::from([k.clone()]);
        if let Some(upn) = self.upn_of.get(&k) {
            keys.insert(key(upn));
        }
        if let Some(id) = self.id_of.get(&k) {
            keys.insert(key(id));
        }
        keys
    }

    /// The UPN of a record's user, else its object id.
    pub(crate) fn display_user(&self, id: Option<&String>, upn: Option<&String>) -> Option<String> {
        upn.cloned()
            .or_else(|| id.and_then(|i| self.upn_of.get(&*folded(i)).cloned()))
            .or_else(|| id.cloned())
    }

    /// The object id of a record's user, else its UPN.
    pub(crate) fn object_id(&self, id: Option<&String>, upn: Option<&String>) -> Option<String> {
        id.cloned()
            .or_else(|| upn.and_then(|u| self.id_of.get(&*folded(u)).cloned()))
            .or_else(|| upn.cloned())
    }

    /// An app's display name, else its id.
    pub(crate) fn app(&self, id: Option<&String>, name: Option<&String>) -> Option<String> {
        name.cloned()
            .or_else(|| id.and_then(|i| self.app_names.get(&*folded(i)).cloned()))
            .or_else(|| id.cloned())
    }
}

/// What the whole input says about users, apps, networks and interactive sign-ins; see
/// [`ContextBuilder`]. Investigations built on it give the same result whether the records they
/// are handed are every record or only those related to their subjects.
#[derive(Clone, Debug, Default)]
pub struct Context {
    pub(crate) dir: Directory,
    pub(crate) networks: Networks,
    /// Addresses of successful interactive sign-ins, by every user key they name.
    interactive: FxHashMap<String, BTreeSet<IpAddr>>,
}

impl Context {
    /// Learn the context from every record at once; `networks` is the engine's view of the same
    /// records ([`tokentrail_engine::Detection::networks`]).
    pub fn learn(sign_ins: &[SignIn], accesses: &[Access], networks: KnownNetworks) -> Context {
        let mut b = ContextBuilder::new();
        sign_ins.iter().for_each(|s| b.add_sign_in(s));
        accesses.iter().for_each(|a| b.add_access(a));
        b.finish(networks)
    }

    /// Every spelling (lower-cased object id and UPN) of the user `text` names.
    pub fn user_keys(&self, text: &str) -> BTreeSet<String> {
        self.dir.user_keys(text)
    }

    /// Networks where a user named by one of `user_keys` signed in interactively and
    /// successfully.
    pub(crate) fn interactive_networks<'k>(
        &self,
        user_keys: impl IntoIterator<Item = &'k String>,
    ) -> BTreeSet<NetworkId> {
        user_keys
            .into_iter()
            .filter_map(|k| self.interactive.get(k))
            .flatten()
            .filter_map(|ip| self.networks.of(Some(*ip)))
            .collect()
    }

    /// True when the engine counts `network` as the own network of a user named by one of
    /// `user_keys` (a successful interactive or device-proven sign-in there, not a hosting
    /// network).
    pub(crate) fn is_own_network<'k>(
        &self,
        user_keys: impl IntoIterator<Item = &'k String>,
        network: NetworkId,
    ) -> bool {
        self.networks
            .known
            .is_own(user_keys.into_iter().map(String::as_str), network)
    }

    /// True when the engine places `ip` in Microsoft's published service ranges.
    pub(crate) fn is_microsoft_service(&self, ip: Option<IpAddr>) -> bool {
        self.networks.known(ip).is_some_and(|a| a.microsoft)
    }

    /// Neither one of the users' own networks nor Microsoft's service: where a change or a
    /// record deserves a look. `None` without an address.
    pub(crate) fn foreign<'k>(
        &self,
        user_keys: impl IntoIterator<Item = &'k String>,
        ip: Option<IpAddr>,
    ) -> Option<bool> {
        let network = self.networks.of(ip)?;
        Some(!self.is_microsoft_service(ip) && !self.is_own_network(user_keys, network))
    }
}

/// Learns a [`Context`] one record at a time, so the records need not be kept.
#[derive(Clone, Debug, Default)]
pub struct ContextBuilder {
    sign_in_dir: Directory,
    access_dir: Directory,
    networks: Networks,
    interactive: FxHashMap<String, BTreeSet<IpAddr>>,
}

impl ContextBuilder {
    /// An empty builder.
    pub fn new() -> ContextBuilder {
        ContextBuilder::default()
    }

    /// Learn from one sign-in row (duplicates change nothing).
    pub fn add_sign_in(&mut self, s: &SignIn) {
        self.sign_in_dir.learn(
            s.user_id.as_ref(),
            s.upn.as_ref(),
            s.app_id.as_ref(),
            s.app_name.as_ref(),
        );
        self.networks.learn(s);
        if let (SignInKind::Interactive, true, Some(ip)) = (s.kind, s.succeeded(), s.ip) {
            for user in [&s.user_id, &s.upn].into_iter().flatten() {
                let user = folded(user);
                match self.interactive.get_mut(&*user) {
                    Some(ips) => {
                        ips.insert(ip);
                    }
                    None => {
                        self.interactive
                            .insert(user.into_owned(), BTreeSet::from([ip]));
                    }
                }
            }
        }
    }

    /// Learn from one access record.
    pub fn add_access(&mut self, a: &Access) {
        self.access_dir.learn(
            a.user_id.as_ref(),
            a.upn.as_ref(),
            a.app_id.as_ref(),
            a.app_name.as_ref(),
        );
    }

    /// The context learned, with the engine's view of the same records' networks
    /// ([`tokentrail_engine::Detection::networks`]).
    pub fn finish(self, networks: KnownNetworks) -> Context {
        let mut dir = self.sign_in_dir;
        dir.merge(self.access_dir);
        let mut with = self.networks;
        with.known = networks;
        Context {
            dir,
            networks: with,
            interactive: self.interactive,
        }
    }
}
