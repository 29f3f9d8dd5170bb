//! Shared test inputs: a hand-built set of sign-ins and accesses whose completeness, joins and
//! patterns are counted by hand in the tests, and a small simulated tenant.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use tokentrail_ingest::Fields;
use tokentrail_model::{
    Access, AccessSource, Actor, ClientAuthMethod, Guid, Position, SessionId, SignIn, SignInKind,
    SourceRef, Timestamp, TokenId, Workload,
};
use tokentrail_posture::{InputFile, RunInfo};

pub const OUTLOOK_MOBILE: &str = "27922004-5251-4030-b22d-91ecd9a37ea4";
pub const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
pub const BACKUP_APP: &str = "8a4e6c12-7b3d-4e9f-a5c1-0d2e3f4a5b32";
pub const BACKUP_SP: &str = "2a658398-1a24-44f6-907d-d8628f829b78";
pub const U1: &str = "11111111-1111-4111-8111-111111111111";
pub const U2: &str = "22222222-2222-4222-8222-222222222222";

/// 2024-03-04T08:00:00Z plus `mins` minutes.
pub fn at(mins: i64) -> Timestamp {
    Timestamp::from_secs(1_709_539_200 + mins * 60)
}

pub fn guid(n: u128) -> Guid {
    Guid(0x5eed_0000_0000_4000_8000_0000_0000_0000 | n)
}

pub fn sid(n: u8) -> SessionId {
    SessionId::parse(&format!("00000000-0000-4000-8000-0000000000{n:02x}")).unwrap()
}

fn src(i: u64) -> SourceRef {
    SourceRef {
        file: Arc::from("fixture.json"),
        position: Position::Index(i),
    }
}

fn sign_in(i: u64, kind: SignInKind, id: u128, mins: i64) -> SignIn {
    let mut s = SignIn::new(src(i), kind, at(mins));
    s.id = Some(guid(id));
    s
}

fn user(s: &mut SignIn, id: &str, upn: &str) {
    s.user_id = Some(id.into());
    s.upn = Some(upn.into());
}

/// The sign-ins of the fixture, duplicates included.
pub fn sign_ins() -> Vec<SignIn> {
    let mut out = Vec::new();
    // s1: the interactive root of session 1.
    let mut s = sign_in(0, SignInKind::Interactive, 1, 0);
    user(&mut s, U1, "adele@contoso.example");
    s.app_id = Some(OUTLOOK_MOBILE.into());
    s.session_id = Some(sid(1));
    s.asn = Some(3320);
    s.ip = Some("198.51.100.10".parse().unwrap());
    s.device.id = Some("dev-1".into());
    out.push(s.clone());
    // The same sign-in written twice (Azure-Sentinel #9463).
    s.source = src(1);
    out.push(s);
    // s2: a silent refresh in session 1, no ASN, no device.
    let mut s = sign_in(2, SignInKind::NonInteractive, 2, 30);
    user(&mut s, U1, "adele@contoso.example");
    s.app_id = Some(OUTLOOK_MOBILE.into());
    s.session_id = Some(sid(1));
    s.ip = Some("198.51.100.10".parse().unwrap());
    s.client_credential_type = Some("none".into());
    out.push(s);
    // s3: a silent refresh in session 2, which has no interactive root; device-code flow by
    // Azure CLI from a hosting network.
    let mut s = sign_in(3, SignInKind::NonInteractive, 3, 60);
    user(&mut s, U2, "bruno@contoso.example");
    s.app_id = Some(AZURE_CLI.into());
    s.app_name = Some("Microsoft Azure CLI".into());
    s.session_id = Some(sid(2));
    s.asn = Some(14061);
    s.ip = Some("203.0.113.7".parse().unwrap());
    s.device.id = Some("dev-2".into());
    s.transfer_method = Some("deviceCodeFlow".into());
    out.push(s);
    // s5: a failed interactive sign-in in session 3: no root, no token.
    let mut s = sign_in(4, SignInKind::Interactive, 5, 90);
    user(&mut s, U2, "bruno@contoso.example");
    s.session_id = Some(sid(3));
    s.error_code = Some(50126);
    out.push(s);
    // sp1: the backup app's own sign-in.
    let mut s = sign_in(5, SignInKind::ServicePrincipal, 6, 100);
    s.app_id = Some(BACKUP_APP.into());
    s.app_name = Some("Contoso Mailbox Backup".into());
    s.service_principal_id = Some(BACKUP_SP.into());
    s.service_principal_name = Some("Contoso Mailbox Backup".into());
    s.asn = Some(8075);
    s.ip = Some("20.119.170.202".parse().unwrap());
    s.client_credential_type = Some("certificate".into());
    out.push(s);
    out
}

fn access(i: u64, log: AccessSource, record: &str, mins: i64, op: &str) -> Access {
    let mut a = Access::new(src(100 + i), log, at(mins), op.into());
    a.record_id = Some(record.into());
    a
}

/// The accesses of the fixture, duplicates included.
pub fn accesses() -> Vec<Access> {
    let mut out = Vec::new();
    // a1: Graph, token of s1, session 1.
    let mut a = access(0, AccessSource::GraphActivity, "r1", 5, "GET /me/messages");
    a.actor = Actor::Delegated;
    a.workload = Workload::Mail;
    a.user_id = Some(U1.into());
    a.app_id = Some(OUTLOOK_MOBILE.into());
    a.token_id = Some(TokenId::from_guid(guid(1)));
    a.token_issued_at = Some(at(0));
    a.session_id = Some(sid(1));
    a.ip = Some("198.51.100.10".parse().unwrap());
    a.client_auth_method = Some(ClientAuthMethod::PublicClient);
    out.push(a.clone());
    // The same Graph row exported twice.
    a.source = src(199);
    out.push(a);
    // a2: Graph, token of s2, no session of its own (inherits session 1).
    let mut a = access(
        1,
        AccessSource::GraphActivity,
        "r2",
        35,
        "GET /me/drive/root",
    );
    a.actor = Actor::Delegated;
    a.workload = Workload::Files;
    a.user_id = Some(U1.into());
    a.app_id = Some(OUTLOOK_MOBILE.into());
    a.token_id = Some(TokenId::from_guid(guid(2)));
    a.ip = Some("198.51.100.10".parse().unwrap());
    out.push(a);
    // a3: Exchange, token of s3, session 2 (no root).
    let mut a = access(
        2,
        AccessSource::ExchangeAudit,
        "r3",
        65,
        "MailItemsAccessed",
    );
    a.workload = Workload::Mail;
    a.upn = Some("bruno@contoso.example".into());
    a.app_id = Some(AZURE_CLI.into());
    a.token_id = Some(TokenId::from_guid(guid(3)));
    a.token_issued_at = Some(at(60));
    a.session_id = Some(sid(2));
    a.ip = Some("203.0.113.7".parse().unwrap());
    a.count = 4;
    out.push(a);
    // a4: Exchange, a token no sign-in issued, no session.
    let mut a = access(
        3,
        AccessSource::ExchangeAudit,
        "r4",
        70,
        "MailItemsAccessed",
    );
    a.workload = Workload::Mail;
    a.upn = Some("bruno@contoso.example".into());
    a.app_id = Some(AZURE_CLI.into());
    a.token_id = Some(TokenId::from_guid(guid(9)));
    a.ip = Some("203.0.113.7".parse().unwrap());
    out.push(a);
    // a5: SharePoint, no token, session 3 (its only sign-in failed), no IP.
    let mut a = access(4, AccessSource::SharePointAudit, "r5", 95, "FileAccessed");
    a.workload = Workload::Files;
    a.upn = Some("bruno@contoso.example".into());
    a.session_id = Some(sid(3));
    out.push(a);
    // a6: Graph, app-only by the backup app.
    let mut a = access(
        5,
        AccessSource::GraphActivity,
        "r6",
        101,
        "GET /users/{id}/messages",
    );
    a.actor = Actor::AppOnly;
    a.workload = Workload::Mail;
    a.service_principal_id = Some(BACKUP_SP.into());
    a.app_id = Some(BACKUP_APP.into());
    a.token_id = Some(TokenId::from_guid(guid(6)));
    a.ip = Some("20.119.170.202".parse().unwrap());
    a.client_auth_method = Some(ClientAuthMethod::Certificate);
    out.push(a);
    out
}

/// The header used for fixture reports.
pub fn fixture_run() -> RunInfo {
    RunInfo {
        generated_at: Timestamp::parse("2024-03-10T09:30:00Z").unwrap(),
        inputs: vec![InputFile {
            name: "fixture.json".into(),
            records: 15,
            unreadable: 0,
            shapes: [("log-analytics-sign-in".to_string(), 6u64)]
                .into_iter()
                .chain([("log-analytics-graph-activity".to_string(), 4u64)])
                .chain([("ual-record".to_string(), 3u64)])
                .collect(),
        }],
    }
}

/// A simulated tenant, 30 users x 3 days, seed 7, every attack: generated once per test run,
/// into cargo's temporary folder for this package's tests, one folder per test binary (cargo
/// runs the binaries one after another). A temporary directory in a static is never dropped:
/// each run would leave its 24 MB in the system's temporary folder.
pub fn tenant() -> &'static Path {
    static TENANT: OnceLock<PathBuf> = OnceLock::new();
    TENANT.get_or_init(|| {
        let binary = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            // Without the hash cargo adds, so a rebuilt binary uses the same folder.
            .map(|stem| {
                stem.rsplit_once('-')
                    .map_or(stem.clone(), |(name, _)| name.to_string())
            })
            .unwrap_or_else(|| "posture".to_string());
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{binary}-tenant"));
        // A tenant an older simulator left is not this run's.
        let _ = std::fs::remove_dir_all(&dir);
        let cfg = tokentrail_sim::SimConfig {
            users: 30,
            days: 3,
            seed: 7,
            start: tokentrail_sim::SimConfig::default_start(),
            out: dir.clone(),
            attacks: tokentrail_model::AttackKind::ALL.to_vec(),
            formats: tokentrail_sim::Formats::default(),
            profile: tokentrail_sim::Profile::Default,
        };
        tokentrail_sim::simulate(&cfg).unwrap();
        dir
    })
}

/// Every data file of the tenant (labels and summary left out), sorted, relative to it.
pub fn tenant_files() -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if p.parent() != Some(root) {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let root = tenant();
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Read `files` (relative to the tenant) through the real readers into two callbacks.
pub fn read_tenant(
    files: &[PathBuf],
    on_sign_in: &mut dyn FnMut(&SignIn),
    on_access: &mut dyn FnMut(&Access),
) -> RunInfo {
    read_tenant_fields(files, Fields::All, on_sign_in, on_access)
}

/// [`read_tenant`], building only `fields` of each record.
pub fn read_tenant_fields(
    files: &[PathBuf],
    fields: Fields,
    on_sign_in: &mut dyn FnMut(&SignIn),
    on_access: &mut dyn FnMut(&Access),
) -> RunInfo {
    let root = tenant();
    let paths: Vec<PathBuf> = files.iter().map(|f| root.join(f)).collect();
    let opts = tokentrail_ingest::ReadOptions {
        decode: tokentrail_ingest::DecodeOptions {
            fields,
            ..tokentrail_ingest::DecodeOptions::default()
        },
        drop_duplicate_sign_ins: false,
        ..tokentrail_ingest::ReadOptions::default()
    };
    let report = tokentrail_ingest::read_paths(&paths, &opts, &mut |r| match &r.event {
        tokentrail_ingest::Decoded::SignIn(s) => on_sign_in(s),
        tokentrail_ingest::Decoded::Access(a) => on_access(a),
        tokentrail_ingest::Decoded::Other(_) => {}
    });
    assert_eq!(report.totals.unreadable, 0);
    RunInfo {
        generated_at: Timestamp::parse("2024-03-10T00:00:00Z").unwrap(),
        inputs: report
            .files
            .iter()
            .map(|f| InputFile {
                name: Path::new(&*f.file)
                    .strip_prefix(root)
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_else(|_| f.file.to_string()),
                records: f.records,
                unreadable: f.unreadable,
                shapes: Default::default(),
            })
            .collect(),
    }
}
