//! `AzureOptions`: which credential, and how to reach and trust the vault.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientOptions, RetryOptions, Transport};
use azure_identity::{
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    DeveloperToolsCredential, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use palisade_secrets::{BACKEND_TIMEOUT, EnvSource, SecretRef, SecretSource};

use crate::access_token::AccessTokenFromReference;

/// Which credential gets the access tokens.
#[derive(Debug, Clone)]
enum Credential {
    Environment,
    DeveloperTools,
    AccessToken {
        reference: SecretRef,
        source: Arc<dyn SecretSource>,
    },
    ClientSecret {
        tenant_id: String,
        client_id: String,
        secret: SecretRef,
        source: Arc<dyn SecretSource>,
    },
}

/// How to authenticate to Key Vault and how to reach it.
///
/// ```
/// use std::sync::Arc;
/// use palisade_secrets::EnvSource;
/// use palisade_secrets_azure::AzureOptions;
///
/// // As Azure's own tools: a client secret, a workload identity or a managed identity,
/// // chosen from the AZURE_* environment variables.
/// let standard = AzureOptions::from_environment();
/// // A service principal whose secret is read through a reference.
/// let principal = AzureOptions::client_secret(
///     "00000000-0000-0000-0000-000000000001",
///     "11111111-1111-1111-1111-111111111111",
///     "env:APP_CLIENT_SECRET".parse()?,
///     Arc::new(EnvSource::new()),
/// );
/// # Ok::<(), palisade_secrets::RefError>(())
/// ```
#[derive(Debug, Clone)]
pub struct AzureOptions {
    credential: Credential,
    ca_certificates: Vec<PathBuf>,
    resolve: Vec<(String, SocketAddr)>,
    authority_host: Option<String>,
    timeout: Duration,
}

impl AzureOptions {
    fn with(credential: Credential) -> Self {
        Self {
            credential,
            ca_certificates: Vec::new(),
            resolve: Vec::new(),
            authority_host: None,
            timeout: BACKEND_TIMEOUT,
        }
    }

    /// The standard environment chain, in Azure's order:
    /// 1. a client secret: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET`;
    /// 2. a workload identity (AKS): `AZURE_FEDERATED_TOKEN_FILE` with the tenant and client;
    /// 3. otherwise the managed identity of the App Service, VM or container
    ///    (user-assigned when `AZURE_CLIENT_ID` is set).
    ///
    /// `AZURE_AUTHORITY_HOST` names another cloud's Entra ID.
    #[must_use]
    pub fn from_environment() -> Self {
        Self::with(Credential::Environment)
    }

    /// The Azure CLI's or Azure Developer CLI's signed-in account (`az login`), for
    /// development machines.
    #[must_use]
    pub fn developer_tools() -> Self {
        Self::with(Credential::DeveloperTools)
    }

    /// A ready-made access token for `https://vault.azure.net`, read through `reference`
    /// (a file a sidecar keeps fresh, a variable) each time the SDK needs a token.
    #[must_use]
    pub fn access_token(reference: SecretRef, source: Arc<dyn SecretSource>) -> Self {
        Self::with(Credential::AccessToken { reference, source })
    }

    /// A service principal's client secret, read through `secret` when the source connects.
    #[must_use]
    pub fn client_secret(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        secret: SecretRef,
        source: Arc<dyn SecretSource>,
    ) -> Self {
        Self::with(Credential::ClientSecret {
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            secret,
            source,
        })
    }

    /// A PEM file of CA certificates to trust besides the system's (a TLS-inspecting proxy's
    /// CA). May be given more than once.
    #[must_use]
    pub fn ca_certificate(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_certificates.push(path.into());
        self
    }

    /// Resolves `host` to `address` instead of asking DNS (a private endpoint without private
    /// DNS). TLS is still verified against `host`.
    #[must_use]
    pub fn resolve(mut self, host: impl Into<String>, address: SocketAddr) -> Self {
        self.resolve.push((host.into(), address));
        self
    }

    /// How long one request (to Key Vault or to Entra ID for a token) may take
    /// ([`BACKEND_TIMEOUT`] unless set).
    #[must_use]
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Entra ID's authority host for a client secret (`https://login.microsoftonline.us` for
    /// Azure Government); by default Azure's public cloud, or `AZURE_AUTHORITY_HOST`.
    #[must_use]
    pub fn authority_host(mut self, url: impl Into<String>) -> Self {
        self.authority_host = Some(url.into());
        self
    }

    /// The SDK client options: no retries inside the source (a cache rides out an outage with
    /// its stale value, without holding its single flight for seconds), and the transport
    /// these options describe, with their timeout.
    pub(crate) fn client_options(&self) -> Result<ClientOptions, AzureConfigError> {
        let mut options = ClientOptions {
            retry: RetryOptions::none(),
            ..ClientOptions::default()
        };
        if let Some(url) = &self.authority_host {
            if !url.starts_with("https://") {
                return Err(AzureConfigError::AuthorityHostInvalid);
            }
            let mut cloud = CustomConfiguration::default();
            cloud.authority_host.clone_from(url);
            options.cloud = Some(Arc::new(CloudConfiguration::from(cloud)));
        }
        let mut http = reqwest::Client::builder().timeout(self.timeout);
        for path in &self.ca_certificates {
            http = http.tls_certs_merge(certificates(path)?);
        }
        for (host, address) in &self.resolve {
            http = http.resolve(host, *address);
        }
        let http = http.build().map_err(|_| AzureConfigError::HttpClient)?;
        options.transport = Some(Transport::new(Arc::new(http)));
        Ok(options)
    }

    /// The credential, reading a client secret through its reference now.
    pub(crate) async fn credential(&self) -> Result<Arc<dyn TokenCredential>, AzureConfigError> {
        let client_options = self.client_options()?;
        let refused = |_| AzureConfigError::CredentialRefused;
        match &self.credential {
            Credential::AccessToken { reference, source } => {
                Ok(Arc::new(AccessTokenFromReference {
                    reference: reference.clone(),
                    source: Arc::clone(source),
                }))
            }
            Credential::ClientSecret {
                tenant_id,
                client_id,
                secret,
                source,
            } => {
                client_secret(
                    tenant_id,
                    client_id,
                    secret,
                    source.as_ref(),
                    client_options,
                )
                .await
            }
            Credential::DeveloperTools => Ok(DeveloperToolsCredential::new(None).map_err(refused)?),
            Credential::Environment => {
                let var = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
                if let (Some(tenant), Some(client), Some(_)) = (
                    var("AZURE_TENANT_ID"),
                    var("AZURE_CLIENT_ID"),
                    var("AZURE_CLIENT_SECRET"),
                ) {
                    let secret = SecretRef::parse("env:AZURE_CLIENT_SECRET")
                        .map_err(|_| AzureConfigError::CredentialRefused)?;
                    return client_secret(
                        &tenant,
                        &client,
                        &secret,
                        &EnvSource::new(),
                        client_options,
                    )
                    .await;
                }
                if var("AZURE_FEDERATED_TOKEN_FILE").is_some() {
                    let options = WorkloadIdentityCredentialOptions {
                        credential_options: ClientAssertionCredentialOptions { client_options },
                        ..WorkloadIdentityCredentialOptions::default()
                    };
                    return Ok(WorkloadIdentityCredential::new(Some(options)).map_err(refused)?);
                }
                let options = ManagedIdentityCredentialOptions {
                    client_options,
                    ..ManagedIdentityCredentialOptions::default()
                };
                Ok(ManagedIdentityCredential::new(Some(options)).map_err(refused)?)
            }
        }
    }
}

async fn client_secret(
    tenant_id: &str,
    client_id: &str,
    secret: &SecretRef,
    source: &dyn SecretSource,
    client_options: ClientOptions,
) -> Result<Arc<dyn TokenCredential>, AzureConfigError> {
    let value =
        source
            .fetch(secret)
            .await
            .map_err(|_| AzureConfigError::ClientSecretUnreadable {
                reference: secret.clone(),
            })?;
    let text = value
        .expose_str()
        .ok_or_else(|| AzureConfigError::ClientSecretUnreadable {
            reference: secret.clone(),
        })?;
    let options = ClientSecretCredentialOptions { client_options };
    let credential = ClientSecretCredential::new(
        tenant_id,
        client_id.to_owned(),
        Secret::new(text.to_owned()),
        Some(options),
    )
    .map_err(|_| AzureConfigError::CredentialRefused)?;
    Ok(credential)
}

/// The certificates of a PEM file.
fn certificates(path: &Path) -> Result<Vec<reqwest::Certificate>, AzureConfigError> {
    let invalid = |reason| AzureConfigError::CaCertificate {
        path: path.to_path_buf(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|_| invalid("it cannot be read"))?;
    let certificates =
        reqwest::Certificate::from_pem_bundle(&pem).map_err(|_| invalid("it is not PEM"))?;
    if certificates.is_empty() {
        return Err(invalid("it holds no PEM certificate"));
    }
    Ok(certificates)
}

/// Why an [`AzureKeyVaultSource`](crate::AzureKeyVaultSource) could not be set up. Never quotes
/// a secret.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AzureConfigError {
    /// A CA certificate file cannot be used.
    #[error("the CA certificate {} cannot be used: {reason}", path.display())]
    CaCertificate {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The authority host is not an `https://` URL.
    #[error("the Entra ID authority host must be an https:// URL")]
    AuthorityHostInvalid,
    /// The client secret could not be read through its reference.
    #[error("the Azure client secret {reference} could not be read")]
    ClientSecretUnreadable {
        /// The reference.
        reference: SecretRef,
    },
    /// The Azure SDK refused the credential's settings (a malformed tenant or client id).
    #[error("the Azure credential could not be set up: check the tenant and client ids")]
    CredentialRefused,
    /// The HTTP client could not be built.
    #[error("the HTTP client for Key Vault could not be built")]
    HttpClient,
}
