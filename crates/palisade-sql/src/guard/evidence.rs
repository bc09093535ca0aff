//! Evidence read off the tree besides constant conditions: UNION probes, conditional
//! ordering, and the small predicates the walk shares.

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, InTarget, SelectItem,
    SetExpr, Spanned, Value, visit_expressions,
};
use sqlparser::tokenizer::Location;

/// A positional column reference (`ORDER BY 2`, `GROUP BY 1`).
pub(crate) fn is_ordinal(expr: &Expr) -> bool {
    matches!(expr, Expr::Value(v) if matches!(&v.value, Value::Number(n, _) if n.bytes().all(|b| b.is_ascii_digit())))
}

/// `1 = 1` as a whole filter: a query builder's empty condition list.
pub(crate) fn is_builder_constant(filter: &Expr) -> bool {
    matches!(filter, Expr::BinaryOp { left, op: BinaryOperator::Eq, right }
        if is_number(left, "1") && is_number(right, "1"))
}

pub(crate) fn is_number(expr: &Expr, text: &str) -> bool {
    matches!(expr, Expr::Value(v) if matches!(&v.value, Value::Number(n, _) if n == text))
}

/// A set operation (`UNION`, `INTERSECT`, `EXCEPT`) one of whose branches is a probe of
/// constants (`SELECT NULL, CONCAT(0x71, 0x72)`) while another reads a table: where it is.
pub(crate) fn union_probe(body: &SetExpr, top: bool) -> Option<Location> {
    let SetExpr::SetOperation { left, right, .. } = body else {
        return None;
    };
    let branches = [left.as_ref(), right.as_ref()];
    let constant = branches.iter().find(|b| probe_select(b, top));
    let reads = branches.iter().any(|b| reads_table(b));
    match constant {
        Some(branch) if reads => Some(branch.span().start),
        _ => union_probe(left, top).or_else(|| union_probe(right, top)),
    }
}

/// A select with no table that builds a value with functions (`CONCAT(0x71, ...)`,
/// `CHAR(113, ...)`), reads through a scalar subquery (`SELECT (SELECT password FROM users
/// LIMIT 1)`), or is all `NULL` in the statement's own result (`top`): how UNION-based
/// extraction finds the column count, marks its output and reads another table. Plain
/// constants, and `NULL` rows inside a derived table, are how benign code adds rows.
fn probe_select(body: &SetExpr, top: bool) -> bool {
    match body {
        // `VALUES (current_user)`: a select of constants by another name.
        SetExpr::Values(values) => values.rows.iter().any(|row| {
            row.iter()
                .any(|e| contains_subquery(e) || matches!(e, Expr::Function(_)) || niladic(e))
        }),
        SetExpr::Select(select) => {
            let no_table = select
                .from
                .iter()
                .all(|t| t.to_string().eq_ignore_ascii_case("dual"));
            if !no_table || select.projection.is_empty() {
                return false;
            }
            let exprs: Vec<&Expr> = select
                .projection
                .iter()
                .filter_map(|item| match item {
                    SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                        Some(e)
                    }
                    _ => None,
                })
                .collect();
            if exprs.iter().any(|e| contains_subquery(e)) {
                return true;
            }
            if exprs.len() != select.projection.len()
                || !exprs.iter().all(|e| constant_expr(e) || niladic(e))
            {
                return false;
            }
            let built = exprs
                .iter()
                .any(|e| matches!(e, Expr::Function(_)) || niladic(e));
            let padding = top && exprs.iter().all(|e| is_null(e));
            built || padding
        }
        SetExpr::Query(query) => probe_select(&query.body, top),
        _ => false,
    }
}

/// Whether `expr` picks between values on a condition that reads a query (`CASE WHEN
/// (SELECT ...) = 'a' THEN id ELSE name END`, `IF((SELECT ...), a, b)`): in an `ORDER BY`,
/// how blind extraction reads data one comparison at a time. Ordering by a query's value
/// (`ORDER BY (SELECT ...)`, as Django writes a `Subquery` ordering) is not a choice.
pub(crate) fn chooses_on_subquery(expr: &Expr) -> bool {
    visit_expressions(expr, |e| {
        let chooses = match e {
            Expr::Case {
                operand,
                conditions,
                ..
            } => {
                operand.as_deref().is_some_and(contains_subquery)
                    || conditions.iter().any(|when| contains_subquery(&when.condition))
            }
            Expr::Function(function) => {
                let name = function.name.to_string().to_ascii_lowercase();
                is_choice(&name)
                    && matches!(&function.args, FunctionArguments::List(list)
                        if list.args.first().is_some_and(|arg| matches!(arg,
                            FunctionArg::Unnamed(FunctionArgExpr::Expr(c)) if contains_subquery(c))))
            }
            _ => false,
        };
        if chooses {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .is_break()
}

/// `NULL`, bracketed or cast (`NULL::text`, `CAST(NULL AS text)`): UNION-based extraction
/// pads with it to match column types.
fn is_null(expr: &Expr) -> bool {
    match expr {
        Expr::Value(v) => v.value == Value::Null,
        Expr::Nested(inner) | Expr::Cast { expr: inner, .. } => is_null(inner),
        _ => false,
    }
}

/// SQL's niladic functions written without brackets, which some dialects read as names
/// (`current_user` in SQL Server and SQLite): in a branch without a table they can only be
/// the server's answer.
fn niladic(expr: &Expr) -> bool {
    matches!(expr, Expr::Identifier(ident) if ident.quote_style.is_none()
        && ["current_user", "session_user", "system_user", "user", "current_role",
            "current_schema", "current_catalog", "current_database"]
            .contains(&ident.value.to_lowercase().as_str()))
}

/// Whether an `ORDER BY` key reads data through the order of rows or an error: it chooses
/// on a subquery (see [`chooses_on_subquery`]), or holds a subquery anywhere but as the
/// whole key (`ORDER BY (SELECT ...) = a`, `EXISTS (...)`, `a IN (SELECT ...)`,
/// `greatest((SELECT ...), a)`). A whole-key subquery that makes no choice itself is how
/// ORMs order by a related value (Django's `Subquery` ordering) and is left alone.
pub(crate) fn order_probe(key: &Expr) -> bool {
    let mut bare = key;
    while let Expr::Nested(inner) = bare {
        bare = inner;
    }
    match bare {
        Expr::Subquery(query) => makes_choice(query),
        _ => chooses_on_subquery(key) || contains_subquery(key),
    }
}

/// Whether a `CASE` or a choosing function (`IF`, `IIF`, `CHOOSE`, ...) is anywhere in `query`
/// (an error on one branch, `1/0`, is a blind probe too).
fn makes_choice(query: &sqlparser::ast::Query) -> bool {
    visit_expressions(query, |e| match e {
        Expr::Case { .. } => ControlFlow::Break(()),
        Expr::Function(f) if is_choice(&f.name.to_string().to_ascii_lowercase()) => {
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

fn is_choice(name: &str) -> bool {
    matches!(
        name,
        "if" | "iif" | "elt" | "field" | "nullif" | "choose" | "decode"
    )
}

/// Whether a query is nested anywhere in `expr`.
pub(crate) fn contains_subquery(expr: &Expr) -> bool {
    visit_expressions(expr, |e| match e {
        Expr::Subquery(_)
        | Expr::Exists { .. }
        | Expr::In {
            target: InTarget::Subquery(_),
            ..
        } => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

/// An expression with no column in it: literals, and functions, casts and operators of them.
pub(crate) fn constant_expr(expr: &Expr) -> bool {
    match expr {
        Expr::Value(v) => !matches!(v.value, Value::Placeholder(_)),
        Expr::Nested(inner)
        | Expr::Cast { expr: inner, .. }
        | Expr::UnaryOp { expr: inner, .. } => constant_expr(inner),
        Expr::BinaryOp { left, right, .. } => constant_expr(left) && constant_expr(right),
        Expr::Function(function) => match &function.args {
            FunctionArguments::List(list) => list.args.iter().all(|arg| match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => constant_expr(e),
                _ => false,
            }),
            FunctionArguments::None => true,
            FunctionArguments::Subquery(_) => false,
        },
        _ => false,
    }
}

fn reads_table(body: &SetExpr) -> bool {
    match body {
        SetExpr::Select(select) => select
            .from
            .iter()
            .any(|t| !t.to_string().eq_ignore_ascii_case("dual")),
        SetExpr::Query(query) => reads_table(&query.body),
        SetExpr::SetOperation { left, right, .. } => reads_table(left) || reads_table(right),
        SetExpr::Table(_) => true,
        _ => false,
    }
}
