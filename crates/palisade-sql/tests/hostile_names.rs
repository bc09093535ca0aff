//! Classes 2 to 5 of the hostile-SQL suite, each with several spellings: names resolved as
//! the server resolves them, dangerous functions wherever a function can stand, every
//! relation seen, lexing like the server.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

use palisade_sql::{Dialect, Params, Rule, SqlGuard, SqlPolicy};

/// The widest policy short of allowing catalogs: literals, reads and writes.
fn lenient(dialect: Dialect) -> SqlGuard {
    SqlGuard::new(SqlPolicy::read_write(dialect).allow_literals())
}

fn refusals(guard: &SqlGuard, cases: &[&str], rule: Rule) {
    for sql in cases {
        match guard.check(sql, &Params::none()) {
            Ok(_) => panic!("admitted: {sql}"),
            Err(v) => assert_eq!(v.rule(), rule, "{sql}"),
        }
    }
}

#[test]
fn a_function_is_dangerous_under_every_spelling_postgresql_resolves() {
    let guard = lenient(Dialect::Postgres);
    refusals(
        &guard,
        &[
            r#"SELECT U&"pg\005fsleep"(5)"#,
            r#"SELECT u&"pg\+00005fsleep"(5)"#,
            r#"SELECT U&"pg!005fsleep" UESCAPE '!' (5)"#,
            r#"SELECT "pg_sleep"(5)"#,
            r#"SELECT "PG_SLEEP"(5)"#,
            "SELECT PG_SLEEP(5)",
            "SELECT pg_catalog.pg_sleep(5)",
            r#"SELECT "pg_catalog"."pg_sleep"(5)"#,
            r#"SELECT U&"pg\005fcatalog".U&"pg\005fsleep"(5)"#,
            "SELECT * FROM users WHERE id = 1 AND 1 = (SELECT 1 FROM pg_sleep(5))",
            "SELECT * FROM pg_sleep(5)",
            "SELECT * FROM dblink('host=evil', 'SELECT 1') AS t(a int)",
            "SELECT * FROM public.lo_import('/etc/passwd')",
            "SELECT * FROM users, LATERAL pg_read_file('/etc/passwd') AS f",
            "SELECT query_to_xml('SELECT * FROM secrets', true, true, '')",
            "SELECT table_to_xml('secrets', true, true, '')",
            "SELECT * FROM ts_stat('SELECT to_tsvector(secret) FROM secrets')",
            "SELECT pg_ls_waldir()",
            "SELECT lo_get(16384)",
            "SELECT pg_terminate_backend(1)",
            "SELECT * FROM generate_series(1, 1000000000)",
            "SELECT count(*) FROM generate_series(1, -999999999999)",
            "SELECT repeat('a', 1000000000)",
        ],
        Rule::DangerousFunction,
    );
}

#[test]
fn dangerous_functions_in_the_other_dialects() {
    refusals(
        &lenient(Dialect::MySql),
        &[
            "SELECT SLEEP(5)",
            "SELECT `sleep`(5)",
            "SELECT BENCHMARK(10000000, MD5('a'))",
            "SELECT LOAD_FILE('/etc/passwd')",
            "SELECT MASTER_POS_WAIT('log', 4, 5)",
        ],
        Rule::DangerousFunction,
    );
    refusals(
        &lenient(Dialect::Sqlite),
        &[
            "SELECT load_extension('/tmp/evil.so')",
            "SELECT readfile('/etc/passwd')",
            "SELECT writefile('/tmp/x', 'y')",
            "SELECT randomblob(500000000)",
            "SELECT hex(zeroblob(1000000000))",
        ],
        Rule::DangerousFunction,
    );
    refusals(
        &lenient(Dialect::MsSql),
        &[
            "SELECT * FROM OPENROWSET('SQLNCLI', 'server=evil', 'SELECT 1')",
            "SELECT [master].[dbo].[xp_cmdshell]('dir')",
            "SELECT * FROM OPENQUERY(evil, 'SELECT 1')",
        ],
        Rule::DangerousFunction,
    );
}

#[test]
fn functions_with_side_effects_are_writes() {
    for (dialect, cases) in [
        (
            Dialect::Postgres,
            &[
                "SELECT nextval('orders_id_seq')",
                "SELECT setval('orders_id_seq', 1)",
                "SELECT pg_advisory_lock(1)",
                "SELECT pg_try_advisory_xact_lock(1)",
                "SELECT pg_notify('channel', 'payload')",
            ][..],
        ),
        (
            Dialect::MySql,
            &["SELECT GET_LOCK('a', 10)", "SELECT RELEASE_LOCK('a')"][..],
        ),
    ] {
        let reader = SqlGuard::new(SqlPolicy::read_only(dialect).allow_literals());
        refusals(&reader, cases, Rule::StatementNotAllowed);
        let writer = lenient(dialect);
        for sql in cases {
            assert!(writer.check(sql, &Params::none()).is_ok(), "{sql}");
        }
    }
}

#[test]
fn every_relation_is_seen_and_a_cte_shadows_only_its_own_scope() {
    let guard = SqlGuard::new(
        SqlPolicy::read_only(Dialect::Postgres)
            .allow_literals()
            .with_tables(["users"]),
    );
    refusals(
        &guard,
        &[
            "SELECT 1 UNION TABLE secrets",
            "SELECT name FROM users UNION ALL TABLE public.secrets",
            "SELECT * FROM (WITH secrets AS (SELECT 1) SELECT * FROM secrets) x, secrets",
            "SELECT * FROM users WHERE id IN (WITH s AS (SELECT 1) SELECT * FROM s) AND EXISTS (SELECT 1 FROM secrets)",
            "SELECT * FROM users, LATERAL (SELECT * FROM secrets) s",
            "SELECT * FROM (SELECT * FROM (SELECT * FROM secrets) a) b",
            "WITH u AS (SELECT * FROM secrets) SELECT * FROM u",
            "SELECT * FROM users JOIN secrets ON true",
            "SELECT * FROM db.public.secrets",
            r#"SELECT * FROM "Users""#,
            "SELECT * FROM other.users",
            "SELECT * FROM pg_temp.users",
            // A CTE's own body, and the CTEs before it, still read the real table.
            "WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets",
            "WITH y AS (SELECT * FROM secrets), secrets AS (SELECT 1) SELECT * FROM y",
            r#"SELECT * FROM U&"\0055sers""#,
        ],
        Rule::TableNotAllowed,
    );
    let writer = SqlGuard::new(
        SqlPolicy::read_write(Dialect::Postgres)
            .allow_literals()
            .with_tables(["users"]),
    );
    refusals(
        &writer,
        &[
            "INSERT INTO users (id) WITH secrets AS (SELECT id FROM secrets) SELECT id FROM secrets",
            // The table a statement writes is never a CTE name.
            "WITH secrets AS (SELECT id FROM users) DELETE FROM secrets WHERE id = 1",
            "WITH secrets AS (SELECT id FROM users) UPDATE secrets SET id = 1",
            "WITH secrets AS (SELECT id FROM users) INSERT INTO secrets VALUES (1)",
            "WITH secrets AS (SELECT id FROM users), d AS (DELETE FROM secrets RETURNING id) SELECT id FROM d",
            "WITH secrets AS (SELECT id FROM users) MERGE INTO secrets s USING users u ON s.id = u.id WHEN MATCHED THEN DELETE",
        ],
        Rule::TableNotAllowed,
    );
    // `WITH RECURSIVE` binds its names in its own bodies.
    let checked = guard
        .check(
            "WITH RECURSIVE secrets(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM secrets WHERE n < 3) SELECT n FROM secrets",
            &Params::none(),
        )
        .unwrap();
    assert!(checked.tables().is_empty());
    // A later CTE may read an earlier one.
    let checked = guard
        .check(
            "WITH a AS (SELECT id FROM users), secrets AS (SELECT id FROM a) SELECT id FROM secrets",
            &Params::none(),
        )
        .unwrap();
    assert_eq!(checked.tables(), ["users"]);
    // A CTE named like a table is not that table inside its own query.
    let checked = guard
        .check(
            "WITH secrets AS (SELECT id FROM users) SELECT * FROM secrets",
            &Params::none(),
        )
        .unwrap();
    assert_eq!(checked.tables(), ["users"]);
    let checked = guard
        .check(
            r#"SELECT * FROM "users" u JOIN USERS v ON u.id = v.id UNION TABLE users"#,
            &Params::none(),
        )
        .unwrap();
    assert_eq!(checked.tables(), ["users", "users", "users"]);
    let checked = guard
        .check(
            "SELECT * FROM users, generate_series(1, 10) AS g, lower('A') AS l",
            &Params::none(),
        )
        .unwrap();
    assert_eq!(checked.tables(), ["users"]);
    assert_eq!(checked.functions(), ["generate_series", "lower"]);
}

#[test]
fn server_state_is_a_catalog_read_or_a_session_variable() {
    let pg = SqlGuard::new(SqlPolicy::read_only(Dialect::Postgres).allow_literals());
    refusals(
        &pg,
        &[
            "SELECT a, (pg_stat_get_activity(NULL)).query FROM users",
            "SELECT (pg_hba_file_rules()).address",
            "SELECT current_setting('data_directory')",
            "SELECT pg_get_viewdef('v')",
            "SELECT pg_get_functiondef(1)",
            "SELECT * FROM pg_config()",
            "SELECT has_table_privilege('secrets', 'SELECT')",
            "SELECT to_regclass('secrets')",
            "SELECT pg_relation_filepath('users')",
            "SELECT version()",
            "SELECT obj_description(1)",
            "SELECT inet_server_addr()",
        ],
        Rule::CatalogRead,
    );
    refusals(
        &SqlGuard::new(SqlPolicy::read_only(Dialect::MySql).allow_literals()),
        &[
            "SELECT @@version",
            "SELECT @@global.secure_file_priv",
            "SELECT a FROM t WHERE id = 1 OR @x IS NULL",
            "SELECT @x := a FROM t",
        ],
        Rule::SessionVariable,
    );
    refusals(
        &SqlGuard::new(SqlPolicy::read_only(Dialect::MySql).allow_literals()),
        &["SELECT database()", "SELECT user()"],
        Rule::CatalogRead,
    );
    refusals(
        &SqlGuard::new(SqlPolicy::read_only(Dialect::MsSql).allow_literals()),
        &[
            "SELECT object_definition(@p)",
            "SELECT * FROM fn_my_permissions(NULL, NULL)",
        ],
        Rule::CatalogRead,
    );
    refusals(
        &SqlGuard::new(SqlPolicy::read_only(Dialect::MsSql).allow_literals()),
        &["SELECT @@version"],
        Rule::SessionVariable,
    );
    refusals(
        &pg,
        &[
            "SELECT $1::regclass",
            "SELECT 'secrets'::regclass::oid",
            "SELECT pg_relation_size('secrets')",
            "SELECT current_query()",
        ],
        Rule::CatalogRead,
    );
    refusals(
        &SqlGuard::new(SqlPolicy::read_only(Dialect::MsSql).allow_literals()),
        &[
            "SELECT user_name()",
            "SELECT original_login()",
            "SELECT object_id('secrets')",
        ],
        Rule::CatalogRead,
    );
    // Ordinary functions stay ordinary.
    assert!(
        pg.check(
            "SELECT pg_typeof(a), lower(b), now() FROM users",
            &Params::none()
        )
        .is_ok()
    );
}

#[test]
fn maintenance_and_session_functions_are_writes() {
    refusals(
        &SqlGuard::new(SqlPolicy::read_only(Dialect::Postgres).allow_literals()),
        &[
            "SELECT brin_summarize_new_values('idx')",
            "SELECT brin_desummarize_range('idx', 0)",
            "SELECT gin_clean_pending_list('idx')",
            "SELECT setseed(0.5)",
            "EXPLAIN (ANALYZE 1) DELETE FROM users",
            "EXPLAIN (ANALYZE 'on') DELETE FROM users",
            "EXPLAIN (ANALYZE) DELETE FROM users",
        ],
        Rule::StatementNotAllowed,
    );
    assert!(
        SqlGuard::new(SqlPolicy::read_only(Dialect::Postgres).allow_literals())
            .check("EXPLAIN (ANALYZE 0) SELECT a FROM users", &Params::none())
            .is_ok()
    );
    refusals(
        &SqlGuard::new(SqlPolicy::read_only(Dialect::MySql).allow_literals()),
        &[
            "SELECT LAST_INSERT_ID(a) FROM t",
            "SELECT a, s.nextval FROM t",
        ],
        Rule::StatementNotAllowed,
    );
}

#[test]
fn locks_and_lock_hints_are_writes() {
    for (dialect, sql) in [
        (
            Dialect::Postgres,
            "SELECT * FROM users WHERE id = 1 FOR UPDATE",
        ),
        (Dialect::Postgres, "SELECT * FROM users FOR SHARE NOWAIT"),
        (
            Dialect::MySql,
            "SELECT * FROM users WHERE id = 1 FOR UPDATE",
        ),
        (
            Dialect::MsSql,
            "SELECT * FROM users WITH (TABLOCKX, HOLDLOCK)",
        ),
        (Dialect::MsSql, "SELECT * FROM users WITH (UPDLOCK)"),
        (Dialect::MsSql, "SELECT * FROM users (XLOCK)"),
    ] {
        let reader = SqlGuard::new(SqlPolicy::read_only(dialect).allow_literals());
        refusals(&reader, &[sql], Rule::StatementNotAllowed);
        assert!(
            lenient(dialect).check(sql, &Params::none()).is_ok(),
            "{sql}"
        );
    }
    let reader = SqlGuard::new(
        SqlPolicy::read_only(Dialect::MsSql)
            .allow_literals()
            .with_tables(["users"]),
    );
    assert!(
        reader
            .check("SELECT * FROM users WITH (NOLOCK)", &Params::none())
            .is_ok()
    );
    // The old hint syntax names the table, not a function: the allow-list applies.
    let checked = reader
        .check("SELECT * FROM users (NOLOCK)", &Params::none())
        .unwrap();
    assert_eq!(checked.tables(), ["users"]);
    refusals(
        &reader,
        &["SELECT * FROM secrets (NOLOCK)"],
        Rule::TableNotAllowed,
    );
}

#[test]
fn table_names_compare_as_each_server_compares_them() {
    let mysql = SqlGuard::new(
        SqlPolicy::read_only(Dialect::MySql)
            .allow_literals()
            .with_tables(["users", "reporting.totals"]),
    );
    refusals(
        &mysql,
        &[
            "SELECT * FROM USERS",
            "SELECT * FROM `Users`",
            "SELECT * FROM otherdb.users",
            "SELECT * FROM totals",
            "SELECT * FROM REPORTING.totals",
        ],
        Rule::TableNotAllowed,
    );
    for sql in [
        "SELECT * FROM users",
        "SELECT * FROM `users`",
        "SELECT * FROM reporting.totals",
    ] {
        assert!(mysql.check(sql, &Params::none()).is_ok(), "{sql}");
    }
    let mssql = SqlGuard::new(
        SqlPolicy::read_only(Dialect::MsSql)
            .allow_literals()
            .with_tables(["Users"]),
    );
    assert!(
        mssql
            .check("SELECT * FROM [USERS]", &Params::none())
            .is_ok()
    );
    refusals(
        &mssql,
        &["SELECT * FROM dbo.users", "SELECT * FROM other..users"],
        Rule::TableNotAllowed,
    );
}

#[test]
fn catalogs_are_seen_under_every_spelling_of_each_dialect() {
    for (dialect, cases) in [
        (
            Dialect::Postgres,
            &[
                "SELECT * FROM pg_shadow",
                "SELECT * FROM PG_CATALOG.PG_AUTHID",
                r#"SELECT * FROM "pg_catalog"."pg_authid""#,
                r#"SELECT * FROM U&"pg\005fauthid""#,
                "SELECT 1 UNION TABLE pg_authid",
                "SELECT * FROM (WITH pg_user AS (SELECT 1) SELECT * FROM pg_user) x, pg_user",
                "SELECT * FROM information_schema.tables",
                "SELECT * FROM users WHERE id IN (SELECT oid FROM pg_roles)",
                "SELECT * FROM pg_get_keywords()",
            ][..],
        ),
        (
            Dialect::MySql,
            &[
                "SELECT * FROM mysql.user",
                "SELECT * FROM `mysql`.`user`",
                "SELECT * FROM INFORMATION_SCHEMA.TABLES",
                "SELECT * FROM performance_schema.threads",
                "SELECT * FROM sys.version",
                "SHOW TABLES",
                "SHOW DATABASES",
                "SHOW COLUMNS FROM users",
                "SHOW VARIABLES",
            ][..],
        ),
        (
            Dialect::Sqlite,
            &[
                "SELECT * FROM sqlite_master",
                "SELECT * FROM main.sqlite_master",
                "SELECT * FROM temp.sqlite_temp_master",
                r#"SELECT * FROM "sqlite_schema""#,
                "SELECT * FROM pragma_table_info('users')",
                "SELECT * FROM users WHERE name IN pragma_table_info('users')",
                "SELECT * FROM sqlite_sequence",
            ][..],
        ),
        (
            Dialect::MsSql,
            &[
                "SELECT * FROM sysobjects",
                "SELECT * FROM dbo.sysobjects",
                "SELECT * FROM master..sysdatabases",
                "SELECT * FROM [master].[dbo].[syslogins]",
                "SELECT * FROM sys.tables",
                "SELECT * FROM [sys].[sql_logins]",
                "SELECT * FROM INFORMATION_SCHEMA.COLUMNS",
                "SELECT * FROM msdb.dbo.backupset",
            ][..],
        ),
    ] {
        refusals(&lenient(dialect), cases, Rule::CatalogRead);
        let catalogs = SqlGuard::new(
            SqlPolicy::read_only(dialect)
                .allow_literals()
                .allow_catalog(),
        );
        for sql in cases {
            assert!(catalogs.check(sql, &Params::none()).is_ok(), "{sql}");
        }
    }
}

#[test]
fn lexing_follows_the_server() {
    let mysql = lenient(Dialect::MySql);
    refusals(
        &mysql,
        &[
            "SELECT 'a'/*!50000 UNION SELECT password FROM mysql.user*/",
            "SELECT * FROM users WHERE name = 'x'/*! OR 1=1*/",
            "SELECT * FROM users WHERE id = 1 /*!50000AND 1=1*/",
            "SELECT * FROM users WHERE id = 1 /*M!100000 OR 1=1*/",
            // Inside a string in the default mode, outside it under NO_BACKSLASH_ESCAPES.
            r"SELECT * FROM users WHERE name = 'a\' /*! OR 1=1*/ -- '",
        ],
        Rule::ExecutableComment,
    );
    refusals(
        &mysql,
        &[
            "SELECT * FROM users WHERE id = 1 || 1=1",
            "SELECT * FROM users WHERE id = 5 || TRUE",
            "SELECT * FROM users WHERE name = 'a' || 'x' = 'x'",
        ],
        Rule::Tautology,
    );
    // A backslash escapes the quote: the comment is inside the string.
    let checked = mysql.check(r"SELECT 'it\'s -- fine'", &Params::none());
    assert!(checked.is_ok());
    // SQL Server needs no `;` between statements: a statement keyword after a complete
    // statement starts another one, whether sqlparser reads it as an alias or not at all.
    let mssql = lenient(Dialect::MsSql);
    refusals(
        &mssql,
        &[
            "SELECT * FROM users SHUTDOWN",
            "SELECT * FROM users RECONFIGURE",
            "SELECT name SHUTDOWN FROM users",
        ],
        Rule::MultipleStatements,
    );
    for sql in [
        "SELECT * FROM users u EXEC",
        "SELECT name DROP FROM users",
        "SELECT * FROM users WHERE id = 1 SELECT 2",
    ] {
        let rule = mssql.check(sql, &Params::none()).unwrap_err().rule();
        assert!(
            matches!(rule, Rule::MultipleStatements | Rule::Unparsable),
            "{sql}: {rule:?}"
        );
    }
    assert!(
        lenient(Dialect::MsSql)
            .check("SELECT * FROM users [shutdown]", &Params::none())
            .is_ok()
    );
}

/// `set_config` changes what every later statement on the connection runs as: the acting user
/// row-level security reads, the role, `search_path`, the client encoding (which decides how
/// the next statement's bytes are read). No policy admits it, however it is spelled.
#[test]
fn session_settings_are_refused_by_every_policy() {
    let writer = lenient(Dialect::Postgres);
    for sql in [
        "SELECT set_config('app.user_id', 'bob', true)",
        "SELECT set_config(:k, :v, false)",
        "SELECT pg_catalog.set_config('role', 'postgres', false)",
        "SELECT \"set_config\"('search_path', 'evil', false)",
        "SELECT n.title FROM (SELECT set_config(:k, :v, true) AS x) s, notes n",
        "WITH s AS MATERIALIZED (SELECT SET_CONFIG(:k, :v, true)) SELECT title FROM notes, s",
        "SELECT title, set_config(:k, :v, true) FROM notes",
        "INSERT INTO notes (owner, title) SELECT :v, set_config(:k, :v, true)",
        "UPDATE notes SET title = set_config('client_encoding', 'SJIS', false)",
    ] {
        let params = Params::named(["k", "v"]);
        let refused = writer.check(sql, &params).unwrap_err();
        assert_eq!(refused.rule(), Rule::DangerousFunction, "{sql}");
    }
}
