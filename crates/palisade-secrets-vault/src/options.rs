//! `VaultOptions`: where Vault is, which token to use, how to trust its certificate.

use std::path::{Path, PathBuf};
use std::time::Duration;

use palisade_secrets::SecretRef;
use url::{Host, Url};
use vaultrs::client::{VaultClient, VaultClientSettings, VaultClientSettingsBuilder};

/// How to reach Vault. Nothing is read from `VAULT_*` environment variables behind the
/// caller's back: the address, namespace and CA certificates are what these options say, and
/// the token is whatever the token reference resolves to (`env:VAULT_TOKEN` for the usual
/// variable, `file:/vault/agent/token` for a Vault Agent sink).
///
/// ```
/// use palisade_secrets_vault::VaultOptions;
///
/// let options = VaultOptions::new("https://vault.example.com:8200", "env:VAULT_TOKEN".parse()?)
///     .namespace("team-a")
///     .ca_certificate("/etc/ssl/vault-ca.pem")
///     .timeout(std::time::Duration::from_secs(5));
/// # Ok::<(), palisade_secrets::RefError>(())
/// ```
#[derive(Debug, Clone)]
pub struct VaultOptions {
    pub(crate) address: String,
    pub(crate) token: SecretRef,
    pub(crate) namespace: Option<String>,
    pub(crate) ca_certificates: Vec<PathBuf>,
    pub(crate) timeout: Option<Duration>,
}

impl VaultOptions {
    /// Vault at `address` (`https://HOST:PORT`; plain `http://` only on loopback), with the
    /// token that `token` names.
    #[must_use]
    pub fn new(address: impl Into<String>, token: SecretRef) -> Self {
        Self {
            address: address.into(),
            token,
            namespace: None,
            ca_certificates: Vec::new(),
            timeout: None,
        }
    }

    /// A Vault Enterprise namespace (`X-Vault-Namespace`), such as `team-a` or `org/team-a`.
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// A PEM file of CA certificates to trust besides the system's (Vault's own CA). May be
    /// given more than once.
    #[must_use]
    pub fn ca_certificate(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_certificates.push(path.into());
        self
    }

    /// How long one request to Vault may take.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Client settings with no token yet, after checking every option and building a client
    /// once (which parses the CA certificates).
    pub(crate) fn settings(&self) -> Result<VaultClientSettings, VaultConfigError> {
        let address = checked_address(&self.address)?;
        let ca_certificates = self
            .ca_certificates
            .iter()
            .map(|path| checked_ca_certificate(path))
            .collect::<Result<Vec<_>, _>>()?;
        let mut settings = VaultClientSettingsBuilder::default();
        settings
            .address(address.as_str())
            .token(String::new())
            .ca_certs(ca_certificates)
            .identity(None)
            .verify(true)
            .timeout(self.timeout)
            .namespace(self.namespace.clone());
        let settings = settings
            .build()
            .map_err(|_| VaultConfigError::AddressInvalid {
                reason: "the Vault client refused it",
            })?;
        VaultClient::new(settings.clone()).map_err(|_| VaultConfigError::ClientBuild)?;
        Ok(settings)
    }
}

/// `https://HOST[:PORT]` with no credentials, path, query or fragment; `http://` only for a
/// loopback host, since a token sent in clear text is a token given away.
fn checked_address(text: &str) -> Result<Url, VaultConfigError> {
    let invalid = |reason| VaultConfigError::AddressInvalid { reason };
    let url = Url::parse(text).map_err(|_| invalid("it is not a URL"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(invalid("the scheme must be https"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it must not contain credentials"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must be only a scheme, a host and a port"));
    }
    let loopback = match url.host() {
        Some(Host::Domain(name)) => name == "localhost",
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(invalid("it has no host")),
    };
    if url.scheme() == "http" && !loopback {
        return Err(invalid("plain http is allowed only on loopback; use https"));
    }
    Ok(url)
}

/// A CA file's path for vaultrs, after checking that it holds a PEM certificate.
fn checked_ca_certificate(path: &Path) -> Result<String, VaultConfigError> {
    let invalid = |reason| VaultConfigError::CaCertificate {
        path: path.to_path_buf(),
        reason,
    };
    let text = path
        .to_str()
        .ok_or_else(|| invalid("the path is not UTF-8"))?;
    let content = std::fs::read(path).map_err(|_| invalid("it cannot be read"))?;
    if !content
        .windows(PEM_CERTIFICATE.len())
        .any(|window| window == PEM_CERTIFICATE)
    {
        return Err(invalid("it holds no PEM certificate"));
    }
    Ok(text.to_owned())
}

/// What every PEM certificate starts with.
const PEM_CERTIFICATE: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// Why a [`VaultSource`](crate::VaultSource) could not be built. Never quotes the address
/// (which could carry credentials) or a token.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum VaultConfigError {
    /// The Vault address is not usable.
    #[error("the Vault address is not usable: {reason}")]
    AddressInvalid {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A CA certificate file cannot be used.
    #[error("the CA certificate {} cannot be used: {reason}", path.display())]
    CaCertificate {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The HTTP client could not be built (such as a CA file whose PEM is not a certificate).
    #[error("the HTTP client for Vault could not be built")]
    ClientBuild,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_before_anything_is_sent() {
        let reason = |text: &str| match checked_address(text) {
            Ok(_) => "ok",
            Err(VaultConfigError::AddressInvalid { reason }) => reason,
            Err(_) => "other",
        };
        assert_eq!(reason("https://vault.example.com:8200"), "ok");
        assert_eq!(reason("http://127.0.0.1:8200"), "ok");
        assert_eq!(reason("http://localhost:8200"), "ok");
        assert_eq!(reason("http://[::1]:8200"), "ok");
        assert_eq!(
            reason("http://vault.example.com:8200"),
            "plain http is allowed only on loopback; use https"
        );
        assert_eq!(
            reason("https://user:pw@vault.example.com"),
            "it must not contain credentials"
        );
        assert_eq!(
            reason("https://vault.example.com/v1"),
            "it must be only a scheme, a host and a port"
        );
        assert_eq!(
            reason("ftp://vault.example.com"),
            "the scheme must be https"
        );
        assert_eq!(reason("vault.example.com:8200"), "the scheme must be https");
        assert_eq!(reason("not a url"), "it is not a URL");
    }
}
