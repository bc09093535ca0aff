//! `TenantClients`: each organization's database, on the shared deployment or on its own,
//! with a bounded cache of the clients of dedicated deployments.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

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
///   `palisade-secrets` from the router's template reference, and its client is cached, at most
///   `capacity` of them (the least recently used is dropped first).
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
        cache: Mutex<ClientCache>,
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

    /// Each organization on its own deployment, whose connection string is the secret the
    /// router's template names; at most `capacity` clients (at least one) stay open.
    ///
    /// # Errors
    /// [`TenantError::TemplateInvalid`](crate::TenantError::TemplateInvalid) when the router
    /// has no connection template.
    pub fn dedicated(
        router: TenantRouter,
        secrets: Arc<dyn SecretSource>,
        capacity: usize,
    ) -> Result<Self, DriverError> {
        if !router.has_connection_template() {
            return Err(crate::TenantError::TemplateInvalid.into());
        }
        Ok(Self {
            router,
            deployment: Deployment::Dedicated {
                secrets,
                cache: Mutex::new(ClientCache::new(capacity.max(1))),
            },
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
            Deployment::Dedicated { secrets, cache } => {
                let cached = lock(cache).get(org);
                match cached {
                    Some(client) => client,
                    None => {
                        let client = self.connect(secrets.as_ref(), org).await?;
                        lock(cache).insert(org, client)
                    }
                }
            }
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
    pub fn forget(&self, org: &str) -> bool {
        match &self.deployment {
            Deployment::Shared(_) => false,
            Deployment::Dedicated { cache, .. } => lock(cache).remove(org),
        }
    }

    /// How many dedicated-deployment clients are open.
    #[must_use]
    pub fn cached(&self) -> usize {
        match &self.deployment {
            Deployment::Shared(_) => 0,
            Deployment::Dedicated { cache, .. } => lock(cache).len(),
        }
    }

    async fn connect(&self, secrets: &dyn SecretSource, org: &str) -> Result<Client, DriverError> {
        let Some(reference) = self.router.connection_ref(org)? else {
            return Err(crate::TenantError::TemplateInvalid.into());
        };
        let secret = secrets
            .fetch(&reference)
            .await
            .map_err(DriverError::Secret)?;
        let uri = secret
            .expose_str()
            .ok_or(DriverError::ConnectionStringInvalid)?;
        let options = ClientOptions::parse(uri)
            .await
            .map_err(|_| DriverError::ConnectionStringInvalid)?;
        Client::with_options(options).map_err(|_| DriverError::ConnectionStringInvalid)
    }
}

fn lock(cache: &Mutex<ClientCache>) -> std::sync::MutexGuard<'_, ClientCache> {
    // The cache holds no invariant a panic elsewhere could break half-way.
    cache.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Clients by organization, least recently used dropped first beyond the capacity.
#[derive(Debug)]
struct ClientCache {
    capacity: usize,
    tick: u64,
    clients: HashMap<String, (Client, u64)>,
}

impl ClientCache {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            tick: 0,
            clients: HashMap::new(),
        }
    }

    fn get(&mut self, org: &str) -> Option<Client> {
        self.tick += 1;
        let tick = self.tick;
        self.clients.get_mut(org).map(|(client, used)| {
            *used = tick;
            client.clone()
        })
    }

    /// Keeps `client` for `org`, unless a concurrent call cached one first (that one is
    /// returned, so one organization never has two pools).
    fn insert(&mut self, org: &str, client: Client) -> Client {
        if let Some(existing) = self.get(org) {
            return existing;
        }
        if self.clients.len() >= self.capacity {
            let oldest = self
                .clients
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(org, _)| org.clone());
            if let Some(oldest) = oldest {
                self.clients.remove(&oldest);
            }
        }
        self.clients
            .insert(org.to_owned(), (client.clone(), self.tick));
        client
    }

    fn remove(&mut self, org: &str) -> bool {
        self.clients.remove(org).is_some()
    }

    fn len(&self) -> usize {
        self.clients.len()
    }
}
