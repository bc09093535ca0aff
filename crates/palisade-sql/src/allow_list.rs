//! `AllowList` (R-SQL-4): learn the shapes an application runs, then admit only those.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde_json::json;

use crate::Dialect;
use crate::fingerprint::{Fingerprint, fingerprint};
use crate::guard::{Rule, Violation};

/// Why an allow-list file cannot be read. Names the line, never its text.
#[derive(Debug)]
#[non_exhaustive]
pub enum AllowListError {
    /// The file cannot be read or written.
    Io(std::io::Error),
    /// A line is not `{"id": "...", "shape": "..."}`.
    LineInvalid {
        /// The 1-based line number.
        line: usize,
    },
    /// A line's id is not its shape's (the file was edited or damaged).
    IdMismatch {
        /// The 1-based line number.
        line: usize,
    },
}

impl fmt::Display for AllowListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "cannot read or write the allow-list: {e}"),
            Self::LineInvalid { line } => {
                write!(
                    f,
                    "allow-list line {line} is not {{\"id\": ..., \"shape\": ...}}"
                )
            }
            Self::IdMismatch { line } => {
                write!(
                    f,
                    "allow-list line {line} has an id that is not its shape's"
                )
            }
        }
    }
}

impl std::error::Error for AllowListError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// The statement shapes an application may run.
///
/// Learn them (in tests or a staging run), save them as JSON lines, and admit only them in
/// production: a statement whose [`Fingerprint`] text is not in the list is refused with
/// [`Rule::ShapeNotAllowed`]. Shapes are compared by their full text, not by the 64-bit id,
/// so a crafted collision admits nothing.
///
/// ```
/// use palisade_sql::{AllowList, Dialect, Rule};
///
/// let mut learned = AllowList::new(Dialect::Postgres);
/// learned.learn("SELECT name FROM users WHERE id = 7")?;
/// let saved = learned.to_json_lines();
///
/// let list = AllowList::from_json_lines(Dialect::Postgres, &saved).unwrap();
/// assert!(list.admit("SELECT name FROM users WHERE id = 42").is_ok());
/// let refused = list.admit("SELECT name FROM users WHERE id = 42 OR 1 = 1").unwrap_err();
/// assert_eq!(refused.rule(), Rule::ShapeNotAllowed);
/// # Ok::<(), palisade_sql::Violation>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowList {
    dialect: Dialect,
    shapes: BTreeMap<String, u64>,
}

impl AllowList {
    /// An empty list for statements of `dialect`.
    #[must_use]
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            shapes: BTreeMap::new(),
        }
    }

    /// Records the shape of `sql`.
    ///
    /// # Errors
    /// [`Violation`] when `sql` is not one statement that parses.
    pub fn learn(&mut self, sql: &str) -> Result<Fingerprint, Violation> {
        let shape = fingerprint(sql, self.dialect)?;
        self.add(&shape);
        Ok(shape)
    }

    /// Records a shape.
    pub fn add(&mut self, shape: &Fingerprint) {
        self.shapes.insert(shape.text().to_owned(), shape.id());
    }

    /// Admits `sql` if its shape was learned.
    ///
    /// # Errors
    /// [`Rule::ShapeNotAllowed`], or the parse's own violation.
    pub fn admit(&self, sql: &str) -> Result<Fingerprint, Violation> {
        self.known(fingerprint(sql, self.dialect)?)
    }

    /// Admits `shape` if it was learned.
    pub(crate) fn known(&self, shape: Fingerprint) -> Result<Fingerprint, Violation> {
        if self.shapes.contains_key(shape.text()) {
            Ok(shape)
        } else {
            Err(Violation::whole(Rule::ShapeNotAllowed))
        }
    }

    /// How many shapes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.shapes.len()
    }

    /// Whether no shape was learned.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }

    /// One `{"id": "...", "shape": "..."}` per line, sorted by shape.
    #[must_use]
    pub fn to_json_lines(&self) -> String {
        self.shapes
            .iter()
            .map(|(shape, id)| format!("{}\n", json!({"id": format!("{id:016x}"), "shape": shape})))
            .collect()
    }

    /// A list from [`to_json_lines`](Self::to_json_lines) text; blank lines are skipped.
    ///
    /// # Errors
    /// [`AllowListError::LineInvalid`] or [`AllowListError::IdMismatch`] naming the line.
    pub fn from_json_lines(dialect: Dialect, text: &str) -> Result<Self, AllowListError> {
        let mut list = Self::new(dialect);
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            if line.trim().is_empty() {
                continue;
            }
            let invalid = || AllowListError::LineInvalid { line: line_number };
            let value: serde_json::Value = serde_json::from_str(line).map_err(|_| invalid())?;
            let (Some(id), Some(shape)) = (
                value.get("id").and_then(serde_json::Value::as_str),
                value.get("shape").and_then(serde_json::Value::as_str),
            ) else {
                return Err(invalid());
            };
            let expected = Fingerprint::from_text(shape.to_owned());
            if expected.id_hex() != id {
                return Err(AllowListError::IdMismatch { line: line_number });
            }
            list.shapes.insert(shape.to_owned(), expected.id());
        }
        Ok(list)
    }

    /// Reads a list saved with [`save`](Self::save).
    ///
    /// # Errors
    /// [`AllowListError`].
    pub fn load(dialect: Dialect, path: &Path) -> Result<Self, AllowListError> {
        let text = std::fs::read_to_string(path).map_err(AllowListError::Io)?;
        Self::from_json_lines(dialect, &text)
    }

    /// Writes the list as JSON lines.
    ///
    /// # Errors
    /// [`AllowListError::Io`].
    pub fn save(&self, path: &Path) -> Result<(), AllowListError> {
        std::fs::write(path, self.to_json_lines()).map_err(AllowListError::Io)
    }
}
