//! The inventory: the non-interactive and app-only access patterns of a tenant.
//!
//! A *pattern* is one client app used by one kind of identity:
//! - **delegated**: the app acting for users without them present: non-interactive sign-ins
//!   (silent refresh, PRT redemption) and the accesses made with user tokens (every API access
//!   is made by a token, never by a person directly). One pattern per client app, with its users
//!   listed; interactive sign-ins are left out, since a person was there.
//! - **service principal** / **managed identity**: an app with its own credentials, one pattern
//!   per (client app, service principal): its sign-ins and its app-only accesses.
//!
//! Each pattern carries its counts, users, first and last seen, share of the traffic, networks
//! (as the engine resolved them, given its run with [`InventoryBuilder::judged_by`]; else the
//! sign-in rows' own ASN per IP, else the /24 or /48 prefix), workloads
//! and operations, and its risky traits: public client, device-code flow, a client id that
//! token-theft tooling defaults to, a hosting network.
//!
//! [`Inventory::draft_allowlist`] writes one allowlist entry per pattern, each with a reason that
//! starts with `REVIEW`: the engine refuses such entries until a person writes the real reason,
//! so nothing is approved by a machine.
//!
//! A pattern can hold an attack: the attacker's client reading mail with a replayed token, the
//! client of an orphan token. [`InventoryBuilder::cite`] marks every pattern holding records
//! that live findings cite (their evidence names the pattern's client and user), and the draft
//! writes such a pattern's entry commented out, with the finding ids: approving it would
//! silence them, so a person must rule each one out first.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::IpAddr;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use tokentrail_engine::catalog::Catalog;
use tokentrail_engine::{Detection, KnownNetworks};
use tokentrail_model::{
    Access, ClientAuthMethod, Finding, Guid, NetworkId, SignIn, SignInKind, Timestamp,
};

use crate::{date_text, folded, RunInfo, Share, Sightings};
use tokentrail_engine::{is_app_only, is_delegated};

/// Distinct operations named per pattern; further ones are counted in the totals only.
const MAX_OPERATIONS: usize = 500;
/// Operations listed per pattern in reports.
pub const TOP_OPERATIONS: usize = 5;
/// Users listed per pattern; all are counted.
pub const MAX_LISTED_USERS: usize = 10;
/// Days a drafted allowlist entry stays in force.
pub const DRAFT_EXPIRY_DAYS: i64 = 90;

/// Who a pattern's tokens act for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdentityType {
    /// A client app acting for users.
    Delegated,
    /// An app registration with its own secret or certificate.
    ServicePrincipal,
    /// An Azure managed identity.
    ManagedIdentity,
}

impl IdentityType {
    /// The word used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityType::Delegated => "delegated",
            IdentityType::ServicePrincipal => "service principal",
            IdentityType::ManagedIdentity => "managed identity",
        }
    }
}

/// One network a pattern was seen from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetworkUse {
    /// Autonomous system, when a sign-in row logged one for an address of the network.
    pub asn: Option<u32>,
    /// The /24 or /48 prefix standing in when the ASN is unknown.
    pub prefix: Option<String>,
    /// Records from it.
    pub records: u64,
    /// Distinct addresses.
    pub addresses: u64,
    /// A hosting or VPS provider (built-in list).
    pub hosting: bool,
}

impl NetworkUse {
    /// `AS16509` or the prefix.
    pub fn label(&self) -> String {
        match (self.asn, &self.prefix) {
            (Some(asn), _) => format!("AS{asn}"),
            (None, Some(p)) => p.clone(),
            (None, None) => "-".to_string(),
        }
    }
}

/// Risky traits of a pattern.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Traits {
    /// Tokens of a public client (no secret or certificate).
    pub public_client: bool,
    /// A sign-in of the pattern used the device-code flow.
    pub device_code: bool,
    /// A client id token-theft tooling defaults to (Azure CLI, Graph PowerShell, ...).
    pub tooling_client: bool,
    /// Seen from a hosting or VPS network.
    pub hosting_network: bool,
    /// A Microsoft first-party app (not a risk: context).
    pub first_party: bool,
}

impl Traits {
    /// The risky traits in words (first-party is context, not listed).
    pub fn risky(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.public_client {
            out.push("public client");
        }
        if self.device_code {
            out.push("device-code flow");
        }
        if self.tooling_client {
            out.push("tooling client id");
        }
        if self.hosting_network {
            out.push("hosting network");
        }
        out
    }
}

/// One access pattern.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pattern {
    /// Stable id within the report (`p01`, ...), in report order.
    pub id: String,
    /// Client application id (lower-case).
    pub app_id: Option<String>,
    /// Client application name, as logged or from the reference data.
    pub app_name: Option<String>,
    /// Who the tokens act for.
    pub identity: IdentityType,
    /// The service principal (app-only patterns).
    pub service_principal_id: Option<String>,
    /// Its display name, when a sign-in logged it.
    pub service_principal_name: Option<String>,
    /// Distinct users (delegated patterns).
    pub user_count: u64,
    /// The first [`MAX_LISTED_USERS`] users (UPN when known, else object id), sorted.
    pub users: Vec<String>,
    /// Sign-in rows.
    pub sign_ins: u64,
    /// Access records.
    pub accesses: u64,
    /// Operations the access records stand for (`OperationCount` summed).
    pub operations: u64,
    /// Share of all inventory records (sign-ins and accesses).
    pub share: Share,
    /// First record.
    pub first_seen: Timestamp,
    /// Last record.
    pub last_seen: Timestamp,
    /// Networks, most records first.
    pub networks: Vec<NetworkUse>,
    /// Access records per workload.
    pub workloads: BTreeMap<String, u64>,
    /// The most frequent operations (sign-ins count as `sign-in:<kind>`).
    pub top_operations: Vec<(String, u64)>,
    /// Risky traits.
    pub traits: Traits,
    /// Ids of the live findings that cite records of this pattern, sorted: its drafted
    /// allowlist entry is written commented out.
    pub findings: Vec<String>,
}

impl Pattern {
    /// Sign-ins and accesses.
    pub fn records(&self) -> u64 {
        self.sign_ins + self.accesses
    }

    /// The name to show: app name, else app id.
    pub fn app_label(&self) -> String {
        match (&self.app_name, &self.app_id) {
            (Some(n), _) => n.clone(),
            (None, Some(id)) => id.clone(),
            (None, None) => "(no client app id)".to_string(),
        }
    }
}

/// The inventory of a tenant.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Inventory {
    /// When, and from which inputs.
    pub run: RunInfo,
    /// Records in the inventory (non-interactive and app-only sign-ins, accesses).
    pub records: u64,
    /// Access records that name neither a user nor a service principal: not attributed.
    pub unattributed_accesses: u64,
    /// Patterns, most records first.
    pub patterns: Vec<Pattern>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Who {
    Delegated,
    App,
}

/// What a pattern has gathered. Its sets and counts are read in an order of their own when
/// the pattern is made (users and networks sorted, operations ranked), so they are hash maps.
#[derive(Debug, Default)]
struct Acc {
    app_name: Option<String>,
    sp_name: Option<String>,
    users: FxHashSet<String>,
    sign_ins: u64,
    accesses: u64,
    operations: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    ips: FxHashMap<IpAddr, u64>,
    no_ip: u64,
    workloads: BTreeMap<&'static str, u64>,
    ops: FxHashMap<String, u64>,
    public_client: bool,
    device_code: bool,
}

impl Acc {
    fn saw(&mut self, t: Timestamp, ip: Option<IpAddr>, op: &str) {
        self.first = Some(self.first.map_or(t, |f| f.min(t)));
        self.last = Some(self.last.map_or(t, |l| l.max(t)));
        match ip {
            Some(ip) => *self.ips.entry(ip).or_default() += 1,
            None => self.no_ip += 1,
        }
        let kept = self.ops.len();
        match self.ops.get_mut(op) {
            Some(n) => *n += 1,
            None if kept < MAX_OPERATIONS => {
                self.ops.insert(op.to_string(), 1);
            }
            // Beyond the cap the rarest operations are not named; the totals still count them.
            None => {}
        }
    }
}

/// Pattern key: who, client app id (lower-case, empty when not logged), service principal id
/// (app-only, lower-case; empty for delegated patterns), the ids as [`Names`] handles.
type Key = (Who, u32, u32);

/// Client app and service principal ids, each held once: a record looks its pattern up by
/// handles instead of owning copies of its ids. Tenants have a few hundred of them.
#[derive(Debug)]
struct Names {
    /// Ids that are GUID text as a [`Guid`] prints itself (nearly all), by their bits: found
    /// without comparing text.
    guids: FxHashMap<Guid, u32>,
    others: FxHashMap<String, u32>,
    /// Each id's text, by handle; handle 0 is the empty text (not logged).
    texts: Vec<String>,
}

impl Default for Names {
    fn default() -> Self {
        Names {
            guids: FxHashMap::default(),
            others: FxHashMap::default(),
            texts: vec![String::new()],
        }
    }
}

impl Names {
    fn handle(&mut self, text: &str) -> u32 {
        if text.is_empty() {
            return 0;
        }
        let guid = Guid::parse_canonical(text);
        let known = match guid {
            Some(g) => self.guids.get(&g),
            None => self.others.get(text),
        };
        if let Some(h) = known {
            return *h;
        }
        let h = u32::try_from(self.texts.len()).unwrap_or(u32::MAX);
        self.texts.push(text.to_string());
        match guid {
            Some(g) => self.guids.insert(g, h),
            None => self.others.insert(text.to_string(), h),
        };
        h
    }

    fn text(&self, handle: u32) -> &str {
        self.texts.get(handle as usize).map_or("", String::as_str)
    }
}

/// Accumulates the inventory in one pass over the records.
#[derive(Debug)]
pub struct InventoryBuilder {
    catalog: Catalog,
    names: Names,
    /// In no order: [`InventoryBuilder::finish`] sorts the patterns on keys that tell each
    /// apart.
    patterns: FxHashMap<Key, Acc>,
    seen: Sightings,
    ip_asn: FxHashMap<IpAddr, u32>,
    managed_identities: FxHashSet<String>,
    upn_by_id: FxHashMap<String, String>,
    id_by_upn: FxHashMap<String, String>,
    unattributed: u64,
    cited: FxHashMap<Key, BTreeSet<String>>,
    known: KnownNetworks,
}

impl Default for InventoryBuilder {
    fn default() -> Self {
        InventoryBuilder::new()
    }
}

fn lower(s: &Option<String>) -> Option<String> {
    folded(s.as_deref()).map(std::borrow::Cow::into_owned)
}

fn trimmed(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

fn nonempty(s: &Option<String>) -> Option<String> {
    trimmed(s).map(String::from)
}

/// The operation a sign-in row stands for in a pattern's operations.
fn sign_in_operation(kind: SignInKind) -> &'static str {
    match kind {
        SignInKind::Interactive => "sign-in:interactive",
        SignInKind::NonInteractive => "sign-in:non-interactive",
        SignInKind::ServicePrincipal => "sign-in:service-principal",
        SignInKind::ManagedIdentity => "sign-in:managed-identity",
        SignInKind::UalLogon => "sign-in:ual-logon",
    }
}

impl InventoryBuilder {
    /// An empty builder (parses the built-in reference data once).
    pub fn new() -> Self {
        InventoryBuilder {
            catalog: Catalog::builtin(),
            names: Names::default(),
            patterns: FxHashMap::default(),
            seen: Sightings::default(),
            ip_asn: FxHashMap::default(),
            managed_identities: FxHashSet::default(),
            upn_by_id: FxHashMap::default(),
            id_by_upn: FxHashMap::default(),
            unattributed: 0,
            cited: FxHashMap::default(),
            known: KnownNetworks::default(),
        }
    }

    fn learn_user(&mut self, id: &Option<String>, upn: &Option<String>) {
        let (Some(id), Some(upn)) = (folded(id.as_deref()), trimmed(upn)) else {
            return;
        };
        if !upn.contains('@') {
            return;
        }
        // Looked up before anything is owned: nearly every record names a user already known.
        if let Some(upn_key) = folded(Some(upn)) {
            if !self.id_by_upn.contains_key(&*upn_key) {
                self.id_by_upn
                    .insert(upn_key.into_owned(), id.clone().into_owned());
            }
        }
        if !self.upn_by_id.contains_key(&*id) {
            self.upn_by_id.insert(id.into_owned(), upn.to_string());
        }
    }

    /// The key of a pattern: `app` and `sp` are folded ids, `None` when not logged.
    fn key(&mut self, who: Who, app: Option<&str>, sp: Option<&str>) -> Key {
        (
            who,
            self.names.handle(app.unwrap_or_default()),
            self.names.handle(sp.unwrap_or_default()),
        )
    }

    /// Add one sign-in row.
    pub fn add_sign_in(&mut self, s: &SignIn) {
        if let Some(id) = s.id {
            if !self.seen.first_sign_in(s.kind, id) {
                return;
            }
        }
        if let (Some(ip), Some(asn)) = (s.ip, s.asn) {
            self.ip_asn.entry(ip).or_insert(asn);
        }
        self.learn_user(&s.user_id, &s.upn);
        let app = folded(s.app_id.as_deref());
        let key = match s.kind {
            SignInKind::NonInteractive => self.key(Who::Delegated, app.as_deref(), None),
            SignInKind::ServicePrincipal | SignInKind::ManagedIdentity => {
                let sp = folded(s.service_principal_id.as_deref());
                if let Some(sp) = sp.as_deref() {
                    if s.kind == SignInKind::ManagedIdentity
                        && !self.managed_identities.contains(sp)
                    {
                        self.managed_identities.insert(sp.to_string());
                    }
                }
                self.key(Who::App, app.as_deref(), sp.as_deref())
            }
            // A person was present: not part of the non-interactive inventory.
            SignInKind::Interactive | SignInKind::UalLogon => return,
        };
        let user = folded(s.user_id.as_deref()).or_else(|| folded(s.upn.as_deref()));
        let acc = self.patterns.entry(key).or_default();
        acc.sign_ins += 1;
        acc.saw(s.time, s.ip, sign_in_operation(s.kind));
        if acc.app_name.is_none() {
            acc.app_name = nonempty(&s.app_name);
        }
        if acc.sp_name.is_none() {
            acc.sp_name = nonempty(&s.service_principal_name);
        }
        if s.kind == SignInKind::NonInteractive {
            if let Some(u) = user {
                if !acc.users.contains(&*u) {
                    acc.users.insert(u.into_owned());
                }
            }
            let credential = s.client_credential_type.as_deref().map(str::trim);
            if credential.is_none_or(|c| c.is_empty() || c.eq_ignore_ascii_case("none")) {
                acc.public_client = true;
            }
        }
        let device_code = s
            .transfer_method
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("deviceCodeFlow"))
            || s.auth_protocol
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case("deviceCode"));
        if device_code {
            acc.device_code = true;
        }
    }

    /// Add one access record.
    pub fn add_access(&mut self, a: &Access) {
        if let Some(id) = &a.record_id {
            if !self.seen.first_access(a.log, id) {
                return;
            }
        }
        self.learn_user(&a.user_id, &a.upn);
        let app = folded(a.app_id.as_deref());
        let key = if is_app_only(a) {
            let sp = folded(a.service_principal_id.as_deref());
            self.key(Who::App, app.as_deref(), sp.as_deref())
        } else if is_delegated(a) {
            self.key(Who::Delegated, app.as_deref(), None)
        } else {
            self.unattributed += 1;
            return;
        };
        let delegated = key.0 == Who::Delegated;
        let user = folded(a.user_id.as_deref()).or_else(|| folded(a.upn.as_deref()));
        let acc = self.patterns.entry(key).or_default();
        acc.accesses += 1;
        acc.operations += a.count;
        acc.saw(a.time, a.ip, &a.operation);
        *acc.workloads.entry(a.workload.as_str()).or_default() += 1;
        if acc.app_name.is_none() {
            acc.app_name = nonempty(&a.app_name);
        }
        if delegated {
            if let Some(u) = user {
                if !acc.users.contains(&*u) {
                    acc.users.insert(u.into_owned());
                }
            }
        }
        if a.client_auth_method == Some(ClientAuthMethod::PublicClient) {
            acc.public_client = true;
        }
    }

    /// Take the engine's run over the same records (after the last record): its live findings
    /// mark the patterns they cite ([`InventoryBuilder::cite`]), and its networks name the
    /// patterns' networks as the rules and the allowlist see them (`--asn-db` included).
    pub fn judged_by(&mut self, detection: &Detection) {
        self.cite(&detection.findings);
        self.known = detection.networks.clone();
    }

    /// Mark the patterns that hold records `findings` cite (call it after the last record):
    /// the delegated patterns of a finding's user whose client is one its evidence names (the
    /// pattern without a client id when it names none). Rules judge delegated records only, so
    /// app-only patterns are never cited.
    pub fn cite(&mut self, findings: &[Finding]) {
        for f in findings {
            let apps: BTreeSet<String> = f
                .accesses
                .iter()
                .flat_map(|e| &e.app_ids)
                .filter_map(|a| lower(&Some(a.clone())))
                .collect();
            let mut users: BTreeSet<String> = BTreeSet::new();
            if let Some(id) = lower(&f.user_id) {
                if let Some(upn) = self.upn_by_id.get(&id) {
                    users.insert(upn.to_ascii_lowercase());
                }
                users.insert(id);
            }
            if let Some(upn) = lower(&f.upn) {
                if let Some(id) = self.id_by_upn.get(&upn) {
                    users.insert(id.clone());
                }
                users.insert(upn);
            }
            for (key, acc) in &self.patterns {
                let app = self.names.text(key.1);
                let client = if apps.is_empty() {
                    app.is_empty()
                } else {
                    apps.contains(app)
                };
                if key.0 == Who::Delegated && client && acc.users.iter().any(|u| users.contains(u))
                {
                    self.cited.entry(*key).or_default().insert(f.id.clone());
                }
            }
        }
    }

    /// Group, resolve networks and order the patterns.
    pub fn finish(self, run: RunInfo) -> Inventory {
        let total: u64 = self
            .patterns
            .values()
            .map(|a| a.sign_ins + a.accesses)
            .sum();
        let mut patterns: Vec<Pattern> = self
            .patterns
            .iter()
            .map(|(key, acc)| self.pattern(*key, acc, total))
            .collect();
        patterns.sort_by(|a, b| {
            b.records()
                .cmp(&a.records())
                .then_with(|| a.identity.cmp(&b.identity))
                .then_with(|| a.app_id.cmp(&b.app_id))
                .then_with(|| a.service_principal_id.cmp(&b.service_principal_id))
        });
        let width = patterns.len().to_string().len().max(2);
        for (i, p) in patterns.iter_mut().enumerate() {
            p.id = format!("p{:0width$}", i + 1);
        }
        Inventory {
            run,
            records: total,
            unattributed_accesses: self.unattributed,
            patterns,
        }
    }

    fn pattern(&self, key: Key, acc: &Acc, total: u64) -> Pattern {
        let (who, app, sp) = (key.0, self.names.text(key.1), self.names.text(key.2));
        let app_id = (!app.is_empty()).then(|| app.to_string());
        let identity = match who {
            Who::Delegated => IdentityType::Delegated,
            Who::App if self.managed_identities.contains(sp) => IdentityType::ManagedIdentity,
            Who::App => IdentityType::ServicePrincipal,
        };
        // One person may be named by object id in one log and by UPN in another.
        let users: BTreeSet<String> = acc
            .users
            .iter()
            .map(|u| self.id_by_upn.get(u).cloned().unwrap_or_else(|| u.clone()))
            .collect();
        let mut shown: Vec<String> = users
            .iter()
            .map(|u| self.upn_by_id.get(u).cloned().unwrap_or_else(|| u.clone()))
            .collect();
        shown.sort();
        shown.truncate(MAX_LISTED_USERS);
        let networks = self.networks(acc);
        let mut top: Vec<(String, u64)> = acc.ops.iter().map(|(k, v)| (k.clone(), *v)).collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(TOP_OPERATIONS);
        let records = acc.sign_ins + acc.accesses;
        Pattern {
            id: String::new(),
            app_name: acc
                .app_name
                .clone()
                .or_else(|| self.catalog.app_name(app).map(String::from)),
            traits: Traits {
                public_client: acc.public_client,
                device_code: acc.device_code,
                tooling_client: !app.is_empty() && self.catalog.is_tooling(app),
                hosting_network: networks.iter().any(|n| n.hosting),
                first_party: !app.is_empty() && self.catalog.is_first_party(app),
            },
            app_id,
            identity,
            service_principal_id: (!sp.is_empty()).then(|| sp.to_string()),
            service_principal_name: acc.sp_name.clone(),
            user_count: users.len() as u64,
            users: shown,
            sign_ins: acc.sign_ins,
            accesses: acc.accesses,
            operations: acc.operations,
            share: Share {
                count: records,
                of: total,
            },
            first_seen: acc.first.unwrap_or_default(),
            last_seen: acc.last.unwrap_or_default(),
            networks,
            workloads: acc
                .workloads
                .iter()
                .map(|(w, n)| (w.to_string(), *n))
                .collect(),
            top_operations: top,
            findings: self
                .cited
                .get(&key)
                .map(|ids| ids.iter().cloned().collect())
                .unwrap_or_default(),
        }
    }

    fn networks(&self, acc: &Acc) -> Vec<NetworkUse> {
        #[derive(Default)]
        struct Net {
            records: u64,
            addresses: u64,
        }
        let mut by: BTreeMap<(Option<u32>, Option<String>), Net> = BTreeMap::new();
        for (ip, n) in &acc.ips {
            let key = match (self.known.address(*ip), self.ip_asn.get(ip)) {
                (Some(known), _) => match known.network {
                    NetworkId::Asn(asn) => (Some(asn), None),
                    prefix @ NetworkId::Prefix(..) => (None, Some(prefix.to_string())),
                },
                (None, Some(asn)) => (Some(*asn), None),
                (None, None) => (None, Some(prefix(*ip))),
            };
            let net = by.entry(key).or_default();
            net.records += n;
            net.addresses += 1;
        }
        let mut out: Vec<NetworkUse> = by
            .into_iter()
            .map(|((asn, prefix), n)| NetworkUse {
                hosting: asn.is_some_and(|a| self.catalog.hosting.contains(&a)),
                asn,
                prefix,
                records: n.records,
                addresses: n.addresses,
            })
            .collect();
        out.sort_by(|a, b| b.records.cmp(&a.records).then_with(|| a.asn.cmp(&b.asn)));
        out
    }
}

/// The /24 (IPv4) or /48 (IPv6) prefix of an address, as text.
fn prefix(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

/// Lower-case letters, digits and dashes, for allowlist entry ids.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out.truncate(40);
    out
}

/// A YAML double-quoted scalar that holds the text exactly and cannot end early or break
/// the line, whatever an app or user name holds.
fn quoted(text: &str) -> String {
    tokentrail_model::escape::yaml_quoted(text)
}

impl Inventory {
    /// A draft allowlist in the engine's format (`tokentrail_engine::allowlist`): one entry per
    /// pattern, `reason: "REVIEW: ..."` (refused by `detect` until a person rewrites it),
    /// `owner` as given, and an expiry [`DRAFT_EXPIRY_DAYS`] after the run date. The entry of a
    /// pattern that live findings cite ([`Pattern::findings`]) is written commented out, after
    /// a note naming the findings.
    ///
    /// Delegated entries apply to TT003, TT004 and TT005 (an approved client or automation
    /// account explains access without an interactive root, tokens minted without a sign-in
    /// row, and an uncommon client), never to the replay rules TT001 and TT002: approving who
    /// uses a client says nothing about a token moving to another network. They match the app,
    /// the user when the pattern has exactly one, and the ASN when the pattern comes from one
    /// known network. App-only entries match the app and its service principal.
    pub fn draft_allowlist(&self, owner: &str) -> String {
        let expires = date_text(self.run.generated_at.plus_secs(DRAFT_EXPIRY_DAYS * 86_400));
        let mut y = String::new();
        let _ = writeln!(
            y,
            "# Draft allowlist written by `tokentrail inventory --emit-allowlist` on {}.",
            date_text(self.run.generated_at)
        );
        let _ = writeln!(
            y,
            "# Every reason starts with REVIEW, and `tokentrail detect` refuses the file until a\n\
             # person has checked each pattern, deleted the ones that are not legitimate and written\n\
             # the real reason (a change or ticket number) in place of each REVIEW text."
        );
        let held: Vec<&str> = self
            .patterns
            .iter()
            .filter(|p| !p.findings.is_empty())
            .map(|p| p.id.as_str())
            .collect();
        if !held.is_empty() {
            let _ = writeln!(
                y,
                "# Commented out: {} ({} pattern{}), whose records live findings cite.",
                held.join(", "),
                held.len(),
                if held.len() == 1 { "" } else { "s" }
            );
        }
        let _ = writeln!(y, "version: 1");
        if self.patterns.is_empty() {
            let _ = writeln!(y, "entries: []");
            return y;
        }
        let _ = writeln!(y, "entries:");
        for p in &self.patterns {
            let networks: Vec<String> = p
                .networks
                .iter()
                .take(3)
                .map(|n| {
                    if n.hosting {
                        format!("{} (hosting)", n.label())
                    } else {
                        n.label()
                    }
                })
                .collect();
            let who = match p.identity {
                IdentityType::Delegated => match p.user_count {
                    1 => "1 user".to_string(),
                    n => format!("{n} users"),
                },
                _ => format!(
                    "service principal {}",
                    p.service_principal_name
                        .as_deref()
                        .or(p.service_principal_id.as_deref())
                        .unwrap_or("unknown")
                ),
            };
            let risky = p.traits.risky();
            let workloads = if p.workloads.is_empty() {
                "sign-ins only".to_string()
            } else {
                format!(
                    "workloads {}",
                    p.workloads.keys().cloned().collect::<Vec<_>>().join("/")
                )
            };
            let reason = format!(
                "REVIEW: {} ({}), {}, {}; {} record{} {} to {} from {}{}",
                p.app_label(),
                p.identity.as_str(),
                who,
                workloads,
                p.records(),
                if p.records() == 1 { "" } else { "s" },
                date_text(p.first_seen),
                date_text(p.last_seen),
                if networks.is_empty() {
                    "no logged address".to_string()
                } else {
                    networks.join(", ")
                },
                if risky.is_empty() {
                    String::new()
                } else {
                    format!("; risky: {}", risky.join(", "))
                }
            );
            let id = format!("{}-{}", p.id, slug(&p.app_label()));
            let mut e = String::new();
            let _ = writeln!(e, "  - id: {}", quoted(&id));
            let _ = writeln!(e, "    reason: {}", quoted(&reason));
            let _ = writeln!(e, "    owner: {}", quoted(owner));
            let _ = writeln!(e, "    expires: {expires}");
            let mut keys: Vec<String> = Vec::new();
            if let Some(app) = &p.app_id {
                keys.push(format!("app_id: {}", quoted(app)));
            }
            match p.identity {
                IdentityType::Delegated => {
                    let _ = writeln!(e, "    rules: [TT003, TT004, TT005]");
                    // Without an app id, a user-only match would approve everything the
                    // user does: leave the match empty for a person to write.
                    if p.user_count == 1 && p.app_id.is_some() {
                        if let Some(user) = p.users.first() {
                            keys.push(format!("user: {}", quoted(user)));
                        }
                    }
                    if let [only] = p.networks.as_slice() {
                        if let Some(asn) = only.asn {
                            keys.push(format!("asn: {asn}"));
                        }
                    }
                }
                IdentityType::ServicePrincipal | IdentityType::ManagedIdentity => {
                    let _ = writeln!(
                        e,
                        "    # app-only: no rule alerts on app-only access today; the entry records the approval"
                    );
                    if let Some(sp) = &p.service_principal_id {
                        keys.push(format!("service_principal_id: {}", quoted(sp)));
                    }
                }
            }
            if keys.is_empty() {
                // A pattern with neither app id nor principal cannot be matched safely: an
                // entry without `match` is refused by the engine, so say why instead.
                let _ = writeln!(
                    e,
                    "    # no client app id or principal was logged: write a match by hand"
                );
            }
            let _ = writeln!(e, "    match: {{ {} }}", keys.join(", "));
            if p.findings.is_empty() {
                y.push_str(&e);
                continue;
            }
            // Approving this pattern would silence live findings: draft it commented out, with
            // their ids, for a person to rule each one out before removing the `# `.
            let _ = writeln!(
                y,
                "  # {} holds records that live findings cite: {}.\n  # Drafted commented out: approving it would silence them. Rule each one out\n  # (tokentrail investigate) before removing the leading \"# \" of its lines.",
                p.id,
                p.findings.join(", ")
            );
            for line in e.lines() {
                let _ = writeln!(y, "# {line}");
            }
        }
        y
    }
}
