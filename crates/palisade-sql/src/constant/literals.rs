//! Literals as the servers read them: their truth as a condition, their order, and the
//! numbers arithmetic of them makes.

use std::cmp::Ordering;

use sqlparser::ast::{BinaryOperator, Expr, UnaryOperator, Value};

use super::constant_select;

/// A literal's truth as a condition: `TRUE`, non-zero numbers (MySQL reads them as true),
/// and the strings PostgreSQL reads as booleans (`'t'`, `'yes'`, `'on'`, ...) or MySQL as
/// non-zero numbers (`'1abc'`).
pub(super) fn literal_truth(value: &Value) -> Option<bool> {
    match value {
        Value::Boolean(b) => Some(*b),
        Value::Number(n, _) => n.parse::<f64>().ok().map(|n| n != 0.0),
        Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => {
            let word = s.trim().to_ascii_lowercase();
            match word.as_str() {
                "t" | "true" | "y" | "yes" | "on" => Some(true),
                "f" | "false" | "n" | "no" | "off" => Some(false),
                _ => leading_number(&word).map(|n| n != 0.0),
            }
        }
        _ => None,
    }
}

/// The number a string starts with, as MySQL converts it (`'1abc'` is 1).
fn leading_number(text: &str) -> Option<f64> {
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && c == '-')))
        .map_or(text.len(), |(i, _)| i);
    text.get(..end).and_then(|n| n.parse().ok())
}

/// Compares two literals of the same kind: numbers numerically, strings exactly.
pub(super) fn compare_literals(left: &Value, right: &Value) -> Option<Ordering> {
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

/// Whether `expr` is a literal (not `NULL`, not a placeholder), brackets, casts, collations
/// and one-constant scalar subqueries aside.
pub(crate) fn is_literal(expr: &Expr) -> bool {
    literal(expr).is_some()
}

pub(super) fn literal(expr: &Expr) -> Option<&Value> {
    match expr {
        Expr::Value(v) if !matches!(v.value, Value::Placeholder(_) | Value::Null) => Some(&v.value),
        Expr::Nested(inner) | Expr::Collate { expr: inner, .. } => literal(inner),
        Expr::Subquery(query) => constant_select(query).and_then(literal),
        _ => None,
    }
}

/// A number written as a literal, a string of digits, an array of one, or arithmetic of
/// them (`1+1`, `-5`, `2*3`, `'1000'`, `1_000`, `ARRAY[1e9]`, `10^9`).
pub(crate) fn number(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.replace('_', "").parse().ok(),
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.trim().parse().ok(),
            _ => None,
        },
        Expr::Nested(inner) | Expr::Cast { expr: inner, .. } => number(inner),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => number(expr).map(|n| -n),
        Expr::UnaryOp {
            op: UnaryOperator::Plus,
            expr,
        } => number(expr),
        Expr::Array(array) => array
            .elem
            .iter()
            .filter_map(number)
            .fold(None, |max: Option<f64>, n| {
                Some(max.map_or(n, |m| m.max(n)))
            }),
        Expr::BinaryOp { left, op, right } => {
            let (a, b) = (number(left)?, number(right)?);
            match op {
                BinaryOperator::Plus => Some(a + b),
                BinaryOperator::Minus => Some(a - b),
                BinaryOperator::Multiply => Some(a * b),
                BinaryOperator::Divide if b != 0.0 => Some(a / b),
                BinaryOperator::PGExp => Some(a.powf(b)),
                _ => None,
            }
        }
        _ => None,
    }
}
