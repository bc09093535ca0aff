#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client_key;
mod spec;

pub use client_key::{ClientKey, IpGrouping, PrefixError};
pub use spec::{Limit, Spec, SpecError, SpecErrorKind, Unit};
