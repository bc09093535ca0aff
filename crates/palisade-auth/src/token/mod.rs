//! The application's own bearer tokens: issued and verified with its keys.

mod cached;
pub(crate) mod claims;
mod issuer;
mod keys;
mod refused;
pub(crate) mod rules;
pub(crate) mod verifier;

pub use cached::CachedVerifier;
pub use claims::Registered;
pub use issuer::{IssueError, TokenIssuer};
pub use keys::{KeyInvalid, KeyLoadError, OwnAlgorithm, SigningKey, VerifyingKey};
pub use refused::TokenRefused;
pub use rules::{DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_LEN, MAX_LEEWAY, VerifierConfigInvalid};
pub use verifier::{TokenVerifier, Verified};
