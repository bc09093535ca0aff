//! `Ident` and `QualifiedName` (R-SQL-1): identifiers from user input, validated and quoted
//! per dialect, so that they can become SQL text without becoming SQL syntax.

use std::fmt;

use crate::dialect::{Dialect, LengthUnit};

/// The most parts of a qualified name (`database.schema.table`).
const MAX_PARTS: usize = 3;

/// Why a name cannot be an identifier. Never quotes the name (it is user input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentError {
    /// The name is empty.
    Empty,
    /// The name is longer than the dialect keeps (PostgreSQL would silently truncate it, and
    /// two long names would become one).
    TooLong {
        /// The limit.
        max: usize,
        /// What it counts.
        unit: LengthUnit,
    },
    /// A control character (NUL, newline, C0, DEL, C1) or a bidirectional formatting
    /// character, which would make the name read differently from what runs.
    ControlCharacter,
    /// MySQL and MariaDB refuse names that end with a space.
    TrailingSpace,
    /// MySQL and MariaDB accept only the Basic Multilingual Plane in identifiers.
    OutsideBmp,
    /// A qualified name with no parts, an empty part, or more than three parts.
    PartsInvalid {
        /// The most parts.
        max: usize,
    },
}

impl fmt::Display for IdentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("identifier is empty"),
            Self::TooLong { max, unit } => {
                write!(f, "identifier is longer than {max} {}", unit.name())
            }
            Self::ControlCharacter => f.write_str(
                "identifier contains a control or bidirectional formatting character",
            ),
            Self::TrailingSpace => f.write_str("identifier ends with a space (MySQL refuses it)"),
            Self::OutsideBmp => f.write_str(
                "identifier contains a character outside the Basic Multilingual Plane (MySQL refuses it)",
            ),
            Self::PartsInvalid { max } => {
                write!(f, "qualified name must have 1 to {max} non-empty parts")
            }
        }
    }
}

impl std::error::Error for IdentError {}

/// A validated identifier and its quoted form for one dialect.
///
/// Quoting doubles the quote character inside, so any accepted name, quotes and reserved
/// words included, is one identifier on the server.
///
/// ```
/// use palisade_sql::{Dialect, Ident};
///
/// let column = Ident::new("order", Dialect::Postgres)?;
/// assert_eq!(column.quoted(), r#""order""#);
/// assert_eq!(Ident::new("a`b", Dialect::MySql)?.quoted(), "`a``b`");
/// assert_eq!(Ident::new("x]y", Dialect::MsSql)?.quoted(), "[x]]y]");
/// assert!(Ident::new("name\0", Dialect::Postgres).is_err());
/// assert!(Ident::new(&"a".repeat(64), Dialect::Postgres).is_err());
/// # Ok::<(), palisade_sql::IdentError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ident {
    name: String,
    quoted: String,
    dialect: Dialect,
}

impl Ident {
    /// `name` as an identifier of `dialect`.
    ///
    /// # Errors
    /// [`IdentError`] naming the rule the name breaks.
    pub fn new(name: &str, dialect: Dialect) -> Result<Self, IdentError> {
        validate(name, dialect)?;
        let (open, close) = dialect.quotes();
        let mut quoted = String::with_capacity(name.len() + 2);
        quoted.push(open);
        for c in name.chars() {
            quoted.push(c);
            if c == close {
                quoted.push(close);
            }
        }
        quoted.push(close);
        Ok(Self {
            name: name.to_owned(),
            quoted,
            dialect,
        })
    }

    /// The name as given.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The quoted form, ready to be put in SQL text.
    #[must_use]
    pub fn quoted(&self) -> &str {
        &self.quoted
    }

    /// The dialect it is quoted for.
    #[must_use]
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
}

impl fmt::Display for Ident {
    /// The quoted form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.quoted)
    }
}

fn validate(name: &str, dialect: Dialect) -> Result<(), IdentError> {
    if name.is_empty() {
        return Err(IdentError::Empty);
    }
    let (max, unit) = dialect.max_identifier();
    let length = match unit {
        LengthUnit::Bytes => name.len(),
        LengthUnit::Chars => name.chars().count(),
    };
    if length > max {
        return Err(IdentError::TooLong { max, unit });
    }
    if name.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Err(IdentError::ControlCharacter);
    }
    if dialect == Dialect::MySql {
        if name.ends_with(' ') {
            return Err(IdentError::TrailingSpace);
        }
        if name.chars().any(|c| u32::from(c) > 0xFFFF) {
            return Err(IdentError::OutsideBmp);
        }
    }
    Ok(())
}

/// Unicode's bidirectional formatting characters (the "Trojan Source" set).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A name of one to three identifiers joined by `.` (`schema.table`).
///
/// ```
/// use palisade_sql::{Dialect, QualifiedName};
///
/// let table = QualifiedName::parse("billing.invoices", Dialect::Postgres)?;
/// assert_eq!(table.quoted(), r#""billing"."invoices""#);
/// // A name that holds a dot is one part only when built from parts.
/// let odd = QualifiedName::new(&["billing", "in.voices"], Dialect::MySql)?;
/// assert_eq!(odd.quoted(), "`billing`.`in.voices`");
/// # Ok::<(), palisade_sql::IdentError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QualifiedName {
    parts: Vec<Ident>,
    quoted: String,
}

impl QualifiedName {
    /// The name made of `parts`, each an identifier.
    ///
    /// # Errors
    /// [`IdentError::PartsInvalid`] for no parts or more than three; a part's own error.
    pub fn new(parts: &[&str], dialect: Dialect) -> Result<Self, IdentError> {
        if parts.is_empty() || parts.len() > MAX_PARTS {
            return Err(IdentError::PartsInvalid { max: MAX_PARTS });
        }
        let parts = parts
            .iter()
            .map(|part| Ident::new(part, dialect))
            .collect::<Result<Vec<_>, _>>()?;
        let quoted = parts
            .iter()
            .map(Ident::quoted)
            .collect::<Vec<_>>()
            .join(".");
        Ok(Self { parts, quoted })
    }

    /// `input` split at every `.`.
    ///
    /// # Errors
    /// As [`new`](Self::new); an empty part (`a..b`, `.a`) is [`IdentError::PartsInvalid`].
    pub fn parse(input: &str, dialect: Dialect) -> Result<Self, IdentError> {
        let parts: Vec<&str> = input.split('.').collect();
        if parts.iter().any(|part| part.is_empty()) && !input.is_empty() {
            return Err(IdentError::PartsInvalid { max: MAX_PARTS });
        }
        Self::new(&parts, dialect)
    }

    /// The parts.
    #[must_use]
    pub fn parts(&self) -> &[Ident] {
        &self.parts
    }

    /// The quoted form, parts joined by `.`.
    #[must_use]
    pub fn quoted(&self) -> &str {
        &self.quoted
    }
}

impl fmt::Display for QualifiedName {
    /// The quoted form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.quoted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_what_each_server_counts() {
        let e_acute = "é".repeat(32); // 64 bytes, 32 characters
        assert_eq!(
            Ident::new(&e_acute, Dialect::Postgres),
            Err(IdentError::TooLong {
                max: 63,
                unit: LengthUnit::Bytes
            })
        );
        assert!(Ident::new(&e_acute, Dialect::MySql).is_ok());
        assert!(Ident::new(&"é".repeat(64), Dialect::MySql).is_ok());
        assert!(Ident::new(&"é".repeat(65), Dialect::MySql).is_err());
        assert!(Ident::new(&"x".repeat(128), Dialect::MsSql).is_ok());
        assert!(Ident::new(&"x".repeat(129), Dialect::MsSql).is_err());
    }

    #[test]
    fn control_bidi_and_mysql_rules_are_refused() {
        for dialect in Dialect::ALL {
            for bad in ["a\nb", "a\0", "\u{7f}", "\u{85}x", "a\u{202E}b", "\u{2066}"] {
                assert_eq!(Ident::new(bad, dialect), Err(IdentError::ControlCharacter));
            }
            assert_eq!(Ident::new("", dialect), Err(IdentError::Empty));
        }
        assert_eq!(
            Ident::new("a ", Dialect::MySql),
            Err(IdentError::TrailingSpace)
        );
        assert!(Ident::new("a ", Dialect::Postgres).is_ok());
        assert_eq!(
            Ident::new("a😀", Dialect::MySql),
            Err(IdentError::OutsideBmp)
        );
        assert!(Ident::new("a😀", Dialect::Postgres).is_ok());
    }

    #[test]
    fn qualified_names_need_one_to_three_non_empty_parts() {
        let pg = Dialect::Postgres;
        for bad in ["", "a..b", ".a", "a.", "a.b.c.d"] {
            assert!(QualifiedName::parse(bad, pg).is_err(), "{bad:?}");
        }
        assert_eq!(
            QualifiedName::parse("db.s.t", Dialect::MsSql).map(|n| n.quoted().to_owned()),
            Ok("[db].[s].[t]".to_owned())
        );
        assert_eq!(
            QualifiedName::new(&[], pg),
            Err(IdentError::PartsInvalid { max: 3 })
        );
    }
}
