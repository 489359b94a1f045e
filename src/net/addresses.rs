//! Which addresses an outgoing request of the server (OpenID discovery, token and JWKS requests;
//! webhooks later) may connect to: none of the machine's own, the private networks, the cloud
//! metadata services or any range that reaches them in disguise, unless the operator lists it.
//! The rule is applied to the address a connection is actually made to, never to a name (a
//! name can resolve anywhere, and again differently the next time).
//!
//! Refused: unspecified (`0.0.0.0/8`, `::`), loopback (`127.0.0.0/8`, `::1`), private
//! (`10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, `fc00::/7`), link-local (`169.254.0.0/16`,
//! where the metadata service `169.254.169.254` lives, and `fe80::/10`), CGNAT
//! (`100.64.0.0/10`), multicast (`224.0.0.0/4`, `ff00::/8`), broadcast and the reserved
//! `240.0.0.0/4`, the IETF protocol assignments (`192.0.0.0/24`), benchmarking
//! (`198.18.0.0/15`) and the documentation ranges; IPv6 that embeds an IPv4 address is judged by
//! that address: IPv4-mapped (`::ffff:0:0/96`), IPv4-compatible (`::/96`), NAT64
//! (`64:ff9b::/96`, `64:ff9b:1::/48`) and 6to4 (`2002::/16`); Teredo (`2001::/32`), whose
//! embedded address is obscured, is refused whole.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

fn prefix_matches(network: u128, ip: u128, prefix: u8, width: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = u32::from(width - prefix);
    (network >> shift) == (ip >> shift)
}

/// Why an address is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `0.0.0.0/8` or `::`.
    Unspecified,
    /// The machine itself.
    Loopback,
    /// A private network.
    Private,
    /// Link-local, where the cloud metadata services answer.
    LinkLocal,
    /// Carrier-grade NAT, shared address space.
    SharedAddressSpace,
    /// Multicast or broadcast.
    Multicast,
    /// Reserved, benchmarking, documentation or protocol assignments: never a public server.
    Reserved,
    /// An IPv6 transition range whose embedded address cannot be judged (Teredo).
    Tunnel,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unspecified => "an unspecified address",
            Self::Loopback => "a loopback address",
            Self::Private => "a private network",
            Self::LinkLocal => "a link-local address (cloud metadata lives there)",
            Self::SharedAddressSpace => "carrier-grade NAT space",
            Self::Multicast => "a multicast or broadcast address",
            Self::Reserved => "a reserved or documentation range",
            Self::Tunnel => "a tunnel range whose inner address cannot be checked",
        })
    }
}

/// Why `ip` is not a public address, or `None` when it is one.
pub fn refusal(ip: IpAddr) -> Option<Refusal> {
    match ip {
        IpAddr::V4(v4) => refusal_v4(v4),
        IpAddr::V6(v6) => refusal_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, network: [u8; 4], prefix: u8) -> bool {
    prefix_matches(
        u128::from(Ipv4Addr::from(network).to_bits()),
        u128::from(ip.to_bits()),
        prefix,
        32,
    )
}

fn refusal_v4(ip: Ipv4Addr) -> Option<Refusal> {
    let table: &[([u8; 4], u8, Refusal)] = &[
        ([0, 0, 0, 0], 8, Refusal::Unspecified),
        ([127, 0, 0, 0], 8, Refusal::Loopback),
        ([10, 0, 0, 0], 8, Refusal::Private),
        ([172, 16, 0, 0], 12, Refusal::Private),
        ([192, 168, 0, 0], 16, Refusal::Private),
        ([169, 254, 0, 0], 16, Refusal::LinkLocal),
        ([100, 64, 0, 0], 10, Refusal::SharedAddressSpace),
        ([224, 0, 0, 0], 4, Refusal::Multicast),
        ([255, 255, 255, 255], 32, Refusal::Multicast),
        ([240, 0, 0, 0], 4, Refusal::Reserved),
        ([192, 0, 0, 0], 24, Refusal::Reserved),
        ([192, 0, 2, 0], 24, Refusal::Reserved),
        ([198, 51, 100, 0], 24, Refusal::Reserved),
        ([203, 0, 113, 0], 24, Refusal::Reserved),
        ([198, 18, 0, 0], 15, Refusal::Reserved),
    ];
    table
        .iter()
        .find(|(network, prefix, _)| in_v4(ip, *network, *prefix))
        .map(|(_, _, refusal)| *refusal)
}

fn refusal_v6(ip: Ipv6Addr) -> Option<Refusal> {
    let bits = ip.to_bits();
    let in_v6 = |network: u128, prefix: u8| prefix_matches(network, bits, prefix, 128);
    // The low 32 bits as an IPv4 address, for the ranges that carry one there.
    let low_v4 = Ipv4Addr::from_bits((bits & 0xffff_ffff) as u32);
    if ip.is_unspecified() {
        return Some(Refusal::Unspecified);
    }
    if ip.is_loopback() {
        return Some(Refusal::Loopback);
    }
    // IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), IPv4-compatible
    // (::a.b.c.d) and NAT64 (64:ff9b::/96, and the local-use 64:ff9b:1::/48): what they reach
    // is the IPv4 address inside.
    if in_v6(0xffff_0000_0000, 96)
        || in_v6(0xffff_0000_0000_0000, 96)
        || in_v6(0, 96)
        || in_v6(0x0064_ff9b << 96, 96)
    {
        return refusal_v4(low_v4);
    }
    if in_v6(0x0064_ff9b_0001 << 80, 48) {
        return Some(Refusal::Private);
    }
    // 6to4: 2002:AABB:CCDD::/48 reaches AA.BB.CC.DD.
    if in_v6(0x2002 << 112, 16) {
        let embedded = Ipv4Addr::from_bits(((bits >> 80) & 0xffff_ffff) as u32);
        return refusal_v4(embedded);
    }
    let table: &[(u128, u8, Refusal)] = &[
        (0x2001_0000 << 96, 32, Refusal::Tunnel),
        (0xfc00 << 112, 7, Refusal::Private),
        (0xfe80 << 112, 10, Refusal::LinkLocal),
        (0xfec0 << 112, 10, Refusal::Private),
        (0xff00 << 112, 8, Refusal::Multicast),
        (0x2001_0db8 << 96, 32, Refusal::Reserved),
        (0x3fff << 112, 20, Refusal::Reserved),
        (0x5f00 << 112, 16, Refusal::Reserved),
        (0x0100 << 112, 64, Refusal::Reserved),
    ];
    table
        .iter()
        .find(|(network, prefix, _)| in_v6(*network, *prefix))
        .map(|(_, _, refusal)| *refusal)
}

/// What outgoing connections may reach: every public address, and the private ones the
/// operator lists (a test's identity provider on loopback, a company's own on its network).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reach {
    allowed: Vec<IpNet>,
}

/// A connection the policy refuses: the address and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{address} is {why}, which outgoing requests may not reach")]
pub struct Refused {
    /// The address a connection would have been made to.
    pub address: IpAddr,
    /// Why.
    pub why: Refusal,
}

impl Reach {
    /// Public addresses, and those in `allowed` besides.
    pub fn allowing(allowed: Vec<IpNet>) -> Self {
        Self { allowed }
    }

    /// `Ok` when a connection to `address` may be made.
    pub fn check(&self, address: IpAddr) -> Result<(), Refused> {
        let address = canonical(address);
        match refusal(address) {
            None => Ok(()),
            Some(_) if self.allowed.iter().any(|net| net.contains(&address)) => Ok(()),
            Some(why) => Err(Refused { address, why }),
        }
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is, so that an allowed IPv4 network
/// also allows it written the other way.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn every_internal_range_of_the_issue_is_refused() {
        for (address, why) in [
            ("0.0.0.0", Refusal::Unspecified),
            ("0.1.2.3", Refusal::Unspecified),
            ("::", Refusal::Unspecified),
            ("127.0.0.1", Refusal::Loopback),
            ("127.255.255.254", Refusal::Loopback),
            ("::1", Refusal::Loopback),
            ("10.0.0.1", Refusal::Private),
            ("172.16.0.1", Refusal::Private),
            ("172.31.255.255", Refusal::Private),
            ("192.168.1.1", Refusal::Private),
            ("fd00::1", Refusal::Private),
            ("fd00:ec2::254", Refusal::Private),
            ("169.254.169.254", Refusal::LinkLocal),
            ("fe80::1", Refusal::LinkLocal),
            ("100.64.0.1", Refusal::SharedAddressSpace),
            ("100.127.255.255", Refusal::SharedAddressSpace),
            ("224.0.0.1", Refusal::Multicast),
            ("239.255.255.250", Refusal::Multicast),
            ("255.255.255.255", Refusal::Multicast),
            ("ff02::1", Refusal::Multicast),
            ("240.0.0.1", Refusal::Reserved),
            ("192.0.0.8", Refusal::Reserved),
            ("198.18.0.1", Refusal::Reserved),
            ("192.0.2.1", Refusal::Reserved),
            ("2001:db8::1", Refusal::Reserved),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", Refusal::Tunnel),
        ] {
            assert_eq!(refusal(ip(address)), Some(why), "{address}");
        }
    }

    #[test]
    fn ipv6_that_embeds_an_internal_ipv4_address_is_judged_by_it() {
        for (address, why) in [
            ("::ffff:127.0.0.1", Refusal::Loopback),
            ("::ffff:169.254.169.254", Refusal::LinkLocal),
            ("::ffff:10.0.0.1", Refusal::Private),
            ("::127.0.0.1", Refusal::Loopback),
            ("::ffff:0:10.0.0.1", Refusal::Private),
            ("::ffff:0:127.0.0.1", Refusal::Loopback),
            ("64:ff9b::169.254.169.254", Refusal::LinkLocal),
            ("64:ff9b::10.1.2.3", Refusal::Private),
            ("64:ff9b:1::1", Refusal::Private),
            // 2002:7f00:0001:: is 6to4 for 127.0.0.1, 2002:a9fe:a9fe:: for the metadata service.
            ("2002:7f00:1::", Refusal::Loopback),
            ("2002:a9fe:a9fe::1", Refusal::LinkLocal),
            ("2002:c0a8:0101::", Refusal::Private),
            ("3fff::1", Refusal::Reserved),
            ("5f00::1", Refusal::Reserved),
        ] {
            assert_eq!(refusal(ip(address)), Some(why), "{address}");
        }
        // The same ranges around a public address are public.
        for address in [
            "::ffff:93.184.215.14",
            "64:ff9b::93.184.215.14",
            "2002:5db8:d70e::1",
        ] {
            assert_eq!(refusal(ip(address)), None, "{address}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for address in [
            "93.184.215.14",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "192.169.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
        ] {
            assert_eq!(refusal(ip(address)), None, "{address}");
            assert!(Reach::default().check(ip(address)).is_ok());
        }
    }

    #[test]
    fn an_allowed_network_opens_only_itself() {
        let reach = Reach::allowing(vec![
            "127.0.0.0/8".parse().unwrap(),
            "fd12::/16".parse().unwrap(),
        ]);
        assert!(reach.check(ip("127.0.0.1")).is_ok());
        assert!(
            reach.check(ip("::ffff:127.0.0.1")).is_ok(),
            "the same address, mapped"
        );
        assert!(reach.check(ip("fd12:3::1")).is_ok());
        let refused = reach.check(ip("10.0.0.1")).unwrap_err();
        assert_eq!(refused.why, Refusal::Private);
        assert_eq!(
            refused.to_string(),
            "10.0.0.1 is a private network, which outgoing requests may not reach"
        );
        assert!(
            reach.check(ip("::1")).is_err(),
            "IPv4 loopback allowed is not IPv6's"
        );
        assert!(Reach::default().check(ip("::ffff:127.0.0.1")).is_err());
    }
}
