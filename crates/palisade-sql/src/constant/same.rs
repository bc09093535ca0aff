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
pub(super) fn operand(expr: &Expr) -> &Expr {
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
pub(super) fn canonical(expr: &Expr) -> String {
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

/// No placeholder and no volatile function anywhere in `expr`.
pub(super) fn deterministic(expr: &Expr) -> bool {
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
