//! Conditions that are each other's negation, or cases that together cover every outcome:
//! what makes an `OR` true (`a IS NULL OR a IS NOT NULL`, `a < b OR a >= b`,
//! `p IS TRUE OR p IS FALSE OR p IS NULL`) or an `AND` false without a literal in it.

use sqlparser::ast::{BinaryOperator, Expr, UnaryOperator};

use super::same::{canonical, deterministic, operand};

/// Whether two of the branches of an `OR` are each other's negation (`a IS NULL OR a IS NOT
/// NULL`, `x = y OR x <> y`, `x < y OR y <= x`, `p OR NOT p`, `x LIKE p OR x NOT LIKE p`):
/// together they hold for every row where they are known, which widens the filter to the
/// table. Each branch is read as a positive question and its polarity.
pub(super) fn complementary(branches: &[&Expr]) -> bool {
    paired(branches).contains(&true)
}

/// Whether two parts of an `AND` are each other's negation (`a IS NULL AND a IS NOT NULL`):
/// together they hold for no row.
pub(super) fn contradictory(parts: &[&Expr]) -> bool {
    let questions: Vec<(String, bool)> = parts.iter().filter_map(|p| question(p)).collect();
    questions.iter().any(|(key, polarity)| {
        questions
            .iter()
            .any(|(other, other_polarity)| other == key && other_polarity != polarity)
    })
}

/// For each branch of an `OR`, whether it is part of a set of branches that together hold
/// whatever the row: a question and its negation, or cases that cover every outcome
/// (`a < b OR a = b OR a > b`, `p IS TRUE OR p IS FALSE OR p IS NULL`).
pub(super) fn paired(branches: &[&Expr]) -> Vec<bool> {
    let questions: Vec<Option<(String, bool)>> = branches.iter().map(|b| question(b)).collect();
    let cases: Vec<Option<(String, u8)>> = branches.iter().map(|b| case_of(b)).collect();
    questions
        .iter()
        .zip(&cases)
        .map(|(q, case)| {
            let negated = q.as_ref().is_some_and(|(key, polarity)| {
                questions
                    .iter()
                    .flatten()
                    .any(|(other, other_polarity)| other == key && other_polarity != polarity)
            });
            let covered = case.as_ref().is_some_and(|(key, _)| {
                cases
                    .iter()
                    .flatten()
                    .filter(|(other, _)| other == key)
                    .fold(0, |all, (_, outcomes)| all | outcomes)
                    == ALL_OUTCOMES
            });
            negated || covered
        })
        .collect()
}

/// The three outcomes a case can cover: less / true, equal / false, greater / unknown.
const ALL_OUTCOMES: u8 = 0b111;

/// A branch as the outcomes of one question it admits: an ordering of two operands (`<` is
/// less, `=` equal, `>=` greater or equal), or the truth of a condition (`IS TRUE`,
/// `IS FALSE`, `IS NULL`, and their negations).
fn case_of(expr: &Expr) -> Option<(String, u8)> {
    const LESS: u8 = 0b001;
    const EQUAL: u8 = 0b010;
    const GREATER: u8 = 0b100;
    const TRUE: u8 = 0b001;
    const FALSE: u8 = 0b010;
    const UNKNOWN: u8 = 0b100;
    if !deterministic(expr) {
        return None;
    }
    let truth =
        |e: &Expr, outcomes: u8| Some((format!("truth {}", canonical(operand(e))), outcomes));
    match expr {
        Expr::Nested(inner) => case_of(inner),
        Expr::IsTrue(e) => truth(e, TRUE),
        Expr::IsFalse(e) => truth(e, FALSE),
        Expr::IsNull(e) | Expr::IsUnknown(e) => truth(e, UNKNOWN),
        Expr::IsNotTrue(e) => truth(e, FALSE | UNKNOWN),
        Expr::IsNotFalse(e) => truth(e, TRUE | UNKNOWN),
        Expr::IsNotNull(e) | Expr::IsNotUnknown(e) => truth(e, TRUE | FALSE),
        Expr::BinaryOp { left, op, right } => {
            let (l, r) = (canonical(operand(left)), canonical(operand(right)));
            // Outcomes of `low` against `high`, the operands in sorted order.
            let (flip, key) = if l <= r {
                (false, format!("order {l} {r}"))
            } else {
                (true, format!("order {r} {l}"))
            };
            let outcomes = match op {
                BinaryOperator::Eq => EQUAL,
                BinaryOperator::NotEq => LESS | GREATER,
                BinaryOperator::Lt => LESS,
                BinaryOperator::LtEq => LESS | EQUAL,
                BinaryOperator::Gt => GREATER,
                BinaryOperator::GtEq => GREATER | EQUAL,
                _ => return None,
            };
            let outcomes = if flip {
                (outcomes & EQUAL) | ((outcomes & LESS) << 2) | ((outcomes & GREATER) >> 2)
            } else {
                outcomes
            };
            Some((key, outcomes))
        }
        _ => None,
    }
}

/// A predicate as a question and whether it asks it or its negation; `None` for a predicate
/// with a placeholder or a volatile function (its two readings can differ).
fn question(expr: &Expr) -> Option<(String, bool)> {
    if !deterministic(expr) {
        return None;
    }
    let flip = |q: Option<(String, bool)>| q.map(|(key, polarity)| (key, !polarity));
    Some(match expr {
        Expr::Nested(inner) => return question(inner),
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => return flip(question(expr)),
        Expr::IsNull(e) => (format!("null {}", canonical(operand(e))), true),
        Expr::IsNotNull(e) => (format!("null {}", canonical(operand(e))), false),
        Expr::IsTrue(e) => (format!("true {}", canonical(e)), true),
        Expr::IsNotTrue(e) => (format!("true {}", canonical(e)), false),
        Expr::IsFalse(e) => (format!("false {}", canonical(e)), true),
        Expr::IsNotFalse(e) => (format!("false {}", canonical(e)), false),
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
        } => (
            format!("like {} {}", canonical(expr), canonical(pattern)),
            !negated,
        ),
        Expr::In {
            expr,
            target,
            negated,
            ..
        } => (format!("in {} {target}", canonical(expr)), !negated),
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => (
            format!(
                "between {} {} {}",
                canonical(expr),
                canonical(low),
                canonical(high)
            ),
            !negated,
        ),
        Expr::Exists { subquery, negated } => (format!("exists {subquery}"), !negated),
        Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => {
            let (a, b) = (canonical(operand(a)), canonical(operand(b)));
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            (
                format!("distinct {low} {high}"),
                matches!(expr, Expr::IsDistinctFrom(..)),
            )
        }
        Expr::SimilarTo {
            negated,
            expr,
            pattern,
            ..
        } => (
            format!("similar {} {}", canonical(expr), canonical(pattern)),
            !negated,
        ),
        Expr::BinaryOp { left, op, right } => {
            let (l, r) = (canonical(operand(left)), canonical(operand(right)));
            let (low, high) = if l <= r {
                (l.clone(), r.clone())
            } else {
                (r.clone(), l.clone())
            };
            match op {
                BinaryOperator::Eq => (format!("= {low} {high}"), true),
                BinaryOperator::NotEq => (format!("= {low} {high}"), false),
                // `x < y` asks `x < y`; `x >= y` its negation; `x > y` is `y < x`.
                BinaryOperator::Lt => (format!("< {l} {r}"), true),
                BinaryOperator::GtEq => (format!("< {l} {r}"), false),
                BinaryOperator::Gt => (format!("< {r} {l}"), true),
                BinaryOperator::LtEq => (format!("< {r} {l}"), false),
                BinaryOperator::PGRegexMatch => (format!("~ {l} {r}"), true),
                BinaryOperator::PGRegexNotMatch => (format!("~ {l} {r}"), false),
                BinaryOperator::PGRegexIMatch => (format!("~* {l} {r}"), true),
                BinaryOperator::PGRegexNotIMatch => (format!("~* {l} {r}"), false),
                _ => (canonical(expr), true),
            }
        }
        _ => (canonical(expr), true),
    })
}
