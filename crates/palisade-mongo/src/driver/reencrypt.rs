//! Re-encryption: a resumable walk over a collection that encrypts again, under the current
//! keys, every value whose key is due for rotation.

use std::num::NonZeroU32;

use bson::{Bson, Document, doc};
use futures_util::TryStreamExt as _;
use mongodb::Collection;
use palisade_crypt::{EncryptedFields, FieldPlace, KeyScope};

use crate::driver::DriverError;

/// How far a [`reencrypt_batch`] got: pass `next` to the following call (store it to resume
/// after a restart); `None` when the walk is done.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Reencrypted {
    /// The `_id` to continue after, or `None` at the end of the collection.
    pub next: Option<Bson>,
    /// Documents read.
    pub scanned: u64,
    /// Documents whose values were encrypted again.
    pub rewritten: u64,
    /// Documents changed by someone else between the read and the write (left as they are:
    /// the other writer encrypted under the current key).
    pub conflicts: u64,
}

/// Reads up to `batch` documents of `collection` after `after` (in `_id` order), and encrypts
/// again those with a value whose key is due for rotation
/// ([`Decrypted::rotate_due`](palisade_crypt::Decrypted::rotate_due)), under the key of the
/// scope `scope_of` names for the document (its owner's). Each write is conditional on the
/// document's encrypted values being unchanged, so the walk runs beside live traffic and
/// never overwrites a newer value; nothing is locked and the collection stays online.
///
/// `tenant` is the name the collection's values are bound to (its database's name, as
/// `ScopedCollection` binds them).
///
/// # Errors
/// The database's error, or [`DriverError::Crypt`] when a value cannot be decrypted (a
/// shredded key: erase such documents, or skip them by resuming after their `_id`).
pub async fn reencrypt_batch(
    collection: &Collection<Document>,
    fields: &EncryptedFields,
    scope_of: impl Fn(&Document) -> Option<KeyScope>,
    after: Option<Bson>,
    batch: NonZeroU32,
) -> Result<Reencrypted, DriverError> {
    let namespace = collection.namespace();
    let place = FieldPlace::new(namespace.db, namespace.coll);
    let filter = after.map_or_else(Document::new, |id| doc! {"_id": {"$gt": id}});
    let documents: Vec<Document> = collection
        .find(filter)
        .sort(doc! {"_id": 1})
        .limit(i64::from(batch.get()))
        .await?
        .try_collect()
        .await?;
    let mut progress = Reencrypted {
        next: documents.last().and_then(|d| d.get("_id").cloned()),
        scanned: documents.len() as u64,
        rewritten: 0,
        conflicts: 0,
    };
    for stored in documents {
        let mut plain = stored.clone();
        let due = fields
            .decrypt_document(&place, &mut plain)
            .await
            .map_err(DriverError::Crypt)?;
        let Some(scope) = scope_of(&stored).filter(|_| due) else {
            continue;
        };
        // Only the encrypted fields are written again (and their blind indexes).
        let mut values: Document = fields
            .names()
            .filter_map(|name| plain.get(name).map(|v| (name.to_owned(), v.clone())))
            .collect();
        values.insert("_id", stored.get("_id").cloned().unwrap_or(Bson::Null));
        fields
            .encrypt_document(&scope, &place, &mut values)
            .await
            .map_err(DriverError::Crypt)?;
        values.remove("_id");
        let mut unchanged = doc! {"_id": stored.get("_id").cloned().unwrap_or(Bson::Null)};
        for name in fields.names() {
            if let Some(value) = stored.get(name) {
                unchanged.insert(name, value.clone());
            }
        }
        let done = collection
            .update_one(unchanged, doc! {"$set": values})
            .await?;
        if done.matched_count == 1 {
            progress.rewritten += 1;
        } else {
            progress.conflicts += 1;
        }
    }
    Ok(progress)
}
