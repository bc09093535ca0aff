#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backend;
mod cache_policy;
mod cached;
mod chain;
mod credentials;
mod dotenv;
mod dsn;
mod env;
mod error;
mod file;
mod handles;
mod json_field;
mod published;
mod reference;
mod registry;
mod source;
mod value;

pub use backend::{AddressRefused, BACKEND_TIMEOUT, check_backend_address, check_endpoint};
pub use cache_policy::{CachePolicy, CachePolicyError};
pub use cached::{Cached, CachedSecret};
pub use chain::Chain;
pub use credentials::{Credentials, CredentialsError, Intent, ResolveError};
pub use dotenv::DotEnvSource;
pub use dsn::{Dsn, DsnError, Engine, Host, TlsPolicy, TlsVerdict};
pub use env::EnvSource;
pub use error::{SecretError, SourceCause};
pub use file::FileSource;
pub use json_field::select_field;
pub use reference::{RefError, ReferenceScheme, SecretRef};
pub use registry::Registry;
pub use source::{Fetch, FetchResult, SecretSource};
pub use value::{Metadata, SecretValue};
