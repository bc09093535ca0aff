#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod encoding;
mod error;
#[cfg(feature = "audit")]
mod events;
mod hasher;
mod memory;
mod pepper;
mod policy;
mod pool;
mod scheme;
mod stored;
mod verified;

pub use error::{Error, PepperError, PolicyError, Result};
pub use hasher::Passwords;
pub use pepper::{Pepper, Peppers};
pub use policy::{Policy, StoredLimits};
pub use scheme::HashScheme;
pub use verified::{RehashReason, Verified};
