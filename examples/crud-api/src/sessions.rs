//! Token generations: a counter per user in Redis that every token carries (`gen`). Changing
//! or resetting the password and erasing the account advance it, so every token issued
//! before is refused at once on the instance that revoked it and within a second on every
//! other (each instance remembers a generation it read for one second, so a request costs
//! no Redis round trip while a user keeps working).

use redis::AsyncCommands as _;
use redis::aio::ConnectionManager;

/// How long a generation is kept after it last advanced: longer than any token lives, so a
/// token never outlives the record of its revocation.
const KEEP_SECONDS: i64 = 24 * 3600;

/// The Redis store could not answer: the request is refused (`503`), never waved through.
#[derive(Debug)]
pub(crate) struct GenerationsUnavailable;

/// How long an instance trusts a generation it read.
const REMEMBERED: std::time::Duration = std::time::Duration::from_secs(1);

/// The most users whose generation an instance remembers.
const REMEMBERED_USERS: u64 = 100_000;

/// The users' token generations.
#[derive(Clone)]
pub(crate) struct Generations {
    redis: ConnectionManager,
    prefix: String,
    remembered: moka::sync::Cache<String, u64>,
}

impl std::fmt::Debug for Generations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generations")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Generations {
    pub(crate) fn new(redis: ConnectionManager, deployment: &str) -> Self {
        Self {
            redis,
            prefix: format!("{deployment}:gen:"),
            remembered: moka::sync::Cache::builder()
                .max_capacity(REMEMBERED_USERS)
                .time_to_live(REMEMBERED)
                .build(),
        }
    }

    /// The user's generation, as this instance read it within the last second.
    pub(crate) async fn current(&self, user: &str) -> Result<u64, GenerationsUnavailable> {
        if let Some(generation) = self.remembered.get(user) {
            return Ok(generation);
        }
        let generation = self.read(user).await?;
        self.remembered.insert(user.to_owned(), generation);
        Ok(generation)
    }

    /// The user's generation as Redis has it now (0 until the first revocation): what a new
    /// token carries.
    pub(crate) async fn read(&self, user: &str) -> Result<u64, GenerationsUnavailable> {
        let mut redis = self.redis.clone();
        let value: Option<u64> = redis
            .get(format!("{}{user}", self.prefix))
            .await
            .map_err(|_| GenerationsUnavailable)?;
        Ok(value.unwrap_or(0))
    }

    /// Refuses every token of `user` issued so far.
    pub(crate) async fn revoke(&self, user: &str) -> Result<(), GenerationsUnavailable> {
        let key = format!("{}{user}", self.prefix);
        let mut redis = self.redis.clone();
        let _: () = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .ignore()
            .expire(&key, KEEP_SECONDS)
            .ignore()
            .query_async(&mut redis)
            .await
            .map_err(|_| GenerationsUnavailable)?;
        self.remembered.invalidate(user);
        Ok(())
    }
}
