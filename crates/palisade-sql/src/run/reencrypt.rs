//! Re-encryption of a table: a resumable walk that encrypts again, under the current keys,
//! every value whose key is due for rotation.

use std::num::NonZeroU32;

use palisade_crypt::{EncryptedColumns, KeyScope};
use sqlx::{ColumnIndex, Decode, Encode, Row as _, Type};

use super::{Driver, GuardedSql};
use crate::{Ident, QueryError};

/// How far a [`reencrypt_rows`] got: pass `next` to the following call (store it to resume
/// after a restart); `None` when the walk is done.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reencrypted {
    /// The id to continue after, or `None` at the end of the table.
    pub next: Option<String>,
    /// Rows read.
    pub scanned: u64,
    /// Rows whose values were encrypted again.
    pub rewritten: u64,
    /// Rows changed by someone else between the read and the write (left as they are).
    pub conflicts: u64,
}

/// Reads up to `batch` rows of the table `columns` describes, after the id `after` (in id
/// order; the id column holds text), and encrypts again the encrypted columns of each row
/// with a value whose key is due for rotation, under the scope `scope_of` makes of the row's
/// `scope_column` (its owner). Each update is conditional on the row's ciphertexts being
/// unchanged, so the walk runs beside live traffic and never overwrites a newer value; the
/// blind indexes stay as they are (same values, same index key). Statements go through the
/// guard like any other.
///
/// # Errors
/// The database's error; [`QueryError::Crypt`] when a value cannot be decrypted (a
/// shredded key: delete such rows, or resume after their id); [`QueryError::ColumnEncrypted`]
/// for a column name that is not a plain identifier.
pub async fn reencrypt_rows<DB>(
    pool: &sqlx::Pool<DB>,
    columns: &EncryptedColumns,
    id_column: &str,
    scope_column: &str,
    scope_of: impl Fn(&str) -> Option<KeyScope>,
    after: Option<String>,
    batch: NonZeroU32,
) -> Result<Reencrypted, QueryError>
where
    DB: Driver,
    for<'q> String: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'q> Option<String>: Decode<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let ident = |name: &str| {
        Ident::new(name, DB::DIALECT)
            .map(|ident| ident.quoted().to_owned())
            .map_err(|_| QueryError::ColumnEncrypted {
                column: name.chars().take(64).filter(|c| !c.is_control()).collect(),
                problem: "named except by a plain identifier",
            })
    };
    let table = ident(columns.table())?;
    let id = ident(id_column)?;
    let encrypted: Vec<(String, String)> = columns
        .encrypted()
        .map(|(name, _)| Ok((name.to_owned(), ident(name)?)))
        .collect::<Result<_, QueryError>>()?;
    let list: Vec<&str> = encrypted
        .iter()
        .map(|(_, quoted)| quoted.as_str())
        .collect();
    let select = format!(
        "SELECT {id}, {}, {} FROM {table} WHERE {id} > :after ORDER BY {id} LIMIT :limit",
        ident(scope_column)?,
        list.join(", ")
    );
    let rows = GuardedSql::<DB>::read_only()
        .sql(&select)
        .bind("after", after.unwrap_or_default())
        .bind("limit", i64::from(batch.get()))
        .fetch_all(pool)
        .await?;
    let mut progress = Reencrypted {
        next: None,
        scanned: rows.len() as u64,
        rewritten: 0,
        conflicts: 0,
    };
    let writer = GuardedSql::<DB>::read_write();
    for row in &rows {
        let row_id: String = row.try_get(0).map_err(QueryError::from)?;
        let owner: String = row.try_get(1).map_err(QueryError::from)?;
        progress.next = Some(row_id.clone());
        let mut values = Vec::new();
        let mut due = false;
        for (index, (name, _)) in encrypted.iter().enumerate() {
            let Some(text) = row
                .try_get::<Option<String>, _>(index + 2)
                .map_err(QueryError::from)?
            else {
                continue;
            };
            let opened = columns
                .open(name, &row_id, &text)
                .await
                .map_err(QueryError::Crypt)?;
            due |= opened.rotate_due;
            values.push((index, text, opened.plaintext));
        }
        let Some(scope) = scope_of(&owner).filter(|_| due) else {
            continue;
        };
        let mut sets = Vec::new();
        let mut unchanged = Vec::new();
        let mut binds = Vec::new();
        for (index, old, plaintext) in &values {
            let (name, quoted) = encrypted.get(*index).ok_or(QueryError::RewriteFailed)?;
            let sealed = columns
                .seal(&scope, name, &row_id, plaintext.expose_bytes())
                .await
                .map_err(QueryError::Crypt)?;
            sets.push(format!("{quoted} = :new{index}"));
            unchanged.push(format!("{quoted} = :old{index}"));
            binds.push((format!("new{index}"), sealed));
            binds.push((format!("old{index}"), old.clone()));
        }
        let update = format!(
            "UPDATE {table} SET {} WHERE {id} = :id AND {}",
            sets.join(", "),
            unchanged.join(" AND ")
        );
        let mut query = writer.sql(&update).bind("id", row_id.clone());
        for (name, value) in binds {
            query = query.bind(&name, value);
        }
        if DB::rows_affected(&query.execute(pool).await?) == 1 {
            progress.rewritten += 1;
        } else {
            progress.conflicts += 1;
        }
    }
    if rows.len() < batch.get() as usize {
        progress.next = None;
    }
    Ok(progress)
}
