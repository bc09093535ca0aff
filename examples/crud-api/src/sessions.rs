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
//! The feed carries an incarnation id, and each revocation a random id of its own: when
//! Redis loses the feed (a restart without persistence, a flush), rolls it back (a failover
//! to a replica that lagged, a restored snapshot: the revocation an instance saw last is no
//! longer there under its number) or drops old revocations an instance had not yet seen, the
//! instance forgets everything it remembers.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use moka::ops::compute::Op;
use palisade_clock::Clock;
use redis::AsyncCommands as _;
use redis::aio::ConnectionManager;

/// How long a generation is kept after it last advanced or was last given to a new token:
/// longer than any token lives, so it never expires while a token carrying it is valid, and a
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
/// KEYS: generation, feed counter, feed, trimmed-up-to, incarnation, revocation ids. ARGV:
/// seconds to keep the generation, user, feed length, a new incarnation id, the revocation's
/// random id. Returns the generation and the revocation's number.
const REVOKE: &str = r"
redis.call('SET', KEYS[5], ARGV[4], 'NX')
local generation = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
local number = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[3], number, ARGV[2])
redis.call('ZADD', KEYS[6], number, ARGV[5])
local over = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[3])
if over > 0 then
  local gone = redis.call('ZRANGE', KEYS[3], 0, over - 1, 'WITHSCORES')
  redis.call('SET', KEYS[4], gone[#gone])
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, over - 1)
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', gone[#gone])
end
return {generation, number}
";

/// The feed after revocation ARGV[1] (`-1`: from the start). KEYS: feed counter, feed,
/// trimmed-up-to, incarnation, revocation ids. ARGV: last number seen, most users, a new
/// incarnation id (kept if there is none), the id of the revocation seen last (empty for
/// none). Returns the incarnation, the last number, the number up to which revocations were
/// dropped, the users revoked after ARGV[1], the number the feed now has under the id seen
/// last (`-1`: none) and the id of the last revocation (empty for none).
const LOOK: &str = r"
redis.call('SET', KEYS[4], ARGV[3], 'NX')
local incarnation = redis.call('GET', KEYS[4])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local trimmed = tonumber(redis.call('GET', KEYS[3]) or '0')
local users = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf', 'LIMIT', 0, ARGV[2])
local at = -1
if ARGV[4] ~= '' then
  at = tonumber(redis.call('ZSCORE', KEYS[5], ARGV[4]) or '-1')
end
local id = redis.call('ZRANGEBYSCORE', KEYS[5], last, last, 'LIMIT', 0, 1)[1] or ''
return {incarnation, last, trimmed, users, at, id}
";

/// What [`LOOK`] returns: the incarnation, the last number, the number up to which
/// revocations were dropped, the users revoked since, the number under the id seen last
/// (`-1`: none) and the id of the last revocation.
type LookAnswer = (String, u64, u64, Vec<String>, i64, String);

/// Where an instance's last look left it in the feed.
#[derive(Debug, Clone)]
struct Seen {
    incarnation: String,
    /// The number of the last revocation, and its random id (empty for none).
    last: u64,
    last_id: String,
}

/// A user's generation, raised to ARGV[2] when below it (a generation Redis lost), kept
/// ARGV[1] seconds longer when there is one. KEYS: generation.
const READ: &str = r"
local generation = tonumber(redis.call('GET', KEYS[1]) or '0')
if generation < tonumber(ARGV[2]) then
  generation = tonumber(ARGV[2])
  redis.call('SET', KEYS[1], generation)
end
if generation > 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return generation
";

/// What an instance has seen of the feed.
#[derive(Debug, Default)]
struct Followed {
    /// None before the first look.
    seen: Option<Seen>,
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
    read_script: Arc<redis::Script>,
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
            read_script: Arc::new(redis::Script::new(READ)),
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
        let generation = generation.unwrap_or(0);
        if self
            .floors
            .get(user)
            .is_some_and(|floor| floor > generation)
        {
            // Redis lost a generation this instance revoked: written back, so that tokens
            // issued anywhere from now on carry it.
            let (generations, user) = (self.clone(), user.to_owned());
            tokio::spawn(async move { generations.read(&user).await });
        }
        Ok(self.remember(user, generation, number.unwrap_or(0)))
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
        let after = seen.as_ref().map_or(-1, |seen| i128::from(seen.last));
        let mut redis = self.redis.clone();
        let answer: redis::RedisResult<LookAnswer> = self
            .look_script
            .key(self.feed_key("last"))
            .key(self.feed_key("feed"))
            .key(self.feed_key("trimmed"))
            .key(self.feed_key("incarnation"))
            .key(self.feed_key("ids"))
            .arg(after.to_string())
            .arg(LOOK_AT_MOST)
            .arg(new_random_id())
            .arg(seen.as_ref().map_or("", |seen| seen.last_id.as_str()))
            .invoke_async(&mut redis)
            .await;
        let mut followed = lock(&self.followed);
        followed.looking = false;
        let Ok((incarnation, last, trimmed, users, at, last_id)) = answer else {
            return;
        };
        // The feed goes on from where this instance left it: the same incarnation, not cut
        // past it, and the revocation seen last still there under its number (not rolled
        // back and numbered again).
        let continues = seen.as_ref().is_some_and(|seen| {
            seen.incarnation == incarnation
                && last >= seen.last
                && trimmed <= seen.last
                && (seen.last == 0 || u64::try_from(at).is_ok_and(|at| at == seen.last))
                && (users.len() as u64) < LOOK_AT_MOST
        });
        if continues {
            for user in &users {
                self.remembered.invalidate(user);
            }
        } else {
            self.remembered.invalidate_all();
        }
        followed.seen = Some(Seen {
            incarnation,
            last,
            last_id,
        });
        followed.looked_from = Some(from);
    }

    /// Keeps `generation`, read when the feed's last revocation was `number`, unless this
    /// instance has followed the feed past it (a revocation it already applied may be
    /// missing from the read) or a higher generation is remembered or was revoked here. The
    /// generation to use.
    fn remember(&self, user: &str, generation: u64, number: u64) -> u64 {
        let generation = generation.max(self.floors.get(user).unwrap_or(0));
        let followed = lock(&self.followed);
        if followed.seen.as_ref().is_none_or(|seen| number < seen.last) {
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
    /// token carries. The generation is kept a day longer from now, so it never expires while
    /// a token carrying it is valid; one this instance revoked and Redis lost is written back.
    pub(crate) async fn read(&self, user: &str) -> Result<u64, GenerationsUnavailable> {
        let mut redis = self.redis.clone();
        self.read_script
            .key(self.key(user))
            .arg(KEEP_SECONDS)
            .arg(self.floors.get(user).unwrap_or(0))
            .invoke_async(&mut redis)
            .await
            .map_err(|_| GenerationsUnavailable)
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
            .key(self.feed_key("ids"))
            .arg(KEEP_SECONDS)
            .arg(user)
            .arg(FEED_LENGTH)
            .arg(new_random_id())
            .arg(new_random_id())
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

/// A random id: of a revocation, or of an incarnation of the feed (kept by Redis only when
/// the feed has none).
fn new_random_id() -> String {
    let mut bytes = [0_u8; 16];
    // Without randomness the ids repeat: a feed lost or rolled back may go unnoticed (the
    // trust still runs out when Redis does not answer); nothing else changes.
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The state, even if a thread panicked holding it (every change to it is one assignment).
fn lock(followed: &Mutex<Followed>) -> MutexGuard<'_, Followed> {
    followed.lock().unwrap_or_else(PoisonError::into_inner)
}
