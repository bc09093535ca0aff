//! `Dsn`: a database connection string whose password is a secret.

mod ado;
mod error;
mod hosts;
mod parse;
mod tls;

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use percent_encoding::percent_decode_str;
use secrecy::{ExposeSecret, SecretString};

pub use error::DsnError;
pub use tls::{TlsPolicy, TlsVerdict};

use parse::{Form, Layout, Pair};

/// The database a DSN connects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Engine {
    /// `postgres://`, `postgresql://`
    Postgres,
    /// `mysql://`, `mariadb://`
    MySql,
    /// `mssql://`, `sqlserver://`, and ADO `Server=...;` strings
    Mssql,
    /// `sqlite:`
    Sqlite,
    /// `mongodb://`, `mongodb+srv://`
    MongoDb,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Postgres => "PostgreSQL",
            Self::MySql => "MySQL/MariaDB",
            Self::Mssql => "SQL Server",
            Self::Sqlite => "SQLite",
            Self::MongoDb => "MongoDB",
        })
    }
}

/// One host of a DSN, percent-decoded (a Unix socket path reads `/var/run/postgresql`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Host {
    /// The host name, IP address (IPv6 without brackets) or socket path.
    pub name: String,
    /// The port, when the DSN gives one.
    pub port: Option<u16>,
}

/// Parameter keys whose values are secrets, in every engine, compared as [`same_key`]
/// compares them; besides these, every key that ends in `password`, `passphrase`, `token` or
/// `secret`
/// (`sslpassword`, MySQL's `password1..3`, JDBC's `trustStorePassword`).
const SECRET_KEYS: [&str; 9] = [
    "pwd",
    "pass",
    "passwd",
    "authmechanismproperties",
    "key",
    "hexkey",
    // Whole connection strings inside a URL, password and all: pyodbc's, psycopg's, psycopg2's.
    "odbcconnect",
    "conninfo",
    "dsn",
];

fn is_secret_key(key: &str) -> bool {
    with_normalized_key(key, is_secret_normalized)
}

fn is_secret_normalized(key: &str) -> bool {
    key.ends_with("password")
        || key.ends_with("passphrase")
        || key.ends_with("token")
        || key.ends_with("secret")
        || key
            .strip_prefix("password")
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        || SECRET_KEYS.contains(&key)
}

/// A key as drivers match it: ASCII case-insensitive, and without the spaces, `_` and `-`
/// their spellings differ by (`Trust Server Certificate`, `TrustServerCertificate`;
/// `ssl_mode`, `ssl-mode`, `sslmode`).
fn normalized_key(key: &str) -> String {
    key.trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Calls `read` with [`normalized_key`] of `key`, made on the stack for the keys drivers
/// have (a long one is made on the heap): parsing a DSN allocates nothing per parameter.
fn with_normalized_key<R>(key: &str, read: impl FnOnce(&str) -> R) -> R {
    let mut buffer = [0_u8; 64];
    let mut len = 0;
    for byte in key
        .trim()
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'_' | b'-'))
    {
        let Some(slot) = buffer.get_mut(len) else {
            return read(&normalized_key(key));
        };
        *slot = byte.to_ascii_lowercase();
        len += 1;
    }
    // Only ASCII bytes were removed or lowered, so the bytes are still UTF-8.
    match std::str::from_utf8(buffer.get(..len).unwrap_or_default()) {
        Ok(normalized) => read(normalized),
        Err(_) => read(&normalized_key(key)),
    }
}

/// Whether two keys name one parameter (see [`normalized_key`]).
pub(super) fn same_key(a: &str, b: &str) -> bool {
    with_normalized_key(a, |a| with_normalized_key(b, |b| a == b))
}

/// The mask that replaces every secret in [`Display`](fmt::Display) and `Debug`.
const MASK: &str = "***";

/// A connection string for PostgreSQL, MySQL/MariaDB, SQL Server (URL and ADO forms), SQLite or
/// MongoDB (including `mongodb+srv`), with its password held as a secret.
///
/// - `Display` and `Debug` print the DSN with the password, and every password-like parameter
///   (`password=`, `sslpassword=`, MongoDB's `authMechanismProperties=`), as `***`.
/// - Nothing is normalised: [`expose_secret`](Self::expose_secret) returns the DSN byte for
///   byte, so `options=-csearch_path=app` and every other parameter reach the driver exactly
///   as written (R-SEC-8), and the redacted form differs from it only where the secrets were.
/// - Parts are read through accessors ([`hosts`](Self::hosts), [`database`](Self::database),
///   [`param`](Self::param)...), percent-decoded.
/// - [`check_tls`](Self::check_tls) judges transport security (R-SEC-7).
///
/// ```
/// use secrecy::ExposeSecret;
/// use palisade_secrets::{Dsn, Engine};
///
/// let text = "postgresql://app:p%40ss@db1:5432,db2/app?sslmode=verify-full&options=-csearch_path%3Dapp";
/// let dsn: Dsn = text.parse()?;
/// assert_eq!(dsn.engine(), Engine::Postgres);
/// assert_eq!(dsn.to_string(), "postgresql://app:***@db1:5432,db2/app?sslmode=verify-full&options=-csearch_path%3Dapp");
/// assert_eq!(format!("{dsn:?}"), format!("Dsn({:?})", dsn.to_string()));
/// assert_eq!(dsn.password().unwrap().expose_secret(), "p@ss");
/// assert_eq!(dsn.hosts().len(), 2);
/// assert_eq!(dsn.param("options").as_deref(), Some("-csearch_path=app"));
/// assert_eq!(dsn.expose_secret(), text);
/// # Ok::<(), palisade_secrets::DsnError>(())
/// ```
pub struct Dsn {
    text: SecretString,
    redacted: String,
    layout: Layout,
}

impl Dsn {
    /// Parses a DSN.
    ///
    /// # Errors
    /// A [`DsnError`] naming the malformed part by position, never quoting it.
    pub fn parse(text: &str) -> Result<Self, DsnError> {
        let layout = parse::layout(text)?;
        for range in layout.user.iter().chain(&layout.password) {
            decode(text, range).map_err(|_| DsnError::CredentialNotUtf8)?;
        }
        // One pass: copy the text into the redacted form, masking the userinfo password and
        // every secret parameter (they come in text order).
        let mut redacted = String::with_capacity(text.len());
        let mut copied = 0;
        let mut mask = |range: Range<usize>| {
            redacted.push_str(text.get(copied..range.start).unwrap_or_default());
            redacted.push_str(MASK);
            copied = range.end;
        };
        if let Some(password) = layout.password.clone() {
            mask(password);
        }
        parse::each_pair(text, &layout, &mut |pair| {
            let key = text.get(pair.key.clone()).unwrap_or_default();
            // A percent-encoded key (`pass%77ord`) is still that key.
            let secret = if key.contains('%') {
                is_secret_key(&percent_decode_str(key).decode_utf8_lossy())
            } else {
                is_secret_key(key)
            };
            if secret {
                mask(pair.value);
            }
        })?;
        redacted.push_str(text.get(copied..).unwrap_or_default());
        Ok(Self {
            redacted,
            text: SecretString::from(text),
            layout,
        })
    }

    /// Parses the DSN a secret holds.
    ///
    /// # Errors
    /// [`DsnError::NotUtf8`], or what [`Dsn::parse`] returns.
    pub fn from_secret(value: &crate::SecretValue) -> Result<Self, DsnError> {
        Self::parse(value.expose_str().ok_or(DsnError::NotUtf8)?)
    }

    /// The DSN exactly as given, password included: the one way to hand it to a driver.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        self.text.expose_secret()
    }

    /// The database engine.
    #[must_use]
    pub const fn engine(&self) -> Engine {
        self.layout.engine
    }

    /// The scheme as written (`postgresql`, `mongodb+srv`), or `None` for an ADO string.
    #[must_use]
    pub fn scheme(&self) -> Option<&str> {
        (!self.is_ado()).then(|| self.slice(&self.layout.scheme))
    }

    /// The user name, percent-decoded or unquoted.
    #[must_use]
    pub fn username(&self) -> Option<Cow<'_, str>> {
        match self.layout.form {
            Form::Url => self.layout.user.as_ref().map(|user| self.decoded(user)),
            Form::Ado => self.last_param_of(&["user id", "uid", "user", "username"]),
        }
    }

    /// The password, decoded: the userinfo password, else a `password=` parameter.
    #[must_use]
    pub fn password(&self) -> Option<SecretString> {
        let userinfo = self
            .layout
            .password
            .as_ref()
            .map(|range| SecretString::from(self.decoded(range).into_owned()));
        userinfo.or_else(|| {
            self.last_param_of(&["password", "pwd"])
                .map(|value| SecretString::from(value.into_owned()))
        })
    }

    /// The hosts, in order, percent-decoded. Empty for SQLite and for PostgreSQL's default
    /// socket (`postgres:///db`).
    #[must_use]
    pub fn hosts(&self) -> Vec<Host> {
        match self.layout.form {
            Form::Ado => self
                .ado_servers()
                .into_iter()
                .filter_map(|value| match ado::server_host(&value) {
                    Some(ado::Server::Host(name)) => Some(Host {
                        name: name.to_owned(),
                        port: ado_port(&value),
                    }),
                    _ => None,
                })
                .collect(),
            Form::Url if self.engine() == Engine::Sqlite => Vec::new(),
            Form::Url => {
                let list = self.slice(&self.layout.hosts);
                if list.is_empty() {
                    return Vec::new();
                }
                list.split(',')
                    .map(|entry| {
                        let (name, port) = parse::host_and_port(entry);
                        Host {
                            name: percent_decode_str(name.unwrap_or_default())
                                .decode_utf8_lossy()
                                .into_owned(),
                            port: port.and_then(|port| port.parse().ok()),
                        }
                    })
                    .collect()
            }
        }
    }

    /// The database name (SQLite: the file path), decoded; `None` when the DSN names none.
    #[must_use]
    pub fn database(&self) -> Option<Cow<'_, str>> {
        match self.layout.form {
            Form::Ado => self.last_param_of(&["database", "initial catalog"]),
            Form::Url => self
                .layout
                .path
                .as_ref()
                .filter(|path| !path.is_empty())
                .map(|path| self.decoded(path)),
        }
    }

    /// The last value of parameter `key` (ASCII case-insensitive), decoded. Secret parameters
    /// (`password`, `sslpassword`...) read as `***`: use [`password`](Self::password).
    #[must_use]
    pub fn param(&self, key: &str) -> Option<Cow<'_, str>> {
        if is_secret_key(key) {
            return self.last_param(key).map(|_| Cow::Borrowed(MASK));
        }
        self.last_param(key)
    }

    /// Every parameter in order, decoded, secret ones as `***`.
    #[must_use]
    pub fn params(&self) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
        self.pairs()
            .iter()
            .map(|pair| {
                let key = self.decode_key(pair);
                let value = if is_secret_key(&key) {
                    Cow::Borrowed(MASK)
                } else {
                    self.decode_value(pair)
                };
                (key, value)
            })
            .collect()
    }

    fn is_ado(&self) -> bool {
        self.layout.form == Form::Ado
    }

    fn is_srv(&self) -> bool {
        self.layout.srv
    }

    /// SQLAlchemy's `dialect+driver://` (not `mongodb+srv`): the driver gets the parts as
    /// SQLAlchemy reads them.
    fn is_dialect_driver(&self) -> bool {
        !self.is_srv() && self.slice(&self.layout.scheme).contains('+')
    }

    fn slice(&self, range: &Range<usize>) -> &str {
        self.expose_secret().get(range.clone()).unwrap_or_default()
    }

    /// Percent-decoded; invalid UTF-8 (possible in parameters only: user and password are
    /// checked at parse time) becomes U+FFFD.
    fn decoded(&self, range: &Range<usize>) -> Cow<'_, str> {
        percent_decode_str(self.slice(range)).decode_utf8_lossy()
    }

    fn pairs(&self) -> Vec<Pair> {
        parse::pairs(self.expose_secret(), &self.layout).unwrap_or_default()
    }

    fn decode_key(&self, pair: &Pair) -> Cow<'_, str> {
        match self.layout.form {
            Form::Url => self.decoded(&pair.key),
            Form::Ado => Cow::Borrowed(self.slice(&pair.key).trim()),
        }
    }

    fn decode_value(&self, pair: &Pair) -> Cow<'_, str> {
        match self.layout.form {
            Form::Url => self.decoded(&pair.value),
            Form::Ado => ado::unquote(self.slice(&pair.value)),
        }
    }

    /// The last value of `key`, decoded, secret or not (for this module only).
    fn last_param(&self, key: &str) -> Option<Cow<'_, str>> {
        self.last_param_of(&[key])
    }

    /// Every value of `key`, in order: keys compared as drivers fold them (`same_key`), or
    /// `exact`ly (ASCII case aside).
    fn values_of(&self, key: &str, exact: bool) -> Vec<Cow<'_, str>> {
        self.pairs()
            .iter()
            .filter(|pair| {
                let name = self.decode_key(pair);
                if exact {
                    name.eq_ignore_ascii_case(key)
                } else {
                    same_key(&name, key)
                }
            })
            .map(|pair| self.decode_value(pair))
            .collect()
    }

    /// A whole libpq connection string in a query parameter (psycopg's `conninfo`, psycopg2's
    /// `dsn`, as SQLAlchemy passes them on): its hosts and TLS mode are not read here.
    fn holds_conninfo(&self) -> bool {
        self.engine() == Engine::Postgres
            && (self.last_param("conninfo").is_some() || self.last_param("dsn").is_some())
    }

    fn last_param_of(&self, keys: &[&str]) -> Option<Cow<'_, str>> {
        self.pairs()
            .iter()
            .rev()
            .find(|pair| {
                let name = self.decode_key(pair);
                keys.iter().any(|key| same_key(&name, key))
            })
            .map(|pair| self.decode_value(pair))
    }

    fn ado_servers(&self) -> Vec<Cow<'_, str>> {
        self.pairs()
            .iter()
            .filter(|pair| ado::is_server_key(&self.decode_key(pair)))
            .map(|pair| self.decode_value(pair))
            .collect()
    }
}

fn ado_port(value: &str) -> Option<u16> {
    let (_, port) = value.rsplit_once(',')?;
    port.trim().parse().ok()
}

fn decode<'a>(text: &'a str, range: &Range<usize>) -> Result<Cow<'a, str>, std::str::Utf8Error> {
    percent_decode_str(text.get(range.clone()).unwrap_or_default()).decode_utf8()
}

impl FromStr for Dsn {
    type Err = DsnError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for Dsn {
    /// The DSN with every secret as `***`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl fmt::Debug for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Dsn").field(&self.redacted).finish()
    }
}

impl Clone for Dsn {
    fn clone(&self) -> Self {
        Self {
            text: SecretString::from(self.expose_secret()),
            redacted: self.redacted.clone(),
            layout: self.layout.clone(),
        }
    }
}
