#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod errors;
mod locator;
mod options;
mod session;
mod source;

pub use options::{VaultConfigError, VaultOptions};
pub use source::VaultSource;
