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

use palisade_secrets::{CachePolicy, Cached, SecretRef};
use palisade_secrets_aws::{AwsOptions, AwsSecretsManagerSource, StaticCredentials};
use palisade_test::secrets::cached_hit_against_in_memory;
use palisade_test::{Service, unique_name};
use secrecy::SecretString;

/// A value of realistic length (a DSN-sized string).
const VALUE: &str = "postgresql://app:s3cr3t-passw0rd@db.internal.example.com:5432/app";

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let name = unique_name("palisade/bench");
    let (cache, reference) = runtime.block_on(async {
        let source = AwsSecretsManagerSource::connect(
            AwsOptions::new()
                .region("us-east-1")
                .endpoint(Service::Aws.url())
                .credentials(StaticCredentials::new(
                    "testing",
                    SecretString::from("testing"),
                )),
        )
        .await
        .unwrap();
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
        cache.get(&reference).await.unwrap();
        (cache, reference)
    });
    cached_hit_against_in_memory("palisade-secrets-aws", "AWS", &cache, &reference);
}
