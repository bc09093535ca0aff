//! Revocation across instances of one deployment: each instance follows the deployment's
//! revocation feed in Redis and trusts the generations it remembers only while its last look
//! at the feed began less than a second ago (on its own clock).

use std::sync::Arc;
use std::time::Duration;

use palisade_test::{FakeClock, Service};
use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::common::{
    Started, bind, call, claims, database_name, new_user, secret_file, serve_with_clock,
};

/// A deployment's two instances, each on a fake clock of its own.
async fn two_instances() -> ((Started, Arc<FakeClock>), (Started, Arc<FakeClock>)) {
    let deployment = database_name();
    let key = [(
        "JWT_SECRET",
        secret_file("the deployment's token key, 32 bytes or more"),
    )];
    let mut instances = Vec::new();
    for _ in 0..2 {
        let clock = Arc::new(FakeClock::new());
        let started = serve_with_clock(bind().await, &deployment, &key, clock.clone()).await;
        instances.push((started, clock));
    }
    let second = instances.pop().unwrap();
    (instances.pop().unwrap(), second)
}

async fn status(http: &Client, base: &str, token: &str) -> StatusCode {
    call(http.get(format!("{base}/clients")).bearer_auth(token))
        .await
        .0
}

/// Requests to `base` with `token` until one is refused: the look at the feed that a request
/// starts runs in the background, so the refusal comes a request or a few later. How many
/// requests it took (at most `attempts`).
async fn refused_within(http: &Client, base: &str, token: &str, attempts: usize) -> Option<usize> {
    for attempt in 1..=attempts {
        if status(http, base, token).await == StatusCode::UNAUTHORIZED {
            return Some(attempt);
        }
    }
    None
}

/// Runs `command` on the deployment's Redis, behind the service's back.
async fn redis_command<T: redis::FromRedisValue>(command: &redis::Cmd) -> T {
    let mut redis = redis::Client::open(Service::Redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    command.query_async(&mut redis).await.unwrap()
}

/// Warms `base`'s memory of `token`'s user: a first request reads the generation and starts
/// the first look at the feed; once the look is done, the generation is remembered.
async fn remembered(http: &Client, base: &str, token: &str) {
    for _ in 0..20 {
        assert_eq!(status(http, base, token).await, StatusCode::OK);
    }
}

/// R-AUTH: a password changed on one instance refuses the old token on the other through the
/// feed, before the other's trust in its memory runs out; a fresh token works on both.
#[tokio::test]
async fn a_revocation_reaches_the_other_instance_through_the_feed() {
    let ((first, _), (second, second_clock)) = two_instances().await;
    let http = Client::new();
    let token = new_user(&http, &first.base, "ann").await;
    remembered(&http, &second.base, &token).await;
    change_password(&http, &first.base, &token, "ann").await;
    assert_eq!(
        status(&http, &first.base, &token).await,
        StatusCode::UNAUTHORIZED
    );
    // The second instance, its clock standing still, serves what it remembers.
    assert_eq!(status(&http, &second.base, &token).await, StatusCode::OK);
    // A quarter second on the second instance's clock: its next request looks at the feed,
    // well before the second after which it would stop trusting its memory.
    second_clock.advance(Duration::from_millis(300));
    assert!(
        refused_within(&http, &second.base, &token, 50)
            .await
            .is_some(),
        "the second instance still accepts a revoked token"
    );
    let fresh = &signed_in_again(&http, &second.base, &token, "ann").await;
    assert_eq!(status(&http, &first.base, fresh).await, StatusCode::OK);
    assert_eq!(status(&http, &second.base, fresh).await, StatusCode::OK);
}

/// R-AUTH: an instance whose looks at the feed fail (here: never started again, its clock
/// standing still for the looks but not for the trust) stops trusting its memory after a
/// second: the first request after it reads Redis itself.
#[tokio::test]
async fn without_a_look_for_a_second_every_request_reads_redis() {
    let ((first, _), (second, second_clock)) = two_instances().await;
    let http = Client::new();
    let token = new_user(&http, &first.base, "bob").await;
    remembered(&http, &second.base, &token).await;
    // The revocation recorded where the feed cannot carry it: the generation raised in Redis
    // directly, as a revocation whose feed entry was lost would leave it.
    let user = claims(&token)["user_id"].as_str().unwrap().to_owned();
    let _: i64 =
        redis_command(redis::cmd("INCR").arg(format!("{}:gen:{user}", first.mongo_db))).await;
    // Within the second, the memory is trusted.
    assert_eq!(status(&http, &second.base, &token).await, StatusCode::OK);
    // A second after the last look began, the next request reads Redis itself.
    second_clock.advance(Duration::from_millis(1001));
    assert_eq!(
        status(&http, &second.base, &token).await,
        StatusCode::UNAUTHORIZED
    );
}

/// R-AUTH: when Redis loses the feed (a restart without persistence, a flush), every
/// instance forgets what it remembered at its next look.
#[tokio::test]
async fn a_lost_feed_makes_every_instance_forget() {
    let ((first, _), (second, second_clock)) = two_instances().await;
    let http = Client::new();
    let token = new_user(&http, &first.base, "cy").await;
    remembered(&http, &second.base, &token).await;
    let user = claims(&token)["user_id"].as_str().unwrap().to_owned();
    // The feed gone and the user's generation raised, with no feed entry naming the user.
    let prefix = format!("{}:gen:", first.mongo_db);
    let _: i64 = redis_command(
        redis::cmd("DEL")
            .arg(format!("{prefix}~incarnation"))
            .arg(format!("{prefix}~last"))
            .arg(format!("{prefix}~feed")),
    )
    .await;
    let _: i64 = redis_command(redis::cmd("INCR").arg(format!("{prefix}{user}"))).await;
    second_clock.advance(Duration::from_millis(300));
    assert!(
        refused_within(&http, &second.base, &token, 50)
            .await
            .is_some(),
        "the second instance kept what it remembered from a feed Redis lost"
    );
}

/// Changes the password of the user of `token` (whose password `new_user` chose) on `base`.
async fn change_password(http: &Client, base: &str, token: &str, name: &str) {
    let (status, _) = call(
        http.post(format!("{base}/changePassword"))
            .bearer_auth(token)
            .json(&json!({"old_password": format!("{name}'s long password"), "new_password": format!("{name}'s new long password")})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// A new token for the user of `token` (signed up by `new_user` as `name`), signed in on
/// `base` with the password `change_password` chose.
async fn signed_in_again(http: &Client, base: &str, token: &str, name: &str) -> String {
    let email = claims(token)["email"].as_str().unwrap().to_owned();
    let new_password = format!("{name}'s new long password");
    let (status, body) = call(
        http.post(format!("{base}/signin"))
            .json(&json!({"email": email, "password": new_password})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    body["access_token"].as_str().unwrap().to_owned()
}

/// R-AUTH: a feed rolled back (a failover to a replica that lagged, a restored snapshot) and
/// numbered again up to where an instance had seen it is noticed: the revocation the instance
/// saw last is no longer there under its number, so it forgets everything.
#[tokio::test]
async fn a_feed_rolled_back_and_numbered_again_makes_an_instance_forget() {
    let ((first, _), (second, second_clock)) = two_instances().await;
    let http = Client::new();
    let (dee, eve) = (
        new_user(&http, &first.base, "dee").await,
        new_user(&http, &first.base, "eve").await,
    );
    remembered(&http, &second.base, &dee).await;
    remembered(&http, &second.base, &eve).await;
    // Eve's password change (it revokes twice, before and after the change), seen by the
    // second instance (her token refused there before its trust in its memory could run out).
    let prefix = format!("{}:gen:", first.mongo_db);
    let last_number = || async {
        let last: Option<u64> =
            redis_command(redis::cmd("GET").arg(format!("{prefix}~last"))).await;
        last.unwrap_or(0)
    };
    let before = last_number().await;
    change_password(&http, &first.base, &eve, "eve").await;
    let last = last_number().await;
    second_clock.advance(Duration::from_millis(300));
    assert!(
        refused_within(&http, &second.base, &eve, 50)
            .await
            .is_some()
    );
    // Redis rolled back to before Eve's revocations...
    let eve_id = claims(&eve)["user_id"].as_str().unwrap().to_owned();
    let () = redis_command(redis::cmd("SET").arg(format!("{prefix}~last")).arg(before)).await;
    let _: i64 = redis_command(
        redis::cmd("ZREMRANGEBYSCORE")
            .arg(format!("{prefix}~ids"))
            .arg(format!("({before}"))
            .arg("+inf"),
    )
    .await;
    let _: i64 = redis_command(
        redis::cmd("ZREM")
            .arg(format!("{prefix}~feed"))
            .arg(&eve_id),
    )
    .await;
    // ...then Dee's revocations, numbered as Eve's were.
    change_password(&http, &first.base, &dee, "dee").await;
    assert_eq!(last_number().await, last);
    second_clock.advance(Duration::from_millis(300));
    assert!(
        refused_within(&http, &second.base, &dee, 50)
            .await
            .is_some(),
        "the second instance took a rolled-back feed for the one it had followed"
    );
}

/// R-AUTH: a generation that the instance which revoked it remembers, and Redis lost, is
/// written back, so the tokens issued anywhere afterwards carry it (and are not refused by
/// that instance for carrying the lost one).
#[tokio::test]
async fn a_generation_redis_lost_is_written_back_by_the_instance_that_revoked_it() {
    let ((first, first_clock), (second, _)) = two_instances().await;
    let http = Client::new();
    let token = new_user(&http, &first.base, "fay").await;
    let user = claims(&token)["user_id"].as_str().unwrap().to_owned();
    change_password(&http, &first.base, &token, "fay").await;
    let current = signed_in_again(&http, &first.base, &token, "fay").await;
    let generation = claims(&current)["gen"].as_u64().unwrap();
    assert!(generation > 0);
    // Redis loses the deployment's generations and feed.
    let prefix = format!("{}:gen:", first.mongo_db);
    let mut lost = redis::cmd("DEL");
    lost.arg(format!("{prefix}{user}"));
    for name in ["~incarnation", "~last", "~feed", "~ids", "~trimmed"] {
        lost.arg(format!("{prefix}{name}"));
    }
    let _: i64 = redis_command(&lost).await;
    // The first instance notices at its next look, reads the generation again and writes
    // back the one it revoked; the current token keeps working there meanwhile.
    first_clock.advance(Duration::from_millis(300));
    let mut written_back = false;
    for _ in 0..50 {
        assert_eq!(status(&http, &first.base, &current).await, StatusCode::OK);
        let stored: Option<u64> =
            redis_command(redis::cmd("GET").arg(format!("{prefix}{user}"))).await;
        if stored == Some(generation) {
            written_back = true;
            break;
        }
    }
    assert!(written_back, "the revoked generation was not written back");
    // A token issued by the other instance carries it, and works on both.
    let fresh = signed_in_again(&http, &second.base, &token, "fay").await;
    assert_eq!(claims(&fresh)["gen"].as_u64(), Some(generation));
    assert_eq!(status(&http, &first.base, &fresh).await, StatusCode::OK);
    assert_eq!(status(&http, &second.base, &fresh).await, StatusCode::OK);
}
