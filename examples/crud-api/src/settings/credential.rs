//! A connection string setting: a secret reference (`env:DATABASE_URL_VALUE`,
//! `file:/run/secrets/dsn`, ...) or, when it carries no password, the connection string
//! itself, as the reference back end's `.env` has it.

use palisade_secrets::{
    Dsn, RefError, Registry, SecretRef, SecretSource as _, SecretValue, TlsPolicy,
};
use redis::IntoConnectionInfo as _;

use super::SettingInvalid;

/// Where a connection string comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Written in the setting: holds no password (one that does is refused).
    Literal(String),
    /// Read from a secret store when the service starts.
    Reference(SecretRef),
}

/// Whether a URL-shaped connection string carries a password: in its user information, or
/// (PostgreSQL, MySQL, MongoDB) in a parameter `Dsn` knows.
fn has_password(text: &str) -> bool {
    if let Ok(dsn) = Dsn::parse(text) {
        return dsn.password().is_some();
    }
    let rest = text.split_once("://").map_or(text, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let userinfo = authority.rsplit_once('@').map(|(userinfo, _)| userinfo);
    userinfo.is_some_and(|userinfo| userinfo.contains(':'))
        || rest.to_ascii_lowercase().contains("password=")
}

impl Connection {
    /// Reads `text` as a reference, or as a connection string without a password.
    ///
    /// # Errors
    /// [`SettingInvalid`] naming `name`, never the text.
    pub fn parse(name: &'static str, text: &str) -> Result<Self, SettingInvalid> {
        match SecretRef::parse(text) {
            Ok(reference) => Ok(Self::Reference(reference)),
            Err(RefError::LooksLikeUrl) if has_password(text) => Err(SettingInvalid {
                name,
                reason: "holds a password: put the connection string behind a secret reference such as env:NAME",
            }),
            Err(RefError::LooksLikeUrl) => Ok(Self::Literal(text.to_owned())),
            Err(_) => Err(SettingInvalid {
                name,
                reason: "expected a secret reference such as env:NAME, or a connection string without a password",
            }),
        }
    }

    /// The connection string, fetched from its store when it is a reference.
    async fn value(&self, name: &str, registry: &Registry) -> Result<SecretValue, String> {
        match self {
            Self::Literal(text) => Ok(SecretValue::from_string(text.clone())),
            Self::Reference(reference) => registry
                .fetch(reference)
                .await
                .map_err(|e| format!("{name}: {e}")),
        }
    }

    /// A PostgreSQL or MongoDB connection string, checked against the TLS policy of the mode.
    ///
    /// # Errors
    /// A message naming `name` and what failed, never the value.
    pub(crate) async fn resolve_dsn(
        &self,
        name: &str,
        registry: &Registry,
        tls: TlsPolicy,
    ) -> Result<Dsn, String> {
        let value = self.value(name, registry).await?;
        let dsn = Dsn::from_secret(&value).map_err(|e| format!("{name}: {e}"))?;
        dsn.check_tls(tls).map_err(|e| format!("{name}: {e}"))?;
        Ok(dsn)
    }

    /// A Redis connection string: under the production policy, TLS (`rediss://`) unless the
    /// server is on this machine.
    ///
    /// # Errors
    /// A message naming `name` and what failed, never the value.
    pub(crate) async fn resolve_redis(
        &self,
        name: &str,
        registry: &Registry,
        tls: TlsPolicy,
    ) -> Result<redis::ConnectionInfo, String> {
        let value = self.value(name, registry).await?;
        let text = value
            .expose_str()
            .ok_or_else(|| format!("{name}: the connection string is not text"))?;
        let info = text
            .into_connection_info()
            .map_err(|_| format!("{name}: not a Redis connection string"))?;
        let secure = match info.addr() {
            redis::ConnectionAddr::TcpTls { insecure, .. } => !insecure,
            redis::ConnectionAddr::Tcp(host, _) => {
                host == "localhost"
                    || host
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            _ => true,
        };
        if tls == TlsPolicy::Production && !secure {
            return Err(format!(
                "{name}: production needs TLS to Redis (rediss://) unless it runs on this machine"
            ));
        }
        Ok(info)
    }
}
