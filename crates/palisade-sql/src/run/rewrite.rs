//! Named placeholders rewritten to the driver's own: `$1, $2, ...` for PostgreSQL (one number
//! per name), `?` for MySQL (one per occurrence, so a name used twice is bound twice).

use sqlparser::tokenizer::Location;

use crate::Dialect;

/// The statement as the driver takes it, and the parameter names in argument order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Rewritten<'a> {
    pub(crate) sql: String,
    pub(crate) arguments: Vec<&'a str>,
}

/// Rewrites each placeholder of `sql` (text and start, as the guard found them) for
/// `dialect`'s driver. `None` when a placeholder is not where the guard said, which would be
/// a bug: the statement is then not run.
pub(crate) fn rewrite<'a>(
    sql: &str,
    dialect: Dialect,
    placeholders: impl IntoIterator<Item = (&'a str, Location)>,
) -> Option<Rewritten<'a>> {
    let mut found: Vec<(usize, &'a str)> = placeholders
        .into_iter()
        .map(|(text, at)| Some((byte_offset(sql, at)?, text)))
        .collect::<Option<_>>()?;
    found.sort_unstable_by_key(|(offset, _)| *offset);
    let mut out = String::with_capacity(sql.len() + 8);
    let mut arguments: Vec<&'a str> = Vec::with_capacity(found.len());
    let mut copied = 0;
    for (offset, text) in found {
        let name = text.get(1..)?;
        out.push_str(sql.get(copied..offset)?);
        if !sql.get(offset..)?.starts_with(text) {
            return None;
        }
        match dialect {
            Dialect::Postgres => {
                let number = match arguments.iter().position(|n| *n == name) {
                    Some(index) => index + 1,
                    None => {
                        arguments.push(name);
                        arguments.len()
                    }
                };
                out.push('$');
                out.push_str(&number.to_string());
            }
            _ => {
                arguments.push(name);
                out.push('?');
            }
        }
        copied = offset + text.len();
    }
    out.push_str(sql.get(copied..)?);
    Some(Rewritten {
        sql: out,
        arguments,
    })
}

/// The byte offset of a 1-based line and character column, counted as sqlparser's
/// tokenizer counts them (only `\n` starts a line).
fn byte_offset(sql: &str, at: Location) -> Option<usize> {
    let (mut line, mut column) = (1, 1);
    for (offset, c) in sql.char_indices() {
        if (line, column) == (at.line, at.column) {
            return Some(offset);
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    fn at(line: u64, column: u64) -> Location {
        Location { line, column }
    }

    #[test]
    fn postgres_numbers_each_name_once() {
        let sql = "SELECT * FROM t WHERE a = :a OR b = :b OR c = :a";
        let r = rewrite(
            sql,
            Dialect::Postgres,
            [(":b", at(1, 37)), (":a", at(1, 27)), (":a", at(1, 47))],
        )
        .unwrap();
        assert_eq!(r.sql, "SELECT * FROM t WHERE a = $1 OR b = $2 OR c = $1");
        assert_eq!(r.arguments, ["a", "b"]);
    }

    #[test]
    fn mysql_binds_every_occurrence() {
        let sql = "SELECT 'é' FROM t\nWHERE a = :a OR c = :a";
        let r = rewrite(sql, Dialect::MySql, [(":a", at(2, 11)), (":a", at(2, 21))]).unwrap();
        assert_eq!(r.sql, "SELECT 'é' FROM t\nWHERE a = ? OR c = ?");
        assert_eq!(r.arguments, ["a", "a"]);
    }

    #[test]
    fn a_placeholder_not_where_it_was_found_is_refused() {
        assert_eq!(
            rewrite("SELECT :a", Dialect::MySql, [(":a", at(1, 3))]),
            None
        );
        assert_eq!(
            rewrite("SELECT :a", Dialect::MySql, [(":a", at(3, 1))]),
            None
        );
    }
}
