//! R-CRY-1: encrypted columns through the guarded executor on real PostgreSQL, and data keys
//! kept in PostgreSQL and MariaDB: values written to encrypted columns are stored as
//! ciphertext (read back raw), found through their blind index, refused in every clear use,
//! bound to their row, and unreadable once their owner's key is shredded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::sync::Arc;

use palisade_crypt::{
    BlindIndex, CryptError, EncryptedColumns, Envelope, KeyName, KeyScope, LocalKeyWrapper,
};
use palisade_secrets::SecretValue;
use palisade_sql::{GuardedSql, QueryError, SqlKeyStore};
use palisade_test::{Service, unique_name};
use sqlx::{AssertSqlSafe, Executor as _, MySqlPool, PgPool, Postgres, Row as _};

fn name(prefix: &str) -> String {
    unique_name(prefix)
        .replace(['-', ':', '.'], "_")
        .to_lowercase()
}

async fn postgres() -> PgPool {
    PgPool::connect(&Service::Postgres.url())
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL is not reachable ({e}); start it with `cargo xtask services up`")
        })
}

struct World {
    pool: PgPool,
    table: String,
    keys: String,
    envelope: Arc<Envelope>,
    columns: EncryptedColumns,
}

async fn world() -> World {
    let pool = postgres().await;
    let table = name("patients");
    pool.execute(AssertSqlSafe(format!(
        "CREATE TABLE {table} (id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT, ssn TEXT, ssn_bidx BYTEA, notes TEXT)"
    )))
    .await
    .unwrap();
    let keys = format!("{table}_keys");
    let store = SqlKeyStore::postgres(pool.clone(), &keys).unwrap();
    store.create_table().await.unwrap();
    let envelope = Arc::new(Envelope::new(
        KeyName::new("pii").unwrap(),
        Arc::new(LocalKeyWrapper::new(1, &SecretValue::from_string("5a".repeat(32))).unwrap()),
        Arc::new(store),
    ));
    let index = Arc::new(BlindIndex::new(&SecretValue::from_bytes(vec![3; 32]), 16).unwrap());
    let columns = EncryptedColumns::new(envelope.clone(), "clinic", table.clone())
        .searchable("ssn", index)
        .unwrap()
        .column("notes")
        .unwrap();
    World {
        pool,
        table,
        keys,
        envelope,
        columns,
    }
}

async fn insert(world: &World, id: &str, owner: &str, ssn: &str) {
    let scope = KeyScope::new(format!("user:{owner}")).unwrap();
    let sql = format!(
        "INSERT INTO {} (id, owner, name, ssn, ssn_bidx, notes) VALUES (:id, :owner, :name, :ssn, :ssn_index, :notes)",
        world.table
    );
    GuardedSql::<Postgres>::read_write()
        .sql(&sql)
        .bind("id", id.to_owned())
        .bind("owner", owner.to_owned())
        .bind("name", format!("patient {id}"))
        .encrypted(&world.columns, &scope, id)
        .bind_plaintext("ssn", ssn)
        .bind_plaintext("ssn_index", ssn)
        .bind_plaintext("notes", format!("notes of {id}"))
        .execute(&world.pool)
        .await
        .unwrap();
}

fn refused(error: &QueryError) -> (&str, &str) {
    match error {
        QueryError::ColumnEncrypted { column, problem } => (column.as_str(), problem),
        other => panic!("not a refusal: {other:?}"),
    }
}

#[tokio::test]
async fn encrypted_columns_are_written_as_ciphertext_and_found_by_their_index() {
    let world = world().await;
    insert(&world, "1", "alice", "078-05-1120").await;
    insert(&world, "2", "alice", "219-09-9999").await;
    insert(&world, "3", "bob", "078-05-1120").await;
    // Raw rows: no plaintext anywhere.
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT ssn, ssn_bidx, notes FROM {} ORDER BY id",
        world.table
    )))
    .fetch_all(&world.pool)
    .await
    .unwrap();
    for row in &rows {
        let ssn: String = row.get("ssn");
        let notes: String = row.get("notes");
        for clear in ["078-05-1120", "219-09-9999", "notes of"] {
            assert!(!ssn.contains(clear) && !notes.contains(clear));
        }
        let index: Vec<u8> = row.get("ssn_bidx");
        assert_eq!(index.len(), 16);
    }
    // Equal values have equal indexes in one table; the ciphertexts all differ.
    let first: String = rows[0].get("ssn");
    let third: String = rows[2].get("ssn");
    assert_ne!(first, third);
    assert_eq!(
        rows[0].get::<Vec<u8>, _>("ssn_bidx"),
        rows[2].get::<Vec<u8>, _>("ssn_bidx")
    );

    // Found through the index, opened for its row.
    let scope = KeyScope::new("user:alice").unwrap();
    let sql = format!(
        "SELECT id, ssn, notes FROM {} WHERE ssn_bidx = :ssn AND owner = :owner",
        world.table
    );
    let found = GuardedSql::<Postgres>::read_only()
        .sql(&sql)
        .bind("owner", "alice".to_owned())
        .encrypted(&world.columns, &scope, "")
        .bind_plaintext("ssn", "078-05-1120")
        .fetch_all(&world.pool)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let id: String = found[0].get("id");
    let opened = world
        .columns
        .open("ssn", &id, found[0].get("ssn"))
        .await
        .unwrap();
    assert_eq!(opened.plaintext.expose_str(), Some("078-05-1120"));
    let notes = world
        .columns
        .open("notes", &id, found[0].get("notes"))
        .await
        .unwrap();
    assert_eq!(notes.plaintext.expose_str(), Some("notes of 1"));
    let sql = format!(
        "SELECT id FROM {} WHERE ssn_bidx IN (:a, :b) ORDER BY id",
        world.table
    );
    let found = GuardedSql::<Postgres>::read_only()
        .sql(&sql)
        .encrypted(&world.columns, &scope, "")
        .bind_plaintext("a", "219-09-9999")
        .bind_plaintext("b", "000-00-0000")
        .fetch_all(&world.pool)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);

    // An update by id encrypts the new value for that row.
    let sql = format!(
        "UPDATE {} SET ssn = :ssn, ssn_bidx = :ssn_index WHERE id = :id",
        world.table
    );
    GuardedSql::<Postgres>::read_write()
        .sql(&sql)
        .bind("id", "2".to_owned())
        .encrypted(&world.columns, &scope, "2")
        .bind_plaintext("ssn", "111-11-1111")
        .bind_plaintext("ssn_index", "111-11-1111")
        .execute(&world.pool)
        .await
        .unwrap();
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT ssn FROM {} WHERE id = '2'",
        world.table
    )))
    .fetch_one(&world.pool)
    .await
    .unwrap();
    let opened = world
        .columns
        .open("ssn", "2", row.get("ssn"))
        .await
        .unwrap();
    assert_eq!(opened.plaintext.expose_str(), Some("111-11-1111"));
    // A ciphertext copied into another row does not open there.
    let err = world
        .columns
        .open("ssn", "1", row.get("ssn"))
        .await
        .unwrap_err();
    assert!(matches!(err, CryptError::Undecryptable), "{err:?}");
}

#[tokio::test]
async fn every_clear_use_of_an_encrypted_column_is_refused_and_nothing_is_sent() {
    let world = world().await;
    insert(&world, "1", "alice", "078-05-1120").await;
    let scope = KeyScope::new("user:alice").unwrap();
    let t = &world.table;
    let writer = GuardedSql::<Postgres>::read_write();
    let cases: Vec<(String, Vec<&str>, Vec<&str>, &str)> = vec![
        // (statement, plain binds, plaintext binds, refused column)
        (
            format!("SELECT id FROM {t} WHERE ssn = :x"),
            vec![],
            vec!["x"],
            "ssn",
        ),
        (
            format!("SELECT id FROM {t} WHERE ssn LIKE :x"),
            vec!["x"],
            vec![],
            "ssn",
        ),
        (
            format!("SELECT id FROM {t} ORDER BY ssn"),
            vec![],
            vec![],
            "ssn",
        ),
        (
            format!("SELECT upper(notes) FROM {t}"),
            vec![],
            vec![],
            "notes",
        ),
        (
            format!("SELECT id FROM {t} WHERE ssn_bidx > :x"),
            vec![],
            vec!["x"],
            "ssn_bidx",
        ),
        (
            format!("SELECT id FROM {t} WHERE ssn_bidx = :x"),
            vec!["x"],
            vec![],
            "x",
        ),
        (
            format!("SELECT id FROM {t} WHERE name = :x"),
            vec![],
            vec!["x"],
            "x",
        ),
        (
            format!("INSERT INTO {t} (id, owner, ssn) VALUES (:id, :owner, :ssn)"),
            vec!["id", "owner", "ssn"],
            vec![],
            "ssn",
        ),
        (
            format!(
                "INSERT INTO {t} (id, owner, ssn) VALUES (:id, :owner, :a), (:id2, :owner, :b)"
            ),
            vec!["id", "id2", "owner"],
            vec!["a", "b"],
            t,
        ),
        (
            format!("INSERT INTO {t} (id, owner, ssn) SELECT id, owner, ssn FROM {t}"),
            vec![],
            vec![],
            t,
        ),
        (
            format!("UPDATE {t} SET notes = name WHERE id = :id"),
            vec!["id"],
            vec![],
            "notes",
        ),
        (
            format!("UPDATE {t} SET ssn = :s, ssn_bidx = :s WHERE id = :id"),
            vec!["id"],
            vec!["s"],
            "s",
        ),
    ];
    for (sql, plain, plaintexts, column) in cases {
        let mut query = writer.sql(&sql).encrypted(&world.columns, &scope, "9");
        for name in plain {
            query = query.bind(name, "v".to_owned());
        }
        for name in plaintexts {
            query = query.bind_plaintext(name, "v");
        }
        let error = query.execute(&world.pool).await.unwrap_err();
        let (refused_column, _) = refused(&error);
        assert_eq!(refused_column, column, "{sql}: {error}");
        assert_eq!(error.status(), 400);
        assert!(!error.to_string().contains("078-05-1120"));
    }
    // A literal never gets this far: the guard refuses values written into the statement.
    let error = writer
        .sql(&format!(
            "INSERT INTO {t} (id, owner, ssn) VALUES (:id, :owner, 'x')"
        ))
        .encrypted(&world.columns, &scope, "9")
        .bind("id", "9".to_owned())
        .bind("owner", "v".to_owned())
        .execute(&world.pool)
        .await
        .unwrap_err();
    assert!(error.violation().is_some(), "{error:?}");
    // Nothing was written.
    let count: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {t}")))
        .fetch_one(&world.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
    // Reading the ciphertext is fine.
    let rows = GuardedSql::<Postgres>::read_only()
        .sql(&format!("SELECT id, ssn FROM {t}"))
        .encrypted(&world.columns, &scope, "")
        .fetch_all(&world.pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
}

#[tokio::test]
async fn shredding_deletes_the_owners_keys_in_postgresql() {
    let world = world().await;
    insert(&world, "1", "alice", "078-05-1120").await;
    insert(&world, "2", "bob", "219-09-9999").await;
    let destroyed = world
        .envelope
        .shred(&KeyScope::new("user:alice").unwrap())
        .await
        .unwrap();
    assert_eq!(destroyed, 1);
    let left: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM {} WHERE key_name <> ''",
        world.keys
    )))
    .fetch_one(&world.pool)
    .await
    .unwrap();
    assert_eq!(left, 1);
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT id, ssn FROM {} ORDER BY id",
        world.table
    )))
    .fetch_all(&world.pool)
    .await
    .unwrap();
    let err = world
        .columns
        .open("ssn", "1", rows[0].get("ssn"))
        .await
        .unwrap_err();
    assert!(matches!(err, CryptError::KeyDestroyed), "{err:?}");
    let bob = world
        .columns
        .open("ssn", "2", rows[1].get("ssn"))
        .await
        .unwrap();
    assert_eq!(bob.plaintext.expose_str(), Some("219-09-9999"));
}

#[tokio::test]
async fn data_keys_kept_in_mariadb_serve_a_cold_instance_and_shred() {
    let pool = MySqlPool::connect(&Service::Mariadb.url())
        .await
        .unwrap_or_else(|e| {
            panic!("MariaDB is not reachable ({e}); start it with `cargo xtask services up`")
        });
    let table = name("data_keys");
    let kek = SecretValue::from_string("6b".repeat(32));
    let envelope = |pool: MySqlPool| {
        Envelope::new(
            KeyName::new("pii").unwrap(),
            Arc::new(LocalKeyWrapper::new(1, &kek).unwrap()),
            Arc::new(SqlKeyStore::mysql(pool, &table).unwrap()),
        )
    };
    SqlKeyStore::mysql(pool.clone(), &table)
        .unwrap()
        .create_table()
        .await
        .unwrap();
    let writer = envelope(pool.clone());
    let context = palisade_crypt::Context::new().with("id", "1").unwrap();
    let alice = KeyScope::new("user:alice").unwrap();
    let sealed = writer.encrypt(&alice, &context, b"alice's").await.unwrap();
    assert_eq!(
        writer
            .encrypt(&alice, &context, b"x")
            .await
            .unwrap()
            .data_key_id(),
        sealed.data_key_id()
    );
    let reader = envelope(pool.clone());
    assert_eq!(
        reader
            .decrypt(&context, &sealed)
            .await
            .unwrap()
            .plaintext
            .expose_bytes(),
        b"alice's"
    );
    assert_eq!(
        reader
            .encrypt(&alice, &context, b"y")
            .await
            .unwrap()
            .data_key_id(),
        sealed.data_key_id()
    );
    assert_eq!(reader.shred(&alice).await.unwrap(), 1);
    let cold = envelope(pool);
    assert!(matches!(
        cold.decrypt(&context, &sealed).await.unwrap_err(),
        CryptError::KeyDestroyed
    ));
    let err = cold.encrypt(&alice, &context, b"late").await.unwrap_err();
    assert!(matches!(err, CryptError::KeyDestroyed), "{err:?}");
    assert!(SqlKeyStore::postgres(postgres().await, "Bad-Name").is_err());
}

#[tokio::test]
async fn a_resumable_walk_encrypts_again_what_is_due_for_rotation() {
    let world = world().await;
    for (id, owner) in [
        ("1", "alice"),
        ("2", "alice"),
        ("3", "bob"),
        ("4", "bob"),
        ("5", "carol"),
    ] {
        insert(&world, id, owner, &format!("ssn-{id}")).await;
    }
    // Version 2 of the key-encryption key arrives.
    let store = SqlKeyStore::postgres(world.pool.clone(), &world.keys).unwrap();
    let wrapper = LocalKeyWrapper::new(1, &SecretValue::from_string("5a".repeat(32)))
        .unwrap()
        .with_version(2, &SecretValue::from_string("7c".repeat(32)))
        .unwrap();
    let envelope = Arc::new(Envelope::new(
        KeyName::new("pii").unwrap(),
        Arc::new(wrapper),
        Arc::new(store),
    ));
    let index = Arc::new(BlindIndex::new(&SecretValue::from_bytes(vec![3; 32]), 16).unwrap());
    let columns = EncryptedColumns::new(envelope, "clinic", world.table.clone())
        .searchable("ssn", index)
        .unwrap()
        .column("notes")
        .unwrap();
    let scope_of = |owner: &str| KeyScope::new(format!("user:{owner}")).ok();
    let (mut after, mut rewritten, mut calls) = (None, 0, 0);
    loop {
        let step = palisade_sql::reencrypt_rows(
            &world.pool,
            &columns,
            "id",
            "owner",
            scope_of,
            after.clone(),
            std::num::NonZeroU32::new(2).unwrap(),
        )
        .await
        .unwrap();
        calls += 1;
        rewritten += step.rewritten;
        // A restart between batches: only `next` is kept.
        after = step.next;
        if after.is_none() {
            break;
        }
    }
    assert_eq!((rewritten, calls), (5, 3));
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT id, ssn, notes FROM {} ORDER BY id",
        world.table
    )))
    .fetch_all(&world.pool)
    .await
    .unwrap();
    for row in &rows {
        let id: String = row.get("id");
        for column in ["ssn", "notes"] {
            let text: String = row.get(column);
            assert_eq!(
                palisade_crypt::Ciphertext::from_text(&text)
                    .unwrap()
                    .key_version(),
                2
            );
            assert!(!columns.open(column, &id, &text).await.unwrap().rotate_due);
        }
        assert_eq!(
            columns
                .open("ssn", &id, row.get("ssn"))
                .await
                .unwrap()
                .plaintext
                .expose_str(),
            Some(format!("ssn-{id}").as_str())
        );
    }
    // The blind index still finds the values; a second walk finds nothing due.
    let scope = KeyScope::new("user:bob").unwrap();
    let found = GuardedSql::<Postgres>::read_only()
        .sql(&format!(
            "SELECT id FROM {} WHERE ssn_bidx = :ssn",
            world.table
        ))
        .encrypted(&columns, &scope, "")
        .bind_plaintext("ssn", "ssn-4")
        .fetch_all(&world.pool)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let step = palisade_sql::reencrypt_rows(
        &world.pool,
        &columns,
        "id",
        "owner",
        scope_of,
        None,
        std::num::NonZeroU32::new(100).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!((step.scanned, step.rewritten, step.next), (5, 0, None));
}
