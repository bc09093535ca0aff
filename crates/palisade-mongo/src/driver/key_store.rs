//! `MongoKeyStore`: palisade-crypt's wrapped data keys in a MongoDB collection.

use std::fmt;

use bson::spec::BinarySubtype;
use bson::{Binary, Bson, Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};
use palisade_crypt::{
    Algorithm, CryptError, DataKeyId, DataKeyStore, KeyFuture, KeyName, KeyScope, StoredKey,
    WrappedKey,
};

use crate::driver::DriverError;

/// A [`DataKeyStore`] in a MongoDB collection: one document per data key,
/// `{_id: <16-byte id>, key_name, scope, algorithm, kek_version, wrapped, created_at}`, nothing
/// secret (the keys are wrapped), and one `{_id: "destroyed:<SHA-256 of the scope>"}` per
/// destroyed scope (no key is stored for it again; the record names no erased owner). Destroying a scope deletes its documents: keep the
/// collection's backups shorter-lived than your erasure promise, since a restored backup
/// brings the keys back.
///
/// Give it a collection of its own, readable only by the service (its rows say which scopes
/// have keys); [`create_indexes`](Self::create_indexes) makes the lookup by scope cheap.
#[derive(Clone)]
pub struct MongoKeyStore {
    collection: Collection<Document>,
}

impl MongoKeyStore {
    /// Data keys in `collection`.
    #[must_use]
    pub fn new(collection: Collection<Document>) -> Self {
        Self { collection }
    }

    /// Creates the index the store's lookups use (`scope`, `key_name`, `created_at`).
    ///
    /// # Errors
    /// The database's error.
    pub async fn create_indexes(&self) -> Result<(), DriverError> {
        let index = IndexModel::builder()
            .keys(doc! {"scope": 1, "key_name": 1, "created_at": -1})
            .options(
                IndexOptions::builder()
                    .name("palisade_scope".to_owned())
                    .build(),
            )
            .build();
        self.collection.create_index(index).await?;
        Ok(())
    }

    async fn load_now(&self, id: &DataKeyId) -> Result<Option<StoredKey>, CryptError> {
        let found = self
            .collection
            .find_one(doc! {"_id": id_bson(id)})
            .await
            .map_err(store_error)?;
        found.map(|d| from_document(&d)).transpose()
    }

    async fn current_now(
        &self,
        key_name: &KeyName,
        scope: &KeyScope,
        not_before: u64,
    ) -> Result<Option<StoredKey>, CryptError> {
        let found = self
            .collection
            .find_one(doc! {
                "scope": scope.as_str(),
                "key_name": key_name.as_str(),
                "created_at": {"$gte": i64::try_from(not_before).unwrap_or(i64::MAX)},
            })
            .sort(doc! {"created_at": -1, "_id": -1})
            .await
            .map_err(store_error)?;
        found.map(|d| from_document(&d)).transpose()
    }

    async fn insert_now(&self, key: &StoredKey) -> Result<(), CryptError> {
        if self.destroyed(&key.scope).await? {
            return Err(CryptError::KeyDestroyed);
        }
        self.collection
            .insert_one(doc! {
                "_id": id_bson(&key.id),
                "key_name": key.key_name.as_str(),
                "scope": key.scope.as_str(),
                "algorithm": i32::from(key.algorithm.id()),
                "kek_version": i64::from(key.wrapped.kek_version),
                "wrapped": Binary { subtype: BinarySubtype::Generic, bytes: key.wrapped.blob.clone() },
                "created_at": i64::try_from(key.created_at).unwrap_or(i64::MAX),
            })
            .await
            .map_err(store_error)?;
        // Destroyed meanwhile: the destruction may have deleted before this insert landed.
        if self.destroyed(&key.scope).await? {
            self.collection
                .delete_one(doc! {"_id": id_bson(&key.id)})
                .await
                .map_err(store_error)?;
            return Err(CryptError::KeyDestroyed);
        }
        Ok(())
    }

    /// Whether `scope` was destroyed (its tombstone, `{_id: "destroyed:<SHA-256 of the
    /// scope>"}`, a string where keys' ids are binary, exists).
    async fn destroyed(&self, scope: &KeyScope) -> Result<bool, CryptError> {
        let found = self
            .collection
            .find_one(doc! {"_id": scope.tombstone()})
            .projection(doc! {"_id": 1})
            .await
            .map_err(store_error)?;
        Ok(found.is_some())
    }

    async fn destroy_now(&self, scope: &KeyScope) -> Result<u64, CryptError> {
        // The tombstone first: an insert that lands after it is refused by its own check.
        self.collection
            .update_one(
                doc! {"_id": scope.tombstone()},
                doc! {"$set": {"destroyed": true}},
            )
            .upsert(true)
            .await
            .map_err(store_error)?;
        let deleted = self
            .collection
            .delete_many(doc! {"scope": scope.as_str()})
            .await
            .map_err(store_error)?;
        Ok(deleted.deleted_count)
    }
}

fn id_bson(id: &DataKeyId) -> Bson {
    Bson::Binary(Binary {
        subtype: BinarySubtype::Generic,
        bytes: id.as_bytes().to_vec(),
    })
}

/// A stored key; a document that is not one (edited by hand, or by an attacker) is a key
/// that does not open anything.
fn from_document(document: &Document) -> Result<StoredKey, CryptError> {
    let binary = |field: &str| match document.get(field) {
        Some(Bson::Binary(binary)) => Some(binary.bytes.clone()),
        _ => None,
    };
    let read = || -> Option<StoredKey> {
        let id = <[u8; 16]>::try_from(binary("_id")?).ok()?;
        let algorithm = u8::try_from(document.get_i32("algorithm").ok()?).ok()?;
        Some(StoredKey {
            id: DataKeyId::from_bytes(id),
            key_name: KeyName::new(document.get_str("key_name").ok()?).ok()?,
            scope: KeyScope::new(document.get_str("scope").ok()?).ok()?,
            algorithm: Algorithm::from_id(algorithm)?,
            wrapped: WrappedKey {
                kek_version: u32::try_from(document.get_i64("kek_version").ok()?).ok()?,
                blob: binary("wrapped")?,
            },
            created_at: u64::try_from(document.get_i64("created_at").ok()?).ok()?,
        })
    };
    read().ok_or(CryptError::Undecryptable)
}

/// The database's failure, as the store's (its category and code only).
fn store_error(error: mongodb::error::Error) -> CryptError {
    CryptError::Store {
        source: Box::new(DriverError::from(error)),
    }
}

impl DataKeyStore for MongoKeyStore {
    fn load<'a>(&'a self, id: &'a DataKeyId) -> KeyFuture<'a, Option<StoredKey>> {
        KeyFuture::new(self.load_now(id))
    }

    fn current<'a>(
        &'a self,
        key_name: &'a KeyName,
        scope: &'a KeyScope,
        not_before: u64,
    ) -> KeyFuture<'a, Option<StoredKey>> {
        KeyFuture::new(self.current_now(key_name, scope, not_before))
    }

    fn insert<'a>(&'a self, key: &'a StoredKey) -> KeyFuture<'a, ()> {
        KeyFuture::new(self.insert_now(key))
    }

    fn destroy_scope<'a>(&'a self, scope: &'a KeyScope) -> KeyFuture<'a, u64> {
        KeyFuture::new(self.destroy_now(scope))
    }
}

impl fmt::Debug for MongoKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoKeyStore")
            .field("collection", &self.collection.namespace().to_string())
            .finish()
    }
}
