#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod code;
mod events;
#[cfg(feature = "axum")]
mod extract;
mod jwks;
mod random;
mod token;
mod turnstile;

#[cfg(feature = "redis")]
pub use code::RedisCodes;
pub use code::{
    CodeConfigInvalid, CodeDigest, CodeStore, CodeStoreUnavailable, MemoryCodes, OneTimeCode,
    OneTimeCodes, PkceChallenge, RedeemError, StoreFuture,
};

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use extract::{Bearer, BearerVerifier, TURNSTILE_HEADER, Turnstile, bearer_token};
pub use jwks::{ENTRA_COMMON_KEYS, JwksStats, JwksVerifier};
pub use token::{
    CachedVerifier, DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_LEN, IssueError, KeyInvalid, KeyLoadError,
    MAX_LEEWAY, OwnAlgorithm, Registered, SigningKey, TokenIssuer, TokenRefused, TokenVerifier,
    Verified, VerifierConfigInvalid, VerifyingKey,
};
pub use turnstile::{
    SITEVERIFY_URL, TurnstileAccepted, TurnstileConfigInvalid, TurnstileErrorCode,
    TurnstileRefused, TurnstileVerifier,
};
