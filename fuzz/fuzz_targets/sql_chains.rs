//! Structure-aware totality for `SqlGuard::check` and `fingerprint`: the fuzzer picks the
//! pieces (a binary operator, a nesting form, repeat counts up to the 256 KiB cap) and this
//! target builds long chains of every binary operator, nested parentheses, `CASE`, `IN`
//! lists, subqueries, set operations and casts out of them. Every input must get a verdict
//! on a thread with a 2 MiB stack (tokio's workers), in every dialect; a stack overflow
//! aborts the run.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use palisade_sql::{Dialect, Params, SqlGuard, SqlPolicy, fingerprint};

const OPERATORS: &[&str] = &[
    "+", "-", "*", "/", "%", "||", "=", "<>", "!=", "<", ">", "<=", ">=", " AND ", " OR ",
    " XOR ", "&", "|", "^", "<<", ">>", "::int+", " IS ", " LIKE ", " DIV ", " MOD ", "->",
    "->>", "#>", "@>", " COLLATE C ||", " BETWEEN a AND ", " IN (1) OR ", " && ", " UNION ",
    " UNION ALL SELECT ", " EXCEPT SELECT ",
];

const OPENERS: &[(&str, &str)] = &[
    ("(", ")"),
    ("CASE WHEN a THEN ", " END"),
    ("a IN (", ")"),
    ("(SELECT ", ")"),
    ("(SELECT a FROM t WHERE ", ")"),
    ("EXISTS (SELECT ", ")"),
    ("f(", ")"),
    ("NOT ", ""),
    ("-", ""),
    ("ARRAY[", "]"),
];

const CAP: usize = 256 * 1024;

fn build(u: &mut Unstructured<'_>) -> Result<String> {
    let mut sql = String::from(*u.choose(&["SELECT ", "SELECT a FROM t WHERE ", "INSERT INTO t VALUES ("])?);
    let pieces = u.int_in_range(1..=4)?;
    for _ in 0..pieces {
        let (open, close) = *u.choose(OPENERS)?;
        let depth = u.int_in_range(0..=3000_usize)?;
        let op = *u.choose(OPERATORS)?;
        let chain = u.int_in_range(0..=60_000_usize)?;
        let operand = *u.choose(&["a", "1", "'x'", "NULL", ":p", "$1", "?"])?;
        let room = CAP.saturating_sub(sql.len());
        let unit = open.len() + close.len();
        let depth = if unit == 0 { depth } else { depth.min(room / 2 / unit) };
        sql.push_str(&open.repeat(depth));
        let per = op.len() + operand.len();
        let chain = chain.min(CAP.saturating_sub(sql.len() + depth * close.len()) / per.max(1));
        sql.push_str(operand);
        for _ in 0..chain {
            sql.push_str(op);
            sql.push_str(operand);
        }
        sql.push_str(&close.repeat(depth));
        if sql.len() >= CAP {
            break;
        }
        sql.push_str(*u.choose(&[" AND ", ", ", " OR ", " + "])?);
    }
    Ok(sql)
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(sql) = build(&mut u) else { return };
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            for dialect in Dialect::ALL {
                let guard = SqlGuard::new(
                    SqlPolicy::read_write(dialect)
                        .allow_literals()
                        .with_recursion_limit(SqlPolicy::MAX_RECURSION_LIMIT),
                );
                if let Ok(checked) = guard.check(&sql, &Params::none()) {
                    let copy = checked.clone();
                    assert!(copy == checked);
                    let _ = checked.statement().to_string();
                }
                let _ = fingerprint(&sql, dialect);
            }
        })
        .expect("a thread")
        .join()
        .expect("no panic");
});
