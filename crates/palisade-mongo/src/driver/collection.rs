//! `ScopedCollection`: a `mongodb::Collection` whose every call passes the guard, the owner
//! scope, the audit stamps and the reference checks.

use bson::{Bson, Document, doc};
use futures_util::TryStreamExt as _;
use mongodb::options::FindOptions;
use mongodb::results::{DeleteResult, InsertManyResult, InsertOneResult, UpdateResult};
use mongodb::{Collection, Cursor};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::driver::DriverError;
use crate::error::{Problem, Rejected};
use crate::{Audit, ForeignKeys, Reference, Scope};

/// One collection, as one user of one request sees it.
///
/// Client filters pass the scope's [`FilterPolicy`](crate::FilterPolicy) and are pinned to the
/// owner; updates and inserts pass the scope's write checks, get the audit stamps (with
/// [`with_audit`](Self::with_audit)) and have their references checked (with
/// [`with_references`](Self::with_references)); pipelines are scoped. Nothing reaches the
/// server before every check has passed. The plain collection is reachable only through
/// [`unscoped_collection`](Self::unscoped_collection).
///
/// Filters, updates and pipelines are taken by value, as the `mongodb` driver takes them: a
/// filter is guarded in place and moved into the scoped query, never copied. Options
/// (`FindOptions`: sort, limit, projection) are the application's, not the client's.
///
/// ```no_run
/// # async fn handler(db: mongodb::Database, user: &str, client_filter: bson::Document)
/// #     -> Result<(), palisade_mongo::DriverError> {
/// use bson::{DateTime, Document, doc};
/// use futures_util::TryStreamExt as _;
/// use palisade_mongo::{Audit, FilterPolicy, ForeignKey, ForeignKeys, Scope, ScopedCollection};
///
/// let notes = ScopedCollection::new(
///     db.collection::<Document>("notes"),
///     Scope::new("user_id", user).with_policy(FilterPolicy::default().scalar_field("title")),
/// )
/// .with_audit(Audit::new(user, DateTime::now()))
/// .with_references(ForeignKeys::new().with(ForeignKey::new("project_id", "projects")));
///
/// let mine: Vec<Document> = notes.find(client_filter.clone(), None).await?.try_collect().await?;
/// notes.update_many(client_filter, doc! {"$set": {"archived": true}}).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ScopedCollection<T: Send + Sync> {
    collection: Collection<T>,
    scope: Scope,
    audit: Option<Audit>,
    references: ForeignKeys,
}

impl<T: Send + Sync> ScopedCollection<T> {
    /// `collection` as the owner of `scope` sees it.
    #[must_use]
    pub fn new(collection: Collection<T>, scope: Scope) -> Self {
        Self {
            collection,
            scope,
            audit: None,
            references: ForeignKeys::new(),
        }
    }

    /// Stamps `created_*` on inserts and `updated_*` on updates, and refuses client writes to
    /// them.
    #[must_use]
    pub fn with_audit(mut self, audit: Audit) -> Self {
        self.audit = Some(audit);
        self
    }

    /// Checks before every insert and update that the ids written into these fields exist
    /// (and, unless a key is [`shared`](crate::ForeignKey::shared), belong to the same
    /// owner): otherwise a 422 naming the field and the id.
    #[must_use]
    pub fn with_references(mut self, references: ForeignKeys) -> Self {
        self.references = references;
        self
    }

    /// The scope every call applies.
    #[must_use]
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The collection without any scope, guard or audit: for the application's own
    /// maintenance, never for a client's input.
    #[must_use]
    pub fn unscoped_collection(&self) -> &Collection<T> {
        &self.collection
    }

    /// The client's filter, guarded (in place, no copy) and pinned to the owner.
    fn scoped_filter(&self, filter: Document) -> Result<Document, Rejected> {
        Ok(self.scope.filter(self.scope.policy().guard_owned(filter)?))
    }

    /// The owner's documents that match `filter`.
    ///
    /// # Errors
    /// [`DriverError::Rejected`] before anything is sent, or the database's error.
    pub async fn find(
        &self,
        filter: Document,
        options: impl Into<Option<FindOptions>>,
    ) -> Result<Cursor<T>, DriverError> {
        let scoped = self.scoped_filter(filter)?;
        Ok(self.collection.find(scoped).with_options(options).await?)
    }

    /// The number of the owner's documents that match `filter`.
    ///
    /// # Errors
    /// [`DriverError::Rejected`] before anything is sent, or the database's error.
    pub async fn count(&self, filter: Document) -> Result<u64, DriverError> {
        let scoped = self.scoped_filter(filter)?;
        Ok(self.collection.count_documents(scoped).await?)
    }

    /// Applies an operator update to the first of the owner's documents that match.
    ///
    /// # Errors
    /// [`DriverError::Rejected`] before anything is sent (including a missing reference), or
    /// the database's error.
    pub async fn update_one(
        &self,
        filter: Document,
        update: Document,
    ) -> Result<UpdateResult, DriverError> {
        let (scoped, update) = self.checked_update(filter, update).await?;
        Ok(self.collection.update_one(scoped, update).await?)
    }

    /// Applies an operator update to every one of the owner's documents that match.
    ///
    /// # Errors
    /// As [`update_one`](Self::update_one).
    pub async fn update_many(
        &self,
        filter: Document,
        update: Document,
    ) -> Result<UpdateResult, DriverError> {
        let (scoped, update) = self.checked_update(filter, update).await?;
        Ok(self.collection.update_many(scoped, update).await?)
    }

    async fn checked_update(
        &self,
        filter: Document,
        update: Document,
    ) -> Result<(Document, Document), DriverError> {
        let scoped = self.scoped_filter(filter)?;
        if !update.keys().all(|key| key.starts_with('$')) || update.is_empty() {
            return Err(Rejected::new(
                Problem::ShapeInvalid {
                    expected: "update operators (`$set`, `$inc`, ...)",
                },
                "update".to_owned(),
            )
            .into());
        }
        let mut update = self.scope.update(&update)?;
        if let Some(audit) = &self.audit {
            update = audit.update(&update)?;
        }
        self.check_references(self.references.in_update(&update)?)
            .await?;
        Ok((scoped, update))
    }

    /// Deletes the first of the owner's documents that match.
    ///
    /// # Errors
    /// [`DriverError::Rejected`] before anything is sent, or the database's error.
    pub async fn delete_one(&self, filter: Document) -> Result<DeleteResult, DriverError> {
        let scoped = self.scoped_filter(filter)?;
        Ok(self.collection.delete_one(scoped).await?)
    }

    /// Deletes every one of the owner's documents that match.
    ///
    /// # Errors
    /// [`DriverError::Rejected`] before anything is sent, or the database's error.
    pub async fn delete_many(&self, filter: Document) -> Result<DeleteResult, DriverError> {
        let scoped = self.scoped_filter(filter)?;
        Ok(self.collection.delete_many(scoped).await?)
    }

    /// Runs a client's pipeline behind the owner's `$match` (see [`Scope::pipeline`]).
    ///
    /// # Errors
    /// [`DriverError::Rejected`] before anything is sent, or the database's error.
    pub async fn aggregate(
        &self,
        pipeline: Vec<Document>,
    ) -> Result<Cursor<Document>, DriverError> {
        let scoped = self.scope.pipeline(&pipeline)?;
        Ok(self.collection.aggregate(scoped).await?)
    }

    /// Checks that every reference exists in its collection (for the same owner unless the
    /// key is shared), one query per declared key.
    async fn check_references(&self, references: Vec<Reference<'_>>) -> Result<(), DriverError> {
        let database = self
            .collection
            .client()
            .database(&self.collection.namespace().db);
        let mut remaining = references;
        while let Some(first) = remaining.first() {
            let key = first.key;
            let (same_key, rest): (Vec<_>, Vec<_>) = remaining
                .into_iter()
                .partition(|r| std::ptr::eq(r.key, key));
            remaining = rest;
            let ids: Vec<Bson> = same_key.iter().map(|r| r.id.clone()).collect();
            let mut lookup = doc! {"_id": {"$in": ids}};
            if !key.is_shared() {
                lookup.insert(self.scope.field(), self.scope.owner().clone());
            }
            let found: Vec<Document> = database
                .collection::<Document>(key.collection())
                .find(lookup)
                .projection(doc! {"_id": 1})
                .await?
                .try_collect()
                .await?;
            let exists = |id: &Bson| found.iter().any(|d| d.get("_id") == Some(id));
            if let Some(missing) = same_key.iter().find(|r| !exists(&r.id)) {
                return Err(missing.missing().into());
            }
        }
        Ok(())
    }
}

impl<T: Serialize + DeserializeOwned + Send + Sync> ScopedCollection<T> {
    /// The first of the owner's documents that match `filter`.
    ///
    /// # Errors
    /// [`DriverError::Rejected`] before anything is sent, or the database's error.
    pub async fn find_one(&self, filter: Document) -> Result<Option<T>, DriverError> {
        let scoped = self.scoped_filter(filter)?;
        Ok(self.collection.find_one(scoped).await?)
    }

    /// Replaces the first of the owner's documents that match with `replacement` (owner set,
    /// another owner refused). Refused with an audit set: a replacement would erase
    /// `created_*`; use an operator update.
    ///
    /// # Errors
    /// [`DriverError::Rejected`] before anything is sent, or the database's error.
    pub async fn replace_one(
        &self,
        filter: Document,
        replacement: &T,
    ) -> Result<UpdateResult, DriverError> {
        let scoped = self.scoped_filter(filter)?;
        let document = to_document(replacement)?;
        let owned = self.scope.update(&document)?;
        if let Some(audit) = &self.audit {
            audit.update(&owned)?;
        }
        self.check_references(self.references.in_document(&owned)?)
            .await?;
        Ok(self
            .collection
            .clone_with_type::<Document>()
            .replace_one(scoped, owned)
            .await?)
    }

    /// Inserts one document with the owner (and the audit stamps) set.
    ///
    /// # Errors
    /// [`DriverError::Rejected`] before anything is sent (including a missing reference), or
    /// the database's error.
    pub async fn insert_one(&self, document: &T) -> Result<InsertOneResult, DriverError> {
        let prepared = self.prepared(document)?;
        self.check_references(self.references.in_document(&prepared)?)
            .await?;
        Ok(self
            .collection
            .clone_with_type::<Document>()
            .insert_one(prepared)
            .await?)
    }

    /// Inserts documents with the owner (and the audit stamps) set; nothing is sent unless
    /// every document passes.
    ///
    /// # Errors
    /// As [`insert_one`](Self::insert_one); a refusal's path starts with the document's
    /// index (`documents[2].profile.$x`).
    pub async fn insert_many(&self, documents: &[T]) -> Result<InsertManyResult, DriverError> {
        let mut prepared = Vec::with_capacity(documents.len());
        let mut references = Vec::new();
        for (index, document) in documents.iter().enumerate() {
            let one = self.prepared(document).map_err(|e| in_batch(e, index))?;
            prepared.push(one);
        }
        for (index, one) in prepared.iter().enumerate() {
            let found = self
                .references
                .in_document(one)
                .map_err(|e| in_batch(e.into(), index))?;
            references.extend(found.into_iter().map(|mut r| {
                r.path = r
                    .path
                    .replacen("document", &format!("documents[{index}]"), 1);
                r
            }));
        }
        self.check_references(references).await?;
        Ok(self
            .collection
            .clone_with_type::<Document>()
            .insert_many(prepared)
            .await?)
    }

    fn prepared(&self, document: &T) -> Result<Document, DriverError> {
        let owned = self.scope.insert(&to_document(document)?)?;
        Ok(match &self.audit {
            Some(audit) => audit.insert(owned),
            None => owned,
        })
    }
}

fn to_document<T: Serialize>(value: &T) -> Result<Document, DriverError> {
    bson::to_document(value).map_err(|_| DriverError::Serialize)
}

/// A refusal of one document of a batch, its path starting `documents[index]`.
fn in_batch(error: DriverError, index: usize) -> DriverError {
    match error {
        DriverError::Rejected(rejected) => {
            let path = rejected
                .path()
                .replacen("document", &format!("documents[{index}]"), 1);
            DriverError::Rejected(Rejected::new(rejected.problem().clone(), path))
        }
        other => other,
    }
}
