//! Emulators of documented HTTP APIs that have no server obtainable here (HashiCorp Vault,
//! Azure Key Vault, Cloudflare Turnstile): small axum servers on loopback, plain or TLS, holding their state in
//! memory and recording every request so tests can count what reached the "server".

pub mod jwks;
pub mod key_vault;
mod serve;
mod tls;
pub mod turnstile;
pub mod vault;

pub use serve::{Recorded, Served};
pub use tls::TestCertificate;
