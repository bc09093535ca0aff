//! The AST walk (a sqlparser `Visitor`): statement kinds, tables, catalogs, functions,
//! placeholders, literals, tautologies, probes.

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, InTarget, LimitClause, ObjectName, OrderBy, OrderByKind,
    Query, Select, SelectItem, Spanned, Statement, TableFactor, TopQuantity, Value, ValueWithSpan,
    Visitor,
};
use sqlparser::tokenizer::Location;

use crate::Dialect;
use crate::constant::{
    Relation, always_true, constant_select, is_literal, neutralizes_a_condition, relations_of,
    with_own, write_filter,
};
use crate::guard::evidence::{
    is_builder_constant, is_number, is_ordinal, order_probe, union_probe,
};
use crate::guard::functions;
use crate::guard::kind::{classify, dml_targets, is_show};
use crate::guard::policy::{SqlPolicy, StatementKind};
use crate::guard::relations::{CteScopes, folded, folded_parts, lower_parts};
use crate::guard::spans::SpanSet;
use crate::guard::violation::{Rule, Violation};

mod reach;

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
    pub(crate) functions: Vec<String>,
    /// Where literals are allowed: `LIMIT`/`OFFSET`, select lists, `1 = 1`.
    exempt: SpanSet,
    ctes: CteScopes,
    /// Inside DDL, where a comparison of constants is a definition (a partition bound, a
    /// `CHECK`), not a probe.
    in_definition: bool,
    /// How many queries the walk is inside: 1 for the statement's own result.
    query_depth: usize,
    /// Where the name of a table function in `FROM` starts (`FROM dblink(...)`): that
    /// relation is a call, not a table.
    table_function_at: Option<Location>,
    /// Where the tables an `INSERT`, `UPDATE`, `DELETE` or `MERGE` writes are named: the
    /// server never reads a CTE name there, so a CTE cannot hide them.
    targets: Vec<Location>,
    /// The relations of each select the walk is inside, innermost last.
    selects: Vec<Vec<Relation>>,
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
            functions: Vec::new(),
            exempt: SpanSet::default(),
            ctes: CteScopes::default(),
            in_definition: false,
            query_depth: 0,
            table_function_at: None,
            targets: Vec::new(),
            selects: Vec::new(),
        }
    }

    /// `judge` run with the innermost select's relations known (`users.id = id`).
    fn judged<T>(&self, judge: impl FnOnce() -> T) -> T {
        with_own(self.selects.last().map_or(&[], Vec::as_slice), judge)
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
        self.targets.extend(dml_targets(statement));
        // An `UPDATE` or `DELETE` whose filter is true whatever the row writes every row: a
        // neutralized condition (`id = 1 OR a IS NULL OR a IS NOT NULL`), or only constant
        // parts (`id = id`, what a bare column name makes of `WHERE id = <value>`).
        if let Some((relations, filter)) = write_filter(statement) {
            self.selects.push(relations);
            if let Some(filter) = filter
                && self.judged(|| always_true(filter) && !is_builder_constant(filter))
            {
                return violation(Rule::Tautology, filter.span().start);
            }
        }
        match classify(statement) {
            Err(rule) => violation(rule, at),
            Ok(kind) if !self.policy.allows(kind) => violation(Rule::StatementNotAllowed, at),
            Ok(_) if is_show(statement) && !self.policy.catalog_allowed => {
                violation(Rule::CatalogRead, at)
            }
            Ok(kind) => {
                self.in_definition |= kind == StatementKind::Ddl;
                ControlFlow::Continue(())
            }
        }
    }

    fn post_visit_statement(&mut self, statement: &Statement) -> ControlFlow<Self::Break> {
        if write_filter(statement).is_some() {
            self.selects.pop();
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<Self::Break> {
        let dialect = self.policy.dialect;
        self.ctes.enter(query, |name| folded(name, dialect));
        self.query_depth += 1;
        match &query.limit_clause {
            Some(LimitClause::LimitOffset { limit, offset, .. }) => {
                limit.iter().for_each(|l| self.exempt.insert(l.span()));
                offset
                    .iter()
                    .for_each(|o| self.exempt.insert(o.value.span()));
            }
            Some(LimitClause::OffsetCommaLimit { offset, limit }) => {
                self.exempt.insert(offset.span());
                self.exempt.insert(limit.span());
            }
            None => {}
        }
        if let Some(OrderBy {
            kind: OrderByKind::Expressions(keys),
            ..
        }) = &query.order_by
        {
            for key in keys {
                // `ORDER BY 2` names a column by its position.
                if is_ordinal(&key.expr) {
                    self.exempt.insert(key.expr.span());
                }
                // An order chosen on a query reads data one comparison at a time.
                if order_probe(&key.expr) {
                    return violation(Rule::OrderProbe, key.expr.span().start);
                }
            }
        }
        if let Some(fetch) = &query.fetch
            && let Some(quantity) = &fetch.quantity
        {
            self.exempt.insert(quantity.span());
        }
        let at = query.span().start;
        // `FOR UPDATE`, `FOR SHARE`, `LOCK IN SHARE MODE` take row locks: writes.
        if !query.locks.is_empty() && !self.policy.allows(StatementKind::Write) {
            return violation(Rule::StatementNotAllowed, at);
        }
        self.table_branches(&query.body, at)?;
        if let Some(at) = union_probe(&query.body, self.query_depth == 1) {
            return violation(Rule::UnionProbe, at);
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &Query) -> ControlFlow<Self::Break> {
        self.query_depth = self.query_depth.saturating_sub(1);
        self.ctes.leave(query);
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<Self::Break> {
        self.selects.push(relations_of(select));
        // A filter that holds a real condition and is true whatever the row
        // (`WHERE NOT (id <> :id AND NOT TRUE)`) filters nothing.
        for filter in [&select.selection, &select.having].into_iter().flatten() {
            if self.judged(|| neutralizes_a_condition(filter)) {
                return violation(Rule::Tautology, filter.span().start);
            }
        }
        for item in &select.projection {
            self.exempt.insert(item.span());
            if let SelectItem::ExprWithAlias { alias, .. } = item {
                self.statement_alias(alias)?;
            }
        }
        if let GroupByExpr::Expressions(keys, _) = &select.group_by {
            keys.iter()
                .filter(|k| is_ordinal(k))
                .for_each(|k| self.exempt.insert(k.span()));
        }
        // `TOP (1)`, as EF Core writes it.
        if let Some(top) = &select.top
            && let Some(TopQuantity::Expr(quantity)) = &top.quantity
        {
            self.exempt.insert(quantity.span());
        }
        ControlFlow::Continue(())
    }

    fn post_visit_select(&mut self, _select: &Select) -> ControlFlow<Self::Break> {
        self.selects.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<Self::Break> {
        self.table_factor(factor)
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<Self::Break> {
        let at = relation.span().start;
        let parts = lower_parts(relation);
        if self
            .table_function_at
            .take_if(|start| *start == at)
            .is_some()
        {
            return self.call(parts, at, true);
        }
        let name = folded_parts(relation, self.policy.dialect);
        self.relation(&parts, &name, at)
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<Self::Break> {
        match expr {
            Expr::Function(function) => {
                let parts = lower_parts(&function.name);
                let at = expr.span().start;
                // MySQL's LAST_INSERT_ID(expr) sets the value the next call returns.
                if parts.last().is_some_and(|last| last == "last_insert_id")
                    && !functions::arguments(&function.args).is_empty()
                    && !self.policy.allows(StatementKind::Write)
                {
                    return violation(Rule::StatementNotAllowed, at);
                }
                if parts.last().is_some_and(|last| {
                    functions::oversized(last, functions::arguments(&function.args))
                }) {
                    return violation(Rule::DangerousFunction, at);
                }
                return self.call(parts, at, false);
            }
            // An `OR` chain that is true whatever the row and holds a real condition
            // (`id = 1 OR 1 = 1`, `t = 5 AND (id = 1 OR a IS NULL OR a IS NOT NULL)`).
            Expr::BinaryOp {
                op: BinaryOperator::Or,
                ..
            } if self.judged(|| neutralizes_a_condition(expr)) => {
                return violation(Rule::Tautology, expr.span().start);
            }
            Expr::BinaryOp {
                left,
                op: BinaryOperator::NotEq,
                right,
            } if is_number(left, "1") && is_number(right, "1") => {
                // SQLAlchemy's empty `IN` (`IN (SELECT CAST(NULL AS INTEGER) WHERE 1!=1)`).
                self.exempt.insert(expr.span());
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
            Expr::In {
                expr: left,
                target: InTarget::List(list),
                ..
            } if is_literal(left)
                && !list.is_empty()
                && list.iter().all(is_literal)
                && self.probes(left, left, expr) =>
            {
                // `AND 1 IN (1)`: the same question as `AND 1 = 1`.
                return violation(Rule::BooleanProbe, expr.span().start);
            }
            Expr::BinaryOp {
                op:
                    BinaryOperator::Arrow
                    | BinaryOperator::LongArrow
                    | BinaryOperator::HashArrow
                    | BinaryOperator::HashLongArrow,
                right,
                ..
            } if is_literal(right) => {
                // A JSON key or path (`data->>'email'`) is a name, as ORMs write it.
                self.exempt.insert(right.span());
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
            Expr::In {
                target:
                    InTarget::Table {
                        name,
                        args: Some(_),
                    },
                ..
            } => {
                // `x IN pragma_table_info('t')` (SQLite): a call, read as a relation.
                self.table_function_at = Some(name.span().start);
            }
            Expr::Subquery(query)
                if !self.policy.literals_allowed
                    && constant_select(query).is_some_and(is_literal)
                    && !self.exempted(expr.span().start) =>
            {
                // `(SELECT 5)` is the literal 5 where a value belongs.
                return violation(Rule::LiteralValue, expr.span().start);
            }
            Expr::Identifier(ident) if self.session_variable(ident) => {
                return violation(Rule::SessionVariable, ident.span.start);
            }
            Expr::CompoundIdentifier(parts)
                if parts
                    .first()
                    .is_some_and(|first| self.session_variable(first)) =>
            {
                return violation(Rule::SessionVariable, expr.span().start);
            }
            // MariaDB's `seq.NEXTVAL` (Oracle mode) advances the sequence.
            Expr::CompoundIdentifier(parts)
                if parts.last().is_some_and(|p| {
                    p.quote_style.is_none() && p.value.eq_ignore_ascii_case("nextval")
                }) && !self.policy.allows(StatementKind::Write) =>
            {
                return violation(Rule::StatementNotAllowed, expr.span().start);
            }
            // `'secrets'::regclass` looks a name up in the catalog.
            Expr::Cast { data_type, .. }
                if !self.policy.catalog_allowed
                    && data_type
                        .to_string()
                        .to_ascii_lowercase()
                        .starts_with("reg") =>
            {
                return violation(Rule::CatalogRead, expr.span().start);
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
