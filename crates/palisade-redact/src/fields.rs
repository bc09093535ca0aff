//! Field masking for structured data (R-RED-2): values under sensitive keys become `***`,
//! whatever the key's case and style; every other string still goes through the text
//! redactor.

use serde::Serialize;
use serde_json::Value;

use crate::Redactor;
use crate::validate::MASK;

/// The default sensitive key words, compared with keys lower-cased and stripped of `_`, `-`,
/// `.` and spaces; a key containing one is sensitive (`user_password`, `passwordHash`,
/// `X-Api-Key`).
pub const DEFAULT_SENSITIVE_KEYS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "authorization",
    "cookie",
    "ssn",
    "creditcard",
    "cardnumber",
    "privatekey",
    "accesskey",
    "credential",
];

/// Masks sensitive fields of JSON values and of anything `Serialize`.
///
/// ```
/// use palisade_redact::FieldMasker;
/// use serde_json::json;
///
/// let masker = FieldMasker::new();
/// let mut event = json!({
///     "user": "ann",
///     "passwordHash": "$argon2id$...",
///     "headers": { "X-Api-Key": "k-123", "Accept": "text/html" },
///     "note": "dsn postgres://app:pw@db/app",
/// });
/// masker.mask(&mut event);
/// assert_eq!(event, json!({
///     "user": "ann",
///     "passwordHash": "***",
///     "headers": { "X-Api-Key": "***", "Accept": "text/html" },
///     "note": "dsn postgres://app:***@db/app",
/// }));
/// ```
#[derive(Debug)]
pub struct FieldMasker {
    keys: Vec<String>,
    redactor: Redactor,
}

impl Default for FieldMasker {
    fn default() -> Self {
        Self::new()
    }
}

impl FieldMasker {
    /// The default sensitive keys and the default text redactor.
    #[must_use]
    pub fn new() -> Self {
        Self::with_redactor(Redactor::new())
    }

    /// The default sensitive keys, with `redactor` for every other string.
    #[must_use]
    pub fn with_redactor(redactor: Redactor) -> Self {
        Self {
            keys: DEFAULT_SENSITIVE_KEYS
                .iter()
                .map(|k| (*k).to_owned())
                .collect(),
            redactor,
        }
    }

    /// The text redactor for strings under keys that are not sensitive.
    #[must_use]
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Also treats keys containing `word` as sensitive (compared in the same normalized form).
    #[must_use]
    pub fn with_key(mut self, word: &str) -> Self {
        self.keys.push(normalize(word));
        self
    }

    /// Whether a field named `key` is sensitive.
    #[must_use]
    pub fn is_sensitive(&self, key: &str) -> bool {
        let key = normalize(key);
        self.keys.iter().any(|word| key.contains(word.as_str()))
    }

    /// Masks `value` in place: sensitive fields (at any depth, in objects inside arrays) become
    /// `"***"` (a `null` stays `null`), other strings are redacted as text.
    pub fn mask(&self, value: &mut Value) {
        match value {
            Value::Object(fields) => {
                for (key, field) in fields.iter_mut() {
                    if self.is_sensitive(key) {
                        if !field.is_null() {
                            *field = Value::String(MASK.to_owned());
                        }
                    } else {
                        self.mask(field);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.mask(item)),
            Value::String(text) => {
                if let std::borrow::Cow::Owned(redacted) = self.redactor.redact(text) {
                    *text = redacted;
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// `value` serialized to JSON and masked.
    ///
    /// # Errors
    /// When `value` cannot be serialized to JSON (a map with non-string keys).
    pub fn mask_serialize<T: Serialize + ?Sized>(
        &self,
        value: &T,
    ) -> Result<Value, serde_json::Error> {
        let mut json = serde_json::to_value(value)?;
        self.mask(&mut json);
        Ok(json)
    }
}

/// Lower case without `_`, `-`, `.` and spaces: `X-Api-Key` and `x_api_key` are `xapikey`.
fn normalize(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_whatever_their_case_and_style() {
        let masker = FieldMasker::new();
        for key in [
            "password",
            "Password",
            "PASSWORD",
            "user_password",
            "passwordHash",
            "api-key",
            "apiKey",
            "x-api-key",
            "authorization",
            "ssn",
            "credit_card",
            "token",
            "secret",
            "AWS_SECRET_ACCESS_KEY",
            "refresh.token",
        ] {
            assert!(masker.is_sensitive(key), "{key}");
        }
        for key in ["user", "email", "id", "created_at", "passage"] {
            assert!(!masker.is_sensitive(key), "{key}");
        }
        assert!(
            FieldMasker::new()
                .with_key("Date-Of-Birth")
                .is_sensitive("dateOfBirth")
        );
    }
}
