//! `SortKeys` (R-SQL-1): a user's sort field mapped onto an allow-list of columns, with a
//! direction, so that `ORDER BY` never takes user text.

use std::fmt;

use crate::dialect::Dialect;
use crate::ident::{Ident, IdentError};

/// Why a sort request is refused. Never quotes the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SortError {
    /// The field is not one of the sortable columns.
    NotAllowed,
    /// The direction is not `asc` or `desc`.
    DirectionInvalid,
    /// The request is empty, or has an empty key (`a,,b`).
    Empty,
    /// More keys than allowed.
    TooMany {
        /// The limit.
        max: usize,
    },
}

impl fmt::Display for SortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAllowed => f.write_str("sort field is not one of the sortable columns"),
            Self::DirectionInvalid => f.write_str("sort direction must be asc or desc"),
            Self::Empty => f.write_str("sort request is empty or has an empty key"),
            Self::TooMany { max } => write!(f, "more than {max} sort keys"),
        }
    }
}

impl std::error::Error for SortError {}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `ASC`.
    Asc,
    /// `DESC`.
    Desc,
}

impl Direction {
    /// `ASC` or `DESC`.
    #[must_use]
    pub const fn sql(self) -> &'static str {
        match self {
            Self::Asc => "ASC",
            Self::Desc => "DESC",
        }
    }
}

/// One resolved sort key: an allow-listed column and a direction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SortKey {
    column: Ident,
    direction: Direction,
}

impl SortKey {
    /// The column.
    #[must_use]
    pub fn column(&self) -> &Ident {
        &self.column
    }

    /// The direction.
    #[must_use]
    pub fn direction(&self) -> Direction {
        self.direction
    }
}

impl fmt::Display for SortKey {
    /// `"column" ASC`, for an `ORDER BY` clause.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.column, self.direction.sql())
    }
}

/// The columns a list may be sorted by, under the names clients use.
///
/// A request is `field`, `-field` (descending), `field asc|desc` or `field:asc|desc`, and
/// [`resolve_list`](Self::resolve_list) takes several joined by commas.
///
/// ```
/// use palisade_sql::{Dialect, SortKeys};
///
/// let keys = SortKeys::new(Dialect::Postgres, ["created_at", "name"])?
///     .with_alias("newest", "created_at")?;
/// assert_eq!(keys.resolve("-created_at").unwrap().to_string(), r#""created_at" DESC"#);
/// assert_eq!(keys.resolve("name:asc").unwrap().to_string(), r#""name" ASC"#);
/// let order: Vec<String> = keys.resolve_list("newest desc, name", 3).unwrap()
///     .iter().map(ToString::to_string).collect();
/// assert_eq!(order.join(", "), r#""created_at" DESC, "name" ASC"#);
/// assert!(keys.resolve("password").is_err());
/// assert!(keys.resolve("name; DROP TABLE users").is_err());
/// # Ok::<(), palisade_sql::IdentError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKeys {
    dialect: Dialect,
    columns: Vec<(String, Ident)>,
}

impl SortKeys {
    /// Sortable `columns`, each under its own name.
    ///
    /// # Errors
    /// [`IdentError`] when a column is not a valid identifier.
    pub fn new<'a>(
        dialect: Dialect,
        columns: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, IdentError> {
        let columns = columns
            .into_iter()
            .map(|column| Ok((column.to_owned(), Ident::new(column, dialect)?)))
            .collect::<Result<Vec<_>, IdentError>>()?;
        Ok(Self { dialect, columns })
    }

    /// Lets clients sort by `column` under the name `public`.
    ///
    /// # Errors
    /// [`IdentError`] when `column` is not a valid identifier.
    pub fn with_alias(mut self, public: &str, column: &str) -> Result<Self, IdentError> {
        let column = Ident::new(column, self.dialect)?;
        self.columns.retain(|(name, _)| name != public);
        self.columns.push((public.to_owned(), column));
        Ok(self)
    }

    /// One sort key from a request.
    ///
    /// # Errors
    /// [`SortError`] naming what is wrong.
    pub fn resolve(&self, request: &str) -> Result<SortKey, SortError> {
        let request = request.trim();
        let (field, direction) = match request.strip_prefix('-') {
            Some(field) => (field, Direction::Desc),
            None if self.column(request).is_some() => (request, Direction::Asc),
            None => match request
                .split_once(':')
                .or_else(|| request.rsplit_once(char::is_whitespace))
            {
                Some((field, direction)) => {
                    let direction = match direction.trim().to_ascii_lowercase().as_str() {
                        "asc" => Direction::Asc,
                        "desc" => Direction::Desc,
                        _ => return Err(SortError::DirectionInvalid),
                    };
                    (field.trim(), direction)
                }
                None => (request, Direction::Asc),
            },
        };
        if field.is_empty() {
            return Err(SortError::Empty);
        }
        let column = self.column(field).ok_or(SortError::NotAllowed)?.clone();
        Ok(SortKey { column, direction })
    }

    fn column(&self, field: &str) -> Option<&Ident> {
        self.columns
            .iter()
            .find_map(|(name, column)| (name == field).then_some(column))
    }

    /// Up to `max` keys from a comma-separated request.
    ///
    /// # Errors
    /// [`SortError`] naming what is wrong with the first bad key.
    pub fn resolve_list(&self, request: &str, max: usize) -> Result<Vec<SortKey>, SortError> {
        let keys: Vec<&str> = request.split(',').collect();
        if keys.len() > max {
            return Err(SortError::TooMany { max });
        }
        keys.into_iter().map(|key| self.resolve(key)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_resolve_only_to_allow_listed_columns() {
        let keys = SortKeys::new(Dialect::MySql, ["name", "created at"])
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(
            keys.resolve("created at desc").map(|k| k.to_string()),
            Ok("`created at` DESC".into())
        );
        assert_eq!(
            keys.resolve("created at").map(|k| k.to_string()),
            Ok("`created at` ASC".into())
        );
        assert_eq!(
            keys.resolve("name DESC").map(|k| k.to_string()),
            Ok("`name` DESC".into())
        );
        assert_eq!(
            keys.resolve("name sideways"),
            Err(SortError::DirectionInvalid)
        );
        assert_eq!(keys.resolve(""), Err(SortError::Empty));
        assert_eq!(keys.resolve("-"), Err(SortError::Empty));
        assert_eq!(keys.resolve("Name"), Err(SortError::NotAllowed));
        assert_eq!(keys.resolve_list("name,,name", 5), Err(SortError::Empty));
        assert_eq!(
            keys.resolve_list("name,name", 1),
            Err(SortError::TooMany { max: 1 })
        );
    }
}
