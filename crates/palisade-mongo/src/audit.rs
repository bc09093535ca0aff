//! `Audit` (R-MDB-4): `created_by`, `created_at`, `updated_by` and `updated_at` stamped from
//! the request's context, never taken from the client.

use bson::{Bson, DateTime, Document, doc};

use crate::error::{Problem, Rejected};
use crate::limits::Limits;
use crate::walk::Walker;

/// The audit fields, in the order they are stamped.
pub const AUDIT_FIELDS: [&str; 4] = ["created_by", "created_at", "updated_by", "updated_at"];

/// Who acts and when, for one request.
///
/// ```
/// use bson::{DateTime, doc};
/// use palisade_mongo::Audit;
///
/// let now = DateTime::from_millis(1_764_000_000_000);
/// let audit = Audit::new("u-42", now);
/// let stamped = audit.insert(doc! {"name": "x", "created_by": "someone-else"});
/// assert_eq!(stamped.get_str("created_by").unwrap(), "u-42");
/// assert_eq!(stamped.get_datetime("updated_at").unwrap(), &now);
///
/// let update = audit.update(&doc! {"$set": {"name": "y"}}).unwrap();
/// assert_eq!(update, doc! {"$set": {"name": "y", "updated_by": "u-42", "updated_at": now}});
/// assert!(audit.update(&doc! {"$set": {"created_at": now}}).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Audit {
    actor: Bson,
    now: DateTime,
}

impl Audit {
    /// `actor` acting at `now` (from the request's clock).
    pub fn new(actor: impl Into<Bson>, now: DateTime) -> Self {
        Self {
            actor: actor.into(),
            now,
        }
    }

    /// A document to insert with all four fields set from the context, replacing whatever
    /// the client sent in them.
    #[must_use]
    pub fn insert(&self, mut document: Document) -> Document {
        for field in ["created_by", "updated_by"] {
            document.insert(field, self.actor.clone());
        }
        for field in ["created_at", "updated_at"] {
            document.insert(field, self.now);
        }
        document
    }

    /// An operator update with `updated_by` and `updated_at` added to its `$set`. A client
    /// write to an audit field (any operator, a dotted path into one) is refused, and so is a
    /// replacement document, which would erase `created_*`.
    ///
    /// # Errors
    /// [`Rejected`] with [`Problem::AuditFieldWritten`] or [`Problem::ShapeInvalid`].
    pub fn update(&self, update: &Document) -> Result<Document, Rejected> {
        Walker::run(Limits::MAX_LIMITS, "update", |walker| {
            if update.keys().any(|k| !k.starts_with('$')) {
                return Err(walker.reject(Problem::ShapeInvalid {
                    expected: "update operators (a replacement would erase created_by and created_at)",
                }));
            }
            for (operator, fields) in update {
                let Bson::Document(fields) = fields else {
                    continue;
                };
                for (path, value) in fields {
                    let renamed_to = (operator == "$rename").then(|| value.as_str()).flatten();
                    if is_audit_path(path) || renamed_to.is_some_and(is_audit_path) {
                        return Err(walker.reject_at_key(
                            &format!("{operator}.{path}"),
                            Problem::AuditFieldWritten,
                        ));
                    }
                }
            }
            Ok(())
        })?;
        let mut stamped = update.clone();
        let stamp = doc! {"updated_by": self.actor.clone(), "updated_at": self.now};
        match stamped.get_mut("$set") {
            Some(Bson::Document(set)) => set.extend(stamp),
            _ => {
                stamped.insert("$set", stamp);
            }
        }
        Ok(stamped)
    }
}

fn is_audit_path(path: &str) -> bool {
    let top = path.split('.').next().unwrap_or_default();
    AUDIT_FIELDS.contains(&top)
}
