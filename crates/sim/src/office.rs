//! The `small-office` profile: a tenant the engine does not get for free.
//!
//! Five to fifty people in one office, in a time zone of the Americas, with a weekly and daily
//! rhythm: interactive sign-ins on weekdays only, in office hours (local time); at night and at
//! weekends only phones refresh, and sparsely. What makes it hard:
//!
//! - **Laptops move between established networks with long-lived tokens.** A managed laptop
//!   signs in at home in the morning and carries its session to the office, or signs in at the
//!   office; its Outlook token (Continuous Access Evaluation: valid up to 28 hours) is used
//!   from wherever the laptop is, the evening at home and the next morning included, without a
//!   new sign-in there. On each person's first working day the laptop starts at home, so home
//!   and office are proven by the device before a token moves between them.
//! - **Unmanaged personal devices.** Some people read mail on a personal phone (no device id)
//!   whose Outlook session was signed in long before the export and only refreshes; some sign
//!   that phone in again during the export, at home in the evening, and then refresh over the
//!   carrier as much as over Wi-Fi (nothing proves a device Entra does not know); some work
//!   from home on a personal laptop in a browser.
//! - **A line-of-business client** that only two people use (an accounting app), every weekday.
//! - **Attackers that argue with the rules**: on Azure compute (AS8075 outside Microsoft's
//!   published ranges), on the first day, at night and at weekends, with tokens claiming the
//!   victim's device id, and one on a residential proxy in the victim's own ISP, labelled
//!   `expected_miss` (the documented blind spot of TT001 and TT002).
//!
//! Everything is deterministic in the seed, as the default profile is.

use tokentrail_model::{AttackKind, Guid, Label, SignInKind, Timestamp};

use crate::attack::{self, replay_for_mail_and_files, ReplayFrom, Span};
use crate::catalog::{self, App, NetDef};
use crate::life::{self, Day, DayContext, Issued};
use crate::record::{Batch, TokenUse};
use crate::rng::Rng;
use crate::tenant::{self, Device, Endpoint, Tenant, User};

const MIN: i64 = 60;
const HOUR: i64 = 3600;

/// The people a small office may have.
pub(crate) const MIN_PEOPLE: u32 = 5;
/// See [`MIN_PEOPLE`].
pub(crate) const MAX_PEOPLE: u32 = 50;

/// Offsets from UTC (hours) of the office's time zone: Pacific, Central, Eastern.
const OFFSETS: [i64; 3] = [-8, -6, -5];

/// Azure virtual machines: AS8075, outside every published Microsoft 365 and Entra range
/// (`20.55.0.0/16` and `2603:1030:c00::/48` overlap none of them; synthetic otherwise).
pub(crate) const AZURE_VM: NetDef = NetDef {
    name: "azure-vm-eastus",
    asn: 8075,
    v4: [20, 55],
    v6: [0x2603, 0x1030, 0x0c00],
    country: "US",
    state: "Virginia",
    city: "Boydton",
    lat: 36.6676,
    lon: -78.3875,
};

/// The accounting app two people use (a third-party client, synthetic id).
const BOOKS: App = App {
    id: Guid(0x7a1e5b00_4c2d_4e8f_9a01_b2c3d4e5f607),
    name: "Contoso Books",
};

/// The personal phone: Outlook on a phone Entra knows nothing about.
static PERSONAL_PHONE: Device = Device {
    id: None,
    name: String::new(),
    os: "Ios 17.3.1",
    browser: "",
    managed: false,
    compliant: false,
    trust: None,
};

/// The personal laptop: a browser on a machine Entra knows nothing about.
static PERSONAL_LAPTOP: Device = Device {
    id: None,
    name: String::new(),
    os: "Windows10",
    browser: "Chrome 122.0.0",
    managed: false,
    compliant: false,
    trust: None,
};

/// Which phone a person has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phone {
    None,
    /// Enrolled and compliant.
    Managed,
    /// Personal, unmanaged: no device id.
    Personal,
}

/// One person of the office, beyond what [`User`] holds.
#[derive(Clone, Debug)]
pub(crate) struct Person {
    /// A managed laptop (else a personal laptop, used from home).
    managed_laptop: bool,
    phone: Phone,
    /// Share of weekdays worked from home.
    remote_share: f64,
    /// Uses the accounting app.
    books: bool,
    /// The office's IPv6 address of the person's laptop.
    office_v6: Endpoint,
    /// The phone's Outlook session, signed in before the export began.
    phone_session: Guid,
    /// A personal phone signed in again during the export: on which day, how many seconds
    /// after local midnight, and its new session.
    phone_signs_in: Option<(u32, i64, Guid)>,
    /// The laptop's device id without any proof: what a stolen token claims.
    laptop_claim: Device,
}

/// The office: its people and networks. Built once from the seed.
pub(crate) struct Office {
    /// Local time is UTC plus this (seconds).
    offset_secs: i64,
    office: Vec<Endpoint>,
    people: Vec<Person>,
}

/// What carries over from one day to the next for one person.
#[derive(Clone, Debug, Default)]
pub(crate) struct State {
    /// The laptop's latest session, and its latest Outlook token with where it was issued.
    laptop: Option<Laptop>,
    /// True once the person has worked a day (the first working day starts at home).
    worked: bool,
}

#[derive(Clone, Debug)]
struct Laptop {
    ctx: DayContext,
    outlook: Option<TokenUse>,
    /// Where the laptop spent the working day.
    work_at: Endpoint,
}

/// Where a managed laptop's workday happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Workday {
    /// Signs in at home, then carries the session to the office.
    HomeThenOffice,
    /// Signs in at the office; home in the evening.
    Office,
    /// At home all day.
    Remote,
}

impl Office {
    pub(crate) fn build(seed: u64, tenant: &Tenant) -> Office {
        let mut rng = Rng::stream(seed, &[0x0ff1ce]);
        let offset = *rng.pick(&OFFSETS).unwrap_or(&-6);
        let office_net = &catalog::OFFICES[0];
        let office = (0..2)
            .map(|_| tenant::v4_in(office_net, &mut rng))
            .collect();
        let people = tenant
            .people()
            .iter()
            .map(|u| {
                let mut r = Rng::stream(seed, &[0x0ff1ce, u64::from(u.index)]);
                let managed_laptop = r.chance(0.85);
                let phone = match r.below(10) {
                    0..=1 => Phone::None,
                    2..=5 => Phone::Managed,
                    _ => Phone::Personal,
                };
                let remote_share = if managed_laptop {
                    *r.pick(&[0.0, 0.2, 0.4]).unwrap_or(&0.2)
                } else {
                    1.0
                };
                Person {
                    managed_laptop,
                    phone,
                    remote_share,
                    books: u.index < 2,
                    office_v6: tenant::v6_in(office_net, &mut r),
                    phone_session: r.guid(),
                    phone_signs_in: phone_signs_in(seed, u.index, phone),
                    laptop_claim: Device {
                        managed: false,
                        compliant: false,
                        trust: None,
                        ..u.laptop.clone()
                    },
                }
            })
            .collect();
        Office {
            offset_secs: offset * HOUR,
            office,
            people,
        }
    }

    /// Midnight, local time, of day `d` (as a UTC instant).
    pub(crate) fn midnight(&self, start: Timestamp, d: u32) -> Timestamp {
        start.plus_secs(i64::from(d) * 86_400 - self.offset_secs)
    }
}

/// Monday is 0 (of a local midnight given as its UTC instant, and the zone offset).
fn weekday(local_midnight: Timestamp, offset_secs: i64) -> i64 {
    ((local_midnight.secs() + offset_secs).div_euclid(86_400) + 3).rem_euclid(7)
}

/// One attack of the small-office plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Planned {
    /// An access token taken on the first day, replayed from an Azure VM, claiming the
    /// victim's device.
    FirstDayTokenFromAzure,
    /// The laptop session's refresh token replayed at night at the weekend from a VPS.
    WeekendNightReplay,
    /// Device-code phishing, the attacker polling from an Azure VM.
    DeviceCodeFromAzure,
    /// A token nobody saw issued, used at night.
    NightOrphanToken,
    /// A session with no interactive sign-in, at the weekend, from an Azure VM.
    WeekendRootlessFromAzure,
    /// Consent phishing in the evening.
    EveningUnapprovedClient,
    /// The session replayed from a residential proxy in the victim's own ISP: an expected
    /// miss.
    ResidentialProxyReplay,
}

impl Planned {
    const ALL: [Planned; 7] = [
        Planned::FirstDayTokenFromAzure,
        Planned::WeekendNightReplay,
        Planned::DeviceCodeFromAzure,
        Planned::NightOrphanToken,
        Planned::WeekendRootlessFromAzure,
        Planned::EveningUnapprovedClient,
        Planned::ResidentialProxyReplay,
    ];

    fn kind(self) -> AttackKind {
        match self {
            Planned::FirstDayTokenFromAzure => AttackKind::StolenAccessToken,
            Planned::WeekendNightReplay | Planned::ResidentialProxyReplay => {
                AttackKind::SessionReplay
            }
            Planned::DeviceCodeFromAzure => AttackKind::DeviceCodePhish,
            Planned::NightOrphanToken => AttackKind::OrphanToken,
            Planned::WeekendRootlessFromAzure => AttackKind::NoInteractiveRoot,
            Planned::EveningUnapprovedClient => AttackKind::UnapprovedClient,
        }
    }

    /// Needs the victim's managed laptop session.
    fn needs_laptop(self) -> bool {
        matches!(
            self,
            Planned::FirstDayTokenFromAzure
                | Planned::WeekendNightReplay
                | Planned::ResidentialProxyReplay
        )
    }
}

/// The small office's attacks: one of each [`Planned`] whose kind was asked for, on days that
/// fit it (the first day; a weekend night; a weekend day; weekday nights and evenings), each
/// on its own victim while people last. Returns (day, person, attack).
pub(crate) fn plan(
    seed: u64,
    office: &Office,
    start: Timestamp,
    days: u32,
    kinds: &[AttackKind],
) -> Vec<(u32, u32, Planned)> {
    let mut rng = Rng::stream(seed, &[0x0ff1ce, 0xa77ac]);
    let wd = |d: u32| weekday(office.midnight(start, d), office.offset_secs);
    let weekdays: Vec<u32> = (1..days).filter(|&d| wd(d) < 5).collect();
    let first_day = |want: &dyn Fn(i64) -> bool| (1..days).find(|&d| want(wd(d)));
    let last = days.saturating_sub(1);
    let pick_weekday = |rng: &mut Rng| rng.pick(&weekdays).copied().unwrap_or(last);
    let people = office.people.len() as u32;
    let mut order: Vec<u32> = (0..people).collect();
    for i in (1..order.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let laptops: Vec<u32> = order
        .iter()
        .copied()
        .filter(|&p| {
            office
                .people
                .get(p as usize)
                .is_some_and(|x| x.managed_laptop)
        })
        .collect();
    let (mut next_any, mut next_laptop) = (0usize, 0usize);
    let mut out = Vec::new();
    for planned in Planned::ALL {
        if !kinds.contains(&planned.kind()) {
            continue;
        }
        let day = match planned {
            Planned::FirstDayTokenFromAzure => 0,
            Planned::WeekendNightReplay => first_day(&|w| w == 5).unwrap_or(last),
            Planned::WeekendRootlessFromAzure => first_day(&|w| w == 6)
                .filter(|&d| d >= 2)
                .unwrap_or(last.max(1).min(last)),
            _ => pick_weekday(&mut rng),
        };
        let victim = if planned.needs_laptop() && !laptops.is_empty() {
            let v = laptops[next_laptop % laptops.len()];
            next_laptop += 1;
            v
        } else {
            let v = order[next_any % order.len().max(1)];
            next_any += 1;
            v
        };
        out.push((day, victim, planned));
    }
    out
}

/// Generate day `d` of the office: every person's day, the service principals', and the
/// attacks planned for it (their labels go to `label`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn office_day<'t>(
    seed: u64,
    tenant: &'t Tenant,
    office: &'t Office,
    states: &mut [State],
    plan: &[(u32, u32, Planned)],
    d: u32,
    midnight: Timestamp,
    batch: &mut Batch<'t>,
    seq: &mut u32,
    label: &mut dyn FnMut(Label),
) {
    let weekend = weekday(midnight, office.offset_secs) >= 5;
    for (user, person) in tenant.people().iter().zip(&office.people) {
        let Some(state) = states.get_mut(user.index as usize) else {
            continue;
        };
        let mut day = Day {
            tenant,
            batch,
            rng: Rng::stream(
                seed,
                &[0x0ff1ce, 0xda7, u64::from(user.index), u64::from(d)],
            ),
            midnight,
        };
        let attacks: Vec<Planned> = plan
            .iter()
            .filter(|(pd, pu, _)| *pd == d && *pu == user.index)
            .map(|p| p.2)
            .collect();
        person_day(&mut day, office, user, person, state, weekend, d);
        for planned in attacks {
            *seq += 1;
            if let Some(l) = inject(&mut day, office, user, person, state, planned, *seq) {
                label(l);
            }
        }
    }
    let mut day = Day {
        tenant,
        batch,
        rng: Rng::stream(seed, &[0x0ff1ce, 0x5e41ce, u64::from(d)]),
        midnight,
    };
    life::principals_day(&mut day);
}

fn person_day<'t>(
    day: &mut Day<'t, '_>,
    office: &'t Office,
    user: &'t User,
    person: &'t Person,
    state: &mut State,
    weekend: bool,
    d: u32,
) {
    // Yesterday's Outlook token, still alive (a CAE token lives up to 28 hours), read at home
    // early in the morning before any new sign-in.
    if person.managed_laptop && day.rng.chance(if weekend { 0.35 } else { 0.3 }) {
        if let Some(token) = state.laptop.as_ref().and_then(|l| l.outlook) {
            let jitter = day.rng.range(0, 40) * MIN;
            let t = day.at(6 * HOUR + 30 * MIN + jitter);
            if t.secs() - token.issued_at.secs() < 27 * HOUR {
                outlook_reads(day, user, token, user.home, t, 2);
            }
        }
    }
    if !weekend {
        if person.managed_laptop {
            let mode = if !state.worked || day.rng.chance(person.remote_share) {
                if state.worked {
                    Workday::Remote
                } else {
                    Workday::HomeThenOffice
                }
            } else if day.rng.chance(0.4) {
                Workday::HomeThenOffice
            } else {
                Workday::Office
            };
            let laptop = laptop_day(day, office, user, person, mode);
            state.laptop = Some(laptop);
        } else {
            personal_laptop_day(day, user);
        }
        if person.books {
            books_day(day, user, state.laptop.as_ref());
        }
        state.worked = true;
    }
    if person.phone != Phone::None {
        phone_day(day, office, user, person, weekend, d);
    }
}

/// The managed laptop's workday; returns its session and its last Outlook token.
fn laptop_day<'t>(
    day: &mut Day<'t, '_>,
    office: &'t Office,
    user: &'t User,
    person: &'t Person,
    mode: Workday,
) -> Laptop {
    let office_at = *day.rng.pick(&office.office).unwrap_or(&user.home);
    let (start_at, start_v6, start) = match mode {
        Workday::Office => (
            office_at,
            person.office_v6,
            8 * HOUR + day.rng.range(10, 55) * MIN,
        ),
        _ => (
            user.home,
            user.home_v6,
            7 * HOUR + day.rng.range(0, 50) * MIN,
        ),
    };
    let session = day.rng.guid();
    let root_time = day.at(start);
    let device = Some(&user.laptop);
    let mut root = day.user_sign_in(
        SignInKind::Interactive,
        user,
        root_time,
        catalog::WINDOWS_SIGN_IN,
        catalog::AAD,
        start_at,
        device,
        Some(session),
    );
    root.binding = "bound";
    root.client_app_used = "Mobile Apps and Desktop clients";
    root.user_agent = "Windows-AzureAD-Authentication-Provider/1.0";
    day.logon_record(&root, user);
    day.push_sign_in(root);
    let mut ctx = DayContext {
        session: Some(session),
        root_time: Some(root_time),
        root_at: Some(start_at),
        tokens: Vec::new(),
    };
    // The morning's tokens where the session began.
    let mut t = start + 2 * MIN;
    let mut outlook = refresh(day, user, &mut ctx, t, client(0), start_at, start_v6);
    t += 2 * MIN;
    for k in 1..4 {
        refresh(day, user, &mut ctx, t, client(k), start_at, start_v6);
        t += MIN;
    }
    let (work_at, work_v6) = if mode == Workday::Remote {
        (user.home, user.home_v6)
    } else {
        (office_at, person.office_v6)
    };
    if mode == Workday::HomeThenOffice {
        // Read mail at home for a while, then commute: the Outlook token keeps working at
        // the office; the other clients refresh there (the laptop proves itself again).
        let when = day.at(t);
        outlook_reads(day, user, outlook, start_at, when, 3);
        t = 9 * HOUR + day.rng.range(0, 30) * MIN;
        for k in 1..4 {
            refresh(day, user, &mut ctx, t, client(k), work_at, work_v6);
            t += MIN;
        }
    }
    // The working day: mail with the long-lived Outlook token, a new one after lunch;
    // Teams, OneDrive and Office refresh every hour or so.
    let end = 17 * HOUR + day.rng.range(0, 60) * MIN;
    let lunch = 13 * HOUR + day.rng.range(0, 30) * MIN;
    let mut renewed = false;
    while t < end {
        if !renewed && t >= lunch {
            outlook = refresh(day, user, &mut ctx, t, client(0), work_at, work_v6);
            renewed = true;
        } else {
            let k = 1 + day.rng.below(3) as usize;
            refresh(day, user, &mut ctx, t, client(k), work_at, work_v6);
        }
        let when = day.at(t + 5 * MIN);
        outlook_reads(day, user, outlook, work_at, when, 2);
        t += day.rng.range(35, 80) * MIN;
    }
    // The evening at home: the same Outlook token, no new sign-in.
    if mode != Workday::Remote && day.rng.chance(0.65) {
        let jitter = day.rng.range(0, 150) * MIN;
        let when = day.at(19 * HOUR + jitter);
        outlook_reads(day, user, outlook, user.home, when, 3);
    }
    Laptop {
        ctx,
        outlook: Some(outlook),
        work_at,
    }
}

/// The laptop's clients: (app, resource, user agent).
fn client(k: usize) -> (App, App, &'static str) {
    match k {
        0 => (
            catalog::MICROSOFT_OFFICE,
            catalog::EXCHANGE,
            catalog::UA_OFFICE_WINDOWS,
        ),
        1 => (catalog::TEAMS, catalog::GRAPH, catalog::UA_TEAMS),
        2 => (
            catalog::ONEDRIVE_SYNC,
            catalog::SHAREPOINT,
            catalog::UA_ONEDRIVE,
        ),
        _ => (
            catalog::MICROSOFT_OFFICE,
            catalog::GRAPH,
            catalog::UA_OFFICE_WINDOWS,
        ),
    }
}

/// A PRT redemption by the laptop for `client`, and the token's first uses (not Outlook's:
/// see [`outlook_reads`]).
fn refresh<'t>(
    day: &mut Day<'t, '_>,
    user: &'t User,
    ctx: &mut DayContext,
    secs: i64,
    client: (App, App, &'static str),
    v4: Endpoint,
    v6: Endpoint,
) -> TokenUse {
    let (app, resource, ua) = client;
    let at = if day.rng.chance(0.3) { v6 } else { v4 };
    let when = day.at(secs);
    let mut r = day.user_sign_in(
        SignInKind::NonInteractive,
        user,
        when,
        app,
        resource,
        at,
        Some(&user.laptop),
        ctx.session,
    );
    r.incoming = "primaryRefreshToken";
    r.binding = "bound";
    r.user_agent = ua;
    let token = day.push_sign_in(r);
    ctx.tokens.push(Issued {
        token,
        app,
        resource,
        at,
    });
    for _ in 0..day.rng.range(1, 4) {
        let t = token.issued_at.plus_secs(day.rng.range(5, 1500));
        let ip = if day.rng.chance(0.5) { v4.ip } else { v6.ip };
        if resource == catalog::SHAREPOINT {
            let onedrive = day.rng.chance(0.5);
            day.file_access(
                t,
                user,
                (ip, ua),
                app,
                Some(token),
                "FileAccessed",
                onedrive,
                Some(true),
            );
        } else if resource == catalog::GRAPH {
            let uri = *day
                .rng
                .pick(&[
                    "https://graph.microsoft.com/v1.0/me/chats",
                    "https://graph.microsoft.com/v1.0/me/drive/recent",
                    "https://graph.microsoft.com/v1.0/me/events?$top=10",
                ])
                .unwrap_or(&"https://graph.microsoft.com/v1.0/me");
            day.graph_call(
                t,
                Some(user),
                None,
                app,
                token,
                ip,
                ("GET", uri.to_string()),
                (
                    ua,
                    0,
                    "Calendars.ReadWrite Chat.ReadWrite Files.ReadWrite.All User.Read",
                    "",
                ),
                user.laptop.id,
            );
        }
    }
    token
}

/// Outlook on the laptop reading mail with `token` from `at`, `n` times around `when`.
fn outlook_reads<'t>(
    day: &mut Day<'t, '_>,
    user: &'t User,
    token: TokenUse,
    at: Endpoint,
    when: Timestamp,
    n: i64,
) {
    for k in 0..day.rng.range(1, n + 1) {
        let t = when.plus_secs(k * day.rng.range(60, 600));
        let sync = day.rng.chance(0.6);
        day.mail_access(
            t,
            user,
            at.ip,
            catalog::MICROSOFT_OFFICE,
            catalog::EXCHANGE,
            Some(token),
            if sync { "Sync" } else { "Bind" },
            "Client=MSExchangeRPC;Version=16.0.17328.20142",
            user.laptop.id,
        );
    }
}

/// A personal laptop at home: a browser signs in to Outlook on the web and the Office home
/// page, refreshes its tokens, and reads mail and files. Nothing proves the device.
fn personal_laptop_day<'t>(day: &mut Day<'t, '_>, user: &'t User) {
    let start = 8 * HOUR + day.rng.range(0, 60) * MIN;
    let session = day.rng.guid();
    let when = day.at(start);
    let mut root = day.user_sign_in(
        SignInKind::Interactive,
        user,
        when,
        catalog::OWA,
        catalog::EXCHANGE,
        user.home,
        Some(&PERSONAL_LAPTOP),
        Some(session),
    );
    root.user_agent = catalog::UA_EDGE_WINDOWS;
    day.logon_record(&root, user);
    let first = day.push_sign_in(root);
    let mut tokens = vec![(first, catalog::OWA, catalog::EXCHANGE)];
    let mut t = start + 20 * MIN;
    while t < 17 * HOUR {
        let (app, resource) = if day.rng.chance(0.5) {
            (catalog::OFFICE_HOME, catalog::SHAREPOINT)
        } else {
            (catalog::OWA, catalog::EXCHANGE)
        };
        let when = day.at(t);
        let mut r = day.user_sign_in(
            SignInKind::NonInteractive,
            user,
            when,
            app,
            resource,
            user.home,
            Some(&PERSONAL_LAPTOP),
            Some(session),
        );
        r.user_agent = catalog::UA_EDGE_WINDOWS;
        r.client_app_used = "Browser";
        r.incoming = "none";
        tokens.push((day.push_sign_in(r), app, resource));
        t += day.rng.range(45, 120) * MIN;
    }
    life::browser_reads(
        day,
        user,
        &tokens,
        life::BrowserUse {
            user_agent: catalog::UA_EDGE_WINDOWS,
            file_operation: "FileAccessed",
            within_secs: 900,
        },
    );
}

/// The accounting app, signed in to in a browser on the laptop where the person works, then
/// reading and writing the finance site's files through Graph.
fn books_day<'t>(day: &mut Day<'t, '_>, user: &'t User, laptop: Option<&Laptop>) {
    let at = laptop.map_or(user.home, |l| l.work_at);
    let start = 10 * HOUR + day.rng.range(0, 240) * MIN;
    let session = day.rng.guid();
    let when = day.at(start);
    let mut root = day.user_sign_in(
        SignInKind::Interactive,
        user,
        when,
        BOOKS,
        catalog::GRAPH,
        at,
        Some(&user.laptop),
        Some(session),
    );
    root.protocol = "oAuth2";
    root.user_agent = catalog::UA_EDGE_WINDOWS;
    day.logon_record(&root, user);
    let token = day.push_sign_in(root);
    for k in 0..day.rng.range(3, 8) {
        let uri = if k % 2 == 0 {
            "https://graph.microsoft.com/v1.0/sites/root/drive/root:/Finance:/children"
        } else {
            "https://graph.microsoft.com/v1.0/me/drive/root/children"
        };
        let when = token.issued_at.plus_secs(30 + k * day.rng.range(20, 300));
        day.graph_call(
            when,
            Some(user),
            None,
            BOOKS,
            token,
            at.ip,
            ("GET", uri.to_string()),
            (
                catalog::UA_EDGE_WINDOWS,
                0,
                "Files.ReadWrite.All User.Read",
                "",
            ),
            user.laptop.id,
        );
    }
}

/// Half of the personal phones sign in again on one of the export's first days, in the evening
/// (a new phone, or Outlook signed out). Drawn from a stream of its own, so every other record
/// of the tenant stays what it was.
fn phone_signs_in(seed: u64, index: u32, phone: Phone) -> Option<(u32, i64, Guid)> {
    let mut r = Rng::stream(seed, &[0x0ff1ce, u64::from(index), 0x9e0]);
    (phone == Phone::Personal && r.chance(0.5)).then(|| {
        let day = 1 + r.below(3) as u32;
        let secs = 19 * HOUR + r.range(0, 60) * MIN;
        (day, secs, r.guid())
    })
}

/// The phone: its Outlook session was signed in long before the export and only refreshes,
/// from home Wi-Fi, the carrier and the office Wi-Fi; sparse at night and at weekends. Mail
/// sync comes from Exchange Online's own servers; previews from the phone itself, right after
/// the refresh that gave it its token.
fn phone_day<'t>(
    day: &mut Day<'t, '_>,
    office: &'t Office,
    user: &'t User,
    person: &'t Person,
    weekend: bool,
    d: u32,
) {
    let device = match (person.phone, user.phone.as_ref()) {
        (Phone::None, _) => return,
        (Phone::Managed, Some(phone)) => Some(phone),
        // A phone the tenant never enrolled is a personal one.
        (Phone::Managed | Phone::Personal, _) => Some(&PERSONAL_PHONE),
    };
    let mut times: Vec<i64> = Vec::new();
    // Nights: now and then a background refresh.
    for _ in 0..day.rng.range(0, 3) {
        times.push(day.rng.range(0, 6 * 60) * MIN);
    }
    // The first morning of the export always has one, so the session is seen from its start.
    if d == 0 {
        times.push(6 * HOUR + day.rng.range(0, 30) * MIN);
    }
    let (from, to, gap) = if weekend {
        (9 * HOUR, 22 * HOUR, (90, 240))
    } else {
        (6 * HOUR + 30 * MIN, 23 * HOUR, (30, 90))
    };
    let mut t = from + day.rng.range(0, 40) * MIN;
    while t < to {
        times.push(t);
        t += day.rng.range(gap.0, gap.1) * MIN;
    }
    times.sort_unstable();
    // The new sign-in comes from home: from then on the phone refreshes in its new session.
    let signs_in = person.phone_signs_in.filter(|&(day_k, _, _)| d >= day_k);
    if let Some((_, secs, session)) = signs_in.filter(|&(day_k, _, _)| d == day_k) {
        let when = day.at(secs);
        life::phone_signs_in_at_home(day, user, when, device, session);
    }
    for secs in times {
        let hour = secs / HOUR;
        let at = if !weekend && (9..17).contains(&hour) && day.rng.chance(0.6) {
            *day.rng.pick(&office.office).unwrap_or(&user.home)
        } else if day.rng.chance(0.65) {
            if day.rng.chance(0.3) {
                user.home_v6
            } else {
                user.home
            }
        } else if day.rng.chance(0.4) {
            tenant::v6_in(user.carrier, &mut day.rng)
        } else {
            tenant::v4_in(user.carrier, &mut day.rng)
        };
        let resource = if day.rng.chance(0.85) {
            catalog::EXCHANGE
        } else {
            catalog::SHAREPOINT
        };
        let when = day.at(secs);
        let mut r = day.user_sign_in(
            SignInKind::NonInteractive,
            user,
            when,
            catalog::OUTLOOK_MOBILE,
            resource,
            at,
            device,
            Some(match signs_in {
                Some((day_k, at_secs, session)) if d > day_k || secs > at_secs => session,
                _ => person.phone_session,
            }),
        );
        r.user_agent = catalog::UA_OUTLOOK_IOS;
        let token = day.push_sign_in(r);
        if resource == catalog::EXCHANGE {
            let ms = tenant::v4_in(&catalog::MS_EXCHANGE, &mut day.rng);
            for j in 0..1 + day.rng.below(3) as i64 {
                let when = token.issued_at.plus_secs(j * 7);
                day.mail_access(
                    when,
                    user,
                    ms.ip,
                    catalog::OUTLOOK_MOBILE,
                    catalog::EXCHANGE,
                    Some(token),
                    "Sync",
                    "Client=OutlookService;Outlook-iOS/2.0;",
                    device.and_then(|x| x.id),
                );
            }
        } else {
            let when = token.issued_at.plus_secs(day.rng.range(2, 60));
            day.file_access(
                when,
                user,
                (at.ip, catalog::UA_OUTLOOK_IOS),
                catalog::OUTLOOK_MOBILE,
                Some(token),
                "FilePreviewed",
                true,
                device.map(|x| x.managed),
            );
        }
    }
}

/// A time `base` seconds after local midnight, plus up to `spread` minutes.
fn around(day: &mut Day<'_, '_>, base: i64, spread: i64) -> Timestamp {
    let jitter = day.rng.range(0, spread) * MIN;
    day.at(base + jitter)
}

fn azure(day: &mut Day<'_, '_>) -> Endpoint {
    tenant::v4_in(&AZURE_VM, &mut day.rng)
}

fn vps(day: &mut Day<'_, '_>) -> Endpoint {
    let net = day
        .rng
        .pick(&catalog::HOSTING)
        .unwrap_or(&catalog::HOSTING[0]);
    tenant::v4_in(net, &mut day.rng)
}

/// Inject one planned attack into the victim's day.
fn inject<'t>(
    day: &mut Day<'t, '_>,
    office: &'t Office,
    victim: &'t User,
    person: &'t Person,
    state: &State,
    planned: Planned,
    seq: u32,
) -> Option<Label> {
    let mut span = Span::new();
    let (tokens, session, description) = match planned {
        Planned::FirstDayTokenFromAzure => {
            first_day_token(day, victim, state.laptop.as_ref()?, &mut span)?
        }
        Planned::WeekendNightReplay => {
            let ctx = &state.laptop.as_ref()?.ctx;
            let at = vps(day);
            let when = around(day, 2 * HOUR, 120);
            replay(
                day,
                victim,
                ctx.session?,
                at,
                when,
                Some(&person.laptop_claim),
                &mut span,
            )?
        }
        Planned::ResidentialProxyReplay => {
            let ctx = &state.laptop.as_ref()?.ctx;
            let at = tenant::v4_in(victim.home.net, &mut day.rng);
            let when = around(day, 21 * HOUR, 90);
            replay(day, victim, ctx.session?, at, when, None, &mut span)?
        }
        Planned::DeviceCodeFromAzure => device_code(day, office, victim, state, &mut span),
        Planned::NightOrphanToken => orphan(day, victim, &mut span),
        Planned::WeekendRootlessFromAzure => rootless(day, victim, &mut span),
        Planned::EveningUnapprovedClient => {
            let victim_at = state.laptop.as_ref().map_or(victim.home, |l| l.work_at);
            consent(day, victim, victim_at, &mut span)
        }
    };
    let kind = planned.kind();
    let mut expected_rules = attack::expected_rules(kind);
    if planned == Planned::ResidentialProxyReplay {
        // From a network the session started on (or one established for the user), the
        // replay is indistinguishable from the user: a documented blind spot of TT001/TT002.
        expected_rules = vec![tokentrail_engine::rules::tt002::ID];
    }
    Some(Label {
        id: format!("atk-{seq:04}"),
        kind,
        expected_rules,
        user: victim.upn.clone(),
        user_id: victim.id.to_string(),
        session_id: session.map(|s| s.to_string()),
        token_ids: tokens.iter().map(|g| g.to_string()).collect(),
        start: span.start?,
        end: span.end?,
        description,
        expected_miss: planned == Planned::ResidentialProxyReplay,
    })
}

type Injected = (Vec<Guid>, Option<Guid>, String);

/// On the first day, the laptop's Office token for Graph, lifted and replayed from an Azure
/// VM within hours, claiming the victim's device.
fn first_day_token<'t>(
    day: &mut Day<'t, '_>,
    victim: &'t User,
    laptop: &Laptop,
    span: &mut Span,
) -> Option<Injected> {
    let stolen = laptop
        .ctx
        .tokens
        .iter()
        .find(|t| t.app == catalog::MICROSOFT_OFFICE && t.resource == catalog::GRAPH)
        .copied()?;
    let at = azure(day);
    let first = stolen
        .token
        .issued_at
        .plus_secs(day.rng.range(30, 150) * MIN);
    attack::replay_token(day, victim, stolen, at, first, span);
    Some((
        vec![stolen.token.token],
        stolen.token.session,
        format!(
            "On the first day of the export, the laptop's Microsoft Office token for Graph (issued on AS{}) was replayed from an Azure VM ({}, AS8075 outside Microsoft's published ranges), claiming the laptop's device id.",
            stolen.at.net.asn, at.ip
        ),
    ))
}

/// The laptop session's refresh token redeemed from `at` (a VPS at night, or a residential
/// proxy), then mail and files read there.
fn replay<'t>(
    day: &mut Day<'t, '_>,
    victim: &'t User,
    session: Guid,
    at: Endpoint,
    when: Timestamp,
    claim: Option<&'t Device>,
    span: &mut Span,
) -> Option<Injected> {
    let from = ReplayFrom {
        at,
        session,
        app: catalog::MICROSOFT_OFFICE,
        start: when,
        files_delay_secs: (60, 400),
        device: claim,
    };
    let tokens = replay_for_mail_and_files(day, victim, from, span);
    Some((
        tokens,
        Some(session),
        format!(
            "The laptop session's refresh token was redeemed from {} ({}, AS{}){} and mail and files were read.",
            at.ip,
            at.net.name,
            at.net.asn,
            if claim.is_some() {
                ", claiming the laptop's device id without proof,"
            } else {
                ""
            }
        ),
    ))
}

/// Device-code phishing in the afternoon; the attacker polls from an Azure VM.
fn device_code<'t>(
    day: &mut Day<'t, '_>,
    office: &'t Office,
    victim: &'t User,
    state: &State,
    span: &mut Span,
) -> Injected {
    let victim_at = state.laptop.as_ref().map_or_else(
        || *office.office.first().unwrap_or(&victim.home),
        |l| l.work_at,
    );
    let at = azure(day);
    let session = day.rng.guid();
    let when = around(day, 14 * HOUR, 180);
    let tokens = attack::device_code_core(day, victim, victim_at, at, session, when, span);
    (
        tokens,
        Some(session),
        format!(
            "Device-code phishing: the victim entered the attacker's code; the attacker polled from an Azure VM ({}) and read mail.",
            at.ip
        ),
    )
}

/// A token nobody saw issued, used at night from a VPS to enumerate the directory and list
/// files.
fn orphan<'t>(day: &mut Day<'t, '_>, victim: &'t User, span: &mut Span) -> Injected {
    let at = vps(day);
    let app = App {
        id: day.rng.guid(),
        name: "graph-enum",
    };
    let when = around(day, 2 * HOUR, 150);
    let token = attack::orphan_core(
        day,
        victim,
        (at, app, when),
        &[
            "https://graph.microsoft.com/v1.0/users?$top=999",
            "https://graph.microsoft.com/v1.0/me/drive/root/children",
            "https://graph.microsoft.com/v1.0/organization",
        ],
        span,
    );
    (
        vec![token],
        None,
        format!(
            "At night, a token matching no sign-in (unknown app {}) was used from {} ({}).",
            app.id, at.ip, at.net.name
        ),
    )
}

/// A session with no interactive sign-in anywhere, redeemed from an Azure VM at the weekend.
fn rootless<'t>(day: &mut Day<'t, '_>, victim: &'t User, span: &mut Span) -> Injected {
    let at = azure(day);
    let session = day.rng.guid();
    let when = around(day, 9 * HOUR, 180);
    let from = ReplayFrom {
        at,
        session,
        app: catalog::OUTLOOK_MOBILE,
        start: when,
        files_delay_secs: (120, 600),
        device: None,
    };
    let tokens = replay_for_mail_and_files(day, victim, from, span);
    (
        tokens,
        Some(session),
        format!(
            "At the weekend, a session with no interactive sign-in anywhere redeemed refresh tokens from an Azure VM ({}) and read mail and files.",
            at.ip
        ),
    )
}

/// Consent phishing in the evening: the victim signs in to an app the office never used; its
/// backend (a confidential client on a VPS) reads mail through Graph.
fn consent<'t>(
    day: &mut Day<'t, '_>,
    victim: &'t User,
    victim_at: Endpoint,
    span: &mut Span,
) -> Injected {
    let at = vps(day);
    let app = App {
        id: day.rng.guid(),
        name: "Invoice Viewer Online",
    };
    let session = day.rng.guid();
    let when = around(day, 18 * HOUR, 120);
    let token = attack::consent_core(day, victim, (victim_at, at), app, session, when, span);
    (
        vec![token],
        Some(session),
        format!(
            "In the evening, the never-before-seen app \"{}\" ({}) was consented by the victim and read mail from {}.",
            app.name, app.id, at.ip
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_azure_range_is_outside_microsofts_published_ranges() {
        // 20.55.0.0/16 and 2603:1030:c00::/48: checked against the engine's list when this
        // was written; the sim cannot see that list, so the prefix is pinned here.
        assert_eq!(AZURE_VM.asn, 8075);
        assert_eq!(AZURE_VM.v4, [20, 55]);
    }

    #[test]
    fn the_plan_puts_each_attack_where_it_belongs() {
        let tenant = Tenant::build(3, 12);
        let office = Office::build(3, &tenant);
        let start = crate::SimConfig::default_start();
        let plan = plan(3, &office, start, 14, &AttackKind::ALL);
        assert_eq!(plan.len(), 7);
        let wd = |d: u32| weekday(office.midnight(start, d), office.offset_secs);
        for (d, person, planned) in &plan {
            let p = &office.people[*person as usize];
            match planned {
                Planned::FirstDayTokenFromAzure => assert_eq!(*d, 0),
                Planned::WeekendNightReplay => assert_eq!(wd(*d), 5),
                Planned::WeekendRootlessFromAzure => assert_eq!(wd(*d), 6),
                _ => assert!(wd(*d) < 5 && *d >= 1),
            }
            if planned.needs_laptop() {
                assert!(p.managed_laptop);
            }
        }
        assert_eq!(plan, super::plan(3, &office, start, 14, &AttackKind::ALL));
        // Local midnight of day 0 is the start date's midnight in the office's time zone.
        assert_eq!(wd(0), 0);
        assert!(office.offset_secs < 0);
    }
}
