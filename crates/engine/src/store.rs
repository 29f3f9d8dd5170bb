//! Compact per-record state. Every sign-in and access is converted when it is added: strings
//! are interned once per distinct value (a record holds 4-byte handles), token and session ids
//! once per distinct id, addresses once per distinct address, the source file once per file.
//! The engine keeps only the fields the rules and the evidence read; the rest of the record is
//! dropped as soon as it arrives: [`SIGN_IN_BYTES`] per sign-in and [`ACCESS_BYTES`] per access
//! held in memory (the rest wait on disk, see `spill`), plus the distinct values.

use std::hash::{BuildHasher, Hash, Hasher};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use tokentrail_model::{
    Access, AccessSource, Actor, ClientAuthMethod, Guid, Position, SessionId, SignIn, SignInKind,
    SourceRef, Timestamp, TokenId, Workload,
};

/// Bytes of engine state per sign-in row (see `docs/engine-memory.md`).
pub const SIGN_IN_BYTES: usize = std::mem::size_of::<SignInRec>();
/// Bytes of engine state per access record (see `docs/engine-memory.md`).
pub const ACCESS_BYTES: usize = std::mem::size_of::<AccessRec>();
/// Bytes per distinct token id while records are added: its entry in the id list and its slot
/// in the index (before the index's spare capacity).
pub const TOKEN_BYTES: usize = std::mem::size_of::<TokenId>() + INDEX_SLOT_BYTES;
/// Bytes per distinct session id: as for tokens.
pub const SESSION_BYTES: usize = std::mem::size_of::<SessionId>() + INDEX_SLOT_BYTES;

/// A handle to an interned value; the `Option` of it is 4 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Sym(NonZeroU32);

impl Sym {
    pub fn index(self) -> usize {
        (self.0.get() - 1) as usize
    }
    pub fn raw(self) -> u32 {
        self.0.get()
    }
    pub fn from_raw(v: u32) -> Option<Sym> {
        NonZeroU32::new(v).map(Sym)
    }
}

/// The hash every index of interned values uses.
fn hash_of<T: Hash + ?Sized>(value: &T) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(value)
}

/// Bytes of one slot of an index of interned values (see [`Index`]).
pub const INDEX_SLOT_BYTES: usize = std::mem::size_of::<u64>();

/// Where a table finds a value's handle: open addressing with linear probing, each slot a
/// handle and the low 32 bits of its value's hash (0: empty). The value itself is held once,
/// in the table's list. Handle and hash bits in one slot make a lookup one memory read where
/// a probe passes other values (their hash bits differ; their list entries are not read), and
/// where a value is new (most token ids are): one cache line, where a table of control bytes
/// beside slots of handles reads two.
#[derive(Debug, Default)]
struct Index {
    slots: Vec<u64>,
    len: usize,
}

impl Index {
    /// Where a probe for `hash` starts. From the stored bits only, so growing needs no value
    /// hashed again.
    fn start(&self, hash: u64) -> usize {
        (hash as u32 as usize) & self.slots.len().wrapping_sub(1)
    }

    /// The handle whose value `is` accepts among those with `hash`, else the empty slot where
    /// it would go.
    fn find(&self, hash: u64, mut is: impl FnMut(Sym) -> bool) -> Result<Sym, Option<usize>> {
        if self.slots.is_empty() {
            return Err(None);
        }
        let mask = self.slots.len() - 1;
        let want = hash as u32;
        let mut i = self.start(hash);
        // Never more than 3/4 full: an empty slot ends every probe.
        loop {
            let slot = self.slots.get(i).copied().unwrap_or(0);
            let Some(sym) = Sym::from_raw(slot as u32) else {
                return Err(Some(i));
            };
            if (slot >> 32) as u32 == want && is(sym) {
                return Ok(sym);
            }
            i = (i + 1) & mask;
        }
    }

    /// Add `sym` for a value with `hash` that [`Index::find`] did not find (`at`: where it said).
    fn insert(&mut self, at: Option<usize>, hash: u64, sym: Sym) {
        let slot = (hash & 0xffff_ffff) << 32 | u64::from(sym.raw());
        match at {
            Some(i) if (self.len + 1) * 4 <= self.slots.len() * 3 => {
                if let Some(s) = self.slots.get_mut(i) {
                    *s = slot;
                }
            }
            _ => {
                self.grow();
                self.place(slot);
            }
        }
        self.len += 1;
    }

    /// Twice the slots (16 at first), every handle placed again by its stored hash bits.
    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![0; size]);
        for slot in old.into_iter().filter(|&s| s != 0) {
            self.place(slot);
        }
    }

    /// Put `slot` in the first empty slot of its probe.
    fn place(&mut self, slot: u64) {
        let mask = self.slots.len() - 1;
        let mut i = self.start(slot >> 32);
        while let Some(s) = self.slots.get_mut(i) {
            if *s == 0 {
                *s = slot;
                return;
            }
            i = (i + 1) & mask;
        }
    }
}

/// Values interned to dense handles, in first-seen order. Each value is held once, in the
/// list; the index holds only handles into it (and hash bits, see [`Index`]), where a map from
/// value to handle would hold the value a second time (48 bytes for a token id).
#[derive(Debug)]
pub(crate) struct Table<T> {
    index: Index,
    list: Vec<T>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            index: Index::default(),
            list: Vec::new(),
        }
    }
}

/// The handle for the `list.len() + 1`th value; `None` past `u32::MAX - 1` values.
fn next_sym<T>(list: &[T]) -> Option<Sym> {
    let n = u32::try_from(list.len() + 1).ok()?;
    Some(Sym(NonZeroU32::new(n)?))
}

impl<T: Hash + Eq + Clone> Table<T> {
    /// The handle of `value`, adding a copy when new. A table never holds more than
    /// `u32::MAX - 1` values: beyond that (never with real exports) the value is dropped.
    pub fn intern(&mut self, value: &T) -> Option<Sym> {
        let hash = hash_of(value);
        let list = &self.list;
        // One probe whether the value is new or not (token ids mostly are).
        match self
            .index
            .find(hash, |s| list.get(s.index()) == Some(value))
        {
            Ok(sym) => Some(sym),
            Err(at) => {
                let sym = next_sym(list)?;
                self.index.insert(at, hash, sym);
                self.list.push(value.clone());
                Some(sym)
            }
        }
    }
}

impl<T> Table<T> {
    pub fn get(&self, sym: Sym) -> Option<&T> {
        self.list.get(sym.index())
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Every value with its handle, in first-seen order.
    pub fn values(&self) -> impl Iterator<Item = (Sym, &T)> {
        self.syms().zip(&self.list)
    }

    pub fn list(&self) -> &[T] {
        &self.list
    }

    /// Every handle, in first-seen order.
    pub fn syms(&self) -> impl Iterator<Item = Sym> {
        (1..=self.list.len()).filter_map(|n| Sym::from_raw(u32::try_from(n).ok()?))
    }
}

/// Strings interned by content, each held once (see [`Table`]).
#[derive(Debug, Default)]
pub(crate) struct Strings {
    index: Index,
    list: Vec<Box<str>>,
}

impl Strings {
    pub fn intern(&mut self, text: &str) -> Option<Sym> {
        self.intern_hashed(text, hash_of(text))
    }

    /// [`Strings::intern`] of text whose hash is `hash_of(text)` (or, in tests, any hash).
    fn intern_hashed(&mut self, text: &str, hash: u64) -> Option<Sym> {
        let list = &self.list;
        match self
            .index
            .find(hash, |s| list.get(s.index()).is_some_and(|t| **t == *text))
        {
            Ok(sym) => Some(sym),
            Err(at) => {
                let sym = next_sym(list)?;
                self.index.insert(at, hash, sym);
                self.list.push(Box::from(text));
                Some(sym)
            }
        }
    }

    pub fn opt(&mut self, text: Option<&str>) -> Option<Sym> {
        text.and_then(|t| self.intern(t))
    }

    pub fn get(&self, sym: Option<Sym>) -> Option<&str> {
        sym.and_then(|s| self.list.get(s.index())).map(|b| &**b)
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// The handle of `text` when it was interned.
    pub fn lookup(&self, text: &str) -> Option<Sym> {
        let list = &self.list;
        self.index
            .find(hash_of(text), |s| {
                list.get(s.index()).is_some_and(|t| **t == *text)
            })
            .ok()
    }

    /// Every handle, in first-seen order.
    pub fn syms(&self) -> impl Iterator<Item = Sym> {
        (1..=self.list.len()).filter_map(|n| Sym::from_raw(u32::try_from(n).ok()?))
    }

    /// The string at a 0-based index.
    pub fn list_get(&self, i: usize) -> Option<&str> {
        self.list.get(i).map(|b| &**b)
    }
}

/// An access's record id: a canonical (lower-case) GUID text held as its 128 bits, anything
/// else interned. The same text always gets the same form, so equal forms mean equal texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum RecordId {
    None,
    Guid([u64; 2]),
    Text(Sym),
}

/// A GUID without the 16-byte alignment of `u128`, so records pack tightly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Packed([u64; 2]);

impl Packed {
    pub fn of(g: Guid) -> Packed {
        Packed([(g.0 >> 64) as u64, g.0 as u64])
    }
    pub fn guid(self) -> Guid {
        Guid((u128::from(self.0[0]) << 64) | u128::from(self.0[1]))
    }
}

/// Where a record was read: file (by first-seen handle) and position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Src {
    pub file: u32,
    /// 0 for a line, 1 for an index (the order of [`Position`]'s variants).
    pub kind: u8,
    pub n: u64,
}

impl Src {
    pub fn position(self) -> Position {
        if self.kind == 0 {
            Position::Line(self.n)
        } else {
            Position::Index(self.n)
        }
    }
}

/// Sign-in facts computed once at add time.
pub(crate) mod sflag {
    pub const SUCCEEDED: u8 = 1;
    /// `clientCredentialType` other than none.
    pub const CONFIDENTIAL: u8 = 2;
    /// See [`crate::correlate::proves_device`].
    pub const PROVES_DEVICE: u8 = 4;
    /// Device marked managed or compliant.
    pub const MANAGED: u8 = 8;
    pub const DEVICE_CODE: u8 = 16;
    pub const ROPC: u8 = 32;
    /// The sign-in has an id (`SignInRec::id_bits` is meaningful).
    pub const HAS_ID: u8 = 64;
    /// The export did not say whether it was interactive: it may be a session's root.
    pub const KIND_ASSUMED: u8 = 128;
}

/// One sign-in as the engine keeps it.
#[derive(Clone, Debug)]
pub(crate) struct SignInRec {
    pub time: Timestamp,
    pub src_n: u64,
    /// The sign-in's id, when `HAS_ID` is set.
    pub id_bits: Packed,
    pub src_file: u32,
    pub user_id: Option<Sym>,
    pub upn: Option<Sym>,
    pub app_id: Option<Sym>,
    pub app_name: Option<Sym>,
    pub resource: Option<Sym>,
    pub service_principal_id: Option<Sym>,
    pub device_id: Option<Sym>,
    /// The user agent and country of the sign-in, interned together (none without a user
    /// agent): what tells a personal device that Entra does not know from another client.
    pub agent_country: Option<Sym>,
    pub ip: Option<Sym>,
    /// The logged ASN, 0 when none.
    pub asn: u32,
    /// The token it issued: its token id, else its own id.
    pub issued_token: Option<Sym>,
    pub session: Option<Sym>,
    pub kind: SignInKind,
    pub src_kind: u8,
    pub flags: u8,
}

impl SignInRec {
    /// How much the row says: its filled fields.
    pub fn richness(&self) -> u32 {
        [
            self.user_id,
            self.upn,
            self.app_id,
            self.app_name,
            self.resource,
            self.service_principal_id,
            self.device_id,
            self.ip,
            self.issued_token,
            self.session,
        ]
        .iter()
        .filter(|x| x.is_some())
        .count() as u32
            + u32::from(self.asn != 0)
    }

    /// Fill what this row lacks from `other`, a row of the same sign-in (same id): an Entra
    /// row and its UAL `UserLoggedIn` twin, or one sign-in exported twice in different shapes.
    pub fn merge_from(&mut self, other: &SignInRec) {
        let fill = |mine: &mut Option<Sym>, theirs: Option<Sym>| {
            if mine.is_none() {
                *mine = theirs;
            }
        };
        fill(&mut self.user_id, other.user_id);
        fill(&mut self.upn, other.upn);
        fill(&mut self.app_id, other.app_id);
        fill(&mut self.app_name, other.app_name);
        fill(&mut self.resource, other.resource);
        fill(&mut self.service_principal_id, other.service_principal_id);
        fill(&mut self.issued_token, other.issued_token);
        fill(&mut self.session, other.session);
        fill(&mut self.agent_country, other.agent_country);
        if self.ip.is_none() {
            self.ip = other.ip;
            self.asn = other.asn;
        } else if self.asn == 0 && self.ip == other.ip {
            self.asn = other.asn;
        }
        if self.device_id.is_none() && other.device_id.is_some() {
            // The device and what the other row proved about it go together.
            self.device_id = other.device_id;
            let device = sflag::PROVES_DEVICE | sflag::MANAGED;
            self.flags = (self.flags & !device) | (other.flags & device);
        }
        // A risky flow either row shows is the sign-in's.
        self.flags |= other.flags & (sflag::DEVICE_CODE | sflag::ROPC);
        // A row that states the kind settles it for a row that had to assume one: a UAL
        // `UserLoggedIn` twin says the sign-in was interactive.
        if self.has(sflag::KIND_ASSUMED) && !other.has(sflag::KIND_ASSUMED) {
            self.kind = if crate::correlate::is_root_kind(other.kind) {
                SignInKind::Interactive
            } else {
                other.kind
            };
            self.flags &= !sflag::KIND_ASSUMED;
        }
    }

    pub fn src(&self) -> Src {
        Src {
            file: self.src_file,
            kind: self.src_kind,
            n: self.src_n,
        }
    }
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
    pub fn succeeded(&self) -> bool {
        self.has(sflag::SUCCEEDED)
    }
    pub fn id(&self) -> Option<Packed> {
        self.has(sflag::HAS_ID).then_some(self.id_bits)
    }
}

/// One access as the engine keeps it.
#[derive(Clone, Debug)]
pub(crate) struct AccessRec {
    pub time: Timestamp,
    pub src_n: u64,
    /// The record id's payload: a GUID's bits, or a string handle in `[0]` (see `rid_kind`).
    pub rid: [u64; 2],
    /// The logged token issue time (meaningful when `has_issued_at`).
    pub token_issued_at: Timestamp,
    pub count: u64,
    pub src_file: u32,
    /// The order it was added in (saturating): the last tie-breaker between two accesses.
    pub seq: u32,
    pub user_id: Option<Sym>,
    pub upn: Option<Sym>,
    pub service_principal_id: Option<Sym>,
    pub app_id: Option<Sym>,
    pub app_name: Option<Sym>,
    pub resource_id: Option<Sym>,
    pub operation: Option<Sym>,
    pub ip: Option<Sym>,
    pub token: Option<Sym>,
    pub session: Option<Sym>,
    pub log: AccessSource,
    pub workload: Workload,
    pub actor: Actor,
    pub client_auth_method: Option<ClientAuthMethod>,
    pub is_managed_device: Option<bool>,
    pub src_kind: u8,
    /// 0: no record id, 1: a GUID, 2: a string.
    pub rid_kind: u8,
    pub has_issued_at: bool,
}

/// The content two copies of one id-less access share (handles: equal within a run).
pub(crate) type AccessContent = (
    Timestamp,
    AccessSource,
    [Option<Sym>; 10],
    Option<Timestamp>,
    u64,
    Workload,
    Actor,
    Option<ClientAuthMethod>,
    Option<bool>,
);

impl AccessRec {
    /// What an id-less record is identified by: its whole content (Graph rows lacking a
    /// `RequestId` read twice are one record).
    pub fn content(&self) -> AccessContent {
        (
            self.time,
            self.log,
            [
                self.user_id,
                self.upn,
                self.service_principal_id,
                self.app_id,
                self.app_name,
                self.resource_id,
                self.operation,
                self.ip,
                self.token,
                self.session,
            ],
            self.token_issued_at(),
            self.count,
            self.workload,
            self.actor,
            self.client_auth_method,
            self.is_managed_device,
        )
    }

    /// How much the record says: its filled fields (of copies of one record, the richest is
    /// kept).
    pub fn richness(&self) -> u32 {
        [
            self.user_id,
            self.upn,
            self.service_principal_id,
            self.app_id,
            self.app_name,
            self.resource_id,
            self.operation,
            self.ip,
            self.token,
            self.session,
        ]
        .iter()
        .filter(|x| x.is_some())
        .count() as u32
            + u32::from(self.client_auth_method.is_some())
            + u32::from(self.is_managed_device.is_some())
            + u32::from(self.has_issued_at)
    }

    pub fn src(&self) -> Src {
        Src {
            file: self.src_file,
            kind: self.src_kind,
            n: self.src_n,
        }
    }
    pub fn token_issued_at(&self) -> Option<Timestamp> {
        self.has_issued_at.then_some(self.token_issued_at)
    }
    pub fn record_id(&self) -> RecordId {
        match self.rid_kind {
            1 => RecordId::Guid(self.rid),
            2 => u32::try_from(self.rid[0])
                .ok()
                .and_then(Sym::from_raw)
                .map_or(RecordId::None, RecordId::Text),
            _ => RecordId::None,
        }
    }
}

/// Every interned value of a run.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub strings: Strings,
    pub tokens: Table<TokenId>,
    pub sessions: Table<SessionId>,
    pub ips: Table<IpAddr>,
    pub files: Table<Arc<str>>,
    /// The last file seen and its handle: records arrive file by file, and comparing the
    /// pointer is cheaper than hashing the name.
    last_file: Option<(Arc<str>, u32)>,
    /// Reused to build a user agent and country key without an allocation per sign-in.
    scratch: String,
}

fn eq_ci(s: &Option<String>, what: &str) -> bool {
    s.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(what))
}

impl Store {
    fn src(&mut self, s: &SourceRef) -> (u32, u8, u64) {
        let file = match &self.last_file {
            Some((f, h)) if Arc::ptr_eq(f, &s.file) => *h,
            _ => {
                let h = self.files.intern(&s.file).map_or(u32::MAX, |f| f.0.get());
                self.last_file = Some((s.file.clone(), h));
                h
            }
        };
        match s.position {
            Position::Line(n) => (file, 0, n),
            Position::Index(n) => (file, 1, n),
        }
    }

    /// The compact form of a sign-in.
    pub fn sign_in(&mut self, s: &SignIn) -> SignInRec {
        let (src_file, src_kind, src_n) = self.src(&s.source);
        let mut flags = 0;
        if s.succeeded() {
            flags |= sflag::SUCCEEDED;
        }
        if crate::correlate::confidential_sign_in(s) {
            flags |= sflag::CONFIDENTIAL;
        }
        if crate::correlate::proves_device(s) {
            flags |= sflag::PROVES_DEVICE;
        }
        if s.device.is_managed == Some(true) || s.device.is_compliant == Some(true) {
            flags |= sflag::MANAGED;
        }
        if eq_ci(&s.auth_protocol, "deviceCode") || eq_ci(&s.transfer_method, "deviceCodeFlow") {
            flags |= sflag::DEVICE_CODE;
        }
        if eq_ci(&s.auth_protocol, "ropc") {
            flags |= sflag::ROPC;
        }
        if s.kind_assumed {
            flags |= sflag::KIND_ASSUMED;
        }
        // A placeholder id (anonymized exports) names nothing: the row is neither merged with
        // others by it nor linked to anything by it.
        let id = s.id.filter(|g| !g.is_placeholder());
        if id.is_some() {
            flags |= sflag::HAS_ID;
        }
        let issued_token = match s.token_id.as_ref().filter(|t| !t.0.is_placeholder()) {
            Some(t) => self.tokens.intern(t),
            None => id.and_then(|g| self.tokens.intern(&TokenId::from_guid(g))),
        };
        let st = &mut self.strings;
        SignInRec {
            time: s.time,
            src_n,
            id_bits: id.map_or(Packed([0, 0]), Packed::of),
            src_file,
            user_id: st.opt(s.user_id.as_deref()),
            upn: st.opt(s.upn.as_deref()),
            app_id: st.opt(s.app_id.as_deref()),
            app_name: st.opt(s.app_name.as_deref()),
            // Only the resource's display form is ever shown: its name, else its id.
            resource: st.opt(s.resource_name.as_deref().or(s.resource_id.as_deref())),
            service_principal_id: st.opt(s.service_principal_id.as_deref()),
            device_id: st.opt(s.device.id.as_deref()),
            // A country the export does not log compares equal only with another it does not
            // log: an export without the location column still tells user agents apart.
            agent_country: match (s.user_agent.as_deref(), s.country.as_deref()) {
                (Some(agent), country) => {
                    self.scratch.clear();
                    self.scratch.push_str(agent);
                    // A unit separator: it appears in neither a user agent nor a country code.
                    self.scratch.push('\u{1f}');
                    self.scratch.push_str(country.unwrap_or_default());
                    st.intern(&self.scratch)
                }
                (None, _) => None,
            },
            ip: s.ip.and_then(|ip| self.ips.intern(&ip)),
            asn: s.asn.unwrap_or(0),
            issued_token,
            session: s
                .session_id
                .as_ref()
                .filter(|t| !t.0.is_placeholder())
                .and_then(|t| self.sessions.intern(t)),
            kind: s.kind,
            src_kind,
            flags,
        }
    }

    /// The compact form of an access.
    pub fn access(&mut self, a: &Access) -> AccessRec {
        let (src_file, src_kind, src_n) = self.src(&a.source);
        let none = ([0, 0], 0);
        let (rid, rid_kind) = match a.record_id.as_deref() {
            None => none,
            // Only text that prints back unchanged is held as bits.
            Some(text) => match Guid::parse_canonical(text).map(Packed::of) {
                // For canonical GUID text the placeholder test is the GUID's own (no placeholder
                // word is hex): settled on the bits, without the text test's lower-cased copy.
                Some(g) if g.guid().is_placeholder() => none,
                Some(g) => (g.0, 1),
                None if tokentrail_model::ids::is_placeholder_text(text) => none,
                None => self
                    .strings
                    .intern(text)
                    .map_or(none, |s| ([u64::from(s.raw()), 0], 2)),
            },
        };
        let st = &mut self.strings;
        AccessRec {
            time: a.time,
            src_n,
            rid,
            token_issued_at: a.token_issued_at.unwrap_or_default(),
            count: a.count,
            src_file,
            seq: 0,
            user_id: st.opt(a.user_id.as_deref()),
            upn: st.opt(a.upn.as_deref()),
            service_principal_id: st.opt(a.service_principal_id.as_deref()),
            app_id: st.opt(a.app_id.as_deref()),
            app_name: st.opt(a.app_name.as_deref()),
            resource_id: st.opt(a.resource_id.as_deref()),
            operation: st.intern(&a.operation),
            ip: a.ip.and_then(|ip| self.ips.intern(&ip)),
            token: a
                .token_id
                .as_ref()
                .filter(|t| !t.0.is_placeholder())
                .and_then(|t| self.tokens.intern(t)),
            session: a
                .session_id
                .as_ref()
                .filter(|t| !t.0.is_placeholder())
                .and_then(|t| self.sessions.intern(t)),
            log: a.log,
            workload: a.workload,
            actor: a.actor,
            client_auth_method: a.client_auth_method,
            is_managed_device: a.is_managed_device,
            src_kind,
            rid_kind,
            has_issued_at: a.token_issued_at.is_some(),
        }
    }

    /// A fingerprint of a sign-in row's content: its texts, not their handles (which follow
    /// the order records came in), so a choice made on it never depends on input order or file
    /// names.
    pub fn sign_in_fingerprint(&self, s: &SignInRec) -> u64 {
        let mut h = rustc_hash::FxHasher::default();
        let st = &self.strings;
        (
            s.time,
            s.id(),
            s.kind,
            s.flags,
            s.asn,
            [
                s.user_id,
                s.upn,
                s.app_id,
                s.app_name,
                s.resource,
                s.service_principal_id,
                s.device_id,
            ]
            .map(|x| st.get(x)),
        )
            .hash(&mut h);
        self.hash_links(s.ip, s.issued_token, s.session, &mut h);
        h.finish()
    }

    /// The address, token and session a record names, by value.
    fn hash_links(
        &self,
        ip: Option<Sym>,
        token: Option<Sym>,
        session: Option<Sym>,
        h: &mut impl Hasher,
    ) {
        ip.and_then(|x| self.ips.get(x)).hash(h);
        token.and_then(|x| self.tokens.get(x)).hash(h);
        session.and_then(|x| self.sessions.get(x)).hash(h);
    }

    /// A fingerprint of an access's content (see [`Store::sign_in_fingerprint`]).
    pub fn access_fingerprint(&self, a: &AccessRec) -> u64 {
        let mut h = rustc_hash::FxHasher::default();
        let st = &self.strings;
        (
            a.time,
            a.log,
            self.record_id(a.record_id()),
            a.token_issued_at(),
            a.count,
            a.workload,
            a.actor,
            a.client_auth_method,
            a.is_managed_device,
            [
                a.user_id,
                a.upn,
                a.service_principal_id,
                a.app_id,
                a.app_name,
                a.resource_id,
                a.operation,
            ]
            .map(|x| st.get(x)),
        )
            .hash(&mut h);
        self.hash_links(a.ip, a.token, a.session, &mut h);
        h.finish()
    }

    /// The record id as text.
    pub fn record_id(&self, r: RecordId) -> Option<String> {
        match r {
            RecordId::None => None,
            RecordId::Guid(g) => Some(Packed(g).guid().to_string()),
            RecordId::Text(s) => self.strings.get(Some(s)).map(String::from),
        }
    }

    /// The source as the model spells it.
    pub fn source(&self, src: Src) -> SourceRef {
        let file = NonZeroU32::new(src.file)
            .and_then(|f| self.files.get(Sym(f)))
            .cloned()
            .unwrap_or_else(|| Arc::from(""));
        SourceRef {
            file,
            position: src.position(),
        }
    }

    /// Per file handle (index = handle - 1): its rank in file name order, so sources compare
    /// as (rank, position kind, number) exactly as [`SourceRef`]s compare.
    pub fn file_ranks(&self) -> Vec<u32> {
        let mut by_name: Vec<(&Arc<str>, Sym)> = self.files.values().map(|(s, f)| (f, s)).collect();
        by_name.sort();
        let mut ranks = vec![0u32; self.files.len()];
        for (rank, (_, sym)) in by_name.into_iter().enumerate() {
            if let Some(r) = ranks.get_mut(sym.index()) {
                *r = u32::try_from(rank).unwrap_or(u32::MAX);
            }
        }
        ranks
    }
}

/// How sources compare: (file rank, position kind, position number).
pub(crate) type SrcKey = (u32, u8, u64);

/// A source's sort key given the file ranks.
pub(crate) fn src_key(ranks: &[u32], src: Src) -> SrcKey {
    let rank = (src.file as usize)
        .checked_sub(1)
        .and_then(|i| ranks.get(i))
        .copied()
        .unwrap_or(u32::MAX);
    (rank, src.kind, src.n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;
    use std::mem::size_of;
    use std::path::Path;

    /// The address index relies on the hasher to spread addresses that differ only in one
    /// octet (one carrier /16) over the table's low bits, where buckets are picked.
    #[test]
    fn addresses_of_one_slash_16_spread_over_buckets() {
        let b = rustc_hash::FxBuildHasher;
        let buckets: std::collections::BTreeSet<u64> = (0..=255u8)
            .map(|o| b.hash_one(IpAddr::from([10, o, 0, 1])) & 0xfff)
            .collect();
        assert!(buckets.len() > 200, "{} buckets", buckets.len());
    }

    /// Handles in first-seen order, what a map from value to first-seen number gives, through
    /// growth and through hash bits that collide (every value given one hash, or hashes equal in
    /// their low 32 bits, where the index tells them apart only in the list).
    #[test]
    fn interning_gives_first_seen_handles() {
        let texts: Vec<String> = (0..5000u32)
            .map(|n| format!("v{}", n * 7919 % 1201))
            .collect();
        let hashes: [fn(&str) -> u64; 3] = [|t| hash_of(t), |_| 42, |t| (hash_of(t) & 7) << 32 | 5];
        for hash in hashes {
            let mut strings = Strings::default();
            let mut expected: std::collections::HashMap<&str, u32> = Default::default();
            for t in &texts {
                let next = u32::try_from(expected.len() + 1).unwrap();
                let want = *expected.entry(t).or_insert(next);
                let got = strings.intern_hashed(t, hash(t)).map(Sym::raw);
                assert_eq!(got, Some(want), "{t}");
            }
            assert_eq!(strings.len(), expected.len());
            for (t, n) in &expected {
                assert_eq!(strings.get(Sym::from_raw(*n)), Some(*t));
            }
        }
        let mut strings = Strings::default();
        assert_eq!(strings.lookup("a"), None);
        let a = strings.intern("a");
        assert_eq!(strings.lookup("a"), a);
        assert_eq!(strings.lookup("b"), None);
        let mut tokens = Table::<TokenId>::default();
        let ids = [
            TokenId::from_guid(Guid(1)),
            TokenId::from_guid(Guid(1 << 64)),
            TokenId::parse("opaque").unwrap(),
            TokenId::from_guid(Guid(1)),
        ];
        let got: Vec<_> = ids.iter().map(|t| tokens.intern(t).map(Sym::raw)).collect();
        assert_eq!(got, [Some(1), Some(2), Some(3), Some(1)]);
    }

    /// Every size `docs/engine-memory.md` states, measured: the doc cannot drift from the code.
    #[test]
    fn documented_sizes_are_the_real_sizes() {
        let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/engine-memory.md");
        let doc = std::fs::read_to_string(&doc_path).unwrap();
        let sizes = [
            ("SignInRec", size_of::<SignInRec>()),
            ("AccessRec", size_of::<AccessRec>()),
            ("TokenId", size_of::<TokenId>()),
            ("SessionId", size_of::<SessionId>()),
            ("IpAddr", size_of::<IpAddr>()),
            ("Sym", size_of::<Sym>()),
            ("store::INDEX_SLOT_BYTES", INDEX_SLOT_BYTES),
            ("Net", size_of::<crate::network::Net>()),
            ("Chain", size_of::<crate::correlate::Chain>()),
            ("Option<Sym>", size_of::<Option<Sym>>()),
            ("spill::RECORD_BYTES", crate::spill::RECORD_BYTES),
        ];
        for (name, size) in sizes {
            let row = doc
                .lines()
                .find(|l| l.starts_with("| `") && l.contains(&format!("`{name}`")))
                .unwrap_or_else(|| panic!("docs/engine-memory.md has no row for `{name}`"));
            assert!(
                row.contains(&format!("| {size} |")),
                "docs/engine-memory.md: `{name}` is {size} bytes, the row says: {row}"
            );
        }
        assert_eq!(SIGN_IN_BYTES, 88);
        assert_eq!(ACCESS_BYTES, 104);
        assert_eq!(TOKEN_BYTES, 32 + 8);
        assert_eq!(SESSION_BYTES, 32 + 8);
    }

    #[test]
    fn record_ids_keep_their_text() {
        let mut store = Store::default();
        let src = SourceRef {
            file: Arc::from("f"),
            position: Position::Line(1),
        };
        // The compact form of an access whose record id is `text` (none: no id).
        let mut with_id = |text: Option<&str>| {
            let mut a = Access::new(
                src.clone(),
                AccessSource::GraphActivity,
                Timestamp::from_secs(0),
                "op".into(),
            );
            a.record_id = text.map(String::from);
            store.access(&a).record_id()
        };
        let texts = [
            "4d63c1c4-c95b-4d3c-8e0a-1271fd813e00",
            "4D63C1C4-C95B-4D3C-8E0A-1271FD813E00",
            "{4d63c1c4-c95b-4d3c-8e0a-1271fd813e00}",
            "opaque-1",
            "4d63c1c4-c95b-4d3c-8e0a_1271fd813e00",
            "4d63c1c4-c95b-4d3c-8e0a-1271fd813e0g",
        ];
        let mut kept = Vec::new();
        for (n, text) in texts.into_iter().enumerate() {
            let id = with_id(Some(text));
            assert_eq!(matches!(id, RecordId::Guid(_)), n == 0, "{text}");
            kept.push((text, id));
        }
        for text in [
            "11111111-1111-1111-1111-111111111111",
            "00000000-0000-0000-0000-000000000000",
            "ANONYMIZED",
        ] {
            assert_eq!(with_id(Some(text)), RecordId::None, "{text}");
        }
        assert_eq!(with_id(None), RecordId::None);
        for (text, id) in kept {
            assert_eq!(store.record_id(id).as_deref(), Some(text));
        }
    }
}
