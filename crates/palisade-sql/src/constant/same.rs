//! The same expression on both sides, and conditions that are each other's negation: what
//! makes a comparison or an `OR` constant without a literal in it (`x = x`, `a + b = b + a`,
//! `a IS NULL OR a IS NOT NULL`, `GREATEST(a, b) >= a`).

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, UnaryOperator, Value,
    visit_expressions,
};

use super::own::is_own_qualifier;

/// Functions whose value changes from call to call: never the same as themselves.
const VOLATILE: &[&str] = &[
    "random",
    "rand",
    "randomblob",
    "newid",
    "uuid",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v4",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "sys_guid",
    "crypt_gen_random",
];

/// The same expression on both sides, with no placeholder and no volatile function in it (a
/// placeholder can differ on each side, `random()` from call to call). Brackets, unary plus,
/// collations and a `COALESCE` of one expression are looked through; a column is the same
/// whether quoted, bracketed or not (`"id"`, `[id]`, `(id)` are all `id`), and a qualified
/// one only with the same qualifier (`t1.x = t2.x` is a join); the operands of commutative
/// operators are taken in either order (`a + b = b + a`). Literals and `NULL` are the other
/// rules' to judge.
pub(super) fn same_operand(left: &Expr, right: &Expr) -> bool {
    let (left, right) = (operand(left), operand(right));
    !matches!(left, Expr::Value(_))
        && deterministic(left)
        && deterministic(right)
        && (canonical(left) == canonical(right)
            || own_column(left, right)
            || own_column(right, left))
}

/// `users.id` against `id` in a select that reads `users` itself: an unqualified column is
/// read in the innermost select first, so both name the same column (or the statement fails).
fn own_column(qualified: &Expr, bare: &Expr) -> bool {
    let (Expr::CompoundIdentifier(parts), Expr::Identifier(column)) = (qualified, bare) else {
        return false;
    };
    let [.., qualifier, last] = parts.as_slice() else {
        return false;
    };
    last.value.eq_ignore_ascii_case(&column.value) && is_own_qualifier(&qualifier.value)
}

/// `expr` without brackets, unary plus, collations, and `COALESCE`, `IFNULL`, `GREATEST` or
/// `LEAST` of one expression repeated (`COALESCE(x, x)` is `x`) around it.
fn operand(expr: &Expr) -> &Expr {
    match expr {
        Expr::Nested(inner)
        | Expr::Collate { expr: inner, .. }
        | Expr::UnaryOp {
            op: UnaryOperator::Plus,
            expr: inner,
        } => operand(inner),
        Expr::Function(function)
            if matches!(
                name_of(function).as_str(),
                "coalesce" | "ifnull" | "nvl" | "isnull" | "greatest" | "least"
            ) =>
        {
            match arguments(function).as_slice() {
                [first, rest @ ..]
                    if rest
                        .iter()
                        .all(|arg| canonical(operand(arg)) == canonical(operand(first))) =>
                {
                    operand(first)
                }
                _ => expr,
            }
        }
        _ => expr,
    }
}

/// A text that is the same for the same expression: columns lower-case (as their quoting
/// allows), brackets dropped, and the operands of commutative operators in sorted order.
fn canonical(expr: &Expr) -> String {
    match expr {
        Expr::Nested(_)
        | Expr::Collate { .. }
        | Expr::UnaryOp {
            op: UnaryOperator::Plus,
            ..
        } => canonical(operand(expr)),
        Expr::Identifier(ident) => ident.value.to_lowercase(),
        Expr::CompoundIdentifier(parts) => parts
            .iter()
            .map(|i| i.value.to_lowercase())
            .collect::<Vec<_>>()
            .join("."),
        Expr::BinaryOp { op, .. } if associative(op) => {
            // `a + b + c` and `c + b + a`: the operands of one operator, sorted.
            let mut operands = Vec::new();
            chain(expr, op, &mut operands);
            let mut texts: Vec<String> = operands.into_iter().map(canonical).collect();
            texts.sort();
            format!("({})", texts.join(&format!(" {op} ")))
        }
        Expr::BinaryOp { left, op, right } => {
            let (mut a, mut b) = (canonical(left), canonical(right));
            if matches!(op, BinaryOperator::Eq | BinaryOperator::NotEq) && b < a {
                std::mem::swap(&mut a, &mut b);
            }
            format!("({a} {op} {b})")
        }
        // `- - a` is `a`.
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr: inner,
        } if matches!(
            operand(inner),
            Expr::UnaryOp {
                op: UnaryOperator::Minus,
                ..
            }
        ) =>
        {
            match operand(inner) {
                Expr::UnaryOp { expr, .. } => canonical(expr),
                other => canonical(other),
            }
        }
        Expr::UnaryOp { op, expr } => format!("({op} {})", canonical(expr)),
        // `CAST(a AS text)` and `a::text` alike.
        Expr::Cast {
            expr, data_type, ..
        } => format!(
            "cast({} as {})",
            canonical(expr),
            data_type.to_string().to_lowercase()
        ),
        // Function names in any case (`lower(a)`, `LOWER(a)`), arguments canonical.
        Expr::Function(function) => format!(
            "{}({})",
            name_of(function),
            arguments(function)
                .into_iter()
                .map(canonical)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => expr.to_string(),
    }
}

/// Operators whose operands may be regrouped and reordered.
fn associative(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Plus
            | BinaryOperator::Multiply
            | BinaryOperator::And
            | BinaryOperator::Or
            | BinaryOperator::BitwiseAnd
            | BinaryOperator::BitwiseOr
            | BinaryOperator::BitwiseXor
    )
}

/// The operands of a chain of `op`, brackets looked through.
fn chain<'e>(expr: &'e Expr, op: &BinaryOperator, out: &mut Vec<&'e Expr>) {
    match operand(expr) {
        Expr::BinaryOp {
            left,
            op: inner,
            right,
        } if inner == op => {
            chain(left, op, out);
            chain(right, op, out);
        }
        other => out.push(other),
    }
}

fn name_of(function: &sqlparser::ast::Function) -> String {
    function.name.to_string().to_ascii_lowercase()
}

fn arguments(function: &sqlparser::ast::Function) -> Vec<&Expr> {
    match &function.args {
        FunctionArguments::List(list) => list
            .args
            .iter()
            .filter_map(|arg| match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A comparison's truth when one side is `GREATEST` or `LEAST` of a list holding the other
/// side: `GREATEST(a, b) >= a` and `LEAST(a, b) <= a` hold for every row where they are known.
pub(super) fn extreme_truth(left: &Expr, op: &BinaryOperator, right: &Expr) -> Option<bool> {
    let holds = |side: &Expr, other: &Expr| -> Option<&'static str> {
        let Expr::Function(function) = operand(side) else {
            return None;
        };
        let name = name_of(function);
        let kind = match name.as_str() {
            "greatest" | "max" => "greatest",
            "least" | "min" => "least",
            _ => return None,
        };
        let args = arguments(function);
        (args.len() >= 2 && args.iter().any(|arg| same_operand(arg, other))).then_some(kind)
    };
    // Read as `extreme OP other`, the extreme on the left.
    let (kind, op) = match (holds(left, right), holds(right, left)) {
        (Some(kind), _) => (kind, op.clone()),
        (None, Some(kind)) => (kind, mirrored(op)?),
        (None, None) => return None,
    };
    match (kind, op) {
        ("greatest", BinaryOperator::GtEq) | ("least", BinaryOperator::LtEq) => Some(true),
        ("greatest", BinaryOperator::Lt) | ("least", BinaryOperator::Gt) => Some(false),
        _ => None,
    }
}

/// `a OP b` read as `b OP' a`.
fn mirrored(op: &BinaryOperator) -> Option<BinaryOperator> {
    Some(match op {
        BinaryOperator::Lt => BinaryOperator::Gt,
        BinaryOperator::Gt => BinaryOperator::Lt,
        BinaryOperator::LtEq => BinaryOperator::GtEq,
        BinaryOperator::GtEq => BinaryOperator::LtEq,
        BinaryOperator::Eq => BinaryOperator::Eq,
        BinaryOperator::NotEq => BinaryOperator::NotEq,
        _ => return None,
    })
}

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

/// No placeholder and no volatile function anywhere in `expr`.
fn deterministic(expr: &Expr) -> bool {
    let found = visit_expressions(expr, |e| match e {
        Expr::Function(f)
            if VOLATILE.contains(&f.name.to_string().to_ascii_lowercase().as_str()) =>
        {
            ControlFlow::Break(())
        }
        Expr::Value(v) if matches!(v.value, Value::Placeholder(_)) => ControlFlow::Break(()),
        // SQL Server's `@p1`.
        Expr::Identifier(ident) if ident.value.starts_with('@') => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    });
    found.is_continue()
}
