#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod errors;
mod locator;
mod options;
mod session;
mod source;
#[cfg(feature = "transit")]
mod transit;

pub use options::{VaultConfigError, VaultOptions};
pub use source::VaultSource;
#[cfg(feature = "transit")]
#[cfg_attr(docsrs, doc(cfg(feature = "transit")))]
pub use transit::VaultTransitKeyWrapper;
