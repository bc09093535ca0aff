//! What every handler shares, built once at start: the databases, the password hasher, the
//! token keys, the filter policy, the owned-collection registry, the one-time codes, the
//! Turnstile verifier and the audit trail.

mod build;

pub(crate) use build::secret_sources;

use std::sync::Arc;

use bson::Document;
use mongodb::{Client, Collection, Database};
use palisade_audit::Audit;
use palisade_auth::{OneTimeCodes, RedisCodes, TurnstileVerifier};
use palisade_mongo::{FilterPolicy, ForeignKeys, OwnedCollections, TenantRouter};
use palisade_password::Passwords;
use palisade_ratelimit::RedisLimiter;

use crate::error::ApiError;
use crate::oidc::Oidc;
use crate::outbox::Outbox;
use crate::routes::ENTITIES;
use crate::sessions::Generations;
use crate::sql::Sql;

/// The shared state.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: Client,
    directory: Database,
    tenants: TenantRouter,
    /// The handles of each organization's collections, made once (a handle names a
    /// collection; nothing is opened).
    collections: moka::sync::Cache<String, Arc<EntityCollections>>,
    sql: Sql,
    passwords: Passwords,
    token_keys: crate::token_keys::TokenKeys,
    filters: FilterPolicy,
    owned: OwnedCollections,
    references: ForeignKeys,
    reset_codes: OneTimeCodes<RedisCodes>,
    turnstile: Option<TurnstileVerifier>,
    oidc: Option<Oidc>,
    generations: Generations,
    auth_limiter: Arc<RedisLimiter>,
    guess_limiter: Arc<RedisLimiter>,
    write_limiter: Arc<RedisLimiter>,
    audit: Audit,
    outbox: Arc<dyn Outbox>,
    fields: crate::fields::Fields,
}

/// One organization's collections, in the order of [`ENTITIES`].
type EntityCollections = [Collection<Document>; ENTITIES.len()];

/// The most organizations whose collection handles are kept.
pub(crate) const KEPT_ORGANIZATIONS: u64 = 10_000;

/// Why the service cannot start: names the part, never a secret.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

impl AppState {
    /// The accounts' database (users and organizations).
    pub(crate) fn directory(&self) -> &Database {
        &self.inner.directory
    }

    /// The organization's collection of `entity` (one of [`ENTITIES`]; none for another
    /// name).
    pub(crate) fn entity_collection(
        &self,
        organization: &str,
        entity: &str,
    ) -> Result<Option<Collection<Document>>, ApiError> {
        let Some(index) = ENTITIES.iter().position(|known| *known == entity) else {
            return Ok(None);
        };
        let collections = match self.inner.collections.get(organization) {
            Some(collections) => collections,
            None => {
                let database = self.tenant(organization)?;
                let collections = Arc::new(ENTITIES.map(|entity| database.collection(entity)));
                self.inner
                    .collections
                    .insert(organization.to_owned(), Arc::clone(&collections));
                collections
            }
        };
        Ok(collections.get(index).cloned())
    }

    /// The organization's own database.
    pub(crate) fn tenant(&self, organization: &str) -> Result<Database, ApiError> {
        let name = self
            .inner
            .tenants
            .database(organization)
            .map_err(|_| ApiError::unauthorized())?;
        Ok(self.inner.client.database(&name))
    }

    pub(crate) fn sql(&self) -> &Sql {
        &self.inner.sql
    }

    pub(crate) fn passwords(&self) -> &Passwords {
        &self.inner.passwords
    }

    pub(crate) fn token_keys(&self) -> &crate::token_keys::TokenKeys {
        &self.inner.token_keys
    }

    pub(crate) fn filters(&self) -> &FilterPolicy {
        &self.inner.filters
    }

    pub(crate) fn owned(&self) -> &OwnedCollections {
        &self.inner.owned
    }

    pub(crate) fn references(&self) -> &ForeignKeys {
        &self.inner.references
    }

    pub(crate) fn reset_codes(&self) -> &OneTimeCodes<RedisCodes> {
        &self.inner.reset_codes
    }

    pub(crate) fn turnstile(&self) -> Option<&TurnstileVerifier> {
        self.inner.turnstile.as_ref()
    }

    pub(crate) fn oidc(&self) -> Option<&Oidc> {
        self.inner.oidc.as_ref()
    }

    pub(crate) fn generations(&self) -> &Generations {
        &self.inner.generations
    }

    pub(crate) fn auth_limiter(&self) -> &Arc<RedisLimiter> {
        &self.inner.auth_limiter
    }

    pub(crate) fn guess_limiter(&self) -> &Arc<RedisLimiter> {
        &self.inner.guess_limiter
    }

    pub(crate) fn write_limiter(&self) -> &Arc<RedisLimiter> {
        &self.inner.write_limiter
    }

    pub(crate) fn audit(&self) -> &Audit {
        &self.inner.audit
    }

    pub(crate) fn outbox(&self) -> &dyn Outbox {
        &*self.inner.outbox
    }

    pub(crate) fn fields(&self) -> &crate::fields::Fields {
        &self.inner.fields
    }
}
