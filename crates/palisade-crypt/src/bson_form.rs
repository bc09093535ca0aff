//! BSON: ciphertexts as `Binary` subtype 6, and `EncryptedFields`, the field map that
//! encrypts documents on write, decrypts them on read and rewrites filters to blind indexes.

use std::fmt;
use std::sync::Arc;

use bson::spec::BinarySubtype;
use bson::{Binary, Bson, Document, doc};

use crate::blind::BlindIndex;
use crate::context::Context;
use crate::envelope::Envelope;
use crate::error::{CryptError, Result};
use crate::format::Ciphertext;
use crate::keys::KeyScope;

/// The suffix of a blind index's field: `email` is searched through `email_bidx`.
pub const BLIND_INDEX_SUFFIX: &str = "_bidx";

/// A ciphertext as BSON `Binary` of subtype 6 (encrypted).
#[must_use]
pub fn to_binary(ciphertext: &Ciphertext) -> Bson {
    Bson::Binary(Binary {
        subtype: BinarySubtype::Encrypted,
        bytes: ciphertext.as_bytes().to_vec(),
    })
}

/// The ciphertext in a BSON `Binary` of subtype 6.
///
/// # Errors
/// [`CryptError::Malformed`] for any other BSON value or bytes that do not parse.
pub fn from_binary(value: &Bson) -> Result<Ciphertext> {
    match value {
        Bson::Binary(Binary {
            subtype: BinarySubtype::Encrypted,
            bytes,
        }) => Ciphertext::from_bytes(bytes.clone()),
        _ => Err(CryptError::Malformed {
            what: "an encrypted field holds a BSON binary of subtype 6",
        }),
    }
}

/// Where a document's fields live: the tenant (a database), the collection and, for values,
/// the document's `_id`. Each encrypted value is bound to `tenant`, `collection`, its field
/// and `id`; a blind index to `tenant`, `collection` and its field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldPlace {
    tenant: String,
    collection: String,
    id: Option<String>,
}

impl FieldPlace {
    /// The fields of `collection` in `tenant`'s database.
    #[must_use]
    pub fn new(tenant: impl Into<String>, collection: impl Into<String>) -> Self {
        Self {
            tenant: tenant.into(),
            collection: collection.into(),
            id: None,
        }
    }

    /// The same place in one document, whose `_id` is `id`.
    #[must_use]
    pub fn document(&self, id: &Bson) -> Self {
        Self {
            id: Some(id_text(id)),
            ..self.clone()
        }
    }

    fn domain(&self, field: &str) -> Result<Context> {
        Context::new()
            .with("tenant", self.tenant.as_str())?
            .with("collection", self.collection.as_str())?
            .with("field", field)
    }

    fn value_context(&self, field: &str) -> Result<Context> {
        let id = self
            .id
            .as_deref()
            .ok_or_else(|| CryptError::FieldNotSearchable {
                field: field.to_owned(),
                problem: "written without the document's _id",
            })?;
        self.domain(field)?.with("id", id)
    }
}

/// An `_id` as text: an ObjectId's hex, a string as itself, anything else as relaxed
/// extended JSON.
fn id_text(id: &Bson) -> String {
    match id {
        Bson::ObjectId(oid) => oid.to_hex(),
        Bson::String(s) => s.clone(),
        other => other.clone().into_relaxed_extjson().to_string(),
    }
}

struct FieldSpec {
    name: String,
    index: Option<(Arc<BlindIndex>, String)>,
}

/// Which top-level fields of a collection's documents are encrypted, and which of them have a
/// blind index (`NAME_bidx`, stored beside the ciphertext). [`ScopedCollection`] in
/// `palisade-mongo` uses it to encrypt on write, decrypt on read and rewrite filters; the
/// methods here are that work, for any other driver code.
///
/// A value is stored as the BSON of `{"v": value}` encrypted (its type survives), in a
/// `Binary` of subtype 6. A filter on an encrypted field is rewritten to its blind index
/// (`{email: "a@b"}`, `$eq`, `$in`) or refused with [`CryptError::FieldNotSearchable`]
/// naming the field: never a silent comparison of a plaintext with a ciphertext. Equal
/// values of different BSON types (the int32 `1` and the int64 `1`) have different indexes.
///
/// [`ScopedCollection`]: https://docs.rs/palisade-mongo
pub struct EncryptedFields {
    envelope: Arc<Envelope>,
    fields: Vec<FieldSpec>,
}

impl EncryptedFields {
    /// No encrypted field yet, with data keys from `envelope`.
    #[must_use]
    pub fn new(envelope: Arc<Envelope>) -> Self {
        Self {
            envelope,
            fields: Vec::new(),
        }
    }

    /// Encrypts top-level field `name`; filters on it are refused.
    ///
    /// # Errors
    /// [`CryptError::ContextInvalid`] when the name is not a plain top-level field (no `.`,
    /// no leading `$`, not `_id`) or is given twice.
    pub fn field(self, name: &str) -> Result<Self> {
        self.with(name, None)
    }

    /// Encrypts top-level field `name` and keeps its blind index in `NAME_bidx`, so equality
    /// filters on it work (see [`BlindIndex`] for what that leaks).
    ///
    /// # Errors
    /// As [`field`](Self::field).
    pub fn searchable(self, name: &str, index: Arc<BlindIndex>) -> Result<Self> {
        self.with(name, Some(index))
    }

    fn with(mut self, name: &str, index: Option<Arc<BlindIndex>>) -> Result<Self> {
        crate::context::check_name(name)?;
        if name.contains('.') || name == "_id" || self.spec(name).is_some() {
            return Err(CryptError::context(name, "not a new plain top-level field"));
        }
        self.fields.push(FieldSpec {
            name: name.to_owned(),
            index: index.map(|i| (i, format!("{name}{BLIND_INDEX_SUFFIX}"))),
        });
        Ok(self)
    }

    fn spec(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The envelope.
    #[must_use]
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The encrypted fields' names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name.as_str())
    }

    /// Whether `path` is an encrypted field, a blind index, or inside one of them.
    #[must_use]
    pub fn covers(&self, path: &str) -> bool {
        let top = path.split('.').next().unwrap_or(path);
        self.fields
            .iter()
            .any(|f| f.name == top || f.index.as_ref().is_some_and(|(_, field)| field == top))
    }

    /// Encrypts every encrypted field present in `document` (whose `_id` must be set) under
    /// `scope`'s data key, and sets their blind indexes. A client-supplied `NAME_bidx` is
    /// replaced.
    ///
    /// # Errors
    /// [`CryptError::FieldNotSearchable`] when `_id` is missing; any error of
    /// [`Envelope::encrypt`].
    pub async fn encrypt_document(
        &self,
        scope: &KeyScope,
        place: &FieldPlace,
        document: &mut Document,
    ) -> Result<()> {
        let Some(id) = document.get("_id").cloned() else {
            if let Some(first) = self.fields.iter().find(|f| document.contains_key(&f.name)) {
                return Err(CryptError::FieldNotSearchable {
                    field: first.name.clone(),
                    problem: "written without the document's _id",
                });
            }
            return Ok(());
        };
        let place = place.document(&id);
        for spec in &self.fields {
            if let Some((_, field)) = &spec.index {
                document.remove(field);
            }
            let Some(value) = document.get(&spec.name) else {
                continue;
            };
            let (sealed, index) = self.seal(scope, &place, spec, value).await?;
            document.insert(spec.name.clone(), sealed);
            if let Some((field, index)) = index {
                document.insert(field, index);
            }
        }
        Ok(())
    }

    async fn seal(
        &self,
        scope: &KeyScope,
        place: &FieldPlace,
        spec: &FieldSpec,
        value: &Bson,
    ) -> Result<(Bson, Option<(String, Bson)>)> {
        let plaintext = zeroize::Zeroizing::new(value_bytes(value)?);
        let context = place.value_context(&spec.name)?;
        let ciphertext = self.envelope.encrypt(scope, &context, &plaintext).await?;
        let index = match &spec.index {
            Some((index, field)) => Some((
                field.clone(),
                index_bson(index.compute(&place.domain(&spec.name)?, &plaintext)),
            )),
            None => None,
        };
        Ok((to_binary(&ciphertext), index))
    }

    /// Decrypts every encrypted field of `document` in place and removes the blind indexes;
    /// returns whether any value's key is due for rotation.
    ///
    /// # Errors
    /// [`CryptError::Malformed`] when an encrypted field does not hold a ciphertext (a value
    /// written around the field map); any error of [`Envelope::decrypt`].
    pub async fn decrypt_document(
        &self,
        place: &FieldPlace,
        document: &mut Document,
    ) -> Result<bool> {
        let id = document.get("_id").cloned().unwrap_or(Bson::Null);
        let place = place.document(&id);
        let mut rotate_due = false;
        for spec in &self.fields {
            if let Some((_, field)) = &spec.index {
                document.remove(field);
            }
            let Some(value) = document.get(&spec.name) else {
                continue;
            };
            let ciphertext = from_binary(value)?;
            let decrypted = self
                .envelope
                .decrypt(&place.value_context(&spec.name)?, &ciphertext)
                .await?;
            rotate_due |= decrypted.rotate_due;
            let value = value_from_bytes(decrypted.plaintext.expose_bytes())?;
            document.insert(spec.name.clone(), value);
        }
        Ok(rotate_due)
    }

    /// Rewrites every condition on an encrypted field in `filter` (at the top level and
    /// inside `$and`, `$or`, `$nor`) to its blind index: `{f: v}` and `{f: {$eq: v}}` become
    /// `{f_bidx: index(v)}`, `{f: {$in: [..]}}` becomes `{f_bidx: {$in: [..]}}`.
    ///
    /// # Errors
    /// [`CryptError::FieldNotSearchable`] naming the field for any other condition on it, a
    /// path inside it, or a field without a blind index.
    pub fn rewrite_filter(&self, place: &FieldPlace, filter: &mut Document) -> Result<()> {
        let keys: Vec<String> = filter.keys().cloned().collect();
        for key in keys {
            if matches!(key.as_str(), "$and" | "$or" | "$nor") {
                if let Some(Bson::Array(branches)) = filter.get_mut(&key) {
                    for branch in branches {
                        if let Bson::Document(branch) = branch {
                            self.rewrite_filter(place, branch)?;
                        }
                    }
                }
                continue;
            }
            let top = key.split('.').next().unwrap_or(&key).to_owned();
            let Some(spec) = self.spec(&top) else {
                if self.covers(&key) {
                    return Err(not_searchable(&top, "filtered on its blind index directly"));
                }
                continue;
            };
            if key != top {
                return Err(not_searchable(&spec.name, "searched inside"));
            }
            let Some((index, field)) = &spec.index else {
                return Err(not_searchable(
                    &spec.name,
                    "searched: it has no blind index",
                ));
            };
            let condition = filter.remove(&key).unwrap_or(Bson::Null);
            let domain = place.domain(&spec.name)?;
            let blind = |value: &Bson| -> Result<Bson> {
                let bytes = zeroize::Zeroizing::new(value_bytes(value)?);
                Ok(index_bson(index.compute(&domain, &bytes)))
            };
            let rewritten = match &condition {
                Bson::Document(ops) if ops.keys().any(|k| k.starts_with('$')) => {
                    if ops.len() != 1 {
                        return Err(not_searchable(&spec.name, "compared except by $eq or $in"));
                    }
                    match ops.iter().next() {
                        Some((op, value)) if op == "$eq" => blind(value)?,
                        Some((op, Bson::Array(values))) if op == "$in" => Bson::Document(
                            doc! {"$in": values.iter().map(blind).collect::<Result<Vec<_>>>()?},
                        ),
                        _ => {
                            return Err(not_searchable(
                                &spec.name,
                                "compared except by $eq or $in",
                            ));
                        }
                    }
                }
                value => blind(value)?,
            };
            filter.insert(field.clone(), rewritten);
        }
        Ok(())
    }

    /// Encrypts the encrypted fields an update sets (`$set`, `$setOnInsert`) for the document
    /// `place` names (its `_id` known), sets their blind indexes, and unsets the index with
    /// the field (`$unset`).
    ///
    /// # Errors
    /// [`CryptError::FieldNotSearchable`] naming the field for any other operator on it
    /// (`$inc`, `$push`, `$rename`, ...), a path inside it, or a write to a blind index;
    /// any error of [`Envelope::encrypt`].
    pub async fn encrypt_update(
        &self,
        scope: &KeyScope,
        place: &FieldPlace,
        update: &mut Document,
    ) -> Result<()> {
        for (operator, fields) in update.iter_mut() {
            let Bson::Document(fields) = fields else {
                continue;
            };
            let touched: Vec<String> = fields.keys().filter(|k| self.covers(k)).cloned().collect();
            for key in touched {
                let top = key.split('.').next().unwrap_or(&key).to_owned();
                let Some(spec) = self.spec(&top).filter(|_| key == top) else {
                    return Err(not_searchable(
                        &top,
                        "updated inside, or its blind index written",
                    ));
                };
                match operator.as_str() {
                    "$set" | "$setOnInsert" => {
                        let value = fields.remove(&key).unwrap_or(Bson::Null);
                        let (sealed, index) = self.seal(scope, place, spec, &value).await?;
                        fields.insert(key, sealed);
                        if let Some((field, index)) = index {
                            fields.insert(field, index);
                        }
                    }
                    "$unset" => {
                        if let Some((_, field)) = &spec.index {
                            fields.insert(field.clone(), "");
                        }
                    }
                    _ => {
                        return Err(not_searchable(
                            &spec.name,
                            "updated except by $set or $unset",
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

fn not_searchable(field: &str, problem: &'static str) -> CryptError {
    CryptError::FieldNotSearchable {
        field: crate::context::printable_name(field),
        problem,
    }
}

fn index_bson(bytes: Vec<u8>) -> Bson {
    Bson::Binary(Binary {
        subtype: BinarySubtype::Generic,
        bytes,
    })
}

/// A value as the bytes of `{"v": value}`.
fn value_bytes(value: &Bson) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    doc! {"v": value.clone()}
        .to_writer(&mut bytes)
        .map_err(|e| CryptError::Value {
            direction: "serialized",
            source: Box::new(e),
        })?;
    Ok(bytes)
}

fn value_from_bytes(bytes: &[u8]) -> Result<Bson> {
    let document = Document::from_reader(bytes).map_err(|e| CryptError::Value {
        direction: "deserialized",
        source: Box::new(e),
    })?;
    document.get("v").cloned().ok_or(CryptError::Malformed {
        what: "the decrypted value is not a wrapped BSON value",
    })
}

impl fmt::Debug for EncryptedFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedFields")
            .field("key_name", self.envelope.key_name())
            .field(
                "fields",
                &self
                    .fields
                    .iter()
                    .map(|f| (&f.name, f.index.is_some()))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}
