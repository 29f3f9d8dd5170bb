//! The simulated tenant: its users (with their devices and networks) and its service
//! principals. Built once from the seed; memory grows with the number of users only.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tokentrail_model::{Guid, SignInKind};

use crate::catalog::{self, App, NetDef};
use crate::rng::Rng;

/// An address on a network.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Endpoint {
    pub(crate) ip: IpAddr,
    pub(crate) net: &'static NetDef,
}

/// A fresh IPv4 address inside the network's /16.
pub(crate) fn v4_in(net: &'static NetDef, rng: &mut Rng) -> Endpoint {
    let c = rng.range(1, 254) as u8;
    let d = rng.range(2, 253) as u8;
    Endpoint {
        ip: IpAddr::V4(Ipv4Addr::new(net.v4[0], net.v4[1], c, d)),
        net,
    }
}

/// A fresh IPv6 address inside the network's /48.
pub(crate) fn v6_in(net: &'static NetDef, rng: &mut Rng) -> Endpoint {
    let r = rng.next_u64();
    let s = rng.next_u64();
    Endpoint {
        ip: IpAddr::V6(Ipv6Addr::new(
            net.v6[0],
            net.v6[1],
            net.v6[2],
            (r >> 48) as u16,
            (r >> 32) as u16,
            (r >> 16) as u16,
            r as u16,
            (s as u16) | 1,
        )),
        net,
    }
}

/// A device as the sign-in log describes it.
#[derive(Clone, Debug)]
pub(crate) struct Device {
    pub(crate) id: Option<Guid>,
    pub(crate) name: String,
    pub(crate) os: &'static str,
    pub(crate) browser: &'static str,
    pub(crate) managed: bool,
    pub(crate) compliant: bool,
    pub(crate) trust: Option<&'static str>,
}

impl Device {
    /// A device Entra knows nothing about (no id): a personal browser, an attacker's machine.
    pub(crate) fn unregistered(os: &'static str, browser: &'static str) -> Device {
        Device {
            id: None,
            name: String::new(),
            os,
            browser,
            managed: false,
            compliant: false,
            trust: None,
        }
    }
}

/// One user of the tenant.
#[derive(Clone, Debug)]
pub(crate) struct User {
    pub(crate) index: u32,
    pub(crate) upn: String,
    pub(crate) id: Guid,
    pub(crate) name: String,
    /// Multiplier of the daily volume; heavy-tailed so a few users make most of the traffic.
    pub(crate) activity: f64,
    pub(crate) home: Endpoint,
    pub(crate) home_v6: Endpoint,
    pub(crate) office: usize,
    pub(crate) office_v6: Endpoint,
    pub(crate) carrier: &'static NetDef,
    pub(crate) laptop: Device,
    pub(crate) phone: Option<Device>,
    pub(crate) browser: Option<Device>,
    pub(crate) mailbox: Guid,
    /// A user account driven by a script (delegated automation), not a person.
    pub(crate) automation: bool,
    /// Its `UserKey` in SharePoint records (a PUID-like hex string).
    pub(crate) puid: String,
}

/// A service principal or managed identity that signs in with its own credentials.
#[derive(Clone, Debug)]
pub(crate) struct ServicePrincipal {
    pub(crate) app: App,
    pub(crate) object_id: Guid,
    pub(crate) kind: SignInKind,
    pub(crate) credential: &'static str,
    /// Graph `ClientAuthMethod`: 1 secret, 2 certificate.
    pub(crate) auth_method: u8,
    pub(crate) key_id: Guid,
    pub(crate) roles: &'static str,
    pub(crate) user_agent: &'static str,
    /// Sign-ins per day.
    pub(crate) per_day: u32,
}

/// The whole tenant.
#[derive(Clone, Debug)]
pub(crate) struct Tenant {
    pub(crate) users: Vec<User>,
    pub(crate) principals: Vec<ServicePrincipal>,
    /// Each office's outbound NAT addresses (IPv4 is shared, IPv6 is per user).
    pub(crate) office_nat: Vec<Vec<Endpoint>>,
    /// The confidential web app's outbound addresses.
    pub(crate) app_service: Vec<Endpoint>,
    /// The automation account's fixed outbound address.
    pub(crate) automation_ip: Endpoint,
}

fn hex16(rng: &mut Rng) -> String {
    format!(
        "{:016X}",
        rng.next_u64() & 0x000f_ffff_ffff_ffff | 0x1003_0000_0000_0000
    )
}

impl Tenant {
    /// Build `users` people plus one delegated automation account.
    pub(crate) fn build(seed: u64, users: u32) -> Tenant {
        let mut rng = Rng::stream(seed, &[0x7e4a47]);
        let office_nat = catalog::OFFICES
            .iter()
            .map(|o| (0..4).map(|_| v4_in(o, &mut rng)).collect())
            .collect();
        let app_service = (0..3)
            .map(|_| v4_in(&catalog::AZURE_APPS, &mut rng))
            .collect();
        let automation_ip = v4_in(&catalog::AUTOMATION_CLOUD, &mut rng);
        let mut list = Vec::with_capacity(users as usize + 1);
        for i in 0..=users {
            let mut r = Rng::stream(seed, &[0x05e7, u64::from(i)]);
            list.push(build_user(i, i == users, &mut r));
        }
        let principals = vec![
            ServicePrincipal {
                app: catalog::BACKUP_APP,
                object_id: rng.guid(),
                kind: SignInKind::ServicePrincipal,
                credential: "certificate",
                auth_method: 2,
                key_id: rng.guid(),
                roles: "Mail.Read Files.Read.All",
                user_agent: UA_SP_BACKUP,
                per_day: 24,
            },
            ServicePrincipal {
                app: catalog::HR_SYNC_APP,
                object_id: rng.guid(),
                kind: SignInKind::ServicePrincipal,
                credential: "clientSecret",
                auth_method: 1,
                key_id: rng.guid(),
                roles: "User.Read.All Group.Read.All",
                user_agent: catalog::UA_MSAL_JAVA,
                per_day: 6,
            },
            ServicePrincipal {
                app: catalog::INVOICE_FUNC,
                object_id: rng.guid(),
                kind: SignInKind::ManagedIdentity,
                credential: "managedIdentity",
                auth_method: 2,
                key_id: rng.guid(),
                roles: "Files.ReadWrite.All",
                user_agent: catalog::UA_AZURE_SDK,
                per_day: 12,
            },
        ];
        Tenant {
            users: list,
            principals,
            office_nat,
            app_service,
            automation_ip,
        }
    }

    /// Human users (the automation account is last and excluded).
    pub(crate) fn people(&self) -> &[User] {
        match self.users.split_last() {
            Some((_, people)) => people,
            None => &[],
        }
    }
}

const UA_SP_BACKUP: &str = "Microsoft.Graph.Beta/2.15.0 (Windows NT 10.0.20348; x64)";

fn build_user(index: u32, automation: bool, r: &mut Rng) -> User {
    let first = r.pick(&catalog::FIRST_NAMES).copied().unwrap_or("user");
    let last = r.pick(&catalog::LAST_NAMES).copied().unwrap_or("example");
    let (upn, name) = if automation {
        (
            format!("svc-reports@{}", catalog::DOMAIN),
            "Reports Automation".to_string(),
        )
    } else {
        (
            format!("{first}.{last}.{index}@{}", catalog::DOMAIN),
            format!(
                "{}{} {}{}",
                &first[..1].to_uppercase(),
                &first[1..],
                &last[..1].to_uppercase(),
                &last[1..]
            ),
        )
    };
    let home_net = r
        .pick(&catalog::HOME_ISPS)
        .unwrap_or(&catalog::HOME_ISPS[0]);
    let office = r.below(catalog::OFFICES.len() as u64) as usize;
    let office_net = catalog::OFFICES.get(office).unwrap_or(&catalog::OFFICES[0]);
    let carrier = r.pick(&catalog::CARRIERS).unwrap_or(&catalog::CARRIERS[0]);
    let u = r.unit();
    let activity = 0.3 + 4.0 * u * u * u;
    let laptop_hybrid = r.chance(0.5);
    let laptop = Device {
        id: Some(r.guid()),
        name: format!("CTS-LT-{:05}", index),
        os: "Windows10",
        browser: "Edge 122.0.0",
        managed: true,
        compliant: true,
        trust: Some(if laptop_hybrid {
            "Hybrid Azure AD joined"
        } else {
            "Azure AD joined"
        }),
    };
    let phone = (!automation && r.chance(0.75)).then(|| Device {
        id: Some(r.guid()),
        name: format!("iPhone-{:05}", index),
        os: "Ios 17.3.1",
        browser: "",
        managed: true,
        compliant: true,
        trust: Some("Azure AD registered"),
    });
    let browser =
        (!automation && r.chance(0.3)).then(|| Device::unregistered("MacOs", "Safari 17.3"));
    User {
        index,
        upn,
        id: r.guid(),
        name,
        activity: if automation { 1.0 } else { activity },
        home: v4_in(home_net, r),
        home_v6: v6_in(home_net, r),
        office,
        office_v6: v6_in(office_net, r),
        carrier,
        laptop,
        phone,
        browser,
        mailbox: r.guid(),
        automation,
        puid: hex16(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_is_reproducible_and_has_one_automation_account() {
        let a = Tenant::build(9, 5);
        let b = Tenant::build(9, 5);
        assert_eq!(a.users.len(), 6);
        assert_eq!(a.people().len(), 5);
        assert!(a.users[5].automation && !a.users[0].automation);
        for (x, y) in a.users.iter().zip(&b.users) {
            assert_eq!(x.upn, y.upn);
            assert_eq!(x.id, y.id);
            assert_eq!(x.home.ip, y.home.ip);
        }
        assert_eq!(a.users[5].upn, "svc-reports@contoso.example");
    }

    #[test]
    fn addresses_stay_inside_their_network() {
        let mut r = Rng::new(4);
        for net in catalog::HOSTING.iter().chain(&catalog::HOME_ISPS) {
            match v4_in(net, &mut r).ip {
                IpAddr::V4(a) => assert_eq!(a.octets()[..2], net.v4),
                IpAddr::V6(_) => panic!("v4 expected"),
            }
            match v6_in(net, &mut r).ip {
                IpAddr::V6(a) => assert_eq!(a.segments()[..3], net.v6),
                IpAddr::V4(_) => panic!("v6 expected"),
            }
        }
    }
}
