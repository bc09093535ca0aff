//! SQL Server forms that ORMs write and sqlparser does not read as the server does, rewritten
//! on the tokens before parsing:
//! - `FETCH NEXT @p1 ROWS ONLY`: sqlparser takes only a literal after `FETCH FIRST|NEXT`;
//!   the parameter becomes a placeholder token (EF Core and knex page this way).
//! - `UPDATE … ; SELECT @@ROWCOUNT`: EF Core and knex follow a write with a read of its row
//!   count. That exact trailing statement after an `INSERT`, `UPDATE`, `DELETE` or `MERGE`
//!   reads nothing but the session's counter, and is dropped; any other second statement,
//!   or a comment after the write, stays for the rules to refuse.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace};

pub(crate) fn rewrite(mut tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    fetch_parameters(&mut tokens);
    drop_row_count(&mut tokens);
    tokens
}

fn is_keyword(token: &Token, keyword: Keyword) -> bool {
    matches!(token, Token::Word(word) if word.keyword == keyword)
}

/// Indexes of the tokens that are not whitespace or comments.
fn significant(tokens: &[TokenWithSpan]) -> Vec<usize> {
    tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| !matches!(t.token, Token::Whitespace(_)))
        .map(|(i, _)| i)
        .collect()
}

/// `FETCH FIRST|NEXT @name`: the name as a placeholder.
fn fetch_parameters(tokens: &mut [TokenWithSpan]) {
    let order = significant(tokens);
    for window in order.windows(3) {
        let [fetch, next, quantity] = window else {
            continue;
        };
        let is_fetch = tokens
            .get(*fetch)
            .is_some_and(|t| is_keyword(&t.token, Keyword::FETCH));
        let is_next = tokens.get(*next).is_some_and(|t| {
            is_keyword(&t.token, Keyword::NEXT) || is_keyword(&t.token, Keyword::FIRST)
        });
        if !(is_fetch && is_next) {
            continue;
        }
        if let Some(token) = tokens.get_mut(*quantity)
            && let Token::Word(word) = &token.token
            && word.quote_style.is_none()
            && word.value.starts_with('@')
            && !word.value.starts_with("@@")
        {
            token.token = Token::Placeholder(word.value.clone());
        }
    }
}

/// A trailing `; SELECT @@ROWCOUNT [;]` after a write statement: dropped.
fn drop_row_count(tokens: &mut Vec<TokenWithSpan>) {
    let order = significant(tokens);
    let words: Vec<&Token> = order
        .iter()
        .filter_map(|&i| tokens.get(i).map(|t| &t.token))
        .collect();
    let tail = match words.as_slice() {
        [.., Token::SemiColon, select, count, Token::SemiColon] => Some((select, count, 4)),
        [.., Token::SemiColon, select, count] => Some((select, count, 3)),
        _ => None,
    };
    let Some((select, count, len)) = tail else {
        return;
    };
    let row_count = is_keyword(select, Keyword::SELECT)
        && matches!(count, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("@@rowcount"));
    let writes = words.first().is_some_and(|first| {
        [
            Keyword::INSERT,
            Keyword::UPDATE,
            Keyword::DELETE,
            Keyword::MERGE,
        ]
        .iter()
        .any(|k| is_keyword(first, *k))
    });
    // One statement before it: no other `;` in between.
    let statements_before = words
        .iter()
        .take(words.len() - len)
        .filter(|t| matches!(t, Token::SemiColon))
        .count();
    // Nothing else after the write: a comment there stays for the comment rule to judge.
    let Some(&cut) = order.get(order.len() - len) else {
        return;
    };
    let comment_after = tokens.get(cut..).unwrap_or_default().iter().any(|t| {
        matches!(
            t.token,
            Token::Whitespace(
                Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_)
            )
        )
    });
    if row_count && writes && statements_before == 0 && !comment_after {
        tokens.truncate(cut);
    }
}
