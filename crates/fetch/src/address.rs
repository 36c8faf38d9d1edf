//! Which addresses are public: everything a server on the internet could legitimately be, and
//! nothing that reaches this machine, its network or a cloud metadata service.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `ip` is a globally routable unicast address. Refused: unspecified, loopback, private
/// (RFC 1918), shared/CGNAT (100.64/10), link-local (169.254/16, where cloud metadata lives; fe80::/10),
/// IETF protocol assignments (192.0.0/24), documentation, benchmarking (198.18/15), multicast,
/// reserved (240/4), broadcast, `0/8`, IPv6 unique-local (fc00::/7, incl. fd00:ec2::254),
/// site-local, IPv4 addresses embedded in IPv6 (mapped `::ffff:0:0/96`, translated
/// `::ffff:0:0:0/96`, compatible, NAT64 `64:ff9b::/96`, 6to4) judged by the IPv4 address they carry,
/// and the local-use NAT64 prefix `64:ff9b:1::/48` (RFC 8215), whose translation only the operator
/// knows, refused outright.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (segments[0] == 0x64 && segments[1] == 0xff9b) // NAT64, incl. local-use 64:ff9b:1::/48
        || (segments[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (segments[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (segments[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] == 0x2001 && segments[1] < 0x0200) // IETF protocol assignments, Teredo
        || (segments[0] == 0x0100 && segments[1..4] == [0, 0, 0])) // discard-only 100::/64
}

/// The IPv4 address an IPv6 address carries, where the network would deliver to it.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated; not :: or ::1)
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(tail),
        // ::ffff:0:a.b.c.d (SIIT translated, RFC 2765)
        [0, 0, 0, 0, 0xffff, 0, _, _] => Some(tail),
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(tail),
        // NAT64 64:ff9b::/96
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail),
        // 6to4 2002:a.b.c.d::/48
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(text: &str) -> bool {
        is_public(text.parse().expect("an address"))
    }

    #[test]
    fn internet_addresses_are_public() {
        for ip in [
            "1.1.1.1",
            "162.159.128.233",
            "8.8.8.8",
            "2606:4700::6810:84e5",
            "2a00:1450:4001::200e",
            "::ffff:1.1.1.1",
            "::ffff:0:808:808",
            "64:ff9b::808:808",
        ] {
            assert!(public(ip), "{ip} should be public");
        }
    }

    #[test]
    fn local_private_and_metadata_addresses_are_not() {
        for ip in [
            "127.0.0.1",
            "127.1.2.3",
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "172.16.5.4",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd00:ec2::254",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.1.1.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::a00:1",
            "64:ff9b:1::808:808",
            "64:ff9b:1:ffff::1",
            "::ffff:0:a00:1",
            "::ffff:0:7f00:1",
            "::ffff:0:a9fe:a9fe",
            "::ffff:0.0.0.0",
            "::ffff:100.64.0.1",
            "2002:a00:1::",
            "2002:7f00:1::",
            "100::1",
        ] {
            assert!(!public(ip), "{ip} should not be public");
        }
    }
}
