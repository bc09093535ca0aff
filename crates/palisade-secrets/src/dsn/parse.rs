//! Splitting a DSN into ranges of its text: the URL form and the ADO `key=value;` form.
//!
//! Nothing here copies a part of the DSN: every part is a range into the original text, so the
//! text survives byte for byte and the password's range is known exactly for redaction.

use std::net::Ipv6Addr;
use std::ops::Range;

use super::{DsnError, Engine};

/// Where each part of a DSN lies in its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Layout {
    pub(super) engine: Engine,
    pub(super) form: Form,
    /// The scheme as written (empty for ADO).
    pub(super) scheme: Range<usize>,
    pub(super) user: Option<Range<usize>>,
    /// The userinfo password, percent-encoded as written.
    pub(super) password: Option<Range<usize>>,
    /// The comma-separated host list of the URL authority.
    pub(super) hosts: Range<usize>,
    /// The path after the authority's `/` (the database, or SQLite's file).
    pub(super) path: Option<Range<usize>>,
    /// The query after `?` (URL), or the whole text (ADO).
    pub(super) params: Option<Range<usize>>,
    pub(super) srv: bool,
}

/// Which grammar the DSN uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    /// `scheme://user:password@host:port,host2/path?key=value&...`
    Url,
    /// `Server=host,1433;Database=db;User ID=u;Password=p;`
    Ado,
}

/// One `key=value` pair: ranges into the DSN text, the value raw (encoded or quoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pair {
    pub(super) key: Range<usize>,
    pub(super) value: Range<usize>,
}

pub(super) fn layout(text: &str) -> Result<Layout, DsnError> {
    if text.is_empty() {
        return Err(DsnError::Empty);
    }
    // The `url` crate (sqlx) drops tabs and line breaks anywhere before parsing, libpq and
    // SQLAlchemy keep them, C drivers end a string at NUL: no two read such a DSN alike.
    if text.bytes().any(|b| b.is_ascii_control()) {
        return Err(DsnError::ControlCharacter);
    }
    let scheme_end = text
        .find(':')
        .filter(|&end| end > 0 && text[..end].bytes().all(is_scheme_byte));
    let engine = scheme_end.and_then(|end| engine_of(&text[..end]));
    match (scheme_end, engine) {
        (Some(end), Some(engine)) => url_layout(text, end, engine),
        _ if text.contains('=') => ado_layout(text),
        _ => Err(DsnError::SchemeUnknown),
    }
}

fn is_scheme_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.')
}

fn engine_of(scheme: &str) -> Option<Engine> {
    const SCHEMES: [(&str, Engine); 9] = [
        ("postgres", Engine::Postgres),
        ("postgresql", Engine::Postgres),
        ("mysql", Engine::MySql),
        ("mariadb", Engine::MySql),
        ("mssql", Engine::Mssql),
        ("sqlserver", Engine::Mssql),
        ("sqlite", Engine::Sqlite),
        ("mongodb", Engine::MongoDb),
        ("mongodb+srv", Engine::MongoDb),
    ];
    let known = |scheme: &str| {
        SCHEMES
            .iter()
            .find(|(name, _)| scheme.eq_ignore_ascii_case(name))
            .map(|&(_, engine)| engine)
    };
    // SQLAlchemy's `dialect+driver` (`postgresql+psycopg`, `mysql+pymysql`): the dialect's
    // grammar. MongoDB has no drivers in its scheme, only `mongodb+srv`.
    known(scheme).or_else(|| {
        let (dialect, driver) = scheme.split_once('+')?;
        let engine = known(dialect).filter(|engine| *engine != Engine::MongoDb)?;
        (!driver.is_empty()).then_some(engine)
    })
}

fn url_layout(text: &str, scheme_end: usize, engine: Engine) -> Result<Layout, DsnError> {
    let scheme = 0..scheme_end;
    let srv = text[scheme.clone()].eq_ignore_ascii_case("mongodb+srv");
    let after_colon = scheme_end + 1;
    let has_slashes = text[after_colon..].starts_with("//");
    if engine == Engine::Sqlite {
        let mut path_start = if has_slashes {
            after_colon + 2
        } else {
            after_colon
        };
        let (mut user, mut password) = (None, None);
        // SQLAlchemy's `sqlite+pysqlcipher://:KEY@/file.db` holds the SQLCipher key as a
        // password; a host there is a server (libsql), not a file this type can judge.
        if has_slashes && text[scheme.clone()].contains('+') {
            let authority_end = text[path_start..]
                .find('/')
                .map_or(text.len(), |offset| path_start + offset);
            let host_start = match text[path_start..authority_end].rfind('@') {
                Some(at) => {
                    let userinfo = path_start..path_start + at;
                    (user, password) = split_userinfo(text, userinfo);
                    path_start + at + 1
                }
                None => path_start,
            };
            if host_start < authority_end {
                return Err(DsnError::SqliteHost);
            }
            path_start = authority_end;
        }
        let (path, params) = path_and_query(text, path_start);
        return Ok(Layout {
            engine,
            form: Form::Url,
            scheme,
            user,
            password,
            hosts: path_start..path_start,
            path: Some(path),
            params,
            srv,
        });
    }
    if !has_slashes {
        return Err(DsnError::AuthorityMalformed);
    }
    let authority_start = after_colon + 2;
    // RFC 3986: the authority ends at the first `/`, `?` or `#`, as the `url` crate (and so
    // sqlx) reads it; an `@` after a `#` is no userinfo.
    let authority_end = text[authority_start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |offset| authority_start + offset);
    // libpq reads up to the first `@` before a `/`, pymongo up to the last before a `/`, and
    // SQLAlchemy's password runs to the first `@` anywhere: any `@` past the RFC authority
    // would have one of them read another host (`postgresql://localhost#@db.example.com`).
    if text[authority_end..].contains('@') {
        return Err(DsnError::UserinfoAmbiguous);
    }
    let authority = &text[authority_start..authority_end];
    // Two `@`: libpq and SQLAlchemy end the userinfo at the first, the `url` crate at the last.
    if authority.matches('@').nth(1).is_some() {
        return Err(DsnError::UserinfoAmbiguous);
    }
    let (user, password, hosts) = match authority.rfind('@') {
        Some(at) => {
            let (user, password) = split_userinfo(text, authority_start..authority_start + at);
            (user, password, authority_start + at + 1..authority_end)
        }
        None => (None, None, authority_start..authority_end),
    };
    validate_hosts(&text[hosts.clone()], engine, srv)?;
    let (path, params) = if text[authority_end..].starts_with('/') {
        let (path, params) = path_and_query(text, authority_end + 1);
        (Some(path), params)
    } else {
        (None, path_and_query(text, authority_end).1)
    };
    Ok(Layout {
        engine,
        form: Form::Url,
        scheme,
        user,
        password,
        hosts,
        path,
        params,
        srv,
    })
}

/// `user:password` (the password optional) as ranges of `text`.
fn split_userinfo(
    text: &str,
    userinfo: Range<usize>,
) -> (Option<Range<usize>>, Option<Range<usize>>) {
    match text[userinfo.clone()].find(':') {
        Some(colon) => (
            Some(userinfo.start..userinfo.start + colon),
            Some(userinfo.start + colon + 1..userinfo.end),
        ),
        None => (Some(userinfo), None),
    }
}

/// The path from `start` up to `?`, and the query after it, both ending at a fragment (`#`).
fn path_and_query(text: &str, start: usize) -> (Range<usize>, Option<Range<usize>>) {
    let end = text[start..]
        .find('#')
        .map_or(text.len(), |offset| start + offset);
    match text[start..end].find('?') {
        Some(offset) => (start..start + offset, Some(start + offset + 1..end)),
        None => (start..end, None),
    }
}

fn validate_hosts(list: &str, engine: Engine, srv: bool) -> Result<(), DsnError> {
    if srv && (list.contains(',') || list.is_empty() || host_and_port(list).1.is_some()) {
        return Err(DsnError::SrvHostInvalid);
    }
    for (index, entry) in list.split(',').enumerate() {
        let position = index + 1;
        let (host, port) = host_and_port(entry);
        let host = host.ok_or(DsnError::HostInvalid { position })?;
        // libpq takes an empty entry (`postgres:///db`, `@,db2`) from `PGHOST` or its default
        // socket: the environment decides (never judged local).
        let empty_allowed = engine == Engine::Postgres;
        if host.is_empty() && !empty_allowed {
            return Err(DsnError::HostInvalid { position });
        }
        // An empty port is the default one, as libpq and the `url` crate read it.
        if let Some(port) = port.filter(|port| !port.is_empty())
            && !matches!(port.parse::<u16>(), Ok(1..) if port.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(DsnError::PortInvalid { position });
        }
    }
    Ok(())
}

/// Splits `host:port` / `[v6]:port`. The host is `None` when it has characters a host name,
/// an IP literal or a percent-encoded socket path cannot have.
pub(super) fn host_and_port(entry: &str) -> (Option<&str>, Option<&str>) {
    if let Some(inner) = entry.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            return (None, None);
        };
        let (address, rest) = inner.split_at(close);
        let port = rest.strip_prefix("]:");
        // A zone (`fe80::1%25eth0`, RFC 6874) names the interface of a link-local address.
        let without_zone = address.split_once("%25").map_or(address, |(ip, _)| ip);
        let valid = without_zone.parse::<Ipv6Addr>().is_ok() && (port.is_some() || rest == "]");
        return (valid.then_some(address), port);
    }
    let (host, port) = match entry.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (entry, None),
    };
    let valid = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'%'));
    (valid.then_some(host), port)
}

/// Every `key=value` pair of the query (URL) or of the whole string (ADO), validated.
pub(super) fn pairs(text: &str, layout: &Layout) -> Result<Vec<Pair>, DsnError> {
    let mut found = Vec::new();
    each_pair(text, layout, &mut |pair| found.push(pair))?;
    Ok(found)
}

/// Calls `visit` with each pair in order, without collecting them.
pub(super) fn each_pair(
    text: &str,
    layout: &Layout,
    visit: &mut dyn FnMut(Pair),
) -> Result<(), DsnError> {
    let Some(params) = layout.params.clone() else {
        return Ok(());
    };
    match layout.form {
        Form::Url => url_pairs(text, params, visit),
        Form::Ado => ado_pairs(text, visit),
    }
}

fn url_pairs(
    text: &str,
    params: Range<usize>,
    visit: &mut dyn FnMut(Pair),
) -> Result<(), DsnError> {
    let mut start = params.start;
    for (index, segment) in text[params].split('&').enumerate() {
        let range = start..start + segment.len();
        start = range.end + 1;
        if segment.is_empty() {
            continue;
        }
        match segment.find('=') {
            Some(eq) if eq > 0 => visit(Pair {
                key: range.start..range.start + eq,
                value: range.start + eq + 1..range.end,
            }),
            _ => {
                return Err(DsnError::ParamMalformed {
                    position: index + 1,
                });
            }
        }
    }
    Ok(())
}

fn ado_layout(text: &str) -> Result<Layout, DsnError> {
    let layout = Layout {
        engine: Engine::Mssql,
        form: Form::Ado,
        scheme: 0..0,
        user: None,
        password: None,
        hosts: 0..0,
        path: None,
        params: Some(0..text.len()),
        srv: false,
    };
    let pairs = pairs(text, &layout)?;
    let mut server_seen = false;
    for (index, pair) in pairs.iter().enumerate() {
        let key = text[pair.key.clone()].trim();
        if super::ado::is_server_key(key) {
            server_seen = true;
            let value = super::ado::unquote(&text[pair.value.clone()]);
            if super::ado::server_host(&value).is_none() {
                return Err(DsnError::HostInvalid {
                    position: index + 1,
                });
            }
        }
    }
    if !server_seen {
        return Err(DsnError::SchemeUnknown);
    }
    Ok(layout)
}

/// ADO pairs: `;`-separated, values optionally in `"..."`, `'...'` (a doubled quote is a
/// quote) or `{...}` (a doubled `}` is a brace), so a password may contain `;`.
fn ado_pairs(text: &str, visit: &mut dyn FnMut(Pair)) -> Result<(), DsnError> {
    let bytes = text.as_bytes();
    let mut at = 0;
    let mut position = 0;
    while at < bytes.len() {
        position += 1;
        let segment_end = text[at..]
            .find(';')
            .map_or(text.len(), |offset| at + offset);
        let Some(eq) = text[at..segment_end].find('=') else {
            if text[at..segment_end].trim().is_empty() {
                at = segment_end + 1;
                continue;
            }
            return Err(DsnError::ParamMalformed { position });
        };
        let key = at..at + eq;
        if text[key.clone()].trim().is_empty() {
            return Err(DsnError::ParamMalformed { position });
        }
        let value_start = at + eq + 1;
        // SqlClient skips any white space before a quote, tabs and line breaks included.
        let leading: usize = text[value_start..]
            .chars()
            .take_while(|c| c.is_whitespace())
            .map(char::len_utf8)
            .sum();
        let quoted_at = value_start + leading;
        let value_end = match bytes.get(quoted_at) {
            Some(&open @ (b'"' | b'\'' | b'{')) => {
                let close = if open == b'{' { b'}' } else { open };
                let end = closing_quote(bytes, quoted_at + 1, close)
                    .ok_or(DsnError::QuoteUnterminated { position })?;
                // ODBC quotes with braces only, SqlClient with quotes only: a `;` inside
                // either is the start of another pair to one of them.
                if text[quoted_at..end].contains(';') {
                    return Err(DsnError::QuoteAmbiguous { position });
                }
                let rest_end = text[end..]
                    .find(';')
                    .map_or(text.len(), |offset| end + offset);
                if !text[end..rest_end].trim().is_empty() {
                    return Err(DsnError::ParamMalformed { position });
                }
                rest_end
            }
            _ => segment_end,
        };
        visit(Pair {
            key,
            value: value_start..value_end,
        });
        at = value_end + 1;
    }
    Ok(())
}

/// The index just past the quote that closes a value opened before `from`; a doubled closing
/// character is an escaped one.
fn closing_quote(bytes: &[u8], from: usize, close: u8) -> Option<usize> {
    let mut at = from;
    while at < bytes.len() {
        if bytes.get(at) == Some(&close) {
            if bytes.get(at + 1) == Some(&close) {
                at += 2;
                continue;
            }
            return Some(at + 1);
        }
        at += 1;
    }
    None
}
