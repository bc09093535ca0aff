//! Assembling [`AppState`] from the settings: every secret through `palisade-secrets`, every
//! connection string checked by the mode's TLS policy, every component reporting to the
//! audit trail.

use std::sync::Arc;
use std::time::Duration;

use bson::doc;
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, IndexModel};
use palisade_auth::{OneTimeCodes, RedisCodes, TurnstileVerifier};
use palisade_mongo::{FilterPolicy, ForeignKey, ForeignKeys, OwnedCollections, TenantRouter};
use palisade_password::{Passwords, Policy};
use palisade_ratelimit::{Mode as LimitMode, OutagePolicy, RedisConfig, RedisLimiter, Spec};
use palisade_secrets::{Dsn, ReferenceScheme, Registry, SecretSource as _, SecretValue};
use palisade_secrets_vault::{VaultOptions, VaultSource};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{AppState, Inner, StartError};
use crate::audit::trail;
use crate::oidc::Oidc;
use crate::outbox::Outbox;
use crate::routes::{ENTITIES, OWNER_FIELD};
use crate::sessions::Generations;
use crate::settings::{Mode, Settings};
use crate::sql::{Sql, migrate};
use crate::token_keys::TokenKeys;

/// How long a password-reset code stays good.
const RESET_CODE_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// How long a request waits for Redis before its outage policy applies.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// The secret sources: environment, dotenv and files, and Vault (`vault:`) when `VAULT_ADDR`
/// and `VAULT_TOKEN` are set.
pub(crate) async fn secret_sources(settings: &Settings) -> Result<Registry, StartError> {
    let registry = Registry::standard();
    let (Some(address), Some(token)) = (&settings.vault_addr, &settings.vault_token) else {
        return Ok(registry);
    };
    let options = VaultOptions::new(
        address.as_str(),
        token.clone(),
        Arc::new(Registry::standard()),
    );
    let vault = VaultSource::connect(options)
        .await
        .map_err(|e| StartError(format!("VAULT_ADDR: {e}")))?;
    Ok(registry.with(ReferenceScheme::Vault, Arc::new(vault)))
}

fn failed(what: &str) -> impl FnOnce(&dyn std::fmt::Display) -> StartError + '_ {
    move |err| StartError(format!("{what}: {err}"))
}

/// The connection strings, resolved and checked.
struct Connections {
    mongo: Dsn,
    writer: Dsn,
    reader: Dsn,
    owner: Option<Dsn>,
    redis: redis::ConnectionInfo,
}

async fn connections(settings: &Settings, registry: &Registry) -> Result<Connections, StartError> {
    let tls = settings.mode.tls_policy();
    let owner = match &settings.database_owner_url {
        Some(owner) => Some(
            owner
                .resolve_dsn("DATABASE_OWNER_URL", registry, tls)
                .await
                .map_err(StartError)?,
        ),
        None => None,
    };
    Ok(Connections {
        mongo: settings
            .mongo_url
            .resolve_dsn("MONGO_URL", registry, tls)
            .await
            .map_err(StartError)?,
        writer: settings
            .database_url
            .resolve_dsn("DATABASE_URL", registry, tls)
            .await
            .map_err(StartError)?,
        reader: settings
            .database_read_only_url
            .resolve_dsn("DATABASE_READ_ONLY_URL", registry, tls)
            .await
            .map_err(StartError)?,
        owner,
        redis: settings
            .redis_url
            .resolve_redis("REDIS_URL", registry, tls)
            .await
            .map_err(StartError)?,
    })
}

/// The Turnstile verifier when both keys are set; Cloudflare's test secrets only in `test`.
async fn turnstile(
    settings: &Settings,
    registry: &Registry,
) -> Result<Option<TurnstileVerifier>, StartError> {
    let secret: Option<SecretValue> = match &settings.turnstile_secret_key {
        Some(reference) => Some(
            registry
                .fetch(reference)
                .await
                .map_err(|e| failed("TURNSTILE_SECRET_KEY")(&e))?,
        ),
        None => None,
    };
    let site_key = settings.turnstile_site_key.as_deref();
    let verifier = match (settings.mode, secret) {
        (Mode::Test, Some(secret)) if site_key.is_some() => Some(
            TurnstileVerifier::for_testing(secret)
                .map_err(|e| failed("TURNSTILE_SECRET_KEY")(&e))?,
        ),
        (_, secret) => TurnstileVerifier::from_settings(site_key, secret)
            .map_err(|e| failed("TURNSTILE_SITE_KEY")(&e))?,
    };
    match (verifier, &settings.turnstile_verify_url) {
        (Some(verifier), Some(url)) => Ok(Some(
            verifier
                .endpoint(url)
                .map_err(|e| failed("TURNSTILE_VERIFY_URL")(&e))?,
        )),
        (verifier, _) => Ok(verifier),
    }
}

/// A Redis limiter of `spec` under the deployment's own key prefix.
fn limiter(
    connection: &ConnectionManager,
    settings: &Settings,
    spec: &Spec,
    name: &str,
    outage: OutagePolicy,
) -> Arc<RedisLimiter> {
    let mode = if settings.rate_limit_enabled {
        LimitMode::Enforce
    } else {
        LimitMode::Disabled
    };
    let limits = palisade_ratelimit::Settings::new(spec.clone()).with_mode(mode);
    let config = RedisConfig::new(outage).with_prefix(format!("{}:rl:{name}", settings.mongo_db));
    Arc::new(RedisLimiter::from_connection(
        connection.clone(),
        &limits,
        config,
    ))
}

/// The references a document makes: to a project and a client of the same owner.
fn references() -> ForeignKeys {
    ForeignKeys::new()
        .with(ForeignKey::new("project_id", "projects"))
        .with(ForeignKey::new("client_id", "clients"))
}

impl AppState {
    /// Connects and prepares what the routes need: the users' unique email index, the SQL
    /// schema (when an owner login is configured), the Redis connection.
    ///
    /// # Errors
    /// [`StartError`] naming what failed.
    pub async fn new(settings: &Settings, outbox: Arc<dyn Outbox>) -> Result<Self, StartError> {
        Self::with_clock(settings, outbox, Arc::new(palisade_clock::SystemClock)).await
    }

    /// As [`new`](Self::new), reading time from `clock` (when secrets read at run time go
    /// stale).
    ///
    /// # Errors
    /// [`StartError`] naming what failed.
    pub async fn with_clock(
        settings: &Settings,
        outbox: Arc<dyn Outbox>,
        clock: Arc<dyn palisade_clock::Clock>,
    ) -> Result<Self, StartError> {
        let registry = secret_sources(settings).await?;
        let audit = trail(settings, &registry).await.map_err(StartError)?;
        let token_keys = TokenKeys::load(
            settings,
            secret_sources(settings).await?,
            Arc::clone(&clock),
            &audit,
        )
        .await?;
        let connections = connections(settings, &registry).await?;
        if let Some(owner) = &connections.owner {
            migrate(owner, &connections.writer, &connections.reader)
                .await
                .map_err(StartError)?;
        }
        let sql = Sql::new(&connections.writer, &connections.reader, &audit).map_err(StartError)?;

        // Accounts through a client whose every command is audited (values removed); the
        // organizations' records through a client whose scoped collections report their
        // operations and guard refusals themselves.
        let mut options = ClientOptions::parse(connections.mongo.expose_secret())
            .await
            .map_err(|e| failed("MONGO_URL")(&e))?;
        let tenants_client =
            Client::with_options(options.clone()).map_err(|e| failed("MONGO_URL")(&e))?;
        options.command_event_handler = Some(palisade_mongo::command_events(audit.clone()));
        let accounts_client = Client::with_options(options).map_err(|e| failed("MONGO_URL")(&e))?;
        let directory = accounts_client.database(&settings.mongo_db);
        directory
            .collection::<bson::Document>("users")
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"email": 1})
                    .options(IndexOptions::builder().unique(true).build())
                    .build(),
            )
            .await
            .map_err(|e| failed("the users' email index")(&e))?;
        let fields = crate::fields::Fields::build(settings, &registry, &directory).await?;
        let tenants = TenantRouter::new(&format!("{}_org_", settings.mongo_db))
            .map_err(|e| failed("MONGO_DB")(&e))?;

        let manager = ConnectionManagerConfig::new()
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(200));
        let redis = redis::Client::open(connections.redis)
            .map_err(|_| StartError("REDIS_URL: not a Redis connection string".to_owned()))?;
        let redis = ConnectionManager::new_with_config(redis, manager)
            .await
            .map_err(|e| StartError(format!("REDIS_URL: cannot connect ({:?})", e.kind())))?;
        let reset_codes = OneTimeCodes::new(RedisCodes::new(
            redis.clone(),
            &format!("{}:reset:", settings.mongo_db),
        ))
        .lifetime(RESET_CODE_LIFETIME)
        .map_err(|e| failed("the reset codes")(&e))?
        .clock(Arc::clone(&clock))
        .with_audit(audit.clone());

        let oidc = match &settings.oidc {
            Some(oidc) => Some(
                Oidc::connect(oidc, &registry, &redis, &settings.mongo_db)
                    .await
                    .map_err(StartError)?
                    .with_audit(audit.clone()),
            ),
            None => None,
        };
        let passwords = Passwords::new(Policy::default())
            .map_err(|e| failed("the password policy")(&e))?
            .with_audit(audit.clone());
        let owned = ENTITIES
            .iter()
            .fold(OwnedCollections::new(), |owned, entity| {
                owned.collection(entity, OWNER_FIELD)
            })
            .with_events(audit.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                client: tenants_client,
                directory,
                tenants,
                collections: moka::sync::Cache::new(super::KEPT_ORGANIZATIONS),
                sql,
                passwords,
                token_keys,
                filters: FilterPolicy::default()
                    .object_id_field("*_id")
                    .uuid_field("*_uuid"),
                owned,
                references: references(),
                reset_codes,
                turnstile: turnstile(settings, &registry)
                    .await?
                    .map(|verifier| verifier.with_audit(audit.clone())),
                oidc,
                generations: Generations::new(
                    redis.clone(),
                    &settings.mongo_db,
                    Arc::clone(&clock),
                ),
                auth_limiter: limiter(
                    &redis,
                    settings,
                    &settings.auth_rate_limit,
                    "auth",
                    OutagePolicy::FailClosed,
                ),
                guess_limiter: limiter(
                    &redis,
                    settings,
                    &settings.auth_rate_limit,
                    "guess",
                    OutagePolicy::FailClosed,
                ),
                write_limiter: limiter(
                    &redis,
                    settings,
                    &settings.write_rate_limit,
                    "write",
                    OutagePolicy::FailOpen,
                ),
                audit,
                outbox,
                fields,
            }),
        })
    }
}
