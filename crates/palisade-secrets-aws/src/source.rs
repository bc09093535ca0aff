//! `AwsSecretsManagerSource`: `aws-sm:` references read with the AWS SDK.

use std::fmt;

use aws_sdk_secretsmanager::Client;
use palisade_secrets::{
    Fetch, Metadata, ReferenceScheme, SecretError, SecretRef, SecretSource, SecretValue,
    select_field,
};

use crate::errors;
use crate::locator::{self, Version};
use crate::options::{AwsConfigError, AwsOptions};

/// Reads `aws-sm:` references from AWS Secrets Manager: `aws-sm:NAME` (the current version),
/// `aws-sm:NAME@STAGE` (a staging label such as `AWSPREVIOUS`), `aws-sm:NAME@VERSION_ID`, each
/// with an optional `#field` of a JSON secret. String secrets are read as text, binary ones as
/// bytes; the version id is the value's [`Metadata::version`], so a cache sees a rotation.
///
/// ```no_run
/// use palisade_secrets::{CachePolicy, Cached, SecretRef};
/// use palisade_secrets_aws::{AwsOptions, AwsSecretsManagerSource};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let source = AwsSecretsManagerSource::connect(AwsOptions::new().region("eu-west-1")).await?;
/// let cache = Cached::new(source, CachePolicy::DEFAULT);
/// let dsn = cache.get(&"aws-sm:prod/db#dsn".parse::<SecretRef>()?).await?;
/// # Ok(()) }
/// ```
pub struct AwsSecretsManagerSource {
    client: Client,
    region: Option<String>,
    endpoint: Option<String>,
}

impl AwsSecretsManagerSource {
    /// A source configured by `options` and the standard chain. Nothing is sent to Secrets
    /// Manager until the first fetch.
    ///
    /// # Errors
    /// [`AwsConfigError`] when the endpoint is not usable or no region is configured
    /// anywhere (options, `AWS_REGION`, the profile).
    pub async fn connect(options: AwsOptions) -> Result<Self, AwsConfigError> {
        let (config, region) = crate::options::load_config(&options).await?;
        Ok(Self {
            client: Client::new(&config),
            region: Some(region),
            endpoint: options.endpoint,
        })
    }

    async fn read(&self, reference: &SecretRef) -> Result<SecretValue, SecretError> {
        if reference.scheme() != &ReferenceScheme::AwsSecretsManager {
            return Err(SecretError::SchemeUnsupported {
                reference: reference.clone(),
            });
        }
        let (name, version) = locator::split(reference.locator());
        let request = self.client.get_secret_value().secret_id(name);
        let request = match version {
            Version::Stage(stage) => request.version_stage(stage),
            Version::Id(id) => request.version_id(id),
        };
        let output = request
            .send()
            .await
            .map_err(|e| errors::map(e, reference))?;
        let metadata = output
            .version_id()
            .map(Metadata::with_version)
            .unwrap_or_default();
        let value = match (output.secret_string, output.secret_binary) {
            (Some(text), _) => SecretValue::from_string(text),
            (None, Some(blob)) => SecretValue::from_bytes(blob.into_inner()),
            (None, None) => {
                return Err(SecretError::NotFound {
                    reference: reference.clone(),
                });
            }
        };
        select_field(value.with_metadata(metadata), reference)
    }
}

impl SecretSource for AwsSecretsManagerSource {
    fn fetch<'a>(&'a self, reference: &'a SecretRef) -> Fetch<'a> {
        Fetch::new(self.read(reference))
    }
}

impl fmt::Debug for AwsSecretsManagerSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsSecretsManagerSource")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}
