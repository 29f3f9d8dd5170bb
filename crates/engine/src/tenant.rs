//! What the rules learn from the whole tenant rather than from one user: the ASN each address was
//! logged with, the client inventory, the span and the number of users, the tenant's own
//! networks. (The coverage of the sign-in logs is tenant-wide too; its builders add up the same
//! way, see [`crate::coverage::CoverageBuilder::add_builder`].)
//!
//! A tenant too large for memory is judged in partitions of its users (see [`crate::partition`]):
//! each partition's engine learns its [`TenantShare`], the shares add up to one [`Tenant`], and
//! every partition is then judged against that. Users never span partitions, so what is counted
//! per user (distinct users per client, per network) adds up without double counting. An engine
//! that sees the whole tenant goes the same way with one share, so both give the same findings.

use std::net::IpAddr;

use rustc_hash::{FxHashMap, FxHashSet};
use tokentrail_model::{NetworkId, Timestamp};

use crate::asn::AsnDb;
use crate::catalog::Catalog;
use crate::correlate::TENANT_NETWORK_USERS;
use crate::network::{AsnVotes, Networks};

/// How one client app is used in the tenant, as the input shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ClientUse {
    /// Users seen with it (sign-ins and delegated accesses).
    pub users: usize,
    /// Distinct UTC days it was seen on (days since the epoch).
    pub days: FxHashSet<i64>,
    /// Its first record.
    pub first_seen: Option<Timestamp>,
}

impl ClientUse {
    fn add(&mut self, other: ClientUse) {
        self.users += other.users;
        self.days.extend(other.days);
        self.first_seen = match (self.first_seen, other.first_seen) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// One partition's share of what is tenant-wide.
#[derive(Debug, Default)]
pub(crate) struct TenantShare {
    /// (address, logged ASN) -> sign-in rows.
    pub votes: AsnVotes,
    /// Client app id (trimmed, lower case) -> its use by this partition's users.
    pub inventory: FxHashMap<String, ClientUse>,
    /// The first and last user sign-in.
    pub span: Option<(Timestamp, Timestamp)>,
    /// Distinct users.
    pub users: usize,
    /// (address, user) -> the user's first device-proven sign-in from it. Users are numbered by
    /// a hash of their key, the same in every partition.
    pub device_firsts: FxHashMap<(IpAddr, u64), Timestamp>,
}

impl TenantShare {
    /// Add another partition's share.
    pub fn add(&mut self, other: TenantShare) {
        for (k, n) in other.votes {
            *self.votes.entry(k).or_default() += n;
        }
        for (app, used) in other.inventory {
            self.inventory.entry(app).or_default().add(used);
        }
        self.span = match (self.span, other.span) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (a, b) => a.or(b),
        };
        self.users += other.users;
        for (k, t) in other.device_firsts {
            self.device_firsts
                .entry(k)
                .and_modify(|f| *f = (*f).min(t))
                .or_insert(t);
        }
    }
}

/// What is tenant-wide, learned from every partition's share.
pub(crate) struct Tenant<'a> {
    /// Resolves addresses with the ASNs all sign-ins logged.
    pub networks: Networks<'a>,
    pub inventory: FxHashMap<String, ClientUse>,
    pub span: Option<(Timestamp, Timestamp)>,
    pub user_count: usize,
    /// Per /24 or /48 prefix where devices of at least [`TENANT_NETWORK_USERS`] users proved
    /// themselves (hosting and Microsoft's own ranges never count): when the last of those
    /// users first did.
    pub tenant_networks: FxHashMap<NetworkId, Timestamp>,
}

impl<'a> Tenant<'a> {
    pub fn learn(share: &TenantShare, db: Option<&'a AsnDb>, catalog: &'a Catalog) -> Tenant<'a> {
        let networks = Networks::learn(&share.votes, db, catalog);
        let mut prefix_users: FxHashMap<NetworkId, FxHashMap<u64, Timestamp>> =
            FxHashMap::default();
        for (&(ip, user), &first) in &share.device_firsts {
            let net = networks.resolve(ip);
            if net.hosting || net.microsoft {
                continue;
            }
            prefix_users
                .entry(NetworkId::prefix_of(ip))
                .or_default()
                .entry(user)
                .and_modify(|t| *t = (*t).min(first))
                .or_insert(first);
        }
        let tenant_networks = prefix_users
            .into_iter()
            .filter_map(|(prefix, users)| {
                let mut firsts: Vec<Timestamp> = users.into_values().collect();
                firsts.sort_unstable();
                Some((prefix, *firsts.get(TENANT_NETWORK_USERS - 1)?))
            })
            .collect();
        Tenant {
            networks,
            inventory: share.inventory.clone(),
            span: share.span,
            user_count: share.users,
            tenant_networks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_secs(1_700_000_000 + secs)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0u8; 4]))
    }

    /// One partition's share: each user's first device-proven sign-in per address, the ASNs it
    /// logged, one client.
    fn share(
        users: &[(u64, &str, i64)],
        votes: &[(&str, u32, u64)],
        client_users: usize,
    ) -> TenantShare {
        let mut s = TenantShare::default();
        for (user, addr, secs) in users {
            s.device_firsts.insert((ip(addr), *user), at(*secs));
        }
        for (addr, asn, n) in votes {
            s.votes.insert((ip(addr), *asn), *n);
        }
        s.inventory.insert(
            "app".into(),
            ClientUse {
                users: client_users,
                days: [19_700, 19_701].into_iter().collect(),
                first_seen: Some(at(client_users as i64)),
            },
        );
        s.users = users.len();
        s.span = Some((at(0), at(100 * client_users as i64)));
        s
    }

    #[test]
    fn shares_of_partitions_add_up_to_the_tenant() {
        // Three users, each in a partition of their own, proved their devices in one /24: the
        // third user's first sign-in there makes it the tenant's network.
        let mut total = share(&[(1, "100.64.8.8", 50)], &[("100.64.8.8", 64_530, 2)], 1);
        total.add(share(
            &[(2, "100.64.8.9", 30), (2, "100.64.8.8", 10)],
            &[("100.64.8.8", 64_531, 1), ("100.64.8.8", 64_530, 1)],
            2,
        ));
        total.add(share(&[(3, "100.64.8.200", 70)], &[], 3));
        // Two users only in another /24.
        total.add(share(&[(4, "192.0.2.1", 5), (5, "192.0.2.2", 6)], &[], 0));
        let catalog = Catalog::builtin();
        let tenant = Tenant::learn(&total, None, &catalog);
        assert_eq!(
            tenant.tenant_networks.into_iter().collect::<Vec<_>>(),
            vec![(NetworkId::prefix_of(ip("100.64.8.0")), at(70))]
        );
        // Votes add up across partitions: 3 for AS64530 against 1.
        assert_eq!(
            tenant.networks.resolve(ip("100.64.8.8")).asn(),
            Some(64_530)
        );
        assert_eq!(tenant.user_count, 6);
        assert_eq!(tenant.span, Some((at(0), at(300))));
        let app = tenant.inventory.get("app").cloned().unwrap_or_default();
        assert_eq!(app.users, 6);
        assert_eq!(app.first_seen, Some(at(0)));
        assert_eq!(app.days.len(), 2);
    }
}
