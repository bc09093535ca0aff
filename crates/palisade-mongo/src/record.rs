//! Typed fields in records a client writes: the same policy that types filters converts the
//! strings of a new document or an update's values, as the reference back end converts
//! `*_id` strings to ObjectIds before it stores them.

use bson::{Bson, Document};

use crate::error::{Rejected, shown};
use crate::fields::{convert_value, converts, value_fits};
use crate::guard::FilterPolicy;

impl FilterPolicy {
    /// Converts the typed fields of a record a client sent (a new document, or the fields of
    /// a `$set`) in place: a string in an ObjectId, UUID or date field becomes that type, in
    /// sub-documents and arrays too; a value of the field's type or null stays.
    ///
    /// ```
    /// use bson::{doc, oid::ObjectId};
    /// use palisade_mongo::FilterPolicy;
    ///
    /// let policy = FilterPolicy::default().object_id_field("*_id");
    /// let mut record = doc! {"title": "Plan", "project_id": "65a1b2c3d4e5f60718293a4b"};
    /// policy.type_record(&mut record)?;
    /// assert_eq!(record.get_object_id("project_id")?, ObjectId::parse_str("65a1b2c3d4e5f60718293a4b")?);
    ///
    /// let refused = policy.type_record(&mut doc! {"client_id": "65a1"}).unwrap_err();
    /// assert_eq!(refused.path(), "document.client_id");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Rejected`] (`400`) naming the first field whose value cannot be its type, at
    /// `document.PATH`; the record is then left partly converted and must not be written.
    pub fn type_record(&self, record: &mut Document) -> Result<(), Rejected> {
        self.type_fields(record, None)
    }

    fn type_fields(&self, record: &mut Document, prefix: Option<&str>) -> Result<(), Rejected> {
        for (key, value) in record.iter_mut() {
            let path = match prefix {
                Some(prefix) => format!("{prefix}.{key}"),
                None => key.clone(),
            };
            let refused = |problem| Rejected::new(problem, format!("document.{}", shown(&path)));
            if let Some(kind) = converts(self.kind_of(&path)) {
                if let Bson::Array(items) = &*value {
                    for item in items {
                        value_fits(Some(kind), item).map_err(refused)?;
                    }
                } else {
                    value_fits(Some(kind), value).map_err(refused)?;
                }
                convert_value(kind, value);
                continue;
            }
            match value {
                Bson::Document(inner) => self.type_fields(inner, Some(&path))?,
                Bson::Array(items) => {
                    for item in items {
                        if let Bson::Document(inner) = item {
                            self.type_fields(inner, Some(&path))?;
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}
