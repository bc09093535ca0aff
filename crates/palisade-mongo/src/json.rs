//! Filters from the JSON of a request: MongoDB extended JSON (canonical and relaxed), with
//! the legacy binary form `{"$binary": "<base64>", "$type": "<hex>"}` that older clients and
//! `mongoexport` still write.

use bson::{Bson, Document};
use serde_json::{Map, Value};

use crate::error::{Problem, Rejected};

/// A filter (or any document) from a request's JSON: extended JSON as the server's tools write
/// it, legacy binary included. Nothing is checked here: guard the result.
///
/// ```
/// use palisade_mongo::{FilterPolicy, document_from_json};
///
/// let json = serde_json::json!({"blob": {"$binary": "AAEC", "$type": "00"}, "n": {"$gt": 1}});
/// let filter = document_from_json(json).unwrap();
/// assert!(FilterPolicy::default().guard(&filter).is_ok());
/// assert!(document_from_json(serde_json::json!([1])).is_err());
/// ```
///
/// # Errors
/// A 400 [`Rejected`] at `filter` when the JSON is not an object or not valid extended JSON
/// (a bad `$oid`, a `$binary` that is not base64); the message never holds the input.
pub fn document_from_json(json: Value) -> Result<Document, Rejected> {
    let invalid = |expected| Rejected::new(Problem::ShapeInvalid { expected }, "filter".into());
    if !json.is_object() {
        return Err(invalid("a JSON object"));
    }
    let mut json = json;
    canonical_binary(&mut json);
    match Bson::try_from(json) {
        Ok(Bson::Document(document)) => Ok(document),
        _ => Err(invalid("valid extended JSON")),
    }
}

/// Rewrites every legacy binary object to the canonical form, everywhere in `json`, in place
/// (nothing else is copied).
fn canonical_binary(json: &mut Value) {
    match json {
        Value::Object(object) => match legacy_binary(object) {
            Some(canonical) => *json = canonical,
            None => object.values_mut().for_each(canonical_binary),
        },
        Value::Array(items) => items.iter_mut().for_each(canonical_binary),
        _ => {}
    }
}

/// `{"$binary": "<base64>", "$type": "<one or two hex digits>"}` as the canonical
/// `{"$binary": {"base64": ..., "subType": ...}}`.
fn legacy_binary(object: &Map<String, Value>) -> Option<Value> {
    if object.len() != 2 {
        return None;
    }
    let base64 = object.get("$binary")?.as_str()?;
    let subtype = object.get("$type")?.as_str()?;
    let valid = (1..=2).contains(&subtype.len()) && subtype.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then(
        || serde_json::json!({"$binary": {"base64": base64, "subType": format!("{subtype:0>2}")}}),
    )
}
