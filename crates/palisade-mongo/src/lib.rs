#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod audit;
#[cfg(feature = "driver")]
#[cfg_attr(docsrs, doc(cfg(feature = "driver")))]
mod driver;
mod error;
mod fields;
mod guard;
mod json;
mod limits;
mod operators;
mod record;
mod references;
mod scope;
mod tenant;
mod walk;

pub use audit::{AUDIT_FIELDS, Audit};
#[cfg(feature = "audit")]
pub use driver::command_events;
#[cfg(feature = "driver")]
pub use driver::{
    DriverError, Erased, MongoServerError, OwnedCollections, ScopedCollection, TenantClients,
};
#[cfg(feature = "crypt")]
pub use driver::{MongoKeyStore, Reencrypted, reencrypt_batch};
pub use error::{Problem, Rejected};
pub use guard::{FilterPolicy, Guarded};
pub use json::document_from_json;
pub use limits::{LimitInvalid, Limits};
pub use operators::ALLOWED_OPERATORS;
pub use references::{ForeignKey, ForeignKeys, Reference};
pub use scope::Scope;
pub use tenant::{TenantError, TenantRouter};
