//! The `driver` feature: the checks applied on the way to a real `mongodb` deployment.

mod collection;
#[cfg(feature = "audit")]
mod commands;
mod encryption;
mod error;
#[cfg(feature = "audit")]
mod events;
mod owned;
mod tenants;

pub use collection::ScopedCollection;
#[cfg(feature = "audit")]
#[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
pub use commands::command_events;
pub use error::{DriverError, MongoServerError};
pub use owned::{Erased, OwnedCollections};
pub use tenants::TenantClients;
