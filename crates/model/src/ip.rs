//! Client IP addresses as the logs write them.
//!
//! UAL `ClientIP` may carry a port (`1.2.3.4:5678`, `[2001:db8::1]:443`); some records hold an
//! IPv4-mapped IPv6 address (`::ffff:1.2.3.4`), which is the IPv4 client.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parse a logged client address, stripping ports, brackets and zone ids, and unmapping
/// IPv4-mapped IPv6. `None` when the text is not an address.
pub fn parse_client_ip(text: &str) -> Option<IpAddr> {
    let t = crate::text::trim(text);
    if t.is_empty() {
        return None;
    }
    // Nearly every logged address is bare dotted IPv4: read it here, and leave the general
    // readers (std's, ports, brackets, IPv6) the rest.
    if let Some(v4) = dotted_ipv4(t.as_bytes()) {
        return Some(IpAddr::V4(v4));
    }
    // And most IPv6 ones are written in full: eight groups, no `::`.
    if let Some(v6) = full_ipv6(t.as_bytes()) {
        return Some(unmap(IpAddr::V6(v6)));
    }
    general_client_ip(t)
}

/// The general reader of a trimmed, non-empty logged address (std's, ports, brackets, IPv6):
/// what the shortcuts above must agree with.
fn general_client_ip(t: &str) -> Option<IpAddr> {
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

/// `text` as std reads an [`Ipv4Addr`] (four decimal octets of at most 255, dot-separated, no
/// leading zero, nothing around them), without its general parser's per-character work.
fn dotted_ipv4(text: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut rest = text;
    for (n, octet) in octets.iter_mut().enumerate() {
        if n > 0 {
            rest = rest.strip_prefix(b".")?;
        }
        let digits = rest
            .iter()
            .take(4)
            .take_while(|c| c.is_ascii_digit())
            .count();
        let (number, after) = rest.split_at(digits);
        let value = match *number {
            [a] => u32::from(a - b'0'),
            [a, b] if a != b'0' => u32::from(a - b'0') * 10 + u32::from(b - b'0'),
            [a, b, c] if a != b'0' => {
                u32::from(a - b'0') * 100 + u32::from(b - b'0') * 10 + u32::from(c - b'0')
            }
            _ => return None,
        };
        *octet = u8::try_from(value).ok()?;
        rest = after;
    }
    rest.is_empty().then_some(Ipv4Addr::from(octets))
}

/// `text` when it is an IPv6 address in full (eight groups of one to four hex digits, either
/// case, colon-separated, nothing around them): read as std reads it. `None` for every other
/// text, IPv6 addresses with `::` or an IPv4 tail included (std's parser reads those).
fn full_ipv6(text: &[u8]) -> Option<Ipv6Addr> {
    let mut groups = [0u16; 8];
    let mut rest = text;
    for (n, group) in groups.iter_mut().enumerate() {
        if n > 0 {
            rest = rest.strip_prefix(b":")?;
        }
        let mut digits = 0;
        while let Some((&c, after)) = rest.split_first() {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => break,
            };
            if digits == 4 {
                return None;
            }
            *group = *group << 4 | u16::from(d);
            digits += 1;
            rest = after;
        }
        if digits == 0 {
            return None;
        }
    }
    rest.is_empty().then_some(Ipv6Addr::from(groups))
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

    /// The reader without the shortcuts: the shortcuts must not change an answer.
    fn parse_client_ip_general(text: &str) -> Option<IpAddr> {
        let t = crate::text::trim(text);
        if t.is_empty() {
            return None;
        }
        general_client_ip(t)
    }

    #[test]
    fn full_ipv6_reads_what_std_reads() {
        for text in [
            "2001:438:ff0:b1e:2245:ac41:9098:34df",
            "2001:0DB8:0000:0000:0000:0000:0000:0001",
            "0:0:0:0:0:0:0:0",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "0:0:0:0:0:ffff:102:304",
            "1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7:",
            ":1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8:",
            "1:2:3:4:5:6:7:12345",
            "1:2:3:4:5:6:7:g",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:6:7:8%eth0",
            "1::8",
            "1:2:3:4:5:6:7::",
            "1:2:3:4::5:6:7",
        ] {
            let std = text.parse::<Ipv6Addr>().ok();
            let full = full_ipv6(text.as_bytes());
            assert!(full.is_none() || full == std, "{text:?}");
            assert_eq!(
                full.is_some(),
                std.is_some() && !text.contains("::") && !text.contains('.'),
                "{text:?}"
            );
        }
        assert_eq!(p("0:0:0:0:0:ffff:102:304"), "1.2.3.4");
        assert_eq!(p(" 2001:DB8:0:0:0:0:0:1 "), "2001:db8::1");
    }

    #[test]
    fn dotted_ipv4_reads_what_std_reads() {
        for text in [
            "0.0.0.0",
            "255.255.255.255",
            "1.2.3.4",
            "10.0.0.1",
            "256.1.1.1",
            "1.2.3.256",
            "01.2.3.4",
            "1.2.3.04",
            "1.2.3.00",
            "1.2.3.0",
            "1.2.3",
            "1.2.3.4.",
            ".1.2.3.4",
            "1.2.3.4.5",
            "1..3.4",
            "1.2.3.4 ",
            " 1.2.3.4",
            "1.2.3.4:80",
            "+1.2.3.4",
            "1.2.3.-4",
            "1000.2.3.4",
            "1.2.3.1000",
            "999.999.999.999",
            "0001.2.3.4",
            "1.2.3.4\u{0}",
            "\u{661}.2.3.4",
            "",
            ".",
            "...",
        ] {
            assert_eq!(
                dotted_ipv4(text.as_bytes()),
                text.parse::<Ipv4Addr>().ok(),
                "{text:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,50}") {
            let _ = parse_client_ip(&s);
        }

        #[test]
        fn dotted_ipv4_equals_std_on_near_addresses(s in "[0-9.]{0,20}") {
            proptest::prop_assert_eq!(dotted_ipv4(s.as_bytes()), s.parse::<Ipv4Addr>().ok());
        }

        #[test]
        fn dotted_ipv4_equals_std_on_four_octets(
            octets in proptest::collection::vec("0{0,2}[0-9]{1,3}", 4),
        ) {
            let s = octets.join(".");
            proptest::prop_assert_eq!(dotted_ipv4(s.as_bytes()), s.parse::<Ipv4Addr>().ok());
        }

        #[test]
        fn dotted_ipv4_equals_std_on_octets(
            octets in proptest::collection::vec("0{0,3}[0-9]{0,4}|[+-]?[0-9]{1,3}| ", 0..6),
            sep in "[.:,]",
        ) {
            let s = octets.join(&sep);
            proptest::prop_assert_eq!(dotted_ipv4(s.as_bytes()), s.parse::<Ipv4Addr>().ok());
        }

        #[test]
        fn dotted_ipv4_equals_std_on_any_text(s in ".{0,20}") {
            proptest::prop_assert_eq!(dotted_ipv4(s.as_bytes()), s.parse::<Ipv4Addr>().ok());
        }

        #[test]
        fn full_ipv6_equals_std_on_eight_groups(
            groups in proptest::collection::vec("[0-9a-fA-F]{1,5}|[0-9a-gA-G:.]{0,3}", 6..10),
            sep in ":|::|[:.]",
        ) {
            let s = groups.join(&sep);
            let std = s.parse::<Ipv6Addr>().ok();
            match full_ipv6(s.as_bytes()) {
                Some(v6) => proptest::prop_assert_eq!(Some(v6), std, "{:?}", s),
                // Only `::`, an IPv4 tail or something std rejects is left to std.
                None => proptest::prop_assert!(
                    std.is_none() || s.contains("::") || s.contains('.'),
                    "{:?}",
                    s
                ),
            }
        }

        #[test]
        fn full_ipv6_never_differs_from_std(s in "[0-9a-fA-F:. %]{0,45}") {
            if let Some(v6) = full_ipv6(s.as_bytes()) {
                proptest::prop_assert_eq!(Some(v6), s.parse::<Ipv6Addr>().ok());
            }
        }

        #[test]
        fn client_ipv6_addresses_read_as_before(
            s in "[ \\[]?([0-9a-fA-F]{0,5}:){5,8}[0-9a-fA-F.]{0,16}[\\]]?(:[0-9]{0,6})?(%[a-z0-9]{0,4})? ?",
        ) {
            proptest::prop_assert_eq!(parse_client_ip(&s), parse_client_ip_general(&s));
        }

        #[test]
        fn client_addresses_read_as_before(
            s in "[ \\[]?([0-9.]{0,16}|[0-9a-f:.]{0,24}|[0-9]{1,3}(\\.[0-9]{1,3}){3})[\\]]?(:[0-9]{0,6})?(%[a-z0-9]{0,4})? ?",
        ) {
            proptest::prop_assert_eq!(parse_client_ip(&s), parse_client_ip_general(&s));
        }

        #[test]
        fn client_addresses_read_as_before_on_any_text(s in ".{0,40}") {
            proptest::prop_assert_eq!(parse_client_ip(&s), parse_client_ip_general(&s));
        }
    }
}
