//! `VaultSource`: `vault:` references read from a KV v2 engine with vaultrs.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use palisade_clock::{Clock, SystemClock};
use palisade_secrets::{
    Fetch, Metadata, ReferenceScheme, SecretError, SecretRef, SecretSource, SecretValue,
    select_field,
};
use vaultrs::api::kv2::requests::ReadSecretRequest;
use vaultrs::api::kv2::responses::ReadSecretResponse;
use vaultrs::client::{VaultClient, VaultClientSettings};

use crate::errors::Failure;
use crate::locator::{self, Location};
use crate::options::{VaultConfigError, VaultOptions};
use crate::session::{Session, TokenLease};

/// Reads `vault:MOUNT/PATH[#field][?version=N]` from Vault's KV v2 engine: the latest version,
/// or version `N`; the whole secret as a JSON object, or one field of it. The version number
/// is the value's [`Metadata::version`], so a cache sees a rotation. (KV v2 values carry no
/// lease; the token's lease is what this source tracks.)
///
/// The token comes from another source through a reference (`env:VAULT_TOKEN`,
/// `file:/vault/agent/token`), never from a literal in code:
/// - it is read on first use, looked up (`lookup-self`) and renewed (`renew-self`) when two
///   thirds of its TTL have passed, if it is renewable;
/// - when Vault answers 403 the token is read again from its source (a rotated token file is
///   picked up) and the request retried once; a second 403 is
///   [`SecretError::AccessDenied`], which [`Cached`](palisade_secrets::Cached) does not hide
///   behind a stale value.
///
/// ```no_run
/// use std::sync::Arc;
/// use palisade_secrets::{CachePolicy, Cached, EnvSource, SecretRef};
/// use palisade_secrets_vault::{VaultOptions, VaultSource};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let options = VaultOptions::new(
///     "https://vault.example.com:8200",
///     "env:VAULT_TOKEN".parse()?,
///     Arc::new(EnvSource::new()),
/// );
/// let vault = VaultSource::connect(options).await?;
/// let cache = Cached::new(vault, CachePolicy::DEFAULT);
/// let dsn = cache.get(&"vault:secret/database/prod#dsn".parse::<SecretRef>()?).await?;
/// # Ok(()) }
/// ```
pub struct VaultSource {
    settings: VaultClientSettings,
    address: String,
    namespace: Option<String>,
    token: SecretRef,
    tokens: Arc<dyn SecretSource>,
    clock: Arc<dyn Clock>,
    session: RwLock<Option<Arc<Session>>>,
    /// Held while the token is read again, so concurrent refusals read it once.
    replacing: tokio::sync::Mutex<u64>,
}

impl VaultSource {
    /// A source for Vault as `options` describe. Nothing is sent until the first fetch (a
    /// service starts while Vault is down, and its first read says so).
    ///
    /// # Errors
    /// [`VaultConfigError`] when the address or a CA certificate is not usable.
    #[allow(
        clippy::unused_async,
        reason = "the shape every secret backend shares: `connect(options).await`"
    )]
    pub async fn connect(options: VaultOptions) -> Result<Self, VaultConfigError> {
        let settings = options.settings()?;
        Ok(Self {
            settings,
            address: options.address,
            namespace: options.namespace,
            token: options.token,
            tokens: options.tokens,
            clock: Arc::new(SystemClock),
            session: RwLock::new(None),
            replacing: tokio::sync::Mutex::new(0),
        })
    }

    /// The same source on `clock` (renewal deadlines are read from it).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    async fn read(&self, reference: &SecretRef) -> Result<SecretValue, SecretError> {
        if reference.scheme() != &ReferenceScheme::Vault {
            return Err(SecretError::SchemeUnsupported {
                reference: reference.clone(),
            });
        }
        let location =
            locator::parse(reference.locator()).ok_or_else(|| SecretError::NotFound {
                reference: reference.clone(),
            })?;
        let session = self.session(reference, None).await?;
        let response = match self.read_with(&session, &location).await {
            Err(Failure::Denied) => {
                tracing::info!(token = %self.token, "Vault refused the token; reading it again from its source");
                let session = self.session(reference, Some(session.generation)).await?;
                self.read_with(&session, &location).await
            }
            other => other,
        }
        .map_err(|failure| failure.into_secret_error(reference))?;
        let metadata = Metadata::with_version(response.metadata.version.to_string());
        let json = serde_json::to_string(&response.data).map_err(|_| {
            Failure::Unavailable("Vault's answer was not the expected JSON", None)
                .into_secret_error(reference)
        })?;
        select_field(
            SecretValue::from_string(json).with_metadata(metadata),
            reference,
        )
    }

    /// Runs the request `endpoint` builds with the current session (renewed when due),
    /// reading the token again once when Vault refuses it.
    #[cfg(feature = "transit")]
    pub(crate) async fn exec<E: rustify::Endpoint>(
        &self,
        endpoint: impl Fn() -> E,
    ) -> Result<E::Response, crate::transit::CallError> {
        use crate::transit::CallError;
        let session = self
            .session(&self.token, None)
            .await
            .map_err(CallError::Session)?;
        match self.exec_on(&session, endpoint()).await {
            Err(CallError::Denied) => {
                tracing::info!(token = %self.token, "Vault refused the token; reading it again from its source");
                let session = self
                    .session(&self.token, Some(session.generation))
                    .await
                    .map_err(CallError::Session)?;
                self.exec_on(&session, endpoint()).await
            }
            other => other,
        }
    }

    #[cfg(feature = "transit")]
    async fn exec_on<E: rustify::Endpoint>(
        &self,
        session: &Session,
        endpoint: E,
    ) -> Result<E::Response, crate::transit::CallError> {
        use crate::transit::CallError;
        match self.renew_if_due(session).await {
            Err(Failure::Denied) => return Err(CallError::Denied),
            Err(other) => return Err(CallError::Session(other.into_secret_error(&self.token))),
            Ok(()) => {}
        }
        vaultrs::api::exec_with_result(&session.client, endpoint)
            .await
            .map_err(|error| match Failure::from_client(&error) {
                Failure::Denied => CallError::Denied,
                _ => CallError::Client(error),
            })
    }

    /// Renews the token when due, then reads the secret.
    async fn read_with(
        &self,
        session: &Session,
        location: &Location<'_>,
    ) -> Result<ReadSecretResponse, Failure> {
        self.renew_if_due(session).await?;
        let request = ReadSecretRequest::builder()
            .mount(location.mount)
            .path(location.path)
            .version(location.version)
            .build()
            .map_err(|_| Failure::Unavailable("the request could not be built", None))?;
        vaultrs::api::exec_with_result(&session.client, request)
            .await
            .map_err(|e| Failure::from_client(&e))
    }

    /// `renew-self` when two thirds of the token's TTL have passed; a refusal is returned (the
    /// token is read again), any other failure retried later.
    async fn renew_if_due(&self, session: &Session) -> Result<(), Failure> {
        let Some(increment) = session.claim_renewal(self.clock.now()) else {
            return Ok(());
        };
        let increment = format!("{}s", increment.as_secs());
        let outcome = vaultrs::token::renew_self(&session.client, Some(&increment))
            .await
            .map_err(|e| Failure::from_client(&e));
        match outcome {
            Ok(auth) => {
                let lease = if auth.renewable {
                    Duration::from_secs(auth.lease_duration)
                } else {
                    Duration::ZERO
                };
                session.renewed(Ok(lease), self.clock.now());
                tracing::debug!(
                    lease_seconds = auth.lease_duration,
                    "renewed the Vault token"
                );
                Ok(())
            }
            Err(Failure::Denied) => Err(Failure::Denied),
            Err(failure) => {
                tracing::warn!(
                    ?failure,
                    "renewing the Vault token failed; it is retried later"
                );
                session.renewed(Err(&failure), self.clock.now());
                Ok(())
            }
        }
    }

    /// The current session; with `refused` (the generation Vault refused), a new one with the
    /// token read again, unless another caller already replaced it.
    async fn session(
        &self,
        reference: &SecretRef,
        refused: Option<u64>,
    ) -> Result<Arc<Session>, SecretError> {
        if refused.is_none()
            && let Some(session) = self.current()
        {
            return Ok(session);
        }
        let mut generation = self.replacing.lock().await;
        if let Some(session) = self.current()
            && refused != Some(session.generation)
        {
            return Ok(session);
        }
        let client = self.client_with_fresh_token(reference).await?;
        let lease = match vaultrs::token::lookup_self(&client).await {
            Ok(info) => Some(TokenLease {
                renewable: info.renewable.unwrap_or(false),
                ttl: Duration::from_secs(info.ttl),
                creation_ttl: Duration::from_secs(info.creation_ttl),
            }),
            Err(error) => match Failure::from_client(&error) {
                Failure::Denied => {
                    tracing::warn!(token = %self.token, "Vault refused the token read from its source");
                    return Err(SecretError::AccessDenied {
                        reference: reference.clone(),
                    });
                }
                // A token without lookup-self permission still reads; it is just not renewed.
                failure => {
                    tracing::debug!(
                        ?failure,
                        "the Vault token could not be looked up; it will not be renewed"
                    );
                    None
                }
            },
        };
        *generation += 1;
        let session = Arc::new(Session::new(client, *generation, lease, self.clock.now()));
        *self.session.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&session));
        Ok(session)
    }

    fn current(&self) -> Option<Arc<Session>> {
        self.session
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Reads the token from its source and builds a client holding it.
    async fn client_with_fresh_token(
        &self,
        reference: &SecretRef,
    ) -> Result<VaultClient, SecretError> {
        let token = self.tokens.fetch(&self.token).await.map_err(|error| {
            tracing::warn!(token = %self.token, %error, "the Vault token could not be read");
            if error.is_outage() {
                SecretError::unavailable(
                    reference,
                    format!("the Vault token {} could not be read", self.token),
                )
            } else {
                SecretError::AccessDenied {
                    reference: reference.clone(),
                }
            }
        })?;
        let text = token.expose_str().map(str::trim).unwrap_or_default();
        if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            tracing::warn!(token = %self.token, "the Vault token is empty or not a token");
            return Err(SecretError::AccessDenied {
                reference: reference.clone(),
            });
        }
        Session::client(&self.settings, text).ok_or_else(|| {
            SecretError::unavailable(reference, "the Vault client could not be built")
        })
    }
}

impl SecretSource for VaultSource {
    fn fetch<'a>(&'a self, reference: &'a SecretRef) -> Fetch<'a> {
        Fetch::new(self.read(reference))
    }
}

impl fmt::Debug for VaultSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultSource")
            .field("address", &self.address)
            .field("namespace", &self.namespace)
            .field("token", &self.token.to_string())
            .finish_non_exhaustive()
    }
}
