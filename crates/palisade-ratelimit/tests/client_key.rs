//! Client keys: prefix grouping, IPv4-mapped IPv6, and prefix validation.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::net::IpAddr;

use palisade_ratelimit::{ClientKey, IpGrouping};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn ipv6_groups_by_56_and_ipv4_keys_each_address() {
    let g = IpGrouping::DEFAULT;
    assert_eq!(
        g.key(ip("2001:db8:1:2ff::1")),
        g.key(ip("2001:db8:1:200::ffff"))
    );
    assert_ne!(
        g.key(ip("2001:db8:1:2ff::1")),
        g.key(ip("2001:db8:1:300::1"))
    );
    assert_eq!(
        g.key(ip("2001:db8:1:2ff::1")).to_string(),
        "ip:2001:db8:1:200::/56"
    );
    assert_ne!(g.key(ip("192.0.2.1")), g.key(ip("192.0.2.2")));
    assert_eq!(g.key(ip("192.0.2.1")).to_string(), "ip:192.0.2.1/32");
    assert_eq!(g.key(ip("::ffff:192.0.2.1")), g.key(ip("192.0.2.1")));
    assert_eq!(ClientKey::user("alice").to_string(), "user:alice");
    assert_ne!(ClientKey::user("192.0.2.1/32"), g.key(ip("192.0.2.1")));
}

#[test]
fn other_prefixes_group_accordingly_and_bad_ones_are_refused() {
    let g = IpGrouping::new(24, 64).unwrap();
    assert_eq!(g.key(ip("198.51.100.7")).to_string(), "ip:198.51.100.0/24");
    assert_eq!(
        g.key(ip("2001:db8::1:2:3:4")).to_string(),
        "ip:2001:db8::/64"
    );
    assert_eq!(
        IpGrouping::new(32, 128)
            .unwrap()
            .key(ip("2001:db8::1"))
            .to_string(),
        "ip:2001:db8::1/128"
    );
    assert_eq!(
        IpGrouping::new(0, 56).unwrap_err().to_string(),
        "IP grouping prefix /0 is outside 1..=32 for IPv4"
    );
    assert_eq!(
        IpGrouping::new(32, 129).unwrap_err().to_string(),
        "IP grouping prefix /129 is outside 1..=128 for IPv6"
    );
}
