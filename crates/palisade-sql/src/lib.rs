#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod dialect;
mod guard;
mod ident;
mod sort;

pub use dialect::{Dialect, LengthUnit};
pub use guard::{Checked, Params, Rule, SqlGuard, SqlPolicy, StatementKind, Violation};
pub use ident::{Ident, IdentError, QualifiedName};
pub use sort::{Direction, SortError, SortKey, SortKeys};
