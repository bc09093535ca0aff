//! What a filter's fields are known to hold: scalar-only fields by exact path, typed fields
//! (ObjectIds, UUIDs, dates) by exact path or by pattern (`*_id`), and the typing of compared
//! values (a typed field's string is checked here and converted after the guard passed).

use std::borrow::Cow;

use bson::oid::ObjectId;
use bson::{Bson, DateTime, Uuid};

use crate::error::Problem;

/// What a field is known to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldKind {
    Scalar,
    /// A document that holds a scalar field (`profile` when `profile.password` is scalar):
    /// comparing it orders by the scalar inside, so only equality is allowed.
    ScalarParent,
    ObjectId,
    Uuid,
    Date,
}

impl FieldKind {
    /// Whether the kind converts strings (ObjectIds, UUIDs and dates).
    fn typed(self) -> bool {
        matches!(self, Self::ObjectId | Self::Uuid | Self::Date)
    }
}

/// A field pattern: dotted segments where `*` stands for any characters within one segment
/// (never a `.`). A pattern without a dot is matched against a path's last segment, so `*_id`
/// types `client_id`, `project.owner_id` and `_id`; a dotted one against the whole path.
#[derive(Debug, Clone)]
struct FieldPattern {
    segments: Vec<String>,
}

impl FieldPattern {
    fn new(pattern: &str) -> Self {
        Self {
            segments: pattern.split('.').map(str::to_owned).collect(),
        }
    }

    fn matches(&self, path: &str) -> bool {
        if let [only] = self.segments.as_slice() {
            let last = path.rsplit('.').next().unwrap_or(path);
            return glob(only, last);
        }
        let mut parts = path.split('.');
        self.segments
            .iter()
            .all(|segment| parts.next().is_some_and(|part| glob(segment, part)))
            && parts.next().is_none()
    }
}

/// `*` matches any run of characters (none included); everything else matches itself.
fn glob(pattern: &str, text: &str) -> bool {
    let mut pieces = pattern.split('*');
    let first = pieces.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = pieces.collect();
    let Some((last, middle)) = pieces.split_last() else {
        // No `*`: the whole text must be the pattern.
        return rest.is_empty();
    };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = rest.get(at + piece.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// The declared fields of a policy.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fields {
    exact: Vec<(String, FieldKind)>,
    patterns: Vec<(FieldPattern, FieldKind)>,
}

impl Fields {
    /// Declares `path` (exact) as `kind`, replacing an earlier declaration of it.
    pub(crate) fn exact(&mut self, path: &str, kind: FieldKind) {
        self.exact.retain(|(p, _)| p != path);
        self.exact.push((path.to_owned(), kind));
    }

    /// Declares a typed field by name or pattern: a name without `*` is exact.
    pub(crate) fn typed(&mut self, pattern: &str, kind: FieldKind) {
        if pattern.contains('*') {
            self.patterns.push((FieldPattern::new(pattern), kind));
        } else {
            self.exact(pattern, kind);
        }
    }

    /// What `path` holds: an exact declaration first, then the latest matching pattern, then
    /// whether it lies inside a scalar field (`password.hash`) or is a document around one.
    /// Array positions are no part of a field's name to the server (`users.0.password` is
    /// `users.password` of the first element), so they are left out first.
    pub(crate) fn kind_of(&self, path: &str) -> Option<FieldKind> {
        if self.exact.is_empty() && self.patterns.is_empty() {
            return None;
        }
        let is_position =
            |segment: &str| !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit());
        // Digits are rare in field names: most paths skip the split.
        let has_digit = path.bytes().any(|b| b.is_ascii_digit());
        let path: Cow<'_, str> = if has_digit && path.split('.').any(is_position) {
            Cow::Owned(
                path.split('.')
                    .filter(|segment| !is_position(segment))
                    .collect::<Vec<_>>()
                    .join("."),
            )
        } else {
            Cow::Borrowed(path)
        };
        let path = &*path;
        let scalar = |p: &str, kind: FieldKind| kind == FieldKind::Scalar && !p.is_empty();
        // An exact declaration, then the inside of a scalar field (a typed pattern must not
        // reopen `password.changed_at` to range operators), then patterns, then the documents
        // around a scalar field.
        self.exact
            .iter()
            .find_map(|(p, kind)| (p == path).then_some(*kind))
            .or_else(|| {
                self.exact
                    .iter()
                    .any(|(p, kind)| {
                        scalar(p, *kind)
                            && path
                                .strip_prefix(p.as_str())
                                .is_some_and(|rest| rest.starts_with('.'))
                    })
                    .then_some(FieldKind::Scalar)
            })
            .or_else(|| {
                self.patterns
                    .iter()
                    .rev()
                    .find_map(|(pattern, kind)| pattern.matches(path).then_some(*kind))
            })
            .or_else(|| {
                self.exact
                    .iter()
                    .any(|(p, kind)| {
                        scalar(p, *kind)
                            && p.strip_prefix(path)
                                .is_some_and(|rest| rest.starts_with('.'))
                    })
                    .then_some(FieldKind::ScalarParent)
            })
    }
}

/// Whether a compared value fits the field's kind: `Ok(true)` when it is a string to convert,
/// the problem when it does not fit. Null always fits (`{"client_id": {"$ne": null}}`).
pub(crate) fn value_fits(kind: Option<FieldKind>, value: &Bson) -> Result<bool, Problem> {
    let Some(kind) = kind.filter(|k| k.typed()) else {
        return Ok(false);
    };
    match (kind, value) {
        (_, Bson::Null)
        | (FieldKind::ObjectId, Bson::ObjectId(_))
        | (FieldKind::Date, Bson::DateTime(_)) => Ok(false),
        (FieldKind::Uuid, Bson::Binary(binary))
            if binary.subtype == bson::spec::BinarySubtype::Uuid && binary.bytes.len() == 16 =>
        {
            Ok(false)
        }
        (_, Bson::String(text)) if converted(kind, text).is_some() => Ok(true),
        (FieldKind::ObjectId, _) => Err(Problem::ObjectIdInvalid),
        (FieldKind::Uuid, _) => Err(Problem::UuidInvalid),
        _ => Err(Problem::DateInvalid),
    }
}

/// A typed field's string as its BSON value: an ObjectId from 24 hex digits, a UUID (binary
/// subtype 4) from its text forms, a date from RFC 3339.
fn converted(kind: FieldKind, text: &str) -> Option<Bson> {
    match kind {
        FieldKind::ObjectId => ObjectId::parse_str(text).ok().map(Bson::ObjectId),
        FieldKind::Uuid => Uuid::parse_str(text).ok().map(Bson::from),
        FieldKind::Date => DateTime::parse_rfc3339_str(text).ok().map(Bson::DateTime),
        FieldKind::Scalar | FieldKind::ScalarParent => None,
    }
}

/// Converts a typed field's value, inside operators and `$in` lists too.
pub(crate) fn convert_value(kind: FieldKind, value: &mut Bson) {
    match value {
        Bson::String(text) => {
            if let Some(converted) = converted(kind, text) {
                *value = converted;
            }
        }
        Bson::Array(items) => items.iter_mut().for_each(|item| convert_value(kind, item)),
        Bson::Document(operators) => operators
            .iter_mut()
            .for_each(|(_, operand)| convert_value(kind, operand)),
        _ => {}
    }
}

/// Whether `kind` converts values (for the conversion pass).
pub(crate) fn converts(kind: Option<FieldKind>) -> Option<FieldKind> {
    kind.filter(|k| k.typed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_within_a_segment() {
        assert!(glob("*_id", "client_id"));
        assert!(glob("*_id", "_id"));
        assert!(!glob("*_id", "identity"));
        assert!(glob("a*b*c", "aXXbYYc"));
        assert!(!glob("a*b*c", "aXXbYY"));
        assert!(glob("ab", "ab"));
        assert!(!glob("ab", "abc"));
        assert!(glob("*", ""));
        assert!(!glob("*ab*ab", "ab"));
    }

    #[test]
    fn undotted_patterns_match_the_last_segment_dotted_ones_the_path() {
        let last = FieldPattern::new("*_id");
        assert!(last.matches("project.owner_id"));
        assert!(!last.matches("owner_id.name"));
        let whole = FieldPattern::new("meta.*_at");
        assert!(whole.matches("meta.created_at"));
        assert!(!whole.matches("x.meta.created_at"));
        assert!(!whole.matches("meta.created_at.x"));
    }
}
