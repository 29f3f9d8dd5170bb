//! Network identity: which network an address belongs to, and whether two networks differ.
//!
//! The ASN of an address comes, in order, from the sign-in rows themselves (every row carries
//! `autonomousSystemNumber` for its IP, and that ASN is given to every record with the same IP),
//! from the optional MaxMind database, and from a neighbour: an address without an ASN whose /24
//! (IPv4) or /48 (IPv6) holds sign-in addresses of exactly one ASN is taken to be in that ASN,
//! with lower confidence. Otherwise the prefix itself stands in for the network, flagged as
//! approximate. Two networks differ *for certain* only when both ASNs are known and differ.

use rustc_hash::FxHashMap;
use std::net::IpAddr;

use tokentrail_model::{Confidence, NetworkId};

use crate::asn::AsnDb;
use crate::catalog::{Catalog, MICROSOFT_ASN};

/// Where an address's ASN came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AsnOrigin {
    /// A sign-in row logged it with this IP.
    SignIn,
    /// The MaxMind database.
    Database,
    /// Inferred from sign-in addresses in the same /24 or /48.
    Neighbour,
}

/// One address and the network it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Net {
    pub ip: IpAddr,
    pub id: NetworkId,
    pub origin: Option<AsnOrigin>,
    pub microsoft: bool,
    pub hosting: bool,
}

impl Net {
    pub fn asn(&self) -> Option<u32> {
        match self.id {
            NetworkId::Asn(n) => Some(n),
            NetworkId::Prefix(..) => None,
        }
    }

    fn certain(&self) -> bool {
        matches!(self.origin, Some(AsnOrigin::SignIn | AsnOrigin::Database))
    }
}

/// How two networks relate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Relation {
    /// The same network.
    Same,
    /// Different networks, with this much confidence.
    Differ(Confidence),
    /// Cannot tell: an IPv4 and an IPv6 address without ASNs on both sides (dual stack).
    Unknown,
}

/// Compare two networks. Both ASNs known: equal or not (high confidence when both came from the
/// logs or the database, medium when one was inferred from a neighbour). Otherwise the prefixes:
/// equal prefixes are one network; different prefixes of one address family differ with low
/// confidence; different families cannot be compared.
pub(crate) fn relate(a: &Net, b: &Net) -> Relation {
    if let (Some(x), Some(y)) = (a.asn(), b.asn()) {
        if x == y {
            return Relation::Same;
        }
        return Relation::Differ(if a.certain() && b.certain() {
            Confidence::High
        } else {
            Confidence::Medium
        });
    }
    if NetworkId::prefix_of(a.ip) == NetworkId::prefix_of(b.ip) {
        return Relation::Same;
    }
    if a.ip.is_ipv4() != b.ip.is_ipv4() {
        return Relation::Unknown;
    }
    Relation::Differ(Confidence::Low)
}

/// Compare `candidate` with a set of home networks: the same as any of them is home; otherwise
/// new when it could be compared with at least one of them (the least confidence of those
/// comparisons; an IPv6 prefix says nothing about an IPv4 home, so such pairs are skipped), and
/// unknown when it could be compared with none.
pub(crate) fn relate_to_any<'n>(
    candidate: &Net,
    home: impl IntoIterator<Item = &'n Net>,
) -> Relation {
    let mut least: Option<Confidence> = None;
    for h in home {
        match relate(candidate, h) {
            Relation::Same => return Relation::Same,
            Relation::Unknown => {}
            Relation::Differ(c) => least = Some(least.map_or(c, |l| l.min(c))),
        }
    }
    least.map_or(Relation::Unknown, Relation::Differ)
}

/// How many sign-in rows logged each (address, ASN) pair: what [`Networks::learn`] needs of the
/// sign-ins, added up across partitions of a tenant.
pub(crate) type AsnVotes = FxHashMap<(IpAddr, u32), u64>;

/// Count the (address, logged ASN or 0) of sign-ins into `votes` (rows without an ASN say
/// nothing).
pub(crate) fn count_votes(votes: &mut AsnVotes, sign_ins: impl IntoIterator<Item = (IpAddr, u32)>) {
    for (ip, asn) in sign_ins {
        if asn != 0 {
            *votes.entry((ip, asn)).or_default() += 1;
        }
    }
}

/// Resolves addresses to networks for one run.
pub(crate) struct Networks<'a> {
    by_ip: FxHashMap<IpAddr, u32>,
    by_prefix: FxHashMap<NetworkId, u32>,
    db: Option<&'a AsnDb>,
    catalog: &'a Catalog,
}

impl<'a> Networks<'a> {
    /// Resolve addresses with the ASNs the sign-in rows logged (`votes`): an IP logged with
    /// several ASNs keeps the most frequent one (the smallest number on a tie), so the answer
    /// depends neither on order nor on how the sign-ins were split into partitions.
    pub fn learn(votes: &AsnVotes, db: Option<&'a AsnDb>, catalog: &'a Catalog) -> Self {
        let mut by_ip: FxHashMap<IpAddr, (u32, u64)> =
            FxHashMap::with_capacity_and_hasher(votes.len(), Default::default());
        for (&(ip, asn), &n) in votes {
            let best = by_ip.entry(ip).or_insert((asn, n));
            if n > best.1 || n == best.1 && asn < best.0 {
                *best = (asn, n);
            }
        }
        let by_ip: FxHashMap<IpAddr, u32> = by_ip.into_iter().map(|(ip, (a, _))| (ip, a)).collect();
        // Per prefix, its one ASN, or none when its addresses have several.
        let mut prefixes: FxHashMap<NetworkId, Option<u32>> = FxHashMap::default();
        for (ip, asn) in &by_ip {
            prefixes
                .entry(NetworkId::prefix_of(*ip))
                .and_modify(|one| {
                    if *one != Some(*asn) {
                        *one = None;
                    }
                })
                .or_insert(Some(*asn));
        }
        let by_prefix = prefixes
            .into_iter()
            .filter_map(|(p, one)| Some((p, one?)))
            .collect();
        Networks {
            by_ip,
            by_prefix,
            db,
            catalog,
        }
    }

    /// The network of `ip`.
    pub fn resolve(&self, ip: IpAddr) -> Net {
        let found = self
            .by_ip
            .get(&ip)
            .map(|a| (*a, AsnOrigin::SignIn))
            .or_else(|| {
                self.db
                    .and_then(|db| db.lookup(ip))
                    .map(|a| (a, AsnOrigin::Database))
            })
            .or_else(|| {
                self.by_prefix
                    .get(&NetworkId::prefix_of(ip))
                    .map(|a| (*a, AsnOrigin::Neighbour))
            });
        let (id, origin) = match found {
            Some((asn, origin)) => (NetworkId::Asn(asn), Some(origin)),
            None => (NetworkId::prefix_of(ip), None),
        };
        let asn = found.map(|(a, _)| a);
        // Microsoft's own fetching is its published service ranges only: the rest of AS8075 is
        // Azure, where anyone rents a machine.
        let microsoft = self.catalog.microsoft.contains(ip);
        Net {
            ip,
            id,
            origin,
            microsoft,
            hosting: !microsoft
                && asn.is_some_and(|a| a == MICROSOFT_ASN || self.catalog.hosting.contains(&a)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(ip: &str, asn: Option<u32>) -> Net {
        let ip: IpAddr = ip.parse().unwrap();
        Net {
            ip,
            id: asn.map_or(NetworkId::prefix_of(ip), NetworkId::Asn),
            origin: asn.map(|_| AsnOrigin::SignIn),
            microsoft: false,
            hosting: false,
        }
    }

    #[test]
    fn relations() {
        let home4 = net("198.51.100.7", Some(64500));
        let home6 = net("2001:db8:1::7", Some(64500));
        assert_eq!(relate(&home4, &home6), Relation::Same);
        assert_eq!(
            relate(&home4, &net("203.0.113.9", Some(64501))),
            Relation::Differ(Confidence::High)
        );
        assert_eq!(relate(&home4, &net("198.51.100.99", None)), Relation::Same);
        assert_eq!(
            relate(&home4, &net("203.0.113.9", None)),
            Relation::Differ(Confidence::Low)
        );
        assert_eq!(
            relate(&home4, &net("2001:db8:9::1", None)),
            Relation::Unknown
        );
        assert_eq!(
            relate_to_any(&net("2001:db8:9::1", None), [&home4, &home6]),
            Relation::Differ(Confidence::Low)
        );
        assert_eq!(relate_to_any(&home4, []), Relation::Unknown);
    }
}
