//! Constant conditions: what a condition is whatever the row. The guard's tautology and
//! boolean-probe rules read them.
//!
//! A condition is constant when it compares constants (`1=1`, `'a'='a'`, `2>1`, `2=1+1`),
//! the same expression on both sides (`x=x`, `(x) = x`, `x - x = x - x`, `a + b = b + a`,
//! `(SELECT 1) = (SELECT 1)`, `pi() = pi()`, `x BETWEEN x AND x`, `x LIKE x`), or asks a
//! question whose answer does not depend on the row (`NULL IS NULL`, `TRUE IS TRUE`,
//! `x LIKE '%'`, `x ~ ''`, `EXISTS (SELECT NULL)`, `EXISTS (SELECT 1 FROM t)` without a
//! filter, `CASE WHEN TRUE THEN TRUE END`, `COALESCE(NULL, TRUE)`), and `AND`, `OR` and
//! `NOT` of such; an `OR` of a condition and its negation (`a IS NULL OR a IS NOT NULL`,
//! `x < y OR x >= y`); `GREATEST(a, b) >= a`; whether a comparison is known
//! (`(id = $1) IS NOT NULL`); in a select of `users`, `users.id = id` and
//! `id IN (SELECT id FROM users)`. A scalar subquery of one constant (`(SELECT 5)`) is that
//! constant, a cast of one (`1::bool`) too.

use std::cmp::Ordering;

use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, InTarget, Query,
    SelectItem, SetExpr, UnaryOperator, Value,
};

mod literals;
mod negation;
mod own;
mod same;
mod subquery;

use literals::{compare_literals, literal, literal_truth};
pub(crate) use literals::{is_literal, number};

pub(crate) use own::{Relation, relations_of, with_own, write_filter};

use negation::{complementary, contradictory, paired};
use same::{extreme_truth, same_operand};
use subquery::{reads_itself, unfiltered};

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

/// Whether `expr`, true whatever the row, holds a real condition that it neutralizes
/// (`NOT (id <> :id AND NOT TRUE)`): a condition of `AND`, `OR` and `NOT` one of whose parts
/// depends on the row. A filter made only of constant parts (`a = a AND b = b`, a planner
/// test; `EXISTS (SELECT 1)`; `a IS TRUE OR a IS NOT TRUE`, whose two branches make one
/// constant) widens nothing.
pub(crate) fn neutralizes_a_condition(expr: &Expr) -> bool {
    fn open(expr: &Expr) -> bool {
        match expr {
            Expr::Nested(inner)
            | Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr: inner,
            } => open(inner),
            Expr::BinaryOp {
                op: BinaryOperator::Or,
                ..
            } => {
                let mut branches = Vec::new();
                or_branches(expr, &mut branches);
                branches
                    .iter()
                    .zip(paired(&branches))
                    .any(|(branch, paired)| !paired && open(branch))
            }
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => open(left) || open(right),
            _ => truth(expr).is_none(),
        }
    }
    always_true(expr) && open(expr)
}

/// A condition's truth whatever the row, when it has one.
pub(crate) fn truth(expr: &Expr) -> Option<bool> {
    let not = |t: Option<bool>, negated: bool| t.map(|t| t != negated);
    match expr {
        Expr::Nested(inner)
        | Expr::Cast { expr: inner, .. }
        | Expr::Collate { expr: inner, .. } => truth(inner),
        Expr::Value(v) => literal_truth(&v.value),
        Expr::Subquery(query) => constant_select(query).and_then(truth),
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => not(truth(expr), true),
        Expr::BinaryOp { left, op, right } => binary_truth(left, op, right),
        // `NULLIF(a, a)` is NULL whatever `a` is.
        Expr::IsNull(e) | Expr::IsUnknown(e) if nullif_of_itself(e) => Some(true),
        Expr::IsNull(e) | Expr::IsUnknown(e) => null_test(e),
        // Whether a comparison is known (`(id = $1) IS NOT NULL`) is no filter on its value.
        Expr::IsNotNull(e) | Expr::IsNotUnknown(e) if is_comparison(e) => Some(true),
        Expr::IsNotNull(e) | Expr::IsNotUnknown(e) => not(null_test(e), true),
        Expr::IsTrue(e) | Expr::IsNotFalse(e) => truth(e),
        Expr::IsNotTrue(e) | Expr::IsFalse(e) => not(truth(e), true),
        Expr::IsNotDistinctFrom(a, b) => same_operand(a, b).then_some(true),
        Expr::IsDistinctFrom(a, b) => same_operand(a, b).then_some(false),
        Expr::Like {
            negated,
            expr,
            pattern,
            ..
        }
        | Expr::ILike {
            negated,
            expr,
            pattern,
            ..
        }
        | Expr::SimilarTo {
            negated,
            expr,
            pattern,
            ..
        } => not(
            (matches_everything(pattern, '%') || same_operand(expr, pattern)).then_some(true),
            *negated,
        ),
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
        Expr::In {
            expr,
            target: InTarget::Subquery(query),
            negated,
            ..
        } => not(reads_itself(expr, query).then_some(true), *negated),
        Expr::Exists { subquery, negated } => not(unfiltered(subquery).then_some(true), *negated),
        Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            // Every result true: true whichever branch the row takes.
            let results_true = conditions
                .iter()
                .all(|when| truth(&when.result) == Some(true))
                && else_result.as_deref().and_then(truth) == Some(true);
            if results_true {
                return Some(true);
            }
            if operand.is_some() {
                return None;
            }
            for when in conditions {
                if truth(&when.condition)? {
                    return truth(&when.result);
                }
            }
            else_result.as_deref().and_then(truth)
        }
        Expr::AnyOp {
            left,
            compare_op: BinaryOperator::Eq,
            right,
            ..
        } => match right.as_ref() {
            Expr::Subquery(query) => reads_itself(left, query).then_some(true),
            _ => None,
        },
        Expr::Function(function) => function_truth(function),
        _ => None,
    }
}

/// `NULLIF(a, a)`, brackets looked through.
fn nullif_of_itself(expr: &Expr) -> bool {
    match expr {
        Expr::Nested(inner) => nullif_of_itself(inner),
        Expr::Function(function) if function.name.to_string().eq_ignore_ascii_case("nullif") => {
            matches!(&function.args, FunctionArguments::List(list)
                if matches!(list.args.as_slice(), [
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(a)),
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(b)),
                ] if same_operand(a, b)))
        }
        _ => false,
    }
}

/// A comparison (`=`, `<>`, `<`, `LIKE`, `IN`, `BETWEEN`) or a test of one (`IS NULL`),
/// brackets looked through: never NULL itself.
fn is_comparison(expr: &Expr) -> bool {
    match expr {
        Expr::Nested(inner) => is_comparison(inner),
        Expr::IsNull(_) | Expr::IsNotNull(_) | Expr::IsTrue(_) | Expr::IsFalse(_) => true,
        Expr::BinaryOp { op, .. } => matches!(
            op,
            BinaryOperator::Eq
                | BinaryOperator::NotEq
                | BinaryOperator::Lt
                | BinaryOperator::LtEq
                | BinaryOperator::Gt
                | BinaryOperator::GtEq
        ),
        Expr::Like { .. } | Expr::ILike { .. } | Expr::In { .. } | Expr::Between { .. } => true,
        _ => false,
    }
}

/// `COALESCE(NULL, TRUE)`, `IFNULL(...)`, SQLite's `likely(x)`: the truth of the argument
/// that decides.
fn function_truth(function: &sqlparser::ast::Function) -> Option<bool> {
    let FunctionArguments::List(list) = &function.args else {
        return None;
    };
    let args: Vec<&Expr> = list
        .args
        .iter()
        .filter_map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect();
    let name = function.name.to_string().to_ascii_lowercase();
    match name.as_str() {
        "likely" | "unlikely" | "likelihood" => args.first().and_then(|e| truth(e)),
        // Both results true, whatever the choice (`IF(a, TRUE, TRUE)`).
        "if" | "iif" if args.len() == 3 => args
            .get(1..)
            .filter(|results| results.iter().all(|r| truth(r) == Some(true)))
            .map(|_| true),
        // Every argument true where it is known (`COALESCE(a = a, TRUE)`).
        "coalesce" | "ifnull" | "nvl" | "isnull"
            if args.len() >= 2 && args.iter().all(|arg| truth(arg) == Some(true)) =>
        {
            Some(true)
        }
        "coalesce" | "ifnull" | "nvl" | "isnull" => {
            for arg in args {
                match null_test(arg) {
                    Some(true) => {}
                    Some(false) => return truth(arg),
                    None => return None,
                }
            }
            None
        }
        _ => None,
    }
}

fn binary_truth(left: &Expr, op: &BinaryOperator, right: &Expr) -> Option<bool> {
    use Ordering::{Equal, Greater, Less};
    match op {
        BinaryOperator::Or => match (truth(left), truth(right)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            // Two branches that negate each other (`a IS NULL OR a IS NOT NULL`).
            _ => {
                let mut branches = Vec::new();
                or_branches(left, &mut branches);
                or_branches(right, &mut branches);
                complementary(&branches).then_some(true)
            }
        },
        BinaryOperator::And => match (truth(left), truth(right)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            // A question and its negation, both required (`a IS NULL AND a IS NOT NULL`).
            _ => {
                let mut branches = Vec::new();
                and_branches(left, &mut branches);
                and_branches(right, &mut branches);
                contradictory(&branches).then_some(false)
            }
        },
        // SQLite's `a IS a` (true even for NULL), `a IS NOT a`, and `a GLOB a`.
        BinaryOperator::Is | BinaryOperator::Glob if same_operand(left, right) => Some(true),
        BinaryOperator::IsNot if same_operand(left, right) => Some(false),
        // PostgreSQL's regular expressions: an empty pattern, or a value against itself.
        BinaryOperator::PGRegexMatch | BinaryOperator::PGRegexIMatch => {
            (matches_everything(right, '\0') || same_operand(left, right)).then_some(true)
        }
        BinaryOperator::PGRegexNotMatch | BinaryOperator::PGRegexNotIMatch => {
            (matches_everything(right, '\0') || same_operand(left, right)).then_some(false)
        }
        BinaryOperator::Eq
        | BinaryOperator::NotEq
        | BinaryOperator::Spaceship
        | BinaryOperator::Gt
        | BinaryOperator::Lt
        | BinaryOperator::GtEq
        | BinaryOperator::LtEq => {
            if let Some(truth) = extreme_truth(left, op, right) {
                return Some(truth);
            }
            let ordering = match (literal(left), literal(right)) {
                (Some(a), Some(b)) => compare_literals(a, b)?,
                _ => match (number(left), number(right)) {
                    (Some(a), Some(b)) => a.partial_cmp(&b)?,
                    // The same expression on both sides (`x = x`, `x - x = x - x`).
                    _ if same_operand(left, right) => Equal,
                    _ => return None,
                },
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

/// The parts of an `AND` chain, brackets looked through.
fn and_branches<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
    match expr {
        Expr::Nested(inner) => and_branches(inner, out),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            and_branches(left, out);
            and_branches(right, out);
        }
        _ => out.push(expr),
    }
}

/// The branches of an `OR` chain, brackets looked through.
fn or_branches<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
    match expr {
        Expr::Nested(inner) => or_branches(inner, out),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Or,
            right,
        } => {
            or_branches(left, out);
            or_branches(right, out);
        }
        _ => out.push(expr),
    }
}

/// `NULL IS NULL` is true, `5 IS NULL` false.
fn null_test(expr: &Expr) -> Option<bool> {
    match expr {
        Expr::Nested(inner) | Expr::Cast { expr: inner, .. } => null_test(inner),
        Expr::Value(v) if v.value == Value::Null => Some(true),
        _ if is_literal(expr) => Some(false),
        _ => None,
    }
}

/// A pattern that matches every value that is not `NULL`: made only of `wildcard`
/// (`LIKE '%'`), or empty for a regular expression (`~ ''`, wildcard `'\0'`).
fn matches_everything(pattern: &Expr, wildcard: char) -> bool {
    matches!(literal(pattern), Some(Value::SingleQuotedString(p) | Value::DoubleQuotedString(p))
        if (wildcard == '\0' && p.is_empty())
            || (!p.is_empty() && p.chars().all(|c| c == wildcard)))
}
