//! `SqlGuard` (R-SQL-2, R-SQL-3): raw SQL checked before it runs.

mod depth;
mod evidence;
mod functions;
mod inspect;
mod kind;
mod params;
mod policy;
mod relations;
mod spans;
mod tokens;
mod tsql_tokens;
mod unicode_names;
mod violation;

use std::ops::ControlFlow;

use sqlparser::ast::{Statement, Visit as _};
use sqlparser::dialect::{self as sqlparser_dialect};
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

use crate::{AllowList, Dialect, Fingerprint};
use inspect::{Inspector, Placeholder};
pub use params::Params;
pub use policy::{SqlPolicy, StatementKind};
pub(crate) use tokens::is_other_literal;
pub use violation::{Rule, Violation};

/// The longest statement checked, in bytes; a longer one is refused as [`Rule::TooLong`]
/// before the tokenizer sees it.
const MAX_STATEMENT_BYTES: usize = 256 * 1024;

/// A statement that passed, with what the guard learned about it. Its `Debug` shows the
/// relations, functions and placeholders, never the statement (whose literals are values).
#[derive(Clone, PartialEq)]
pub struct Checked {
    statement: Statement,
    tables: Vec<String>,
    functions: Vec<String>,
    placeholders: Vec<String>,
    /// Where each placeholder starts, in the same order as `placeholders`.
    placeholder_starts: Vec<Location>,
}

impl std::fmt::Debug for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checked")
            .field("tables", &self.tables)
            .field("functions", &self.functions)
            .field("placeholders", &self.placeholders)
            .finish_non_exhaustive()
    }
}

impl Checked {
    /// The parsed statement.
    #[must_use]
    pub fn statement(&self) -> &Statement {
        &self.statement
    }

    /// Every relation it reads or writes, in order of appearance: tables and views in
    /// `FROM`, joins, derived tables, `LATERAL`, CTE bodies, set-operation branches and
    /// `TABLE x`, qualified as written, each part as the server compares it (see
    /// [`SqlPolicy::with_tables`]). Names a `WITH` binds and table functions are not
    /// relations.
    #[must_use]
    pub fn tables(&self) -> &[String] {
        &self.tables
    }

    /// Every function it calls, in expressions and as a table in `FROM` (lower-case,
    /// qualified as written), in order of appearance.
    #[must_use]
    pub fn functions(&self) -> &[String] {
        &self.functions
    }

    /// Its placeholders as written (`:id`, `$1`, `?`, `@p1`), in order of appearance.
    #[must_use]
    pub fn placeholders(&self) -> &[String] {
        &self.placeholders
    }

    /// Each placeholder with where it starts (1-based line and character column).
    #[cfg_attr(
        not(feature = "sqlx"),
        allow(dead_code, reason = "read by the sqlx feature")
    )]
    pub(crate) fn placeholders_at(&self) -> impl Iterator<Item = (&str, Location)> {
        self.placeholders
            .iter()
            .map(String::as_str)
            .zip(self.placeholder_starts.iter().copied())
    }
}

/// Checks raw SQL against a [`SqlPolicy`] before it runs: one statement, no comments, an
/// allowed statement kind and tables, placeholders only for values and matched one to one
/// with the parameters, no dangerous functions or file access, no injection evidence.
/// A statement the parser cannot parse is refused.
///
/// ```
/// use palisade_sql::{Dialect, Params, Rule, SqlGuard, SqlPolicy};
///
/// let guard = SqlGuard::new(SqlPolicy::read_only(Dialect::Postgres).with_tables(["users"]));
/// let ok = guard.check("SELECT name FROM users WHERE id = :id", &Params::named(["id"]))?;
/// assert_eq!(ok.placeholders(), [":id"]);
///
/// let injected = "SELECT name FROM users WHERE id = 1 OR 1=1";
/// let refused = guard.check(injected, &Params::none()).unwrap_err();
/// assert_eq!(refused.rule(), Rule::Tautology);
/// assert_eq!((refused.line(), refused.column()), (1, 30));
/// assert!(!refused.to_string().contains("1=1"));
///
/// let literal = guard.check("SELECT name FROM users WHERE id = 42", &Params::none());
/// assert_eq!(literal.unwrap_err().rule(), Rule::LiteralValue);
///
/// let write = guard.check("DELETE FROM users WHERE id = :id", &Params::named(["id"]));
/// assert_eq!(write.unwrap_err().rule(), Rule::StatementNotAllowed);
/// # Ok::<(), palisade_sql::Violation>(())
/// ```
#[derive(Debug, Clone)]
pub struct SqlGuard {
    policy: SqlPolicy,
    allow_list: Option<AllowList>,
}

impl SqlGuard {
    /// A guard for `policy`.
    #[must_use]
    pub fn new(policy: SqlPolicy) -> Self {
        Self {
            policy,
            allow_list: None,
        }
    }

    /// Also admits only the shapes in `list` (allow-list mode): a statement that passes
    /// every rule is still refused with [`Rule::ShapeNotAllowed`] when its shape is unknown.
    #[must_use]
    pub fn with_allow_list(mut self, list: AllowList) -> Self {
        self.allow_list = Some(list);
        self
    }

    /// The policy.
    #[must_use]
    pub fn policy(&self) -> &SqlPolicy {
        &self.policy
    }

    /// Checks `sql`, to be run with `params`.
    ///
    /// # Errors
    /// The first [`Violation`] found: its rule and position, never the text.
    pub fn check(&self, sql: &str, params: &Params) -> Result<Checked, Violation> {
        self.check_shaped(sql, params, false)
            .map(|(checked, _)| checked)
    }

    /// [`check`](Self::check), with the statement's shape when `want_shape` (read from the
    /// same tokens: no second tokenizer pass) or when the allow-list needed it.
    pub(crate) fn check_shaped(
        &self,
        sql: &str,
        params: &Params,
        want_shape: bool,
    ) -> Result<(Checked, Option<Fingerprint>), Violation> {
        let tokens = tokenize(sql, self.policy.dialect)?;
        tokens::check(sql, &tokens, self.policy.dialect)?;
        depth::check(&tokens)?;
        // The shape is read from the same tokens, before the parser takes them; it is looked
        // up after every rule.
        let shape = if want_shape || self.allow_list.is_some() {
            Some(Fingerprint::from_tokens(&tokens, self.policy.dialect)?)
        } else {
            None
        };
        let statement = parse_one(tokens, &self.policy)?;
        let mut inspector = Inspector::new(&self.policy);
        if let ControlFlow::Break(violation) = statement.visit(&mut inspector) {
            return Err(*violation);
        }
        match_params(self.policy.dialect, &inspector.placeholders, params)?;
        let (placeholders, placeholder_starts) = inspector
            .placeholders
            .into_iter()
            .map(|p| (p.text, p.at))
            .unzip();
        let checked = Checked {
            placeholders,
            placeholder_starts,
            tables: inspector.tables,
            functions: inspector.functions,
            statement,
        };
        let shape = match (&self.allow_list, shape) {
            (Some(list), Some(shape)) => Some(list.known(shape)?),
            (_, shape) => shape,
        };
        Ok((checked, shape))
    }
}

/// The tokens of `sql` in `dialect`, as the dialect's tokenizer reads them and with names
/// spelled as the server reads them (PostgreSQL's `U&"..."`); statements over 256 KiB are
/// refused before the tokenizer sees them.
pub(crate) fn tokenize(sql: &str, dialect: Dialect) -> Result<Vec<TokenWithSpan>, Violation> {
    if sql.len() > MAX_STATEMENT_BYTES {
        return Err(Violation::whole(Rule::TooLong));
    }
    let tokens = Tokenizer::new(parser_dialect(dialect), sql)
        .tokenize_with_location()
        .map_err(|e| Violation::new(Rule::Unparsable, e.location.line, e.location.column))?;
    match dialect {
        Dialect::Postgres => unicode_names::decode(tokens),
        Dialect::MySql => Ok(pipes_as_or(tokens)),
        Dialect::MsSql => Ok(tsql_tokens::rewrite(tokens)),
        _ => Ok(tokens),
    }
}

/// MySQL's default SQL mode reads `||` as `OR` (with `OR`'s precedence), where sqlparser
/// reads string concatenation: the tokens say `OR`, so the tree is the one the server
/// evaluates (`id = 1 || 1=1` is a tautology there).
fn pipes_as_or(mut tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    for token in &mut tokens {
        if token.token == Token::StringConcat {
            token.token = Token::make_keyword("OR");
        }
    }
    tokens
}

/// The one statement in `tokens`, parsed in the policy's dialect with its recursion limit.
fn parse_one(tokens: Vec<TokenWithSpan>, policy: &SqlPolicy) -> Result<Statement, Violation> {
    let mut statements = Parser::new(parser_dialect(policy.dialect))
        .with_recursion_limit(policy.recursion_limit)
        .with_tokens_with_locations(tokens)
        .parse_statements()
        .map_err(|e| match e {
            ParserError::RecursionLimitExceeded => Violation::whole(Rule::TooDeep),
            _ => Violation::whole(Rule::Unparsable),
        })?;
    match (statements.pop(), statements.is_empty()) {
        (Some(statement), true) => Ok(statement),
        (Some(_), false) => Err(Violation::whole(Rule::MultipleStatements)),
        (None, _) => Err(Violation::whole(Rule::Empty)),
    }
}

pub(crate) fn parser_dialect(dialect: Dialect) -> &'static dyn sqlparser_dialect::Dialect {
    match dialect {
        Dialect::Postgres => &sqlparser_dialect::PostgreSqlDialect {},
        Dialect::MySql => &sqlparser_dialect::MySqlDialect {},
        Dialect::Sqlite => &sqlparser_dialect::SQLiteDialect {},
        Dialect::MsSql => &sqlparser_dialect::MsSqlDialect {},
    }
}

/// How a placeholder names its parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `:name`, `@name`, `$name` (SQLite).
    Named,
    /// `$1`, `?1`.
    Numbered,
    /// `?`.
    Anonymous,
}

fn style(text: &str) -> (Style, &str) {
    let (sigil, rest) = text.split_at(text.chars().next().map_or(0, char::len_utf8));
    match sigil {
        "?" if rest.is_empty() => (Style::Anonymous, rest),
        "?" | "$" if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) => {
            (Style::Numbered, rest)
        }
        _ => (Style::Named, rest),
    }
}

/// Placeholders and parameters, one to one.
fn match_params(
    dialect: Dialect,
    placeholders: &[Placeholder],
    params: &Params,
) -> Result<(), Violation> {
    let at = |p: &Placeholder, rule| Violation::new(rule, p.at.line, p.at.column);
    let styles: Vec<(Style, &str, &Placeholder)> = placeholders
        .iter()
        .map(|p| {
            let (style, name) = style(&p.text);
            (style, name, p)
        })
        .collect();
    if let Some((first, _, _)) = styles.first()
        && let Some((_, _, odd)) = styles.iter().find(|(s, _, _)| s != first)
    {
        return Err(at(odd, Rule::PlaceholderStyle));
    }
    if dialect == Dialect::Postgres
        && let Some((_, _, p)) = styles.iter().find(|(s, _, _)| *s == Style::Anonymous)
    {
        return Err(at(p, Rule::PlaceholderStyle));
    }
    match params {
        Params::Named(names) => {
            for (style, name, p) in &styles {
                if *style != Style::Named {
                    return Err(at(p, Rule::PlaceholderStyle));
                }
                if !names.iter().any(|n| n == name) {
                    return Err(at(p, Rule::PlaceholderUnbound));
                }
            }
            if names
                .iter()
                .any(|n| !styles.iter().any(|(_, name, _)| name == n))
            {
                return Err(Violation::whole(Rule::ParameterUnused));
            }
        }
        Params::Positional(count) => {
            // More parameters than placeholders leaves one unused; checked first, so the
            // bookkeeping below is sized by the statement, never by the caller's count.
            if *count > styles.len() {
                return Err(Violation::whole(Rule::ParameterUnused));
            }
            let mut used = vec![false; *count];
            for (index, (style, number, p)) in styles.iter().enumerate() {
                let position = match style {
                    Style::Named => return Err(at(p, Rule::PlaceholderStyle)),
                    Style::Anonymous => index,
                    Style::Numbered => number.parse::<usize>().unwrap_or(0).wrapping_sub(1),
                };
                match used.get_mut(position) {
                    Some(slot) => *slot = true,
                    None => return Err(at(p, Rule::PlaceholderUnbound)),
                }
            }
            if used.iter().any(|u| !u) {
                return Err(Violation::whole(Rule::ParameterUnused));
            }
        }
    }
    Ok(())
}
