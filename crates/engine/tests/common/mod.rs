//! Builders for hand-made sign-ins and accesses, and a tiny tenant to put them in.
#![allow(dead_code)]

use std::net::IpAddr;
use std::sync::Arc;

use tokentrail_engine::{Detection, Engine, EngineConfig};
use tokentrail_model::{
    Access, AccessSource, Actor, ClientAuthMethod, Guid, Position, SessionId, SignIn, SignInKind,
    SourceRef, Timestamp, TokenId, Workload,
};

/// Alice, the victim in most fixtures.
pub const ALICE_ID: &str = "aaaaaaaa-0000-4000-8000-000000000001";
/// Alice's UPN.
pub const ALICE: &str = "alice@contoso.example";
/// Bob: background activity that keeps the sign-in logs covered.
pub const BOB_ID: &str = "bbbbbbbb-0000-4000-8000-000000000002";
/// Bob's UPN.
pub const BOB: &str = "bob@contoso.example";

/// Outlook mobile (first party, FOCI).
pub const OUTLOOK: &str = "27922004-5251-4030-b22d-91ecd9a37ea4";
/// Microsoft Office (first party, FOCI).
pub const OFFICE: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
/// Azure CLI (tooling client).
pub const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
/// A third-party client nobody in the tenant uses.
pub const SHADY_APP: &str = "5ad5ad00-1111-4222-8333-444455556666";
/// A line-of-business app used by the whole tenant.
pub const LOB_APP: &str = "10b10b00-1111-4222-8333-444455556666";

/// Alice's home ISP (IPv4 and IPv6 in one ASN).
pub const HOME_ASN: u32 = 64500;
/// Home IPv4.
pub const HOME_V4: &str = "198.51.100.10";
/// Home IPv6.
pub const HOME_V6: &str = "2001:db8:a:1::10";
/// Alice's mobile carrier.
pub const CELL_ASN: u32 = 64510;
/// A cellular address.
pub const CELL_V4: &str = "192.0.2.77";
/// A hotel network abroad.
pub const HOTEL_ASN: u32 = 64520;
/// A hotel address.
pub const HOTEL_V4: &str = "198.18.5.20";
/// DigitalOcean (hosting).
pub const VPS_ASN: u32 = 14061;
/// The attacker's droplet.
pub const VPS_V4: &str = "203.0.113.66";
/// An Entra ID front door address (Microsoft published range 40.126.0.0/18).
pub const MS_V4: &str = "40.126.0.5";
/// Bob's office.
pub const OFFICE_ASN: u32 = 64530;
/// Bob's address.
pub const OFFICE_V4: &str = "100.64.8.8";

/// A time on the fixture day (2026-03-02), `HH:MM`.
pub fn at(hhmm: &str) -> Timestamp {
    Timestamp::parse(&format!("2026-03-02T{hhmm}:00Z")).unwrap()
}

/// A GUID from a small number (readable ids in snapshots).
pub fn guid(n: u128) -> Guid {
    Guid(0x1000_0000_0000_4000_8000_0000_0000_0000 | n)
}

/// The token id of the sign-in with id `guid(n)`, as an access logs it (base64url `uti`).
pub fn uti(n: u128) -> TokenId {
    TokenId::parse(&guid(n).to_uti()).unwrap()
}

/// A session id from a small number.
pub fn sid(n: u128) -> SessionId {
    SessionId::parse(&Guid(0x5e55_0000_0000_4000_8000_0000_0000_0000 | n).to_string()).unwrap()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn source(file: &str, line: u64) -> SourceRef {
    SourceRef {
        file: Arc::from(file),
        position: Position::Line(line),
    }
}

/// A sign-in under construction.
pub struct S(pub SignIn);

impl S {
    fn new(kind: SignInKind, n: u128, time: Timestamp) -> S {
        let line = u64::try_from(n).unwrap();
        let mut s = SignIn::new(source("signins.json", line), kind, time);
        s.id = Some(guid(n));
        s.user_id = Some(ALICE_ID.into());
        s.upn = Some(ALICE.into());
        s.app_id = Some(OUTLOOK.into());
        s.app_name = Some("Outlook Mobile".into());
        s.resource_id = Some("00000002-0000-0ff1-ce00-000000000000".into());
        s.resource_name = Some("Office 365 Exchange Online".into());
        s.error_code = Some(0);
        S(s)
    }
    /// An interactive sign-in with id `guid(n)`.
    pub fn interactive(n: u128, time: Timestamp) -> S {
        S::new(SignInKind::Interactive, n, time)
    }
    /// A non-interactive sign-in with id `guid(n)`.
    pub fn non_interactive(n: u128, time: Timestamp) -> S {
        S::new(SignInKind::NonInteractive, n, time)
    }
    /// A UAL `UserLoggedIn` record with id `guid(n)`.
    pub fn ual_logon(n: u128, time: Timestamp) -> S {
        S::new(SignInKind::UalLogon, n, time)
    }
    /// Acting for Bob.
    pub fn bob(mut self) -> S {
        self.0.user_id = Some(BOB_ID.into());
        self.0.upn = Some(BOB.into());
        self
    }
    /// From `ip`, logged with `asn`.
    pub fn from(mut self, addr: &str, asn: Option<u32>) -> S {
        self.0.ip = Some(ip(addr));
        self.0.asn = asn;
        self
    }
    /// In session `sid(n)`.
    pub fn session(mut self, n: u128) -> S {
        self.0.session_id = Some(sid(n));
        self
    }
    /// By client `app`.
    pub fn app(mut self, app: &str) -> S {
        self.0.app_id = Some(app.into());
        self.0.app_name = None;
        self
    }
    /// On device `id`, managed and compliant as given.
    pub fn device(mut self, id: &str, managed: bool, compliant: bool) -> S {
        self.0.device.id = Some(id.into());
        self.0.device.is_managed = Some(managed);
        self.0.device.is_compliant = Some(compliant);
        self
    }
    /// With user agent `agent`, located in `country`.
    pub fn agent(mut self, agent: &str, country: &str) -> S {
        self.0.user_agent = Some(agent.into());
        self.0.country = Some(country.into());
        self
    }
    /// A primary refresh token was redeemed.
    pub fn prt(mut self) -> S {
        self.0.incoming_token_type = Some("primaryRefreshToken".into());
        self
    }
    /// A confidential client (client secret).
    pub fn confidential(mut self) -> S {
        self.0.client_credential_type = Some("clientSecret".into());
        self
    }
    /// Through the device code flow.
    pub fn device_code(mut self) -> S {
        self.0.auth_protocol = Some("deviceCode".into());
        self.0.transfer_method = Some("deviceCodeFlow".into());
        self
    }
    /// Failed with `code`.
    pub fn failed(mut self, code: i64) -> S {
        self.0.error_code = Some(code);
        self
    }
    /// Done.
    pub fn build(self) -> SignIn {
        self.0
    }
}

/// An access under construction.
pub struct A(pub Access);

impl A {
    fn new(log: AccessSource, n: u64, time: Timestamp, op: &str, workload: Workload) -> A {
        let mut a = Access::new(source("activity.json", n), log, time, op.into());
        a.record_id = Some(format!("rec-{n:04}"));
        a.workload = workload;
        a.actor = Actor::Delegated;
        a.user_id = Some(ALICE_ID.into());
        a.upn = Some(ALICE.into());
        a.app_id = Some(OUTLOOK.into());
        A(a)
    }
    /// An Exchange MailItemsAccessed record number `n`.
    pub fn mail(n: u64, time: Timestamp) -> A {
        let mut a = A::new(
            AccessSource::ExchangeAudit,
            n,
            time,
            "MailItemsAccessed",
            Workload::Mail,
        );
        a.0.resource_id = Some("00000002-0000-0ff1-ce00-000000000000".into());
        a
    }
    /// A SharePoint FileDownloaded record number `n`.
    pub fn file(n: u64, time: Timestamp) -> A {
        A::new(
            AccessSource::SharePointAudit,
            n,
            time,
            "FileDownloaded",
            Workload::Files,
        )
    }
    /// A Graph `GET /me` row number `n`.
    pub fn graph_me(n: u64, time: Timestamp) -> A {
        A::new(
            AccessSource::GraphActivity,
            n,
            time,
            "GET /v1.0/me",
            Workload::Other,
        )
    }
    /// Acting for Bob.
    pub fn bob(mut self) -> A {
        self.0.user_id = Some(BOB_ID.into());
        self.0.upn = Some(BOB.into());
        self
    }
    /// From `ip`.
    pub fn from(mut self, addr: &str) -> A {
        self.0.ip = Some(ip(addr));
        self
    }
    /// Using the token issued by sign-in `guid(n)`.
    pub fn token(mut self, n: u128) -> A {
        self.0.token_id = Some(uti(n));
        self
    }
    /// In session `sid(n)`.
    pub fn session(mut self, n: u128) -> A {
        self.0.session_id = Some(sid(n));
        self
    }
    /// By client `app`.
    pub fn app(mut self, app: &str) -> A {
        self.0.app_id = Some(app.into());
        self
    }
    /// Token issued at `t`.
    pub fn issued(mut self, t: Timestamp) -> A {
        self.0.token_issued_at = Some(t);
        self
    }
    /// The token claims device `id`.
    pub fn device(mut self, id: &str) -> A {
        self.0.device_id = Some(id.into());
        self
    }
    /// By a confidential client (Graph `ClientAuthMethod` 1).
    pub fn confidential(mut self) -> A {
        self.0.client_auth_method = Some(ClientAuthMethod::Secret);
        self
    }
    /// App-only: service principal `sp`, no user.
    pub fn app_only(mut self, sp: &str) -> A {
        self.0.actor = Actor::AppOnly;
        self.0.user_id = None;
        self.0.upn = None;
        self.0.service_principal_id = Some(sp.into());
        self.0.client_auth_method = Some(ClientAuthMethod::Certificate);
        self
    }
    /// Strip the token and session ids.
    pub fn unlinked(mut self) -> A {
        self.0.token_id = None;
        self.0.session_id = None;
        self
    }
    /// Done.
    pub fn build(self) -> Access {
        self.0
    }
}

/// A time on 2026-03-01 (the day before the fixture day), `HH:MM`.
pub fn day_before(hhmm: &str) -> Timestamp {
    Timestamp::parse(&format!("2026-03-01T{hhmm}:00Z")).unwrap()
}

/// Bob's two days, 2026-03-01 06:00 to 2026-03-03 06:00: an interactive sign-in and a
/// non-interactive refresh every hour from his office. They keep both sign-in logs covered
/// and must themselves raise nothing.
pub fn background() -> Vec<SignIn> {
    let start = Timestamp::parse("2026-03-01T06:00:00Z").unwrap();
    (0..48u128)
        .flat_map(|h| {
            let t = start.plus_secs(i64::try_from(h).unwrap() * 3600);
            [
                S::interactive(1000 + h * 2, t)
                    .bob()
                    .from(OFFICE_V4, Some(OFFICE_ASN))
                    .session(900)
                    .build(),
                S::non_interactive(1001 + h * 2, t.plus_secs(1800))
                    .bob()
                    .from(OFFICE_V4, Some(OFFICE_ASN))
                    .session(900)
                    .build(),
            ]
        })
        .collect()
}

/// Run the engine over the records (plus [`background`]) with default settings.
pub fn detect(sign_ins: Vec<SignIn>, accesses: Vec<Access>) -> Detection {
    detect_with(EngineConfig::default(), sign_ins, accesses)
}

/// Run the engine with `config` over the records plus [`background`].
pub fn detect_with(
    config: EngineConfig,
    sign_ins: Vec<SignIn>,
    accesses: Vec<Access>,
) -> Detection {
    let mut engine = Engine::new(config);
    for s in background().into_iter().chain(sign_ins) {
        engine.add_sign_in(s);
    }
    for a in accesses {
        engine.add_access(a);
    }
    engine.finish()
}

/// `(rule, user, network, records)` of each active finding, for exact assertions.
pub fn summary(d: &Detection) -> Vec<(String, String, String, u64)> {
    d.findings
        .iter()
        .map(|f| {
            (
                f.rule.code().to_string(),
                f.upn.clone().unwrap_or_default(),
                f.network.map(|n| n.to_string()).unwrap_or_default(),
                f.accesses.iter().map(|e| e.records).sum(),
            )
        })
        .collect()
}

/// Microsoft's autonomous system (Azure public cloud and Microsoft 365 alike).
pub const MSFT_ASN: u32 = 8075;
/// An Azure virtual machine: AS8075, outside every published Microsoft 365 and Entra range.
pub const AZURE_VM_V4: &str = "20.55.14.200";
/// An Exchange Online address (published range 40.96.0.0/13), AS8075.
pub const EXCHANGE_V4: &str = "40.97.1.1";

/// A time on 2026-02-28 (two days before the fixture day), `HH:MM`.
pub fn two_days_before(hhmm: &str) -> Timestamp {
    Timestamp::parse(&format!("2026-02-28T{hhmm}:00Z")).unwrap()
}
