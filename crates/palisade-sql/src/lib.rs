#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod allow_list;
mod constant;
mod dialect;
mod fingerprint;
mod guard;
mod ident;
#[cfg(feature = "sqlx")]
mod run;
mod sort;

/// The `sqlparser` this crate parses with, at the version whose types [`Checked::statement`]
/// returns: name it through this path so the two always agree.
pub use sqlparser;

pub use allow_list::{AllowList, AllowListError};
pub use dialect::{Dialect, LengthUnit};
pub use fingerprint::{Fingerprint, fingerprint};
pub use guard::{Checked, Params, Rule, SqlGuard, SqlPolicy, StatementKind, Violation};
pub use ident::{Ident, IdentError, QualifiedName};
#[cfg(feature = "sqlx")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlx")))]
pub use run::{
    AsUser, AsUserQuery, Driver, Excess, Expect, GuardedQuery, GuardedSql, PrivilegeReport,
    QueryError, RowStream, SqlServerError, USER_SETTING, VerifyError, VerifyPrivileges,
    verify_privileges,
};
#[cfg(feature = "crypt")]
pub use run::{EncryptedQuery, Reencrypted, SqlKeyStore, reencrypt_rows};
pub use sort::{Direction, SortError, SortKey, SortKeys};
