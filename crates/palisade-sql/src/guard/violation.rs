//! `Violation`: which rule a statement breaks and where, never the statement's text.

use std::fmt;

/// A rule of [`SqlGuard`](crate::SqlGuard). Each has a stable id for logs and scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// The parser cannot parse the statement: refused, since the server might.
    Unparsable,
    /// Nested deeper than the recursion limit, or an operator chain longer than the
    /// expression budget (1000 levels, as SQLite's expression height limit).
    TooDeep,
    /// Longer than the statement size cap (256 KiB).
    TooLong,
    /// More than one statement (stacked queries).
    MultipleStatements,
    /// No statement at all.
    Empty,
    /// A comment (`--`, `#`, `/* */`): templates have none, and injections use them to cut
    /// the rest of a statement off.
    Comment,
    /// A MySQL executable comment (`/*! ... */`), which MySQL runs.
    ExecutableComment,
    /// A statement kind the policy does not allow (a write on a read-only handle, DDL,
    /// `GRANT`, `SET ROLE`, transaction control).
    StatementNotAllowed,
    /// A table outside the policy's allow-list.
    TableNotAllowed,
    /// A system catalog read (`information_schema`, `pg_catalog`, `mysql.user`,
    /// `sqlite_master`).
    CatalogRead,
    /// A placeholder with no bound parameter.
    PlaceholderUnbound,
    /// A supplied parameter that no placeholder uses.
    ParameterUnused,
    /// Placeholders of different styles (`:name` with `?` or `$1`), or a style the dialect
    /// does not have.
    PlaceholderStyle,
    /// A literal where the policy says values must be parameters.
    LiteralValue,
    /// A function that sleeps, reads or writes files, runs programs or reaches other servers
    /// (`pg_sleep`, `benchmark`, `load_file`, `pg_read_file`, `lo_import`, `dblink`, ...).
    DangerousFunction,
    /// File or program access by statement (`INTO OUTFILE`, `INTO DUMPFILE`,
    /// `COPY ... PROGRAM`).
    FileAccess,
    /// An `OR` that makes a real condition always true (`id = 5 OR 1=1`, `OR 'a'='a'`,
    /// `OR x=x`, `OR true`). An `OR` of two always-true sides (`a = a OR b = b`, a planner
    /// test) widens nothing and is left to the other rules.
    Tautology,
    /// An equality or pattern test of two constants outside the select list
    /// (`AND 8312=8312`, `CASE WHEN 5<>5`, `ELT(7=7, 1)`, `'abc' LIKE 'abc%'`): the question
    /// a boolean-blind probe asks. Orderings (`1 < 2`) are left alone: server test suites
    /// use them. The query builders' `1 = 1`, `1 = 0`, `0 = 1` and `1 = 2` are exempt, and
    /// so is DDL (a partition bound or `CHECK` compares constants by definition).
    BooleanProbe,
    /// A `UNION` branch of constants against a branch that reads a table, built by functions
    /// (`UNION SELECT NULL, CONCAT(0x71, 0x72)`) or all `NULL` in the statement's own result
    /// (`UNION ALL SELECT NULL, NULL`): how UNION-based extraction counts columns and marks
    /// its output. Plain constants (`UNION SELECT NULL, 42`) and `NULL` rows inside a derived
    /// table are data.
    UnionProbe,
    /// An `ORDER BY` that chooses between values on a subquery (`ORDER BY (CASE WHEN
    /// (SELECT ...) = 'a' THEN id ELSE name END)`, `IF((SELECT ...), a, b)`): how blind
    /// extraction reads data one comparison at a time through the order of rows. Policy, not
    /// evidence: ordering by a subquery's value is left alone.
    OrderProbe,
    /// A server or session variable (`@@version`, `@@datadir`, MySQL's `@x` and
    /// `@x := ...`): server state, and session state that outlives the statement.
    SessionVariable,
    /// A statement whose shape is not in the [`AllowList`](crate::AllowList).
    ShapeNotAllowed,
}

impl Rule {
    /// The rule's stable id (`literal-value`).
    #[must_use]
    pub const fn id(self) -> &'static str {
        match self {
            Self::Unparsable => "unparsable",
            Self::TooDeep => "too-deep",
            Self::TooLong => "too-long",
            Self::MultipleStatements => "multiple-statements",
            Self::Empty => "empty",
            Self::Comment => "comment",
            Self::ExecutableComment => "executable-comment",
            Self::StatementNotAllowed => "statement-not-allowed",
            Self::TableNotAllowed => "table-not-allowed",
            Self::CatalogRead => "catalog-read",
            Self::PlaceholderUnbound => "placeholder-unbound",
            Self::ParameterUnused => "parameter-unused",
            Self::PlaceholderStyle => "placeholder-style",
            Self::LiteralValue => "literal-value",
            Self::DangerousFunction => "dangerous-function",
            Self::FileAccess => "file-access",
            Self::Tautology => "tautology",
            Self::BooleanProbe => "boolean-probe",
            Self::UnionProbe => "union-probe",
            Self::OrderProbe => "order-probe",
            Self::SessionVariable => "session-variable",
            Self::ShapeNotAllowed => "shape-not-allowed",
        }
    }

    /// Whether the rule is evidence of an injection (R-SQL-3) rather than a policy (R-SQL-2):
    /// stacked statements, executable comments, tautologies, boolean probes and UNION probes.
    /// Dangerous functions, file access and order probes are policy: benign code calls
    /// `pg_sleep` and `lo_get` too, PostgreSQL's own tests order by a `CASE` on a correlated
    /// subquery, and the guard refuses them either way.
    #[must_use]
    pub const fn is_injection_evidence(self) -> bool {
        matches!(
            self,
            Self::MultipleStatements
                | Self::ExecutableComment
                | Self::Tautology
                | Self::BooleanProbe
                | Self::UnionProbe
        )
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Unparsable => "the statement does not parse",
            Self::TooDeep => "the statement is nested too deeply",
            Self::TooLong => "the statement is longer than the size cap",
            Self::MultipleStatements => "more than one statement",
            Self::Empty => "no statement",
            Self::Comment => "a comment",
            Self::ExecutableComment => "a MySQL executable comment",
            Self::StatementNotAllowed => "a statement kind the policy does not allow",
            Self::TableNotAllowed => "a table outside the allow-list",
            Self::CatalogRead => "a system catalog read",
            Self::PlaceholderUnbound => "a placeholder with no parameter",
            Self::ParameterUnused => "a parameter that no placeholder uses",
            Self::PlaceholderStyle => "mixed or foreign placeholder styles",
            Self::LiteralValue => "a literal where values must be parameters",
            Self::DangerousFunction => "a function that sleeps, touches files or reaches out",
            Self::FileAccess => "file or program access",
            Self::Tautology => "an always-true OR",
            Self::BooleanProbe => "a comparison of two constants",
            Self::UnionProbe => "a UNION of constants against a table",
            Self::OrderProbe => "an order chosen on a subquery",
            Self::SessionVariable => "a server or session variable",
            Self::ShapeNotAllowed => "a statement shape outside the allow-list",
        }
    }
}

/// A refusal: the rule and the position (1-based line and column; 0 when the rule concerns
/// the whole statement). Its messages never contain the statement or a value from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    rule: Rule,
    line: u64,
    column: u64,
}

impl Violation {
    pub(crate) fn new(rule: Rule, line: u64, column: u64) -> Self {
        Self { rule, line, column }
    }

    pub(crate) fn whole(rule: Rule) -> Self {
        Self::new(rule, 0, 0)
    }

    /// The rule broken.
    #[must_use]
    pub fn rule(&self) -> Rule {
        self.rule
    }

    /// The refusal as problem details: `400`, type `urn:palisade:problem:sql/refused`, and
    /// the rule's id (`tautology`), never the statement.
    #[must_use]
    pub fn problem_details(&self) -> palisade_problem::Problem {
        palisade_problem::Problem::new(
            "sql/refused",
            "the SQL statement is refused",
            http::StatusCode::BAD_REQUEST,
        )
        .with("rule", self.rule.id())
    }

    /// The 1-based line, or 0 for the whole statement.
    #[must_use]
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The 1-based column (in characters), or 0 for the whole statement.
    #[must_use]
    pub fn column(&self) -> u64 {
        self.column
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.rule.describe(), self.rule.id())?;
        if self.line > 0 {
            write!(f, " at line {}, column {}", self.line, self.column)?;
        }
        Ok(())
    }
}

impl std::error::Error for Violation {}

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl axum::response::IntoResponse for Violation {
    fn into_response(self) -> axum::response::Response {
        self.problem_details().into_response()
    }
}
