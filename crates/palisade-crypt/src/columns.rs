//! `EncryptedColumns`: the field map of one SQL table, in the text form SQL `TEXT` columns
//! hold.

use std::fmt;
use std::sync::Arc;

use crate::blind::BlindIndex;
use crate::context::Context;
use crate::envelope::Envelope;
use crate::error::{CryptError, Result};
use crate::format::Ciphertext;
use crate::keys::KeyScope;
use crate::plaintext::Decrypted;

/// What a column of an [`EncryptedColumns`] table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColumnRole<'a> {
    /// An encrypted column (ciphertexts in text form).
    Encrypted,
    /// The blind index of the encrypted column named here.
    BlindIndexOf(&'a str),
}

struct ColumnSpec {
    name: String,
    index: Option<(Arc<BlindIndex>, String)>,
}

/// Which columns of one table are encrypted (their values stored as ciphertext text, bound
/// to the tenant, the table, the column and the row's id) and which have a blind index (in
/// the column `NAME_bidx`, bytes). `palisade-sql`'s guarded executor uses it to encrypt
/// what a statement writes to those columns and to compare only through blind indexes; the
/// methods here are that work, for any other code.
pub struct EncryptedColumns {
    envelope: Arc<Envelope>,
    tenant: String,
    table: String,
    columns: Vec<ColumnSpec>,
}

impl EncryptedColumns {
    /// No encrypted column yet, in `table` of `tenant` (a database or schema name, or any
    /// name the values must stay bound to).
    #[must_use]
    pub fn new(
        envelope: Arc<Envelope>,
        tenant: impl Into<String>,
        table: impl Into<String>,
    ) -> Self {
        Self {
            envelope,
            tenant: tenant.into(),
            table: table.into(),
            columns: Vec::new(),
        }
    }

    /// Encrypts column `name`; comparisons on it are refused.
    ///
    /// # Errors
    /// [`CryptError::ContextInvalid`] for a name outside `A-Z a-z 0-9 _ . : -` or given twice.
    pub fn column(self, name: &str) -> Result<Self> {
        self.with(name, None)
    }

    /// Encrypts column `name` and keeps its blind index in `NAME_bidx`, so equality on it
    /// works through the index (see [`BlindIndex`] for what that leaks).
    ///
    /// # Errors
    /// As [`column`](Self::column).
    pub fn searchable(self, name: &str, index: Arc<BlindIndex>) -> Result<Self> {
        self.with(name, Some(index))
    }

    fn with(mut self, name: &str, index: Option<Arc<BlindIndex>>) -> Result<Self> {
        crate::context::check_name(name)?;
        if self.role(name).is_some() {
            return Err(CryptError::context(name, "named twice"));
        }
        self.columns.push(ColumnSpec {
            name: name.to_owned(),
            index: index.map(|i| (i, format!("{name}_bidx"))),
        });
        Ok(self)
    }

    /// The table.
    #[must_use]
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The encrypted columns, each with its blind index column if it has one.
    pub fn encrypted(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.columns.iter().map(|spec| {
            (
                spec.name.as_str(),
                spec.index.as_ref().map(|(_, c)| c.as_str()),
            )
        })
    }

    /// What `column` is, if it is encrypted or a blind index (names compared ASCII
    /// case-insensitively, as SQL compares unquoted names).
    #[must_use]
    pub fn role(&self, column: &str) -> Option<ColumnRole<'_>> {
        self.columns.iter().find_map(|spec| {
            if spec.name.eq_ignore_ascii_case(column) {
                Some(ColumnRole::Encrypted)
            } else {
                spec.index
                    .as_ref()
                    .filter(|(_, field)| field.eq_ignore_ascii_case(column))
                    .map(|_| ColumnRole::BlindIndexOf(spec.name.as_str()))
            }
        })
    }

    fn spec(&self, column: &str) -> Result<&ColumnSpec> {
        self.columns
            .iter()
            .find(|spec| spec.name.eq_ignore_ascii_case(column))
            .ok_or_else(|| CryptError::FieldNotSearchable {
                field: crate::context::printable_name(column),
                problem: "used: it is not an encrypted column",
            })
    }

    fn domain(&self, column: &str) -> Result<Context> {
        Context::new()
            .with("tenant", self.tenant.as_str())?
            .with("table", self.table.as_str())?
            .with("field", column)
    }

    /// `value` encrypted for `column` of the row `row_id` under `scope`'s data key, as text.
    ///
    /// # Errors
    /// Any error of [`Envelope::encrypt`], or a column that is not encrypted.
    pub async fn seal(
        &self,
        scope: &KeyScope,
        column: &str,
        row_id: &str,
        value: &[u8],
    ) -> Result<String> {
        let spec = self.spec(column)?;
        let context = self.domain(&spec.name)?.with("id", row_id)?;
        Ok(self
            .envelope
            .encrypt(scope, &context, value)
            .await?
            .to_text())
    }

    /// The blind index of `value` for encrypted `column`.
    ///
    /// # Errors
    /// [`CryptError::FieldNotSearchable`] when the column has no blind index.
    pub fn blind(&self, column: &str, value: &[u8]) -> Result<Vec<u8>> {
        let spec = self.spec(column)?;
        let (index, _) = spec
            .index
            .as_ref()
            .ok_or_else(|| CryptError::FieldNotSearchable {
                field: spec.name.clone(),
                problem: "searched: it has no blind index",
            })?;
        Ok(index.compute(&self.domain(&spec.name)?, value))
    }

    /// Decrypts the text `text` read from `column` of the row `row_id`.
    ///
    /// # Errors
    /// [`CryptError::Malformed`] when it is not a ciphertext; any error of
    /// [`Envelope::decrypt`].
    pub async fn open(&self, column: &str, row_id: &str, text: &str) -> Result<Decrypted> {
        let spec = self.spec(column)?;
        let context = self.domain(&spec.name)?.with("id", row_id)?;
        self.envelope
            .decrypt(&context, &Ciphertext::from_text(text)?)
            .await
    }
}

impl fmt::Debug for EncryptedColumns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedColumns")
            .field("table", &self.table)
            .field(
                "columns",
                &self
                    .columns
                    .iter()
                    .map(|c| (&c.name, c.index.is_some()))
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}
