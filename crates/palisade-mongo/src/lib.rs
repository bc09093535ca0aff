#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod audit;
mod error;
mod guard;
mod limits;
mod scope;
mod tenant;
mod walk;

pub use audit::{AUDIT_FIELDS, Audit};
pub use error::{Problem, Rejected};
pub use guard::{ALLOWED_OPERATORS, FilterPolicy, Guarded};
pub use limits::{LimitInvalid, Limits};
pub use scope::Scope;
pub use tenant::{TenantError, TenantRouter};
