//! PostgreSQL's Unicode-escaped identifiers (`U&"pg\005fsleep"`, `U&"d!0061t!+000061" UESCAPE
//! '!'`), decoded into the one name the server reads before anything compares names.
//! sqlparser reads them as the word `U`, `&` and a quoted name with its escapes left in, so
//! without this step `U&"pg\005fsleep"(5)` would not be `pg_sleep(5)`.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Span, Token, TokenWithSpan, Whitespace, Word};

use crate::guard::violation::{Rule, Violation};

/// `tokens` with every `U&"..."` (and its `UESCAPE` clause) replaced by the quoted name it
/// spells.
///
/// # Errors
/// [`Rule::Unparsable`] for an escape PostgreSQL refuses.
pub(crate) fn decode(tokens: Vec<TokenWithSpan>) -> Result<Vec<TokenWithSpan>, Violation> {
    if !tokens.iter().any(|t| t.token == Token::Ampersand) {
        return Ok(tokens);
    }
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while let Some(token) = tokens.get(i) {
        let quoted = match (&token.token, tokens.get(i + 1), tokens.get(i + 2)) {
            (Token::Word(u), Some(amp), Some(name))
                if u.quote_style.is_none()
                    && u.value.eq_ignore_ascii_case("u")
                    && amp.token == Token::Ampersand
                    && token.span.end == amp.span.start
                    && amp.span.end == name.span.start =>
            {
                match &name.token {
                    Token::Word(w) if w.quote_style == Some('"') => Some((w, name.span)),
                    _ => None,
                }
            }
            _ => None,
        };
        let Some((word, name_span)) = quoted else {
            out.push(token.clone());
            i += 1;
            continue;
        };
        let (escape, consumed, end) = match uescape(&tokens, i + 3) {
            Some((escape, consumed, end)) => (escape, consumed, end),
            None => ('\\', 0, name_span.end),
        };
        let at = token.span.start;
        let value = unescape(&word.value, escape)
            .ok_or_else(|| Violation::new(Rule::Unparsable, at.line, at.column))?;
        out.push(TokenWithSpan::new(
            Token::Word(Word {
                value,
                quote_style: Some('"'),
                keyword: Keyword::NoKeyword,
            }),
            Span::new(at, end),
        ));
        i += 3 + consumed;
    }
    Ok(out)
}

/// A `UESCAPE 'c'` clause starting at `from` (after optional whitespace): the escape
/// character, how many tokens the clause takes and where it ends.
fn uescape(
    tokens: &[TokenWithSpan],
    from: usize,
) -> Option<(char, usize, sqlparser::tokenizer::Location)> {
    let mut i = from;
    let skip = |i: &mut usize| {
        while matches!(tokens.get(*i).map(|t| &t.token), Some(Token::Whitespace(w)) if !matches!(w, Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_)))
        {
            *i += 1;
        }
    };
    skip(&mut i);
    match tokens.get(i).map(|t| &t.token) {
        Some(Token::Word(w))
            if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("uescape") => {}
        _ => return None,
    }
    i += 1;
    skip(&mut i);
    let last = tokens.get(i)?;
    match &last.token {
        Token::SingleQuotedString(s) => {
            let mut chars = s.chars();
            let escape = chars.next()?;
            let allowed = chars.next().is_none()
                && !escape.is_ascii_hexdigit()
                && !matches!(escape, '+' | '\'' | '"' | ' ' | '\t' | '\n' | '\r');
            allowed.then_some((escape, i + 1 - from, last.span.end))
        }
        _ => None,
    }
}

/// `escape escape` is the escape character; `escape` and four hex digits, or `escape+` and
/// six, is that code point. Anything else after `escape` is refused, as PostgreSQL does.
fn unescape(text: &str, escape: char) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != escape {
            out.push(c);
            continue;
        }
        let rest = chars.as_str();
        if rest.starts_with(escape) {
            out.push(escape);
            chars.next();
            continue;
        }
        let (digits, skip) = match rest.strip_prefix('+') {
            Some(six) => (six.get(..6)?, 7),
            None => (rest.get(..4)?, 4),
        };
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let code = u32::from_str_radix(digits, 16).ok()?;
        out.push(char::from_u32(code).filter(|c| *c != '\0')?);
        for _ in 0..skip {
            chars.next();
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::tokenizer::Tokenizer;

    use super::*;

    fn names(sql: &str) -> Vec<String> {
        let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
            .tokenize_with_location()
            .unwrap();
        decode(tokens)
            .unwrap()
            .into_iter()
            .filter_map(|t| match t.token {
                Token::Word(w) if w.quote_style.is_some() => Some(w.value),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn escapes_decode_as_postgresql_reads_them() {
        assert_eq!(names(r#"SELECT U&"pg\005fsleep"(1)"#), ["pg_sleep"]);
        assert_eq!(names(r#"SELECT u&"pg\+00005fsleep"(1)"#), ["pg_sleep"]);
        assert_eq!(names(r#"SELECT U&"a!0062c" UESCAPE '!'"#), ["abc"]);
        assert_eq!(names(r#"SELECT U&"a\\b""#), [r"a\b"]);
        // Not adjacent: the word U, an operator, a name.
        assert_eq!(names(r#"SELECT U & "pg\005fsleep""#), [r"pg\005fsleep"]);
        assert!(unescape(r"pg\00zz", '\\').is_none());
        assert!(unescape(r"pg\0000", '\\').is_none());
    }
}
