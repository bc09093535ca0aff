#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod errors;
#[cfg(feature = "kms")]
mod kms;
mod locator;
mod options;
mod source;

#[cfg(feature = "kms")]
#[cfg_attr(docsrs, doc(cfg(feature = "kms")))]
pub use kms::AwsKmsKeyWrapper;
pub use options::{AwsConfigError, AwsOptions, StaticCredentials};
pub use source::AwsSecretsManagerSource;
