//! Class 8 of the hostile-SQL suite with SQL made by a Rust ORM's own query builder:
//! sea-query (crates.io; SeaORM builds its statements with it) renders a CRUD back end's
//! statements for PostgreSQL, MySQL and SQLite, placeholders and all, and the default
//! (strict) policy admits every one as it is.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

use palisade_sql::{Dialect, Params, SqlGuard, SqlPolicy};
use sea_query::{
    Alias, Asterisk, Cond, Expr, ExprTrait, Func, JoinType, MysqlQueryBuilder, OnConflict, Order,
    PostgresQueryBuilder, Query, QueryBuilder, SqliteQueryBuilder, Values,
};

fn col(name: &str) -> Alias {
    Alias::new(name)
}

/// The statements of a documents/projects/clients back end, as sea-query builds them for
/// `B`: the text and its values.
fn statements<B: QueryBuilder + Default>() -> Vec<(String, Values)> {
    let documents = || Alias::new("documents");
    let projects = || Alias::new("projects");
    let owner = || Expr::col((documents(), col("owner_id")));
    vec![
        // A page of a user's documents, searched and sorted.
        Query::select()
            .columns([col("id"), col("title"), col("updated_at")])
            .from(documents())
            .and_where(Expr::col(col("owner_id")).eq(42))
            .and_where(Expr::col(col("title")).like("%report%"))
            .and_where(Expr::col(col("status")).is_in(["open", "pending"]))
            .and_where(Expr::col(col("deleted_at")).is_null())
            .order_by(col("updated_at"), Order::Desc)
            .limit(20)
            .offset(40)
            .build(B::default()),
        // A join with a count per project.
        Query::select()
            .column((projects(), col("name")))
            .expr_as(Func::count(Expr::col((documents(), col("id")))), col("n"))
            .from(projects())
            .join(
                JoinType::LeftJoin,
                documents(),
                Expr::col((documents(), col("project_id"))).equals((projects(), col("id"))),
            )
            .and_where(Expr::col((projects(), col("client_id"))).eq(7))
            .group_by_col((projects(), col("name")))
            .and_having(Func::count(Expr::col((documents(), col("id")))).gt(0))
            .build(B::default()),
        // Alternatives in one condition, a range, and a subquery.
        Query::select()
            .column(Asterisk)
            .from(documents())
            .cond_where(
                Cond::all().add(owner().eq(42)).add(
                    Cond::any()
                        .add(Expr::col(col("title")).eq("a"))
                        .add(Expr::col(col("size")).between(10, 20)),
                ),
            )
            .and_where(
                Expr::col(col("project_id")).in_subquery(
                    Query::select()
                        .column(col("id"))
                        .from(projects())
                        .and_where(Expr::col(col("archived")).eq(false))
                        .to_owned(),
                ),
            )
            .build(B::default()),
        // Writes: insert with an upsert, update, delete.
        Query::insert()
            .into_table(documents())
            .columns([col("id"), col("title"), col("owner_id")])
            .values_panic([1.into(), "draft".into(), 42.into()])
            .values_panic([2.into(), "final".into(), 42.into()])
            .on_conflict(
                OnConflict::column(col("id"))
                    .update_column(col("title"))
                    .to_owned(),
            )
            .build(B::default()),
        Query::update()
            .table(documents())
            .values([(col("title"), "renamed".into()), (col("version"), 3.into())])
            .and_where(Expr::col(col("id")).eq(1))
            .and_where(Expr::col(col("owner_id")).eq(42))
            .build(B::default()),
        Query::delete()
            .from_table(documents())
            .and_where(Expr::col(col("id")).is_in([1, 2, 3]))
            .and_where(Expr::col(col("owner_id")).eq(42))
            .build(B::default()),
    ]
}

#[test]
fn sea_query_statements_pass_the_default_policy() {
    let mut refused = Vec::new();
    let mut checked = 0;
    let rendered = [
        (Dialect::Postgres, statements::<PostgresQueryBuilder>()),
        (Dialect::MySql, statements::<MysqlQueryBuilder>()),
        (Dialect::Sqlite, statements::<SqliteQueryBuilder>()),
    ];
    for (dialect, statements) in rendered {
        let guard = SqlGuard::new(SqlPolicy::read_write(dialect));
        for (sql, values) in statements {
            // Every value is a placeholder, none inlined.
            assert!(!values.0.is_empty(), "{sql}");
            checked += 1;
            if let Err(violation) = guard.check(&sql, &Params::positional(values.0.len())) {
                refused.push(format!("{dialect:?} {}: {sql}", violation.rule().id()));
            }
        }
    }
    assert_eq!(checked, 18);
    assert!(
        refused.is_empty(),
        "sea-query statements refused: {refused:#?}"
    );
}
