//! `TenantClients`: each organization's database, on the shared deployment or on its own,
//! with a bounded cache of the clients of dedicated deployments.

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database};
use palisade_secrets::SecretSource;

use crate::TenantRouter;
use crate::driver::DriverError;

/// Where each organization's data lives (R-MDB-3).
///
/// - [`shared`](Self::shared): one deployment, one database per organization
///   (`prefix + org`).
/// - [`dedicated`](Self::dedicated): each organization's connection string is read through
///   `palisade-secrets` from the router's template reference, and its client is cached in a
///   `moka` cache: at most `capacity` of them, each for at most the time to live (so a rotated
///   connection string is read again without [`forget`](Self::forget)), and concurrent first
///   requests for one organization wait on one read and one client.
///
/// ```no_run
/// # async fn run(client: mongodb::Client) -> Result<(), palisade_mongo::DriverError> {
/// use palisade_mongo::{TenantClients, TenantRouter};
///
/// let tenants = TenantClients::shared(TenantRouter::new("org_")?, client);
/// let orders = tenants.collection::<bson::Document>("acme", "orders").await?;
/// assert_eq!(orders.namespace().db, "org_acme");
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TenantClients {
    router: TenantRouter,
    deployment: Deployment,
}

#[derive(Debug)]
enum Deployment {
    Shared(Client),
    Dedicated {
        secrets: Arc<dyn SecretSource>,
        cache: Cache<String, Client>,
    },
}

impl TenantClients {
    /// A capacity for dedicated-deployment clients that suits most services: each client
    /// keeps its own connection pool.
    pub const DEFAULT_CAPACITY: usize = 64;

    /// Every organization's database on the deployment of `client`.
    #[must_use]
    pub fn shared(router: TenantRouter, client: Client) -> Self {
        Self {
            router,
            deployment: Deployment::Shared(client),
        }
    }

    /// How long a dedicated deployment's client is kept before its connection string is read
    /// again: rotated credentials reach new requests within this time.
    pub const DEFAULT_TIME_TO_LIVE: Duration = Duration::from_secs(15 * 60);

    /// Each organization on its own deployment, whose connection string is the secret the
    /// router's template names; at most `capacity` clients (at least one) stay open, each for
    /// at most [`DEFAULT_TIME_TO_LIVE`](Self::DEFAULT_TIME_TO_LIVE).
    ///
    /// # Errors
    /// [`TenantError::TemplateInvalid`](crate::TenantError::TemplateInvalid) when the router
    /// has no connection template.
    pub fn dedicated(
        router: TenantRouter,
        secrets: Arc<dyn SecretSource>,
        capacity: usize,
    ) -> Result<Self, DriverError> {
        Self::dedicated_for(router, secrets, capacity, Self::DEFAULT_TIME_TO_LIVE)
    }

    /// As [`dedicated`](Self::dedicated), each client kept for at most `time_to_live`.
    ///
    /// # Errors
    /// As [`dedicated`](Self::dedicated).
    pub fn dedicated_for(
        router: TenantRouter,
        secrets: Arc<dyn SecretSource>,
        capacity: usize,
        time_to_live: Duration,
    ) -> Result<Self, DriverError> {
        if !router.has_connection_template() {
            return Err(crate::TenantError::TemplateInvalid.into());
        }
        let cache = Cache::builder()
            .max_capacity(u64::try_from(capacity.max(1)).unwrap_or(u64::MAX))
            .time_to_live(time_to_live)
            .build();
        Ok(Self {
            router,
            deployment: Deployment::Dedicated { secrets, cache },
        })
    }

    /// The organization's database.
    ///
    /// # Errors
    /// [`DriverError::Tenant`] for an id that cannot be routed; for a dedicated deployment,
    /// [`DriverError::Secret`] or [`DriverError::ConnectionStringInvalid`].
    pub async fn database(&self, org: &str) -> Result<Database, DriverError> {
        let name = self.router.database(org)?;
        let client = match &self.deployment {
            Deployment::Shared(client) => client.clone(),
            // One read and one client per organization, however many requests wait on it.
            Deployment::Dedicated { secrets, cache } => cache
                .try_get_with_by_ref(org, self.connect(secrets.as_ref(), org))
                .await
                .map_err(shared)?,
        };
        Ok(client.database(&name))
    }

    /// A collection of the organization's database.
    ///
    /// # Errors
    /// As [`database`](Self::database).
    pub async fn collection<T: Send + Sync>(
        &self,
        org: &str,
        name: &str,
    ) -> Result<Collection<T>, DriverError> {
        Ok(self.database(org).await?.collection(name))
    }

    /// Drops the organization's cached client, so that the next call reads its connection
    /// string again (after a credential rotation). Returns whether one was cached.
    pub async fn forget(&self, org: &str) -> bool {
        match &self.deployment {
            Deployment::Shared(_) => false,
            Deployment::Dedicated { cache, .. } => cache.remove(org).await.is_some(),
        }
    }

    /// How many dedicated-deployment clients are open (evictions and expiries are applied
    /// first).
    pub async fn cached(&self) -> usize {
        match &self.deployment {
            Deployment::Shared(_) => 0,
            Deployment::Dedicated { cache, .. } => {
                cache.run_pending_tasks().await;
                usize::try_from(cache.entry_count()).unwrap_or(usize::MAX)
            }
        }
    }

    async fn connect(&self, secrets: &dyn SecretSource, org: &str) -> Result<Client, DriverError> {
        let Some(reference) = self.router.connection_ref(org)? else {
            return Err(crate::TenantError::TemplateInvalid.into());
        };
        let secret = secrets
            .fetch(&reference)
            .await
            .map_err(|err| DriverError::Secret(Arc::new(err)))?;
        let uri = secret
            .expose_str()
            .ok_or(DriverError::ConnectionStringInvalid)?;
        let options = ClientOptions::parse(uri)
            .await
            .map_err(|_| DriverError::ConnectionStringInvalid)?;
        Client::with_options(options).map_err(|_| DriverError::ConnectionStringInvalid)
    }
}

/// The error of a read that concurrent requests waited on: the reader's own when it is the
/// last to hold it, otherwise the same error again (each variant a read can fail with is
/// shared or plain).
fn shared(error: Arc<DriverError>) -> DriverError {
    Arc::try_unwrap(error).unwrap_or_else(|shared| match shared.as_ref() {
        DriverError::Tenant(tenant) => DriverError::Tenant(tenant.clone()),
        DriverError::Secret(secret) => DriverError::Secret(Arc::clone(secret)),
        _ => DriverError::ConnectionStringInvalid,
    })
}
