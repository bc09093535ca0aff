//! The walk over a client-supplied document: limits, path tracking and literal values. The
//! filter guard, the write-payload checks and the pipeline checks all walk with it.

use bson::{Bson, Document};

use crate::error::{Problem, Rejected, shown};
use crate::limits::Limits;

/// One step of a path: a key or an array index.
#[derive(Debug, Clone, Copy)]
enum Segment<'d> {
    Key(&'d str),
    Index(usize),
}

/// How keys of literal sub-documents are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keys {
    /// A filter's literal: no `$` at the start of a key (an operator smuggled into a value).
    NoOperators,
    /// A write payload: no `$` anywhere and no `.` (R-MDB-2: at every depth).
    Plain,
}

/// Walks one document under one set of limits, keeping the path for messages.
#[derive(Debug)]
pub(crate) struct Walker<'d> {
    limits: Limits,
    root: &'static str,
    path: Vec<Segment<'d>>,
    depth: usize,
    keys: usize,
}

impl<'d> Walker<'d> {
    pub(crate) fn new(limits: Limits, root: &'static str) -> Self {
        Self {
            limits,
            root,
            path: Vec::with_capacity(8),
            depth: 0,
            keys: 0,
        }
    }

    /// A refusal at the current path.
    pub(crate) fn reject(&self, problem: Problem) -> Rejected {
        let mut path = String::from(self.root);
        for segment in &self.path {
            match segment {
                Segment::Key(key) => {
                    path.push('.');
                    path.push_str(&shown(key));
                }
                Segment::Index(index) => {
                    path.push('[');
                    path.push_str(&index.to_string());
                    path.push(']');
                }
            }
        }
        Rejected::new(problem, path)
    }

    /// A refusal at `key` below the current path.
    pub(crate) fn reject_at_key(&self, key: &str, problem: Problem) -> Rejected {
        let here = self.reject(problem);
        let path = format!("{}.{}", here.path(), shown(key));
        Rejected::new(here.problem().clone(), path)
    }

    /// A refusal from a nested guard (a pipeline's `$match`): its problem, at its path below
    /// the current one.
    pub(crate) fn reject_within(&self, inner: &Rejected) -> Rejected {
        let here = self.reject(inner.problem().clone());
        let below = inner.path().split_once('.').map_or("", |(_, rest)| rest);
        let path = if below.is_empty() {
            here.path().to_owned()
        } else {
            format!("{}.{below}", here.path())
        };
        Rejected::new(here.problem().clone(), path)
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
        let result = inside(self);
        self.depth -= 1;
        result
    }

    /// Runs `inside` with `key` on the path, counting it against the key limit.
    pub(crate) fn at_key<T>(
        &mut self,
        key: &'d str,
        inside: impl FnOnce(&mut Self) -> Result<T, Rejected>,
    ) -> Result<T, Rejected> {
        self.path.push(Segment::Key(key));
        self.keys += 1;
        let result = if self.keys > self.limits.max_keys() {
            Err(self.reject(Problem::KeysExceeded {
                limit: self.limits.max_keys(),
            }))
        } else {
            inside(self)
        };
        self.path.pop();
        result
    }

    /// Runs `inside` with `[index]` on the path.
    pub(crate) fn at_index<T>(
        &mut self,
        index: usize,
        inside: impl FnOnce(&mut Self) -> Result<T, Rejected>,
    ) -> Result<T, Rejected> {
        self.path.push(Segment::Index(index));
        let result = inside(self);
        self.path.pop();
        result
    }

    /// Each element of `array` one level deeper, after the length check.
    pub(crate) fn each(
        &mut self,
        array: &'d [Bson],
        mut element: impl FnMut(&mut Self, &'d Bson) -> Result<(), Rejected>,
    ) -> Result<(), Rejected> {
        if array.len() > self.limits.max_array_len() {
            return Err(self.reject(Problem::ArrayTooLong {
                limit: self.limits.max_array_len(),
            }));
        }
        self.nested(|walker| {
            array
                .iter()
                .enumerate()
                .try_for_each(|(i, value)| walker.at_index(i, |walker| element(walker, value)))
        })
    }

    /// A value taken as data: strings within the limit, no JavaScript or regular expression,
    /// and sub-document keys checked as `keys` says, at every depth.
    pub(crate) fn literal(&mut self, value: &'d Bson, keys: Keys) -> Result<(), Rejected> {
        match value {
            Bson::String(text) | Bson::Symbol(text) => self.string(text),
            Bson::Array(items) => self.each(items, |walker, item| walker.literal(item, keys)),
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
        let valid = !path.is_empty()
            && path
                .split('.')
                .all(|segment| !segment.is_empty() && !segment.starts_with('$'))
            && !path.contains('\0');
        if valid {
            Ok(())
        } else {
            Err(self.reject(Problem::FieldNameInvalid))
        }
    }

    /// A write payload document: every key plain (no `$`, no `.`) at every depth.
    pub(crate) fn literal_document(&mut self, document: &'d Document) -> Result<(), Rejected> {
        self.document(document, |walker, key, value| {
            walker.literal_key(key, Keys::Plain)?;
            walker.literal(value, Keys::Plain)
        })
    }

    /// A document walked one level deeper, each key on the path.
    pub(crate) fn document(
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
