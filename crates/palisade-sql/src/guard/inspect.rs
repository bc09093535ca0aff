//! The AST walk (a sqlparser `Visitor`): statement kinds, tables, catalogs, functions,
//! placeholders, literals, tautologies and UNION probes.

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr,
    LimitClause, ObjectName, ObjectNamePart, OrderBy, OrderByKind, Query, Select, SelectItem,
    SetExpr, SetOperator, Spanned, Statement, Value, ValueWithSpan, Visitor,
};
use sqlparser::tokenizer::{Location, Span};

use crate::Dialect;
use crate::constant::{always_true, is_literal};
use crate::guard::kind::classify;
use crate::guard::policy::{SqlPolicy, StatementKind};
use crate::guard::spans::SpanSet;
use crate::guard::violation::{Rule, Violation};

/// Functions that sleep, read or write files, run programs, or reach other servers,
/// lower-case, in any dialect (a name is dangerous wherever it resolves).
const DANGEROUS_FUNCTIONS: &[&str] = &[
    "sleep",
    "pg_sleep",
    "pg_sleep_for",
    "pg_sleep_until",
    "benchmark",
    "dbms_lock.sleep",
    "dbms_pipe.receive_message",
    "load_file",
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_stat_file",
    "lo_import",
    "lo_export",
    "lo_get",
    "dblink",
    "dblink_exec",
    "dblink_connect",
    "xp_cmdshell",
    "xp_dirtree",
    "xp_fileexist",
    "openrowset",
    "opendatasource",
    "sys_exec",
    "sys_eval",
    "load_extension",
    "pg_terminate_backend",
    "pg_cancel_backend",
];

/// Catalog schemas, and catalog tables that need no schema.
const CATALOG_SCHEMAS: &[&str] = &[
    "information_schema",
    "pg_catalog",
    "mysql",
    "performance_schema",
    "sys",
];
const CATALOG_TABLES: &[&str] = &[
    "sqlite_master",
    "sqlite_schema",
    "sqlite_temp_master",
    "sysobjects",
    "syscolumns",
    "sysdatabases",
    "sysusers",
];

/// Comparisons of constants that query builders write (`1 = 1` to start a condition list,
/// `1 = 0` or `1 = 2` for an empty `IN` or a read of the columns only).
const BUILDER_CONSTANTS: &[(&str, &str)] = &[("1", "1"), ("1", "0"), ("0", "1"), ("1", "2")];

/// A placeholder as written, and where.
#[derive(Debug, Clone)]
pub(crate) struct Placeholder {
    pub(crate) text: String,
    pub(crate) at: Location,
}

/// What the walk found and the first violation.
pub(crate) struct Inspector<'p> {
    policy: &'p SqlPolicy,
    pub(crate) placeholders: Vec<Placeholder>,
    pub(crate) tables: Vec<String>,
    /// Where literals are allowed: `LIMIT`/`OFFSET`, select lists, `1 = 1`.
    exempt: SpanSet,
    ctes: Vec<String>,
    /// Inside DDL, where a comparison of constants is a definition (a partition bound, a
    /// `CHECK`), not a probe.
    in_definition: bool,
    /// How many queries the walk is inside: 1 for the statement's own result.
    query_depth: usize,
}

fn violation(rule: Rule, at: Location) -> ControlFlow<Box<Violation>> {
    ControlFlow::Break(Box::new(Violation::new(rule, at.line, at.column)))
}

impl<'p> Inspector<'p> {
    pub(crate) fn new(policy: &'p SqlPolicy) -> Self {
        Self {
            policy,
            placeholders: Vec::new(),
            tables: Vec::new(),
            exempt: SpanSet::default(),
            ctes: Vec::new(),
            in_definition: false,
            query_depth: 0,
        }
    }

    /// Whether testing `left` against `right` (in `expr`) for equality or a match is a
    /// boolean probe: two constants, outside the select list, the builders' idioms and DDL.
    fn probes(&self, left: &Expr, right: &Expr, expr: &Expr) -> bool {
        is_literal(left)
            && is_literal(right)
            && !self.in_definition
            && !self.exempted(expr.span().start)
    }

    fn exempted(&self, at: Location) -> bool {
        self.exempt.contains(at)
    }
}

impl Visitor for Inspector<'_> {
    type Break = Box<Violation>;

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<Self::Break> {
        let at = statement.span().start;
        match classify(statement) {
            Err(rule) => violation(rule, at),
            Ok(kind) if !self.policy.allows(kind) => violation(Rule::StatementNotAllowed, at),
            Ok(kind) => {
                self.in_definition |= kind == StatementKind::Ddl;
                ControlFlow::Continue(())
            }
        }
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<Self::Break> {
        if let Some(with) = &query.with {
            self.ctes.extend(
                with.cte_tables
                    .iter()
                    .map(|cte| cte.alias.name.value.to_ascii_lowercase()),
            );
        }
        match &query.limit_clause {
            Some(LimitClause::LimitOffset { limit, offset, .. }) => {
                limit.iter().for_each(|l| self.exempt.insert(l.span()));
                offset.iter().for_each(|o| self.exempt.insert(o.value.span()));
            }
            Some(LimitClause::OffsetCommaLimit { offset, limit }) => {
                self.exempt.insert(offset.span());
                self.exempt.insert(limit.span());
            }
            None => {}
        }
        // `ORDER BY 2` names a column by its position.
        if let Some(OrderBy {
            kind: OrderByKind::Expressions(keys),
            ..
        }) = &query.order_by
        {
            keys.iter()
                .filter(|k| is_ordinal(&k.expr))
                .for_each(|k| self.exempt.insert(k.expr.span()));
        }
        if let Some(fetch) = &query.fetch
            && let Some(quantity) = &fetch.quantity
        {
            self.exempt.insert(quantity.span());
        }
        self.query_depth += 1;
        if let Some(at) = union_probe(&query.body, self.query_depth == 1) {
            return violation(Rule::UnionProbe, at);
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<Self::Break> {
        self.query_depth = self.query_depth.saturating_sub(1);
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<Self::Break> {
        select
            .projection
            .iter()
            .for_each(|item| self.exempt.insert(item.span()));
        if let GroupByExpr::Expressions(keys, _) = &select.group_by {
            keys.iter()
                .filter(|k| is_ordinal(k))
                .for_each(|k| self.exempt.insert(k.span()));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<Self::Break> {
        let parts: Vec<String> = relation
            .0
            .iter()
            .map(|part| match part {
                ObjectNamePart::Identifier(ident) => ident.value.to_ascii_lowercase(),
                ObjectNamePart::Function(function) => function.name.value.to_ascii_lowercase(),
            })
            .collect();
        let at = relation.span().start;
        let Some(table) = parts.last() else {
            return ControlFlow::Continue(());
        };
        if parts.len() == 1 && self.ctes.contains(table) {
            return ControlFlow::Continue(());
        }
        let catalog = parts
            .iter()
            .rev()
            .skip(1)
            .any(|schema| CATALOG_SCHEMAS.contains(&schema.as_str()))
            || CATALOG_TABLES.contains(&table.as_str())
            || (self.policy.dialect == Dialect::Postgres && table.starts_with("pg_"));
        if catalog && !self.policy.catalog_allowed {
            return violation(Rule::CatalogRead, at);
        }
        if let Some(allowed) = &self.policy.tables
            && !allowed.contains(table)
        {
            return violation(Rule::TableNotAllowed, at);
        }
        self.tables.push(parts.join("."));
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<Self::Break> {
        match expr {
            Expr::Function(function) => {
                let name = function
                    .name
                    .0
                    .iter()
                    .filter_map(|part| match part {
                        ObjectNamePart::Identifier(ident) => Some(ident.value.to_ascii_lowercase()),
                        ObjectNamePart::Function(_) => None,
                    })
                    .collect::<Vec<_>>();
                let last = name.last().cloned().unwrap_or_default();
                let full = name.join(".");
                if DANGEROUS_FUNCTIONS.contains(&last.as_str())
                    || DANGEROUS_FUNCTIONS.contains(&full.as_str())
                {
                    return violation(Rule::DangerousFunction, expr.span().start);
                }
            }
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Or,
                right,
            } if always_true(left) != always_true(right) => {
                return violation(Rule::Tautology, expr.span().start);
            }
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq,
                right,
            } if BUILDER_CONSTANTS
                .iter()
                .any(|(l, r)| is_number(left, l) && is_number(right, r)) =>
            {
                // The `WHERE 1 = 1` that query builders start with, and the `1 = 0` they
                // write for an empty `IN` or a schema-only read.
                self.exempt.insert(expr.span());
            }
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq | BinaryOperator::NotEq | BinaryOperator::Spaceship,
                right,
            } if self.probes(left, right, expr) => {
                return violation(Rule::BooleanProbe, expr.span().start);
            }
            Expr::Like {
                expr: left,
                pattern: right,
                ..
            }
            | Expr::ILike {
                expr: left,
                pattern: right,
                ..
            }
            | Expr::RLike {
                expr: left,
                pattern: right,
                ..
            }
            | Expr::SimilarTo {
                expr: left,
                pattern: right,
                ..
            } if self.probes(left, right, expr) => {
                return violation(Rule::BooleanProbe, expr.span().start);
            }
            Expr::Like {
                escape_char: Some(escape),
                ..
            }
            | Expr::ILike {
                escape_char: Some(escape),
                ..
            }
            | Expr::SimilarTo {
                escape_char: Some(escape),
                ..
            } => {
                // `ESCAPE '\'` is syntax, as ORMs write it, not a value.
                self.exempt.insert(escape.span());
            }
            Expr::Identifier(ident)
                if self.policy.dialect == Dialect::MsSql && ident.value.starts_with('@') =>
            {
                self.placeholders.push(Placeholder {
                    text: ident.value.clone(),
                    at: ident.span.start,
                });
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_value(&mut self, value: &ValueWithSpan) -> ControlFlow<Self::Break> {
        match &value.value {
            Value::Placeholder(text) => {
                self.placeholders.push(Placeholder {
                    text: text.clone(),
                    at: value.span.start,
                });
                ControlFlow::Continue(())
            }
            Value::Null | Value::Boolean(_) => ControlFlow::Continue(()),
            // LIKE wildcards that ORMs concatenate to a parameter (`:name || '%'`).
            Value::SingleQuotedString(text)
                if !text.is_empty() && text.chars().all(|c| c == '%' || c == '_') =>
            {
                ControlFlow::Continue(())
            }
            _ if self.policy.literals_allowed || self.exempted(value.span.start) => {
                ControlFlow::Continue(())
            }
            _ => violation(Rule::LiteralValue, value.span.start),
        }
    }
}

/// A positional column reference (`ORDER BY 2`, `GROUP BY 1`).
fn is_ordinal(expr: &Expr) -> bool {
    matches!(expr, Expr::Value(v) if matches!(&v.value, Value::Number(n, _) if n.bytes().all(|b| b.is_ascii_digit())))
}

fn is_number(expr: &Expr, text: &str) -> bool {
    matches!(expr, Expr::Value(v) if matches!(&v.value, Value::Number(n, _) if n == text))
}

/// A `UNION` one of whose branches is a probe of constants (`SELECT NULL, CONCAT(0x71,
/// 0x72)`) while another reads a table: where it is.
fn union_probe(body: &SetExpr, top: bool) -> Option<Location> {
    let SetExpr::SetOperation {
        left,
        op: SetOperator::Union,
        right,
        ..
    } = body
    else {
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

/// A select of constants with no table that builds a value with functions (`CONCAT(0x71,
/// ...)`, `CHAR(113, ...)`), or is all `NULL` in the statement's own result (`top`): how
/// UNION-based extraction finds the column count and marks its output. Plain constants, and
/// `NULL` rows inside a derived table, are how benign code adds rows.
fn probe_select(body: &SetExpr, top: bool) -> bool {
    match body {
        SetExpr::Select(select) => {
            let no_table = select
                .from
                .iter()
                .all(|t| t.to_string().eq_ignore_ascii_case("dual"));
            let items: Option<Vec<&Expr>> = select
                .projection
                .iter()
                .map(|item| match item {
                    SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                        constant_expr(e).then_some(e)
                    }
                    _ => None,
                })
                .collect();
            let Some(items) = items.filter(|items| no_table && !items.is_empty()) else {
                return false;
            };
            let built = items.iter().any(|e| matches!(e, Expr::Function(_)));
            let padding = top
                && items
                    .iter()
                    .all(|e| matches!(e, Expr::Value(v) if v.value == Value::Null));
            built || padding
        }
        SetExpr::Query(query) => probe_select(&query.body, top),
        _ => false,
    }
}

/// An expression with no column in it: literals, and functions, casts and operators of them.
fn constant_expr(expr: &Expr) -> bool {
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
