//! Selecting one field of a secret whose value is a JSON object (`aws-sm:prod/db#dsn`).

use std::collections::HashMap;

use serde_json::value::RawValue;
use zeroize::Zeroize;

use crate::{SecretError, SecretRef, SecretValue};

/// Applies `reference`'s `#field` to `value`: without a field the value is returned as it is;
/// with one, the value must be a JSON object with that key, and the field's value is returned
/// (a JSON string unescaped, anything else as its JSON text). Metadata is kept.
///
/// The object is parsed without copying the other fields' values, and the unescaped copy made
/// for a string field is moved into the result, never left behind.
///
/// ```
/// use palisade_secrets::{SecretRef, SecretValue, select_field};
///
/// let reference: SecretRef = "aws-sm:prod/db#dsn".parse()?;
/// let value = SecretValue::from_string(r#"{"dsn": "postgres://app:pw@db/app", "port": 5432}"#.into());
/// let dsn = select_field(value, &reference)?;
/// assert_eq!(dsn.expose_str(), Some("postgres://app:pw@db/app"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`SecretError::NotJsonObject`] when the value is not a JSON object;
/// [`SecretError::FieldMissing`] when it has no such field. Neither carries the value.
pub fn select_field(value: SecretValue, reference: &SecretRef) -> Result<SecretValue, SecretError> {
    let Some(field) = reference.field() else {
        return Ok(value);
    };
    let not_object = || SecretError::NotJsonObject {
        reference: reference.clone(),
    };
    let object: HashMap<std::borrow::Cow<'_, str>, &RawValue> =
        serde_json::from_slice(value.expose_bytes()).map_err(|_| not_object())?;
    let raw = object.get(field).ok_or_else(|| SecretError::FieldMissing {
        reference: reference.clone(),
    })?;
    let text = match serde_json::from_str::<String>(raw.get()) {
        Ok(string) => string,
        Err(_) => raw.get().to_owned(),
    };
    let selected = SecretValue::from_string(text).with_metadata(value.metadata().clone());
    Ok(selected)
}

/// Zeroizes a copy of secret text that could not be moved into a [`SecretValue`].
pub(crate) fn wipe(mut text: String) {
    text.zeroize();
}
