//! Which hosts a DSN reaches, read as every driver of its scheme may read them, and whether
//! each is this machine.

use std::net::IpAddr;

use percent_encoding::percent_decode_str;

use super::{Dsn, Engine, ado, parse};

impl Dsn {
    /// Whether every host the driver may reach is this machine. A host the DSN leaves to
    /// the environment is unknown, so not local: libpq fills an empty host (`postgres:///db`,
    /// `host=`) from `PGHOST` and a `service=` from a service file, either of which may name
    /// a remote server; `mongodb+srv` asks DNS for its hosts. MySQL's `socket=` is used only
    /// for `localhost`; with another host the client connects over TCP.
    pub(super) fn is_local(&self) -> bool {
        let engine = self.engine();
        // pyodbc without a database, or with `dsn=`, names an ODBC data source: odbc.ini
        // decides the server.
        let odbc_dsn = engine == Engine::Mssql
            && self.is_dialect_driver()
            && (self.database().is_none() || self.last_param("dsn").is_some());
        if self.is_srv()
            || odbc_dsn
            || self.holds_conninfo()
            || (engine == Engine::Postgres && self.last_param("service").is_some())
        {
            return false;
        }
        let hosts = self.reachable_hosts();
        // No MySQL client reads a socket path from a URL's host (`socket=` names it): a
        // percent-encoded path there is a host name that resolves nowhere local.
        let socket_path_read = engine != Engine::MySql;
        !hosts.is_empty()
            && hosts.iter().all(|host| {
                !host.is_empty()
                    && (socket_path_read || !host.starts_with(['/', '@']))
                    && is_local_host(host)
            })
    }

    /// Every host a driver of the scheme may reach: the URL's hosts and every `host=` of the
    /// query (libpq uses its last instead of the URL's, SQLAlchemy joins repeated ones into a
    /// list for psycopg and takes one for its MySQL dialects), and libpq's `hostaddr=`. An
    /// empty entry is a host the environment decides.
    fn reachable_hosts(&self) -> Vec<String> {
        if self.is_ado() {
            return self.server_names();
        }
        // SQLAlchemy hands a host to the driver as written: `%2Ftmp` is a name, no socket.
        let decoded = !self.is_dialect_driver();
        let list = self.slice(&self.layout.hosts);
        let mut hosts: Vec<String> = if list.is_empty() {
            Vec::new()
        } else {
            list.split(',')
                .map(|entry| {
                    let name = parse::host_and_port(entry).0.unwrap_or_default();
                    if decoded {
                        percent_decode_str(name).decode_utf8_lossy().into_owned()
                    } else {
                        name.to_owned()
                    }
                })
                .collect()
        };
        hosts.extend(self.listed_params("host"));
        // pyodbc puts query keys into the ODBC string, where `Address` wins over `Server`.
        if self.engine() == Engine::Mssql {
            hosts.extend(self.server_names());
        }
        if hosts.is_empty() {
            hosts.push(String::new());
        }
        if self.engine() == Engine::Postgres {
            hosts.extend(self.listed_params("hostaddr"));
        }
        hosts
    }

    /// The comma-separated entries of every parameter named `key`, in order.
    fn listed_params(&self, key: &str) -> Vec<String> {
        self.values_of(key, false)
            .iter()
            .flat_map(|value| value.split(',').map(str::to_owned))
            .collect()
    }

    /// The host each ADO server keyword (`Server`, `Address`, ...) names: `localhost` for
    /// shared memory and `(local)`, empty when it names none.
    fn server_names(&self) -> Vec<String> {
        self.ado_servers()
            .into_iter()
            .map(|value| match ado::server_host(&value) {
                Some(ado::Server::Host(name)) => name.to_owned(),
                Some(ado::Server::Local) => "localhost".to_owned(),
                None => String::new(),
            })
            .collect()
    }
}

/// Loopback names and addresses and Unix socket paths (`/dir`, `@abstract`), exactly as
/// written: a host with spaces or other characters around it goes to DNS, as glibc's
/// resolver sends it (`localhost\u{a0}` is not `localhost`).
pub(super) fn is_local_host(host: &str) -> bool {
    if host.starts_with('/') || host.starts_with('@') {
        return true;
    }
    if host
        .strip_suffix('.')
        .unwrap_or(host)
        .eq_ignore_ascii_case("localhost")
    {
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
/// (leading `0`) or hexadecimal (`0x`), the last filling the remaining bytes. Digits only:
/// no sign, no spaces.
fn inet_aton(text: &str) -> Option<std::net::Ipv4Addr> {
    let parts: Vec<u64> = text
        .split('.')
        .map(|part| {
            let (digits, radix) = match part.get(..2) {
                Some("0x" | "0X") => (part.get(2..)?, 16),
                _ if part.len() > 1 && part.starts_with('0') => (part.get(1..)?, 8),
                _ => (part, 10),
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
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
