//! Field-level encryption in `ScopedCollection` (the `crypt` feature): encrypted fields are
//! written as ciphertexts, read back decrypted, and filtered through their blind indexes.

#[cfg(feature = "crypt")]
use std::sync::Arc;

use bson::{Bson, Document};
#[cfg(feature = "crypt")]
use palisade_crypt::{CryptError, EncryptedFields, FieldPlace, KeyScope};

use crate::driver::{DriverError, ScopedCollection};
#[cfg(feature = "crypt")]
use crate::error::Problem;
use crate::{Guarded, Rejected};

/// A collection's encrypted fields and whose data key encrypts them.
#[cfg(feature = "crypt")]
#[derive(Debug, Clone)]
pub(crate) struct Encryption {
    fields: Arc<EncryptedFields>,
    key_scope: KeyScope,
    place: FieldPlace,
}

#[cfg(feature = "crypt")]
impl<T: Send + Sync> ScopedCollection<T> {
    /// Encrypts `fields` of this collection's documents under `key_scope`'s data key (the
    /// owner's, for crypto-shredding on erasure, or the tenant's): values are bound to the
    /// database, the collection, the field and the document's `_id` (inserts get an `_id`
    /// when they have none). Filters on an encrypted field go to its blind index or are
    /// refused ([`Problem::FieldEncrypted`], 400, naming the field); updates may `$set` or
    /// `$unset` one only in a filter on `_id`; a pipeline may `$match` one and mention it
    /// nowhere else. Read decrypted values with [`find_decrypted`](Self::find_decrypted) and
    /// [`find_one_decrypted`](Self::find_one_decrypted); `find` returns them encrypted.
    #[cfg_attr(docsrs, doc(cfg(feature = "crypt")))]
    #[must_use]
    pub fn with_encryption(mut self, fields: Arc<EncryptedFields>, key_scope: KeyScope) -> Self {
        let namespace = self.collection.namespace();
        self.encryption = Some(Encryption {
            fields,
            key_scope,
            place: FieldPlace::new(namespace.db, namespace.coll),
        });
        self
    }
}

impl<T: Send + Sync> ScopedCollection<T> {
    /// The guarded filter with conditions on encrypted fields moved to their blind indexes.
    #[cfg_attr(
        not(feature = "crypt"),
        allow(
            clippy::unnecessary_wraps,
            reason = "one signature with and without the feature"
        )
    )]
    pub(super) fn encrypted_filter(&self, filter: Guarded) -> Result<Guarded, Rejected> {
        #[cfg(feature = "crypt")]
        if let Some(encryption) = &self.encryption {
            let mut filter = filter.into_document();
            encryption
                .fields
                .rewrite_filter(&encryption.place, &mut filter)
                .map_err(|e| refused(e, "filter"))?;
            return Ok(Guarded::rewritten(filter));
        }
        Ok(filter)
    }

    /// A pipeline whose `$match` stages are rewritten like filters and whose other stages do
    /// not touch an encrypted field.
    #[cfg_attr(
        not(feature = "crypt"),
        allow(
            clippy::unnecessary_wraps,
            reason = "one signature with and without the feature"
        )
    )]
    pub(super) fn encrypted_pipeline(
        &self,
        pipeline: Vec<Document>,
    ) -> Result<Vec<Document>, Rejected> {
        #[cfg(feature = "crypt")]
        if let Some(encryption) = &self.encryption {
            let mut pipeline = pipeline;
            for (index, stage) in pipeline.iter_mut().enumerate() {
                let at = format!("pipeline[{index}]");
                if let Ok(matched) = stage.get_document_mut("$match") {
                    encryption
                        .fields
                        .rewrite_filter(&encryption.place, matched)
                        .map_err(|e| refused(e, &format!("{at}.$match")))?;
                } else if let Some(field) =
                    mentioned(&encryption.fields, &Bson::Document(stage.clone()))
                {
                    return Err(Rejected::new(
                        Problem::FieldEncrypted {
                            problem: "used in a pipeline except by $match",
                        },
                        format!("{at}.{field}"),
                    ));
                }
            }
            return Ok(pipeline);
        }
        Ok(pipeline)
    }

    /// A refusal whose path goes inside an encrypted field, cut at the field: the keys of an
    /// encrypted value are part of the value (`document.email.<an address>`).
    pub(super) fn trimmed(&self, error: DriverError) -> DriverError {
        #[cfg(feature = "crypt")]
        if let (Some(encryption), DriverError::Rejected(rejected)) = (&self.encryption, &error) {
            let segments: Vec<&str> = rejected.path().split('.').collect();
            if let Some(at) = segments
                .iter()
                .skip(1)
                .position(|segment| encryption.fields.covers(segment))
                .map(|at| at + 1)
                .filter(|at| at + 1 < segments.len())
            {
                let path = segments.get(..=at).unwrap_or_default().join(".");
                return Rejected::new(rejected.problem().clone(), path).into();
            }
        }
        error
    }

    /// Encrypts what an update sets in encrypted fields, for the document `id` names.
    #[allow(
        clippy::unused_async,
        reason = "one signature with and without the feature"
    )]
    pub(super) async fn encrypt_update(
        &self,
        id: Option<&Bson>,
        update: &mut Document,
    ) -> Result<(), DriverError> {
        #[cfg(feature = "crypt")]
        if let Some(encryption) = &self.encryption {
            let touched = update.values().any(|fields| match fields {
                Bson::Document(fields) => fields.keys().any(|k| encryption.fields.covers(k)),
                _ => false,
            });
            if !touched {
                return Ok(());
            }
            let Some(id) = id.filter(|id| !matches!(id, Bson::Document(_))) else {
                let field = update
                    .values()
                    .filter_map(|v| v.as_document())
                    .flat_map(Document::keys)
                    .find(|k| encryption.fields.covers(k))
                    .cloned()
                    .unwrap_or_default();
                return Err(Rejected::new(
                    Problem::FieldEncrypted {
                        problem: "written except in an update filtered by _id",
                    },
                    format!("update.{field}"),
                )
                .into());
            };
            let place = encryption.place.document(id);
            return encryption
                .fields
                .encrypt_update(&encryption.key_scope, &place, update)
                .await
                .map_err(|e| failed(e, "update"));
        }
        let _ = (id, update);
        Ok(())
    }

    /// Encrypts a replacement document for the document `id` (from the filter, or its own).
    #[allow(
        clippy::unused_async,
        reason = "one signature with and without the feature"
    )]
    pub(super) async fn encrypt_replacement(
        &self,
        id: Option<Bson>,
        document: &mut Document,
    ) -> Result<(), DriverError> {
        #[cfg(feature = "crypt")]
        if self.encryption.is_some() {
            if let Some(id) = id.filter(|id| !matches!(id, Bson::Document(_)))
                && !document.contains_key("_id")
            {
                document.insert("_id", id);
            }
            return self.encrypt_new(document).await;
        }
        let _ = (id, document);
        Ok(())
    }

    /// Encrypts a new document's encrypted fields, giving it an `_id` when it has none.
    #[allow(
        clippy::unused_async,
        reason = "one signature with and without the feature"
    )]
    pub(super) async fn encrypt_new(&self, document: &mut Document) -> Result<(), DriverError> {
        #[cfg(feature = "crypt")]
        if let Some(encryption) = &self.encryption {
            if !document.contains_key("_id") {
                document.insert("_id", bson::oid::ObjectId::new());
            }
            return encryption
                .fields
                .encrypt_document(&encryption.key_scope, &encryption.place, document)
                .await
                .map_err(|e| failed(e, "document"));
        }
        let _ = document;
        Ok(())
    }
}

#[cfg(feature = "crypt")]
impl<T: serde::de::DeserializeOwned + Send + Sync + 'static> ScopedCollection<T> {
    /// The owner's documents that match `filter`, with their encrypted fields decrypted.
    ///
    /// # Errors
    /// As [`find`](Self::find); [`DriverError::Crypt`] when a value cannot be decrypted (its
    /// key shredded or unreachable) or a document is not a `T`.
    #[cfg_attr(docsrs, doc(cfg(feature = "crypt")))]
    pub async fn find_decrypted(
        &self,
        filter: Document,
        options: impl Into<Option<mongodb::options::FindOptions>>,
    ) -> Result<Vec<T>, DriverError> {
        use futures_util::TryStreamExt as _;
        let scoped = self.checked(self.scoped_filter(filter))?;
        let running = self.started("find", self.collection.name(), Some(&scoped));
        let result = async {
            self.collection
                .clone_with_type::<Document>()
                .find(scoped)
                .with_options(options)
                .await?
                .try_collect::<Vec<Document>>()
                .await
        }
        .await;
        let documents =
            super::collection::ended(running, result, |found| Some(found.len() as u64))?;
        let mut decrypted = Vec::with_capacity(documents.len());
        for document in documents {
            decrypted.push(self.decrypted(document).await?);
        }
        Ok(decrypted)
    }

    /// The first of the owner's documents that match `filter`, decrypted.
    ///
    /// # Errors
    /// As [`find_decrypted`](Self::find_decrypted).
    #[cfg_attr(docsrs, doc(cfg(feature = "crypt")))]
    pub async fn find_one_decrypted(&self, filter: Document) -> Result<Option<T>, DriverError> {
        let scoped = self.checked(self.scoped_filter(filter))?;
        let running = self.started("find", self.collection.name(), Some(&scoped));
        // `find_one`, as the driver sends it: one batch, no cursor left for a `getMore`.
        let result = self
            .collection
            .clone_with_type::<Document>()
            .find_one(scoped)
            .await;
        let found =
            super::collection::ended(running, result, |found| Some(u64::from(found.is_some())))?;
        match found {
            Some(document) => Ok(Some(self.decrypted(document).await?)),
            None => Ok(None),
        }
    }

    async fn decrypted(&self, mut document: Document) -> Result<T, DriverError> {
        if let Some(encryption) = &self.encryption {
            encryption
                .fields
                .decrypt_document(&encryption.place, &mut document)
                .await
                .map_err(DriverError::Crypt)?;
        }
        // A collection of `Document`s takes the document as it is (no serde round trip).
        let document: Box<dyn std::any::Any> = Box::new(document);
        match document.downcast::<T>() {
            Ok(same) => Ok(*same),
            Err(document) => match document.downcast::<Document>() {
                Ok(document) => bson::from_document(*document).map_err(|_| DriverError::Serialize),
                Err(_) => Err(DriverError::Serialize),
            },
        }
    }
}

/// A refusal for a field map's refusal, at `root`.
#[cfg(feature = "crypt")]
fn refused(error: CryptError, root: &str) -> Rejected {
    match error {
        CryptError::FieldNotSearchable { field, problem } => Rejected::new(
            Problem::FieldEncrypted { problem },
            format!("{root}.{field}"),
        ),
        _ => Rejected::new(
            Problem::ShapeInvalid {
                expected: "conditions an encrypted field can answer",
            },
            root.to_owned(),
        ),
    }
}

/// A field map's failure while writing: a refusal (400) or the envelope's own error.
#[cfg(feature = "crypt")]
fn failed(error: CryptError, root: &str) -> DriverError {
    match error {
        CryptError::FieldNotSearchable { .. } => refused(error, root).into(),
        other => DriverError::Crypt(other),
    }
}

/// The first encrypted field a stage names, as a key or a `$field` path.
#[cfg(feature = "crypt")]
fn mentioned(fields: &EncryptedFields, value: &Bson) -> Option<String> {
    match value {
        Bson::Document(document) => document.iter().find_map(|(key, value)| {
            if fields.covers(key) {
                Some(key.clone())
            } else {
                mentioned(fields, value)
            }
        }),
        Bson::Array(values) => values.iter().find_map(|v| mentioned(fields, v)),
        Bson::String(text) => text
            .strip_prefix('$')
            .filter(|path| fields.covers(path))
            .map(str::to_owned),
        _ => None,
    }
}
