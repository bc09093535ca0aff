//! `fingerprint` (R-SQL-4): a statement's shape, literals out, lists collapsed, comments and
//! whitespace gone, with nothing that tells two different queries apart removed.

mod shape;

use std::fmt;

use sha2::{Digest as _, Sha256};
use sqlparser::tokenizer::TokenWithSpan;

use crate::Dialect;
use crate::guard::{Violation, tokenize};

/// A statement's shape: the normalized text and a stable 64-bit id of it.
///
/// Literals and placeholders become `?`, `IN` lists of values and `VALUES` rows collapse to
/// one, comments and whitespace are gone, structural keywords are upper-case. Everything else
/// stays: table and schema names, aliases, numbers inside names (`orders_2024_01`), column
/// order, and whether a comparison of constants is true or false (`a = 1 OR 1 = 1` is
/// `a = ? OR true`, `a = 1 OR 2 = 3` is `a = ? OR false`), so an allow-list never admits a
/// tautology for the contradiction it learned. The text is never truncated.
///
/// ```
/// use palisade_sql::{Dialect, fingerprint};
///
/// let a = fingerprint("SELECT * FROM t WHERE id IN (1, 2, 3) -- first", Dialect::Postgres)?;
/// let b = fingerprint("select *  from t where id in (7)", Dialect::Postgres)?;
/// assert_eq!(a, b);
/// assert_eq!(a.text(), "SELECT * FROM t WHERE id IN (?)");
///
/// let tautology = fingerprint("SELECT * FROM t WHERE a = 1 OR 1 = 1", Dialect::Postgres)?;
/// let contradiction = fingerprint("SELECT * FROM t WHERE a = 1 OR 2 = 3", Dialect::Postgres)?;
/// assert_ne!(tautology, contradiction);
/// # Ok::<(), palisade_sql::Violation>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint {
    id: u64,
    text: String,
}

impl Fingerprint {
    /// The shape of the one statement in `tokens`.
    pub(crate) fn from_tokens(
        tokens: &[TokenWithSpan],
        dialect: Dialect,
    ) -> Result<Self, Violation> {
        Ok(Self::from_text(shape::shape(tokens, dialect)?))
    }

    pub(crate) fn from_text(text: String) -> Self {
        let digest = Sha256::digest(text.as_bytes());
        let mut first = [0_u8; 8];
        first.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
        Self {
            id: u64::from_be_bytes(first),
            text,
        }
    }

    /// The first 64 bits of the SHA-256 of the text: for logs and lookups. Allow-lists
    /// compare the text, since 64 bits can be made to collide.
    #[must_use]
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The id as 16 hex digits.
    #[must_use]
    pub fn id_hex(&self) -> String {
        format!("{:016x}", self.id)
    }

    /// The normalized text.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Fingerprint {
    /// `id text`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id_hex(), self.text)
    }
}

/// The fingerprint of one statement of `dialect`, read from the dialect's tokens (no parse:
/// a fingerprint costs one tokenizer pass). Comments are allowed (they are dropped).
///
/// A text the parser would refuse still has a shape: [`SqlGuard`](crate::SqlGuard) refuses it
/// before its shape is looked up.
///
/// # Errors
/// [`Violation`] when the text does not tokenize (`unparsable`), holds a second statement
/// (`multiple-statements`), nothing (`empty`), or more than 256 KiB (`too-long`).
pub fn fingerprint(sql: &str, dialect: Dialect) -> Result<Fingerprint, Violation> {
    Fingerprint::from_tokens(&tokenize(sql, dialect)?, dialect)
}
