//! The walk over a client-supplied document: limits, paths for messages and literal values.
//! The filter guard, the write-payload checks and the pipeline checks all walk with it.
//!
//! The walk keeps no path: a refusal starts with an empty one, and each level it passes on
//! the way out puts its key or index in front, so a document that passes costs nothing for
//! the messages it did not need.

use bson::{Bson, Document};

use crate::error::{Problem, Rejected, shown};
use crate::limits::Limits;

/// How keys of literal sub-documents are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keys {
    /// A filter's literal: no `$` at the start of a key (an operator smuggled into a value).
    NoOperators,
    /// A write payload: no `$` anywhere and no `.` (R-MDB-2: at every depth).
    Plain,
}

/// Walks one document under one set of limits.
#[derive(Debug)]
pub(crate) struct Walker {
    limits: Limits,
    depth: usize,
    keys: usize,
    /// Whether the value being walked is an element of an array.
    in_array: bool,
}

impl Walker {
    /// Walks with `walk`; a refusal's path starts with `root` (`filter`, `update`).
    pub(crate) fn run<T>(
        limits: Limits,
        root: &str,
        walk: impl FnOnce(&mut Self) -> Result<T, Rejected>,
    ) -> Result<T, Rejected> {
        let mut walker = Self {
            limits,
            depth: 0,
            keys: 0,
            in_array: false,
        };
        walk(&mut walker).map_err(|rejected| rejected.under(root))
    }

    /// A refusal here (its path is filled in on the way out).
    pub(crate) fn reject(&self, problem: Problem) -> Rejected {
        Rejected::new(problem, String::new())
    }

    /// A refusal at `key` below here.
    pub(crate) fn reject_at_key(&self, key: &str, problem: Problem) -> Rejected {
        Rejected::new(problem, format!(".{}", shown(key)))
    }

    /// A refusal from a nested guard (a pipeline's `$match`): its problem, at its path (less
    /// its root) below here.
    pub(crate) fn reject_within(&self, inner: &Rejected) -> Rejected {
        let below = inner.path().split_once('.').map_or("", |(_, rest)| rest);
        let path = if below.is_empty() {
            String::new()
        } else {
            format!(".{below}")
        };
        Rejected::new(inner.problem().clone(), path)
    }

    /// Runs `inside` one level deeper, refusing past the depth limit.
    pub(crate) fn nested<T>(
        &mut self,
        inside: impl FnOnce(&mut Self) -> Result<T, Rejected>,
    ) -> Result<T, Rejected> {
        self.depth += 1;
        if self.depth > self.limits.max_depth() {
            return Err(self.reject(Problem::DepthExceeded {
                limit: self.limits.max_depth(),
            }));
        }
        let in_array = std::mem::replace(&mut self.in_array, false);
        let result = inside(self);
        self.in_array = in_array;
        self.depth -= 1;
        result
    }

    /// Runs `inside` with `key` on the path, counting it against the key limit.
    pub(crate) fn at_key<T>(
        &mut self,
        key: &str,
        inside: impl FnOnce(&mut Self) -> Result<T, Rejected>,
    ) -> Result<T, Rejected> {
        self.keys += 1;
        let result = if self.keys > self.limits.max_keys() {
            Err(self.reject(Problem::KeysExceeded {
                limit: self.limits.max_keys(),
            }))
        } else {
            inside(self)
        };
        result.map_err(|rejected| rejected.under(&format!(".{}", shown(key))))
    }

    /// Runs `inside` with `[index]` on the path.
    pub(crate) fn at_index<T>(
        &mut self,
        index: usize,
        inside: impl FnOnce(&mut Self) -> Result<T, Rejected>,
    ) -> Result<T, Rejected> {
        inside(self).map_err(|rejected| rejected.under(&format!("[{index}]")))
    }

    /// Each element of `array` one level deeper, after the length check.
    pub(crate) fn each<'d>(
        &mut self,
        array: &'d [Bson],
        mut element: impl FnMut(&mut Self, &'d Bson) -> Result<(), Rejected>,
    ) -> Result<(), Rejected> {
        if array.len() > self.limits.max_array_len() {
            return Err(self.reject(Problem::ArrayTooLong {
                limit: self.limits.max_array_len(),
            }));
        }
        // The levels that cost work are documents: the array that holds a logical operator's
        // clauses is no level of its own, an array inside an array is.
        let mut elements = |walker: &mut Self| {
            let in_array = std::mem::replace(&mut walker.in_array, true);
            let result = array
                .iter()
                .enumerate()
                .try_for_each(|(i, value)| walker.at_index(i, |walker| element(walker, value)));
            walker.in_array = in_array;
            result
        };
        if self.in_array {
            self.nested(elements)
        } else {
            elements(self)
        }
    }

    /// A value taken as data: strings within the limit, no JavaScript or regular expression,
    /// and sub-document keys checked as `keys` says, at every depth.
    pub(crate) fn literal(&mut self, value: &Bson, keys: Keys) -> Result<(), Rejected> {
        match value {
            Bson::String(text) | Bson::Symbol(text) => self.string(text),
            Bson::Array(items) => self.each(items, |walker, item| walker.literal(item, keys)),
            // A DBRef is data with `$` keys the server knows: its id is walked as data.
            Bson::Document(document) if keys == Keys::NoOperators && is_dbref(document) => self
                .nested(|walker| {
                    walker.at_key("$id", |walker| {
                        walker.literal(document.get("$id").unwrap_or(&Bson::Null), keys)
                    })
                }),
            Bson::Document(document) => self.nested(|walker| {
                document.iter().try_for_each(|(key, value)| {
                    walker.at_key(key, |walker| {
                        walker.literal_key(key, keys)?;
                        walker.literal(value, keys)
                    })
                })
            }),
            Bson::JavaScriptCode(_) | Bson::JavaScriptCodeWithScope(_) => {
                Err(self.reject(Problem::ValueKindNotAllowed { kind: "javascript" }))
            }
            Bson::RegularExpression(_) => {
                Err(self.reject(Problem::ValueKindNotAllowed { kind: "regex" }))
            }
            _ => Ok(()),
        }
    }

    fn literal_key(&self, key: &str, keys: Keys) -> Result<(), Rejected> {
        if key.starts_with('$') {
            return Err(self.reject(Problem::OperatorNotAllowed {
                operator: shown(key),
            }));
        }
        let plain = match keys {
            Keys::NoOperators => !key.contains('\0'),
            Keys::Plain => !key.is_empty() && !key.contains(['$', '.', '\0']),
        };
        if plain {
            Ok(())
        } else {
            Err(self.reject(Problem::FieldNameInvalid))
        }
    }

    pub(crate) fn string(&self, text: &str) -> Result<(), Rejected> {
        if text.len() > self.limits.max_string_len() {
            Err(self.reject(Problem::StringTooLong {
                limit: self.limits.max_string_len(),
            }))
        } else {
            Ok(())
        }
    }

    /// A field path in a filter or an update: dotted segments, none empty, none starting with
    /// `$` (`a.$where`, `tags.$[]`), no NUL, within the string limit.
    pub(crate) fn field_path(&self, path: &str) -> Result<(), Rejected> {
        self.string(path)?;
        let bytes = path.as_bytes();
        // Most names are one plain segment: checked without branching per byte.
        let dotted_or_nul = bytes
            .iter()
            .fold(false, |seen, &b| seen | (b == b'.') | (b == 0));
        let plain_start = bytes.first().is_some_and(|&b| b != b'$' && b != b'.');
        if plain_start && !dotted_or_nul {
            return Ok(());
        }
        // Otherwise each segment must be non-empty and not start with `$`, and no NUL.
        let valid = !bytes.contains(&0)
            && path
                .split('.')
                .all(|segment| !segment.is_empty() && !segment.starts_with('$'));
        if valid {
            Ok(())
        } else {
            Err(self.reject(Problem::FieldNameInvalid))
        }
    }

    /// A write payload document: every key plain (no `$`, no `.`) at every depth.
    pub(crate) fn literal_document(&mut self, document: &Document) -> Result<(), Rejected> {
        self.document(document, |walker, key, value| {
            walker.literal_key(key, Keys::Plain)?;
            walker.literal(value, Keys::Plain)
        })
    }

    /// A document walked one level deeper, each key on the path.
    pub(crate) fn document<'d>(
        &mut self,
        document: &'d Document,
        mut entry: impl FnMut(&mut Self, &'d str, &'d Bson) -> Result<(), Rejected>,
    ) -> Result<(), Rejected> {
        self.nested(|walker| {
            document
                .iter()
                .try_for_each(|(key, value)| walker.at_key(key, |walker| entry(walker, key, value)))
        })
    }
}

/// A DBRef literal (`{"$ref": "users", "$id": ..., "$db": "app"}`): `$ref` and `$id` first,
/// in that order, an optional `$db`, and nothing else; the names are strings.
pub(crate) fn is_dbref(document: &Document) -> bool {
    let mut keys = document.iter();
    let names = |value: Option<(&String, &Bson)>, name: &str| {
        value.is_some_and(|(key, value)| key == name && matches!(value, Bson::String(_)))
    };
    names(keys.next(), "$ref")
        && keys.next().is_some_and(|(key, _)| key == "$id")
        && match keys.next() {
            None => true,
            db @ Some(_) => names(db, "$db") && keys.next().is_none(),
        }
}
