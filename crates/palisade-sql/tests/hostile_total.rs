//! Class 1 of the hostile-SQL suite: the guard and the fingerprint are total. Any input under
//! the size cap gets a verdict in bounded time and memory, on a thread with the 2 MiB stack
//! that tokio's workers and `std::thread::spawn` give, in every dialect.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

use palisade_sql::{Dialect, Params, Rule, SqlGuard, SqlPolicy, fingerprint};

/// Runs `f` on a thread with a 2 MiB stack, as tokio's worker threads have.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

fn chain(head: &str, item: &str, sep: &str, n: usize, tail: &str) -> String {
    let mut s = String::from(head);
    for i in 0..n {
        if i > 0 {
            s.push_str(sep);
        }
        s.push_str(item);
    }
    s.push_str(tail);
    s
}

/// Every binary operator, as a chain long enough to overflow a naive walk.
const OPERATORS: &[&str] = &[
    "+",
    "-",
    "*",
    "/",
    "%",
    "||",
    "=",
    "<>",
    "<",
    ">",
    "<=",
    ">=",
    " AND ",
    " OR ",
    " & ",
    " | ",
    " ^ ",
    " << ",
    " >> ",
    "::int+",
    " IS NOT NULL AND ",
    " LIKE ",
    " DIV ",
    " XOR ",
    "->",
    "->>",
    " COLLATE \"C\" || ",
];

fn hostile_inputs(n: usize) -> Vec<String> {
    let mut inputs: Vec<String> = OPERATORS
        .iter()
        .map(|op| chain("SELECT a FROM t WHERE ", "a", op, n, ""))
        .collect();
    inputs.extend([
        chain("SELECT ", "1", "+", n, ""),
        chain("SELECT a FROM t WHERE a = 1 OR ", "1=1", " OR ", n, ""),
        chain("SELECT ", "(", "", n, &chain("1", ")", "", n, "")),
        chain(
            "SELECT ",
            "CASE WHEN a THEN ",
            "",
            n,
            &chain("1", " END", "", n, ""),
        ),
        chain("SELECT a FROM t WHERE a IN (", "1", ",", n, ")"),
        chain(
            "SELECT a FROM t WHERE a IN (",
            "SELECT a FROM t WHERE a IN (",
            "",
            n,
            &")".repeat(n),
        ),
        chain("", "SELECT 1", " UNION ALL ", n, ""),
        chain("SELECT ", "NOT ", "", n, "1"),
        chain("SELECT ", "-", " ", n, "1"),
        chain("SELECT a", "::int", "", n, " FROM t"),
        chain("SELECT a", "[1]", "", n, " FROM t"),
        chain("INSERT INTO t (a) VALUES ", "(1)", ",", n, ""),
        chain("SELECT * FROM t", " JOIN t ON a = b", "", n, ""),
        chain("SELECT ", "a.", "", n, "b FROM t"),
        chain("SELECT ", "f(", "", n, &")".repeat(n)),
        chain(
            "SELECT * FROM ",
            "(SELECT * FROM ",
            "",
            n,
            &chain("t", ") x", "", n, ""),
        ),
    ]);
    inputs
}

#[test]
fn long_chains_and_deep_nesting_get_a_verdict_not_a_crash() {
    for dialect in Dialect::ALL {
        for n in [10, 199, 499, 1_000, 20_000] {
            for sql in hostile_inputs(n) {
                on_small_stack(move || {
                    let widest = SqlPolicy::read_only(dialect)
                        .allow_literals()
                        .with_recursion_limit(SqlPolicy::MAX_RECURSION_LIMIT);
                    let guard = SqlGuard::new(widest);
                    let verdict = guard.check(&sql, &Params::none());
                    if let Ok(checked) = verdict {
                        // What a caller may do with what it got back.
                        let copy = checked.clone();
                        assert_eq!(copy, checked);
                        let _ = format!("{:?}", checked.statement()).len();
                        let _ = checked.statement().to_string().len();
                    }
                    let _ = fingerprint(&sql, dialect);
                });
            }
        }
    }
}

#[test]
fn a_chain_past_the_depth_budget_is_too_deep() {
    let guard = SqlGuard::new(SqlPolicy::read_only(Dialect::Postgres).allow_literals());
    let sql = chain("SELECT ", "1", "+", 20_000, "");
    let refused = on_small_stack(move || guard.check(&sql, &Params::none()).unwrap_err());
    assert_eq!(refused.rule(), Rule::TooDeep);
}

#[test]
fn a_huge_positional_count_is_a_verdict() {
    let guard = SqlGuard::new(SqlPolicy::read_only(Dialect::Postgres));
    let refused = guard
        .check(
            "SELECT a FROM t WHERE a = $1",
            &Params::positional(usize::MAX),
        )
        .unwrap_err();
    assert_eq!(refused.rule(), Rule::ParameterUnused);
    let refused = guard
        .check(
            "SELECT a FROM t WHERE a = $18446744073709551615",
            &Params::positional(usize::MAX),
        )
        .unwrap_err();
    assert_eq!(refused.rule(), Rule::ParameterUnused);
}
