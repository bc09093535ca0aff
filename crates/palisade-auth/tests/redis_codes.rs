//! One-time codes in the real Redis of `cargo xtask services up`: single use across
//! connections (1,000 concurrent redeemers, one winner), digests only in Redis, the expiry
//! set on the key, and a Redis outage that is an error, never a redemption (R-WEB-3).
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

use std::sync::Arc;
use std::time::Duration;

use palisade_auth::{OneTimeCodes, RedeemError, RedisCodes};
use palisade_test::Service;
use sha2::{Digest as _, Sha256};

async fn connection() -> redis::aio::ConnectionManager {
    redis::Client::open(Service::Redis.url())
        .unwrap()
        .get_connection_manager()
        .await
        .unwrap()
}

fn prefix(test: &str) -> String {
    format!("palisade-test:{test}:{}:", std::process::id())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_redeemers_on_several_connections_have_one_winner() {
    let prefix = prefix("race");
    // Eight stores on eight connections, as eight service instances would have.
    let mut instances = Vec::new();
    for index in 0..8 {
        let store = RedisCodes::new(connection().await, &prefix);
        // Half of them take with the Lua script servers before 6.2 need.
        let store = if index % 2 == 0 {
            store
        } else {
            store.with_script_take()
        };
        instances.push(Arc::new(OneTimeCodes::new(store)));
    }
    for round in 0..3 {
        let code = instances[0].issue(b"session:u-9", None).await.unwrap();
        let redeemers: Vec<_> = (0..1_000)
            .map(|index| {
                let codes = Arc::clone(&instances[index % instances.len()]);
                let code = code.expose().to_owned();
                tokio::spawn(async move { codes.redeem(&code, None).await })
            })
            .collect();
        let (mut winners, mut refused) = (0, 0);
        for redeemer in redeemers {
            match redeemer.await.unwrap() {
                Ok(payload) => {
                    assert_eq!(payload.expose_bytes(), b"session:u-9");
                    winners += 1;
                }
                Err(RedeemError::Refused) => refused += 1,
                Err(other) => panic!("round {round}: {other}"),
            }
        }
        assert_eq!((winners, refused), (1, 999), "round {round}");
    }
}

#[tokio::test]
async fn redis_holds_the_digest_with_its_expiry_never_the_code() {
    let prefix = prefix("digest");
    let codes = OneTimeCodes::new(RedisCodes::new(connection().await, &prefix))
        .lifetime(Duration::from_secs(120))
        .unwrap();
    let code = codes.issue(b"reset:u-3", None).await.unwrap();
    let mut redis = connection().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut redis)
        .await
        .unwrap();
    let digest: String = Sha256::digest(code.expose().as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    assert_eq!(keys, vec![format!("{prefix}{digest}")]);
    let record: Vec<u8> = redis::cmd("GET")
        .arg(&keys[0])
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&record).contains(code.expose()));
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&keys[0])
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!((110_000..=120_000).contains(&ttl), "PTTL {ttl}");
    assert!(codes.redeem(code.expose(), None).await.is_ok());
    let left: i64 = redis::cmd("EXISTS")
        .arg(&keys[0])
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(left, 0, "a redeemed code's record is gone");
}

#[tokio::test]
async fn a_failing_redis_command_is_an_error_not_a_redemption() {
    let prefix = prefix("failing");
    let code = "A".repeat(43);
    let digest: String = Sha256::digest(code.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    // A key of another type where the code's record would be: GETDEL answers WRONGTYPE.
    let mut redis = connection().await;
    let () = redis::cmd("HSET")
        .arg(format!("{prefix}{digest}"))
        .arg("field")
        .arg("secret payload")
        .query_async(&mut redis)
        .await
        .unwrap();
    let codes = OneTimeCodes::new(RedisCodes::new(connection().await, &prefix));
    let outcome = codes.redeem(&code, None).await;
    let Err(RedeemError::Unavailable(error)) = outcome else {
        panic!("a failing store redeemed or refused: {outcome:?}");
    };
    let shown = error.to_string();
    assert!(
        !shown.contains(&digest) && !shown.contains("secret payload") && !shown.contains(&code),
        "{shown}"
    );
    let () = redis::cmd("DEL")
        .arg(format!("{prefix}{digest}"))
        .query_async(&mut redis)
        .await
        .unwrap();
}
