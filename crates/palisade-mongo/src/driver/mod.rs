//! The `driver` feature: the checks applied on the way to a real `mongodb` deployment.

mod collection;
mod error;
#[cfg(feature = "audit")]
mod events;
mod tenants;

pub use collection::ScopedCollection;
pub use error::{DriverError, MongoServerError};
pub use tenants::TenantClients;
