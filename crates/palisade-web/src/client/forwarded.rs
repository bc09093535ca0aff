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

/// `X-Forwarded-For` (not in `http`'s standard set).
static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The hops of `Forwarded` when the request has one, else of `X-Forwarded-For`, from the
/// nearest (rightmost, last line) to the farthest; `None` for a hop that names no address.
pub(super) fn hops_nearest_first(headers: &HeaderMap) -> impl Iterator<Item = Option<IpAddr>> {
    let forwarded = headers.contains_key(FORWARDED);
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
/// read as IPv4. Anything else (`unknown`, `_obfuscated`, bytes that are not text) is `None`.
fn parse_node(node: &[u8]) -> Option<IpAddr> {
    let node = node.trim_ascii();
    let node = node
        .strip_prefix(b"\"")
        .and_then(|inner| inner.strip_suffix(b"\""))
        .unwrap_or(node);
    // The longest address form, `[v6]:port`, is 47 bytes: longer is not an address.
    if node.len() > 64 {
        return None;
    }
    let node = std::str::from_utf8(node).ok()?;
    let ip = node
        .parse::<IpAddr>()
        .ok()
        .or_else(|| node.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
        .or_else(|| {
            node.strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|inner| inner.parse::<IpAddr>().ok())
        })?;
    Some(ip.to_canonical())
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
