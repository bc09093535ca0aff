//! Constant conditions: what a comparison of literals (or of a column with itself) is,
//! whatever the row. The guard's tautology rule and the fingerprint both read them.

use sqlparser::ast::{BinaryOperator, Expr, UnaryOperator, Value};

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
fn compare_literals(left: &Value, right: &Value) -> Option<std::cmp::Ordering> {
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

/// Whether `expr` is a literal (not `NULL`, not a placeholder), brackets aside.
pub(crate) fn is_literal(expr: &Expr) -> bool {
    literal(expr).is_some()
}

fn literal(expr: &Expr) -> Option<&Value> {
    match expr {
        Expr::Value(v) if !matches!(v.value, Value::Placeholder(_) | Value::Null) => Some(&v.value),
        Expr::Nested(inner) => literal(inner),
        _ => None,
    }
}

/// Whether a condition is true whatever the row: `TRUE`, `1`, `1=1`, `'a'='a'`, `x=x`,
/// `2>1`, `NOT FALSE`, and `AND`/`OR` of such.
pub(crate) fn always_true(expr: &Expr) -> bool {
    truth(expr) == Some(true)
}

pub(crate) fn truth(expr: &Expr) -> Option<bool> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match expr {
        Expr::Nested(inner) => truth(inner),
        Expr::Value(v) => literal_truth(&v.value),
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => truth(expr).map(|t| !t),
        Expr::BinaryOp { left, op, right } => match op {
            BinaryOperator::Or => match (truth(left), truth(right)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            BinaryOperator::And => match (truth(left), truth(right)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Gt
            | BinaryOperator::Lt
            | BinaryOperator::GtEq
            | BinaryOperator::LtEq => {
                let ordering = match (literal(left), literal(right)) {
                    (Some(a), Some(b)) => compare_literals(a, b)?,
                    // The same column or expression on both sides (`x = x`).
                    _ if same_operand(left, right) => Equal,
                    _ => return None,
                };
                Some(match op {
                    BinaryOperator::Eq => ordering == Equal,
                    BinaryOperator::NotEq => ordering != Equal,
                    BinaryOperator::Gt => ordering == Greater,
                    BinaryOperator::Lt => ordering == Less,
                    BinaryOperator::GtEq => ordering != Less,
                    _ => ordering != Greater,
                })
            }
            _ => None,
        },
        _ => None,
    }
}

/// The same column (or expression of columns) on both sides; placeholders and `NULL` are
/// not the same as themselves.
fn same_operand(left: &Expr, right: &Expr) -> bool {
    let plain = |e: &Expr| matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_));
    plain(left) && plain(right) && left.to_string() == right.to_string()
}
