//! `Chain`: several sources tried in order.

use std::sync::Arc;

use crate::{Fetch, SecretError, SecretRef, SecretSource};

/// Tries its sources in order; the first that has the secret wins.
///
/// Only "this source does not have it" falls through ([`SecretError::NotFound`], and
/// [`SecretError::SchemeUnsupported`] from a source that does not handle the scheme). Any other
/// failure — an outage, access denied, a malformed file — stops the chain and is returned:
/// silently reading a fallback because the primary store is down would hide the outage and
/// may serve a stale or weaker credential.
///
/// ```
/// use std::sync::Arc;
/// use palisade_secrets::{Chain, EnvSource, SecretSource};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let chain = Chain::new(vec![
///     Arc::new(EnvSource::new()),
///     Arc::new(EnvSource::with_dotenv_fallback(".env")),
/// ]);
/// let value = chain.fetch(&"env:CARGO_PKG_NAME".parse()?).await?;
/// assert_eq!(value.expose_str(), Some("palisade-secrets"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Chain {
    sources: Vec<Arc<dyn SecretSource>>,
}

impl Chain {
    /// A chain of `sources`, tried in this order.
    #[must_use]
    pub fn new(sources: Vec<Arc<dyn SecretSource>>) -> Self {
        Self { sources }
    }
}

impl SecretSource for Chain {
    fn fetch<'a>(&'a self, reference: &'a SecretRef) -> Fetch<'a> {
        Fetch::new(async move {
            let mut unsupported_everywhere = true;
            for source in &self.sources {
                match source.fetch(reference).await {
                    Err(SecretError::SchemeUnsupported { .. }) => {}
                    Err(SecretError::NotFound { .. }) => unsupported_everywhere = false,
                    other => return other,
                }
            }
            let reference = reference.clone();
            Err(if unsupported_everywhere {
                SecretError::SchemeUnsupported { reference }
            } else {
                SecretError::NotFound { reference }
            })
        })
    }
}
