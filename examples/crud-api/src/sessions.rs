//! Token generations: a counter per user in Redis that every token carries (`gen`). Changing
//! or resetting the password and erasing the account advance it, so every token issued
//! before is refused at once on the instance that revoked it and within a second on every
//! other.
//!
//! An instance remembers the generations it read and does not ask Redis again for each
//! request. Instead it follows the deployment's revocation feed: every revocation is also
//! numbered (a deployment-wide counter) and recorded in a sorted set, and each instance asks
//! for the revocations after the last one it saw at most every quarter second (one round trip
//! whatever the number of users), in the background, forgetting the generations of the users
//! named. What it remembers is trusted only while its last completed look at the feed began
//! less than a second ago: when Redis does not answer for longer, every request asks Redis
//! itself (and gets a `503` while Redis is down), never a generation that may be stale.
//!
//! The feed carries an incarnation id: when Redis loses the feed (a restart without
//! persistence, a flush) or drops old revocations an instance had not yet seen, the
//! instance forgets everything it remembers.

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

/// How long after its last completed look at the feed began an instance trusts the
/// generations it remembers.
const TRUSTED: Duration = Duration::from_secs(1);

/// How often an instance looks at the feed (in the background, triggered by a request).
const LOOK_EVERY: Duration = Duration::from_millis(250);

/// The most users whose generation an instance remembers.
const REMEMBERED_USERS: u64 = 100_000;

/// A remembered generation is read again after this long even without a revocation (it
/// bounds what a user who stopped working keeps in memory).
const REMEMBERED_FOR: Duration = Duration::from_secs(600);

/// The revocations the feed keeps; an instance further behind forgets everything.
const FEED_LENGTH: u64 = 100_000;

/// The most revocations one look takes; with more, the instance forgets everything.
const LOOK_AT_MOST: u64 = 10_000;

/// Advances a user's generation and records the revocation in the feed, in one step.
/// KEYS: generation, feed counter, feed, trimmed-up-to, incarnation. ARGV: seconds to keep
/// the generation, user, feed length, a new incarnation id. Returns the generation and the
/// revocation's number.
const REVOKE: &str = r"
redis.call('SET', KEYS[5], ARGV[4], 'NX')
local generation = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
local number = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[3], number, ARGV[2])
local over = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[3])
if over > 0 then
  local gone = redis.call('ZRANGE', KEYS[3], 0, over - 1, 'WITHSCORES')
  redis.call('SET', KEYS[4], gone[#gone])
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, over - 1)
end
return {generation, number}
";

/// The feed after revocation ARGV[1] (`-1`: from the start). KEYS: feed counter, feed,
/// trimmed-up-to, incarnation. ARGV: last number seen, most users, a new incarnation id
/// (kept if there is none). Returns the incarnation, the last number, the number up to
/// which revocations were dropped, and the users revoked after ARGV[1].
const LOOK: &str = r"
redis.call('SET', KEYS[4], ARGV[3], 'NX')
local incarnation = redis.call('GET', KEYS[4])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local trimmed = tonumber(redis.call('GET', KEYS[3]) or '0')
local users = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf', 'LIMIT', 0, ARGV[2])
return {incarnation, last, trimmed, users}
";

/// What an instance has seen of the feed.
#[derive(Debug, Default)]
struct Followed {
    /// The incarnation and the last revocation number seen (none before the first look).
    seen: Option<(String, u64)>,
    /// When the last completed look began.
    looked_from: Option<Instant>,
    /// A look is under way.
    looking: bool,
}

/// The users' token generations.
#[derive(Clone)]
pub(crate) struct Generations {
    redis: ConnectionManager,
    prefix: String,
    remembered: moka::sync::Cache<String, u64>,
    /// The generations this instance revoked, for as long as Redis keeps them: a read that
    /// was under way during a revocation, or a generation Redis lost, is never taken below
    /// them.
    floors: moka::sync::Cache<String, u64>,
    followed: Arc<Mutex<Followed>>,
    revoke_script: Arc<redis::Script>,
    look_script: Arc<redis::Script>,
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
                .time_to_live(REMEMBERED_FOR)
                .build(),
            floors: moka::sync::Cache::builder()
                .max_capacity(REMEMBERED_USERS)
                .time_to_live(Duration::from_secs(KEEP_SECONDS.unsigned_abs()))
                .build(),
            followed: Arc::default(),
            revoke_script: Arc::new(redis::Script::new(REVOKE)),
            look_script: Arc::new(redis::Script::new(LOOK)),
            clock,
        }
    }

    /// The user's generation: remembered while the feed was followed within the last
    /// second, otherwise read from Redis.
    pub(crate) async fn current(&self, user: &str) -> Result<u64, GenerationsUnavailable> {
        if self.follow()
            && let Some(generation) = self.remembered.get(user)
        {
            return Ok(generation);
        }
        let mut redis = self.redis.clone();
        let (generation, number): (Option<u64>, Option<u64>) = redis
            .mget(&[self.key(user), self.feed_key("last")])
            .await
            .map_err(|_| GenerationsUnavailable)?;
        Ok(self.remember(user, generation.unwrap_or(0), number.unwrap_or(0)))
    }

    /// Whether what this instance remembers may be trusted; starts a look at the feed when
    /// the last one is a quarter second old.
    fn follow(&self) -> bool {
        let now = self.clock.now_coarse();
        let age = |followed: &Followed| {
            followed
                .looked_from
                .map(|from| now.saturating_duration_since(from))
        };
        let (trusted, look) = {
            let mut followed = lock(&self.followed);
            let age = age(&followed);
            let look = !followed.looking && age.is_none_or(|age| age >= LOOK_EVERY);
            followed.looking |= look;
            (age.is_some_and(|age| age < TRUSTED), look)
        };
        if look {
            let generations = self.clone();
            tokio::spawn(async move { generations.look(now).await });
        }
        trusted
    }

    /// One look at the feed, begun at `from`: the users revoked since the last look are
    /// forgotten (everyone, when the feed was lost or cut past what this instance saw). A
    /// failed look changes nothing, so the trust runs out.
    async fn look(&self, from: Instant) {
        let seen = lock(&self.followed).seen.clone();
        let after = seen.as_ref().map_or(-1, |(_, last)| i128::from(*last));
        let mut redis = self.redis.clone();
        let answer: Result<(String, u64, u64, Vec<String>), _> = self
            .look_script
            .key(self.feed_key("last"))
            .key(self.feed_key("feed"))
            .key(self.feed_key("trimmed"))
            .key(self.feed_key("incarnation"))
            .arg(after.to_string())
            .arg(LOOK_AT_MOST)
            .arg(new_incarnation())
            .invoke_async(&mut redis)
            .await;
        let mut followed = lock(&self.followed);
        followed.looking = false;
        let Ok((incarnation, last, trimmed, users)) = answer else {
            return;
        };
        let continues = seen.as_ref().is_some_and(|(was, seen_last)| {
            *was == incarnation
                && last >= *seen_last
                && trimmed <= *seen_last
                && (users.len() as u64) < LOOK_AT_MOST
        });
        if continues {
            for user in &users {
                self.remembered.invalidate(user);
            }
        } else {
            self.remembered.invalidate_all();
        }
        followed.seen = Some((incarnation, last));
        followed.looked_from = Some(from);
    }

    /// Keeps `generation`, read when the feed's last revocation was `number`, unless this
    /// instance has followed the feed past it (a revocation it already applied may be
    /// missing from the read) or a higher generation is remembered or was revoked here. The
    /// generation to use.
    fn remember(&self, user: &str, generation: u64, number: u64) -> u64 {
        let generation = generation.max(self.floors.get(user).unwrap_or(0));
        let followed = lock(&self.followed);
        if followed
            .seen
            .as_ref()
            .is_none_or(|(_, last)| number < *last)
        {
            return generation;
        }
        let kept = self
            .remembered
            .entry_by_ref(user)
            .and_compute_with(|entry| match entry {
                Some(entry) if entry.value() > &generation => Op::Nop,
                _ => Op::Put(generation),
            });
        drop(followed);
        match kept {
            moka::ops::compute::CompResult::Unchanged(entry) => entry.into_value(),
            _ => generation,
        }
    }

    /// The user's generation as Redis has it now (0 until the first revocation): what a new
    /// token carries.
    pub(crate) async fn read(&self, user: &str) -> Result<u64, GenerationsUnavailable> {
        let mut redis = self.redis.clone();
        let value: Option<u64> = redis
            .get(self.key(user))
            .await
            .map_err(|_| GenerationsUnavailable)?;
        Ok(value.unwrap_or(0))
    }

    /// Refuses every token of `user` issued so far.
    pub(crate) async fn revoke(&self, user: &str) -> Result<(), GenerationsUnavailable> {
        let mut redis = self.redis.clone();
        let (generation, number): (u64, u64) = self
            .revoke_script
            .key(self.key(user))
            .key(self.feed_key("last"))
            .key(self.feed_key("feed"))
            .key(self.feed_key("trimmed"))
            .key(self.feed_key("incarnation"))
            .arg(KEEP_SECONDS)
            .arg(user)
            .arg(FEED_LENGTH)
            .arg(new_incarnation())
            .invoke_async(&mut redis)
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
        self.remember(user, generation, number);
        Ok(())
    }

    fn key(&self, user: &str) -> String {
        format!("{}{user}", self.prefix)
    }

    /// The feed's keys, beside the generations (`<deployment>:gen:~feed`; `~` is in no user
    /// id, which are ObjectIds).
    fn feed_key(&self, name: &str) -> String {
        format!("{}~{name}", self.prefix)
    }
}

/// A random incarnation id, kept by Redis only when the feed has none.
fn new_incarnation() -> String {
    let mut bytes = [0_u8; 16];
    // Without randomness every instance offers the same id; the first one kept still names
    // this incarnation of the feed until Redis loses it.
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The state, even if a thread panicked holding it (every change to it is one assignment).
fn lock(followed: &Mutex<Followed>) -> MutexGuard<'_, Followed> {
    followed.lock().unwrap_or_else(PoisonError::into_inner)
}
