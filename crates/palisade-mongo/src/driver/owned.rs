//! The right of access and the right to erasure: one registry of the collections that hold a
//! user's records, each under its owner field, exported or erased through the same scope
//! every other operation uses.

use std::collections::BTreeMap;

use bson::{Bson, Document, doc};
use futures_util::TryStreamExt as _;
use mongodb::Database;
use mongodb::options::FindOptions;

use super::{DriverError, ScopedCollection};
use crate::Scope;

/// The collections that hold a user's records, each with the field that names its owner.
///
/// ```no_run
/// # async fn run(database: mongodb::Database) -> Result<(), palisade_mongo::DriverError> {
/// use palisade_mongo::OwnedCollections;
///
/// let owned = OwnedCollections::new()
///     .collection("clients", "user_id")
///     .collection("documents", "user_id")
///     .collection("uploads", "uploaded_by");
/// // Everything user u-42 owns, one array per collection (the right of access).
/// let export = owned.export_owned(&database, "u-42").await?;
/// // Deleted, collection by collection; other users' records are untouched.
/// let erased = owned.erase_owned(&database, "u-42").await?;
/// assert_eq!(erased.remaining(), 0);
/// # drop(export); Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct OwnedCollections {
    /// `(collection, owner field)`, in the order they were added.
    collections: Vec<(String, String)>,
    #[cfg(feature = "audit")]
    events: Option<palisade_audit::Audit>,
}

/// What [`OwnedCollections::erase_owned`] deleted, per collection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Erased {
    /// Documents deleted in each collection.
    pub deleted: BTreeMap<String, u64>,
    /// Documents of the owner still found in each collection after the delete (written
    /// meanwhile): zero everywhere when the erasure is complete.
    pub left: BTreeMap<String, u64>,
}

impl Erased {
    /// The owner's documents still present across the collections.
    #[must_use]
    pub fn remaining(&self) -> u64 {
        self.left.values().sum()
    }
}

impl OwnedCollections {
    /// No collections yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `name`, whose documents name their owner in `owner_field` (a second call for the
    /// same collection replaces the field).
    #[must_use]
    pub fn collection(mut self, name: &str, owner_field: &str) -> Self {
        self.collections.retain(|(existing, _)| existing != name);
        self.collections
            .push((name.to_owned(), owner_field.to_owned()));
        self
    }

    /// The collections and their owner fields, in the order they were added.
    pub fn collections(&self) -> impl Iterator<Item = (&str, &str)> {
        self.collections
            .iter()
            .map(|(name, field)| (name.as_str(), field.as_str()))
    }

    /// Emits `palisade-audit` events for every operation the export and the erasure send.
    #[cfg(feature = "audit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
    #[must_use]
    pub fn with_events(mut self, audit: palisade_audit::Audit) -> Self {
        self.events = Some(audit);
        self
    }

    fn scoped(
        &self,
        database: &Database,
        name: &str,
        field: &str,
        owner: &Bson,
    ) -> ScopedCollection<Document> {
        let scoped = ScopedCollection::new(
            database.collection::<Document>(name),
            Scope::new(field, owner.clone()),
        );
        #[cfg(feature = "audit")]
        let scoped = match &self.events {
            Some(audit) => scoped.with_events(audit.clone()),
            None => scoped,
        };
        scoped
    }

    /// Every document `owner` owns, as `{collection: [documents, by _id]}` in the order the
    /// collections were added (all of them, empty arrays included). The export is built in
    /// memory.
    ///
    /// # Errors
    /// The database's error, at the first collection that fails.
    pub async fn export_owned(
        &self,
        database: &Database,
        owner: impl Into<Bson>,
    ) -> Result<Document, DriverError> {
        let owner = owner.into();
        let mut export = Document::new();
        for (name, field) in &self.collections {
            let scoped = self.scoped(database, name, field, &owner);
            let by_id = FindOptions::builder().sort(doc! {"_id": 1}).build();
            let documents: Vec<Document> = scoped
                .find(Document::new(), by_id)
                .await?
                .try_collect()
                .await
                .map_err(DriverError::from)?;
            export.insert(
                name.as_str(),
                Bson::Array(documents.into_iter().map(Bson::Document).collect()),
            );
        }
        Ok(export)
    }

    /// Deletes every document `owner` owns in each collection, then counts what is left (a
    /// document written meanwhile), so the caller can tell a complete erasure.
    ///
    /// # Errors
    /// The database's error, at the first collection that fails (the collections before it
    /// are already erased; calling again finishes the work).
    pub async fn erase_owned(
        &self,
        database: &Database,
        owner: impl Into<Bson>,
    ) -> Result<Erased, DriverError> {
        let owner = owner.into();
        let mut erased = Erased::default();
        for (name, field) in &self.collections {
            let scoped = self.scoped(database, name, field, &owner);
            let result = scoped.delete_many(Document::new()).await?;
            erased.deleted.insert(name.clone(), result.deleted_count);
            erased
                .left
                .insert(name.clone(), scoped.count(Document::new()).await?);
        }
        Ok(erased)
    }
}
