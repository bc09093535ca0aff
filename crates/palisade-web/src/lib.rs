#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod headers;

pub use headers::{
    CspNonce, HeaderInvalid, Mode, ResponseFuture, SecurityHeaders, SecurityHeadersLayer,
    SecurityHeadersService,
};
