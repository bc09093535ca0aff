#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod bench;
mod canary;
#[cfg(feature = "emulators")]
#[cfg_attr(docsrs, doc(cfg(feature = "emulators")))]
pub mod emulators;
mod fake_clock;
mod logs;
mod names;
pub mod node;
mod openbao;
mod poll;
#[cfg(feature = "http")]
mod problem;
pub mod python;
mod script;
#[cfg(feature = "secrets")]
#[cfg_attr(docsrs, doc(cfg(feature = "secrets")))]
pub mod secrets;
#[cfg(feature = "serve")]
mod serve;
mod services;

pub use canary::Canary;
pub use fake_clock::FakeClock;
pub use logs::{LogCapture, capture_logs};
pub use names::unique_name;
pub use openbao::OpenBao;
pub use poll::{poll_once, poll_without_runtime, ready_now};
#[cfg(feature = "http")]
pub use problem::problem_body;
#[cfg(feature = "serve")]
pub use serve::serve;
pub use services::{SERVICES_FILE_ENV, Service, ServiceUnavailable};
