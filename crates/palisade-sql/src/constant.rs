//! Constant conditions: what a condition is whatever the row. The guard's tautology and
//! boolean-probe rules read them.
//!
//! A condition is constant when it compares literals (`1=1`, `'a'='a'`, `2>1`), the same
//! expression on both sides (`x=x`, `x - x = x - x`, `(SELECT 1) = (SELECT 1)`,
//! `x BETWEEN x AND x`), or asks a question whose answer does not depend on the row
//! (`NULL IS NULL`, `TRUE IS TRUE`, `x LIKE '%'`, `EXISTS (SELECT NULL)`), and `AND`, `OR`
//! and `NOT` of such. A scalar subquery of one constant (`(SELECT 5)`) is that constant.

use std::cmp::Ordering;
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, InTarget, Query, SelectItem, SetExpr, UnaryOperator, Value,
    visit_expressions,
};

/// A literal's truth as a condition: `Some(true)` for `TRUE` and non-zero numbers (MySQL
/// reads them as true), `Some(false)` for `FALSE` and zero.
fn literal_truth(value: &Value) -> Option<bool> {
    match value {
        Value::Boolean(b) => Some(*b),
        Value::Number(n, _) => n.parse::<f64>().ok().map(|n| n != 0.0),
        _ => None,
    }
}

/// Compares two literals of the same kind: numbers numerically, strings exactly.
fn compare_literals(left: &Value, right: &Value) -> Option<Ordering> {
    match (left, right) {
        (Value::Number(a, _), Value::Number(b, _)) => {
            a.parse::<f64>().ok()?.partial_cmp(&b.parse::<f64>().ok()?)
        }
        (
            Value::SingleQuotedString(a) | Value::DoubleQuotedString(a),
            Value::SingleQuotedString(b) | Value::DoubleQuotedString(b),
        ) => Some(a.cmp(b)),
        _ => None,
    }
}

/// Whether `expr` is a literal (not `NULL`, not a placeholder), brackets and one-constant
/// scalar subqueries aside.
pub(crate) fn is_literal(expr: &Expr) -> bool {
    literal(expr).is_some()
}

fn literal(expr: &Expr) -> Option<&Value> {
    match expr {
        Expr::Value(v) if !matches!(v.value, Value::Placeholder(_) | Value::Null) => Some(&v.value),
        Expr::Nested(inner) => literal(inner),
        Expr::Subquery(query) => constant_select(query).and_then(literal),
        _ => None,
    }
}

/// The one expression a query selects when it reads no table and filters nothing
/// (`SELECT 5`, `SELECT NULL`): a constant in disguise.
pub(crate) fn constant_select(query: &Query) -> Option<&Expr> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    if !select.from.is_empty() || select.selection.is_some() || select.having.is_some() {
        return None;
    }
    match select.projection.as_slice() {
        [SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }] => Some(e),
        _ => None,
    }
}

/// Whether a condition is true whatever the row.
pub(crate) fn always_true(expr: &Expr) -> bool {
    truth(expr) == Some(true)
}

/// A condition's truth whatever the row, when it has one.
pub(crate) fn truth(expr: &Expr) -> Option<bool> {
    let not = |t: Option<bool>, negated: bool| t.map(|t| t != negated);
    match expr {
        Expr::Nested(inner) => truth(inner),
        Expr::Value(v) => literal_truth(&v.value),
        Expr::Subquery(query) => constant_select(query).and_then(truth),
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => not(truth(expr), true),
        Expr::BinaryOp { left, op, right } => binary_truth(left, op, right),
        Expr::IsNull(e) => null_test(e),
        Expr::IsNotNull(e) => not(null_test(e), true),
        Expr::IsTrue(e) => truth(e),
        Expr::IsNotTrue(e) | Expr::IsFalse(e) => not(truth(e), true),
        Expr::IsNotFalse(e) => truth(e),
        Expr::IsNotDistinctFrom(a, b) => same_operand(a, b).then_some(true),
        Expr::IsDistinctFrom(a, b) => same_operand(a, b).then_some(false),
        Expr::Like {
            negated, pattern, ..
        }
        | Expr::ILike {
            negated, pattern, ..
        } => not(matches_everything(pattern).then_some(true), *negated),
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => {
            let within = match (literal(expr), literal(low), literal(high)) {
                (Some(v), Some(l), Some(h)) => Some(
                    compare_literals(v, l)? != Ordering::Less
                        && compare_literals(v, h)? != Ordering::Greater,
                ),
                _ => (same_operand(expr, low) && same_operand(expr, high)).then_some(true),
            };
            not(within, *negated)
        }
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated,
            ..
        } => {
            let member = list.iter().any(|item| {
                same_operand(expr, item)
                    || matches!((literal(expr), literal(item)),
                        (Some(a), Some(b)) if compare_literals(a, b) == Some(Ordering::Equal))
            });
            not(member.then_some(true), *negated)
        }
        Expr::Exists { subquery, negated } => {
            // A select of constants without a filter returns one row.
            let one_row = matches!(subquery.body.as_ref(), SetExpr::Select(s)
                if s.from.is_empty() && s.selection.is_none() && s.having.is_none());
            not(one_row.then_some(true), *negated)
        }
        _ => None,
    }
}

fn binary_truth(left: &Expr, op: &BinaryOperator, right: &Expr) -> Option<bool> {
    use Ordering::{Equal, Greater, Less};
    match op {
        BinaryOperator::Or => or(truth(left), truth(right)),
        BinaryOperator::And => match (truth(left), truth(right)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        BinaryOperator::Eq
        | BinaryOperator::NotEq
        | BinaryOperator::Spaceship
        | BinaryOperator::Gt
        | BinaryOperator::Lt
        | BinaryOperator::GtEq
        | BinaryOperator::LtEq => {
            let ordering = match (literal(left), literal(right)) {
                (Some(a), Some(b)) => compare_literals(a, b)?,
                // The same expression on both sides (`x = x`, `x - x = x - x`).
                _ if same_operand(left, right) => Equal,
                _ => return None,
            };
            Some(match op {
                BinaryOperator::Eq | BinaryOperator::Spaceship => ordering == Equal,
                BinaryOperator::NotEq => ordering != Equal,
                BinaryOperator::Gt => ordering == Greater,
                BinaryOperator::Lt => ordering == Less,
                BinaryOperator::GtEq => ordering != Less,
                _ => ordering != Greater,
            })
        }
        _ => None,
    }
}

fn or(left: Option<bool>, right: Option<bool>) -> Option<bool> {
    match (left, right) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// `NULL IS NULL` is true, `5 IS NULL` false.
fn null_test(expr: &Expr) -> Option<bool> {
    match expr {
        Expr::Nested(inner) => null_test(inner),
        Expr::Value(v) if v.value == Value::Null => Some(true),
        _ if is_literal(expr) => Some(false),
        _ => None,
    }
}

/// A pattern of `%` only (`LIKE '%'`, `LIKE '%%'`): matches every value that is not `NULL`.
fn matches_everything(pattern: &Expr) -> bool {
    matches!(literal(pattern), Some(Value::SingleQuotedString(p) | Value::DoubleQuotedString(p))
        if !p.is_empty() && p.chars().all(|c| c == '%'))
}

/// The same expression on both sides, with no placeholder and no function call in it (a
/// placeholder can differ on each side, `random()` from call to call); literals and `NULL`
/// are the other rules' to judge.
fn same_operand(left: &Expr, right: &Expr) -> bool {
    !is_literal(left)
        && !matches!(left, Expr::Value(_))
        && deterministic(left)
        && deterministic(right)
        && left.to_string() == right.to_string()
}

/// No placeholder and no function call anywhere in `expr`.
fn deterministic(expr: &Expr) -> bool {
    let found = visit_expressions(expr, |e| match e {
        Expr::Function(_) => ControlFlow::Break(()),
        Expr::Value(v) if matches!(v.value, Value::Placeholder(_)) => ControlFlow::Break(()),
        // SQL Server's `@p1`.
        Expr::Identifier(ident) if ident.value.starts_with('@') => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    });
    found.is_continue()
}
