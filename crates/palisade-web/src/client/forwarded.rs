//! Reading the hops of `Forwarded` (RFC 7239) and `X-Forwarded-For`, nearest first.
//!
//! Elements are split at every comma and pairs at every semicolon, quoted or not. RFC 7239
//! allows both inside a quoted string, but no value a proxy writes in `for=` holds either (an
//! address, `[v6]:port`, `unknown` or an `_obfuscated` name), and honouring quotes would let a
//! client who leaves a quote open swallow the hop its proxy appends after it. A general
//! parser such as `forwarded-header-value` fails the whole header on one bad element, which
//! would let any client make every request look as if it came from the proxy itself; each
//! hop is read on its own here.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use http::header::{FORWARDED, HeaderName};

use super::ForwardingHeader;

/// `X-Forwarded-For` (not in `http`'s standard set).
static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The hops of `header`, from the nearest (rightmost, last line) to the farthest; `None` for
/// a hop that names no address.
pub(super) fn hops_nearest_first(
    headers: &HeaderMap,
    header: ForwardingHeader,
) -> impl Iterator<Item = Option<IpAddr>> {
    let forwarded = header == ForwardingHeader::Forwarded;
    let name = if forwarded {
        &FORWARDED
    } else {
        &X_FORWARDED_FOR
    };
    headers
        .get_all(name)
        .iter()
        .rev()
        .flat_map(|value| value.as_bytes().rsplit(|byte| *byte == b','))
        .map(move |element| {
            if forwarded {
                for_parameter(element).and_then(parse_node)
            } else {
                parse_node(element)
            }
        })
}

/// The value of the `for` parameter of one `Forwarded` element (`for=...;proto=...`).
fn for_parameter(element: &[u8]) -> Option<&[u8]> {
    element.split(|byte| *byte == b';').find_map(|pair| {
        let mut halves = pair.splitn(2, |byte| *byte == b'=');
        let (name, value) = (halves.next()?, halves.next()?);
        name.trim_ascii()
            .eq_ignore_ascii_case(b"for")
            .then_some(value)
    })
}

/// An address as proxies write it: `192.0.2.60`, `192.0.2.60:4711`, `2001:db8::1`,
/// `[2001:db8::1]`, `[2001:db8::1]:4711`, each possibly in double quotes; IPv4-mapped IPv6 is
/// read as IPv4, and a link-local address's zone id (`fe80::1%eth0`, the proxy's interface)
/// is dropped. Anything else (`unknown`, `_obfuscated`, bytes that are not text) is `None`.
fn parse_node(node: &[u8]) -> Option<IpAddr> {
    let node = node.trim_ascii();
    let node = node
        .strip_prefix(b"\"")
        .and_then(|inner| inner.strip_suffix(b"\""))
        .unwrap_or(node);
    // The longest address form, `[v6%zone]:port`, is well under this: longer is not one.
    if node.len() > 96 {
        return None;
    }
    let node = std::str::from_utf8(node).ok()?;
    let ip = match node.strip_prefix('[') {
        Some(bracketed) => {
            let (inner, port) = bracketed.split_once(']')?;
            if !(port.is_empty() || is_port(port.strip_prefix(':')?)) {
                return None;
            }
            IpAddr::V6(without_zone(inner).parse().ok()?)
        }
        None => match node.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) if node.contains('%') => IpAddr::V6(without_zone(node).parse().ok()?),
            Err(_) => node.parse::<SocketAddr>().ok()?.ip(),
        },
    };
    Some(ip.to_canonical())
}

/// An IPv6 address without its `%zone` suffix.
fn without_zone(address: &str) -> &str {
    address
        .split_once('%')
        .map_or(address, |(address, _)| address)
}

/// Whether `text` is a port number (1 to 5 digits).
fn is_port(text: &str) -> bool {
    (1..=5).contains(&text.len()) && text.bytes().all(|byte| byte.is_ascii_digit())
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
            (" 192.0.2.60 ", Some("192.0.2.60")),
            ("unknown", None),
            ("_hidden", None),
            ("\"", None),
            ("", None),
            ("192.0.2.60\u{0}", None),
            ("fe80::1%eth0", Some("fe80::1")),
            ("[fe80::1%eth0]:80", Some("fe80::1")),
            ("[fe80::1%2]:80", Some("fe80::1")),
            ("[2001:db8::1]:x", None),
            ("[2001:db8::1]junk", None),
            ("192.0.2.60%eth0", None),
            ("010.0.0.1", None),
            ("0x7f.1", None),
        ];
        for (node, want) in cases {
            let want = want.and_then(|w| w.parse::<IpAddr>().ok());
            assert_eq!(parse_node(node.as_bytes()), want, "{node}");
        }
        assert_eq!(parse_node(b"\xff192.0.2.60"), None);
    }

    #[test]
    fn forwarded_elements_name_their_address_in_for() {
        assert_eq!(
            for_parameter(b"proto=https; For=\"[2001:db8::1]:80\";by=10.0.0.1"),
            Some(&b"\"[2001:db8::1]:80\""[..])
        );
        assert_eq!(for_parameter(b"proto=https;by=10.0.0.1"), None);
        assert_eq!(for_parameter(b"for"), None);
    }
}
