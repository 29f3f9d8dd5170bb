//! One user's benign day: devices signing in, sessions refreshing, mail, files and Graph
//! calls, plus the awkward truths real tenants show (service-side access from Microsoft
//! addresses, confidential clients logging the user's original address, first-party activity
//! with no sign-in row, aggregated records with no ids, duplicate and late records).

use tokentrail_model::{Guid, SignInKind, Timestamp};

use crate::catalog::{self, App};
use crate::record::{Actor, Batch, GraphRec, SignInRec, TokenUse, UalOp, UalRec};
use crate::rng::Rng;
use crate::tenant::{self, Device, Endpoint, ServicePrincipal, Tenant, User};

/// A token issued in a session, as attacks need to know it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Issued {
    pub(crate) token: TokenUse,
    pub(crate) app: App,
    pub(crate) resource: App,
    pub(crate) at: Endpoint,
}

/// What the attacks of a user-day need from the benign day: the laptop's session.
#[derive(Clone, Debug, Default)]
pub(crate) struct DayContext {
    pub(crate) session: Option<Guid>,
    pub(crate) root_time: Option<Timestamp>,
    pub(crate) root_at: Option<Endpoint>,
    pub(crate) tokens: Vec<Issued>,
}

/// The generator for one user-day (or the service principals' day): its random stream and
/// the batch it adds to.
pub(crate) struct Day<'t, 'b> {
    pub(crate) tenant: &'t Tenant,
    pub(crate) batch: &'b mut Batch<'t>,
    pub(crate) rng: Rng,
    /// Midnight UTC of the day.
    pub(crate) midnight: Timestamp,
}

const MIN: i64 = 60;
const HOUR: i64 = 3600;

/// Share of Graph rows delivered after the rest of their batch.
const LATE_GRAPH: f64 = 0.03;
/// Share of UAL records delivered after the rest of their batch.
const LATE_UAL: f64 = 0.02;
/// Share of non-interactive sign-ins logged twice with the same `Id`.
const DUPLICATE_SIGN_IN: f64 = 0.01;

impl<'t> Day<'t, '_> {
    pub(crate) fn at(&mut self, secs: i64) -> Timestamp {
        let micros = self.rng.below(1_000_000) as i64;
        Timestamp(self.midnight.micros() + secs * 1_000_000 + micros)
    }

    /// A user sign-in row with the defaults of its kind; the caller adjusts the rest.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn user_sign_in(
        &mut self,
        kind: SignInKind,
        user: &'t User,
        time: Timestamp,
        app: App,
        resource: App,
        at: Endpoint,
        device: Option<&'t Device>,
        session: Option<Guid>,
    ) -> SignInRec<'t> {
        let interactive = kind == SignInKind::Interactive;
        SignInRec {
            kind,
            id: self.rng.guid(),
            time,
            actor: Actor::User(user),
            app,
            resource,
            at,
            device,
            incoming: if interactive { "none" } else { "refreshToken" },
            protocol: "none",
            transfer: "none",
            requirement: if interactive {
                "multiFactorAuthentication"
            } else {
                "singleFactorAuthentication"
            },
            credential: "none",
            binding: "unbound",
            session,
            correlation: self.rng.guid(),
            user_agent: catalog::UA_EDGE_WINDOWS,
            client_app_used: if interactive {
                "Browser"
            } else {
                "Mobile Apps and Desktop clients"
            },
            duplicate: false,
        }
    }

    /// Record a sign-in and return the token it issued.
    pub(crate) fn push_sign_in(&mut self, mut rec: SignInRec<'t>) -> TokenUse {
        if rec.kind == SignInKind::NonInteractive && self.rng.chance(DUPLICATE_SIGN_IN) {
            rec.duplicate = true;
        }
        let token = TokenUse {
            token: rec.id,
            session: rec.session,
            issued_at: rec.time,
        };
        self.batch.sign_ins.push(rec);
        token
    }

    /// A UAL `UserLoggedIn` standing in for an interactive sign-in (same `Id`, as observed in
    /// a real Purview export).
    pub(crate) fn logon_record(&mut self, rec: &SignInRec<'t>, user: &'t User) {
        let Some(session) = rec.session else { return };
        self.batch.ual.push(UalRec {
            id: rec.id,
            time: rec.time.plus_secs(1),
            user,
            ip: rec.at.ip,
            port: None,
            op: UalOp::UserLoggedIn {
                device: rec.device,
                session,
                user_agent: rec.user_agent,
            },
            app: rec.app,
            resource: rec.resource,
            token: None,
            device: None,
            user_agent: rec.user_agent,
        });
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn graph_call(
        &mut self,
        time: Timestamp,
        user: Option<&'t User>,
        principal: Option<&'t ServicePrincipal>,
        app: App,
        token: TokenUse,
        ip: std::net::IpAddr,
        request: (&'static str, String),
        client: (&'static str, u8, &'static str, &'static str),
        device: Option<Guid>,
    ) {
        let (user_agent, auth_method, scopes, roles) = client;
        let rec = GraphRec {
            time,
            request_id: self.rng.guid(),
            method: request.0,
            uri: request.1,
            status: 200,
            app,
            user,
            principal,
            ip,
            user_agent,
            auth_method,
            scopes,
            roles,
            token,
            device,
            response_bytes: 800 + self.rng.below(60_000) as u32,
            duration_ms: 40 + self.rng.below(900) as u32,
        };
        if self.rng.chance(LATE_GRAPH) {
            self.batch.late_graph.push(rec);
        } else {
            self.batch.graph.push(rec);
        }
    }

    pub(crate) fn ual(&mut self, rec: UalRec<'t>) {
        if self.rng.chance(LATE_UAL) {
            self.batch.late_ual.push(rec);
        } else {
            self.batch.ual.push(rec);
        }
    }

    /// A `MailItemsAccessed` record.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn mail_access(
        &mut self,
        time: Timestamp,
        user: &'t User,
        ip: std::net::IpAddr,
        app: App,
        resource: App,
        token: Option<TokenUse>,
        access: &'static str,
        client_info: &'static str,
        device: Option<Guid>,
    ) {
        let count = if access == "Bind" {
            1 + self.rng.below(4) as u32
        } else {
            1 + self.rng.below(30) as u32
        };
        let folder = *self
            .rng
            .pick(&["\\Inbox", "\\Inbox", "\\Sent Items", "\\Archive"])
            .unwrap_or(&"\\Inbox");
        let rec = UalRec {
            id: self.rng.guid(),
            time,
            user,
            ip,
            port: None,
            op: UalOp::MailItemsAccessed {
                access,
                count,
                client_info,
                folder,
            },
            app,
            resource,
            token,
            device,
            user_agent: "",
        };
        self.ual(rec);
    }

    /// A SharePoint or OneDrive file operation.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn file_access(
        &mut self,
        time: Timestamp,
        user: &'t User,
        at: (std::net::IpAddr, &'static str),
        app: App,
        token: Option<TokenUse>,
        operation: &'static str,
        onedrive: bool,
        managed: Option<bool>,
    ) {
        const FILES: [&str; 8] = [
            "Q3 forecast.xlsx",
            "Board deck.pptx",
            "Contract draft.docx",
            "Payroll 2024.xlsx",
            "Roadmap.docx",
            "Customer list.csv",
            "Invoice 20431.pdf",
            "Architecture.vsdx",
        ];
        let file = (*self.rng.pick(&FILES).unwrap_or(&"Notes.docx")).to_string();
        let rec = UalRec {
            id: self.rng.guid(),
            time,
            user,
            ip: at.0,
            port: None,
            op: UalOp::File {
                operation,
                onedrive,
                file,
                managed,
            },
            app,
            resource: catalog::SHAREPOINT,
            token,
            device: None,
            user_agent: at.1,
        };
        self.ual(rec);
    }
}

/// Monday is 0.
fn weekday(midnight: Timestamp) -> i64 {
    (midnight.secs().div_euclid(86_400) + 3).rem_euclid(7)
}

/// Generate one user's day. `force_laptop` makes the laptop active (attacks need it).
pub(crate) fn user_day<'t>(
    day: &mut Day<'t, '_>,
    user: &'t User,
    force_laptop: bool,
) -> DayContext {
    if user.automation {
        automation_day(day, user);
        return DayContext::default();
    }
    let weekend = weekday(day.midnight) >= 5;
    let laptop = force_laptop || !weekend || day.rng.chance(0.2);
    let in_office = !weekend && day.rng.chance(0.6);
    let travel = !weekend && !force_laptop && day.rng.chance(0.03);
    let mut ctx = DayContext::default();
    if laptop {
        let (v4, v6) = if in_office {
            let nat = day
                .tenant
                .office_nat
                .get(user.office)
                .and_then(|n| day.rng.pick(n).copied())
                .unwrap_or(user.home);
            (nat, user.office_v6)
        } else {
            (user.home, user.home_v6)
        };
        ctx = laptop_day(day, user, v4, v6, travel);
        if day.rng.chance(0.25) {
            intranet(day, user, v4);
        }
        if day.rng.chance(0.2) {
            first_party_without_sign_in(day, user, ctx.session);
        }
    }
    if user.phone.is_some() && (!weekend || day.rng.chance(0.5)) {
        phone_day(day, user, in_office);
    }
    if user.browser.is_some() && day.rng.chance(0.4) {
        browser_evening(day, user);
    }
    ctx
}

/// The managed Windows laptop: a PRT sign-in in the morning, then 10-50 silent PRT
/// redemptions by Office, OneDrive and Teams, each token used for mail, files and Graph.
fn laptop_day<'t>(
    day: &mut Day<'t, '_>,
    user: &'t User,
    v4: Endpoint,
    v6: Endpoint,
    travel: bool,
) -> DayContext {
    let device = Some(&user.laptop);
    let device_id = user.laptop.id;
    let start = 7 * HOUR + day.rng.range(0, 150) * MIN;
    let root_time = day.at(start);
    let session = day.rng.guid();
    let mut root = day.user_sign_in(
        SignInKind::Interactive,
        user,
        root_time,
        catalog::WINDOWS_SIGN_IN,
        catalog::AAD,
        v4,
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
        root_at: Some(v4),
        tokens: Vec::new(),
    };

    let span = (activity_refreshes(day, user)).max(10);
    let mut t = start + 2 * MIN;
    let travel_at = span / 2;
    let mut cur_session = session;
    let (mut a4, mut a6) = (v4, v6);
    for i in 0..span {
        if travel && i == travel_at {
            // Business travel: the laptop reaches a hotel network and signs in again.
            let net = day
                .rng
                .pick(&catalog::TRAVEL)
                .unwrap_or(&catalog::TRAVEL[0]);
            a4 = tenant::v4_in(net, &mut day.rng);
            a6 = tenant::v6_in(net, &mut day.rng);
            cur_session = day.rng.guid();
            let when = day.at(t);
            let mut r = day.user_sign_in(
                SignInKind::Interactive,
                user,
                when,
                catalog::WINDOWS_SIGN_IN,
                catalog::AAD,
                a4,
                device,
                Some(cur_session),
            );
            r.binding = "bound";
            r.client_app_used = "Mobile Apps and Desktop clients";
            r.user_agent = "Windows-AzureAD-Authentication-Provider/1.0";
            day.logon_record(&r, user);
            day.push_sign_in(r);
            t += 3 * MIN;
        }
        let (app, resource, ua) = match i % 4 {
            0 => (
                catalog::MICROSOFT_OFFICE,
                catalog::EXCHANGE,
                catalog::UA_OFFICE_WINDOWS,
            ),
            1 => (
                catalog::ONEDRIVE_SYNC,
                catalog::SHAREPOINT,
                catalog::UA_ONEDRIVE,
            ),
            2 => (catalog::TEAMS, catalog::GRAPH, catalog::UA_TEAMS),
            _ => (
                catalog::MICROSOFT_OFFICE,
                catalog::GRAPH,
                catalog::UA_OFFICE_WINDOWS,
            ),
        };
        // Dual stack: a third of the redemptions go out over IPv6 on the same network.
        let at = if day.rng.chance(0.3) { a6 } else { a4 };
        let when = day.at(t);
        let mut r = day.user_sign_in(
            SignInKind::NonInteractive,
            user,
            when,
            app,
            resource,
            at,
            device,
            Some(cur_session),
        );
        r.incoming = "primaryRefreshToken";
        r.binding = "bound";
        r.user_agent = ua;
        let token = day.push_sign_in(r);
        if cur_session == session {
            ctx.tokens.push(Issued {
                token,
                app,
                resource,
                at,
            });
        }
        use_laptop_token(day, user, token, (app, resource, ua), (a4, a6), device_id);
        t += day.rng.range(6, 25) * MIN;
    }
    ctx
}

fn activity_refreshes(day: &mut Day<'_, '_>, user: &User) -> i64 {
    let top = 20 + (30.0 * (user.activity / 4.3).min(1.0)) as i64;
    day.rng.range(10, top)
}

fn accesses_per_token(day: &mut Day<'_, '_>, user: &User) -> i64 {
    let n = (user.activity * (1.0 + 2.0 * day.rng.unit())).round() as i64;
    n.clamp(1, 12)
}

fn use_laptop_token<'t>(
    day: &mut Day<'t, '_>,
    user: &'t User,
    token: TokenUse,
    client: (App, App, &'static str),
    at: (Endpoint, Endpoint),
    device: Option<Guid>,
) {
    let (app, resource, ua) = client;
    let n = accesses_per_token(day, user);
    for _ in 0..n {
        let when = Timestamp(token.issued_at.micros() + day.rng.range(5, 55 * 60) * 1_000_000);
        let ip = if day.rng.chance(0.5) {
            at.1.ip
        } else {
            at.0.ip
        };
        if resource == catalog::EXCHANGE {
            let sync = day.rng.chance(0.6);
            // Some aggregated Sync records carry neither token nor session id.
            let tok = if sync && day.rng.chance(0.15) {
                None
            } else {
                Some(token)
            };
            let info = "Client=MSExchangeRPC;Version=16.0.17328.20142";
            day.mail_access(
                when,
                user,
                ip,
                app,
                resource,
                tok,
                if sync { "Sync" } else { "Bind" },
                info,
                device,
            );
            if day.rng.chance(0.05) {
                let subject = "Re: weekly status".to_string();
                let rec = UalRec {
                    id: day.rng.guid(),
                    time: when,
                    user,
                    ip,
                    port: None,
                    op: UalOp::ExchangeItem {
                        operation: "Send",
                        record_type: 2,
                        client_info: info,
                        subject,
                    },
                    app,
                    resource,
                    token: Some(token),
                    device,
                    user_agent: "",
                };
                day.ual(rec);
            }
        } else if resource == catalog::SHAREPOINT {
            let op = *day
                .rng
                .pick(&[
                    "FileSyncDownloadedFull",
                    "FileAccessed",
                    "FileModified",
                    "FileUploaded",
                ])
                .unwrap_or(&"FileAccessed");
            let onedrive = day.rng.chance(0.7);
            day.file_access(
                when,
                user,
                (ip, ua),
                app,
                Some(token),
                op,
                onedrive,
                Some(true),
            );
        } else {
            let (uri, scopes) = if app == catalog::TEAMS {
                (
                    *day.rng
                        .pick(&[
                            "https://graph.microsoft.com/v1.0/me/chats?$top=50",
                            "https://graph.microsoft.com/beta/me/presence",
                            "https://graph.microsoft.com/v1.0/me/joinedTeams",
                        ])
                        .unwrap_or(&"https://graph.microsoft.com/v1.0/me"),
                    "Chat.ReadWrite Presence.Read.All Team.ReadBasic.All User.Read",
                )
            } else {
                (
                    *day.rng
                        .pick(&[
                            "https://graph.microsoft.com/v1.0/me/messages?$top=25",
                            "https://graph.microsoft.com/v1.0/me/events?$top=10",
                            "https://graph.microsoft.com/v1.0/me",
                            "https://graph.microsoft.com/v1.0/me/drive/recent",
                        ])
                        .unwrap_or(&"https://graph.microsoft.com/v1.0/me"),
                    "Calendars.ReadWrite Files.ReadWrite.All Mail.ReadWrite User.Read",
                )
            };
            day.graph_call(
                when,
                Some(user),
                None,
                app,
                token,
                ip,
                ("GET", uri.to_string()),
                (ua, 0, scopes, ""),
                device,
            );
        }
    }
}

/// The iPhone: Outlook mobile signs in once, then refreshes from home Wi-Fi, office Wi-Fi and
/// the carrier in the same session with the same compliant device and client (roaming, not
/// replay). Outlook mobile's mailbox access comes from Microsoft's own servers with zero
/// delay.
/// Outlook on a phone signs in interactively from the user's home network, in `session`.
pub(crate) fn phone_signs_in_at_home<'t>(
    day: &mut Day<'t, '_>,
    user: &'t User,
    when: Timestamp,
    phone: Option<&'t Device>,
    session: Guid,
) -> TokenUse {
    let mut root = day.user_sign_in(
        SignInKind::Interactive,
        user,
        when,
        catalog::OUTLOOK_MOBILE,
        catalog::EXCHANGE,
        user.home,
        phone,
        Some(session),
    );
    root.user_agent = catalog::UA_OUTLOOK_IOS;
    root.client_app_used = "Mobile Apps and Desktop clients";
    day.logon_record(&root, user);
    day.push_sign_in(root)
}

fn phone_day<'t>(day: &mut Day<'t, '_>, user: &'t User, in_office: bool) {
    let Some(phone) = user.phone.as_ref() else {
        return;
    };
    let start = 6 * HOUR + day.rng.range(30, 110) * MIN;
    let session = day.rng.guid();
    let when = day.at(start);
    phone_signs_in_at_home(day, user, when, Some(phone), session);
    let n = day.rng.range(10, 24);
    let mut t = start + 5 * MIN;
    for _ in 0..n {
        let hour = t / HOUR;
        let at = match hour {
            h if !(8..18).contains(&h) => {
                if day.rng.chance(0.7) {
                    if day.rng.chance(0.3) {
                        user.home_v6
                    } else {
                        user.home
                    }
                } else {
                    carrier_address(day, user)
                }
            }
            h if (8..9).contains(&h) || (17..18).contains(&h) => carrier_address(day, user),
            _ => {
                if in_office && day.rng.chance(0.6) {
                    user.office_v6
                } else {
                    carrier_address(day, user)
                }
            }
        };
        let resource = if day.rng.chance(0.85) {
            catalog::EXCHANGE
        } else {
            catalog::SHAREPOINT
        };
        let when = day.at(t);
        let mut r = day.user_sign_in(
            SignInKind::NonInteractive,
            user,
            when,
            catalog::OUTLOOK_MOBILE,
            resource,
            at,
            Some(phone),
            Some(session),
        );
        r.user_agent = catalog::UA_OUTLOOK_IOS;
        let token = day.push_sign_in(r);
        if resource == catalog::EXCHANGE {
            let ms = tenant::v4_in(&catalog::MS_EXCHANGE, &mut day.rng);
            let k = 1 + day.rng.below(3) as i64;
            for j in 0..k {
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
                    phone.id,
                );
            }
        } else {
            let when = token.issued_at.plus_secs(day.rng.range(2, 90));
            day.file_access(
                when,
                user,
                (at.ip, catalog::UA_OUTLOOK_IOS),
                catalog::OUTLOOK_MOBILE,
                Some(token),
                "FilePreviewed",
                true,
                Some(true),
            );
        }
        t += day.rng.range(15, 50) * MIN;
        if t > 23 * HOUR {
            break;
        }
    }
}

fn carrier_address(day: &mut Day<'_, '_>, user: &User) -> Endpoint {
    if day.rng.chance(0.4) {
        tenant::v6_in(user.carrier, &mut day.rng)
    } else {
        tenant::v4_in(user.carrier, &mut day.rng)
    }
}

/// A personal Mac in the evening: Outlook on the web and SharePoint from an unmanaged browser.
fn browser_evening<'t>(day: &mut Day<'t, '_>, user: &'t User) {
    let Some(mac) = user.browser.as_ref() else {
        return;
    };
    let start = 19 * HOUR + day.rng.range(0, 120) * MIN;
    let session = day.rng.guid();
    let when = day.at(start);
    let mut root = day.user_sign_in(
        SignInKind::Interactive,
        user,
        when,
        catalog::OWA,
        catalog::EXCHANGE,
        user.home,
        Some(mac),
        Some(session),
    );
    root.user_agent = catalog::UA_SAFARI_MAC;
    day.logon_record(&root, user);
    let first = day.push_sign_in(root);
    let mut tokens = vec![(first, catalog::OWA, catalog::EXCHANGE)];
    for k in 0..day.rng.range(2, 6) {
        let (app, resource) = if k % 2 == 0 {
            (catalog::OFFICE_HOME, catalog::SHAREPOINT)
        } else {
            (catalog::OWA, catalog::EXCHANGE)
        };
        let when = day.at(start + (k + 1) * 9 * MIN);
        let mut r = day.user_sign_in(
            SignInKind::NonInteractive,
            user,
            when,
            app,
            resource,
            user.home,
            Some(mac),
            Some(session),
        );
        r.user_agent = catalog::UA_SAFARI_MAC;
        r.client_app_used = "Browser";
        r.incoming = "none";
        tokens.push((day.push_sign_in(r), app, resource));
    }
    browser_reads(
        day,
        user,
        &tokens,
        BrowserUse {
            user_agent: catalog::UA_SAFARI_MAC,
            file_operation: "FilePreviewed",
            within_secs: 600,
        },
    );
}

/// How a browser on a device Entra knows nothing about uses its tokens.
pub(crate) struct BrowserUse {
    pub(crate) user_agent: &'static str,
    pub(crate) file_operation: &'static str,
    /// Each token is used one to three times within this many seconds of its issue.
    pub(crate) within_secs: i64,
}

/// Outlook on the web and the Office home page reading mail and files from home with each of
/// `tokens` (token, client, resource).
pub(crate) fn browser_reads<'t>(
    day: &mut Day<'t, '_>,
    user: &'t User,
    tokens: &[(TokenUse, App, App)],
    how: BrowserUse,
) {
    for &(token, app, resource) in tokens {
        for _ in 0..day.rng.range(1, 4) {
            let when = token.issued_at.plus_secs(day.rng.range(3, how.within_secs));
            if resource == catalog::EXCHANGE {
                day.mail_access(
                    when,
                    user,
                    user.home.ip,
                    app,
                    resource,
                    Some(token),
                    "Bind",
                    "Client=OWA;Action=ViaProxy",
                    None,
                );
            } else {
                day.file_access(
                    when,
                    user,
                    (user.home.ip, how.user_agent),
                    app,
                    Some(token),
                    how.file_operation,
                    false,
                    Some(false),
                );
            }
        }
    }
}

/// The tenant's confidential web app: the user signs in from the laptop, the app redeems
/// tokens on the user's behalf (the non-interactive row logs the user's original address) and
/// calls Graph from its own Azure address with a client secret.
fn intranet<'t>(day: &mut Day<'t, '_>, user: &'t User, at: Endpoint) {
    let start = 10 * HOUR + day.rng.range(0, 300) * MIN;
    let session = day.rng.guid();
    let when = day.at(start);
    let mut root = day.user_sign_in(
        SignInKind::Interactive,
        user,
        when,
        catalog::INTRANET,
        catalog::INTRANET,
        at,
        Some(&user.laptop),
        Some(session),
    );
    root.protocol = "oAuth2";
    day.logon_record(&root, user);
    day.push_sign_in(root);
    let server = day.rng.pick(&day.tenant.app_service).copied().unwrap_or(at);
    for k in 0..day.rng.range(1, 3) {
        let when = day.at(start + 20 + k * 40 * MIN);
        let mut obo = day.user_sign_in(
            SignInKind::NonInteractive,
            user,
            when,
            catalog::INTRANET,
            catalog::GRAPH,
            at,
            Some(&user.laptop),
            Some(session),
        );
        obo.credential = "clientSecret";
        obo.incoming = "none";
        obo.protocol = "oAuth2";
        obo.user_agent = catalog::UA_MSAL_JAVA;
        let token = day.push_sign_in(obo);
        for _ in 0..day.rng.range(1, 4) {
            let when = token.issued_at.plus_secs(day.rng.range(1, 1800));
            let uri = *day
                .rng
                .pick(&[
                    "https://graph.microsoft.com/v1.0/me/drive/root/children",
                    "https://graph.microsoft.com/v1.0/me/events?$top=5",
                    "https://graph.microsoft.com/v1.0/me/memberOf",
                ])
                .unwrap_or(&"https://graph.microsoft.com/v1.0/me");
            day.graph_call(
                when,
                Some(user),
                None,
                catalog::INTRANET,
                token,
                server.ip,
                ("GET", uri.to_string()),
                (
                    catalog::UA_MSAL_JAVA,
                    1,
                    "Calendars.Read Files.Read User.Read",
                    "",
                ),
                None,
            );
        }
    }
}

/// SharePoint (a first-party service) calling Graph for the user with a token no sign-in row
/// records, from a Microsoft address.
fn first_party_without_sign_in<'t>(day: &mut Day<'t, '_>, user: &'t User, session: Option<Guid>) {
    let jitter = day.rng.range(0, 360);
    let issued = day.at(11 * HOUR + jitter * MIN);
    let token = TokenUse {
        token: day.rng.guid(),
        session,
        issued_at: issued,
    };
    let ms = tenant::v4_in(&catalog::MS_SHAREPOINT, &mut day.rng);
    for k in 0..day.rng.range(1, 3) {
        day.graph_call(
            issued.plus_secs(30 + k * 11),
            Some(user),
            None,
            catalog::SHAREPOINT,
            token,
            ms.ip,
            (
                "GET",
                "https://graph.microsoft.com/v1.0/me/insights/used".to_string(),
            ),
            ("Microsoft SharePoint", 2, "Sites.Read.All User.Read", ""),
            None,
        );
    }
}

/// The delegated automation account: a script on a fixed cloud host signs in every night and
/// pulls mail and files through Graph.
fn automation_day<'t>(day: &mut Day<'t, '_>, user: &'t User) {
    let at = day.tenant.automation_ip;
    let start = 2 * HOUR + day.rng.range(0, 5) * MIN;
    let session = day.rng.guid();
    let when = day.at(start);
    let mut root = day.user_sign_in(
        SignInKind::Interactive,
        user,
        when,
        catalog::REPORTS_SCRIPT,
        catalog::GRAPH,
        at,
        None,
        Some(session),
    );
    root.user_agent = catalog::UA_PYTHON;
    root.client_app_used = "Mobile Apps and Desktop clients";
    root.requirement = "singleFactorAuthentication";
    day.logon_record(&root, user);
    let mut token = day.push_sign_in(root);
    let calls = day.rng.range(10, 16);
    for k in 0..calls {
        if k > 0 && k % 4 == 0 {
            let when = day.at(start + k * 5 * MIN);
            let mut r = day.user_sign_in(
                SignInKind::NonInteractive,
                user,
                when,
                catalog::REPORTS_SCRIPT,
                catalog::GRAPH,
                at,
                None,
                Some(session),
            );
            r.user_agent = catalog::UA_PYTHON;
            token = day.push_sign_in(r);
        }
        let when = token.issued_at.plus_secs(20 + k * 13);
        let mail = k % 2 == 0;
        let uri = if mail {
            "https://graph.microsoft.com/v1.0/me/mailFolders/inbox/messages?$top=100"
        } else {
            "https://graph.microsoft.com/v1.0/sites/root/drive/root/children"
        };
        day.graph_call(
            when,
            Some(user),
            None,
            catalog::REPORTS_SCRIPT,
            token,
            at.ip,
            ("GET", uri.to_string()),
            (
                catalog::UA_PYTHON,
                0,
                "Files.Read.All Mail.Read User.Read",
                "",
            ),
            None,
        );
        if mail {
            day.mail_access(
                when.plus_secs(1),
                user,
                at.ip,
                catalog::REPORTS_SCRIPT,
                catalog::GRAPH,
                Some(token),
                "Bind",
                "Client=REST;;",
                None,
            );
        }
    }
}

/// The service principals and managed identity of the tenant: app-only tokens with their own
/// credentials, no user, Graph `ClientAuthMethod` 1 or 2.
pub(crate) fn principals_day<'t>(day: &mut Day<'t, '_>) {
    let tenant = day.tenant;
    for sp in &tenant.principals {
        for k in 0..sp.per_day {
            let secs =
                i64::from(k) * (86_400 / i64::from(sp.per_day.max(1))) + day.rng.range(0, 600);
            let when = day.at(secs.min(86_399));
            let at = day
                .rng
                .pick(&tenant.app_service)
                .copied()
                .unwrap_or(tenant.automation_ip);
            let rec = SignInRec {
                kind: sp.kind,
                id: day.rng.guid(),
                time: when,
                actor: Actor::App(sp),
                app: sp.app,
                resource: catalog::GRAPH,
                at,
                device: None,
                incoming: "none",
                protocol: "none",
                transfer: "none",
                requirement: "singleFactorAuthentication",
                credential: sp.credential,
                binding: "unbound",
                session: None,
                correlation: day.rng.guid(),
                user_agent: sp.user_agent,
                client_app_used: "",
                duplicate: false,
            };
            let token = day.push_sign_in(rec);
            for j in 0..day.rng.range(2, 6) {
                let target = day
                    .rng
                    .pick(tenant.people())
                    .map(|u| u.id.to_string())
                    .unwrap_or_default();
                let uri = match sp.roles {
                    r if r.starts_with("Mail") => {
                        format!("https://graph.microsoft.com/v1.0/users/{target}/messages/delta")
                    }
                    r if r.starts_with("User") => {
                        "https://graph.microsoft.com/v1.0/users?$select=id,department,manager"
                            .to_string()
                    }
                    _ => {
                        "https://graph.microsoft.com/v1.0/sites/root/drive/root:/invoices:/children"
                            .to_string()
                    }
                };
                day.graph_call(
                    token.issued_at.plus_secs(5 + j * 17),
                    None,
                    Some(sp),
                    sp.app,
                    token,
                    at.ip,
                    ("GET", uri),
                    (sp.user_agent, sp.auth_method, "", sp.roles),
                    None,
                );
            }
        }
    }
}
