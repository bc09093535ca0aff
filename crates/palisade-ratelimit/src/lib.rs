#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The `governor` crate this one builds on, at the version [`Limit::quota`] returns a
/// `Quota` of: use it through this path so the two always agree.
pub use governor;

mod client_key;
mod decision;
mod direct;
mod gcra;
#[cfg(feature = "tower")]
mod http_layer;
mod keyed;
#[cfg(feature = "redis")]
mod redis_limiter;
mod settings;
mod spec;
mod wait;

pub use client_key::{ClientKey, IpGrouping, PrefixError};
pub use decision::{Admitted, InsufficientCapacity, NotUntil};
pub use direct::Limiter;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub use http_layer::{
    ForwardingHeader, PeerAddr, RateLimit, RateLimitLayer, ResponseFuture, TrustedProxies,
};
pub use keyed::{Evictions, KeyedLimiter};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis_limiter::{OutagePolicy, RedisConfig, RedisConnectError, RedisLimiter, RedisStats};
pub use settings::{Mode, Settings};
pub use spec::{Limit, Spec, SpecError, SpecErrorKind, Unit};
#[cfg(feature = "tokio")]
pub use wait::TokioSleep;
pub use wait::{Jitter, Sleep};
