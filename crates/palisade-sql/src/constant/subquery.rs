//! Subqueries whose answer does not depend on the row: an unfiltered one (`EXISTS (SELECT 1
//! FROM t)`), one aggregate row (`SELECT count(*) ... WHERE a <> a`), and a column against
//! every value of itself (`id IN (SELECT id FROM users)` in a select of `users`).

use sqlparser::ast::{Expr, Query, SelectItem, SetExpr};

use super::own;

/// `id IN (SELECT id FROM users)` in a select of `users`: the column against every value it
/// holds, unfiltered, which asks nothing of the row.
pub(super) fn reads_itself(expr: &Expr, query: &Query) -> bool {
    let last = |e: &Expr| match e {
        Expr::Identifier(ident) => Some(ident.value.to_lowercase()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|p| p.value.to_lowercase()),
        _ => None,
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        return false;
    };
    let [SelectItem::UnnamedExpr(projected)] = select.projection.as_slice() else {
        return false;
    };
    let [from] = select.from.as_slice() else {
        return false;
    };
    let sqlparser::ast::TableFactor::Table { name, .. } = &from.relation else {
        return false;
    };
    let table = name.0.last().and_then(|part| part.as_ident());
    from.joins.is_empty()
        && select.selection.is_none()
        && select.having.is_none()
        && query.limit_clause.is_none()
        && query.fetch.is_none()
        && last(expr).is_some()
        && last(expr) == last(projected)
        && table.is_some_and(|t| own::is_own_table(&t.value))
}

/// A select of aggregates only (`SELECT count(*) ... WHERE a <> a`) with no `GROUP BY` or
/// `HAVING`: one row, whatever its filter lets through.
fn one_aggregate_row(select: &sqlparser::ast::Select) -> bool {
    const AGGREGATES: &[&str] = &["count", "sum", "min", "max", "avg"];
    let no_groups = matches!(&select.group_by, sqlparser::ast::GroupByExpr::Expressions(keys, _) if keys.is_empty());
    no_groups
        && select.having.is_none()
        && !select.projection.is_empty()
        && select.projection.iter().all(|item| {
            matches!(item,
                SelectItem::UnnamedExpr(Expr::Function(f)) | SelectItem::ExprWithAlias { expr: Expr::Function(f), .. }
                    if AGGREGATES.contains(&f.name.to_string().to_ascii_lowercase().as_str()))
        })
}

/// A query that returns rows whatever the row outside it: no filter (`SELECT NULL`,
/// `SELECT 1 FROM t`, `VALUES (1)`).
pub(super) fn unfiltered(query: &Query) -> bool {
    match query.body.as_ref() {
        SetExpr::Select(s) => (s.selection.is_none() && s.having.is_none()) || one_aggregate_row(s),
        SetExpr::Values(_) | SetExpr::Table(_) => true,
        _ => false,
    }
}
