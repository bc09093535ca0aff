//! Token generations: a counter per user in Redis that every token carries (`gen`). Changing
//! or resetting the password and erasing the account advance it, so every token issued
//! before is refused at once on the instance that revoked it and within a second on every
//! other (each instance remembers a generation it read for one second, reading it again in
//! the background before then, so a request costs no Redis round trip while a user keeps
//! working).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use moka::ops::compute::Op;
use palisade_clock::Clock;
use redis::AsyncCommands as _;
use redis::aio::ConnectionManager;

/// How long a generation is kept after it last advanced: longer than any token lives, so a
/// token never outlives the record of its revocation.
const KEEP_SECONDS: i64 = 24 * 3600;

/// The Redis store could not answer: the request is refused (`503`), never waved through.
#[derive(Debug)]
pub(crate) struct GenerationsUnavailable;

/// How long an instance trusts a generation it read.
const REMEMBERED: Duration = Duration::from_secs(1);

/// After this long a remembered generation is read again in the background by the first
/// request that finds it (served meanwhile from memory), so a user who keeps working never
/// waits for Redis; past [`REMEMBERED`] the request reads it itself.
const REFRESH_AFTER: Duration = Duration::from_millis(750);

/// The most users whose generation an instance remembers.
const REMEMBERED_USERS: u64 = 100_000;

/// A generation as this instance read it.
#[derive(Debug, Clone, Copy)]
struct Remembered {
    generation: u64,
    read_at: Instant,
}

/// The users' token generations.
#[derive(Clone)]
pub(crate) struct Generations {
    redis: ConnectionManager,
    prefix: String,
    remembered: moka::sync::Cache<String, Remembered>,
    /// The generations this instance revoked, for as long as Redis keeps them: a read that
    /// was under way during a revocation, or a generation Redis lost, is never taken below
    /// them.
    floors: moka::sync::Cache<String, u64>,
    /// The users whose generation is being read in the background (one read each).
    refreshing: Arc<Mutex<HashSet<String>>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Generations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generations")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Generations {
    pub(crate) fn new(redis: ConnectionManager, deployment: &str, clock: Arc<dyn Clock>) -> Self {
        Self {
            redis,
            prefix: format!("{deployment}:gen:"),
            remembered: moka::sync::Cache::builder()
                .max_capacity(REMEMBERED_USERS)
                .time_to_live(REMEMBERED)
                .build(),
            floors: moka::sync::Cache::builder()
                .max_capacity(REMEMBERED_USERS)
                .time_to_live(Duration::from_secs(KEEP_SECONDS.unsigned_abs()))
                .build(),
            refreshing: Arc::default(),
            clock,
        }
    }

    /// The user's generation, as this instance read it within the last second.
    pub(crate) async fn current(&self, user: &str) -> Result<u64, GenerationsUnavailable> {
        if let Some(remembered) = self.remembered.get(user) {
            let age = self
                .clock
                .now_coarse()
                .saturating_duration_since(remembered.read_at);
            if age >= REFRESH_AFTER {
                self.refresh_in_background(user);
            }
            return Ok(remembered.generation);
        }
        let started = self.clock.now_coarse();
        let generation = self.read(user).await?;
        Ok(self.remember(user, generation, started))
    }

    /// Keeps `generation`, read from `read_at` on, unless a higher one is remembered or was
    /// revoked here: generations only rise, so a read that started before a revocation on
    /// this instance cannot bring back the generation it revoked. The generation kept.
    fn remember(&self, user: &str, generation: u64, read_at: Instant) -> u64 {
        let generation = generation.max(self.floors.get(user).unwrap_or(0));
        let kept = self
            .remembered
            .entry_by_ref(user)
            .and_compute_with(|entry| match entry {
                Some(entry) if entry.value().generation > generation => Op::Nop,
                _ => Op::Put(Remembered {
                    generation,
                    read_at,
                }),
            });
        match kept {
            moka::ops::compute::CompResult::Unchanged(entry) => entry.into_value().generation,
            _ => generation,
        }
    }

    /// Reads the user's generation again without making the request wait; a failed read
    /// leaves the remembered one to expire.
    fn refresh_in_background(&self, user: &str) {
        let first = lock(&self.refreshing).insert(user.to_owned());
        if !first {
            return;
        }
        let (generations, user) = (self.clone(), user.to_owned());
        tokio::spawn(async move {
            let started = generations.clock.now_coarse();
            if let Ok(generation) = generations.read(&user).await {
                generations.remember(&user, generation, started);
            }
            lock(&generations.refreshing).remove(&user);
        });
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
        let (generation,): (u64,) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .expire(&key, KEEP_SECONDS)
            .ignore()
            .query_async(&mut redis)
            .await
            .map_err(|_| GenerationsUnavailable)?;
        // Remembered at once (not merely forgotten), and kept as a floor: a read that started
        // before the increment cannot bring the old generation back.
        self.floors
            .entry_by_ref(user)
            .and_compute_with(|entry| match entry {
                Some(entry) if entry.value() >= &generation => Op::Nop,
                _ => Op::Put(generation),
            });
        self.remember(user, generation, self.clock.now_coarse());
        Ok(())
    }
}

/// The set, even if a thread panicked holding it (a set of names cannot be left half-changed).
fn lock(refreshing: &Mutex<HashSet<String>>) -> MutexGuard<'_, HashSet<String>> {
    refreshing.lock().unwrap_or_else(PoisonError::into_inner)
}
