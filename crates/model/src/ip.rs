//! Client IP addresses as the logs write them.
//!
//! UAL `ClientIP` may carry a port (`1.2.3.4:5678`, `[2001:db8::1]:443`); some records hold an
//! IPv4-mapped IPv6 address (`::ffff:1.2.3.4`), which is the IPv4 client.

use std::net::IpAddr;

/// Parse a logged client address, stripping ports, brackets and zone ids, and unmapping
/// IPv4-mapped IPv6. `None` when the text is not an address.
pub fn parse_client_ip(text: &str) -> Option<IpAddr> {
    let t = crate::text::trim(text);
    if t.is_empty() {
        return None;
    }
    let ip = if let Some(rest) = t.strip_prefix('[') {
        let end = rest.find(']')?;
        parse_bare(&rest[..end])?
    } else if let Ok(ip) = t.parse::<IpAddr>() {
        ip
    } else if let Some((host, port)) = t.rsplit_once(':') {
        // Only a single colon means "v4:port"; bare IPv6 parsed above.
        if host.contains(':') || port.parse::<u16>().is_err() {
            parse_bare(t)?
        } else {
            host.parse::<IpAddr>().ok()?
        }
    } else {
        return None;
    };
    Some(unmap(ip))
}

fn parse_bare(t: &str) -> Option<IpAddr> {
    let t = t.split('%').next().unwrap_or(t);
    t.parse::<IpAddr>().ok()
}

fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        parse_client_ip(s)
            .map(|i| i.to_string())
            .unwrap_or_else(|| "NONE".into())
    }

    #[test]
    fn strips_ports_and_brackets() {
        assert_eq!(p("1.2.3.4"), "1.2.3.4");
        assert_eq!(p(" 1.2.3.4:5678 "), "1.2.3.4");
        assert_eq!(p("[2001:db8::1]:443"), "2001:db8::1");
        assert_eq!(p("[2001:db8::1]"), "2001:db8::1");
        assert_eq!(p("2001:db8::1"), "2001:db8::1");
        assert_eq!(p("::ffff:10.0.0.1"), "10.0.0.1");
        assert_eq!(p("fe80::1%eth0"), "fe80::1");
        assert_eq!(p(""), "NONE");
        assert_eq!(p("not-an-ip"), "NONE");
        assert_eq!(p("1.2.3.4:port"), "NONE");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,50}") {
            let _ = parse_client_ip(&s);
        }
    }
}
