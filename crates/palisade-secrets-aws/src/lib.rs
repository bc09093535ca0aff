#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod errors;
mod locator;
mod source;

pub use source::{AwsOptions, AwsSecretsManagerSource, StaticCredentials};
