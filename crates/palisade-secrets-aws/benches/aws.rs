//! palisade-secrets-aws benchmark, against a peer in the same run:
//! - a cached hit on an AWS-backed secret (warmed from moto) vs a cached hit on an in-memory
//!   source holding the same value and version id (target: <= 1.1x: the backend is off the
//!   hot path).
//!
//! Needs moto from `cargo xtask services up`.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a benchmark that cannot set up fails loudly"
)]

use palisade_secrets::{CachePolicy, Cached, Fetch, SecretRef, SecretSource, SecretValue};
use palisade_secrets_aws::{AwsOptions, AwsSecretsManagerSource, StaticCredentials};
use palisade_test::bench::{Row, keep, report, time_pair};
use palisade_test::{Service, ready_now, unique_name};
use secrecy::SecretString;

const KRATE: &str = "palisade-secrets-aws";
/// A value of realistic length (a DSN-sized string).
const VALUE: &str = "postgresql://app:s3cr3t-passw0rd@db.internal.example.com:5432/app";

/// The peer: a source that hands out one value it holds in memory.
#[derive(Debug)]
struct InMemory(SecretValue);

impl SecretSource for InMemory {
    fn fetch<'a>(&'a self, _reference: &'a SecretRef) -> Fetch<'a> {
        Fetch::ready(Ok(self.0.clone()))
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let name = unique_name("palisade/bench");
    let aws = runtime.block_on(async {
        let source = AwsSecretsManagerSource::connect(
            AwsOptions::new()
                .region("us-east-1")
                .endpoint(Service::Aws.url())
                .credentials(StaticCredentials::new(
                    "testing",
                    SecretString::from("testing"),
                )),
        )
        .await;
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
            .endpoint_url(Service::Aws.url())
            .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
                "testing", "testing", None, None, "bench",
            ))
            .load()
            .await;
        aws_sdk_secretsmanager::Client::new(&config)
            .create_secret()
            .name(&name)
            .secret_string(VALUE)
            .send()
            .await
            .unwrap();
        let cache = Cached::new(source, CachePolicy::DEFAULT);
        let reference: SecretRef = format!("aws-sm:{name}").parse().unwrap();
        let version = cache
            .get(&reference)
            .await
            .unwrap()
            .into_value()
            .metadata()
            .clone();
        (cache, reference, version)
    });
    let (cache, reference, version) = &aws;
    let memory = Cached::new(
        InMemory(SecretValue::from_string(VALUE.to_owned()).with_metadata(version.clone())),
        CachePolicy::DEFAULT,
    );
    // The same reference text, so lookups compare the same bytes.
    ready_now(memory.get(reference)).unwrap();

    let (ours, peer) = time_pair(
        || {
            keep(ready_now(cache.get(keep(reference))).unwrap());
        },
        || {
            keep(ready_now(memory.get(keep(reference))).unwrap());
        },
    );
    report(&Row {
        krate: KRATE,
        name: "Cached::get hit, AWS-backed".into(),
        figure: ours,
        unit: "ns/op",
        peer: "Cached::get hit, in-memory source, same value and version".into(),
        peer_figure: Some(peer),
        target: "<= 1.1x".into(),
        met: ours <= 1.1 * peer,
    });
}
