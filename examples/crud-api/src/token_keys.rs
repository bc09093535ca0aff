//! The service's token keys, read at run time through a cache: `JWT_SECRET` (and
//! `JWT_PREVIOUS_SECRET`) are read again every `SECRETS_CACHE_TTL`, so a rotation in the
//! secret store reaches every instance without a restart; while the store cannot be read,
//! the last good keys keep serving for `SECRETS_MAX_STALE`, after which routes that issue or
//! verify tokens answer 503 rather than trust keys nobody can confirm.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use palisade_audit::Audit;
use palisade_auth::{CachedVerifier, OwnAlgorithm, SigningKey, TokenIssuer, TokenVerifier};

use crate::routes::Claims;
use palisade_clock::Clock;
use palisade_secrets::{CachePolicy, Cached, Registry, SecretRef, SecretValue};

use crate::error::ApiError;
use crate::settings::{Settings, ephemeral_key};
use crate::state::StartError;

/// The audience of the service's own tokens.
pub(crate) const AUDIENCE: &str = "crud-api";

/// The memory for verified tokens: 4 MiB, some 3,500 signed-in clients' tokens.
const VERIFIED_TOKENS_BYTES: u64 = 4 << 20;

/// The issuer and verifier built from one reading of the keys.
pub(crate) struct Built {
    pub(crate) issuer: TokenIssuer,
    /// Remembers the tokens it verified, so a client's token is checked in full once
    /// per key reading (a rotation builds a new one, with an empty memory).
    pub(crate) verifier: CachedVerifier<Claims>,
    /// The key values they were built from, to see a rotation.
    secrets: Vec<SecretValue>,
}

/// How long the keys are used without asking the cache again: a rotation is picked up at
/// most this much later than the cache's own TTL lets it, and a request rarely pays for
/// the cache's lookup.
const RECHECK_NANOS: u64 = 100_000_000;

/// Where the keys are read again from.
struct KeySource {
    cache: Cached<Registry>,
    clock: Arc<dyn Clock>,
    /// When the cache was last asked (the clock's coarse nanoseconds).
    checked_at: AtomicU64,
    current: (SecretRef, String),
    previous: Option<(SecretRef, String)>,
}

/// The token keys: fixed for the process (a random key, without `JWT_SECRET`), or read
/// through the cache.
pub(crate) struct TokenKeys {
    source: Option<KeySource>,
    built: ArcSwap<Built>,
    /// One rebuild at a time.
    rebuilding: tokio::sync::Mutex<()>,
    audit: Audit,
}

impl TokenKeys {
    /// Reads the keys once (a failure stops the start) and keeps the cache for later reads.
    pub(crate) async fn load(
        settings: &Settings,
        registry: Registry,
        clock: Arc<dyn Clock>,
        audit: &Audit,
    ) -> Result<Self, StartError> {
        let Some(current) = settings.jwt_secret.clone() else {
            let key =
                ephemeral_key().map_err(|e| StartError(format!("a random token key: {e}")))?;
            let built = build(&[(&key, settings.jwt_key_id.as_str())], audit)
                .map_err(|e| StartError(format!("JWT_SECRET: {e}")))?;
            return Ok(Self {
                source: None,
                built: ArcSwap::from_pointee(built),
                rebuilding: tokio::sync::Mutex::new(()),
                audit: audit.clone(),
            });
        };
        let policy = CachePolicy::new(settings.secrets_cache_ttl)
            .and_then(|p| p.with_max_stale(settings.secrets_max_stale))
            .map_err(|e| StartError(format!("SECRETS_CACHE_TTL: {e}")))?;
        let source = KeySource {
            cache: Cached::with_clock(registry, policy, Arc::clone(&clock)),
            checked_at: AtomicU64::new(clock.coarse_nanos()),
            clock,
            current: (current, settings.jwt_key_id.clone()),
            previous: settings
                .jwt_previous_secret
                .clone()
                .map(|reference| (reference, settings.jwt_previous_key_id.clone())),
        };
        let secrets = read(&source)
            .await
            .map_err(|(setting, e)| StartError(format!("{setting}: {e}")))?;
        let built = build_from(&source, &secrets, audit).map_err(StartError)?;
        Ok(Self {
            source: Some(source),
            built: ArcSwap::from_pointee(built),
            rebuilding: tokio::sync::Mutex::new(()),
            audit: audit.clone(),
        })
    }

    /// The keys now: the cached reading, rebuilt when the store returned other values; 503
    /// once the store has been unreadable for longer than `SECRETS_MAX_STALE`.
    pub(crate) async fn current(&self) -> Result<Arc<Built>, ApiError> {
        let Some(source) = &self.source else {
            return Ok(self.built.load_full());
        };
        let now = source.clock.coarse_nanos();
        if now.saturating_sub(source.checked_at.load(Ordering::Relaxed)) < RECHECK_NANOS {
            return Ok(self.built.load_full());
        }
        let secrets = read(source).await.map_err(|(setting, error)| {
            tracing::warn!(setting, %error, "the token keys cannot be read");
            if error.is_outage() {
                ApiError::store_unavailable()
            } else {
                ApiError::internal()
            }
        })?;
        let built = self.built.load_full();
        if same(&built.secrets, &secrets) {
            source.checked_at.store(now, Ordering::Relaxed);
            return Ok(built);
        }
        let _one = self.rebuilding.lock().await;
        let built = self.built.load_full();
        if same(&built.secrets, &secrets) {
            return Ok(built);
        }
        let rebuilt = Arc::new(build_from(source, &secrets, &self.audit).map_err(|error| {
            tracing::warn!(%error, "the token keys read from the store are not usable");
            ApiError::internal()
        })?);
        tracing::info!(
            "the token keys changed in the store: tokens are now signed with the new key"
        );
        self.built.store(Arc::clone(&rebuilt));
        source.checked_at.store(now, Ordering::Relaxed);
        Ok(rebuilt)
    }
}

/// The current key's value, then the previous key's.
async fn read(
    source: &KeySource,
) -> Result<Vec<SecretValue>, (&'static str, palisade_secrets::SecretError)> {
    let mut values = vec![
        source
            .cache
            .get(&source.current.0)
            .await
            .map_err(|e| ("JWT_SECRET", e))?
            .into_value(),
    ];
    if let Some((previous, _)) = &source.previous {
        values.push(
            source
                .cache
                .get(previous)
                .await
                .map_err(|e| ("JWT_PREVIOUS_SECRET", e))?
                .into_value(),
        );
    }
    Ok(values)
}

fn same(built: &[SecretValue], read: &[SecretValue]) -> bool {
    built.len() == read.len()
        && built
            .iter()
            .zip(read)
            .all(|(a, b)| a.expose_bytes() == b.expose_bytes())
}

fn build_from(source: &KeySource, secrets: &[SecretValue], audit: &Audit) -> Result<Built, String> {
    let kids = std::iter::once(source.current.1.as_str())
        .chain(source.previous.as_ref().map(|(_, kid)| kid.as_str()));
    let keys: Vec<(&SecretValue, &str)> = secrets.iter().zip(kids).collect();
    build(&keys, audit).map_err(|e| format!("JWT_SECRET: {e}"))
}

/// The issuer signs with the first key; the verifier accepts every key.
fn build(keys: &[(&SecretValue, &str)], audit: &Audit) -> Result<Built, String> {
    let mut signing = Vec::with_capacity(keys.len());
    for (secret, kid) in keys {
        signing.push(SigningKey::new(kid, OwnAlgorithm::Hs256, secret).map_err(|e| e.to_string())?);
    }
    let verifying: Vec<_> = signing.iter().map(SigningKey::verifying_key).collect();
    let issuer = signing
        .into_iter()
        .next()
        .map(|key| TokenIssuer::new(key).audience(AUDIENCE))
        .ok_or_else(|| "no key".to_owned())?;
    let verifier = TokenVerifier::new(verifying)
        .audience(AUDIENCE)
        .with_audit(audit.clone());
    Ok(Built {
        issuer,
        verifier: CachedVerifier::new(verifier, VERIFIED_TOKENS_BYTES)
            .map_err(|e| e.to_string())?,
        secrets: keys.iter().map(|(secret, _)| (*secret).clone()).collect(),
    })
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("read_at_run_time", &self.source.is_some())
            .finish_non_exhaustive()
    }
}
