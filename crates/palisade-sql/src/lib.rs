#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod allow_list;
mod constant;
mod dialect;
mod fingerprint;
mod guard;
mod ident;
mod sort;

pub use allow_list::{AllowList, AllowListError};
pub use dialect::{Dialect, LengthUnit};
pub use fingerprint::{Fingerprint, fingerprint};
pub use guard::{Checked, Params, Rule, SqlGuard, SqlPolicy, StatementKind, Violation};
pub use ident::{Ident, IdentError, QualifiedName};
pub use sort::{Direction, SortError, SortKey, SortKeys};
