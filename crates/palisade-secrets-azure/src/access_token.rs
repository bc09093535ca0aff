//! An Azure token credential that reads a ready-made access token through a secret reference
//! (a token a sidecar or a workload identity agent writes to a file, or an environment
//! variable). The token is reported as expiring at once, so the SDK asks again before every
//! request and a rotated token is used from the next request on (reading a small file or a
//! variable costs nothing next to an HTTPS round trip).

use std::sync::Arc;

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::error::{Error, ErrorKind};
use palisade_secrets::{SecretRef, SecretSource};
use time::OffsetDateTime;

pub(crate) struct AccessTokenFromReference {
    pub(crate) reference: SecretRef,
    pub(crate) source: Arc<dyn SecretSource>,
}

#[async_trait::async_trait]
impl TokenCredential for AccessTokenFromReference {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let unreadable = |what: &str| {
            Error::with_message(
                ErrorKind::Credential,
                format!("the access token {} {what}", self.reference),
            )
        };
        let value = self.source.fetch(&self.reference).await.map_err(|error| {
            tracing::warn!(token = %self.reference, %error, "the Azure access token could not be read");
            unreadable("could not be read")
        })?;
        let token = value
            .expose_str()
            .map(str::trim)
            .filter(|t| !t.is_empty() && !t.contains(char::is_whitespace))
            .ok_or_else(|| unreadable("is empty or not a token"))?;
        Ok(AccessToken::new(
            token.to_owned(),
            OffsetDateTime::now_utc(),
        ))
    }
}

impl std::fmt::Debug for AccessTokenFromReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokenFromReference")
            .field("reference", &self.reference.to_string())
            .finish_non_exhaustive()
    }
}
