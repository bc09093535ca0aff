//! `SqlPolicy`: what a guarded connection may run.

use crate::Dialect;

/// The kinds of statement a policy admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatementKind {
    /// `SELECT` (without `INTO`), `VALUES`, `EXPLAIN`, `SHOW`.
    Read,
    /// `INSERT`, `UPDATE`, `DELETE`, `MERGE`, and queries with a data-modifying `WITH`.
    Write,
    /// `CREATE`, `ALTER`, `DROP`, `TRUNCATE`, `SELECT ... INTO` a new table.
    Ddl,
    /// `BEGIN`, `COMMIT`, `ROLLBACK`, `SAVEPOINT`.
    Transaction,
    /// `GRANT`, `REVOKE`, `SET ROLE`, `SET SESSION AUTHORIZATION`.
    Privilege,
    /// Everything else (`SET`, `COPY`, `CALL`, `EXECUTE`, `LOCK`, ...).
    Other,
}

impl StatementKind {
    const fn bit(self) -> u8 {
        match self {
            Self::Read => 1,
            Self::Write => 2,
            Self::Ddl => 4,
            Self::Transaction => 8,
            Self::Privilege => 16,
            Self::Other => 32,
        }
    }
}

/// What a guarded connection may run: its dialect, statement kinds, tables, and whether
/// values must be parameters.
///
/// ```
/// use palisade_sql::{Dialect, SqlPolicy, StatementKind};
///
/// let reads = SqlPolicy::read_only(Dialect::Postgres).with_tables(["users", "orders"]);
/// assert!(reads.allows(StatementKind::Read));
/// assert!(!reads.allows(StatementKind::Write));
/// let migrations = SqlPolicy::read_write(Dialect::Postgres).allow(StatementKind::Ddl);
/// assert!(migrations.allows(StatementKind::Ddl));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlPolicy {
    pub(crate) dialect: Dialect,
    kinds: u8,
    pub(crate) tables: Option<Vec<String>>,
    pub(crate) literals_allowed: bool,
    pub(crate) catalog_allowed: bool,
    pub(crate) recursion_limit: usize,
}

impl SqlPolicy {
    /// The parser's recursion limit unless set: deep enough for any hand-written query.
    pub const DEFAULT_RECURSION_LIMIT: usize = 50;
    /// The deepest recursion limit accepted.
    pub const MAX_RECURSION_LIMIT: usize = 200;

    /// Reads only.
    #[must_use]
    pub fn read_only(dialect: Dialect) -> Self {
        Self {
            dialect,
            kinds: StatementKind::Read.bit(),
            tables: None,
            literals_allowed: false,
            catalog_allowed: false,
            recursion_limit: Self::DEFAULT_RECURSION_LIMIT,
        }
    }

    /// Reads and writes (`INSERT`, `UPDATE`, `DELETE`, `MERGE`).
    #[must_use]
    pub fn read_write(dialect: Dialect) -> Self {
        Self::read_only(dialect).allow(StatementKind::Write)
    }

    /// Also admits `kind`.
    #[must_use]
    pub fn allow(mut self, kind: StatementKind) -> Self {
        self.kinds |= kind.bit();
        self
    }

    /// Whether `kind` is admitted.
    #[must_use]
    pub fn allows(&self, kind: StatementKind) -> bool {
        self.kinds & kind.bit() != 0
    }

    /// Only these relations, each named as the server stores it (`users`, or
    /// `reporting.users` for a schema-qualified one). A reference matches an entry when
    /// every part matches, compared as the server compares names: PostgreSQL folds an
    /// unquoted name to lower case and keeps a quoted one, MySQL and MariaDB keep the case
    /// (as a Linux server does, `lower_case_table_names=0`), SQLite and SQL Server ignore
    /// case. A schema-qualified reference (`other.users`, `db..users`) matches only an entry
    /// qualified the same way, since it can name another schema's or database's table.
    #[must_use]
    pub fn with_tables<'a>(mut self, tables: impl IntoIterator<Item = &'a str>) -> Self {
        let dialect = self.dialect;
        self.tables = Some(
            tables
                .into_iter()
                .map(|entry| match dialect {
                    Dialect::Sqlite | Dialect::MsSql => entry.to_lowercase(),
                    Dialect::Postgres | Dialect::MySql => entry.to_owned(),
                })
                .collect(),
        );
        self
    }

    /// Admits literal values anywhere (for trusted, hand-written SQL). By default a literal is
    /// refused where a value belongs, except `NULL`, booleans, `LIMIT`/`OFFSET`, the select
    /// list and the `1 = 1` of query builders.
    #[must_use]
    pub fn allow_literals(mut self) -> Self {
        self.literals_allowed = true;
        self
    }

    /// Admits reads of the system catalogs.
    #[must_use]
    pub fn allow_catalog(mut self) -> Self {
        self.catalog_allowed = true;
        self
    }

    /// The parser's recursion limit, clamped to 1..=[`MAX_RECURSION_LIMIT`](Self::MAX_RECURSION_LIMIT).
    #[must_use]
    pub fn with_recursion_limit(mut self, limit: usize) -> Self {
        self.recursion_limit = limit.clamp(1, Self::MAX_RECURSION_LIMIT);
        self
    }

    /// The dialect.
    #[must_use]
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
}
