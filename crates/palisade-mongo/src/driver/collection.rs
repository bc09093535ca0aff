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
#[cfg(feature = "audit")]
use crate::driver::events::{self, CollectionEvents};
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
    pub(super) collection: Collection<T>,
    scope: Scope,
    audit: Option<Audit>,
    references: ForeignKeys,
    #[cfg(feature = "audit")]
    events: Option<CollectionEvents>,
    #[cfg(feature = "crypt")]
    pub(super) encryption: Option<super::encryption::Encryption>,
}

/// The end event a sent operation still owes (nothing without the `audit` feature).
#[cfg(feature = "audit")]
pub(super) type Running = Option<palisade_audit::RunningQuery>;
/// Without the `audit` feature: nothing owed (a type of its own, so the signatures are the
/// same with and without the feature).
#[cfg(not(feature = "audit"))]
#[derive(Debug, Clone, Copy)]
pub(super) struct Running;

/// The driver's answer, after emitting the end event of `running`.
#[cfg_attr(
    not(feature = "audit"),
    allow(
        clippy::needless_pass_by_value,
        reason = "one signature with and without the feature"
    )
)]
pub(super) fn ended<V>(
    running: Running,
    result: mongodb::error::Result<V>,
    rows: impl FnOnce(&V) -> Option<u64>,
) -> Result<V, DriverError> {
    #[cfg(feature = "audit")]
    if let Some(running) = running {
        events::finish(running, &result, rows);
    }
    #[cfg(not(feature = "audit"))]
    let _ = (running, rows);
    Ok(result?)
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
            #[cfg(feature = "audit")]
            events: None,
            #[cfg(feature = "crypt")]
            encryption: None,
        }
    }

    /// Emits one start and one end event to `audit` for every operation sent (the reference
    /// lookups included), with the filter's shape as `db.query.text` (values replaced by
    /// `?`), and a `GuardRefused` security event for every refusal, when nothing is sent.
    /// A `find` or `aggregate` ends when its cursor opens (its rows are not counted).
    #[cfg(feature = "audit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
    #[must_use]
    pub fn with_events(mut self, audit: palisade_audit::Audit) -> Self {
        let database = self.collection.namespace().db;
        self.events = Some(CollectionEvents::new(audit, &database));
        self
    }

    /// `result`, after emitting `GuardRefused` when it is a refusal.
    pub(super) fn checked<V>(
        &self,
        result: Result<V, impl Into<DriverError>>,
    ) -> Result<V, DriverError> {
        let result = result.map_err(|e| self.trimmed(e.into()));
        #[cfg(feature = "audit")]
        if let (Err(error), Some(events)) = (&result, &self.events) {
            events.refused(error);
        }
        result
    }

    /// Emits the start of `operation` on `collection`, whose shape `shape` gives.
    #[cfg_attr(
        not(feature = "audit"),
        allow(
            clippy::unused_self,
            reason = "one signature with and without the feature"
        )
    )]
    pub(super) fn started(
        &self,
        operation: &'static str,
        collection: &str,
        shape: Option<&Document>,
    ) -> Running {
        #[cfg(feature = "audit")]
        return self
            .events
            .as_ref()
            .map(|events| events.start(operation, collection, shape));
        #[cfg(not(feature = "audit"))]
        {
            let _ = (operation, collection, shape);
            Running
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
    pub(super) fn scoped_filter(&self, filter: Document) -> Result<Document, Rejected> {
        let guarded = self.scope.policy().guard_owned(filter)?;
        Ok(self.scope.filter(self.encrypted_filter(guarded)?))
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
        let scoped = self.checked(self.scoped_filter(filter))?;
        let running = self.started("find", self.collection.name(), Some(&scoped));
        let result = self.collection.find(scoped).with_options(options).await;
        ended(running, result, |_| None)
    }

    /// The number of the owner's documents that match `filter`.
    ///
    /// # Errors
    /// [`DriverError::Rejected`] before anything is sent, or the database's error.
    pub async fn count(&self, filter: Document) -> Result<u64, DriverError> {
        let scoped = self.checked(self.scoped_filter(filter))?;
        let running = self.started("aggregate", self.collection.name(), Some(&scoped));
        let result = self.collection.count_documents(scoped).await;
        ended(running, result, |count| Some(*count))
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
        let (scoped, update) = self.checked(self.checked_update(filter, update).await)?;
        let running = self.started("update", self.collection.name(), Some(&scoped));
        let result = self.collection.update_one(scoped, update).await;
        ended(running, result, |done| Some(done.modified_count))
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
        let (scoped, update) = self.checked(self.checked_update(filter, update).await)?;
        let running = self.started("update", self.collection.name(), Some(&scoped));
        let result = self.collection.update_many(scoped, update).await;
        ended(running, result, |done| Some(done.modified_count))
    }

    async fn checked_update(
        &self,
        filter: Document,
        update: Document,
    ) -> Result<(Document, Document), DriverError> {
        let id = filter.get("_id").cloned();
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
        self.encrypt_update(id.as_ref(), &mut update).await?;
        Ok((scoped, update))
    }

    /// Deletes the first of the owner's documents that match.
    ///
    /// # Errors
    /// [`DriverError::Rejected`] before anything is sent, or the database's error.
    pub async fn delete_one(&self, filter: Document) -> Result<DeleteResult, DriverError> {
        let scoped = self.checked(self.scoped_filter(filter))?;
        let running = self.started("delete", self.collection.name(), Some(&scoped));
        let result = self.collection.delete_one(scoped).await;
        ended(running, result, |done| Some(done.deleted_count))
    }

    /// Deletes every one of the owner's documents that match.
    ///
    /// # Errors
    /// [`DriverError::Rejected`] before anything is sent, or the database's error.
    pub async fn delete_many(&self, filter: Document) -> Result<DeleteResult, DriverError> {
        let scoped = self.checked(self.scoped_filter(filter))?;
        let running = self.started("delete", self.collection.name(), Some(&scoped));
        let result = self.collection.delete_many(scoped).await;
        ended(running, result, |done| Some(done.deleted_count))
    }

    /// Runs a client's pipeline behind the owner's `$match` (see [`Scope::pipeline`]).
    ///
    /// # Errors
    /// [`DriverError::Rejected`] before anything is sent, or the database's error.
    pub async fn aggregate(
        &self,
        pipeline: Vec<Document>,
    ) -> Result<Cursor<Document>, DriverError> {
        let pipeline = self.checked(self.encrypted_pipeline(pipeline))?;
        let scoped = self.checked(self.scope.pipeline(&pipeline))?;
        let running = self.started("aggregate", self.collection.name(), scoped.first());
        let result = self.collection.aggregate(scoped).await;
        ended(running, result, |_| None)
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
            let running = self.started("find", key.collection(), Some(&lookup));
            let result = async {
                database
                    .collection::<Document>(key.collection())
                    .find(lookup)
                    .projection(doc! {"_id": 1})
                    .await?
                    .try_collect::<Vec<Document>>()
                    .await
            }
            .await;
            let found = ended(running, result, |found| Some(found.len() as u64))?;
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
        let scoped = self.checked(self.scoped_filter(filter))?;
        let running = self.started("find", self.collection.name(), Some(&scoped));
        let result = self.collection.find_one(scoped).await;
        ended(running, result, |found| Some(u64::from(found.is_some())))
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
        let (scoped, owned) = self.checked(self.checked_replacement(filter, replacement).await)?;
        let running = self.started("update", self.collection.name(), Some(&scoped));
        let result = self
            .collection
            .clone_with_type::<Document>()
            .replace_one(scoped, owned)
            .await;
        ended(running, result, |done| Some(done.modified_count))
    }

    async fn checked_replacement(
        &self,
        filter: Document,
        replacement: &T,
    ) -> Result<(Document, Document), DriverError> {
        let id = filter.get("_id").cloned();
        let scoped = self.scoped_filter(filter)?;
        let document = to_document(replacement)?;
        let mut owned = self.scope.update(&document)?;
        if let Some(audit) = &self.audit {
            audit.update(&owned)?;
        }
        self.check_references(self.references.in_document(&owned)?)
            .await?;
        self.encrypt_replacement(id, &mut owned).await?;
        Ok((scoped, owned))
    }

    /// Inserts one document with the owner (and the audit stamps) set.
    ///
    /// # Errors
    /// [`DriverError::Rejected`] before anything is sent (including a missing reference), or
    /// the database's error.
    pub async fn insert_one(&self, document: &T) -> Result<InsertOneResult, DriverError> {
        let mut prepared = self.checked(self.prepared(document))?;
        let references = self.checked(self.references.in_document(&prepared))?;
        self.checked(self.check_references(references).await)?;
        self.checked(self.encrypt_new(&mut prepared).await)?;
        let running = self.started("insert", self.collection.name(), None);
        let result = self
            .collection
            .clone_with_type::<Document>()
            .insert_one(prepared)
            .await;
        ended(running, result, |_| Some(1))
    }

    /// Inserts documents with the owner (and the audit stamps) set; nothing is sent unless
    /// every document passes.
    ///
    /// # Errors
    /// As [`insert_one`](Self::insert_one); a refusal's path starts with the document's
    /// index (`documents[2].profile.$x`).
    pub async fn insert_many(&self, documents: &[T]) -> Result<InsertManyResult, DriverError> {
        let prepared = self.checked(self.checked_batch(documents).await)?;
        let running = self.started("insert", self.collection.name(), None);
        let result = self
            .collection
            .clone_with_type::<Document>()
            .insert_many(prepared)
            .await;
        ended(running, result, |done| Some(done.inserted_ids.len() as u64))
    }

    async fn checked_batch(&self, documents: &[T]) -> Result<Vec<Document>, DriverError> {
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
        for one in &mut prepared {
            self.encrypt_new(one).await?;
        }
        Ok(prepared)
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
