#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod errors;
mod locator;
mod options;
mod source;

pub use options::{AwsConfigError, AwsOptions, StaticCredentials};
pub use source::AwsSecretsManagerSource;
