//! `Context`: where a ciphertext belongs, bound into it as associated data.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::{CryptError, Result};

/// The longest context name, in bytes.
pub const MAX_CONTEXT_NAME: usize = 64;
/// The longest context value, in bytes.
pub const MAX_CONTEXT_VALUE: usize = 1024;
/// The most entries a context holds.
pub const MAX_CONTEXT_ENTRIES: usize = 32;

/// Where a ciphertext belongs: `tenant`, `table` or `collection`, `field`, row or document
/// `id`, anything else that must match. The entries are authenticated with the ciphertext
/// (not stored in it), so a ciphertext copied into another row, field or tenant does not
/// decrypt there.
///
/// Entries are name/value pairs; names are 1 to 64 bytes of ASCII letters, digits and
/// `_ . : -`, each at most once; values are text up to 1,024 bytes. Order does not matter:
/// the bytes bound are the entries sorted by name. `Debug` prints the names only (values may
/// be personal data, such as an email used as an id).
///
/// ```
/// use palisade_crypt::Context;
///
/// let context = Context::new()
///     .with("tenant", "42")?
///     .with("table", "patients")?
///     .with("field", "ssn")?
///     .with("id", "7")?;
/// assert_eq!(format!("{context:?}"), "Context { names: [\"field\", \"id\", \"table\", \"tenant\"] }");
/// # Ok::<(), palisade_crypt::CryptError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Context {
    entries: BTreeMap<String, String>,
}

impl Context {
    /// An empty context (binds nothing but the header).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an entry.
    ///
    /// # Errors
    /// [`CryptError::ContextInvalid`] when the name is empty, too long, has a character
    /// outside `A-Z a-z 0-9 _ . : -`, is already present, the value is too long, or the
    /// context is full.
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Result<Self> {
        self.insert(name, value)?;
        Ok(self)
    }

    /// Adds an entry in place; see [`with`](Self::with).
    ///
    /// # Errors
    /// As [`with`](Self::with).
    pub fn insert(&mut self, name: &str, value: impl Into<String>) -> Result<()> {
        check_name(name)?;
        let value = value.into();
        if value.len() > MAX_CONTEXT_VALUE {
            return Err(CryptError::context(name, "value longer than 1024 bytes"));
        }
        if self.entries.contains_key(name) {
            return Err(CryptError::context(name, "named twice"));
        }
        if self.entries.len() >= MAX_CONTEXT_ENTRIES {
            return Err(CryptError::context(name, "more than 32 entries"));
        }
        self.entries.insert(name.to_owned(), value);
        Ok(())
    }

    /// Parses `name=value[,name=value...]`, the form the CLI takes (ASCII spaces around names
    /// ignored). A value cannot contain `,`; give such entries one at a time with
    /// [`with`](Self::with). Errors name the entry by position (`entry 2`), never its text.
    ///
    /// # Errors
    /// [`CryptError::ContextInvalid`] for an entry without `=` or any problem
    /// [`with`](Self::with) reports.
    pub fn parse_pairs(&mut self, text: &str) -> Result<()> {
        // Errors name the entry by position: a mistyped entry may be part of a value.
        for (index, pair) in text.split(',').enumerate() {
            let entry = || format!("entry {}", index + 1);
            let Some((name, value)) = pair.split_once('=') else {
                return Err(CryptError::ContextInvalid {
                    name: entry(),
                    problem: "not written name=value",
                });
            };
            let name = name.trim_matches(|c: char| c.is_ascii_whitespace());
            self.insert(name, value).map_err(|error| match error {
                CryptError::ContextInvalid { problem, .. } => CryptError::ContextInvalid {
                    name: entry(),
                    problem,
                },
                other => other,
            })?;
        }
        Ok(())
    }

    /// The value of an entry.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries.get(name).map(String::as_str)
    }

    /// The entries' names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// Appends the canonical bytes: `PCX1`, the entry count (u16, big-endian), then per entry
    /// sorted by name: name length (u8), name, value length (u16, big-endian), value.
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"PCX1");
        out.extend_from_slice(&count_u16(self.entries.len()).to_be_bytes());
        for (name, value) in &self.entries {
            out.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&count_u16(value.len()).to_be_bytes());
            out.extend_from_slice(value.as_bytes());
        }
    }

    /// The canonical bytes as a new vector.
    #[must_use]
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            6 + self
                .entries
                .iter()
                .map(|(name, value)| 3 + name.len() + value.len())
                .sum::<usize>(),
        );
        self.encode_into(&mut out);
        out
    }
}

/// Lengths are bounded by the checks above (names ≤ 64, values ≤ 1024, ≤ 32 entries).
fn count_u16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("names", &self.entries.keys().collect::<Vec<_>>())
            .finish()
    }
}

pub(crate) fn check_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(CryptError::context(name, "empty name"));
    }
    if name.len() > MAX_CONTEXT_NAME {
        return Err(CryptError::context(name, "name longer than 64 bytes"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
    {
        return Err(CryptError::context(
            name,
            "name has a character outside A-Z a-z 0-9 _ . : -",
        ));
    }
    Ok(())
}

/// A name as it may appear in an error: checked names as they are, others cut short with
/// every other character shown as `?` (an error must not echo arbitrary input).
pub(crate) fn printable_name(name: &str) -> String {
    name.chars()
        .take(MAX_CONTEXT_NAME)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-') {
                c
            } else {
                '?'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn order_of_insertion_does_not_change_the_bytes() {
        let a = Context::new()
            .with("a", "1")
            .unwrap()
            .with("b", "2")
            .unwrap();
        let b = Context::new()
            .with("b", "2")
            .unwrap()
            .with("a", "1")
            .unwrap();
        assert_eq!(a.canonical_bytes(), b.canonical_bytes());
        assert_eq!(
            a.canonical_bytes(),
            b"PCX1\x00\x02\x01a\x00\x011\x01b\x00\x012".to_vec()
        );
    }

    #[test]
    fn entries_cannot_be_shifted_between_name_and_value() {
        let a = Context::new().with("ab", "c").unwrap();
        let b = Context::new().with("a", "bc").unwrap();
        assert_ne!(a.canonical_bytes(), b.canonical_bytes());
    }

    #[test]
    fn bad_entries_are_refused_by_name() {
        let err = Context::new().with("", "x").unwrap_err();
        assert_eq!(err.to_string(), "invalid encryption context: : empty name");
        let err = Context::new().with("a b=\u{1}", "x").unwrap_err();
        assert!(err.to_string().contains("name has a character"), "{err}");
        assert!(!err.to_string().contains('\u{1}'));
        let err = Context::new()
            .with("a", "1")
            .unwrap()
            .with("a", "2")
            .unwrap_err();
        assert!(err.to_string().contains("named twice"));
        let err = Context::new().with("a", "x".repeat(1025)).unwrap_err();
        assert!(err.to_string().contains("value longer"));
        let mut many = Context::new();
        for i in 0..32 {
            many.insert(&format!("n{i}"), "v").unwrap();
        }
        assert!(many.insert("n32", "v").is_err());
        let mut parsed = Context::new();
        assert!(parsed.parse_pairs("tenant").is_err());
        parsed.parse_pairs("tenant=4=2, field=ssn").unwrap();
        assert_eq!(parsed.get("tenant"), Some("4=2"));
        assert_eq!(parsed.get("field"), Some("ssn"));
    }

    #[test]
    fn debug_prints_no_value() {
        let c = Context::new().with("email", "canary@example.com").unwrap();
        assert_eq!(format!("{c:?}"), "Context { names: [\"email\"] }");
    }
}
