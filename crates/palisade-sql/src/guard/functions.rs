//! Which functions the guard refuses, by the name the server resolves: functions that sleep,
//! run SQL text, read tables by name, touch files, reach other servers or signal the server
//! (refused whatever the policy), functions with side effects (writes: refused on a
//! read-only policy), and size arguments that turn a cheap function into a time probe.
//!
//! Names are compared lower-case whether or not they were quoted, and both as the last part
//! (`pg_catalog.pg_sleep` is `pg_sleep`) and whole (`dbms_lock.sleep`): a quoted spelling that
//! names no function on the server is refused too, which costs nothing.

use sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, FunctionArguments};

use crate::constant::number;

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
    // Session settings: `set_config` changes the acting user row-level security reads
    // (`app.user_id`), the role (`role`, `session_authorization`), `search_path` and the
    // client encoding for every later statement on the connection, pooled ones included.
    "set_config",
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
    "pg_stat_statements_reset",
    "pg_log_standby_snapshot",
    "pg_prewarm",
    "pg_start_backup",
    "pg_stop_backup",
    // Raw pages of any table by name (pageinspect).
    "get_raw_page",
    "heap_page_items",
    "heap_page_item_attrs",
    "bt_page_items",
    "page_header",
    // MySQL's XML functions and NAME_CONST: error-based extraction is their use in SQL text.
    "extractvalue",
    "updatexml",
    "name_const",
    // Upgrade and bootstrap internals.
    "pg_nextoid",
    "pg_stop_making_pinned_objects",
    "pg_extension_config_dump",
    // SQL Server's password hashing.
    "pwdencrypt",
    "pwdcompare",
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
    "pg_replication_origin_",
    "pg_wal_replay_",
    "binary_upgrade_",
    "lo_",
    "dblink",
    "xp_",
    "sp_oa",
];

/// Functions that change state (sequences, locks, notifications): writes,
/// refused by a policy that does not admit writes.
const SIDE_EFFECTS: &[&str] = &[
    "setval",
    "nextval",
    "pg_notify",
    "get_lock",
    "release_lock",
    "release_all_locks",
    "txid_current",
    "pg_current_xact_id",
    "pg_stat_clear_snapshot",
    "pg_stat_force_next_flush",
    "setseed",
    "brin_summarize_new_values",
    "brin_summarize_range",
    "brin_desummarize_range",
    "gin_clean_pending_list",
];

/// Side effects by prefix: PostgreSQL's advisory locks.
const SIDE_EFFECT_PREFIXES: &[&str] = &["pg_advisory_", "pg_try_advisory_"];

/// Functions that read the catalog, the server's configuration or other sessions: catalog
/// reads, refused unless the policy admits the catalog.
const CATALOG: &[&str] = &[
    // PostgreSQL.
    "current_setting",
    "pg_hba_file_rules",
    "pg_ident_file_mappings",
    "pg_config",
    "pg_lock_status",
    "pg_prepared_statement",
    "pg_prepared_xact",
    "pg_cursor",
    "pg_show_all_settings",
    "pg_show_all_file_settings",
    "pg_relation_filepath",
    "pg_relation_filenode",
    "pg_filenode_relation",
    "pg_database_size",
    "pg_tablespace_location",
    "pg_tablespace_size",
    "pg_postmaster_start_time",
    "pg_conf_load_time",
    "pg_has_role",
    "obj_description",
    "col_description",
    "shobj_description",
    "inet_server_addr",
    "inet_server_port",
    "inet_client_addr",
    "inet_client_port",
    "current_query",
    "pg_blocking_pids",
    "pg_safe_snapshot_blocking_pids",
    "pg_isolation_test_session_is_blocked",
    "pg_collation_actual_version",
    "pg_database_collation_actual_version",
    "pg_indexes_size",
    "pg_table_size",
    "pg_total_relation_size",
    "pg_relation_size",
    "pg_sequence_last_value",
    "pg_notification_queue_usage",
    "pg_jit_available",
    "pg_stat_have_stats",
    "pg_settings_get_flags",
    "pg_listening_channels",
    "txid_status",
    "txid_current_snapshot",
    "pg_current_snapshot",
    "currtid2",
    "amvalidate",
    "plpgsql_validator",
    "regclass",
    "regproc",
    "regprocedure",
    "regoper",
    "regoperator",
    "regtype",
    "regrole",
    "regnamespace",
    "regconfig",
    "regdictionary",
    "regcollation",
    "version",
    // MySQL and MariaDB.
    "database",
    "schema",
    "user",
    "system_user",
    "session_user",
    "connection_id",
    "current_role",
    "roles_graphml",
    "icu_version",
    "ps_current_thread_id",
    "ps_thread_id",
    "binlog_gtid_pos",
    "wsrep_last_seen_gtid",
    "wsrep_last_written_gtid",
    // SQL Server.
    "object_definition",
    "object_name",
    "object_schema_name",
    "col_name",
    "fn_my_permissions",
    "fn_virtualfilestats",
    "fn_servershareddrives",
    "is_srvrolemember",
    "is_member",
    "has_perms_by_name",
    "serverproperty",
    "db_name",
    "host_name",
    "suser_name",
    "suser_sname",
    "suser_id",
    "user_id",
    "user_name",
    "original_login",
    "app_name",
    "context_info",
    "session_context",
    "object_id",
    "has_dbaccess",
    // SQLite.
    "sqlite_version",
    "sqlite_source_id",
    "sqlite_compileoption_get",
    "sqlite_compileoption_used",
];

/// Catalog reads by prefix: PostgreSQL's statistics, definitions, control data and object
/// lookups (`pg_stat_get_activity` shows other sessions' queries, `pg_get_viewdef` a view's
/// text, `to_regclass` whether a table exists).
const CATALOG_PREFIXES: &[&str] = &[
    "pg_stat_get_",
    "pg_get_",
    "pg_control_",
    "pg_describe_",
    "pg_identify_",
    "pg_show_",
    "pg_last_",
    "pg_is_",
    "pg_current_wal_",
    "pg_partition_",
    "pg_available_",
    "pg_xact_",
    "to_reg",
];

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
    "array_fill",
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
    /// A read of the catalog or the server's state.
    Catalog,
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
    } else if named(CATALOG)
        || prefixed(CATALOG_PREFIXES)
        || (last.starts_with("has_") && last.ends_with("_privilege"))
    {
        Call::Catalog
    } else {
        Call::Plain
    }
}

/// Whether a call of the function named `last` with `args` asks for more work than
/// [`MAX_WORK_ARGUMENT`]: a size argument written as a number, a string of digits, an array
/// or arithmetic of them (`'1000000000'`, `1000 * 1000 * 1000`, `ARRAY[1e9]`), times the
/// size of a sized call inside (`repeat(repeat('x', 30000), 30000)`).
pub(crate) fn oversized(last: &str, args: &[FunctionArg]) -> bool {
    work(last, args) > MAX_WORK_ARGUMENT
}

/// The work a sized call asks for: its largest size argument, times the work of a sized
/// call in its arguments.
fn work(last: &str, args: &[FunctionArg]) -> f64 {
    if !SIZED.contains(&last) {
        return 0.0;
    }
    let exprs = args.iter().filter_map(|arg| match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(e))
        | FunctionArg::Named {
            arg: FunctionArgExpr::Expr(e),
            ..
        } => Some(e),
        _ => None,
    });
    let mut size: f64 = 1.0;
    let mut inner: f64 = 1.0;
    for expr in exprs {
        if let Some(n) = number(expr) {
            size = size.max(n.abs());
        }
        if let Expr::Function(f) = expr {
            let name = f.name.to_string().to_ascii_lowercase();
            inner = inner.max(work(&name, arguments(&f.args)));
        }
    }
    size * inner
}
/// The arguments of a call in an expression.
pub(crate) fn arguments(args: &FunctionArguments) -> &[FunctionArg] {
    match args {
        FunctionArguments::List(list) => &list.args,
        FunctionArguments::None | FunctionArguments::Subquery(_) => &[],
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
        assert_eq!(class("pg_stat_get_db_stat_reset_time"), Call::Catalog);
        assert_eq!(class("has_table_privilege"), Call::Catalog);
        assert_eq!(class("pg_typeof"), Call::Plain);
    }
}
