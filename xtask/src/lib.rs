//! Palisade's project automation, as a library so that `tidy` also runs as a `#[test]`.
#![forbid(unsafe_code)]
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "xtask reports to the terminal"
)]

pub mod bench;
pub mod ci;
pub mod deny;
pub mod fuzz;
pub mod load;
pub mod project;
pub mod services;
pub mod tidy;
mod tools;
