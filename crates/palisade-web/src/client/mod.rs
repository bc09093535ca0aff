//! The client's address: the socket peer's, unless that peer is a trusted proxy, in which case
//! the rightmost address in `Forwarded` (or `X-Forwarded-For`) that is not a trusted proxy.

mod forwarded;

use std::net::{IpAddr, SocketAddr};

use http::{Extensions, HeaderMap};
use ipnet::IpNet;

/// The socket peer's address, as a request extension. Servers put it there; with the `axum`
/// feature, axum's `ConnectInfo<SocketAddr>` (which
/// `into_make_service_with_connect_info::<SocketAddr>()` inserts) is read as well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerAddr(pub SocketAddr);

/// The socket peer's address from a request's extensions: [`PeerAddr`], else (with the `axum`
/// feature) axum's `ConnectInfo<SocketAddr>`; `None` when the server recorded neither.
#[must_use]
pub fn peer_addr(extensions: &Extensions) -> Option<SocketAddr> {
    let peer = extensions.get::<PeerAddr>().map(|peer| peer.0);
    #[cfg(feature = "axum")]
    let peer = peer.or_else(|| {
        extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|info| info.0)
    });
    peer
}

/// The header a trusted proxy writes the client's address into.
///
/// Exactly one is read: a proxy appends its hop to the header it writes and passes any other
/// through as the client sent it, so reading a second header would let the client choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ForwardingHeader {
    /// `X-Forwarded-For`, which nginx (`$proxy_add_x_forwarded_for`), HAProxy
    /// (`option forwardfor`), Envoy, AWS load balancers and Cloudflare append to.
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded` (its `for=` parameters), for proxies configured to write it.
    Forwarded,
}

/// The proxies whose forwarding header is believed. Empty by default: then the client is
/// always the socket peer and no header can change it.
///
/// ```
/// use palisade_web::TrustedProxies;
///
/// let proxies = TrustedProxies::new(["10.0.0.0/8".parse()?, "::1/128".parse()?]);
/// assert!(proxies.trusts("10.1.2.3".parse()?));
/// assert!(!proxies.trusts("203.0.113.9".parse()?));
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-forwarded-for", "198.51.100.7, 203.0.113.9".parse()?);
/// // From a trusted proxy: the rightmost address that is not one of ours.
/// assert_eq!(proxies.client_ip("10.0.0.2:443".parse()?, &headers), "203.0.113.9".parse::<std::net::IpAddr>()?);
/// // From anyone else: the header is not read at all.
/// assert_eq!(proxies.client_ip("192.0.2.1:5000".parse()?, &headers), "192.0.2.1".parse::<std::net::IpAddr>()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
    header: ForwardingHeader,
}

impl TrustedProxies {
    /// Trusts no proxy (the default).
    #[must_use]
    pub const fn none() -> Self {
        Self {
            networks: Vec::new(),
            header: ForwardingHeader::XForwardedFor,
        }
    }

    /// Trusts proxies in these networks (a single proxy is a /32 or /128), reading
    /// `X-Forwarded-For`.
    #[must_use]
    pub fn new(networks: impl IntoIterator<Item = IpNet>) -> Self {
        Self {
            networks: networks.into_iter().collect(),
            header: ForwardingHeader::XForwardedFor,
        }
    }

    /// Reads `header` instead (the one the proxies are configured to write; any other is
    /// ignored).
    #[must_use]
    pub const fn reading(mut self, header: ForwardingHeader) -> Self {
        self.header = header;
        self
    }

    /// Whether no proxy is trusted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// Whether `ip` is a trusted proxy (IPv4-mapped IPv6 read as IPv4).
    #[must_use]
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.networks.iter().any(|network| network.contains(&ip))
    }

    /// Whether a request from `peer` may set what its forwarding headers say (the client's
    /// address, a request id): only when the peer is a trusted proxy.
    #[must_use]
    pub fn trusts_peer(&self, peer: SocketAddr) -> bool {
        self.trusts(peer.ip())
    }

    /// The client's address for a request from `peer` with these headers.
    ///
    /// From the nearest hop outwards, the first address no trusted proxy owns is the client;
    /// when every hop is trusted, the farthest one. A hop that names no address (`unknown`,
    /// an obfuscated name, anything unreadable) was written by someone untrusted, so the
    /// nearest trusted hop before it is the client. Only the configured
    /// [`ForwardingHeader`] is read; several lines of it count as one list in order. No
    /// allocation, and the walk stops at the first untrusted hop.
    #[must_use]
    pub fn client_ip(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.ip().to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        for hop in forwarded::hops_nearest_first(headers, self.header) {
            match hop {
                Some(ip) if self.trusts(ip) => client = ip,
                Some(ip) => return ip,
                None => return client,
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies() -> TrustedProxies {
        TrustedProxies::new(["10.0.0.0/8"
            .parse()
            .unwrap_or(IpNet::V4(Default::default()))])
    }

    /// Header lines: name and raw value.
    type Lines<'a> = &'a [(&'a str, &'a [u8])];

    fn client(lines: Lines<'_>) -> String {
        let mut headers = HeaderMap::new();
        for (name, value) in lines {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_bytes(value),
            ) {
                headers.append(name, value);
            }
        }
        let peer = SocketAddr::from(([10, 0, 0, 2], 443));
        proxies().client_ip(peer, &headers).to_string()
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let cases: &[(Lines<'_>, &str)] = &[
            (&[], "10.0.0.2"),
            (&[("x-forwarded-for", b"203.0.113.9")], "203.0.113.9"),
            (
                &[("x-forwarded-for", b"1.1.1.1, 203.0.113.9, 10.0.0.7")],
                "203.0.113.9",
            ),
            // Every hop trusted: the farthest.
            (&[("x-forwarded-for", b"10.9.9.9, 10.0.0.7")], "10.9.9.9"),
            // Several lines are one list, in order.
            (
                &[
                    ("x-forwarded-for", b"1.1.1.1"),
                    ("x-forwarded-for", b"203.0.113.9"),
                ],
                "203.0.113.9",
            ),
            // A Forwarded header the proxy does not write is the client's: ignored.
            (
                &[
                    ("forwarded", b"for=1.2.3.4"),
                    ("x-forwarded-for", b"203.0.113.9"),
                ],
                "203.0.113.9",
            ),
            (&[("forwarded", b"for=10.9.9.9")], "10.0.0.2"),
            // An unreadable nearest hop: the proxy itself, never an address from further left.
            (&[("x-forwarded-for", b"1.1.1.1, garbage")], "10.0.0.2"),
            (&[("x-forwarded-for", b"unknown")], "10.0.0.2"),
            (&[("x-forwarded-for", b"1.1.1.1, , 10.0.0.7")], "10.0.0.7"),
            // Zone ids of link-local addresses name the proxy's interface: dropped.
            (&[("x-forwarded-for", b"fe80::1%eth0")], "fe80::1"),
            // Bytes that are not text in a client's part do not hide the proxy's hop.
            (
                &[("x-forwarded-for", b"\xff\xfe, 203.0.113.9")],
                "203.0.113.9",
            ),
        ];
        for (lines, want) in cases.iter().copied() {
            assert_eq!(client(lines), want, "{lines:?}");
        }
    }

    #[test]
    fn proxies_writing_forwarded_are_read_from_it_alone() {
        let proxies = proxies().reading(ForwardingHeader::Forwarded);
        let peer = SocketAddr::from(([10, 0, 0, 2], 443));
        let read = |lines: &[(&'static str, &'static str)]| {
            let mut headers = HeaderMap::new();
            for (name, value) in lines {
                headers.append(*name, http::HeaderValue::from_static(value));
            }
            proxies.client_ip(peer, &headers).to_string()
        };
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[(
                    "forwarded",
                    "for=\"[2001:db8::1]:4711\";proto=https, for=10.0.0.7",
                )],
                "2001:db8::1",
            ),
            (
                &[
                    ("x-forwarded-for", "1.2.3.4"),
                    ("forwarded", "for=203.0.113.9"),
                ],
                "203.0.113.9",
            ),
            (&[("x-forwarded-for", "1.2.3.4")], "10.0.0.2"),
            (&[("forwarded", "for=unknown")], "10.0.0.2"),
            (&[("forwarded", "proto=https;host=example.com")], "10.0.0.2"),
            (
                &[("forwarded", "for=1.1.1.1, for=_hidden, for=10.0.0.7")],
                "10.0.0.7",
            ),
            // A quote the client leaves open cannot swallow the hop its proxy appended.
            (
                &[("forwarded", "for=\"1.1.1.1, for=203.0.113.9")],
                "203.0.113.9",
            ),
            (&[("forwarded", "for=\"[fe80::1%eth0]:80\"")], "fe80::1"),
        ];
        for (lines, want) in cases.iter().copied() {
            assert_eq!(read(lines), want, "{lines:?}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            http::HeaderValue::from_static("10.0.0.7"),
        );
        headers.insert("forwarded", http::HeaderValue::from_static("for=10.0.0.7"));
        let peer = SocketAddr::from(([203, 0, 113, 9], 5000));
        assert_eq!(
            proxies().client_ip(peer, &headers),
            IpAddr::from([203, 0, 113, 9])
        );
        assert_eq!(TrustedProxies::none().client_ip(peer, &headers), peer.ip());
        assert!(!proxies().trusts_peer(peer));
        let mapped: SocketAddr = "[::ffff:10.0.0.2]:443".parse().unwrap_or(peer);
        assert!(proxies().trusts_peer(mapped));
    }

    #[test]
    fn a_huge_list_of_trusted_looking_hops_is_read_once_without_allocating() {
        let mut value = "10.1.1.1, ".repeat(50_000);
        value.push_str("203.0.113.9");
        assert_eq!(
            client(&[("x-forwarded-for", value.as_bytes())]),
            "203.0.113.9"
        );
        let spoof = format!("203.0.113.9, {}", "10.1.1.1, ".repeat(50_000));
        assert_eq!(
            client(&[("x-forwarded-for", spoof.trim_end_matches(", ").as_bytes())]),
            "203.0.113.9"
        );
    }
}
