//! palisade-secrets-aws against AWS's own Rust caching client (`aws_secretsmanager_caching`
//! 2.1.0), both warmed from moto with the same secret:
//! - a hit through `Cached::get_with` (the value used in place) vs a hit on
//!   `SecretsManagerCachingClient` (target: ours at least 10x cheaper, the target);
//! - a hit through `Cached::get` (a handle taken: one atomic reference count and its release,
//!   which alone cost about 20 ns here) vs the same peer (target: at least 5x cheaper).
//!
//! Needs moto from `cargo xtask services up`.
#![allow(clippy::unwrap_used, reason = "a benchmark that cannot set up fails loudly")]

use std::num::NonZeroUsize;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_secretsmanager::config::{Credentials, Region};
use aws_secretsmanager_caching::SecretsManagerCachingClient;
use palisade_secrets::{CachePolicy, Cached, SecretRef};
use palisade_secrets_aws::{AwsOptions, AwsSecretsManagerSource, StaticCredentials};
use palisade_test::bench::{Row, keep, report, time_pair};
use palisade_test::{Service, ready_now, unique_name};

/// A value of realistic length (a DSN-sized string).
const VALUE: &str = "postgresql://app:s3cr3t-passw0rd@db.internal.example.com:5432/app";
const TTL: Duration = Duration::from_secs(300);

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let name = unique_name("palisade/peer-bench");
    let (ours, peer, reference) = runtime.block_on(async {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(Service::Aws.url())
            .credentials_provider(Credentials::new("testing", "testing", None, None, "bench"))
            .load()
            .await;
        aws_sdk_secretsmanager::Client::new(&config)
            .create_secret()
            .name(&name)
            .secret_string(VALUE)
            .send()
            .await
            .unwrap();
        let source = AwsSecretsManagerSource::connect(
            AwsOptions::new()
                .region("us-east-1")
                .endpoint(Service::Aws.url())
                .credentials(StaticCredentials::new("testing", "testing".into())),
        )
        .await
        .unwrap();
        let ours = Cached::new(source, CachePolicy::new(TTL).unwrap());
        let reference: SecretRef = format!("aws-sm:{name}").parse().unwrap();
        ours.get(&reference).await.unwrap();
        let peer = SecretsManagerCachingClient::from_builder(
            aws_sdk_secretsmanager::config::Builder::from(&config),
            NonZeroUsize::new(1024).unwrap(),
            TTL,
            false,
        )
        .await
        .unwrap();
        let warm = peer.get_secret_value(&name, None, None, false).await.unwrap();
        assert_eq!(warm.secret_string.as_deref(), Some(VALUE));
        (ours, peer, reference)
    });
    let peer_hit = || {
        let value = ready_now(peer.get_secret_value(keep(&name), None, None, false)).unwrap();
        keep(value.secret_string.map(|s| s.len()));
    };
    // Using the value in place, as the peer's caller uses its copy.
    let (with_ns, peer_ns) = time_pair(
        || {
            let length = ready_now(ours.get_with(keep(&reference), |value, _| value.len()));
            keep(length.unwrap());
        },
        peer_hit,
    );
    report(&Row {
        krate: "palisade-secrets-aws",
        name: "Cached::get_with hit, AWS-backed".into(),
        figure: with_ns,
        unit: "ns/op",
        peer: "aws_secretsmanager_caching 2.1.0 hit".into(),
        peer_figure: Some(peer_ns),
        target: "<= 0.1x (10x cheaper)".into(),
        met: with_ns * 10.0 <= peer_ns,
    });
    // Taking a handle (one reference count), the general API.
    let (get_ns, peer_ns) = time_pair(
        || {
            let secret = ready_now(ours.get(keep(&reference))).unwrap();
            keep(secret.value().len());
        },
        peer_hit,
    );
    report(&Row {
        krate: "palisade-secrets-aws",
        name: "Cached::get hit, AWS-backed".into(),
        figure: get_ns,
        unit: "ns/op",
        peer: "aws_secretsmanager_caching 2.1.0 hit".into(),
        peer_figure: Some(peer_ns),
        target: "<= 0.2x (5x cheaper)".into(),
        met: get_ns * 5.0 <= peer_ns,
    });
}
