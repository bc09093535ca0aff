#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod reference;

pub use reference::{RefError, Scheme, SecretRef};
