//! `env:NAME`: process environment variables, optionally falling back to a `.env` file.

use std::path::PathBuf;

use crate::dotenv::lookup;
use crate::{
    Fetch, ReferenceScheme, SecretError, SecretRef, SecretSource, SecretValue, select_field,
};

/// Reads `env:NAME[#field]` from the process environment; with
/// [`with_dotenv_fallback`](Self::with_dotenv_fallback), a variable that is not set is looked up
/// in a `.env` file instead (a variable that is set always wins: the file never overrides it).
///
/// ```
/// use palisade_secrets::{EnvSource, SecretSource};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// // cargo sets CARGO_PKG_NAME for the programs it runs, doc tests included.
/// let value = EnvSource::new().fetch(&"env:CARGO_PKG_NAME".parse()?).await?;
/// assert_eq!(value.expose_str(), Some("palisade-secrets"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct EnvSource {
    dotenv_fallback: Option<PathBuf>,
}

impl EnvSource {
    /// The process environment only.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The process environment, then the `.env` file at `path` for variables that are not set.
    #[must_use]
    pub fn with_dotenv_fallback(path: impl Into<PathBuf>) -> Self {
        Self {
            dotenv_fallback: Some(path.into()),
        }
    }

    fn read(&self, reference: &SecretRef) -> Result<SecretValue, SecretError> {
        if reference.scheme() != &ReferenceScheme::Env {
            return Err(SecretError::SchemeUnsupported {
                reference: reference.clone(),
            });
        }
        let name = reference.locator();
        let text = match std::env::var_os(name) {
            Some(value) => value.into_string().map_err(|_| SecretError::NotUtf8 {
                reference: reference.clone(),
            })?,
            None => match &self.dotenv_fallback {
                Some(path) => lookup(path, name, reference)?,
                None => None,
            }
            .ok_or_else(|| SecretError::NotFound {
                reference: reference.clone(),
            })?,
        };
        select_field(SecretValue::from_string(text), reference)
    }
}

impl SecretSource for EnvSource {
    fn fetch<'a>(&'a self, reference: &'a SecretRef) -> Fetch<'a> {
        Fetch::ready(self.read(reference))
    }
}
