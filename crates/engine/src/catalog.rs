//! Built-in reference data: Microsoft service prefixes, first-party and FOCI client ids, the
//! client ids token-theft tooling borrows, and hosting ASNs. The text files under `src/data/`
//! name their sources and capture dates; `scripts/gen_data.py` regenerates the Microsoft ones
//! from `shared/reference/microsoft`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::cidr::Cidr;

const MICROSOFT_RANGES: &str = include_str!("data/microsoft_ranges.txt");
const FIRST_PARTY_APPS: &str = include_str!("data/first_party_apps.txt");
const FOCI_CLIENTS: &str = include_str!("data/foci_clients.txt");
const TOOLING_CLIENTS: &str = include_str!("data/tooling_clients.txt");
const HOSTING_ASNS: &str = include_str!("data/hosting_asns.txt");

/// Microsoft's autonomous system. It announces Microsoft 365 and Azure alike, so it is no
/// excuse by itself: only [`Catalog::microsoft`] (the published service ranges) is.
pub const MICROSOFT_ASN: u32 = 8075;

/// Data lines of an embedded file: comments and blank lines dropped, split at the first tab.
fn data_lines(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_once('\t').unwrap_or((l, "")))
}

/// A sorted table of disjoint address intervals, IPv4 held as IPv4-mapped IPv6.
#[derive(Clone, Debug, Default)]
pub struct PrefixTable {
    intervals: Vec<(u128, u128)>,
}

fn as_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

impl PrefixTable {
    /// Build from prefixes; overlapping and adjacent ones merge so lookup is one binary search.
    pub fn new(prefixes: impl IntoIterator<Item = Cidr>) -> PrefixTable {
        let mut raw: Vec<(u128, u128)> = prefixes.into_iter().map(|c| c.interval()).collect();
        raw.sort_unstable();
        let mut intervals: Vec<(u128, u128)> = Vec::with_capacity(raw.len());
        for (start, end) in raw {
            match intervals.last_mut() {
                Some(last) if start <= last.1.saturating_add(1) => last.1 = last.1.max(end),
                _ => intervals.push((start, end)),
            }
        }
        PrefixTable { intervals }
    }

    /// True when `ip` lies in one of the prefixes.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let v = as_u128(ip);
        let idx = self.intervals.partition_point(|&(start, _)| start <= v);
        idx > 0
            && self
                .intervals
                .get(idx - 1)
                .is_some_and(|&(start, end)| start <= v && v <= end)
    }

    /// Number of disjoint intervals after merging.
    pub fn len(&self) -> usize {
        self.intervals.len()
    }

    /// True when the table holds nothing.
    pub fn is_empty(&self) -> bool {
        self.intervals.is_empty()
    }
}

/// The reference data, parsed once when the engine is built.
#[derive(Clone, Debug)]
pub struct Catalog {
    /// Microsoft service prefixes (M365 worldwide endpoints and the AzureAD service tag).
    pub microsoft: PrefixTable,
    /// Microsoft first-party app ids (Graph- or GitHub-sourced, plus FOCI) with their names.
    pub first_party: BTreeMap<String, String>,
    /// Family-of-client-ids members.
    pub foci: BTreeSet<String>,
    /// Public clients token-theft tooling impersonates.
    pub tooling: BTreeMap<String, String>,
    /// Hosting and VPS autonomous systems (AS8075 not among them: see `data/hosting_asns.txt`).
    pub hosting: BTreeSet<u32>,
}

impl Catalog {
    /// Parse the embedded data files.
    pub fn builtin() -> Catalog {
        let microsoft = PrefixTable::new(
            data_lines(MICROSOFT_RANGES).filter_map(|(cidr, _)| Cidr::parse(cidr)),
        );
        let mut first_party: BTreeMap<String, String> = data_lines(FIRST_PARTY_APPS)
            .map(|(id, name)| (id.to_ascii_lowercase(), name.to_string()))
            .collect();
        let mut foci = BTreeSet::new();
        for (id, name) in data_lines(FOCI_CLIENTS) {
            let id = id.to_ascii_lowercase();
            first_party
                .entry(id.clone())
                .or_insert_with(|| name.to_string());
            foci.insert(id);
        }
        let tooling: BTreeMap<String, String> = data_lines(TOOLING_CLIENTS)
            .map(|(id, name)| (id.to_ascii_lowercase(), name.to_string()))
            .collect();
        for (id, name) in &tooling {
            // Every tooling default is a Microsoft public client, even the ones the first-party
            // list lacks.
            first_party
                .entry(id.clone())
                .or_insert_with(|| name.clone());
        }
        let hosting = data_lines(HOSTING_ASNS)
            .filter_map(|(asn, _)| asn.trim().parse::<u32>().ok())
            .collect();
        Catalog {
            microsoft,
            first_party,
            foci,
            tooling,
            hosting,
        }
    }

    /// True for a Microsoft first-party client id.
    pub fn is_first_party(&self, app_id: &str) -> bool {
        self.first_party.contains_key(&app_id.to_ascii_lowercase())
    }

    /// True for a client id token-theft tooling defaults to.
    pub fn is_tooling(&self, app_id: &str) -> bool {
        self.tooling.contains_key(&app_id.to_ascii_lowercase())
    }

    /// A display name for a client id, when the reference data knows it.
    pub fn app_name(&self, app_id: &str) -> Option<&str> {
        self.first_party
            .get(&app_id.to_ascii_lowercase())
            .map(String::as_str)
            .filter(|n| !n.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_line_parses() {
        let ranges = data_lines(MICROSOFT_RANGES).count();
        let parsed = data_lines(MICROSOFT_RANGES)
            .filter(|(c, _)| Cidr::parse(c).is_some())
            .count();
        assert_eq!(ranges, parsed);
        assert_eq!(ranges, 377);
        assert_eq!(
            data_lines(HOSTING_ASNS).count(),
            Catalog::builtin().hosting.len()
        );
    }

    #[test]
    fn microsoft_ranges_cover_entra_sign_in_addresses() {
        let c = Catalog::builtin();
        assert!(c.microsoft.contains("20.190.128.10".parse().unwrap()));
        assert!(c.microsoft.contains("40.126.0.1".parse().unwrap()));
        assert!(!c.microsoft.contains("203.0.113.9".parse().unwrap()));
        assert!(!c.microsoft.contains("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn client_lists() {
        let c = Catalog::builtin();
        assert!(c.is_tooling("04B07795-8DDB-461A-BBEE-02F9E1BF7B46"));
        assert!(!c.is_tooling("1fec8e78-bce4-4aaf-ab1b-5451cc387264"));
        assert!(c.is_first_party("1fec8e78-bce4-4aaf-ab1b-5451cc387264"));
        assert!(c.foci.contains("d3590ed6-52b3-4102-aeff-aad2292ab01c"));
        assert!(c.is_first_party("d3590ed6-52b3-4102-aeff-aad2292ab01c"));
        assert!(!c.is_first_party("11111111-2222-3333-4444-555555555555"));
        // Outlook on the web and OfficeHome come from hand-picked EntraDocs rows.
        assert!(c.is_first_party("9199bf20-a13f-4107-85dc-02114787ef48"));
        assert!(c.is_first_party("4765445b-32c6-49b0-83e6-1d93765276ca"));
        assert!(c.hosting.contains(&14061));
        // Azure is hosting for the rules (network.rs), but not on the list the inventory reads.
        assert!(!c.hosting.contains(&MICROSOFT_ASN));
    }
}
