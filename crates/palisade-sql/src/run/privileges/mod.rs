//! Live credential checks: what the connected role can really do, asked of the server
//! (PostgreSQL's catalogs, MariaDB's `SHOW GRANTS`), against what it is meant to do.

mod error;
mod grants;
mod mariadb;
mod postgres;

use std::fmt;
use std::future::Future;

use sqlx::{Acquire, Database};

pub use error::VerifyError;

/// What a credential is meant to be able to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expect {
    /// Read, never write: no `INSERT`, `UPDATE`, `DELETE` or `TRUNCATE` on any table, no
    /// table owned, no role attribute or server privilege beyond login.
    ReadOnly,
    /// Write these tables and read any; `TRUNCATE`, ownership and every privilege beyond
    /// row writes are excesses everywhere. A table is named `schema.table` (PostgreSQL) or
    /// `database.table` (MariaDB), or by its bare name for the `public` schema (PostgreSQL)
    /// or the connection's default database (MariaDB).
    ReadWrite {
        /// The tables it may write.
        tables: Vec<String>,
    },
}

impl Expect {
    /// Whether `table` (`schema.table`) may be written; `default_schema` is the schema a
    /// bare name means.
    fn may_write(&self, table: &str, default_schema: Option<&str>) -> bool {
        match self {
            Self::ReadOnly => false,
            Self::ReadWrite { tables } => tables.iter().any(|allowed| {
                allowed == table
                    || default_schema.is_some_and(|schema| {
                        table
                            .strip_prefix(schema)
                            .and_then(|rest| rest.strip_prefix('.'))
                            .is_some_and(|bare| bare == allowed)
                    })
            }),
        }
    }
}

/// One thing the role can do beyond what was expected.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Excess {
    /// The role is a superuser: it ignores every privilege and policy (PostgreSQL).
    Superuser,
    /// The role bypasses row-level security (PostgreSQL).
    BypassRls,
    /// The role can create roles (PostgreSQL).
    CreateRole,
    /// The role can create databases (PostgreSQL).
    CreateDb,
    /// The role can open replication connections and read every change (PostgreSQL).
    Replication,
    /// The session acts as another role than the one that logged in (a `role` setting on
    /// the login or in the DSN): the login can switch back, so its own privileges are what
    /// the check reports (PostgreSQL).
    SessionRole {
        /// The role the session acts as.
        role: String,
    },
    /// The role is a member of a role that has more: attributes (PostgreSQL) or privileges
    /// (MariaDB; those are reported too).
    MemberOfPrivileged {
        /// The role it is a member of.
        role: String,
    },
    /// The role (or a role it belongs to) owns the table: it can alter, drop and disable
    /// its policies (PostgreSQL).
    OwnsTable {
        /// `schema.table`.
        table: String,
    },
    /// The role owns a schema, the database, a function or a large object: it can change or
    /// drop it, and create in it (PostgreSQL).
    Owns {
        /// `schema`, `database`, `function` or `large object`.
        kind: &'static str,
        /// Its name (a function with its argument types).
        name: String,
    },
    /// The role may run a `SECURITY DEFINER` function owned by another role: the function
    /// runs with its owner's privileges, whatever it does (PostgreSQL).
    SecurityDefiner {
        /// The function with its argument types.
        function: String,
    },
    /// The role can write the table (directly or through a role it belongs to).
    TableWrite {
        /// `schema.table` or `database.table`.
        table: String,
        /// `INSERT`, `UPDATE`, `DELETE` or `TRUNCATE`.
        privilege: &'static str,
    },
    /// Every privilege on a scope: `*.*`, `database.*` or `database.table` (MariaDB).
    AllPrivileges {
        /// Where.
        scope: String,
    },
    /// The role can grant its privileges (or a role) to others (MariaDB `WITH GRANT
    /// OPTION`, `WITH ADMIN OPTION`).
    GrantOption {
        /// On what.
        scope: String,
    },
    /// A grant on every database matching a pattern (`%` or an unescaped `_`), which
    /// databases created later match too (MariaDB).
    WildcardDatabase {
        /// The pattern as granted.
        pattern: String,
    },
    /// Part of what the role can do could not be read (a grant line in no form the server
    /// writes, a role that cannot be entered, more roles than the check follows): counted
    /// as an excess, never passed over.
    Unchecked {
        /// What could not be read.
        reason: String,
    },
    /// Any other privilege beyond reading: `SUPER`, `FILE`, `PROCESS`, `CREATE`, `DROP`,
    /// `ALTER`, `EXECUTE`, ... (MariaDB), or a row write granted server-wide, which reaches
    /// the system tables.
    Privilege {
        /// The privilege as the server names it.
        privilege: String,
        /// `*.*`, `database.*`, `database.table` or a routine.
        scope: String,
    },
}

impl fmt::Display for Excess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Superuser => f.write_str("the role is a superuser"),
            Self::BypassRls => f.write_str("the role bypasses row-level security (BYPASSRLS)"),
            Self::CreateRole => f.write_str("the role can create roles (CREATEROLE)"),
            Self::CreateDb => f.write_str("the role can create databases (CREATEDB)"),
            Self::Replication => f.write_str("the role can replicate the server (REPLICATION)"),
            Self::SessionRole { role } => write!(
                f,
                "the session acts as {role}, but the login can switch back to its own role"
            ),
            Self::Owns { kind, name } => write!(f, "the role owns {kind} {name}"),
            Self::SecurityDefiner { function } => write!(
                f,
                "the role can run {function} with its owner's privileges (SECURITY DEFINER)"
            ),
            Self::Unchecked { reason } => write!(f, "not checked: {reason}"),
            Self::MemberOfPrivileged { role } => {
                write!(f, "the role is a member of {role}, which has more")
            }
            Self::OwnsTable { table } => write!(f, "the role owns {table}"),
            Self::TableWrite { table, privilege } => {
                write!(f, "the role has {privilege} on {table}")
            }
            Self::AllPrivileges { scope } => write!(f, "the role has ALL PRIVILEGES on {scope}"),
            Self::GrantOption { scope } => write!(f, "the role can grant {scope} to others"),
            Self::WildcardDatabase { pattern } => {
                write!(
                    f,
                    "the role has a grant on every database matching {pattern}"
                )
            }
            Self::Privilege { privilege, scope } => {
                write!(f, "the role has {privilege} on {scope}")
            }
        }
    }
}

/// What the server says the connected role can do, against what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PrivilegeReport {
    /// The connected role (`user@host` on MariaDB).
    pub role: String,
    /// Everything beyond what was expected, sorted, each once; empty when the credential is
    /// exactly what was expected.
    pub excesses: Vec<Excess>,
    /// The TLS cipher of this session, `None` when it is not encrypted.
    pub tls_cipher: Option<String>,
    /// The effective `search_path` (PostgreSQL) or default database (MariaDB; empty when
    /// none).
    pub search_path: String,
    /// Other databases the role may connect to, whose objects this check (connected to one
    /// database) cannot see (PostgreSQL; check each with a DSN naming it).
    pub unchecked_databases: Vec<String>,
}

impl PrivilegeReport {
    fn new(
        role: String,
        mut excesses: Vec<Excess>,
        tls_cipher: Option<String>,
        search_path: String,
    ) -> Self {
        excesses.sort();
        excesses.dedup();
        Self {
            role,
            excesses,
            tls_cipher: tls_cipher.filter(|cipher| !cipher.is_empty()),
            search_path,
            unchecked_databases: Vec::new(),
        }
    }
}

/// A database whose privileges [`verify_privileges`] can read: `sqlx::Postgres` and
/// `sqlx::MySql` (MariaDB). Sealed.
pub trait VerifyPrivileges: Database + sealed::Sealed {
    /// Reads the privileges of the role `conn` is logged in as.
    #[doc(hidden)]
    fn verify(
        conn: &mut Self::Connection,
        expect: &Expect,
    ) -> impl Future<Output = Result<PrivilegeReport, VerifyError>> + Send;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for sqlx::Postgres {}
    impl Sealed for sqlx::MySql {}
}

/// Asks the server what the role `source` is logged in as can do and reports every excess over
/// `expect`, with the session's TLS cipher and search path.
///
/// - PostgreSQL, for the login role (`session_user`) and every role it may `SET ROLE` to:
///   attributes (`rolsuper`, `rolbypassrls`, `rolcreaterole`, `rolcreatedb`,
///   `rolreplication`), memberships in roles that have them and in the predefined `pg_*`
///   roles, owned tables, views, sequences, schemas, functions, large objects and the
///   database, row writes (column grants included) and grant options on every relation,
///   sequence use, `CREATE` on schemas and the database, `SECURITY DEFINER` functions it may
///   run, default privileges that give it tables created later, `pg_stat_ssl` and
///   `search_path`; the other databases it may connect to are listed, not checked.
/// - MariaDB: `SHOW GRANTS` for the user, `PUBLIC` and every role it may `SET ROLE` to
///   (entered in turn, then the session's role restored): server-wide privileges, `ALL
///   PRIVILEGES`, `GRANT OPTION`, wildcard databases, reads and writes of the system
///   databases, database-wide row writes, row writes on each table a grant reaches,
///   `Ssl_cipher` and the default database.
///
/// # Errors
/// [`VerifyError`] naming what failed: the server unreachable, the login refused, the
/// catalogs or grants unreadable; the server's message is never shown.
///
/// `source` is a pool (`&pool`), a connection (`&mut conn`: one login, no retries, so a
/// refused login or an unreachable server answers at once) or a transaction.
pub async fn verify_privileges<'c, A>(
    source: A,
    expect: &Expect,
) -> Result<PrivilegeReport, VerifyError>
where
    A: Acquire<'c>,
    A::Database: VerifyPrivileges,
{
    let mut conn = source.acquire().await?;
    <A::Database as VerifyPrivileges>::verify(&mut conn, expect)
        .await
        .map_err(VerifyError::after_login)
}
