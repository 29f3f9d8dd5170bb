//! What the engine concluded about the networks of the input, for the tools that show records
//! beside the findings (`investigate`, the HTML report): the network of every address (with the
//! `--asn-db` database and the neighbour inference the rules used), whether it is Microsoft's own
//! service or a hosting provider, and which networks are each user's own. Those tools read it
//! here instead of working it out again, so they cannot disagree with the findings.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::Serialize;
use tokentrail_model::NetworkId;

use crate::correlate::{is_root_kind, Context};
use crate::store::sflag;

/// One address as the rules saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct KnownAddress {
    /// Its network: the ASN (from the sign-in logs, the database or a neighbour), else its /24
    /// or /48 prefix.
    pub network: NetworkId,
    /// In Microsoft's published service ranges: the service acting for the user, never a
    /// replay.
    pub microsoft: bool,
    /// A hosting or VPS provider (built-in list of ASNs).
    pub hosting: bool,
}

/// See the module docs. Users are keyed by object id and by UPN, trimmed and lower-cased.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KnownNetworks {
    addresses: BTreeMap<IpAddr, KnownAddress>,
    own: BTreeMap<String, BTreeSet<NetworkId>>,
}

fn key(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_ascii_lowercase())
}

impl KnownNetworks {
    /// Read every address's network off the context, and each user's own networks: those of
    /// their successful interactive sign-ins (and UAL logons) and of their successful sign-ins
    /// that prove the device (managed or compliant, a PRT, token binding), hosting networks
    /// excepted (an attacker signs in from a VPS as easily as anyone).
    pub(crate) fn learn(cx: &Context<'_>) -> KnownNetworks {
        let addresses = cx
            .store
            .ips
            .syms()
            .filter_map(|ip| {
                let net = cx.net_of(ip)?;
                Some((
                    net.ip,
                    KnownAddress {
                        network: net.id,
                        microsoft: net.microsoft,
                        hosting: net.hosting,
                    },
                ))
            })
            .collect();
        let mut own: BTreeMap<String, BTreeSet<NetworkId>> = BTreeMap::new();
        for (i, s) in cx.sign_ins.iter().enumerate() {
            if !s.succeeded() || !(is_root_kind(s.kind) || s.has(sflag::PROVES_DEVICE)) {
                continue;
            }
            let Some(net) = cx.sign_in_net(i).filter(|n| !n.hosting) else {
                continue;
            };
            for user in [s.user_id, s.upn]
                .into_iter()
                .filter_map(|u| cx.text(u).and_then(key))
            {
                own.entry(user).or_default().insert(net.id);
            }
        }
        KnownNetworks { addresses, own }
    }

    /// Add what another partition of the same tenant concluded (its addresses resolve alike:
    /// every partition learns from the whole tenant's ASNs).
    pub(crate) fn add(&mut self, other: KnownNetworks) {
        self.addresses.extend(other.addresses);
        for (user, nets) in other.own {
            self.own.entry(user).or_default().extend(nets);
        }
    }

    /// How the rules saw `ip`; `None` for an address that is in no record.
    pub fn address(&self, ip: IpAddr) -> Option<&KnownAddress> {
        self.addresses.get(&ip)
    }

    /// The network of `ip`: as the rules resolved it, else (an address in no record) its prefix.
    pub fn network_of(&self, ip: IpAddr) -> NetworkId {
        self.address(ip)
            .map_or_else(|| NetworkId::prefix_of(ip), |a| a.network)
    }

    /// The networks that are `user`'s own (object id or UPN, any case; see
    /// [`KnownNetworks::learn`]).
    pub fn own_networks(&self, user: &str) -> Option<&BTreeSet<NetworkId>> {
        self.own.get(&key(user)?)
    }

    /// True when `network` is the own network of one of `users`.
    pub fn is_own<'u>(&self, users: impl IntoIterator<Item = &'u str>, network: NetworkId) -> bool {
        users
            .into_iter()
            .filter_map(|u| self.own_networks(u))
            .any(|n| n.contains(&network))
    }
}
