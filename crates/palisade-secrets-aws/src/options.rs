//! `AwsOptions`: where Secrets Manager is, which credentials, how long a request may take.

use std::fmt;
use std::time::Duration;

use palisade_secrets::BACKEND_TIMEOUT;
use secrecy::SecretString;

/// Static credentials: an access key id and its secret (for emulators and tests; production
/// uses the standard chain).
pub struct StaticCredentials {
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: SecretString,
}

impl StaticCredentials {
    /// An access key id and its secret.
    #[must_use]
    pub fn new(access_key_id: impl Into<String>, secret_access_key: SecretString) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key,
        }
    }
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Unlike aws-credential-types, not even the access key id is printed.
        f.debug_struct("StaticCredentials").finish_non_exhaustive()
    }
}

/// Where and how to reach Secrets Manager. Anything left unset comes from the standard AWS
/// configuration chain (environment, profile files, SSO, container and instance metadata).
///
/// Each request may take [`BACKEND_TIMEOUT`] unless [`timeout`](Self::timeout) says
/// otherwise, and is not retried by the SDK (a [`Cached`](palisade_secrets::Cached) source
/// rides out an outage with its stale value).
#[derive(Debug)]
pub struct AwsOptions {
    pub(crate) region: Option<String>,
    pub(crate) endpoint: Option<String>,
    pub(crate) credentials: Option<StaticCredentials>,
    pub(crate) timeout: Duration,
}

impl Default for AwsOptions {
    fn default() -> Self {
        Self {
            region: None,
            endpoint: None,
            credentials: None,
            timeout: BACKEND_TIMEOUT,
        }
    }
}

impl AwsOptions {
    /// Everything from the standard chain.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How long one request may take ([`BACKEND_TIMEOUT`] unless set).
    #[must_use]
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The region (`us-east-1`).
    #[must_use]
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Another endpoint than AWS's (an emulator, a VPC endpoint).
    #[must_use]
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// Static credentials instead of the chain's.
    #[must_use]
    pub fn credentials(mut self, credentials: StaticCredentials) -> Self {
        self.credentials = Some(credentials);
        self
    }
}

/// Why an [`AwsSecretsManagerSource`](crate::AwsSecretsManagerSource) could not be built.
/// Never quotes the endpoint (which could carry credentials).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AwsConfigError {
    /// The endpoint is not usable.
    #[error("the AWS endpoint is not usable: {reason}")]
    EndpointInvalid {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No region in the options, the environment (`AWS_REGION`) or the profile.
    #[error("no AWS region is configured: set one in the options, AWS_REGION or the profile")]
    RegionMissing,
}

/// The SDK configuration `options` describe, shared by every client this crate builds (one
/// credentials chain, one timeout, no SDK retries), and its region.
pub(crate) async fn load_config(
    options: &AwsOptions,
) -> Result<(aws_config::SdkConfig, String), AwsConfigError> {
    use aws_config::BehaviorVersion;
    use aws_config::retry::RetryConfig;
    use aws_config::timeout::TimeoutConfig;
    use aws_sdk_secretsmanager::config::{Credentials, Region};
    use secrecy::ExposeSecret;

    if let Some(endpoint) = &options.endpoint {
        palisade_secrets::check_backend_address(endpoint).map_err(|refused| {
            AwsConfigError::EndpointInvalid {
                reason: refused.reason(),
            }
        })?;
    }
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(options.timeout)
                .build(),
        )
        .retry_config(RetryConfig::disabled());
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &options.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    if let Some(credentials) = &options.credentials {
        loader = loader.credentials_provider(Credentials::new(
            credentials.access_key_id.clone(),
            credentials.secret_access_key.expose_secret(),
            None,
            None,
            "palisade-static",
        ));
    }
    let config = loader.load().await;
    let region = config
        .region()
        .map(ToString::to_string)
        .ok_or(AwsConfigError::RegionMissing)?;
    Ok((config, region))
}
