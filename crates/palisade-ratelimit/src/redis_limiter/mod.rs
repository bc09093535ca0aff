//! `RedisLimiter`: one limit shared by every instance of an application, decided inside Redis.

use std::fmt::{self, Display};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use palisade_clock::SystemClock;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, ErrorKind, RedisError, ServerErrorKind, Value};

use crate::gcra::Verdict;
use crate::settings::{Configured, Settings};
use crate::{Admitted, InsufficientCapacity, NotUntil};

/// The GCRA script: the same decision as the in-process limiters, made atomically in Redis.
const SCRIPT: &str = include_str!("gcra.lua");

/// What a [`RedisLimiter`] answers when Redis cannot be reached or fails.
///
/// There is no default: each limiter states its choice. Fail closed where letting requests
/// through unlimited is the greater harm (logins, password resets, anything an attacker would
/// brute-force during an outage); fail open where availability matters more than the limit
/// (ordinary API quotas). Either way every outage decision is counted in
/// [`RedisStats::outages`] and logged as a `tracing` warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum OutagePolicy {
    /// Admit the request as if the client had its full quota.
    FailOpen,
    /// Refuse the request, with [`RedisConfig::outage_retry_after`] as its wait.
    FailClosed,
}

/// How a [`RedisLimiter`] names its keys, times out and behaves in an outage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    prefix: String,
    outage: OutagePolicy,
    outage_retry_after: Duration,
    response_timeout: Duration,
}

impl RedisConfig {
    /// The key prefix unless told otherwise.
    pub const DEFAULT_PREFIX: &'static str = "palisade:rl";
    /// How long a fail-closed refusal asks the client to wait.
    pub const DEFAULT_OUTAGE_RETRY_AFTER: Duration = Duration::from_secs(1);
    /// How long a decision waits for Redis before it counts as an outage.
    pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_millis(250);

    /// The defaults, with the outage policy stated.
    #[must_use]
    pub fn new(outage: OutagePolicy) -> Self {
        Self {
            prefix: Self::DEFAULT_PREFIX.to_owned(),
            outage,
            outage_retry_after: Self::DEFAULT_OUTAGE_RETRY_AFTER,
            response_timeout: Self::DEFAULT_RESPONSE_TIMEOUT,
        }
    }

    /// Keys are `{PREFIX:CLIENT}:LIMIT`: limiters with the same prefix and the same limit share
    /// state, and one client's keys share a Redis Cluster hash slot.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The wait a fail-closed refusal reports.
    #[must_use]
    pub const fn with_outage_retry_after(mut self, wait: Duration) -> Self {
        self.outage_retry_after = wait;
        self
    }

    /// How long a decision waits for Redis.
    #[must_use]
    pub const fn with_response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// The outage policy.
    #[must_use]
    pub const fn outage(&self) -> OutagePolicy {
        self.outage
    }

    /// The wait a fail-closed refusal reports.
    #[must_use]
    pub const fn outage_retry_after(&self) -> Duration {
        self.outage_retry_after
    }
}

/// Counters of a [`RedisLimiter`], for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RedisStats {
    /// Decisions Redis made.
    pub decisions: u64,
    /// Decisions made by the outage policy because Redis failed.
    pub outages: u64,
    /// Times the script was missing from Redis (after a restart or `SCRIPT FLUSH`) and was
    /// sent whole.
    pub script_reloads: u64,
}

/// The rate limiter could not connect to Redis. Names what went wrong, never the URL (which
/// may hold a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot connect the rate limiter to Redis: {reason}")]
pub struct RedisConnectError {
    reason: &'static str,
}

/// A limit shared by many application instances: the GCRA decision is made atomically inside
/// Redis by one Lua script (one round trip, `EVALSHA`, with the whole script sent after a
/// `NOSCRIPT`), on Redis's clock, so instances with skewed clocks agree. Each key expires when
/// its limit has refilled, so Redis holds state only for clients that are being limited.
///
/// ```no_run
/// use palisade_ratelimit::{ClientKey, OutagePolicy, RedisConfig, RedisLimiter, Settings};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let settings = Settings::new("5/minute; 100/hour".parse()?);
/// let config = RedisConfig::new(OutagePolicy::FailClosed);
/// let limiter = RedisLimiter::connect("redis://127.0.0.1:6379", &settings, config).await?;
/// let verdict = limiter.check_key(&ClientKey::user("alice")).await;
/// let retry_after = verdict.err().map(|refused| refused.wait());
/// # Ok(()) }
/// ```
pub struct RedisLimiter {
    connection: ConnectionManager,
    configured: Configured,
    config: RedisConfig,
    hash: String,
    arguments: Vec<String>,
    decisions: AtomicU64,
    outages: AtomicU64,
    script_reloads: AtomicU64,
}

impl RedisLimiter {
    /// Connects to Redis at `url` (reconnecting by itself after an outage).
    ///
    /// # Errors
    /// [`RedisConnectError`] when the URL is malformed or nothing answers there.
    pub async fn connect(
        url: &str,
        settings: &Settings,
        config: RedisConfig,
    ) -> Result<Self, RedisConnectError> {
        let client = redis::Client::open(url).map_err(|_| RedisConnectError {
            reason: "the URL is not a Redis URL",
        })?;
        let manager_config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(config.response_timeout))
            .set_connection_timeout(Some(config.response_timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(200));
        let connection = ConnectionManager::new_with_config(client, manager_config)
            .await
            .map_err(|e| RedisConnectError {
                reason: describe(&e),
            })?;
        Ok(Self::from_connection(connection, settings, config))
    }

    /// A limiter on a connection the application already has.
    #[must_use]
    pub fn from_connection(
        connection: ConnectionManager,
        settings: &Settings,
        config: RedisConfig,
    ) -> Self {
        let configured = Configured::new(settings);
        Self {
            connection,
            arguments: configured.rules.script_arguments(),
            configured,
            config,
            hash: redis::Script::new(SCRIPT).get_hash().to_owned(),
            decisions: AtomicU64::new(0),
            outages: AtomicU64::new(0),
            script_reloads: AtomicU64::new(0),
        }
    }

    /// Decides one request from `key` (its `Display` form names it in Redis).
    ///
    /// # Errors
    /// [`NotUntil`] when a limit is spent for now (nothing was counted), or when Redis failed
    /// and the policy is [`OutagePolicy::FailClosed`].
    pub async fn check_key(&self, key: &impl Display) -> Result<Admitted, NotUntil> {
        self.decide(key, NonZeroU32::MIN).await
    }

    /// Decides `n` requests from `key` at once: all of them or none.
    ///
    /// # Errors
    /// The outer [`InsufficientCapacity`] when `n` exceeds a limit's burst; the inner
    /// [`NotUntil`] as for [`check_key`](Self::check_key).
    pub async fn check_key_n(
        &self,
        key: &impl Display,
        n: NonZeroU32,
    ) -> Result<Result<Admitted, NotUntil>, InsufficientCapacity> {
        self.configured.rules.capacity_for(n)?;
        Ok(self.decide(key, n).await)
    }

    /// Decides one request from each of `keys` in one round trip (a pipeline), in order.
    pub async fn check_keys<K: Display>(&self, keys: &[K]) -> Vec<Result<Admitted, NotUntil>> {
        if let Some(admitted) = self.configured.bypass() {
            return keys.iter().map(|_| Ok(admitted)).collect();
        }
        let mut pipeline = redis::pipe();
        for key in keys {
            pipeline.add_command(self.invocation("EVALSHA", &self.hash, key, NonZeroU32::MIN));
        }
        let replies: Vec<redis::RedisResult<Value>> = match pipeline
            .ignore_errors()
            .query_async(&mut self.connection.clone())
            .await
        {
            Ok(replies) => replies,
            Err(e) => return keys.iter().map(|_| self.outage(&e)).collect(),
        };
        let mut results = Vec::with_capacity(keys.len());
        for (key, reply) in keys.iter().zip(replies) {
            let reply = match reply {
                Err(e) if is_noscript(&e) => self.eval(key, NonZeroU32::MIN).await,
                other => other,
            };
            results.push(self.conclude(reply));
        }
        results
    }

    async fn decide(&self, key: &impl Display, n: NonZeroU32) -> Result<Admitted, NotUntil> {
        if let Some(admitted) = self.configured.bypass() {
            return Ok(admitted);
        }
        let reply = self
            .invocation("EVALSHA", &self.hash, key, n)
            .query_async(&mut self.connection.clone())
            .await;
        let reply = match reply {
            Err(e) if is_noscript(&e) => self.eval(key, n).await,
            other => other,
        };
        self.conclude(reply)
    }

    /// Sends the whole script (after `NOSCRIPT`); Redis caches it again for `EVALSHA`.
    async fn eval(&self, key: &impl Display, n: NonZeroU32) -> redis::RedisResult<Value> {
        self.script_reloads.fetch_add(1, Ordering::Relaxed);
        self.invocation("EVAL", SCRIPT, key, n)
            .query_async(&mut self.connection.clone())
            .await
    }

    /// `EVALSHA hash` or `EVAL script`, with one key per limit and the script's arguments.
    fn invocation(&self, command: &str, script: &str, key: &impl Display, n: NonZeroU32) -> Cmd {
        let mut cmd = redis::cmd(command);
        cmd.arg(script).arg(self.configured.rules.width());
        for limit in self.configured.rules.limits() {
            cmd.arg(format!("{{{}:{key}}}:{limit}", self.config.prefix));
        }
        cmd.arg(n.get()).arg(&self.arguments);
        cmd
    }

    fn conclude(&self, reply: redis::RedisResult<Value>) -> Result<Admitted, NotUntil> {
        let verdict = reply.and_then(|value| {
            let numbers: Vec<i64> = redis::from_redis_value(value)?;
            self.configured
                .rules
                .verdict_from_reply(&numbers)
                .ok_or_else(|| {
                    RedisError::from((
                        ErrorKind::Parse,
                        "the rate-limit script replied in an unknown shape",
                    ))
                })
        });
        match verdict {
            Ok(verdict) => {
                self.decisions.fetch_add(1, Ordering::Relaxed);
                verdict.into_result(&SystemClock)
            }
            Err(e) => self.outage(&e),
        }
    }

    fn outage(&self, error: &RedisError) -> Result<Admitted, NotUntil> {
        self.outages.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            target: "palisade_ratelimit",
            cause = describe(error),
            policy = ?self.config.outage,
            "Redis rate limiter could not decide; applying the outage policy"
        );
        match self.config.outage {
            OutagePolicy::FailOpen => Ok(self.configured.rules.fresh()),
            OutagePolicy::FailClosed => {
                let wait = crate::gcra::nanos(self.config.outage_retry_after);
                let limit = self.configured.rules.fresh().limit();
                Verdict::NotUntil { wait, limit }.into_result(&SystemClock)
            }
        }
    }

    /// The counters.
    #[must_use]
    pub fn stats(&self) -> RedisStats {
        RedisStats {
            decisions: self.decisions.load(Ordering::Relaxed),
            outages: self.outages.load(Ordering::Relaxed),
            script_reloads: self.script_reloads.load(Ordering::Relaxed),
        }
    }

    /// The settings this limiter was made with.
    #[must_use]
    pub const fn settings(&self) -> &Settings {
        &self.configured.settings
    }
}

fn is_noscript(error: &RedisError) -> bool {
    error.kind() == ErrorKind::Server(ServerErrorKind::NoScript)
}

/// What went wrong, in words that never quote the server's reply or the URL.
fn describe(error: &RedisError) -> &'static str {
    if error.is_timeout() {
        "Redis did not answer in time"
    } else if error.is_connection_refusal() {
        "Redis refused the connection"
    } else if error.is_connection_dropped() || error.is_io_error() {
        "the connection to Redis failed"
    } else if error.kind() == ErrorKind::Parse {
        "Redis replied in an unexpected shape"
    } else {
        "Redis returned an error"
    }
}

impl fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.configured
            .debug("RedisLimiter", f)
            .field("prefix", &self.config.prefix)
            .field("outage", &self.config.outage)
            .finish_non_exhaustive()
    }
}
