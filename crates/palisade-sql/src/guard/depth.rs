//! The expression budget, checked on tokens before the parser builds a tree.
//!
//! sqlparser parses a chain of binary operators (`1+1+…`, `a OR b OR …`, `x::t::t…`, a run
//! of `UNION`s) in a loop, not by recursion, so its recursion limit does not bound it; the
//! tree it builds leans left and is as deep as the chain is long, and every later walk of it
//! (visiting, cloning, printing, comparing, dropping) recurses once per level. A 20 KB chain
//! overflows a 2 MiB stack, which aborts the process. Like SQLite's expression height limit
//! (`SQLITE_MAX_EXPR_DEPTH`), the guard refuses a statement whose trees could be deeper than
//! [`MAX_EXPRESSION_DEPTH`] before any tree exists, in one pass over the tokens.
//!
//! The estimate is an upper bound: every operator token counts one level in its segment,
//! where a segment is what lies between separators of one bracket (`,` in a list; `WHEN`,
//! `THEN`, `ELSE` in a `CASE`), and a bracket adds the segments around it. A list item
//! or a `CASE` branch is a separate subtree, so it starts at its bracket's depth again.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::guard::tokens::is_other_literal;
use crate::guard::violation::{Rule, Violation};

/// The deepest expression tree a statement may need (an `OR` of 250 comparisons). Half of
/// SQLite's default height limit: a debug build walks a level of sqlparser's tree in about
/// 2 KiB of stack, and a 2 MiB stack (tokio's workers) must hold the walk with room to spare.
pub(crate) const MAX_EXPRESSION_DEPTH: usize = 500;

/// Keywords that join two operands into one node of the tree.
const OPERATOR_KEYWORDS: &[Keyword] = &[
    Keyword::AND,
    Keyword::OR,
    Keyword::XOR,
    Keyword::NOT,
    Keyword::IS,
    Keyword::IN,
    Keyword::LIKE,
    Keyword::ILIKE,
    Keyword::RLIKE,
    Keyword::REGEXP,
    Keyword::SIMILAR,
    Keyword::BETWEEN,
    Keyword::DIV,
    Keyword::MOD,
    Keyword::COLLATE,
    Keyword::AT,
    Keyword::OVERLAPS,
    Keyword::ESCAPE,
    Keyword::MEMBER,
    Keyword::OPERATOR,
    Keyword::JOIN,
    Keyword::APPLY,
];

/// Set operations chain whole queries, and a level of one costs a walk about seven times the
/// stack of an operator (measured on a debug build): with the `SELECT` after it, each counts
/// as ten levels, so a chain of 49 `UNION`s fits.
const SET_OPERATORS: &[Keyword] = &[
    Keyword::UNION,
    Keyword::EXCEPT,
    Keyword::INTERSECT,
    Keyword::MINUS,
];
const SET_OPERATOR_WEIGHT: usize = 6;

/// A query nested in an expression or a `FROM` costs about five levels of stack.
const SELECT_WEIGHT: usize = 4;

/// A bracket the walk is inside.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Bracket {
    /// `(` or `[`.
    Round,
    /// `CASE`, closed by `END`.
    Case,
}

/// Refuses, as [`Rule::TooDeep`], a statement whose expression trees could be deeper than
/// [`MAX_EXPRESSION_DEPTH`].
pub(crate) fn check(tokens: &[TokenWithSpan]) -> Result<(), Violation> {
    // (bracket, operators counted in its current segment)
    let mut open: Vec<(Bracket, usize)> = vec![(Bracket::Round, 0)];
    // Operators in every open segment, plus one level per open bracket.
    let mut depth = 1_usize;
    for token in tokens {
        match &token.token {
            Token::LParen | Token::LBracket => {
                open.push((Bracket::Round, 0));
                depth += 1;
            }
            Token::RParen | Token::RBracket => close(&mut open, &mut depth, Bracket::Round),
            Token::Word(word) if word.quote_style.is_none() => match word.keyword {
                Keyword::CASE => {
                    open.push((Bracket::Case, 0));
                    depth += 1;
                }
                Keyword::END => close(&mut open, &mut depth, Bracket::Case),
                Keyword::WHEN | Keyword::THEN | Keyword::ELSE => {
                    separate(&mut open, &mut depth, Bracket::Case);
                }
                keyword if OPERATOR_KEYWORDS.contains(&keyword) => count(&mut open, &mut depth, 1),
                keyword if SET_OPERATORS.contains(&keyword) => {
                    count(&mut open, &mut depth, SET_OPERATOR_WEIGHT);
                }
                Keyword::SELECT => count(&mut open, &mut depth, SELECT_WEIGHT),
                _ => {}
            },
            Token::Comma => separate(&mut open, &mut depth, Bracket::Round),
            token if is_operand_or_punctuation(token) => {}
            _ => count(&mut open, &mut depth, 1),
        }
        if depth > MAX_EXPRESSION_DEPTH {
            let at = token.span.start;
            return Err(Violation::new(Rule::TooDeep, at.line, at.column));
        }
    }
    Ok(())
}

fn count(open: &mut [(Bracket, usize)], depth: &mut usize, weight: usize) {
    if let Some((_, operators)) = open.last_mut() {
        *operators += weight;
        *depth += weight;
    }
}

/// Ends the current segment when the innermost bracket is of `kind`.
fn separate(open: &mut [(Bracket, usize)], depth: &mut usize, kind: Bracket) {
    if let Some((bracket, operators)) = open.last_mut()
        && *bracket == kind
    {
        *depth -= *operators;
        *operators = 0;
    }
}

/// Closes the innermost bracket when it is of `kind` (an unmatched closer is the parser's
/// to refuse; the outermost segment is never closed).
fn close(open: &mut Vec<(Bracket, usize)>, depth: &mut usize, kind: Bracket) {
    if open.len() > 1
        && let Some(&(bracket, operators)) = open.last()
        && bracket == kind
    {
        open.pop();
        *depth -= operators + 1;
    }
}

/// Tokens that are never an operator: words, literals, placeholders, whitespace and the
/// punctuation of names and statements.
fn is_operand_or_punctuation(token: &Token) -> bool {
    is_other_literal(token)
        || matches!(
            token,
            Token::Word(_)
                | Token::Number(..)
                | Token::SingleQuotedString(_)
                | Token::DoubleQuotedString(_)
                | Token::Whitespace(_)
                | Token::Period
                | Token::SemiColon
                | Token::Colon
                | Token::EOF
        )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::tokenizer::Tokenizer;

    use super::*;

    fn depth_ok(sql: &str) -> bool {
        let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
            .tokenize_with_location()
            .unwrap();
        check(&tokens).is_ok()
    }

    #[test]
    fn a_chain_counts_each_operator_and_a_list_item_starts_over() {
        let chain = |n: usize| format!("SELECT {}", vec!["a"; n].join(" + "));
        assert!(depth_ok(&chain(MAX_EXPRESSION_DEPTH - SELECT_WEIGHT)));
        assert!(!depth_ok(&chain(MAX_EXPRESSION_DEPTH + 1)));
        let list = |n: usize| format!("SELECT a FROM t WHERE a IN ({})", vec!["1+1"; n].join(", "));
        assert!(depth_ok(&list(5_000)));
        let case = |n: usize| format!("SELECT CASE {} END", "WHEN a = 1 THEN b + 1 ".repeat(n));
        assert!(depth_ok(&case(5_000)));
        // A bracket does not hide the operators around it.
        let nested = |n: usize| format!("SELECT {}a{}", "a + (".repeat(n), ")".repeat(n));
        assert!(!depth_ok(&nested(MAX_EXPRESSION_DEPTH / 2 + 1)));
        // An END without a CASE closes nothing.
        let ends = |n: usize| format!("SELECT {}", vec!["a + end"; n].join(" + "));
        assert!(!depth_ok(&ends(MAX_EXPRESSION_DEPTH)));
        let unions = |n: usize| vec!["SELECT a"; n].join(" UNION ALL ");
        assert!(depth_ok(&unions(45)));
        assert!(!depth_ok(&unions(51)));
    }
}
