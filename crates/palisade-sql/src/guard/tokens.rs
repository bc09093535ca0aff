//! Checks on the token stream, before parsing: comments, MySQL executable comments, stacked
//! statements, `INTO OUTFILE`, `WAITFOR`. The tokenizer is the dialect's, so `--` is a
//! comment where the server says so (`1--1` is minus minus in MySQL).

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Whitespace};

use crate::Dialect;
use crate::guard::violation::{Rule, Violation};

/// The first token-level violation, if any.
pub(crate) fn check(
    sql: &str,
    tokens: &[TokenWithSpan],
    dialect: Dialect,
) -> Result<(), Violation> {
    let at = |location: Location, rule: Rule| Violation::new(rule, location.line, location.column);
    if dialect == Dialect::MySql {
        executable_comment(sql)?;
    }
    let mut significant = tokens
        .iter()
        .filter(|t| {
            !matches!(
                t.token,
                Token::Whitespace(Whitespace::Space | Whitespace::Newline | Whitespace::Tab)
            )
        })
        .peekable();
    let mut ended = false;
    // A `;` inside brackets (a PostgreSQL rule's action list) ends no statement; the parser
    // decides whether the bracket is valid.
    let mut depth = 0_usize;
    while let Some(token) = significant.next() {
        let start = token.span.start;
        match &token.token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Whitespace(Whitespace::MultiLineComment(text)) if text.starts_with('!') => {
                return Err(at(start, Rule::ExecutableComment));
            }
            // sqlcommenter's trailing `/*key='value',...*/`: only that form, only at the end.
            Token::Whitespace(Whitespace::MultiLineComment(text))
                if is_sqlcommenter(text)
                    && significant
                        .clone()
                        .all(|t| matches!(t.token, Token::SemiColon)) =>
            {
                continue;
            }
            Token::Whitespace(_) => return Err(at(start, Rule::Comment)),
            Token::SemiColon if depth == 0 => ended = true,
            _ if ended => return Err(at(start, Rule::MultipleStatements)),
            Token::Word(word) if word.keyword == Keyword::INTO => {
                if let Some(Token::Word(next)) = significant.peek().map(|t| &t.token)
                    && ["OUTFILE", "DUMPFILE"]
                        .iter()
                        .any(|k| next.value.eq_ignore_ascii_case(k))
                {
                    return Err(at(start, Rule::FileAccess));
                }
            }
            Token::Word(word) if word.value.eq_ignore_ascii_case("WAITFOR") => {
                return Err(at(start, Rule::DangerousFunction));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether a comment's text is sqlcommenter's: `key='value'` pairs joined by `,`, keys and
/// values URL-encoded (so no quote, backslash or control character inside), nothing else.
/// <https://google.github.io/sqlcommenter/spec/>
fn is_sqlcommenter(text: &str) -> bool {
    let key_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '~' | '%' | '-');
    let value_char =
        |c: char| c.is_ascii_graphic() && !matches!(c, '\'' | '\\' | '"' | '`') || c == ' ';
    !text.is_empty()
        && text.split(',').all(|pair| {
            pair.split_once('=').is_some_and(|(key, value)| {
                !key.is_empty()
                    && key.chars().all(key_char)
                    && value.len() >= 2
                    && value.starts_with('\'')
                    && value.ends_with('\'')
                    && value
                        .get(1..value.len() - 1)
                        .is_some_and(|v| v.chars().all(value_char))
            })
        })
}

/// MySQL runs the inside of `/*! ... */` (and MariaDB of `/*M! ... */`) as SQL, and
/// sqlparser's MySQL tokenizer keeps no trace of the marker. Where a string ends depends on the
/// server's escape mode (`NO_BACKSLASH_ESCAPES`), so the marker is refused wherever it stands,
/// inside a string too: a template has no reason to hold it, and one pass over the text
/// finds it.
fn executable_comment(sql: &str) -> Result<(), Violation> {
    let found = ["/*!", "/*M!", "/*m!"]
        .iter()
        .filter_map(|marker| sql.find(marker))
        .min();
    match found {
        Some(offset) => {
            let location = location_of(sql, offset);
            Err(Violation::new(
                Rule::ExecutableComment,
                location.line,
                location.column,
            ))
        }
        None => Ok(()),
    }
}

/// The 1-based line and column (in characters) of a byte offset, as the tokenizer counts.
fn location_of(sql: &str, offset: usize) -> Location {
    let before = sql.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .chars()
        .count()
        + 1;
    Location::new(
        u64::try_from(line).unwrap_or(u64::MAX),
        u64::try_from(column).unwrap_or(u64::MAX),
    )
}

/// A literal other than a plain number or a plain single- or double-quoted string: the
/// tokenizer's many string forms, and placeholders. The fingerprint reads each as a value;
/// the depth budget as an operand.
pub(crate) fn is_other_literal(token: &Token) -> bool {
    matches!(
        token,
        Token::Placeholder(_)
            | Token::TripleSingleQuotedString(_)
            | Token::TripleDoubleQuotedString(_)
            | Token::DollarQuotedString(_)
            | Token::SingleQuotedByteStringLiteral(_)
            | Token::DoubleQuotedByteStringLiteral(_)
            | Token::TripleSingleQuotedByteStringLiteral(_)
            | Token::TripleDoubleQuotedByteStringLiteral(_)
            | Token::SingleQuotedRawStringLiteral(_)
            | Token::DoubleQuotedRawStringLiteral(_)
            | Token::TripleSingleQuotedRawStringLiteral(_)
            | Token::TripleDoubleQuotedRawStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::QuoteDelimitedStringLiteral(_)
            | Token::NationalQuoteDelimitedStringLiteral(_)
            | Token::EscapedStringLiteral(_)
            | Token::UnicodeStringLiteral(_)
            | Token::HexStringLiteral(_)
    )
}
