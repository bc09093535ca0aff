//! The `driver` feature: the checks applied on the way to a real `mongodb` deployment.

mod collection;
#[cfg(feature = "audit")]
mod commands;
mod encryption;
mod error;
#[cfg(feature = "audit")]
mod events;
#[cfg(feature = "crypt")]
mod key_store;
mod owned;
#[cfg(feature = "crypt")]
mod reencrypt;
mod tenants;

pub use collection::ScopedCollection;
#[cfg(feature = "audit")]
#[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
pub use commands::command_events;
pub use error::{DriverError, MongoServerError};
#[cfg(feature = "crypt")]
#[cfg_attr(docsrs, doc(cfg(feature = "crypt")))]
pub use key_store::MongoKeyStore;
pub use owned::{Erased, OwnedCollections};
#[cfg(feature = "crypt")]
#[cfg_attr(docsrs, doc(cfg(feature = "crypt")))]
pub use reencrypt::{Reencrypted, reencrypt_batch};
pub use tenants::TenantClients;
