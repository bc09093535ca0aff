//! `RedisLimiter` against Redis's real server: the shared Redis from `cargo xtask services up`,
//! and for the outage tests a private `redis-server` this test starts, kills and restarts.
#![cfg(feature = "redis")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_ratelimit::{
    ClientKey, OutagePolicy, RedisConfig, RedisLimiter, RedisStats, Settings,
};
use palisade_test::{Canary, Service, unique_name};

/// A prefix no other test (or earlier run) uses.
fn prefix(test: &str) -> String {
    unique_name(&format!("test:{test}"))
}

async fn limiter(test: &str, spec: &str, outage: OutagePolicy) -> RedisLimiter {
    limiter_with_prefix(&prefix(test), spec, outage).await
}

async fn limiter_with_prefix(prefix: &str, spec: &str, outage: OutagePolicy) -> RedisLimiter {
    let config = RedisConfig::new(outage).with_prefix(prefix);
    RedisLimiter::connect(
        &Service::Redis.url(),
        &Settings::new(spec.parse().unwrap()),
        config,
    )
    .await
    .unwrap()
}

async fn raw_connection(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_burst_passes_then_the_wait_is_the_refill_interval() {
    let limiter = limiter("burst", "3/minute", OutagePolicy::FailClosed).await;
    let alice = ClientKey::user("alice");
    for left in (0..3).rev() {
        assert_eq!(limiter.check_key(&alice).await.unwrap().remaining(), left);
    }
    let refused = limiter.check_key(&alice).await.unwrap_err();
    assert_eq!(refused.limit().to_string(), "3/minute");
    assert!(
        refused.wait() > Duration::from_secs(19) && refused.wait() <= Duration::from_secs(20),
        "{refused:?}"
    );
    assert!(limiter.check_key(&ClientKey::user("bob")).await.is_ok());
    let stats = limiter.stats();
    assert_eq!((stats.decisions, stats.outages), (5, 0));
}

#[tokio::test]
async fn a_refusal_by_one_limit_writes_nothing_to_the_others() {
    let test_prefix = prefix("all-or-nothing");
    let limiter = limiter_with_prefix(
        &test_prefix,
        "10/second; 2/minute",
        OutagePolicy::FailClosed,
    )
    .await;
    let key = ClientKey::user("carol");
    limiter.check_key(&key).await.unwrap();
    limiter.check_key(&key).await.unwrap();
    let per_second = format!("{{{test_prefix}:user:carol}}:10/second");
    let mut redis = raw_connection(&Service::Redis.url()).await;
    let before: Option<String> = redis::cmd("GET")
        .arg(&per_second)
        .query_async(&mut redis)
        .await
        .unwrap();
    let refused = limiter.check_key(&key).await.unwrap_err();
    assert_eq!(refused.limit().to_string(), "2/minute");
    let after: Option<String> = redis::cmd("GET")
        .arg(&per_second)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(before.is_some());
    assert_eq!(before, after, "the per-second limit was not charged");
}

#[tokio::test]
async fn keys_expire_once_their_limit_has_refilled() {
    let test_prefix = prefix("ttl");
    let limiter = limiter_with_prefix(&test_prefix, "2/second", OutagePolicy::FailClosed).await;
    limiter.check_key(&ClientKey::user("dave")).await.unwrap();
    let mut redis = raw_connection(&Service::Redis.url()).await;
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{{{test_prefix}:user:dave}}:2/second"))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 500, "PTTL {ttl} ms");
}

#[tokio::test]
async fn two_instances_sharing_a_key_never_admit_more_than_the_quota() {
    let test_prefix = prefix("shared");
    let settings = Settings::new("100/hour".parse().unwrap());
    let url = Service::Redis.url();
    let mut instances = Vec::new();
    for _ in 0..2 {
        let config = RedisConfig::new(OutagePolicy::FailClosed).with_prefix(test_prefix.clone());
        instances.push(Arc::new(
            RedisLimiter::connect(&url, &settings, config)
                .await
                .unwrap(),
        ));
    }
    let tasks: Vec<_> = instances
        .iter()
        .map(|limiter| {
            let limiter = Arc::clone(limiter);
            tokio::spawn(async move {
                let key = ClientKey::user("shared");
                let mut admitted = 0;
                for _ in 0..300 {
                    if limiter.check_key(&key).await.is_ok() {
                        admitted += 1;
                    }
                }
                admitted
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    assert_eq!(total, 100);
    assert!(instances.iter().all(|l| l.stats().outages == 0));
}

#[tokio::test]
async fn the_script_survives_script_flush() {
    let limiter = limiter("flush", "2/minute", OutagePolicy::FailClosed).await;
    let key = ClientKey::user("erin");
    limiter.check_key(&key).await.unwrap();
    let mut redis = raw_connection(&Service::Redis.url()).await;
    let () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut redis)
        .await
        .unwrap();
    let reloads = limiter.stats().script_reloads;
    assert_eq!(limiter.check_key(&key).await.unwrap().remaining(), 0);
    assert!(
        limiter.check_key(&key).await.is_err(),
        "the state outlived the flush"
    );
    let stats = limiter.stats();
    assert!(stats.script_reloads > reloads, "{stats:?}");
    assert_eq!(stats.outages, 0);
}

#[tokio::test]
async fn a_pipeline_decides_many_keys_in_one_round_trip() {
    let limiter = limiter("pipeline", "1/minute", OutagePolicy::FailClosed).await;
    let keys: Vec<ClientKey> = (0..200).map(|i| ClientKey::user(format!("u{i}"))).collect();
    let first = limiter.check_keys(&keys).await;
    assert_eq!(first.len(), 200);
    assert!(first.iter().all(Result::is_ok));
    let second = limiter.check_keys(&keys).await;
    assert!(second.iter().all(Result::is_err));
    // Duplicates inside one batch are decided in order.
    let same = vec![ClientKey::user("twice"); 2];
    let both = limiter.check_keys(&same).await;
    assert!(both[0].is_ok() && both[1].is_err());
    assert_eq!(limiter.stats().decisions, 402);
}

#[tokio::test]
async fn batches_larger_than_the_burst_never_reach_redis() {
    let limiter = limiter("capacity", "3/minute", OutagePolicy::FailClosed).await;
    let key = ClientKey::user("frank");
    let never = limiter
        .check_key_n(&key, std::num::NonZeroU32::new(4).unwrap())
        .await
        .unwrap_err();
    assert_eq!(never.limit().count().get(), 3);
    assert_eq!(limiter.stats().decisions, 0);
    let three = limiter
        .check_key_n(&key, std::num::NonZeroU32::new(3).unwrap())
        .await;
    assert_eq!(three.unwrap().unwrap().remaining(), 0);
}

#[tokio::test]
async fn a_disabled_limiter_never_asks_redis_and_says_so() {
    let config = RedisConfig::new(OutagePolicy::FailOpen).with_prefix("p");
    let settings =
        Settings::new("1/hour".parse().unwrap()).with_mode(palisade_ratelimit::Mode::Disabled);
    let limiter = RedisLimiter::connect(&Service::Redis.url(), &settings, config)
        .await
        .unwrap();
    for _ in 0..10 {
        assert!(limiter.check_key(&ClientKey::user("g")).await.is_ok());
    }
    assert_eq!(limiter.stats(), RedisStats::default());
    assert_eq!(
        format!("{limiter:?}"),
        r#"RedisLimiter { spec: 1/hour, mode: Disabled, prefix: "p", outage: FailOpen, .. }"#
    );
}

#[tokio::test]
async fn a_connection_error_never_quotes_the_url() {
    let canary = Canary::new();
    let port = free_port();
    let url = format!("redis://user:{}@127.0.0.1:{port}/", canary.value());
    let settings = Settings::new("1/hour".parse().unwrap());
    let err = RedisLimiter::connect(&url, &settings, RedisConfig::new(OutagePolicy::FailClosed))
        .await
        .unwrap_err();
    canary.assert_not_in_error(&err);
    canary.assert_not_in_debug(&err);
    assert_eq!(
        err.to_string(),
        "cannot connect the rate limiter to Redis: Redis refused the connection"
    );
    let bad = RedisLimiter::connect(
        "http://nope",
        &settings,
        RedisConfig::new(OutagePolicy::FailClosed),
    )
    .await
    .unwrap_err();
    assert_eq!(
        bad.to_string(),
        "cannot connect the rate limiter to Redis: the URL is not a Redis URL"
    );
}

/// A private `redis-server` on a free port, so the test can stop and restart it.
struct PrivateRedis {
    port: u16,
    child: Child,
}

impl PrivateRedis {
    fn start(port: u16) -> Self {
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (Debian's redis-server; `cargo xtask services up` installs it)");
        // Wait for the line Redis prints once it accepts connections.
        let stdout = child.stdout.take().unwrap();
        let ready = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.contains("Ready to accept connections"));
        assert!(
            ready,
            "redis-server on port {port} exited before it was ready"
        );
        Self { port, child }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn stop(mut self) -> u16 {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.port
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Decides until Redis makes a decision again (the connection manager reconnects by itself),
/// giving up after ten seconds.
async fn until_redis_decides(limiter: &RedisLimiter, key: &ClientKey) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let decided = limiter.stats().decisions;
    while limiter.stats().decisions == decided {
        assert!(
            Instant::now() < deadline,
            "Redis never came back: {:?}",
            limiter.stats()
        );
        let _ = limiter.check_key(key).await;
        tokio::task::yield_now().await;
    }
}

async fn restart_follows_the_policy(outage: OutagePolicy) {
    let server = PrivateRedis::start(free_port());
    let settings = Settings::new("2/hour".parse().unwrap());
    let config = RedisConfig::new(outage).with_outage_retry_after(Duration::from_secs(5));
    let limiter = RedisLimiter::connect(&server.url(), &settings, config)
        .await
        .unwrap();
    let key = ClientKey::user("outage");
    assert!(limiter.check_key(&key).await.is_ok());
    let port = server.stop();

    let during = limiter.check_key(&key).await;
    match outage {
        OutagePolicy::FailOpen => assert_eq!(during.unwrap().remaining(), 2),
        OutagePolicy::FailClosed => {
            assert_eq!(during.unwrap_err().wait(), Duration::from_secs(5));
        }
    }
    assert!(limiter.stats().outages >= 1);

    // The restarted server has lost its state (no persistence): the client starts afresh.
    let _server = PrivateRedis::start(port);
    until_redis_decides(&limiter, &key).await;
    let stats = limiter.stats();
    assert_eq!(stats.decisions, 2, "{stats:?}");
    assert!(limiter.check_key(&key).await.is_ok());
    assert!(
        limiter.check_key(&key).await.is_err(),
        "limited again once Redis is back"
    );
}

#[tokio::test]
async fn a_redis_restart_fails_closed_when_told_to() {
    restart_follows_the_policy(OutagePolicy::FailClosed).await;
}

#[tokio::test]
async fn a_redis_restart_fails_open_when_told_to() {
    restart_follows_the_policy(OutagePolicy::FailOpen).await;
}
