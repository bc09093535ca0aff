#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod access_token;
mod errors;
mod locator;
mod options;
mod source;

pub use options::{AzureConfigError, AzureOptions};
pub use source::AzureKeyVaultSource;
