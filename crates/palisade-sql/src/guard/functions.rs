//! Which functions the guard refuses, by the name the server resolves: functions that sleep,
//! run SQL text, read tables by name, touch files, reach other servers or signal the server
//! (refused whatever the policy), functions with side effects (writes: refused on a
//! read-only policy), and size arguments that turn a cheap function into a time probe.
//!
//! Names are compared lower-case whether or not they were quoted, and both as the last part
//! (`pg_catalog.pg_sleep` is `pg_sleep`) and whole (`dbms_lock.sleep`): a quoted spelling that
//! names no function on the server is refused too, which costs nothing.

use sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Value};

/// Refused in every dialect and policy, by exact name.
const DANGEROUS: &[&str] = &[
    // Sleeps and waits.
    "sleep",
    "pg_sleep",
    "pg_sleep_for",
    "pg_sleep_until",
    "benchmark",
    "dbms_lock.sleep",
    "dbms_pipe.receive_message",
    "master_pos_wait",
    "source_pos_wait",
    "master_gtid_wait",
    "wait_for_executed_gtid_set",
    "wait_until_sql_thread_after_gtids",
    // Run SQL text given as a value, or read a table or schema named by a value.
    "query_to_xml",
    "query_to_xml_and_xmlschema",
    "query_to_xmlschema",
    "cursor_to_xml",
    "cursor_to_xmlschema",
    "table_to_xml",
    "table_to_xml_and_xmlschema",
    "table_to_xmlschema",
    "schema_to_xml",
    "schema_to_xml_and_xmlschema",
    "schema_to_xmlschema",
    "database_to_xml",
    "database_to_xml_and_xmlschema",
    "database_to_xmlschema",
    "ts_stat",
    "ts_rewrite",
    "sp_executesql",
    "openquery",
    // Files and large objects.
    "load_file",
    "pg_read_file",
    "pg_read_file_old",
    "pg_read_binary_file",
    "pg_stat_file",
    "pg_current_logfile",
    "pg_logdir_ls",
    "loread",
    "lowrite",
    "readfile",
    "writefile",
    "edit",
    "load_extension",
    "fts3_tokenizer",
    "openrowset",
    "opendatasource",
    "fn_xe_file_target_read_file",
    "fn_get_audit_file",
    "fn_trace_gettable",
    "sys_exec",
    "sys_eval",
    // Server administration and signals.
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_rotate_logfile_old",
    "pg_promote",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_log_backend_memory_contexts",
    "pg_import_system_collations",
    "pg_export_snapshot",
    "pg_logical_emit_message",
    "pg_replication_slot_advance",
];

/// Refused in every dialect and policy, by prefix: families whose every member is one of the
/// classes above (`pg_ls_dir`, `pg_ls_waldir`, ...; `lo_import`, `lo_get`, ...; `dblink_exec`).
const DANGEROUS_PREFIXES: &[&str] = &[
    "pg_ls_",
    "pg_file_",
    "pg_backup_",
    "pg_stat_reset",
    "pg_create_logical_replication_slot",
    "pg_create_physical_replication_slot",
    "pg_copy_logical_replication_slot",
    "pg_copy_physical_replication_slot",
    "pg_drop_replication_slot",
    "pg_logical_slot_",
    "lo_",
    "dblink",
    "xp_",
    "sp_oa",
];

/// Functions that change state (sequences, session settings, locks, notifications): writes,
/// refused by a policy that does not admit writes.
const SIDE_EFFECTS: &[&str] = &[
    "setval",
    "nextval",
    "set_config",
    "pg_notify",
    "get_lock",
    "release_lock",
    "release_all_locks",
];

/// Side effects by prefix: PostgreSQL's advisory locks.
const SIDE_EFFECT_PREFIXES: &[&str] = &["pg_advisory_", "pg_try_advisory_"];

/// Functions whose numeric argument sets how much work they do: a literal past
/// [`MAX_WORK_ARGUMENT`] makes them a time probe (`generate_series(1, 1e9)`,
/// `randomblob(500000000)`, `repeat('a', 1e9)`).
const SIZED: &[&str] = &[
    "generate_series",
    "randomblob",
    "zeroblob",
    "repeat",
    "replicate",
    "rpad",
    "lpad",
    "space",
];

/// The largest literal a sized function may take: ten million rows or bytes.
const MAX_WORK_ARGUMENT: f64 = 10_000_000.0;

/// What the guard makes of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    /// Refused whatever the policy.
    Dangerous,
    /// A write.
    SideEffect,
    /// Neither.
    Plain,
}

/// The class of the function named by `parts` (lower-case name parts).
pub(crate) fn classify(parts: &[String]) -> Call {
    let last = parts.last().map_or("", String::as_str);
    let whole = parts.join(".");
    let named = |names: &[&str]| names.contains(&last) || names.contains(&whole.as_str());
    let prefixed = |prefixes: &[&str]| prefixes.iter().any(|p| last.starts_with(p));
    if named(DANGEROUS) || prefixed(DANGEROUS_PREFIXES) {
        Call::Dangerous
    } else if named(SIDE_EFFECTS) || prefixed(SIDE_EFFECT_PREFIXES) {
        Call::SideEffect
    } else {
        Call::Plain
    }
}

/// Whether a call of the function named `last` with `args` asks for more work than
/// [`MAX_WORK_ARGUMENT`].
pub(crate) fn oversized(last: &str, args: &[FunctionArg]) -> bool {
    SIZED.contains(&last)
        && args.iter().any(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e))
            | FunctionArg::Named {
                arg: FunctionArgExpr::Expr(e),
                ..
            } => number(e).is_some_and(|n| n.abs() > MAX_WORK_ARGUMENT),
            _ => false,
        })
}

/// The arguments of a call in an expression.
pub(crate) fn arguments(args: &FunctionArguments) -> &[FunctionArg] {
    match args {
        FunctionArguments::List(list) => &list.args,
        FunctionArguments::None | FunctionArguments::Subquery(_) => &[],
    }
}

/// A numeric literal, signed or bracketed.
fn number(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        Expr::Nested(inner)
        | Expr::UnaryOp { expr: inner, .. }
        | Expr::Cast { expr: inner, .. } => number(inner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(name: &str) -> Call {
        classify(&name.split('.').map(str::to_owned).collect::<Vec<_>>())
    }

    #[test]
    fn names_prefixes_and_qualified_names_classify() {
        assert_eq!(class("pg_catalog.pg_sleep"), Call::Dangerous);
        assert_eq!(class("dbms_lock.sleep"), Call::Dangerous);
        assert_eq!(class("pg_ls_waldir"), Call::Dangerous);
        assert_eq!(class("dblink_exec"), Call::Dangerous);
        assert_eq!(class("pg_try_advisory_xact_lock"), Call::SideEffect);
        assert_eq!(class("nextval"), Call::SideEffect);
        assert_eq!(class("lower"), Call::Plain);
        assert_eq!(class("log"), Call::Plain);
        assert_eq!(class("pg_stat_get_db_stat_reset_time"), Call::Plain);
    }
}
