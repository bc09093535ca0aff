#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
pub mod context;
mod cors;
mod headers;
mod random;

pub use client::{ForwardingHeader, PeerAddr, TrustedProxies, peer_addr};
pub use cors::{
    CorsInvalid, CorsPolicy, CorsPolicyLayer, OriginGate, OriginGateFuture, OriginGateLayer,
};
pub use headers::{
    CspNonce, HeaderInvalid, Mode, ResponseFuture, SecurityHeaders, SecurityHeadersLayer,
    SecurityHeadersService,
};
