//! The `audit` feature: one start and one end event for every operation a
//! `ScopedCollection` sends, with the filter's shape (values replaced by `?`), and a
//! `GuardRefused` event for every refusal (nothing sent).

use std::fmt::Write as _;
use std::sync::Arc;

use bson::{Bson, Document};
use palisade_audit::{
    Audit, DbSystem, QueryInfo, QueryTarget, RunningQuery, SecurityEvent, SecurityKind,
};

use super::DriverError;

/// Deeper than this, a shape shows `…`.
const MAX_SHAPE_DEPTH: usize = 16;

/// Where a collection's events go.
#[derive(Debug, Clone)]
pub(super) struct CollectionEvents {
    audit: Audit,
    target: Arc<QueryTarget>,
}

impl CollectionEvents {
    pub(super) fn new(audit: Audit, database: &str) -> Self {
        Self {
            audit,
            target: Arc::new(QueryTarget::new(DbSystem::MongoDb).with_namespace(database)),
        }
    }

    /// Emits `GuardRefused` when `error` is a refusal.
    pub(super) fn refused(&self, error: &DriverError) {
        if let DriverError::Rejected(rejected) = error {
            self.audit.security(
                SecurityEvent::new(SecurityKind::GuardRefused, "palisade-mongo")
                    .with_reason(rejected.problem().id()),
            );
        }
    }

    /// The operation is about to be sent.
    pub(super) fn start(
        &self,
        operation: &'static str,
        collection: &str,
        shape_of: Option<&Document>,
    ) -> RunningQuery {
        let mut info = QueryInfo::new(Arc::clone(&self.target), operation, [collection]);
        if let Some(document) = shape_of {
            info = info.with_text(shape(document));
        }
        self.audit.start_query(info)
    }
}

/// Ends `running` with the driver's answer: rows from `rows` on success, the error's class
/// and code (never its message) on failure.
pub(super) fn finish<V>(
    running: RunningQuery,
    result: &Result<V, mongodb::error::Error>,
    rows: impl FnOnce(&V) -> Option<u64>,
) {
    match result {
        Ok(value) => running.succeeded(rows(value)),
        Err(error) => running.failed(
            super::error::error_type_of(error),
            super::error::code_of(error).map(|c| c.to_string()),
        ),
    }
}

/// `document` with every value replaced by `?` (operators and field names kept, arrays of
/// values collapsed to one `?`): the filter's shape, with nothing a client sent as a value.
pub(crate) fn shape(document: &Document) -> String {
    let mut out = String::with_capacity(128);
    write_document(&mut out, document, 0);
    out
}

fn write_document(out: &mut String, document: &Document, depth: usize) {
    if depth >= MAX_SHAPE_DEPTH {
        out.push('…');
        return;
    }
    out.push('{');
    for (index, (key, value)) in document.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        // Keys are field names and operators; Debug quotes and escapes them.
        let _ = write!(out, "{key:?}: ");
        write_value(out, value, depth + 1);
    }
    out.push('}');
}

fn write_value(out: &mut String, value: &Bson, depth: usize) {
    match value {
        Bson::Document(document) => write_document(out, document, depth),
        Bson::Array(items) => {
            out.push('[');
            let nested: Vec<&Bson> = items
                .iter()
                .filter(|i| matches!(i, Bson::Document(_) | Bson::Array(_)))
                .collect();
            if nested.is_empty() {
                if !items.is_empty() {
                    out.push('?');
                }
            } else {
                for (index, item) in nested.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    write_value(out, item, depth + 1);
                }
            }
            out.push(']');
        }
        _ => out.push('?'),
    }
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::shape;

    #[test]
    fn values_become_question_marks_and_keys_stay() {
        let filter = doc! {
            "$and": [{"title": {"$regex": "^secret"}}, {"user_id": "u-1"}],
            "tags": {"$in": ["a", "b", "c"]},
            "n": 5,
        };
        assert_eq!(
            shape(&filter),
            r#"{"$and": [{"title": {"$regex": ?}}, {"user_id": ?}], "tags": {"$in": [?]}, "n": ?}"#
        );
    }

    #[test]
    fn deep_documents_are_cut() {
        let mut deep = doc! {"x": 1};
        for _ in 0..100 {
            deep = doc! {"a": deep};
        }
        let text = shape(&deep);
        assert!(text.ends_with(&format!("…{}", "}".repeat(16))), "{text}");
    }
}
