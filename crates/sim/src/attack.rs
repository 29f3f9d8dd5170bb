//! Labelled attacks, injected into a victim's day after the benign records it builds on.
//! Each returns the [`Label`] describing what was injected; every id a label names is written
//! to the output.

use std::collections::BTreeMap;

use tokentrail_model::{AttackKind, Guid, Label, RuleId, SignInKind, Timestamp};

use crate::catalog::{self, App, NetDef};
use crate::life::{Day, DayContext, Issued};
use crate::record::TokenUse;
use crate::rng::Rng;
use crate::tenant::{self, Device, Endpoint, User};

/// Attacks of each kind per this many people (at least one of each kind in any tenant).
pub(crate) const PEOPLE_PER_ATTACK: u32 = 100;

/// The first day attacks may be placed on. The engine concludes "absent" (no interactive root,
/// no issuing sign-in) only where the logs cover the lookback before a record, and its TT003
/// lookback is a day: an attack on the first day would sit where the logs cannot support the
/// verdict. So with two days or more, the first day is left benign; with `--days 1` every attack
/// is on that only day, and a `no-interactive-root` attack there is correctly answered "unknown"
/// (not alerted) by the default engine.
pub(crate) fn first_attack_day(days: u32) -> u32 {
    u32::from(days > 1)
}

/// The attack schedule: `ceil(people / 100)` attacks of each kind, each on its own victim
/// while victims last (so no two labels share a user, a session or a time window), spread
/// round-robin over the days from [`first_attack_day`] on. Deterministic in the seed.
pub(crate) fn plan(
    seed: u64,
    people: u32,
    days: u32,
    kinds: &[AttackKind],
) -> BTreeMap<(u32, u32), Vec<AttackKind>> {
    let mut rng = Rng::stream(seed, &[0xa77ac]);
    let mut out: BTreeMap<(u32, u32), Vec<AttackKind>> = BTreeMap::new();
    if people == 0 || days == 0 || kinds.is_empty() {
        return out;
    }
    let per_kind = people.div_ceil(PEOPLE_PER_ATTACK);
    let first_day = first_attack_day(days);
    let attack_days = days - first_day;
    // Victims in a seeded random order (Fisher-Yates), taken in turn.
    let mut victims: Vec<u32> = (0..people).collect();
    for i in (1..victims.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        victims.swap(i, j);
    }
    let mut next_victim = victims.iter().copied().cycle();
    let day_offset = rng.below(u64::from(attack_days)) as u32;
    // Instance j of the k-th kind goes to day (offset + j + k): each kind walks through the
    // days, and each day gets a mix of kinds.
    for j in 0..per_kind {
        for (k, &kind) in (0u32..).zip(kinds) {
            let Some(user) = next_victim.next() else {
                return out;
            };
            let day = first_day + (day_offset + j + k) % attack_days;
            out.entry((day, user)).or_default().push(kind);
        }
    }
    out
}

/// The rules expected to catch each kind: those whose declaration names it
/// (`RuleMeta::catches`, in each rule's module).
pub(crate) fn expected_rules(kind: AttackKind) -> Vec<RuleId> {
    tokentrail_engine::rules::expected_for(kind)
}

/// The attacker's machine as Entra sees it: no device id, nothing managed.
pub(crate) static ATTACKER_DEVICE: Device = Device {
    id: None,
    name: String::new(),
    os: "Windows10",
    browser: "Chrome 122.0.0",
    managed: false,
    compliant: false,
    trust: None,
};

/// Time span of the records an attack wrote.
pub(crate) struct Span {
    pub(crate) start: Option<Timestamp>,
    pub(crate) end: Option<Timestamp>,
}

impl Span {
    pub(crate) fn new() -> Span {
        Span {
            start: None,
            end: None,
        }
    }
    pub(crate) fn add(&mut self, t: Timestamp) {
        self.start = Some(self.start.map_or(t, |s| s.min(t)));
        self.end = Some(self.end.map_or(t, |e| e.max(t)));
    }
}

fn hosting(day: &mut Day<'_, '_>) -> (&'static NetDef, Endpoint) {
    let net = day
        .rng
        .pick(&catalog::HOSTING)
        .unwrap_or(&catalog::HOSTING[0]);
    let at = tenant::v4_in(net, &mut day.rng);
    (net, at)
}

pub(crate) fn mail_uri(day: &mut Day<'_, '_>) -> String {
    let top = 50 + 50 * day.rng.below(4);
    format!("https://graph.microsoft.com/v1.0/me/mailFolders/inbox/messages?$top={top}&$select=subject,from,body")
}

/// Inject one attack of `kind` into the victim's day; `seq` numbers the label.
pub(crate) fn inject<'t>(
    day: &mut Day<'t, '_>,
    victim: &'t User,
    ctx: &DayContext,
    kind: AttackKind,
    seq: u32,
) -> Option<Label> {
    let (tokens, session, description) = match kind {
        AttackKind::StolenAccessToken => stolen_access_token(day, victim, ctx)?,
        AttackKind::SessionReplay => session_replay(day, victim, ctx)?,
        AttackKind::DeviceCodePhish => device_code_phish(day, victim, ctx)?,
        AttackKind::OrphanToken => orphan_token(day, victim)?,
        AttackKind::NoInteractiveRoot => no_interactive_root(day, victim)?,
        AttackKind::UnapprovedClient => unapproved_client(day, victim, ctx)?,
    };
    let (span, tokens) = tokens;
    Some(Label {
        id: format!("atk-{seq:04}"),
        kind,
        expected_rules: expected_rules(kind),
        user: victim.upn.clone(),
        user_id: victim.id.to_string(),
        session_id: session.map(|s| s.to_string()),
        token_ids: tokens.iter().map(|g| g.to_string()).collect(),
        start: span.start?,
        end: span.end?,
        description,
        expected_miss: false,
    })
}

type Injected = ((Span, Vec<Guid>), Option<Guid>, String);

/// An access token lifted from the victim's laptop, replayed from a VPS within its lifetime.
fn stolen_access_token<'t>(
    day: &mut Day<'t, '_>,
    victim: &'t User,
    ctx: &DayContext,
) -> Option<Injected> {
    let issued: Vec<_> = ctx
        .tokens
        .iter()
        .filter(|t| t.resource == catalog::GRAPH && t.app == catalog::MICROSOFT_OFFICE)
        .copied()
        .collect();
    let stolen = *day.rng.pick(&issued)?;
    let (net, at) = hosting(day);
    let mut span = Span::new();
    let first = stolen.token.issued_at.plus_secs(day.rng.range(8, 20) * 60);
    replay_token(day, victim, stolen, at, first, &mut span);
    Some((
        (span, vec![stolen.token.token]),
        stolen.token.session,
        format!(
            "An access token issued to {} on {} (AS{}) was replayed from {} (AS{}) to read mail through Graph.",
            stolen.app.name, stolen.at.net.name, stolen.at.net.asn, net.name, net.asn
        ),
    ))
}

/// A stolen access token replayed from `at` from `first` on: Graph mail reads (the token still
/// claims the victim's laptop) and a mailbox bind every other call.
pub(crate) fn replay_token<'t>(
    day: &mut Day<'t, '_>,
    victim: &'t User,
    stolen: Issued,
    at: Endpoint,
    first: Timestamp,
    span: &mut Span,
) {
    for k in 0..day.rng.range(3, 8) {
        let when = first.plus_secs(k * day.rng.range(20, 90));
        let uri = mail_uri(day);
        day.graph_call(
            when,
            Some(victim),
            None,
            stolen.app,
            stolen.token,
            at.ip,
            ("GET", uri),
            (
                catalog::UA_PYTHON,
                0,
                "Calendars.ReadWrite Files.ReadWrite.All Mail.ReadWrite User.Read",
                "",
            ),
            victim.laptop.id,
        );
        span.add(when);
        if k % 2 == 0 {
            let t = when.plus_secs(1);
            day.mail_access(
                t,
                victim,
                at.ip,
                stolen.app,
                catalog::GRAPH,
                Some(stolen.token),
                "Bind",
                "Client=REST;;",
                victim.laptop.id,
            );
            span.add(t);
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn attacker_refresh<'t>(
    day: &mut Day<'t, '_>,
    victim: &'t User,
    when: Timestamp,
    app: App,
    resource: App,
    at: Endpoint,
    session: Guid,
    device: Option<&'t Device>,
) -> TokenUse {
    let mut r = day.user_sign_in(
        SignInKind::NonInteractive,
        victim,
        when,
        app,
        resource,
        at,
        device,
        Some(session),
    );
    r.user_agent = catalog::UA_EDGE_WINDOWS;
    day.push_sign_in(r)
}

/// Mail reads and file downloads from the attacker's network with tokens of `session`.
pub(crate) fn loot<'t>(
    day: &mut Day<'t, '_>,
    victim: &'t User,
    at: Endpoint,
    mail: (TokenUse, App),
    files: Option<(TokenUse, App)>,
    span: &mut Span,
) {
    let (tok, app) = mail;
    for k in 0..day.rng.range(3, 6) {
        let when = tok.issued_at.plus_secs(40 + k * day.rng.range(15, 70));
        day.mail_access(
            when,
            victim,
            at.ip,
            app,
            catalog::EXCHANGE,
            Some(tok),
            "Bind",
            "Client=REST;Client=RESTSystem;;",
            None,
        );
        span.add(when);
    }
    if let Some((tok, app)) = files {
        for k in 0..day.rng.range(2, 5) {
            let when = tok.issued_at.plus_secs(60 + k * day.rng.range(10, 40));
            let onedrive = day.rng.chance(0.5);
            day.file_access(
                when,
                victim,
                (at.ip, catalog::UA_EDGE_WINDOWS),
                app,
                Some(tok),
                "FileDownloaded",
                onedrive,
                Some(false),
            );
            span.add(when);
        }
    }
}

/// Where and how an attacker redeems the victim's refresh token.
pub(crate) struct ReplayFrom<'t> {
    pub(crate) at: Endpoint,
    pub(crate) session: Guid,
    pub(crate) app: App,
    pub(crate) start: Timestamp,
    /// Range of the delay between the mail and the files refresh.
    pub(crate) files_delay_secs: (i64, i64),
    /// The device the attacker's sign-ins show: none, or the victim's id without any proof.
    pub(crate) device: Option<&'t Device>,
}

/// Redeem a refresh token for Exchange, then one for SharePoint a little later, and read mail and
/// files with them; returns the two token ids.
pub(crate) fn replay_for_mail_and_files<'t>(
    day: &mut Day<'t, '_>,
    victim: &'t User,
    from: ReplayFrom<'t>,
    span: &mut Span,
) -> Vec<Guid> {
    let ReplayFrom {
        at,
        session,
        app,
        start,
        files_delay_secs: (lo, hi),
        device,
    } = from;
    let mail = attacker_refresh(
        day,
        victim,
        start,
        app,
        catalog::EXCHANGE,
        at,
        session,
        device,
    );
    let later = start.plus_secs(day.rng.range(lo, hi));
    let files = attacker_refresh(
        day,
        victim,
        later,
        app,
        catalog::SHAREPOINT,
        at,
        session,
        device,
    );
    span.add(mail.issued_at);
    span.add(files.issued_at);
    let tokens = vec![mail.token, files.token];
    loot(day, victim, at, (mail, app), Some((files, app)), span);
    tokens
}

/// A stolen refresh token (or session cookie) redeemed from a VPS in the victim's session,
/// with no device id, then mail and file access.
fn session_replay<'t>(
    day: &mut Day<'t, '_>,
    victim: &'t User,
    ctx: &DayContext,
) -> Option<Injected> {
    let session = ctx.session?;
    let root = ctx.root_time?;
    let (net, at) = hosting(day);
    let mut span = Span::new();
    let t0 = root.plus_secs(day.rng.range(5, 9) * 3600);
    let tokens = replay_for_mail_and_files(
        day,
        victim,
        ReplayFrom {
            at,
            session,
            app: catalog::MICROSOFT_OFFICE,
            start: t0,
            files_delay_secs: (60, 300),
            device: None,
        },
        &mut span,
    );
    Some((
        (span, tokens),
        Some(session),
        format!(
            "The laptop session's refresh token was replayed from {} (AS{}) with no device id, then mail and files were read.",
            net.name, net.asn
        ),
    ))
}

/// Device-code phishing: the victim enters the attacker's code, Entra logs a device-code
/// sign-in by Microsoft Office from the victim's network on an unmanaged device, and the
/// attacker reads mail with the released token and its refresh.
fn device_code_phish<'t>(
    day: &mut Day<'t, '_>,
    victim: &'t User,
    ctx: &DayContext,
) -> Option<Injected> {
    let victim_at = ctx.root_at.unwrap_or(victim.home);
    let (net, at) = hosting(day);
    let session = day.rng.guid();
    let mut span = Span::new();
    let jitter = day.rng.range(0, 240);
    let when = day.at(14 * 3600 + jitter * 60);
    let tokens = device_code_core(day, victim, victim_at, at, session, when, &mut span);
    Some((
        (span, tokens),
        Some(session),
        format!(
            "Device-code phishing: a deviceCode sign-in by Microsoft Office on an unmanaged device released tokens that {} (AS{}) used to read mail.",
            net.name, net.asn
        ),
    ))
}

/// Device-code phishing at `when`: the victim's sign-in on `victim_at` releases a token that
/// the attacker on `at` uses for Graph mail reads, then refreshes for Exchange and reads mail;
/// returns the two token ids.
pub(crate) fn device_code_core<'t>(
    day: &mut Day<'t, '_>,
    victim: &'t User,
    victim_at: Endpoint,
    at: Endpoint,
    session: Guid,
    when: Timestamp,
    span: &mut Span,
) -> Vec<Guid> {
    let mut phish = day.user_sign_in(
        SignInKind::Interactive,
        victim,
        when,
        catalog::MICROSOFT_OFFICE,
        catalog::GRAPH,
        victim_at,
        Some(&ATTACKER_DEVICE),
        Some(session),
    );
    phish.protocol = "deviceCode";
    phish.transfer = "deviceCodeFlow";
    phish.client_app_used = "Mobile Apps and Desktop clients";
    day.logon_record(&phish, victim);
    let released = day.push_sign_in(phish);
    span.add(released.issued_at);
    for k in 0..day.rng.range(4, 9) {
        let t = released.issued_at.plus_secs(45 + k * day.rng.range(10, 60));
        let uri = mail_uri(day);
        day.graph_call(
            t,
            Some(victim),
            None,
            catalog::MICROSOFT_OFFICE,
            released,
            at.ip,
            ("GET", uri),
            (
                catalog::UA_PYTHON,
                0,
                "AuditLog.Read.All Calendar.ReadWrite Files.ReadWrite.All Mail.ReadWrite User.Read",
                "",
            ),
            None,
        );
        span.add(t);
    }
    let later = released.issued_at.plus_secs(day.rng.range(900, 2400));
    let refresh = attacker_refresh(
        day,
        victim,
        later,
        catalog::MICROSOFT_OFFICE,
        catalog::EXCHANGE,
        at,
        session,
        Some(&ATTACKER_DEVICE),
    );
    span.add(refresh.issued_at);
    loot(
        day,
        victim,
        at,
        (refresh, catalog::MICROSOFT_OFFICE),
        None,
        span,
    );
    vec![released.token, refresh.token]
}

/// A token no sign-in issued, presented by a non-first-party app to enumerate the directory.
fn orphan_token<'t>(day: &mut Day<'t, '_>, victim: &'t User) -> Option<Injected> {
    let (net, at) = hosting(day);
    let app = App {
        id: day.rng.guid(),
        name: "graph-enum",
    };
    let jitter = day.rng.range(0, 300);
    let issued = day.at(15 * 3600 + jitter * 60);
    let mut span = Span::new();
    let token = orphan_core(
        day,
        victim,
        (at, app, issued),
        &[
            "https://graph.microsoft.com/v1.0/users?$top=999",
            "https://graph.microsoft.com/v1.0/groups?$top=999",
            "https://graph.microsoft.com/v1.0/organization",
            "https://graph.microsoft.com/v1.0/servicePrincipals?$top=999",
        ],
        &mut span,
    );
    Some((
        (span, vec![token]),
        None,
        format!(
            "A token matching no sign-in, issued to the unknown app {}, enumerated the directory from {} (AS{}).",
            app.id, net.name, net.asn
        ),
    ))
}

/// A token no sign-in issued, issued to `app` at `issued`, used from `at` for each of `uris`
/// (a Graph call every 35 seconds from two minutes on); returns its id.
pub(crate) fn orphan_core<'t>(
    day: &mut Day<'t, '_>,
    victim: &'t User,
    (at, app, issued): (Endpoint, App, Timestamp),
    uris: &[&str],
    span: &mut Span,
) -> Guid {
    let token = TokenUse {
        token: day.rng.guid(),
        session: None,
        issued_at: issued,
    };
    for (k, uri) in uris.iter().enumerate() {
        let when = issued.plus_secs(120 + k as i64 * 35);
        day.graph_call(
            when,
            Some(victim),
            None,
            app,
            token,
            at.ip,
            ("GET", uri.to_string()),
            (catalog::UA_PYTHON, 0, "Directory.Read.All User.Read", ""),
            None,
        );
        span.add(when);
    }
    token.token
}

/// A session that exists only in non-interactive sign-ins (a refresh token minted elsewhere),
/// used for mail and files from a VPS.
fn no_interactive_root<'t>(day: &mut Day<'t, '_>, victim: &'t User) -> Option<Injected> {
    let (net, at) = hosting(day);
    let session = day.rng.guid();
    let mut span = Span::new();
    let jitter = day.rng.range(0, 240);
    let t0 = day.at(16 * 3600 + jitter * 60);
    let tokens = replay_for_mail_and_files(
        day,
        victim,
        ReplayFrom {
            at,
            session,
            app: catalog::OUTLOOK_MOBILE,
            start: t0,
            files_delay_secs: (120, 600),
            device: None,
        },
        &mut span,
    );
    Some((
        (span, tokens),
        Some(session),
        format!(
            "A session with no interactive sign-in anywhere redeemed refresh tokens from {} (AS{}) and read mail and files.",
            net.name, net.asn
        ),
    ))
}

/// OAuth consent phishing: the victim signs in to an app the tenant never used; its backend
/// (a confidential client on a VPS) refreshes the token and reads mail through Graph.
fn unapproved_client<'t>(
    day: &mut Day<'t, '_>,
    victim: &'t User,
    ctx: &DayContext,
) -> Option<Injected> {
    let victim_at = ctx.root_at.unwrap_or(victim.home);
    let (net, at) = hosting(day);
    let app = App {
        id: day.rng.guid(),
        name: "Mail Archiver Pro",
    };
    let session = day.rng.guid();
    let mut span = Span::new();
    let jitter = day.rng.range(0, 240);
    let when = day.at(13 * 3600 + jitter * 60);
    let token = consent_core(day, victim, (victim_at, at), app, session, when, &mut span);
    Some((
        (span, vec![token]),
        Some(session),
        format!(
            "The never-before-seen app \"{}\" ({}) was consented by the user and read mail from {} (AS{}).",
            app.name, app.id, net.name, net.asn
        ),
    ))
}

/// OAuth consent phishing at `when`: the victim (on `victim_at`) consents to `app`, whose
/// backend (a confidential client on `at`) refreshes the token and reads mail through Graph;
/// returns the refreshed token's id.
pub(crate) fn consent_core<'t>(
    day: &mut Day<'t, '_>,
    victim: &'t User,
    (victim_at, at): (Endpoint, Endpoint),
    app: App,
    session: Guid,
    when: Timestamp,
    span: &mut Span,
) -> Guid {
    let mut consent = day.user_sign_in(
        SignInKind::Interactive,
        victim,
        when,
        app,
        catalog::GRAPH,
        victim_at,
        Some(&victim.laptop),
        Some(session),
    );
    consent.protocol = "oAuth2";
    day.logon_record(&consent, victim);
    day.push_sign_in(consent);
    // The app's own refresh: a confidential client, so the row logs the victim's original
    // address, not the VPS that made the call.
    let later = when.plus_secs(day.rng.range(300, 1200));
    let mut refresh = day.user_sign_in(
        SignInKind::NonInteractive,
        victim,
        later,
        app,
        catalog::GRAPH,
        victim_at,
        None,
        Some(session),
    );
    refresh.credential = "clientSecret";
    refresh.protocol = "oAuth2";
    refresh.user_agent = catalog::UA_PYTHON;
    let token = day.push_sign_in(refresh);
    span.add(token.issued_at);
    for k in 0..day.rng.range(5, 10) {
        let t = token.issued_at.plus_secs(10 + k * day.rng.range(5, 30));
        let uri = mail_uri(day);
        day.graph_call(
            t,
            Some(victim),
            None,
            app,
            token,
            at.ip,
            ("GET", uri),
            (
                catalog::UA_PYTHON,
                1,
                "Mail.Read offline_access User.Read",
                "",
            ),
            None,
        );
        span.add(t);
        if k % 3 == 0 {
            let t = t.plus_secs(1);
            day.mail_access(
                t,
                victim,
                at.ip,
                app,
                catalog::GRAPH,
                Some(token),
                "Bind",
                "Client=REST;;",
                None,
            );
            span.add(t);
        }
    }
    token.token
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    fn per_kind(
        plan: &BTreeMap<(u32, u32), Vec<AttackKind>>,
    ) -> BTreeMap<AttackKind, Vec<(u32, u32)>> {
        let mut out: BTreeMap<AttackKind, Vec<(u32, u32)>> = BTreeMap::new();
        for (&slot, kinds) in plan {
            for &k in kinds {
                out.entry(k).or_default().push(slot);
            }
        }
        out
    }

    #[test]
    fn one_attack_of_each_kind_per_hundred_people_spread_after_the_first_day() {
        let plan = plan(7, 500, 7, &AttackKind::ALL);
        let kinds = per_kind(&plan);
        assert_eq!(kinds.len(), 6);
        for (kind, slots) in &kinds {
            assert_eq!(slots.len(), 5, "{kind:?}");
            let days: BTreeSet<u32> = slots.iter().map(|s| s.0).collect();
            assert_eq!(days.len(), 5, "{kind:?} spread over the days: {slots:?}");
            assert!(days.iter().all(|&d| (1..7).contains(&d)), "{slots:?}");
        }
        // 30 attacks, 30 different victims, none the automation account (index 500).
        let victims: BTreeSet<u32> = plan.keys().map(|s| s.1).collect();
        assert_eq!(victims.len(), 30);
        assert!(victims.iter().all(|&v| v < 500));
        assert_eq!(plan, super::plan(7, 500, 7, &AttackKind::ALL));
        assert_ne!(plan, super::plan(8, 500, 7, &AttackKind::ALL));
    }

    #[test]
    fn small_and_short_tenants() {
        assert_eq!(first_attack_day(1), 0);
        assert_eq!(first_attack_day(2), 1);
        // One day: everything on it.
        let one = plan(3, 30, 1, &AttackKind::ALL);
        assert!(one.keys().all(|s| s.0 == 0));
        assert_eq!(one.values().map(Vec::len).sum::<usize>(), 6);
        // Two days: everything on the second.
        let two = plan(3, 30, 2, &AttackKind::ALL);
        assert!(two.keys().all(|s| s.0 == 1));
        // 101 people: two of each kind.
        let kinds = per_kind(&plan(3, 101, 4, &AttackKind::ALL));
        assert!(kinds.values().all(|s| s.len() == 2));
        // Fewer people than attacks: victims are reused, no attack is dropped.
        let tiny = plan(3, 4, 3, &AttackKind::ALL);
        assert_eq!(tiny.values().map(Vec::len).sum::<usize>(), 6);
        assert!(tiny.keys().all(|s| s.1 < 4 && s.0 >= 1));
        assert!(plan(3, 30, 3, &[]).is_empty());
    }
}
