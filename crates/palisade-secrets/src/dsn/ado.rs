//! The ADO `key=value;` vocabulary: which keys name the server, the password, and how values
//! are quoted.

use std::borrow::Cow;

/// Keys whose value is the server (SqlClient's synonyms).
const SERVER_KEYS: [&str; 6] = [
    "server",
    "data source",
    "address",
    "addr",
    "network address",
    "failover partner",
];

pub(super) fn is_server_key(key: &str) -> bool {
    let key = key.trim();
    SERVER_KEYS
        .iter()
        .any(|name| key.eq_ignore_ascii_case(name))
}

/// A value without its surrounding quotes or braces and with doubled quotes undone.
pub(super) fn unquote(raw: &str) -> Cow<'_, str> {
    let value = raw.trim();
    let (inner, close) = match value.as_bytes().first() {
        Some(b'"') => (value.get(1..value.len() - 1), "\""),
        Some(b'\'') => (value.get(1..value.len() - 1), "'"),
        Some(b'{') => (value.get(1..value.len() - 1), "}"),
        _ => return Cow::Borrowed(value),
    };
    let Some(inner) = inner else {
        return Cow::Borrowed(value);
    };
    let doubled = close.repeat(2);
    if inner.contains(&doubled) {
        Cow::Owned(inner.replace(&doubled, close))
    } else {
        Cow::Borrowed(inner)
    }
}

/// Where a server value connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Server<'a> {
    /// Shared memory (`lpc:`) or the local machine (`.`, `(local)`).
    Local,
    /// A host name or address (`tcp:` or none), without port or instance name.
    Host(&'a str),
}

/// Reads `tcp:host,1433`, `host\INSTANCE`, `np:\\host\pipe\sql\query`, `lpc:.`, `(local)`.
/// `None` when the host has characters a host cannot have.
pub(super) fn server_host(value: &str) -> Option<Server<'_>> {
    let value = value.trim();
    let lower_prefix = |prefix: &str| {
        value
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    // Shared memory reaches only this machine, named as this machine.
    if lower_prefix("lpc:") {
        let name = value.get(4..).unwrap_or_default().trim();
        let local = name.is_empty()
            || name == "."
            || name.eq_ignore_ascii_case("(local)")
            || name.eq_ignore_ascii_case("localhost");
        return local.then_some(Server::Local);
    }
    let rest = if lower_prefix("tcp:") || lower_prefix("admin:") {
        value.split_once(':').map_or(value, |(_, rest)| rest)
    } else if lower_prefix("np:") {
        let pipe = value.get(3..).unwrap_or_default();
        pipe.trim_start_matches('\\')
            .split('\\')
            .next()
            .unwrap_or_default()
    } else {
        value
    };
    let host = rest.split([',', '\\']).next().unwrap_or_default().trim();
    if host == "." || host.eq_ignore_ascii_case("(local)") {
        return Some(Server::Local);
    }
    let valid = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b':'));
    valid.then_some(Server::Host(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_lose_their_quotes_and_doubled_quotes() {
        assert_eq!(unquote(r#""a;b""c""#), r#"a;b"c"#);
        assert_eq!(unquote("{x}}y}"), "x}y");
        assert_eq!(unquote(" 'it''s' "), "it's");
        assert_eq!(unquote("plain"), "plain");
        assert_eq!(unquote("\""), "\"");
    }

    #[test]
    fn server_values_name_their_host() {
        assert_eq!(
            server_host("tcp:db.example.com,1433"),
            Some(Server::Host("db.example.com"))
        );
        assert_eq!(server_host(r"db\SQLEXPRESS"), Some(Server::Host("db")));
        assert_eq!(
            server_host(r"np:\\db\pipe\sql\query"),
            Some(Server::Host("db"))
        );
        assert_eq!(server_host("(local)"), Some(Server::Local));
        assert_eq!(server_host("lpc:."), Some(Server::Local));
        assert_eq!(server_host("bad host"), None);
    }
}
