//! CIDR prefixes (`203.0.113.0/24`, `2001:db8::/32`), used by the Microsoft range table and the
//! allowlist's `network` key.

use std::fmt;
use std::net::IpAddr;

/// An address prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    addr: IpAddr,
    len: u8,
}

impl Cidr {
    /// Parse `addr/len`, or a bare address (a host prefix). Host bits are cleared.
    pub fn parse(text: &str) -> Option<Cidr> {
        let t = text.trim();
        let (addr, len) = match t.split_once('/') {
            Some((a, l)) => (a.parse::<IpAddr>().ok()?, Some(l.parse::<u8>().ok()?)),
            None => (t.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = len.unwrap_or(max);
        if len > max {
            return None;
        }
        let cidr = Cidr { addr, len };
        let (start, _) = cidr.interval();
        let addr = match addr {
            IpAddr::V4(_) => IpAddr::V4(std::net::Ipv6Addr::from(start).to_ipv4_mapped()?),
            IpAddr::V6(_) => IpAddr::V6(start.into()),
        };
        Some(Cidr { addr, len })
    }

    /// The covered interval as IPv6 (IPv4 mapped into `::ffff:0:0/96`) integers.
    pub fn interval(self) -> (u128, u128) {
        let (value, bits) = match self.addr {
            IpAddr::V4(v4) => (u128::from(v4.to_ipv6_mapped()), u32::from(self.len) + 96),
            IpAddr::V6(v6) => (u128::from(v6), u32::from(self.len)),
        };
        let host_bits = 128 - bits.min(128);
        let mask = if host_bits >= 128 {
            0
        } else {
            u128::MAX << host_bits
        };
        let start = value & mask;
        (start, start | !mask)
    }

    /// True when `ip` lies inside the prefix (an IPv4 address never matches an IPv6 prefix
    /// other than the mapped range, and the other way round).
    pub fn contains(self, ip: IpAddr) -> bool {
        let v = match ip {
            IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
            IpAddr::V6(v6) => u128::from(v6),
        };
        let (start, end) = self.interval();
        start <= v && v <= end
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let c = Cidr::parse("203.0.113.77/24").unwrap();
        assert_eq!(c.to_string(), "203.0.113.0/24");
        assert!(c.contains("203.0.113.1".parse().unwrap()));
        assert!(!c.contains("203.0.114.1".parse().unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("203.0.113.1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert_eq!(Cidr::parse("10.0.0.1").unwrap().to_string(), "10.0.0.1/32");
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
        assert_eq!(Cidr::parse("nope/8"), None);
    }
}
