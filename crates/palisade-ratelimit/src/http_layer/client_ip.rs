//! The client's address: the socket peer's, unless that peer is a trusted proxy, in which case
//! the rightmost address in `Forwarded` (or `X-Forwarded-For`) that is not a trusted proxy.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use http::header::{FORWARDED, HeaderName};
use ipnet::IpNet;

/// `X-Forwarded-For` (not in `http`'s standard set).
static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The proxies whose forwarding headers are believed. Empty by default: then the key is always
/// the socket peer's address and no header can change it.
///
/// ```
/// use palisade_ratelimit::TrustedProxies;
///
/// let proxies = TrustedProxies::new(["10.0.0.0/8".parse()?, "::1/128".parse()?]);
/// assert!(proxies.trusts("10.1.2.3".parse()?));
/// assert!(!proxies.trusts("203.0.113.9".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
}

impl TrustedProxies {
    /// Trusts no proxy (the default).
    #[must_use]
    pub const fn none() -> Self {
        Self {
            networks: Vec::new(),
        }
    }

    /// Trusts proxies in these networks (a single proxy is a /32 or /128).
    #[must_use]
    pub fn new(networks: impl IntoIterator<Item = IpNet>) -> Self {
        Self {
            networks: networks.into_iter().collect(),
        }
    }

    /// Whether `ip` is a trusted proxy (IPv4-mapped IPv6 read as IPv4).
    #[must_use]
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.networks.iter().any(|network| network.contains(&ip))
    }

    /// The client's address for a request from `peer` with these headers.
    #[must_use]
    pub fn client_ip(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.ip().to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let hops = forwarded_hops(headers).or_else(|| x_forwarded_for_hops(headers));
        let Some(hops) = hops else {
            return peer;
        };
        // From the nearest hop outwards: the first address no trusted proxy owns is the client.
        // An unreadable hop was written by someone untrusted, so the last trusted one is used.
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop {
                Some(ip) if self.trusts(*ip) => client = *ip,
                Some(ip) => return *ip,
                None => return client,
            }
        }
        client
    }
}

/// The `for=` addresses of every `Forwarded` header, in order; `None` entries are hops that do
/// not name an address (`unknown`, obfuscated names, malformed values).
fn forwarded_hops(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let mut hops = Vec::new();
    for value in headers.get_all(FORWARDED) {
        let Ok(value) = value.to_str() else {
            hops.push(None);
            continue;
        };
        for element in value.split(',') {
            let node = element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| value.trim())
            });
            hops.push(node.and_then(parse_node));
        }
    }
    (!hops.is_empty()).then_some(hops)
}

/// The addresses of every `X-Forwarded-For` header, in order.
fn x_forwarded_for_hops(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let mut hops = Vec::new();
    for value in headers.get_all(&X_FORWARDED_FOR) {
        match value.to_str() {
            Ok(value) => hops.extend(value.split(',').map(|hop| parse_node(hop.trim()))),
            Err(_) => hops.push(None),
        }
    }
    (!hops.is_empty()).then_some(hops)
}

/// An address as proxies write it: `192.0.2.60`, `192.0.2.60:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`, each possibly in double quotes (RFC 7239 §6).
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(socket) = node.parse::<SocketAddr>() {
        return Some(socket.ip().to_canonical());
    }
    node.strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|inner| inner.parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_write_addresses_in_these_forms() {
        let cases = [
            ("192.0.2.60", Some("192.0.2.60")),
            ("\"192.0.2.60:4711\"", Some("192.0.2.60")),
            ("2001:db8::17", Some("2001:db8::17")),
            ("\"[2001:db8:cafe::17]:4711\"", Some("2001:db8:cafe::17")),
            ("[2001:db8::1]", Some("2001:db8::1")),
            ("::ffff:192.0.2.1", Some("192.0.2.1")),
            ("unknown", None),
            ("_hidden", None),
            ("", None),
        ];
        for (node, want) in cases {
            let want = want.map(|w| w.parse::<IpAddr>().unwrap_or(IpAddr::from([0, 0, 0, 0])));
            assert_eq!(parse_node(node), want, "{node}");
        }
    }
}
