//! `VaultOptions`: where Vault is, which token to use, how to trust its certificate.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use palisade_secrets::{BACKEND_TIMEOUT, SecretRef, SecretSource, check_backend_address};
use vaultrs::client::{VaultClient, VaultClientSettings, VaultClientSettingsBuilder};

/// How to reach Vault. Nothing is read from `VAULT_*` environment variables behind the
/// caller's back: the address, namespace and CA certificates are what these options say, and
/// the token is whatever the token reference resolves to through the given source
/// (`env:VAULT_TOKEN` for the usual variable, `file:/vault/agent/token` for a Vault Agent
/// sink). Each request to Vault may take [`BACKEND_TIMEOUT`] unless
/// [`timeout`](Self::timeout) says otherwise; nothing is retried here (a
/// [`Cached`](palisade_secrets::Cached) source rides out an outage with its stale value).
///
/// ```
/// use std::sync::Arc;
/// use palisade_secrets::Registry;
/// use palisade_secrets_vault::VaultOptions;
///
/// let options = VaultOptions::new(
///     "https://vault.example.com:8200",
///     "env:VAULT_TOKEN".parse()?,
///     Arc::new(Registry::standard()),
/// )
/// .namespace("team-a")
///     .ca_certificate("/etc/ssl/vault-ca.pem")
///     .timeout(std::time::Duration::from_secs(5));
/// # Ok::<(), palisade_secrets::RefError>(())
/// ```
#[derive(Clone)]
pub struct VaultOptions {
    pub(crate) address: String,
    pub(crate) token: SecretRef,
    pub(crate) tokens: Arc<dyn SecretSource>,
    pub(crate) namespace: Option<String>,
    pub(crate) ca_certificates: Vec<PathBuf>,
    pub(crate) timeout: Duration,
}

impl VaultOptions {
    /// Vault at `address` (`https://HOST:PORT`; plain `http://` only on loopback), with the
    /// token that `token` names, read through `tokens`.
    #[must_use]
    pub fn new(
        address: impl Into<String>,
        token: SecretRef,
        tokens: Arc<dyn SecretSource>,
    ) -> Self {
        Self {
            address: address.into(),
            token,
            tokens,
            namespace: None,
            ca_certificates: Vec::new(),
            timeout: BACKEND_TIMEOUT,
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

    /// How long one request to Vault may take ([`BACKEND_TIMEOUT`] unless set).
    #[must_use]
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Client settings with no token yet, after checking every option and building a client
    /// once (which parses the CA certificates).
    pub(crate) fn settings(&self) -> Result<VaultClientSettings, VaultConfigError> {
        check_backend_address(&self.address).map_err(|refused| {
            VaultConfigError::AddressInvalid {
                reason: refused.reason(),
            }
        })?;
        let ca_certificates = self
            .ca_certificates
            .iter()
            .map(|path| checked_ca_certificate(path))
            .collect::<Result<Vec<_>, _>>()?;
        let mut settings = VaultClientSettingsBuilder::default();
        settings
            .address(self.address.as_str())
            .token(String::new())
            .ca_certs(ca_certificates)
            .identity(None)
            .verify(true)
            .timeout(Some(self.timeout))
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
    /// A Transit mount or key name is not a plain path (letters, digits, `_ - .`, and `/`
    /// between mount segments).
    #[error("the Transit {what} is not a plain name")]
    TransitNameInvalid {
        /// `mount` or `key`.
        what: &'static str,
    },
}

impl fmt::Debug for VaultOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultOptions")
            .field("token", &self.token)
            .field("namespace", &self.namespace)
            .field("ca_certificates", &self.ca_certificates)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}
