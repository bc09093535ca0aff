//! `AzureKeyVaultSource`: `azure-kv:` references read with the Azure SDK's Key Vault client.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use azure_core::credentials::TokenCredential;
use azure_core::http::ClientOptions;
use azure_security_keyvault_secrets::models::SecretClientGetSecretOptions;
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use palisade_clock::{Clock, SystemClock};
use palisade_secrets::{
    Fetch, Metadata, ReferenceScheme, SecretError, SecretRef, SecretSource, SecretValue,
    select_field,
};
use time::OffsetDateTime;

use crate::errors;
use crate::locator::{self, Location};
use crate::options::{AzureConfigError, AzureOptions};

/// The most vaults one source keeps a client for; past it the clients are dropped and made
/// again (an application reads from a handful of vaults).
const MAX_VAULTS: usize = 64;

/// Reads `azure-kv:https://NAME.vault.azure.net/SECRET[/VERSION][#field]` from Azure Key
/// Vault: the latest version or a given one, the whole value or a field of a JSON value.
///
/// The version id is the value's [`Metadata::version`], so a cache sees a rotation. A disabled
/// secret is [`SecretError::Disabled`]; one past its `exp` date is [`SecretError::Expired`]
/// and one before its `nbf` date [`SecretError::NotYetValid`] (Key Vault reports these dates
/// but still returns the value; this source does not). The SDK's retries are off: a
/// [`Cached`](palisade_secrets::Cached) on top rides out an outage with its stale value.
///
/// ```no_run
/// use palisade_secrets::{CachePolicy, Cached, SecretRef};
/// use palisade_secrets_azure::{AzureKeyVaultSource, AzureOptions};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let source = AzureKeyVaultSource::connect(AzureOptions::from_environment()).await?;
/// let cache = Cached::new(source, CachePolicy::DEFAULT);
/// let reference: SecretRef = "azure-kv:https://myvault.vault.azure.net/db-password".parse()?;
/// let password = cache.get(&reference).await?;
/// # Ok(()) }
/// ```
pub struct AzureKeyVaultSource {
    credential: Arc<dyn TokenCredential>,
    client_options: ClientOptions,
    clients: Mutex<HashMap<String, Arc<SecretClient>>>,
    clock: Arc<dyn Clock>,
}

impl AzureKeyVaultSource {
    /// A source authenticated as `options` say. A client secret is read now; nothing is sent
    /// to Key Vault until the first fetch.
    ///
    /// # Errors
    /// [`AzureConfigError`] when the credential cannot be set up or a CA file is unusable.
    pub async fn connect(options: AzureOptions) -> Result<Self, AzureConfigError> {
        Ok(Self {
            credential: options.credential().await?,
            client_options: options.client_options()?,
            clients: Mutex::new(HashMap::new()),
            clock: Arc::new(SystemClock),
        })
    }

    /// The same source on `clock` (expiry dates are compared with its wall time).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn client(&self, vault: &str, reference: &SecretRef) -> Result<Arc<SecretClient>, SecretError> {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = clients.get(vault) {
            return Ok(Arc::clone(client));
        }
        if clients.len() >= MAX_VAULTS {
            clients.clear();
        }
        let options = SecretClientOptions {
            client_options: self.client_options.clone(),
            ..SecretClientOptions::default()
        };
        let client = SecretClient::new(vault, Arc::clone(&self.credential), Some(options))
            .map(Arc::new)
            .map_err(|_| {
                SecretError::unavailable(reference, "the Key Vault client could not be built")
            })?;
        clients.insert(vault.to_owned(), Arc::clone(&client));
        Ok(client)
    }

    async fn read(&self, reference: &SecretRef) -> Result<SecretValue, SecretError> {
        if reference.scheme() != &ReferenceScheme::AzureKeyVault {
            return Err(SecretError::SchemeUnsupported {
                reference: reference.clone(),
            });
        }
        let Location {
            vault,
            name,
            version,
        } = locator::parse(reference.locator()).ok_or_else(|| SecretError::NotFound {
            reference: reference.clone(),
        })?;
        let client = self.client(vault, reference)?;
        let options = SecretClientGetSecretOptions {
            secret_version: version.map(str::to_owned),
            ..SecretClientGetSecretOptions::default()
        };
        let secret = client
            .get_secret(name, Some(options))
            .await
            .and_then(azure_core::http::Response::into_model)
            .map_err(|error| errors::map(&error, reference))?;
        if let Some(attributes) = &secret.attributes {
            let now = OffsetDateTime::from(self.clock.system_now());
            if attributes.enabled == Some(false) {
                return Err(SecretError::Disabled {
                    reference: reference.clone(),
                });
            }
            if attributes.expires.is_some_and(|expires| expires <= now) {
                return Err(SecretError::Expired {
                    reference: reference.clone(),
                });
            }
            if attributes
                .not_before
                .is_some_and(|not_before| now < not_before)
            {
                return Err(SecretError::NotYetValid {
                    reference: reference.clone(),
                });
            }
        }
        let metadata = secret
            .id
            .as_deref()
            .and_then(|id| id.rsplit('/').next())
            .filter(|v| !v.is_empty())
            .map(Metadata::with_version)
            .unwrap_or_default();
        let value = secret.value.ok_or_else(|| SecretError::NotFound {
            reference: reference.clone(),
        })?;
        select_field(
            SecretValue::from_string(value).with_metadata(metadata),
            reference,
        )
    }
}

impl SecretSource for AzureKeyVaultSource {
    fn fetch<'a>(&'a self, reference: &'a SecretRef) -> Fetch<'a> {
        Fetch::new(self.read(reference))
    }
}

impl fmt::Debug for AzureKeyVaultSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let vaults = self
            .clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("AzureKeyVaultSource")
            .field("vaults", &vaults)
            .finish_non_exhaustive()
    }
}
