//! `Dialect`: the SQL servers whose identifier rules and quoting Palisade knows.

/// A SQL dialect: how identifiers are limited and quoted.
///
/// | dialect | quoted as | limit | also refused |
/// | --- | --- | --- | --- |
/// | PostgreSQL | `"a""b"` | 63 bytes (longer names are silently truncated by the server) | |
/// | MySQL / MariaDB | `` `a``b` `` | 64 characters | a trailing space, characters outside the BMP |
/// | SQLite | `` `a``b` `` | 1024 bytes (SQLite has none; this one is ours) | |
/// | SQL Server | `[a]]b]` | 128 characters | |
///
/// SQLite names are quoted with backticks, not double quotes: SQLite reads a double-quoted
/// name that matches no column as a string literal, so `"nmae"` would compare with the text
/// `nmae` instead of failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// MySQL and MariaDB.
    MySql,
    /// SQLite.
    Sqlite,
    /// Microsoft SQL Server.
    MsSql,
}

impl Dialect {
    /// Every dialect.
    pub const ALL: [Self; 4] = [Self::Postgres, Self::MySql, Self::Sqlite, Self::MsSql];

    /// The dialect named `name` (`postgres`/`postgresql`, `mysql`/`mariadb`, `sqlite`,
    /// `mssql`/`sqlserver`), case-insensitively.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" | "pg" => Some(Self::Postgres),
            "mysql" | "mariadb" => Some(Self::MySql),
            "sqlite" => Some(Self::Sqlite),
            "mssql" | "sqlserver" | "tsql" => Some(Self::MsSql),
            _ => None,
        }
    }

    /// The dialect's usual name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
            Self::Sqlite => "sqlite",
            Self::MsSql => "mssql",
        }
    }

    /// The longest identifier the dialect keeps, and whether it counts bytes or characters.
    #[must_use]
    pub const fn max_identifier(self) -> (usize, LengthUnit) {
        match self {
            Self::Postgres => (63, LengthUnit::Bytes),
            Self::MySql => (64, LengthUnit::Chars),
            Self::Sqlite => (1024, LengthUnit::Bytes),
            Self::MsSql => (128, LengthUnit::Chars),
        }
    }

    /// The opening and closing quote, and the character that is doubled inside.
    pub(crate) const fn quotes(self) -> (char, char) {
        match self {
            Self::Postgres => ('"', '"'),
            Self::MySql | Self::Sqlite => ('`', '`'),
            Self::MsSql => ('[', ']'),
        }
    }
}

/// What an identifier length counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LengthUnit {
    /// UTF-8 bytes.
    Bytes,
    /// Unicode characters.
    Chars,
}

impl LengthUnit {
    /// The unit's name in messages.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Bytes => "bytes",
            Self::Chars => "characters",
        }
    }
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
