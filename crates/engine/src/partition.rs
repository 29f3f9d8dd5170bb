//! A tenant too large for memory, judged in partitions of its users.
//!
//! Sign-ins are held in memory while a tenant is judged (each issued one token, and any access
//! may name it), so a month of a large tenant does not fit at once. With
//! [`crate::EngineConfig::partitions`] set, records are written to disk as they arrive, each in
//! the partition of its user, and judged one partition at a time by the ordinary engine:
//!
//! 1. Each record goes to the partition of its user's object id. A record that names its user
//!    by UPN only (the UAL's Exchange and SharePoint records) waits until every record has
//!    arrived, then joins the partition of the object id the earliest sign-in gave that UPN
//!    (the one the engine links it to), or of the UPN when none did. A record with no user
//!    (service principals, app-only access) goes by its service principal or client.
//! 2. Each partition learns its share of what is tenant-wide ([`crate::tenant`]); the shares
//!    add up to the tenant.
//! 3. Each partition is judged against the tenant, and the findings of all are put together
//!    as one engine's would be.
//!
//! Everything the engine relates (a token and its sign-in, a session's sign-ins and accesses,
//! copies of one record, a user's object id and UPN) belongs to one user, so it meets in one
//! partition, and the findings are those of the whole tenant judged at once. Records that tie
//! two users together (a token logged under another user's id) are the exception: they are
//! judged in their own user's partition only.
//!
//! Records are written in a compact binary form; the strings of a record stay its own, so a
//! partition's engine interns only what its users logged.

use std::io;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use tokentrail_model::unstated_kind::StatedKinds;
use tokentrail_model::{
    Access, AccessSource, Actor, Device, SessionId, SignIn, SignInKind, Timestamp, TokenId,
    Workload,
};

use crate::compact::{Reader, Writer};
use crate::spill::{actor_code, actor_of, auth_code, auth_of, log_code, log_of};
use crate::spill::{workload_code, workload_of};
use crate::spill_file::{Records, SpillFile};

/// A record as the partition files hold it.
pub(crate) enum Spooled {
    SignIn(Box<SignIn>),
    Access(Box<Access>),
}

/// Records waiting on disk in the partitions of their users.
#[derive(Debug)]
pub(crate) struct Spool {
    parts: Vec<SpillFile>,
    /// Records that name their user by UPN only, until every record has arrived.
    by_upn: Option<SpillFile>,
    /// The files records came from; records name them by index.
    files: Vec<Arc<str>>,
    file_index: FxHashMap<Arc<str>, u32>,
    /// UPN (trimmed, lower case) -> the time and object id (trimmed, lower case) of the
    /// earliest sign-in that gave it one.
    upn_ids: FxHashMap<String, (Timestamp, String)>,
    /// Per file, what its rows that state their kind say (see [`crate::unstated_kind`]).
    pub stated: FxHashMap<Arc<str>, StatedKinds>,
    /// The record being encoded.
    buf: Vec<u8>,
    /// Records that could not be written.
    pub lost_sign_ins: u64,
    pub lost_accesses: u64,
}

/// Trimmed and lower case, `None` when empty: the engine's key form of an id or UPN.
fn key(text: Option<&str>) -> Option<String> {
    let t = text?.trim();
    (!t.is_empty()).then(|| t.to_ascii_lowercase())
}

fn partition_of(key: &str, parts: usize) -> usize {
    use std::hash::BuildHasher;
    let h = rustc_hash::FxBuildHasher.hash_one(key);
    (h % parts.max(1) as u64) as usize
}

/// Where a record goes: its user's object id, else (later) its UPN's, else whatever names it.
enum Route {
    Key(String),
    Upn,
}

fn route(user_id: Option<&str>, upn: Option<&str>, others: [Option<&str>; 2]) -> Route {
    if let Some(id) = key(user_id) {
        return Route::Key(id);
    }
    if key(upn).is_some() {
        return Route::Upn;
    }
    Route::Key(others.into_iter().find_map(key).unwrap_or_default())
}

impl Spool {
    /// `parts` partition files in `dir` (the system's temporary directory when `None`).
    pub fn create(parts: usize, dir: Option<&std::path::Path>) -> io::Result<Spool> {
        Ok(Spool {
            parts: (0..parts.max(1))
                .map(|_| SpillFile::create_small(dir))
                .collect::<io::Result<_>>()?,
            by_upn: Some(SpillFile::create(dir)?),
            files: Vec::new(),
            file_index: FxHashMap::default(),
            upn_ids: FxHashMap::default(),
            stated: FxHashMap::default(),
            buf: Vec::new(),
            lost_sign_ins: 0,
            lost_accesses: 0,
        })
    }

    pub fn partitions(&self) -> usize {
        self.parts.len()
    }

    fn file(&mut self, file: &Arc<str>) -> u32 {
        if let Some(i) = self.file_index.get(file) {
            return *i;
        }
        let i = u32::try_from(self.files.len()).unwrap_or(u32::MAX);
        self.files.push(file.clone());
        self.file_index.insert(file.clone(), i);
        i
    }

    pub fn add_sign_in(&mut self, s: &SignIn) {
        if !s.kind_assumed {
            self.stated
                .entry(s.source.file.clone())
                .or_default()
                .add(s.kind);
        }
        if let (Some(id), Some(upn)) = (key(s.user_id.as_deref()), key(s.upn.as_deref())) {
            let earlier = |(t, i): &(Timestamp, String)| (s.time, &id) < (*t, i);
            match self.upn_ids.get_mut(&upn) {
                Some(known) if !earlier(known) => {}
                Some(known) => *known = (s.time, id),
                None => {
                    self.upn_ids.insert(upn, (s.time, id));
                }
            }
        }
        let file = self.file(&s.source.file);
        let to = route(
            s.user_id.as_deref(),
            s.upn.as_deref(),
            [s.service_principal_id.as_deref(), s.app_id.as_deref()],
        );
        if !self.put(to, |buf| encode_sign_in(s, file, buf)) {
            self.lost_sign_ins += 1;
        }
    }

    pub fn add_access(&mut self, a: &Access) {
        let file = self.file(&a.source.file);
        let to = route(
            a.user_id.as_deref(),
            a.upn.as_deref(),
            [a.service_principal_id.as_deref(), a.app_id.as_deref()],
        );
        if !self.put(to, |buf| encode_access(a, file, buf)) {
            self.lost_accesses += 1;
        }
    }

    /// Write the record `encode` writes where `to` says; false when it could not be.
    fn put(&mut self, to: Route, encode: impl FnOnce(&mut Vec<u8>)) -> bool {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        encode(&mut buf);
        let written = self.write(to, &buf).is_ok();
        self.buf = buf;
        written
    }

    fn write(&mut self, to: Route, record: &[u8]) -> io::Result<()> {
        let file = match to {
            Route::Key(k) => {
                let p = partition_of(&k, self.parts.len());
                self.parts.get_mut(p).ok_or(io::ErrorKind::NotFound)?
            }
            Route::Upn => self.by_upn.as_mut().ok_or(io::ErrorKind::NotFound)?,
        };
        file.append_record(record)
    }

    /// Every record has arrived: those that name their user by UPN only join their user's
    /// partition.
    pub fn settle(&mut self) {
        let Some(mut by_upn) = self.by_upn.take() else {
            return;
        };
        let mut lost = (0, 0);
        read_records(&mut by_upn, &mut lost, |bytes| {
            let upn = match decode(bytes, &self.files) {
                Some(Spooled::SignIn(s)) => key(s.upn.as_deref()),
                Some(Spooled::Access(a)) => key(a.upn.as_deref()),
                None => None,
            };
            let kind = bytes.first().copied();
            let written = upn.is_some_and(|upn| {
                let id = self.upn_ids.get(&upn).map_or(upn, |(_, id)| id.clone());
                self.write(Route::Key(id), bytes).is_ok()
            });
            if !written {
                match kind {
                    Some(SIGN_IN) => self.lost_sign_ins += 1,
                    _ => self.lost_accesses += 1,
                }
            }
        });
        self.lost_sign_ins += lost.0;
        self.lost_accesses += lost.1;
    }

    /// Every record of partition `part`, in the order written; returns how many sign-ins and
    /// accesses could not be read back.
    pub fn read(&mut self, part: usize, mut each: impl FnMut(Spooled)) -> (u64, u64) {
        let mut lost = (0, 0);
        let Some(file) = self.parts.get_mut(part) else {
            return lost;
        };
        let files = &self.files;
        let mut unreadable = (0, 0);
        read_records(file, &mut lost, |bytes| match decode(bytes, files) {
            Some(r) => each(r),
            None => match bytes.first() {
                Some(&SIGN_IN) => unreadable.0 += 1,
                _ => unreadable.1 += 1,
            },
        });
        file.done_reading();
        (lost.0 + unreadable.0, lost.1 + unreadable.1)
    }
}

/// Call `each` with every length-prefixed record of `file`; what cannot be read is counted in
/// `lost` (sign-ins, accesses; a failed read loses the rest of the file, counted as accesses).
fn read_records(file: &mut SpillFile, lost: &mut (u64, u64), mut each: impl FnMut(&[u8])) {
    let mut records = Records::new(0, file.len(), 256 << 10);
    loop {
        match records.next(file) {
            Ok(Some(record)) => each(record),
            Ok(None) => return,
            Err(_) => {
                lost.1 += 1;
                return;
            }
        }
    }
}

const SIGN_IN: u8 = 0;
const ACCESS: u8 = 1;

fn kind_code(k: SignInKind) -> u8 {
    match k {
        SignInKind::Interactive => 0,
        SignInKind::NonInteractive => 1,
        SignInKind::ServicePrincipal => 2,
        SignInKind::ManagedIdentity => 3,
        SignInKind::UalLogon => 4,
    }
}

fn kind_of(c: u8) -> Option<SignInKind> {
    Some(match c {
        0 => SignInKind::Interactive,
        1 => SignInKind::NonInteractive,
        2 => SignInKind::ServicePrincipal,
        3 => SignInKind::ManagedIdentity,
        4 => SignInKind::UalLogon,
        _ => return None,
    })
}

fn encode_sign_in(s: &SignIn, file: u32, out: &mut Vec<u8>) {
    // Destructured so that a new field cannot be left out of the partition files.
    let SignIn {
        source,
        id,
        kind,
        time,
        user_id,
        upn,
        app_id,
        app_name,
        resource_id,
        resource_name,
        service_principal_id,
        service_principal_name,
        ip,
        asn,
        country,
        device,
        error_code,
        is_interactive,
        incoming_token_type,
        auth_protocol,
        transfer_method,
        auth_requirement,
        client_credential_type,
        token_protection,
        token_id,
        session_id,
        original_request_id,
        correlation_id,
        user_agent,
        through_global_secure_access,
        global_secure_access_ip,
        resource_ip,
        session_lifetime_policies,
        agent_type,
        kind_assumed,
    } = s;
    let Device {
        id: device_id,
        name: device_name,
        os,
        browser,
        is_managed,
        is_compliant,
        trust_type,
    } = device;
    let mut w = Writer(out);
    w.u8(SIGN_IN);
    w.source(file, source.position);
    w.opt_guid(*id);
    w.u8(kind_code(*kind));
    w.time(*time);
    for v in [user_id, upn, app_id, app_name, resource_id, resource_name] {
        w.opt_str(v.as_deref());
    }
    w.opt_str(service_principal_id.as_deref());
    w.opt_str(service_principal_name.as_deref());
    w.opt_ip(*ip);
    w.opt_u64(asn.map(u64::from));
    w.opt_str(country.as_deref());
    for v in [device_id, device_name, os, browser] {
        w.opt_str(v.as_deref());
    }
    w.opt_bool(*is_managed);
    w.opt_bool(*is_compliant);
    w.opt_str(trust_type.as_deref());
    w.opt_i64(*error_code);
    w.opt_bool(*is_interactive);
    for v in [
        incoming_token_type,
        auth_protocol,
        transfer_method,
        auth_requirement,
        client_credential_type,
        token_protection,
    ] {
        w.opt_str(v.as_deref());
    }
    w.opt_ident(token_id.as_ref().map(|t| &t.0));
    w.opt_ident(session_id.as_ref().map(|t| &t.0));
    w.opt_guid(*original_request_id);
    w.opt_str(correlation_id.as_deref());
    w.opt_str(user_agent.as_deref());
    w.opt_bool(*through_global_secure_access);
    w.opt_ip(*global_secure_access_ip);
    w.opt_ip(*resource_ip);
    w.opt_str(session_lifetime_policies.as_deref());
    w.opt_str(agent_type.as_deref());
    w.u8(u8::from(*kind_assumed));
}

fn decode_sign_in(r: &mut Reader<'_>, files: &[Arc<str>]) -> Option<SignIn> {
    let source = r.source(files)?;
    let id = r.opt_guid()?;
    let kind = kind_of(r.u8()?)?;
    let time = r.time()?;
    let mut s = SignIn::new(source, kind, time);
    s.id = id;
    s.user_id = r.opt_str()?;
    s.upn = r.opt_str()?;
    s.app_id = r.opt_str()?;
    s.app_name = r.opt_str()?;
    s.resource_id = r.opt_str()?;
    s.resource_name = r.opt_str()?;
    s.service_principal_id = r.opt_str()?;
    s.service_principal_name = r.opt_str()?;
    s.ip = r.opt_ip()?;
    s.asn = match r.opt_u64()? {
        None => None,
        Some(n) => Some(u32::try_from(n).ok()?),
    };
    s.country = r.opt_str()?;
    s.device = Device {
        id: r.opt_str()?,
        name: r.opt_str()?,
        os: r.opt_str()?,
        browser: r.opt_str()?,
        is_managed: r.opt_bool()?,
        is_compliant: r.opt_bool()?,
        trust_type: r.opt_str()?,
    };
    s.error_code = r.opt_i64()?;
    s.is_interactive = r.opt_bool()?;
    s.incoming_token_type = r.opt_str()?;
    s.auth_protocol = r.opt_str()?;
    s.transfer_method = r.opt_str()?;
    s.auth_requirement = r.opt_str()?;
    s.client_credential_type = r.opt_str()?;
    s.token_protection = r.opt_str()?;
    s.token_id = r.opt_ident()?.map(TokenId);
    s.session_id = r.opt_ident()?.map(SessionId);
    s.original_request_id = r.opt_guid()?;
    s.correlation_id = r.opt_str()?;
    s.user_agent = r.opt_str()?;
    s.through_global_secure_access = r.opt_bool()?;
    s.global_secure_access_ip = r.opt_ip()?;
    s.resource_ip = r.opt_ip()?;
    s.session_lifetime_policies = r.opt_str()?;
    s.agent_type = r.opt_str()?;
    s.kind_assumed = match r.u8()? {
        0 => false,
        1 => true,
        _ => return None,
    };
    Some(s)
}

fn encode_access(a: &Access, file: u32, out: &mut Vec<u8>) {
    // Destructured so that a new field cannot be left out of the partition files.
    let Access {
        source,
        log,
        record_id,
        time,
        workload,
        actor,
        user_id,
        upn,
        service_principal_id,
        app_id,
        app_name,
        resource_id,
        ip,
        user_agent,
        client_auth_method,
        device_id,
        is_managed_device,
        session_id,
        token_id,
        token_issued_at,
        operation,
        object,
        count,
        mail_access_type,
        status_code,
        scopes,
        roles,
    } = a;
    let mut w = Writer(out);
    w.u8(ACCESS);
    w.source(file, source.position);
    w.u8(log_code(*log));
    w.opt_str(record_id.as_deref());
    w.time(*time);
    w.u8(workload_code(*workload));
    w.u8(actor_code(*actor));
    for v in [
        user_id,
        upn,
        service_principal_id,
        app_id,
        app_name,
        resource_id,
    ] {
        w.opt_str(v.as_deref());
    }
    w.opt_ip(*ip);
    w.opt_str(user_agent.as_deref());
    w.u8(auth_code(*client_auth_method));
    w.opt_str(device_id.as_deref());
    w.opt_bool(*is_managed_device);
    w.opt_ident(session_id.as_ref().map(|t| &t.0));
    w.opt_ident(token_id.as_ref().map(|t| &t.0));
    w.opt_time(*token_issued_at);
    w.str(operation);
    w.opt_str(object.as_deref());
    w.u64(*count);
    w.opt_str(mail_access_type.as_deref());
    w.opt_u64(status_code.map(u64::from));
    w.opt_str(scopes.as_deref());
    w.opt_str(roles.as_deref());
}

fn decode_access(r: &mut Reader<'_>, files: &[Arc<str>]) -> Option<Access> {
    let source = r.source(files)?;
    let log: AccessSource = log_of(r.u8()?)?;
    let record_id = r.opt_str()?;
    let time = r.time()?;
    let workload: Workload = workload_of(r.u8()?)?;
    let actor: Actor = actor_of(r.u8()?)?;
    let mut a = Access::new(source, log, time, String::new());
    a.record_id = record_id;
    a.workload = workload;
    a.actor = actor;
    a.user_id = r.opt_str()?;
    a.upn = r.opt_str()?;
    a.service_principal_id = r.opt_str()?;
    a.app_id = r.opt_str()?;
    a.app_name = r.opt_str()?;
    a.resource_id = r.opt_str()?;
    a.ip = r.opt_ip()?;
    a.user_agent = r.opt_str()?;
    a.client_auth_method = auth_of(r.u8()?)?;
    a.device_id = r.opt_str()?;
    a.is_managed_device = r.opt_bool()?;
    a.session_id = r.opt_ident()?.map(SessionId);
    a.token_id = r.opt_ident()?.map(TokenId);
    a.token_issued_at = r.opt_time()?;
    a.operation = r.str()?.to_owned();
    a.object = r.opt_str()?;
    a.count = r.u64()?;
    a.mail_access_type = r.opt_str()?;
    a.status_code = match r.opt_u64()? {
        None => None,
        Some(n) => Some(u16::try_from(n).ok()?),
    };
    a.scopes = r.opt_str()?;
    a.roles = r.opt_str()?;
    Some(a)
}

/// One record of a partition file; `None` for bytes that are not one whole record.
fn decode(bytes: &[u8], files: &[Arc<str>]) -> Option<Spooled> {
    let mut r = Reader(bytes);
    let record = match r.u8()? {
        SIGN_IN => Spooled::SignIn(Box::new(decode_sign_in(&mut r, files)?)),
        ACCESS => Spooled::Access(Box::new(decode_access(&mut r, files)?)),
        _ => return None,
    };
    r.is_done().then_some(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;
    use tokentrail_model::{Guid, Ident, Position, SourceRef};

    fn source(n: u64) -> SourceRef {
        SourceRef {
            file: Arc::from("exports/signins.json"),
            position: Position::Line(n),
        }
    }

    fn full_sign_in() -> SignIn {
        let mut s = SignIn::new(
            source(7),
            SignInKind::NonInteractive,
            Timestamp(1_700_000_000_123_456),
        );
        s.id = Some(Guid(0x1234_5678_9abc_def0_1234_5678_9abc_def0));
        s.user_id = Some(" 6F1C-User ".into());
        s.upn = Some("Alice@Contoso.example".into());
        s.app_id = Some("app".into());
        s.app_name = Some("Outlook".into());
        s.resource_id = Some("res".into());
        s.resource_name = Some("Exchange".into());
        s.service_principal_id = Some("sp".into());
        s.service_principal_name = Some("spn".into());
        s.ip = Some("2001:db8::1".parse().unwrap_or(IpAddr::from([0u8; 4])));
        s.asn = Some(8075);
        s.country = Some("NL".into());
        s.device = Device {
            id: Some("dev".into()),
            name: Some("laptop".into()),
            os: Some("Windows".into()),
            browser: Some("Edge".into()),
            is_managed: Some(true),
            is_compliant: Some(false),
            trust_type: Some("Azure AD joined".into()),
        };
        s.error_code = Some(-50_126);
        s.is_interactive = Some(false);
        s.incoming_token_type = Some("primaryRefreshToken".into());
        s.auth_protocol = Some("deviceCode".into());
        s.transfer_method = Some("deviceCodeFlow".into());
        s.auth_requirement = Some("singleFactorAuthentication".into());
        s.client_credential_type = Some("none".into());
        s.token_protection = Some("bound".into());
        s.token_id = TokenId::parse("aEQ2qLOsqkS86zz3OHIeAA");
        s.session_id = Some(SessionId(Ident::Opaque(Arc::from("not-a-guid ü"))));
        s.original_request_id = Some(Guid(42));
        s.correlation_id = Some(String::new());
        s.user_agent = Some("Mozilla/5.0 \u{1b}[31m".into());
        s.through_global_secure_access = Some(true);
        s.global_secure_access_ip = Some(IpAddr::from([198, 51, 100, 7]));
        s.resource_ip = Some(IpAddr::from([203, 0, 113, 9]));
        s.session_lifetime_policies = Some("a,b".into());
        s.agent_type = Some("agenticApp".into());
        s.kind_assumed = true;
        s
    }

    fn full_access() -> Access {
        let mut a = Access::new(
            source(9),
            AccessSource::SharePointAudit,
            Timestamp(-5),
            "FileDownloaded".into(),
        );
        a.record_id = Some("rid".into());
        a.workload = Workload::Files;
        a.actor = Actor::Delegated;
        a.user_id = None;
        a.upn = Some("bob@contoso.example".into());
        a.service_principal_id = Some("sp".into());
        a.app_id = Some("app".into());
        a.app_name = Some("name".into());
        a.resource_id = Some("00000003-0000-0ff1-ce00-000000000000".into());
        a.ip = Some(IpAddr::from([192, 0, 2, 1]));
        a.user_agent = Some("ua".into());
        a.client_auth_method = Some(tokentrail_model::ClientAuthMethod::Certificate);
        a.device_id = Some("d".into());
        a.is_managed_device = Some(false);
        a.session_id = Some(SessionId(Ident::Guid(Guid(9))));
        a.token_id = Some(TokenId(Ident::Opaque(Arc::from("x"))));
        a.token_issued_at = Some(Timestamp(77));
        a.object = Some("https://contoso.sharepoint.com/a.docx".into());
        a.count = 3;
        a.mail_access_type = Some("Bind".into());
        a.status_code = Some(403);
        a.scopes = Some("Mail.Read".into());
        a.roles = Some(String::new());
        a
    }

    #[test]
    fn a_record_reads_back_as_it_was_written_every_field() {
        let files = vec![Arc::from("exports/signins.json")];
        let s = full_sign_in();
        let mut buf = Vec::new();
        encode_sign_in(&s, 0, &mut buf);
        match decode(&buf, &files) {
            Some(Spooled::SignIn(back)) => assert_eq!(*back, s),
            _ => panic!("the sign-in did not read back"),
        }
        let empty = SignIn::new(source(1), SignInKind::UalLogon, Timestamp(0));
        buf.clear();
        encode_sign_in(&empty, 0, &mut buf);
        assert!(matches!(decode(&buf, &files), Some(Spooled::SignIn(b)) if *b == empty));
        let a = full_access();
        buf.clear();
        encode_access(&a, 0, &mut buf);
        match decode(&buf, &files) {
            Some(Spooled::Access(back)) => assert_eq!(*back, a),
            _ => panic!("the access did not read back"),
        }
    }

    #[test]
    fn a_cut_or_padded_record_is_no_record() {
        let files = vec![Arc::from("exports/signins.json")];
        let mut buf = Vec::new();
        encode_access(&full_access(), 0, &mut buf);
        for cut in 0..buf.len() {
            assert!(
                decode(buf.get(..cut).unwrap_or_default(), &files).is_none(),
                "{cut}"
            );
        }
        buf.push(0);
        assert!(decode(&buf, &files).is_none());
        // A file index the spool never handed out.
        buf.pop();
        assert!(decode(&buf, &[]).is_none());
    }

    #[test]
    fn records_go_to_their_users_partition_and_upn_records_follow_the_earliest_sign_in() {
        let mut spool = match Spool::create(4, None) {
            Ok(s) => s,
            Err(e) => panic!("no temporary files: {e}"),
        };
        let at = |secs: i64| Timestamp::from_secs(1_700_000_000 + secs);
        let sign_in = |user: Option<&str>, upn: Option<&str>, secs: i64| {
            let mut s = SignIn::new(source(secs as u64), SignInKind::Interactive, at(secs));
            s.user_id = user.map(Into::into);
            s.upn = upn.map(Into::into);
            s
        };
        // The UPN was given two ids; the earlier sign-in's wins.
        let later = sign_in(Some("ID-B"), Some("alice@x"), 20);
        let earlier = sign_in(Some(" id-a "), Some("ALICE@x"), 10);
        let upn_only = sign_in(None, Some(" Alice@X "), 30);
        let nobody = sign_in(None, Some("carol@x"), 40);
        for s in [&later, &earlier, &upn_only, &nobody] {
            spool.add_sign_in(s);
        }
        let mut access = Access::new(
            source(50),
            AccessSource::ExchangeAudit,
            at(50),
            "Send".into(),
        );
        access.upn = Some("alice@x".into());
        spool.add_access(&access);
        spool.settle();
        let mut seen: Vec<(usize, i64)> = Vec::new();
        for p in 0..spool.partitions() {
            spool.read(p, |r| {
                let t = match r {
                    Spooled::SignIn(s) => s.time,
                    Spooled::Access(a) => a.time,
                };
                seen.push((p, t.secs() - 1_700_000_000));
            });
        }
        seen.sort_unstable();
        let part = |k: &str| partition_of(k, 4);
        let mut expected = vec![
            (part("id-b"), 20),
            (part("id-a"), 10),
            (part("id-a"), 30),
            (part("carol@x"), 40),
            (part("id-a"), 50),
        ];
        expected.sort_unstable();
        assert_eq!(seen, expected);
        assert_eq!((spool.lost_sign_ins, spool.lost_accesses), (0, 0));
    }
}
