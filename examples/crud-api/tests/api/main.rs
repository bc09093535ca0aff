//! crud-api over real HTTP on loopback, with `reqwest`, against the service started
//! in-process on the databases of `cargo xtask services up` (SecantusDB, PostgreSQL, Redis).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod attacks;
mod check_config;
mod common;
mod encryption;
mod erasure;
mod gates;
mod hardening;
mod journey;
mod limits;
mod oidc;
mod process;
mod readme;
mod reports;
mod reset;
mod revocation;
mod tokens;
mod vault;
