//! `Registry`: routes a reference to the source for its scheme.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::{
    DotEnvSource, EnvSource, Fetch, FileSource, ReferenceScheme, SecretError, SecretRef,
    SecretSource,
};

/// Routes each reference to the source registered for its scheme, so one configuration value
/// (`env:…`, `aws-sm:…`, `vault:…`) can name a secret anywhere.
///
/// [`Registry::standard`] knows `env:`, `dotenv:` and `file:`; the backend crates register
/// `aws-sm:`, `vault:` and `azure-kv:`.
///
/// ```
/// use palisade_secrets::{Registry, SecretError, SecretSource};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let registry = Registry::standard();
/// let value = registry.fetch(&"env:CARGO_PKG_NAME".parse()?).await?;
/// assert_eq!(value.expose_str(), Some("palisade-secrets"));
///
/// let err = registry.fetch(&"aws-sm:prod/db".parse()?).await.unwrap_err();
/// assert!(matches!(err, SecretError::SchemeUnsupported { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Registry {
    sources: BTreeMap<ReferenceScheme, Arc<dyn SecretSource>>,
}

impl Registry {
    /// A registry with no sources.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// `env:` (process environment), `dotenv:` and `file:` with their defaults.
    #[must_use]
    pub fn standard() -> Self {
        Self::new()
            .with(ReferenceScheme::Env, Arc::new(EnvSource::new()))
            .with(ReferenceScheme::DotEnv, Arc::new(DotEnvSource::new()))
            .with(ReferenceScheme::File, Arc::new(FileSource::new()))
    }

    /// This registry with `source` handling `scheme` (replacing any source it had).
    #[must_use]
    pub fn with(mut self, scheme: ReferenceScheme, source: Arc<dyn SecretSource>) -> Self {
        self.sources.insert(scheme, source);
        self
    }

    /// The source for `scheme`, if one is registered.
    #[must_use]
    pub fn source(&self, scheme: &ReferenceScheme) -> Option<&Arc<dyn SecretSource>> {
        self.sources.get(scheme)
    }
}

impl SecretSource for Registry {
    fn fetch<'a>(&'a self, reference: &'a SecretRef) -> Fetch<'a> {
        match self.sources.get(reference.scheme()) {
            Some(source) => source.fetch(reference),
            None => Fetch::ready(Err(SecretError::SchemeUnsupported {
                reference: reference.clone(),
            })),
        }
    }
}
