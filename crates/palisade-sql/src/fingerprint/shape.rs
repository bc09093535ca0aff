//! A statement's shape from its tokens (the dialect's own tokenizer): literals out, lists
//! collapsed, constant comparisons folded to their truth, comments and whitespace gone.
//! Reading tokens instead of a parse tree keeps fingerprints as cheap as a tokenizer pass.

use std::fmt::Write as _;

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan, Word};

use crate::Dialect;
use crate::guard::{Rule, Violation, is_other_literal};

/// Keywords that structure a statement, upper-cased in a shape so that `select` and `SELECT`
/// are one. Other words (names, and keywords that are often names, such as `name` or
/// `status`) are kept as written, so two tables are never made one.
const STRUCTURAL: &[Keyword] = &[
    Keyword::ALL,
    Keyword::AND,
    Keyword::ANY,
    Keyword::AS,
    Keyword::ASC,
    Keyword::BETWEEN,
    Keyword::BY,
    Keyword::CASE,
    Keyword::CAST,
    Keyword::CROSS,
    Keyword::DEFAULT,
    Keyword::DELETE,
    Keyword::DESC,
    Keyword::DISTINCT,
    Keyword::ELSE,
    Keyword::END,
    Keyword::ESCAPE,
    Keyword::EXCEPT,
    Keyword::EXISTS,
    Keyword::FETCH,
    Keyword::FOR,
    Keyword::FROM,
    Keyword::FULL,
    Keyword::GROUP,
    Keyword::HAVING,
    Keyword::ILIKE,
    Keyword::IN,
    Keyword::INNER,
    Keyword::INSERT,
    Keyword::INTERSECT,
    Keyword::INTO,
    Keyword::IS,
    Keyword::JOIN,
    Keyword::LATERAL,
    Keyword::LEFT,
    Keyword::LIKE,
    Keyword::LIMIT,
    Keyword::NATURAL,
    Keyword::NOT,
    Keyword::NULL,
    Keyword::NULLS,
    Keyword::OFFSET,
    Keyword::ON,
    Keyword::OR,
    Keyword::ORDER,
    Keyword::OUTER,
    Keyword::OVER,
    Keyword::PARTITION,
    Keyword::RECURSIVE,
    Keyword::RETURNING,
    Keyword::RIGHT,
    Keyword::SELECT,
    Keyword::SET,
    Keyword::SIMILAR,
    Keyword::SOME,
    Keyword::THEN,
    Keyword::TOP,
    Keyword::UNION,
    Keyword::UPDATE,
    Keyword::USING,
    Keyword::VALUES,
    Keyword::WHEN,
    Keyword::WHERE,
    Keyword::WINDOW,
    Keyword::WITH,
];

/// Keywords after which a comparison of constants stands alone (nothing binds it tighter).
const BEFORE_CONDITION: &[Keyword] = &[
    Keyword::WHERE,
    Keyword::AND,
    Keyword::OR,
    Keyword::NOT,
    Keyword::ON,
    Keyword::HAVING,
    Keyword::WHEN,
    Keyword::THEN,
    Keyword::ELSE,
    Keyword::SELECT,
];

/// Keywords before which a comparison of constants stands alone.
const AFTER_CONDITION: &[Keyword] = &[
    Keyword::AND,
    Keyword::OR,
    Keyword::THEN,
    Keyword::END,
    Keyword::ELSE,
    Keyword::WHEN,
    Keyword::ORDER,
    Keyword::GROUP,
    Keyword::HAVING,
    Keyword::LIMIT,
    Keyword::OFFSET,
    Keyword::UNION,
    Keyword::EXCEPT,
    Keyword::INTERSECT,
    Keyword::FETCH,
    Keyword::WINDOW,
    Keyword::RETURNING,
    Keyword::IS,
    Keyword::FOR,
];

/// One token of a shape.
#[derive(Debug, Clone, PartialEq)]
enum Part<'t> {
    /// A number, before its comparisons are folded.
    Number(&'t str),
    /// A string, before its comparisons are folded.
    Text(&'t str),
    /// Any other literal or a placeholder.
    Value,
    /// A constant comparison's truth, or `TRUE` / `FALSE`.
    Truth(bool),
    /// A structural keyword, upper-cased when rendered.
    Keyword(Keyword, &'t str),
    /// `(`, `)`, `,`.
    Open,
    Close,
    Comma,
    /// Anything else, rendered as the tokenizer writes it.
    Other(&'t Token),
}

impl Part<'_> {
    fn is_literal(&self) -> bool {
        matches!(self, Self::Number(_) | Self::Text(_))
    }

    fn is_value(&self) -> bool {
        matches!(self, Self::Number(_) | Self::Text(_) | Self::Value)
    }

    fn is_keyword(&self, among: &[Keyword]) -> bool {
        matches!(self, Self::Keyword(k, _) if among.contains(k))
            || matches!(self, Self::Other(Token::Word(w)) if among.contains(&w.keyword))
    }
}

/// The normalized text of the one statement in `tokens`.
pub(crate) fn shape(tokens: &[TokenWithSpan], dialect: Dialect) -> Result<String, Violation> {
    let parts = significant(tokens, dialect)?;
    if parts.is_empty() {
        return Err(Violation::whole(Rule::Empty));
    }
    let parts = collapse_lists(fold_constant_comparisons(parts));
    Ok(render(&parts))
}

/// The tokens that carry meaning, classified; a second statement is refused.
fn significant<'t>(
    tokens: &'t [TokenWithSpan],
    dialect: Dialect,
) -> Result<Vec<Part<'t>>, Violation> {
    let mut parts = Vec::with_capacity(tokens.len());
    let mut depth = 0_usize;
    let mut ended = false;
    // Inside an option list (`EXPLAIN (ANALYZE 1)`, `VACUUM (FULL 1)`): its values are
    // syntax, kept as written, so a plan-only EXPLAIN never shares a shape with one that runs
    // its statement. The depth of the list's `(`.
    let mut options: Option<usize> = None;
    // Where a relation is named (after `FROM`, `JOIN`, `INTO`, `UPDATE`, `TABLE`): SQLite reads
    // a string there as a table name (`FROM 'secrets'`), and so does MySQL under ANSI_QUOTES.
    let mut in_from = false;
    let mut iter = tokens.iter().map(|t| &t.token).peekable();
    while let Some(token) = iter.next() {
        let naming = match parts.last() {
            Some(Part::Comma) => in_from,
            Some(last) => last.is_keyword(&[
                Keyword::FROM,
                Keyword::JOIN,
                Keyword::INTO,
                Keyword::UPDATE,
                Keyword::TABLE,
            ]),
            None => false,
        };
        if let Token::Word(word) = token
            && word.quote_style.is_none()
            && STRUCTURAL.contains(&word.keyword)
        {
            in_from = word.keyword == Keyword::FROM;
        }
        let part = match token {
            Token::Whitespace(_) => continue,
            _ if ended => return Err(Violation::whole(Rule::MultipleStatements)),
            Token::SingleQuotedString(_) | Token::DoubleQuotedString(_) if naming => {
                Part::Other(token)
            }
            Token::SingleQuotedString(_) | Token::DoubleQuotedString(_) | Token::Number(..)
                if options.is_some() =>
            {
                Part::Other(token)
            }
            Token::SemiColon if depth == 0 => {
                ended = true;
                continue;
            }
            Token::Number(n, _) => Part::Number(n),
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => Part::Text(s),
            Token::Word(Word {
                quote_style: None,
                keyword: Keyword::TRUE,
                ..
            }) => Part::Truth(true),
            Token::Word(Word {
                quote_style: None,
                keyword: Keyword::FALSE,
                ..
            }) => Part::Truth(false),
            Token::Word(Word {
                quote_style: None,
                value,
                keyword,
            }) if STRUCTURAL.contains(keyword) => Part::Keyword(*keyword, value),
            // `@p1`, SQL Server's named parameter.
            Token::Word(Word {
                quote_style: None,
                value,
                ..
            }) if dialect == Dialect::MsSql && value.starts_with('@') => Part::Value,
            // `:name`: a colon right before a word.
            Token::Colon if matches!(iter.peek(), Some(Token::Word(_))) => {
                iter.next();
                Part::Value
            }
            other if is_other_literal(other) => Part::Value,
            Token::LParen => {
                let option_list = matches!(parts.last(), Some(Part::Other(Token::Word(w)))
                    if w.quote_style.is_none()
                        && matches!(w.keyword, Keyword::EXPLAIN | Keyword::VACUUM | Keyword::ANALYZE));
                depth += 1;
                if option_list && options.is_none() {
                    options = Some(depth);
                }
                Part::Open
            }
            Token::RParen => {
                if options == Some(depth) {
                    options = None;
                }
                depth = depth.saturating_sub(1);
                Part::Close
            }
            Token::Comma => Part::Comma,
            other => Part::Other(other),
        };
        parts.push(part);
    }
    Ok(parts)
}

/// Whether `token` is a comparison operator.
fn is_comparison(part: &Part<'_>) -> bool {
    matches!(
        part,
        Part::Other(
            Token::Eq
                | Token::DoubleEq
                | Token::Neq
                | Token::Lt
                | Token::Gt
                | Token::LtEq
                | Token::GtEq
        )
    )
}

/// `literal op literal`'s truth, when both are numbers or both strings.
fn compare(left: &Part<'_>, op: &Part<'_>, right: &Part<'_>) -> Option<bool> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let ordering = match (left, right) {
        (Part::Number(a), Part::Number(b)) => a
            .parse::<f64>()
            .ok()?
            .partial_cmp(&b.parse::<f64>().ok()?)?,
        (Part::Text(a), Part::Text(b)) => a.cmp(b),
        _ => return None,
    };
    let Part::Other(op) = op else { return None };
    Some(match op {
        Token::Eq | Token::DoubleEq => ordering == Equal,
        Token::Neq => ordering != Equal,
        Token::Lt => ordering == Less,
        Token::Gt => ordering == Greater,
        Token::LtEq => ordering != Greater,
        _ => ordering != Less,
    })
}

/// `... OR 1 = 1` becomes `... OR true` and `... OR 2 = 3` becomes `... OR false`, where the
/// comparison stands alone (after `WHERE`, `AND`, `(`, ..., before `AND`, `)`, the end, ...),
/// so a tautology never shares a shape with the contradiction an allow-list learned. One pass:
/// what stands before a comparison is read from what was already written.
fn fold_constant_comparisons(parts: Vec<Part<'_>>) -> Vec<Part<'_>> {
    let mut out: Vec<Part<'_>> = Vec::with_capacity(parts.len());
    let mut i = 0;
    while let Some(part) = parts.get(i) {
        if let (Some(op), Some(right)) = (parts.get(i + 1), parts.get(i + 2))
            && part.is_literal()
            && right.is_literal()
            && is_comparison(op)
            && let Some(truth) = compare(part, op, right)
        {
            let alone_before = out.last().is_none_or(|p| {
                matches!(p, Part::Open | Part::Comma) || p.is_keyword(BEFORE_CONDITION)
            });
            let alone_after = parts.get(i + 3).is_none_or(|p| {
                matches!(p, Part::Close | Part::Comma) || p.is_keyword(AFTER_CONDITION)
            });
            if alone_before && alone_after {
                out.push(Part::Truth(truth));
                i += 3;
                continue;
            }
        }
        out.push(part.clone());
        i += 1;
    }
    out
}

/// For each `(`, the index of the `)` that closes it (one pass with a stack).
fn closers(parts: &[Part<'_>]) -> Vec<Option<usize>> {
    let mut closer = vec![None; parts.len()];
    let mut open = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        match part {
            Part::Open => open.push(index),
            Part::Close => {
                if let Some(slot) = open.pop().and_then(|o| closer.get_mut(o)) {
                    *slot = Some(index);
                }
            }
            _ => {}
        }
    }
    closer
}

/// Whether `parts` is `value (, value)*`: each a literal or placeholder (optionally signed),
/// `TRUE`, `FALSE`, `NULL` or `DEFAULT`.
fn only_values(parts: &[Part<'_>]) -> bool {
    let mut expect_value = true;
    let mut iter = parts.iter().peekable();
    while let Some(part) = iter.next() {
        if expect_value {
            let part = match part {
                Part::Other(Token::Minus | Token::Plus) => match iter.next() {
                    Some(next) => next,
                    None => return false,
                },
                other => other,
            };
            let plain = part.is_value()
                || matches!(part, Part::Truth(_))
                || part.is_keyword(&[Keyword::NULL, Keyword::DEFAULT]);
            if !plain {
                return false;
            }
        } else if *part != Part::Comma {
            return false;
        }
        expect_value = !expect_value;
    }
    !expect_value
}

/// `IN (1, 2, 3)` becomes `IN (?)`; `VALUES (?, 1), (?, 2)` becomes `VALUES (?, ?)`. Only
/// lists and rows of plain values collapse: a row holding anything else (a subquery, a
/// function, a column) is kept, with every row after it, so two statements of one shape
/// always read the same tables and call the same functions. One pass over the parts.
fn collapse_lists(parts: Vec<Part<'_>>) -> Vec<Part<'_>> {
    let closer = closers(&parts);
    let close_of = |open: usize| closer.get(open).copied().flatten();
    let mut out = Vec::with_capacity(parts.len());
    let mut i = 0;
    while let Some(part) = parts.get(i) {
        out.push(part.clone());
        let keyword = match part {
            Part::Keyword(k @ (Keyword::IN | Keyword::VALUES), _) => Some(*k),
            _ => None,
        };
        let open = i + 1;
        i += 1;
        let (Some(keyword), Some(Part::Open), Some(close)) =
            (keyword, parts.get(open), close_of(open))
        else {
            continue;
        };
        let plain = |open: usize, close: usize| parts.get(open + 1..close).is_some_and(only_values);
        if keyword == Keyword::IN {
            if plain(open, close) && close > open + 2 {
                out.extend([Part::Open, Part::Value, Part::Close]);
                i = close + 1;
            }
            continue;
        }
        // VALUES: the rows, while each is plain.
        let mut rows = vec![(open, close)];
        while let Some(&(_, end)) = rows.last()
            && parts.get(end + 1) == Some(&Part::Comma)
            && parts.get(end + 2) == Some(&Part::Open)
            && let Some(next) = close_of(end + 2)
        {
            rows.push((end + 2, next));
        }
        if rows.iter().all(|&(o, c)| plain(o, c)) {
            out.extend(parts.get(open..=close).unwrap_or_default().iter().cloned());
            i = rows.last().map_or(close, |&(_, end)| end) + 1;
        }
    }
    out
}

/// The shape's text: one space between tokens, none inside brackets, before a comma or around
/// `.` and `::`.
fn render(parts: &[Part<'_>]) -> String {
    let mut out = String::with_capacity(parts.len() * 6);
    let mut glue = true;
    for part in parts {
        let tight = matches!(part, Part::Close | Part::Comma)
            || matches!(part, Part::Other(Token::Period | Token::DoubleColon));
        if !glue && !tight {
            out.push(' ');
        }
        match part {
            Part::Number(_) | Part::Text(_) | Part::Value => out.push('?'),
            Part::Truth(true) => out.push_str("true"),
            Part::Truth(false) => out.push_str("false"),
            Part::Keyword(_, word) => out.extend(word.chars().map(|c| c.to_ascii_uppercase())),
            Part::Open => out.push('('),
            Part::Close => out.push(')'),
            Part::Comma => out.push(','),
            Part::Other(Token::Word(word)) if word.quote_style.is_some() => quoted(&mut out, word),
            // Writing to a String cannot fail.
            Part::Other(token) => drop(write!(out, "{token}")),
        }
        glue = matches!(part, Part::Open)
            || matches!(part, Part::Other(Token::Period | Token::DoubleColon));
    }
    out
}

/// A quoted name with its closing quote doubled inside, so that `[a]]b]` and `[a]` `b]`
/// never print alike (sqlparser prints the value between the quotes as it is).
fn quoted(out: &mut String, word: &Word) {
    let (open, close) = match word.quote_style {
        Some('[') => ('[', ']'),
        Some(q) => (q, q),
        None => return out.push_str(&word.value),
    };
    out.push(open);
    for c in word.value.chars() {
        if c == close {
            out.push(close);
        }
        out.push(c);
    }
    out.push(close);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::tokenizer::Tokenizer;

    use super::*;

    fn of(sql: &str) -> String {
        let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
            .tokenize_with_location()
            .unwrap();
        shape(&tokens, Dialect::Postgres).unwrap()
    }

    fn in_dialect(sql: &str, dialect: Dialect) -> Result<String, Rule> {
        let tokens = Tokenizer::new(crate::guard::parser_dialect(dialect), sql)
            .tokenize_with_location()
            .unwrap();
        shape(&tokens, dialect).map_err(|v| v.rule())
    }

    #[test]
    fn placeholders_and_strings_follow_the_dialect() {
        assert_eq!(
            in_dialect(
                "SELECT a FROM t WHERE b = \"x\" AND c = @p1",
                Dialect::MsSql
            ),
            Ok("SELECT a FROM t WHERE b = \"x\" AND c = ?".to_owned())
        );
        assert_eq!(
            in_dialect("SELECT a FROM t WHERE b = \"x\" AND c = :c", Dialect::MySql),
            Ok("SELECT a FROM t WHERE b = ? AND c = ?".to_owned())
        );
        assert_eq!(
            in_dialect("SELECT a FROM t WHERE b = ?1", Dialect::Sqlite),
            Ok("SELECT a FROM t WHERE b = ?".to_owned())
        );
    }

    #[test]
    fn one_statement_only() {
        assert_eq!(
            in_dialect("SELECT 1;", Dialect::Postgres),
            Ok("SELECT ?".to_owned())
        );
        assert_eq!(in_dialect("  ;  ", Dialect::Postgres), Err(Rule::Empty));
        assert_eq!(
            in_dialect("SELECT 1; DROP TABLE t", Dialect::Postgres),
            Err(Rule::MultipleStatements)
        );
        assert!(
            in_dialect(
                "CREATE RULE r AS ON INSERT TO t DO (NOTIFY a; NOTIFY b)",
                Dialect::Postgres
            )
            .is_ok()
        );
    }

    #[test]
    fn constants_fold_only_where_they_stand_alone() {
        assert_eq!(
            of("select a from t where a = 1 or 1 = 1"),
            "SELECT a FROM t WHERE a = ? OR true"
        );
        assert_eq!(
            of("select a from t where (2 > 3) and b"),
            "SELECT a FROM t WHERE (false) AND b"
        );
        assert_eq!(
            of("select a from t where a + 1 = 1"),
            "SELECT a FROM t WHERE a + ? = ?"
        );
        assert_eq!(
            of("select a from t where 1 = 1::int"),
            "SELECT a FROM t WHERE ? = ?::int"
        );
        assert_eq!(
            of("select a from t where 'x' = 'y' or x"),
            "SELECT a FROM t WHERE false OR x"
        );
    }

    #[test]
    fn lists_collapse_and_names_stay() {
        assert_eq!(
            of("select * from s.t where id in (1, -2, :x)"),
            "SELECT * FROM s.t WHERE id IN (?)"
        );
        assert_eq!(
            of("select * from t where id in (1, b)"),
            "SELECT * FROM t WHERE id IN (?, b)"
        );
        assert_eq!(
            of("insert into t (a, b) values (1, 'x'), (2, 'y') returning id"),
            "INSERT INTO t (a, b) VALUES (?, ?) RETURNING id"
        );
        assert_eq!(
            of("select \"Name\", name from orders_2024_01"),
            "SELECT \"Name\", name FROM orders_2024_01"
        );
    }
}
