//! `DsnError`: why a DSN was refused. Names the part, never the DSN or its password.

use std::fmt;

use super::Engine;

/// Why a DSN does not parse or does not pass the TLS policy.
///
/// Parts are named by position (the second host, the third query parameter), never quoted:
/// a malformed DSN may have its password where a host or parameter belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DsnError {
    /// The DSN is empty.
    Empty,
    /// The DSN holds a control character (a tab, a line break, NUL), which drivers read
    /// differently: the `url` crate drops tabs and line breaks, C drivers stop at NUL.
    ControlCharacter,
    /// The scheme is not one this type knows.
    SchemeUnknown,
    /// The part between `//` and the path does not parse as `user:password@hosts`.
    AuthorityMalformed,
    /// A host is empty where one is needed, or has characters a host cannot have.
    HostInvalid {
        /// The host's 1-based position in the host list.
        position: usize,
    },
    /// A port is not a number from 1 to 65535.
    PortInvalid {
        /// The host's 1-based position in the host list.
        position: usize,
    },
    /// `mongodb+srv` takes exactly one host name and no port.
    SrvHostInvalid,
    /// A SQLite DSN names a host (`sqlite+libsql://server`): a server, not a local file.
    SqliteHost,
    /// An ADO value in braces or quotes holds a `;`: ODBC drivers quote with braces only,
    /// SqlClient with quotes only, so one of them reads the `;` as the start of another pair.
    QuoteAmbiguous {
        /// The pair's 1-based position.
        position: usize,
    },
    /// An `@` after the host list (in the path, query or fragment, or after a `#` or `?` in
    /// the authority), or two in the authority: libpq, SQLAlchemy and pymongo end the
    /// `user:password` part at another `@` than RFC 3986 (and the `url` crate) do, so they
    /// connect to another host.
    UserinfoAmbiguous,
    /// A query parameter (or an ADO `key=value` pair) has no `=` or an empty key.
    ParamMalformed {
        /// The parameter's 1-based position.
        position: usize,
    },
    /// An ADO value opened with a quote or brace that never closes.
    QuoteUnterminated {
        /// The pair's 1-based position.
        position: usize,
    },
    /// A percent-encoded user name or password is not UTF-8 once decoded.
    CredentialNotUtf8,
    /// The secret holding the DSN is not UTF-8.
    NotUtf8,
    /// Production policy: a remote host without TLS.
    TlsMissing {
        /// The database engine.
        engine: Engine,
        /// The parameter to add, such as `sslmode=verify-full`.
        add: &'static str,
    },
    /// Production policy: TLS is on but certificate checks are turned off.
    TlsUnverified {
        /// The parameter that turns them off, such as `tlsInsecure`.
        param: &'static str,
    },
    /// Production policy: TLS encrypts but does not verify the server (`sslmode=require`).
    TlsNotVerified {
        /// The parameter that asks for TLS, such as `sslmode`.
        by: &'static str,
        /// The setting that verifies, such as `sslmode=verify-full`.
        add: &'static str,
    },
}

impl fmt::Display for DsnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the DSN is empty"),
            Self::ControlCharacter => f.write_str(
                "the DSN holds a control character (tab, line break, NUL), which drivers read differently; percent-encode it",
            ),
            Self::SchemeUnknown => f.write_str(
                "unknown DSN scheme; expected postgres, postgresql, mysql, mariadb, mssql, sqlserver, sqlite, mongodb or mongodb+srv, or an ADO `Server=...;` string",
            ),
            Self::AuthorityMalformed => f.write_str(
                "the DSN's `user:password@host` part is malformed (percent-encode `@ : / ?` in the user name and password)",
            ),
            Self::HostInvalid { position } => write!(f, "DSN host {position} is invalid"),
            Self::PortInvalid { position } => {
                write!(f, "DSN port of host {position} is not a number from 1 to 65535")
            }
            Self::UserinfoAmbiguous => f.write_str(
                "the DSN has an `@` in its password or after its host part, where drivers disagree on the host (percent-encode it as %40)",
            ),
            Self::SqliteHost => f.write_str(
                "the SQLite DSN names a host: a database server, not a local file, whose transport cannot be judged here",
            ),
            Self::QuoteAmbiguous { position } => write!(
                f,
                "DSN parameter {position} holds `;` inside braces or quotes, which ODBC drivers and SqlClient split differently"
            ),
            Self::SrvHostInvalid => {
                f.write_str("a mongodb+srv DSN takes exactly one host name and no port")
            }
            Self::ParamMalformed { position } => {
                write!(f, "DSN parameter {position} is not `key=value`")
            }
            Self::QuoteUnterminated { position } => {
                write!(f, "DSN parameter {position} opens a quote that never closes")
            }
            Self::CredentialNotUtf8 => {
                f.write_str("the DSN's percent-decoded user name or password is not UTF-8")
            }
            Self::NotUtf8 => f.write_str("the secret holding the DSN is not UTF-8"),
            Self::TlsMissing { engine, add } => write!(
                f,
                "{engine} DSN connects to a remote host without TLS; add `{add}`"
            ),
            Self::TlsUnverified { param } => write!(
                f,
                "DSN turns off TLS certificate checks with `{param}`; remove it in production"
            ),
            Self::TlsNotVerified { by, add } => write!(
                f,
                "DSN asks for TLS with `{by}` but does not verify the server's certificate and name, so a man in the middle can answer; set `{add}` (or accept encryption alone with the Encrypted TLS policy)"
            ),
        }
    }
}

impl std::error::Error for DsnError {}
