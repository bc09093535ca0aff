//! Encrypted columns in guarded statements (the `crypt` feature): what a statement writes to
//! an encrypted column is encrypted, what it compares with a blind index column is blinded,
//! and anything else asked of those columns is refused before anything is sent.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::ControlFlow;

use palisade_crypt::{ColumnRole, EncryptedColumns, KeyScope};
use sqlparser::ast::{
    AssignmentTarget, BinaryOperator, Expr, InTarget, Query, SelectItem, SetExpr, Statement, Value,
    visit_expressions,
};
use sqlx::{Encode, Type};
use zeroize::Zeroizing;

use super::{Driver, GuardedQuery};
use crate::{Params, QueryError};

/// What a parameter becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    /// Encrypted for the column (text form).
    Seal(String),
    /// The blind index of the value for the encrypted column (bytes).
    Blind(String),
}

/// A [`GuardedQuery`] whose statement touches a table with encrypted columns. Built by
/// [`GuardedQuery::encrypted`]; values for encrypted columns and their blind indexes are
/// bound with [`bind_plaintext`](Self::bind_plaintext) and encrypted (or blinded) when the
/// statement runs, bound to the row `row_id`.
///
/// Refused before anything is sent ([`QueryError::ColumnEncrypted`], 400): a plain
/// [`bind`](Self::bind) or a literal written to an encrypted column; a plaintext bound to
/// a parameter that writes or compares nothing encrypted; an encrypted column compared,
/// sorted, grouped or passed to a function (compare its blind index column `NAME_bidx` with
/// `=` or `IN` instead); an insert of several rows (each row has its own id).
pub struct EncryptedQuery<'q, DB: Driver> {
    inner: GuardedQuery<'q, DB>,
    columns: &'q EncryptedColumns,
    scope: &'q KeyScope,
    row_id: &'q str,
    plaintexts: Vec<(String, Zeroizing<Vec<u8>>)>,
}

impl<'q, DB: Driver> GuardedQuery<'q, DB> {
    /// This statement with the encrypted `columns` of their table: plaintexts bound with
    /// [`EncryptedQuery::bind_plaintext`] are encrypted under `scope`'s data key for the row
    /// `row_id` (or blinded, for a blind index column).
    #[cfg_attr(docsrs, doc(cfg(feature = "crypt")))]
    #[must_use]
    pub fn encrypted(
        self,
        columns: &'q EncryptedColumns,
        scope: &'q KeyScope,
        row_id: &'q str,
    ) -> EncryptedQuery<'q, DB> {
        EncryptedQuery {
            inner: self,
            columns,
            scope,
            row_id,
            plaintexts: Vec::new(),
        }
    }
}

impl<'q, DB: Driver> EncryptedQuery<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    Vec<u8>: Encode<'q, DB> + Type<DB>,
{
    /// Binds `value` to `:name` as [`GuardedQuery::bind`] does (never to an encrypted column).
    #[must_use]
    pub fn bind<T>(mut self, name: &str, value: T) -> Self
    where
        T: Encode<'q, DB> + Type<DB> + fmt::Debug + Send + 'q,
    {
        self.inner = self.inner.bind(name, value);
        self
    }

    /// Binds a plaintext to `:name`, a parameter that writes an encrypted column (encrypted
    /// when the statement runs) or is compared with a blind index column (blinded).
    #[must_use]
    pub fn bind_plaintext(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.plaintexts
            .push((name.to_owned(), Zeroizing::new(value.as_ref().to_vec())));
        self
    }

    /// Checks how the statement uses the encrypted columns, encrypts and blinds the
    /// plaintexts, and binds them.
    async fn sealed(self) -> Result<GuardedQuery<'q, DB>, QueryError> {
        let Self {
            mut inner,
            columns,
            scope,
            row_id,
            plaintexts,
        } = self;
        let names: Vec<&str> = inner
            .binds
            .iter()
            .map(|b| b.name.as_str())
            .chain(plaintexts.iter().map(|(name, _)| name.as_str()))
            .collect();
        if let Some(name) = names
            .iter()
            .enumerate()
            .find_map(|(i, name)| names.iter().take(i).any(|n| n == name).then_some(*name))
        {
            return Err(QueryError::BindDuplicate {
                name: name.to_owned(),
            });
        }
        let checked = match inner.guard.check(inner.sql, &Params::named(names)) {
            Ok(checked) => checked,
            Err(violation) => {
                #[cfg(feature = "audit")]
                if let Some(audit) = inner.audit {
                    audit.refused(&violation);
                }
                return Err(violation.into());
            }
        };
        let touches = checked.tables().iter().any(|table| {
            table
                .rsplit('.')
                .next()
                .is_some_and(|last| last.trim_matches('"').eq_ignore_ascii_case(columns.table()))
        });
        let roles = if touches {
            roles(checked.statement(), columns)?
        } else {
            HashMap::new()
        };
        if let Some(bind) = inner.binds.iter().find(|b| roles.contains_key(&b.name)) {
            return Err(refusal(&bind.name, "bound in clear: use bind_plaintext"));
        }
        if let Some((name, _)) = roles
            .iter()
            .find(|(name, _)| !plaintexts.iter().any(|(p, _)| p == *name))
        {
            return Err(refusal(name, "left unbound"));
        }
        for (name, value) in plaintexts {
            inner = match roles.get(&name) {
                Some(Role::Seal(column)) => {
                    let sealed = columns
                        .seal(scope, column, row_id, &value)
                        .await
                        .map_err(QueryError::Crypt)?;
                    inner.bind(&name, sealed)
                }
                Some(Role::Blind(column)) => {
                    let blind = columns.blind(column, &value).map_err(QueryError::Crypt)?;
                    inner.bind(&name, blind)
                }
                None => {
                    return Err(refusal(
                        &name,
                        "bound as a plaintext but writes or compares nothing encrypted",
                    ));
                }
            };
        }
        Ok(inner)
    }

    /// Encrypts, then runs the statement as [`GuardedQuery::execute`] does.
    ///
    /// # Errors
    /// [`QueryError::ColumnEncrypted`] or [`QueryError::Crypt`] before anything is sent; then
    /// as [`GuardedQuery::execute`].
    pub async fn execute<'c, E>(self, executor: E) -> Result<DB::QueryResult, QueryError>
    where
        E: sqlx::Executor<'c, Database = DB>,
    {
        self.sealed().await?.execute(executor).await
    }

    /// Encrypts, then runs the statement as [`GuardedQuery::fetch_all`] does (encrypted
    /// columns come back as their text form: open them with [`EncryptedColumns::open`]).
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    pub async fn fetch_all<'c, E>(self, executor: E) -> Result<Vec<DB::Row>, QueryError>
    where
        E: sqlx::Executor<'c, Database = DB>,
    {
        self.sealed().await?.fetch_all(executor).await
    }

    /// Encrypts, then runs the statement as [`GuardedQuery::fetch_optional`] does.
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    pub async fn fetch_optional<'c, E>(self, executor: E) -> Result<Option<DB::Row>, QueryError>
    where
        E: sqlx::Executor<'c, Database = DB>,
    {
        self.sealed().await?.fetch_optional(executor).await
    }
}

impl<DB: Driver> fmt::Debug for EncryptedQuery<'_, DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedQuery")
            .field("inner", &self.inner)
            .field("columns", &self.columns)
            .field(
                "plaintexts",
                &self
                    .plaintexts
                    .iter()
                    .map(|(name, _)| name.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

fn refusal(column: &str, problem: &'static str) -> QueryError {
    QueryError::ColumnEncrypted {
        column: column
            .chars()
            .take(64)
            .filter(|c| !c.is_control())
            .collect(),
        problem,
    }
}

/// The parameter a placeholder expression names (`:ssn` → `ssn`).
fn parameter(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Value(value) => match &value.value {
            Value::Placeholder(text) => text.get(1..),
            _ => None,
        },
        _ => None,
    }
}

/// The column an identifier expression names (the last part of a qualified name).
fn column(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Identifier(ident) => Some(ident.value.as_str()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|ident| ident.value.as_str()),
        _ => None,
    }
}

fn assign(roles: &mut HashMap<String, Role>, name: &str, role: Role) -> Result<(), QueryError> {
    match roles.get(name) {
        Some(existing) if *existing != role => Err(refusal(
            name,
            "used for two encrypted purposes: bind one parameter per column",
        )),
        _ => {
            roles.insert(name.to_owned(), role);
            Ok(())
        }
    }
}

/// The role of a parameter written to `column`.
fn written(
    roles: &mut HashMap<String, Role>,
    columns: &EncryptedColumns,
    column: &str,
    value: &Expr,
) -> Result<(), QueryError> {
    let role = match columns.role(column) {
        None => return Ok(()),
        Some(ColumnRole::Encrypted) => Role::Seal(column.to_owned()),
        Some(ColumnRole::BlindIndexOf(source)) => Role::Blind(source.to_owned()),
        Some(_) => return Err(refusal(column, "written")),
    };
    let name = parameter(value)
        .ok_or_else(|| refusal(column, "written except through a bound parameter"))?;
    assign(roles, name, role)
}

/// What each parameter becomes, or the first use of an encrypted column that is refused.
fn roles(
    statement: &Statement,
    columns: &EncryptedColumns,
) -> Result<HashMap<String, Role>, QueryError> {
    let mut roles = HashMap::new();
    // Identifier expressions that may name an encrypted column: plain projections and
    // `RETURNING` items (they read the ciphertext), and the sides of handled comparisons.
    let mut allowed: HashSet<*const Expr> = HashSet::new();
    let mut allow_items = |items: &[SelectItem], allowed: &mut HashSet<*const Expr>| {
        for item in items {
            if let SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } = item
                && column(expr).is_some()
            {
                allowed.insert(std::ptr::from_ref(expr));
            }
        }
    };
    match statement {
        Statement::Insert(insert) => {
            let names: Vec<String> = insert
                .columns
                .iter()
                .map(|name| {
                    name.to_string()
                        .rsplit('.')
                        .next()
                        .unwrap_or_default()
                        .trim_matches('"')
                        .to_owned()
                })
                .collect();
            let encrypted = names.iter().any(|n| columns.role(n).is_some());
            if encrypted {
                let rows = match insert.source.as_deref().map(|q| q.body.as_ref()) {
                    Some(SetExpr::Values(values)) => &values.rows,
                    _ => return Err(refusal(columns.table(), "written except by VALUES")),
                };
                if rows.len() > 1 {
                    return Err(refusal(columns.table(), "written in several rows at once"));
                }
                for row in rows {
                    for (name, value) in names.iter().zip(&row.content) {
                        written(&mut roles, columns, name, value)?;
                    }
                }
            }
            if let Some(items) = &insert.returning {
                allow_items(items, &mut allowed);
            }
        }
        Statement::Update(update) => {
            for assignment in &update.assignments {
                match &assignment.target {
                    AssignmentTarget::ColumnName(name) => {
                        let name = name.to_string();
                        let name = name
                            .rsplit('.')
                            .next()
                            .unwrap_or_default()
                            .trim_matches('"');
                        written(&mut roles, columns, name, &assignment.value)?;
                    }
                    AssignmentTarget::Tuple(names) => {
                        if let Some(name) = names
                            .iter()
                            .find(|n| columns.role(&n.to_string()).is_some())
                        {
                            return Err(refusal(
                                &name.to_string(),
                                "written in a tuple assignment",
                            ));
                        }
                    }
                }
            }
            if let Some(items) = &update.returning {
                allow_items(items, &mut allowed);
            }
        }
        Statement::Delete(delete) => {
            if let Some(items) = &delete.returning {
                allow_items(items, &mut allowed);
            }
        }
        Statement::Query(query) => allow_query(query, &mut allowed, &mut allow_items),
        _ => {}
    }
    // Comparisons: `index = :p` and `index IN (:a, :b)` blind their parameters; every other
    // appearance of an encrypted or index column is refused.
    let mut handled: HashSet<*const Expr> = HashSet::new();
    let walk = visit_expressions(statement, |expr| {
        match expr {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq,
                right,
            } => {
                for (side, other) in [(left, right), (right, left)] {
                    if let (Some(name), Some(parameter)) = (column(side), parameter(other)) {
                        match columns.role(name) {
                            Some(ColumnRole::BlindIndexOf(source)) => {
                                if let Err(e) =
                                    assign(&mut roles, parameter, Role::Blind(source.to_owned()))
                                {
                                    return ControlFlow::Break(e);
                                }
                                handled.insert(std::ptr::from_ref(side.as_ref()));
                            }
                            Some(_) => {
                                return ControlFlow::Break(refusal(
                                    name,
                                    "compared in clear: compare its blind index column",
                                ));
                            }
                            None => {}
                        }
                    }
                }
            }
            Expr::In {
                expr: side,
                target: InTarget::List(list),
                negated: false,
                ..
            } => {
                if let Some(name) = column(side)
                    && let Some(ColumnRole::BlindIndexOf(source)) = columns.role(name)
                    && list.iter().all(|item| parameter(item).is_some())
                {
                    for item in list {
                        if let Some(parameter) = parameter(item)
                            && let Err(e) =
                                assign(&mut roles, parameter, Role::Blind(source.to_owned()))
                        {
                            return ControlFlow::Break(e);
                        }
                    }
                    handled.insert(std::ptr::from_ref(side.as_ref()));
                }
            }
            _ => {
                if let Some(name) = column(expr)
                    && columns.role(name).is_some()
                    && !handled.contains(&std::ptr::from_ref(expr))
                    && !allowed.contains(&std::ptr::from_ref(expr))
                {
                    return ControlFlow::Break(refusal(
                        name,
                        "used except by = or IN on its blind index column",
                    ));
                }
            }
        }
        ControlFlow::Continue(())
    });
    match walk {
        ControlFlow::Break(error) => Err(error),
        ControlFlow::Continue(()) => Ok(roles),
    }
}

/// The plain projections of a query's top-level selects (set operations included).
fn allow_query(
    query: &Query,
    allowed: &mut HashSet<*const Expr>,
    allow_items: &mut impl FnMut(&[SelectItem], &mut HashSet<*const Expr>),
) {
    let mut bodies = vec![query.body.as_ref()];
    while let Some(body) = bodies.pop() {
        match body {
            SetExpr::Select(select) => allow_items(&select.projection, allowed),
            SetExpr::Query(inner) => bodies.push(inner.body.as_ref()),
            SetExpr::SetOperation { left, right, .. } => {
                bodies.push(left.as_ref());
                bodies.push(right.as_ref());
            }
            _ => {}
        }
    }
}
