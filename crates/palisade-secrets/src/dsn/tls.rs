//! The TLS policy: in production, a DSN that reaches a remote host must ask for TLS.

use std::net::IpAddr;

use super::{Dsn, DsnError, Engine};

/// How strictly [`Dsn::check_tls`] judges a DSN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TlsPolicy {
    /// Report the verdict, refuse nothing.
    #[default]
    Development,
    /// Refuse a remote host without TLS, and TLS with certificate checks turned off.
    Production,
}

/// What [`Dsn::check_tls`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsVerdict {
    /// Every host is the local machine: loopback, a Unix socket, shared memory, or a SQLite
    /// file. TLS is not needed.
    Local,
    /// TLS is required by this parameter (or, for `mongodb+srv`, by the scheme).
    Encrypted {
        /// The parameter (or scheme) that asks for TLS.
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
const REQUIRES: [(Engine, &str, &[&str]); 6] = [
    (
        Engine::MySql,
        "ssl-mode",
        &["required", "verify_ca", "verify_identity"],
    ),
    (
        Engine::MySql,
        "sslmode",
        &["required", "verify_ca", "verify_identity"],
    ),
    (Engine::MySql, "ssl", &["true", "1"]),
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
    /// assert_eq!(secure.check_tls(TlsPolicy::Production), Ok(TlsVerdict::Encrypted { by: "sslmode" }));
    ///
    /// let local: Dsn = "postgres://app:pw@localhost/app".parse()?;
    /// assert_eq!(local.check_tls(TlsPolicy::Production), Ok(TlsVerdict::Local));
    /// # Ok::<(), DsnError>(())
    /// ```
    ///
    /// # Errors
    /// Under [`TlsPolicy::Production`]: [`DsnError::TlsMissing`] naming the parameter to add,
    /// or [`DsnError::TlsUnverified`] naming the parameter that turns certificate checks off.
    pub fn check_tls(&self, policy: TlsPolicy) -> Result<TlsVerdict, DsnError> {
        let engine = self.engine();
        if engine == Engine::Sqlite || self.is_local() {
            return Ok(TlsVerdict::Local);
        }
        if policy == TlsPolicy::Production
            && let Some(param) = WEAKENS
                .iter()
                .find_map(|&(weak_engine, key)| {
                    (weak_engine == engine && self.last_param(key).is_some_and(|v| is_true(&v)))
                        .then_some(key)
                })
                .or_else(|| {
                    WEAKENS_WITH.iter().find_map(|&(weak_engine, key, weak)| {
                        (weak_engine == engine
                            && self
                                .last_param(key)
                                .is_some_and(|v| v.trim().eq_ignore_ascii_case(weak)))
                        .then_some(key)
                    })
                })
        {
            return Err(DsnError::TlsUnverified { param });
        }
        let verdict = match self.encrypted_by() {
            Some(by) => TlsVerdict::Encrypted { by },
            None => TlsVerdict::Unencrypted,
        };
        if policy == TlsPolicy::Production && verdict == TlsVerdict::Unencrypted {
            return Err(DsnError::TlsMissing {
                engine,
                add: advice(engine, self.is_ado()),
            });
        }
        Ok(verdict)
    }

    fn encrypted_by(&self) -> Option<&'static str> {
        let engine = self.engine();
        if engine == Engine::Postgres {
            return self.postgres_sslmode();
        }
        let by_param = REQUIRES
            .iter()
            .filter(|(required_engine, ..)| *required_engine == engine)
            .find_map(|&(_, key, values)| {
                let value = self.last_param(key)?;
                values
                    .iter()
                    .any(|accepted| value.eq_ignore_ascii_case(accepted))
                    .then_some(key)
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

    /// libpq's effective `sslmode`: a URL's `ssl=true` is `sslmode=require`, and so is the
    /// deprecated `requiressl=1`; the last of the three counts.
    fn postgres_sslmode(&self) -> Option<&'static str> {
        const MODES: [(&str, &[&str]); 3] = [
            ("sslmode", &["require", "verify-ca", "verify-full"]),
            ("ssl", &["true"]),
            ("requiressl", &["1"]),
        ];
        let (key, value) = self.last_keyed_param(&["sslmode", "ssl", "requiressl"])?;
        MODES.iter().find_map(|&(name, accepted)| {
            (name == key
                && accepted
                    .iter()
                    .any(|a| value.trim().eq_ignore_ascii_case(a)))
            .then_some(name)
        })
    }

    /// Whether every host the driver may reach is this machine. A host the DSN leaves to
    /// the environment is unknown, so not local: libpq fills an empty host (`postgres:///db`,
    /// `host=`) from `PGHOST` and a `service=` from a service file, either of which may name
    /// a remote server. MySQL's `socket=` is used only for `localhost`; with another host the
    /// client connects over TCP.
    fn is_local(&self) -> bool {
        let engine = self.engine();
        if engine == Engine::Postgres && self.last_param("service").is_some() {
            return false;
        }
        let hosts = self.reachable_hosts();
        // No MySQL client reads a socket path from a URL's host (`socket=` names it): a
        // percent-encoded path there is a host name that resolves nowhere local.
        let socket_path_read = engine != Engine::MySql;
        !hosts.is_empty()
            && hosts.iter().all(|host| {
                !host.trim().is_empty()
                    && (socket_path_read || !host.starts_with(['/', '@']))
                    && is_local_host(host)
            })
    }
}

fn is_true(value: &str) -> bool {
    ["true", "yes", "1"]
        .iter()
        .any(|accepted| value.trim().eq_ignore_ascii_case(accepted))
}

/// Loopback names and addresses, Unix socket paths (`/dir`, `@abstract`) and the empty host
/// (PostgreSQL's default socket).
pub(super) fn is_local_host(host: &str) -> bool {
    let host = host.trim();
    if host.is_empty() || host.starts_with('/') || host.starts_with('@') {
        return true;
    }
    if host.trim_end_matches('.').eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_loopback(),
        Ok(IpAddr::V6(v6)) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        // The short and numeric forms `inet_aton` accepts, which libpq and the MySQL client
        // resolve (`127.1`, `2130706433`, `0x7f.1`).
        Err(_) => inet_aton(host).is_some_and(|v4| v4.is_loopback()),
    }
}

/// An IPv4 address in any form `inet_aton` reads: one to four parts, each decimal, octal
/// (leading `0`) or hexadecimal (`0x`), the last filling the remaining bytes.
fn inet_aton(text: &str) -> Option<std::net::Ipv4Addr> {
    let parts: Vec<u64> = text
        .split('.')
        .map(|part| {
            let (digits, radix) = match part.get(..2) {
                Some("0x" | "0X") => (part.get(2..)?, 16),
                _ if part.len() > 1 && part.starts_with('0') => (part.get(1..)?, 8),
                _ => (part, 10),
            };
            if digits.is_empty() {
                return None;
            }
            u64::from_str_radix(digits, radix).ok()
        })
        .collect::<Option<_>>()?;
    let (last, leading) = parts.split_last()?;
    if leading.len() > 3 || leading.iter().any(|&p| p > 255) {
        return None;
    }
    let room = 8 * (4 - u32::try_from(leading.len()).ok()?);
    if *last >= 1u64 << room {
        return None;
    }
    let value = leading
        .iter()
        .fold(0u64, |acc, &p| (acc << 8) | p)
        .checked_shl(room)?
        | last;
    u32::try_from(value).ok().map(std::net::Ipv4Addr::from)
}
