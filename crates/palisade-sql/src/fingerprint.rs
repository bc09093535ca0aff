//! `fingerprint` (R-SQL-4): a statement's shape, literals out, lists collapsed, comments and
//! whitespace gone, with nothing that tells two different queries apart removed.

use std::fmt;
use std::ops::ControlFlow;

use sha2::{Digest as _, Sha256};
use sqlparser::ast::{
    BinaryOperator, Expr, InTarget, Query, SetExpr, Statement, Value, ValueWithSpan, VisitMut as _,
    VisitorMut,
};

use crate::constant::truth;
use crate::guard::{Violation, parse_one};
use crate::{Dialect, SqlPolicy};

/// A statement's shape: the normalized text and a stable 64-bit id of it.
///
/// Literals and placeholders become `?`, `IN` lists of values and `VALUES` rows collapse to
/// one, comments and whitespace are gone, keywords are upper-case. Everything else stays:
/// table and schema names, aliases, numbers inside names (`orders_2024_01`), column order,
/// and whether a comparison of constants is true or false (`a = 1 OR 1 = 1` is
/// `a = ? OR true`, `a = 1 OR 2 = 3` is `a = ? OR false`), so an allow-list never admits a
/// tautology for the contradiction it learned. The text is never truncated.
///
/// ```
/// use palisade_sql::{Dialect, fingerprint};
///
/// let a = fingerprint("SELECT * FROM t WHERE id IN (1, 2, 3) -- first", Dialect::Postgres)?;
/// let b = fingerprint("select *  from t where id in (7)", Dialect::Postgres)?;
/// assert_eq!(a, b);
/// assert_eq!(a.text(), "SELECT * FROM t WHERE id IN (?)");
///
/// let tautology = fingerprint("SELECT * FROM t WHERE a = 1 OR 1 = 1", Dialect::Postgres)?;
/// let contradiction = fingerprint("SELECT * FROM t WHERE a = 1 OR 2 = 3", Dialect::Postgres)?;
/// assert_ne!(tautology, contradiction);
/// # Ok::<(), palisade_sql::Violation>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint {
    id: u64,
    text: String,
}

impl Fingerprint {
    /// The shape of a parsed statement.
    #[must_use]
    pub fn of(statement: &Statement) -> Self {
        let mut shape = statement.clone();
        let _ = shape.visit(&mut Normalizer);
        Self::from_text(shape.to_string())
    }

    pub(crate) fn from_text(text: String) -> Self {
        let digest = Sha256::digest(text.as_bytes());
        let mut first = [0_u8; 8];
        first.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
        Self {
            id: u64::from_be_bytes(first),
            text,
        }
    }

    /// The first 64 bits of the SHA-256 of the text: for logs and lookups. Allow-lists
    /// compare the text, since 64 bits can be made to collide.
    #[must_use]
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The id as 16 hex digits.
    #[must_use]
    pub fn id_hex(&self) -> String {
        format!("{:016x}", self.id)
    }

    /// The normalized text.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Fingerprint {
    /// `id text`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id_hex(), self.text)
    }
}

/// The fingerprint of one statement of `dialect`. Comments are allowed (they are dropped).
///
/// # Errors
/// [`Violation`] when the text is not exactly one statement the parser can parse
/// (`unparsable`, `multiple-statements`, `too-deep`, `empty`).
pub fn fingerprint(sql: &str, dialect: Dialect) -> Result<Fingerprint, Violation> {
    let policy = SqlPolicy::read_only(dialect);
    let statement = parse_one(sql, &policy, false)?;
    Ok(Fingerprint::of(&statement))
}

/// Rewrites a statement into its shape.
struct Normalizer;

impl VisitorMut for Normalizer {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let SetExpr::Values(values) = query.body.as_mut() {
            values.rows.truncate(1);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match expr {
            Expr::BinaryOp { op, .. } if is_comparison(op) => {
                if let Some(known) = truth(expr) {
                    *expr = Expr::value(Value::Boolean(known));
                }
            }
            Expr::In {
                target: InTarget::List(items),
                ..
            } if items.iter().all(is_value) => {
                items.truncate(1);
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_value(&mut self, value: &mut ValueWithSpan) -> ControlFlow<()> {
        if !matches!(value.value, Value::Boolean(_) | Value::Null) {
            value.value = Value::Placeholder("?".to_owned());
        }
        ControlFlow::Continue(())
    }
}

fn is_comparison(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Gt
            | BinaryOperator::Lt
            | BinaryOperator::GtEq
            | BinaryOperator::LtEq
    )
}

fn is_value(expr: &Expr) -> bool {
    matches!(expr, Expr::Value(v) if !matches!(v.value, Value::Boolean(_) | Value::Null))
        || matches!(expr, Expr::UnaryOp { expr, .. } if is_value(expr))
}
