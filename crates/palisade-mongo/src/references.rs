//! Declared foreign keys (R-MDB-4): the ids a write refers to, found so that they can be
//! checked to exist before the write (the `driver` feature does the lookups).

use bson::{Bson, Document};

use crate::error::{Problem, Rejected, shown};

/// Update operators that write a value the client chose into a field.
const SETTING: &[&str] = &["$set", "$setOnInsert"];
/// Update operators that add client-chosen elements to an array.
const ADDING: &[&str] = &["$push", "$addToSet"];
/// Update operators that only remove, so a reference they touch needs no check.
const REMOVING: &[&str] = &["$unset", "$pull", "$pullAll", "$pop"];

/// One declared reference: `field` (dotted for a sub-document, through arrays of
/// sub-documents too) holds the `_id` of a document in `collection`, or an array of them.
///
/// By default the referenced collection belongs to the same owner: a scoped write may only
/// refer to its owner's documents. [`shared`](ForeignKey::shared) lifts that for collections
/// every user may refer to (countries, plans).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    field: String,
    collection: String,
    shared: bool,
}

impl ForeignKey {
    /// `field` refers to documents of `collection` by `_id`.
    #[must_use]
    pub fn new(field: &str, collection: &str) -> Self {
        Self {
            field: field.to_owned(),
            collection: collection.to_owned(),
            shared: false,
        }
    }

    /// Any document of the collection may be referred to, whoever owns it.
    #[must_use]
    pub fn shared(mut self) -> Self {
        self.shared = true;
        self
    }

    /// The referring field.
    #[must_use]
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The referenced collection.
    #[must_use]
    pub fn collection(&self) -> &str {
        &self.collection
    }

    /// Whether the referenced collection is shared by all owners.
    #[must_use]
    pub fn is_shared(&self) -> bool {
        self.shared
    }
}

/// An id that a write refers to, under which key and where in the write.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference<'k> {
    /// The declared key.
    pub key: &'k ForeignKey,
    /// The id written.
    pub id: Bson,
    /// Where it is (`document.project_id`, `update.$push.tag_ids[1]`).
    pub path: String,
}

impl Reference<'_> {
    /// The 422 refusal for this reference when its document does not exist: it names the
    /// field, the collection and the id, never the rest of the write.
    #[must_use]
    pub fn missing(&self) -> Rejected {
        Rejected::new(
            Problem::ReferenceMissing {
                collection: shown(&self.key.collection),
                id: id_text(&self.id),
            },
            self.path.clone(),
        )
    }
}

/// An id as a message shows it: ObjectIds in hex, strings cut to 64 characters, numbers as
/// written, anything else by its kind.
fn id_text(id: &Bson) -> String {
    match id {
        Bson::ObjectId(oid) => oid.to_hex(),
        Bson::String(text) => shown(text),
        Bson::Int32(n) => n.to_string(),
        Bson::Int64(n) => n.to_string(),
        other => format!("a {:?} value", other.element_type()),
    }
}

/// The foreign keys of one collection.
///
/// ```
/// use bson::{doc, oid::ObjectId};
/// use palisade_mongo::{ForeignKey, ForeignKeys};
///
/// let keys = ForeignKeys::new()
///     .with(ForeignKey::new("project_id", "projects"))
///     .with(ForeignKey::new("tag_ids", "tags").shared());
/// let project = ObjectId::new();
/// let found = keys.in_document(&doc! {"title": "x", "project_id": project, "tag_ids": [1, 2]})?;
/// let ids: Vec<_> = found.iter().map(|r| (r.key.collection(), r.path.as_str())).collect();
/// assert_eq!(
///     ids,
///     [("projects", "document.project_id"), ("tags", "document.tag_ids[0]"), ("tags", "document.tag_ids[1]")]
/// );
///
/// // An update can only write a reference by setting or adding it.
/// assert!(keys.in_update(&doc! {"$inc": {"project_id": 1}}).is_err());
/// # Ok::<(), palisade_mongo::Rejected>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForeignKeys {
    /// Shared: the keys are declared once and cloned into every request's collection.
    keys: std::sync::Arc<Vec<ForeignKey>>,
}

impl ForeignKeys {
    /// No references declared.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares one more reference.
    #[must_use]
    pub fn with(mut self, key: ForeignKey) -> Self {
        std::sync::Arc::make_mut(&mut self.keys).push(key);
        self
    }

    /// Whether no reference is declared.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The ids a document to insert (or a replacement) refers to. A `null` or absent field
    /// refers to nothing.
    ///
    /// # Errors
    /// [`Problem::ShapeInvalid`] when a referring field holds a document.
    pub fn in_document(&self, document: &Document) -> Result<Vec<Reference<'_>>, Rejected> {
        let mut found = Vec::new();
        for key in self.keys.iter() {
            let segments: Vec<&str> = key.field.split('.').collect();
            let mut path = String::from("document");
            collect_in_document(key, document, &segments, &mut path, &mut found)?;
        }
        Ok(found)
    }

    /// The ids an operator update writes into referring fields (`$set`, `$setOnInsert`,
    /// `$push` and `$addToSet`, with `$each`, on the field, a parent of it, or an element of
    /// it). Removing a reference needs no check.
    ///
    /// # Errors
    /// [`Problem::ReferenceUnchecked`] when another operator (`$inc`, `$min`, `$rename` into
    /// it, ...) would change a reference; [`Problem::ShapeInvalid`] when a document is written
    /// where an id belongs.
    pub fn in_update(&self, update: &Document) -> Result<Vec<Reference<'_>>, Rejected> {
        let mut found = Vec::new();
        for (operator, fields) in update {
            let Bson::Document(fields) = fields else {
                continue;
            };
            for (written, value) in fields {
                for key in self.keys.iter() {
                    update_entry(key, operator, written, value, &mut found)?;
                }
            }
        }
        Ok(found)
    }
}

fn update_entry<'k>(
    key: &'k ForeignKey,
    operator: &str,
    written: &str,
    value: &Bson,
    found: &mut Vec<Reference<'k>>,
) -> Result<(), Rejected> {
    // The path is built only for a write that touches the reference.
    let at = || format!("update.{}.{}", shown(operator), shown(written));
    let unchecked = || Rejected::new(Problem::ReferenceUnchecked, at());
    if operator == "$rename" {
        let into = value.as_str().unwrap_or_default();
        return match relation(&key.field, into) {
            Relation::Unrelated => Ok(()),
            _ => Err(unchecked()),
        };
    }
    match relation(&key.field, written) {
        Relation::Unrelated => Ok(()),
        _ if REMOVING.contains(&operator) => Ok(()),
        Relation::Within(rest) if SETTING.contains(&operator) => {
            collect(key, value, &rest, &mut at(), found)
        }
        Relation::Within(rest) if ADDING.contains(&operator) => match value {
            Bson::Document(modifiers) if modifiers.contains_key("$each") => {
                match modifiers.get("$each") {
                    Some(Bson::Array(items)) => {
                        each_element(key, items, &rest, &mut format!("{}.$each", at()), found)
                    }
                    _ => Ok(()),
                }
            }
            // `$push` onto the referring array adds one id; onto a parent, one element.
            _ => collect(key, value, &rest, &mut at(), found),
        },
        _ => Err(unchecked()),
    }
}

/// Where a written path lies relative to a referring field, array indexes ignored.
enum Relation<'f> {
    /// Neither is inside the other.
    Unrelated,
    /// The written path is the field or a parent: these segments of the field remain below it.
    Within(Vec<&'f str>),
    /// The written path goes below the field (into an id).
    Below,
}

fn relation<'f>(field: &'f str, written: &str) -> Relation<'f> {
    let mut field_segments = field.split('.');
    let written_segments = written
        .split('.')
        .filter(|segment| !segment.bytes().all(|b| b.is_ascii_digit()));
    for segment in written_segments {
        match field_segments.next() {
            Some(expected) if expected == segment => {}
            Some(_) => return Relation::Unrelated,
            None => return Relation::Below,
        }
    }
    Relation::Within(field_segments.collect())
}

fn collect_in_document<'k>(
    key: &'k ForeignKey,
    document: &Document,
    segments: &[&str],
    path: &mut String,
    found: &mut Vec<Reference<'k>>,
) -> Result<(), Rejected> {
    let Some((first, rest)) = segments.split_first() else {
        return Ok(());
    };
    let Some(value) = document.get(*first) else {
        return Ok(());
    };
    let mark = path.len();
    path.push('.');
    path.push_str(&shown(first));
    let result = collect(key, value, rest, path, found);
    path.truncate(mark);
    result
}

/// The ids in `value`, which sits where `rest` (segments still to follow) leads to the field.
fn collect<'k>(
    key: &'k ForeignKey,
    value: &Bson,
    rest: &[&str],
    path: &mut String,
    found: &mut Vec<Reference<'k>>,
) -> Result<(), Rejected> {
    match (value, rest.is_empty()) {
        (Bson::Null, _) => Ok(()),
        (Bson::Array(items), _) => each_element(key, items, rest, path, found),
        (Bson::Document(document), false) => collect_in_document(key, document, rest, path, found),
        (Bson::Document(_), true) => Err(Rejected::new(
            Problem::ShapeInvalid {
                expected: "an id or an array of ids (a declared reference)",
            },
            path.clone(),
        )),
        (id, true) => {
            found.push(Reference {
                key,
                id: id.clone(),
                path: path.clone(),
            });
            Ok(())
        }
        // A scalar where a sub-document was expected holds no reference.
        (_, false) => Ok(()),
    }
}

fn each_element<'k>(
    key: &'k ForeignKey,
    items: &[Bson],
    rest: &[&str],
    path: &mut String,
    found: &mut Vec<Reference<'k>>,
) -> Result<(), Rejected> {
    for (index, item) in items.iter().enumerate() {
        let mark = path.len();
        path.push_str(&format!("[{index}]"));
        // An array of arrays is not an array of ids.
        let result = match item {
            Bson::Array(_) => Err(Rejected::new(
                Problem::ShapeInvalid {
                    expected: "an id or an array of ids (a declared reference)",
                },
                path.clone(),
            )),
            _ => collect(key, item, rest, path, found),
        };
        path.truncate(mark);
        result?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::*;

    fn keys() -> ForeignKeys {
        ForeignKeys::new()
            .with(ForeignKey::new("project_id", "projects"))
            .with(ForeignKey::new("items.product_id", "products").shared())
    }

    fn paths(found: &[Reference<'_>]) -> Vec<String> {
        found
            .iter()
            .map(|r| format!("{}={}", r.path, id_text(&r.id)))
            .collect()
    }

    #[test]
    fn documents_yield_ids_through_arrays_of_sub_documents() {
        let keys = keys();
        let found = keys
            .in_document(&doc! {
                "project_id": "p1",
                "items": [{"product_id": 7, "n": 1}, {"n": 2}, {"product_id": null}],
            })
            .unwrap_or_default();
        assert_eq!(
            paths(&found),
            ["document.project_id=p1", "document.items[0].product_id=7"]
        );
        let nested = keys.in_document(&doc! {"project_id": {"$gt": ""}});
        assert_eq!(
            nested.map_err(|e| e.path().to_owned()),
            Err("document.project_id".into())
        );
        let no_reference = keys.in_document(&doc! {"name": "x", "items": 3});
        assert_eq!(no_reference.map(|f| f.len()), Ok(0));
    }

    #[test]
    fn updates_yield_ids_set_or_added_and_refuse_other_writes() {
        let keys = keys();
        let found = keys
            .in_update(&doc! {
                "$set": {"project_id": "p2", "items.0.product_id": 9, "other": 1},
                "$push": {"items": {"$each": [{"product_id": 10}]}},
            })
            .unwrap_or_default();
        assert_eq!(
            paths(&found),
            [
                "update.$set.project_id=p2",
                "update.$set.items.0.product_id=9",
                "update.$push.items.$each[0].product_id=10",
            ]
        );
        let parent = keys
            .in_update(&doc! {"$setOnInsert": {"items": [{"product_id": 1}]}})
            .unwrap_or_default();
        assert_eq!(
            paths(&parent),
            ["update.$setOnInsert.items[0].product_id=1"]
        );
        for refused in [
            doc! {"$inc": {"project_id": 1}},
            doc! {"$max": {"items.3.product_id": 1}},
            doc! {"$rename": {"draft": "project_id"}},
            doc! {"$set": {"project_id.x": 1}},
        ] {
            let problem = keys.in_update(&refused).map_err(|e| e.problem().clone());
            assert_eq!(problem, Err(Problem::ReferenceUnchecked), "{refused}");
        }
        let removals = keys
            .in_update(&doc! {"$unset": {"project_id": ""}, "$pull": {"items": {"product_id": 1}}});
        assert_eq!(removals.map(|f| f.len()), Ok(0));
    }

    #[test]
    fn a_missing_reference_is_a_422_naming_field_and_id() {
        let keys = keys();
        let found = keys
            .in_document(&doc! {"project_id": "p-404"})
            .unwrap_or_default();
        let refusal = found.first().map(Reference::missing);
        assert_eq!(
            refusal.as_ref().map(Rejected::status),
            Some(http::StatusCode::UNPROCESSABLE_ENTITY)
        );
        assert_eq!(
            refusal.map(|r| r.to_string()),
            Some(
                "document.project_id refers to `p-404` in `projects`, which does not exist".into()
            )
        );
    }
}
