//! The TLS policy: in production, a DSN that reaches a remote host must ask for TLS that
//! verifies the server; the explicit `Encrypted` level accepts encryption alone.

use std::borrow::Cow;

use super::{Dsn, DsnError, Engine, same_key};

/// How strictly [`Dsn::check_tls`] judges a DSN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TlsPolicy {
    /// Report the verdict, refuse nothing.
    #[default]
    Development,
    /// Refuse a remote host without TLS; accept TLS that does not verify the server
    /// (`sslmode=require`), which a man in the middle can answer. The explicit weaker level.
    Encrypted,
    /// Refuse a remote host unless TLS verifies the server's certificate and name:
    /// `sslmode=verify-full`, `ssl-mode=VERIFY_IDENTITY`, `Encrypt=strict` or `Encrypt=yes`
    /// without `TrustServerCertificate`, `tls=true` without `tlsInsecure` or
    /// `tlsAllowInvalid*`.
    Production,
}

/// What [`Dsn::check_tls`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsVerdict {
    /// Every host is the local machine: loopback, a Unix socket, shared memory, or a SQLite
    /// file. TLS is not needed.
    Local,
    /// TLS is required by this parameter (or, for `mongodb+srv`, by the scheme), but the
    /// server is not verified (only returned under [`TlsPolicy::Encrypted`] and
    /// [`TlsPolicy::Development`]).
    Encrypted {
        /// The parameter (or scheme) that asks for TLS.
        by: &'static str,
    },
    /// TLS is required and verifies the server's certificate and host name.
    Verified {
        /// The parameter (or scheme) that asks for it.
        by: &'static str,
    },
    /// A remote host without TLS (only returned under [`TlsPolicy::Development`]).
    Unencrypted,
}

/// The parameter to add, per engine, when TLS is missing.
const fn advice(engine: Engine, ado: bool) -> &'static str {
    match engine {
        Engine::Postgres => "sslmode=verify-full",
        Engine::MySql => "ssl-mode=VERIFY_IDENTITY",
        Engine::Mssql if ado => "Encrypt=Strict",
        Engine::Mssql => "encrypt=true",
        Engine::MongoDb => "tls=true",
        Engine::Sqlite => "",
    }
}

/// Parameters that ask for TLS: key, accepted values (ASCII case-insensitive), per engine.
/// PostgreSQL and MySQL are judged by [`Dsn::tls_mode`] instead.
const REQUIRES: [(Engine, &str, &[&str]); 3] = [
    (
        Engine::Mssql,
        "encrypt",
        &["yes", "true", "strict", "mandatory"],
    ),
    (Engine::MongoDb, "tls", &["true"]),
    (Engine::MongoDb, "ssl", &["true"]),
];

/// Parameters that turn certificate checks off when set to a true value (keys compared as
/// drivers compare them: `Trust Server Certificate` is `TrustServerCertificate`), with the
/// MongoDB drivers' legacy `ssl*` spellings.
const WEAKENS: [(Engine, &str); 6] = [
    (Engine::Mssql, "TrustServerCertificate"),
    (Engine::MongoDb, "tlsInsecure"),
    (Engine::MongoDb, "tlsAllowInvalidCertificates"),
    (Engine::MongoDb, "tlsAllowInvalidHostnames"),
    (Engine::MongoDb, "sslAllowInvalidCertificates"),
    (Engine::MongoDb, "sslAllowInvalidHostnames"),
];

/// Parameters that turn certificate checks off with a particular value: legacy MongoDB
/// `sslValidate=false` and pymongo's `ssl_cert_reqs=CERT_NONE`.
const WEAKENS_WITH: [(Engine, &str, &str); 3] = [
    (Engine::MongoDb, "sslValidate", "false"),
    (Engine::MongoDb, "tlsValidate", "false"),
    (Engine::MongoDb, "ssl_cert_reqs", "CERT_NONE"),
];

impl Dsn {
    /// Judges the DSN's transport security under `policy`.
    ///
    /// A DSN is [`TlsVerdict::Local`] when every host it can reach is the local machine:
    /// `localhost`, `127.0.0.0/8` (`127.1` and the other `inet_aton` forms too), `::1`, a Unix
    /// socket (a percent-encoded socket path, `host=/dir`), SQL Server's `(local)`, `.` or
    /// `lpc:`, or SQLite. Hosts are read as the drivers read them (an `@` after the host part, which drivers read differently, is refused when parsing),
    /// MySQL's `socket=` serves `localhost` only, and a host the environment decides (an empty
    /// PostgreSQL host, which libpq takes from `PGHOST`, or a `service=`) is not local.
    /// Parameter keys match as the drivers match them: case, spaces, `_` and `-` aside. Otherwise it needs TLS: `sslmode=require|verify-ca|verify-full`
    /// (PostgreSQL), `ssl-mode=REQUIRED|VERIFY_CA|VERIFY_IDENTITY` or `ssl=true` (MySQL and
    /// MariaDB), `Encrypt=yes|true|strict|mandatory` (SQL Server), `tls=true` or `ssl=true`
    /// (MongoDB; `mongodb+srv` implies it unless `tls=false`). The last occurrence of a
    /// parameter counts, as in libpq.
    ///
    /// ```
    /// use palisade_secrets::{Dsn, DsnError, TlsPolicy, TlsVerdict};
    ///
    /// let remote: Dsn = "postgres://app:pw@db.example.com/app".parse()?;
    /// assert_eq!(
    ///     remote.check_tls(TlsPolicy::Production),
    ///     Err(DsnError::TlsMissing { engine: remote.engine(), add: "sslmode=verify-full" })
    /// );
    /// assert_eq!(remote.check_tls(TlsPolicy::Development), Ok(TlsVerdict::Unencrypted));
    ///
    /// let secure: Dsn = "postgres://app:pw@db.example.com/app?sslmode=verify-full".parse()?;
    /// assert_eq!(secure.check_tls(TlsPolicy::Production), Ok(TlsVerdict::Verified { by: "sslmode" }));
    ///
    /// // `require` encrypts without verifying the server: only the explicit weaker level takes it.
    /// let encrypted: Dsn = "postgres://app:pw@db.example.com/app?sslmode=require".parse()?;
    /// assert!(matches!(encrypted.check_tls(TlsPolicy::Production), Err(DsnError::TlsNotVerified { .. })));
    /// assert_eq!(encrypted.check_tls(TlsPolicy::Encrypted), Ok(TlsVerdict::Encrypted { by: "sslmode" }));
    ///
    /// let local: Dsn = "postgres://app:pw@localhost/app".parse()?;
    /// assert_eq!(local.check_tls(TlsPolicy::Production), Ok(TlsVerdict::Local));
    /// # Ok::<(), DsnError>(())
    /// ```
    ///
    /// # Errors
    /// Under [`TlsPolicy::Production`]: [`DsnError::TlsMissing`] naming the parameter to add,
    /// [`DsnError::TlsUnverified`] naming the parameter that turns certificate checks off, or
    /// [`DsnError::TlsNotVerified`] for TLS that does not verify the server, naming the
    /// setting that does. Under [`TlsPolicy::Encrypted`]: [`DsnError::TlsMissing`] only.
    pub fn check_tls(&self, policy: TlsPolicy) -> Result<TlsVerdict, DsnError> {
        let engine = self.engine();
        // pyodbc connects with `odbc_connect` alone (SQLAlchemy reads that spelling only):
        // the URL's host is not used.
        if engine == Engine::Mssql
            && let Some(inner) = self
                .pairs()
                .iter()
                .rev()
                .find(|pair| self.decode_key(pair) == "odbc_connect")
                .map(|pair| self.decode_value(pair))
        {
            return Dsn::parse(&inner)?.check_tls(policy);
        }
        if engine == Engine::Sqlite || self.is_local() {
            return Ok(TlsVerdict::Local);
        }
        let weakened = self.weakened_by();
        if policy == TlsPolicy::Production
            && let Some(param) = weakened
        {
            return Err(DsnError::TlsUnverified { param });
        }
        let verdict = match (self.verified_by(weakened.is_some()), self.encrypted_by()) {
            (Some(by), _) => TlsVerdict::Verified { by },
            (None, Some(by)) => TlsVerdict::Encrypted { by },
            (None, None) => TlsVerdict::Unencrypted,
        };
        let add = advice(engine, self.is_ado());
        match (policy, verdict) {
            (TlsPolicy::Encrypted | TlsPolicy::Production, TlsVerdict::Unencrypted) => {
                Err(DsnError::TlsMissing { engine, add })
            }
            (TlsPolicy::Production, TlsVerdict::Encrypted { by }) => {
                Err(DsnError::TlsNotVerified { by, add })
            }
            _ => Ok(verdict),
        }
    }

    /// The parameter that turns certificate checks off, if any: any occurrence in any
    /// spelling (ODBC keeps the first of a repeated keyword, SqlClient and pymongo the last).
    fn weakened_by(&self) -> Option<&'static str> {
        let engine = self.engine();
        WEAKENS
            .iter()
            .find_map(|&(weak_engine, key)| {
                (weak_engine == engine && self.values_of(key, false).iter().any(|v| is_true(v)))
                    .then_some(key)
            })
            .or_else(|| {
                WEAKENS_WITH.iter().find_map(|&(weak_engine, key, weak)| {
                    (weak_engine == engine
                        && self
                            .values_of(key, false)
                            .iter()
                            .any(|v| v.trim().eq_ignore_ascii_case(weak)))
                    .then_some(key)
                })
            })
    }

    /// The parameter that asks for TLS verifying the server: PostgreSQL's
    /// `sslmode=verify-full` and MySQL's `VERIFY_IDENTITY` (not `require` or `VERIFY_CA`,
    /// which leave the host name unchecked); for SQL Server and MongoDB, whose drivers verify
    /// by default, TLS at all unless certificate checks are turned off.
    fn verified_by(&self, weakened: bool) -> Option<&'static str> {
        match self.engine() {
            Engine::Postgres if self.holds_conninfo() => None,
            Engine::Postgres => self.tls_mode(&["sslmode"], &["verify-full"]),
            Engine::MySql if self.is_dialect_driver() => {
                self.tls_mode(&["ssl_mode"], &["verify_identity"])
            }
            Engine::MySql => self.tls_mode(&["ssl-mode", "sslmode"], &["verify_identity"]),
            Engine::Mssql | Engine::MongoDb if !weakened => self.encrypted_by(),
            _ => None,
        }
    }

    fn encrypted_by(&self) -> Option<&'static str> {
        const PG: &[&str] = &["require", "verify-ca", "verify-full"];
        const MYSQL: &[&str] = &["required", "verify_ca", "verify_identity"];
        let engine = self.engine();
        match engine {
            // libpq and sqlx both read `sslmode`; a connection string passed whole may set
            // another.
            Engine::Postgres if self.holds_conninfo() => return None,
            Engine::Postgres => return self.tls_mode(&["sslmode"], PG),
            // mysqlclient and MySQL Connector/Python (SQLAlchemy's drivers) read `ssl_mode`.
            Engine::MySql if self.is_dialect_driver() => {
                return self.tls_mode(&["ssl_mode"], MYSQL);
            }
            // sqlx and the MySQL clients read `ssl-mode` (sqlx `sslmode` too).
            Engine::MySql => return self.tls_mode(&["ssl-mode", "sslmode"], MYSQL),
            _ => {}
        }
        let by_param = REQUIRES
            .iter()
            .filter(|(required_engine, ..)| *required_engine == engine)
            // Every occurrence in any spelling must ask for TLS (ODBC keeps the first of a
            // repeated keyword, SqlClient the last), and one must be spelled as the drivers
            // read it (`En_crypt` is an unknown keyword to ODBC).
            .find_map(|&(_, key, values)| {
                let all = self.values_of(key, false);
                let exact = !self.values_of(key, true).is_empty();
                let accepted = |value: &Cow<'_, str>| {
                    values
                        .iter()
                        .any(|accepted| value.trim().eq_ignore_ascii_case(accepted))
                };
                (exact && !all.is_empty() && all.iter().all(accepted)).then_some(key)
            });
        if by_param.is_some() {
            return by_param;
        }
        let tls_turned_off = ["tls", "ssl"].iter().any(|key| {
            self.last_param(key)
                .is_some_and(|v| v.eq_ignore_ascii_case("false"))
        });
        (self.is_srv() && !tls_turned_off).then_some("mongodb+srv")
    }

    /// The TLS mode every driver of the scheme reads. The last parameter spelled as any
    /// TLS mode (`sslmode`, `SSLMODE`, `ssl_mode`, `ssl-mode`, `ssl`, `requiressl`) decides,
    /// and it counts only in a spelling in `spellings`, exactly: sqlx reads `sslmode` and
    /// `ssl-mode` and ignores the rest, libpq reads `sslmode` (and turns a URL's `ssl=true`
    /// into `require`, which sqlx ignores), so an ignored spelling leaves a driver on its
    /// default, `prefer`, which an attacker on the path downgrades.
    fn tls_mode(&self, spellings: &[&'static str], accepted: &[&str]) -> Option<&'static str> {
        let pairs = self.pairs();
        let last = pairs.iter().rev().find(|pair| {
            let key = self.decode_key(pair);
            ["sslmode", "ssl", "requiressl"]
                .iter()
                .any(|mode| same_key(&key, mode))
        })?;
        let key = self.decode_key(last);
        let value = self.decode_value(last);
        let spelling = spellings.iter().find(|s| **s == key)?;
        accepted
            .iter()
            .any(|a| value.eq_ignore_ascii_case(a))
            .then_some(*spelling)
    }
}

fn is_true(value: &str) -> bool {
    ["true", "yes", "1"]
        .iter()
        .any(|accepted| value.trim().eq_ignore_ascii_case(accepted))
}
