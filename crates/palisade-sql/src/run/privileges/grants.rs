//! MariaDB's `SHOW GRANTS` lines read as privileges: the server writes them in one regular
//! form (`GRANT <privileges> ON <object> TO <grantee> [IDENTIFIED ...] [WITH ...]`, or
//! `GRANT <role> TO <grantee>`). The grantee and everything after it (a password hash among
//! them) are never kept.

/// What one `SHOW GRANTS` line grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Grant {
    /// Privileges on an object.
    Privileges {
        /// Upper-case privilege names (`SELECT`, `ALL PRIVILEGES`, `BINLOG MONITOR`); a
        /// column list is dropped (a column privilege is a privilege on its table).
        privileges: Vec<String>,
        /// What they apply to.
        object: Object,
        /// `WITH GRANT OPTION`: the grantee can pass them on.
        grant_option: bool,
    },
    /// Membership in a role.
    Role {
        /// The role's name.
        role: String,
        /// `WITH ADMIN OPTION`: the grantee can grant the role to others.
        admin_option: bool,
    },
    /// Anything else the server prints (`SET DEFAULT ROLE`): no privilege.
    Other,
}

/// The object of a privilege grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Object {
    /// `*.*`: the whole server.
    Global,
    /// `` `db`.* ``: a database, or every database matching the pattern.
    Database(String),
    /// `` `db`.`table` ``.
    Table {
        /// The database.
        database: String,
        /// The table.
        table: String,
    },
    /// `PROCEDURE`, `FUNCTION`, `PACKAGE` or `PROXY` objects: named by `kind`.
    Routine {
        /// What kind of object.
        kind: &'static str,
        /// `db.name` (or the proxied user).
        name: String,
    },
}

impl Object {
    /// How reports name it: `*.*`, `db.*`, `db.table` (a name quoted with backticks when it
    /// holds anything but letters, digits, `_` and `$`, so `a.b`.c is never a.`b.c`).
    pub(super) fn scope(&self) -> String {
        match self {
            Self::Global => "*.*".to_owned(),
            Self::Database(database) => format!("{}.*", ident(database)),
            Self::Table { database, table } => format!("{}.{}", ident(database), ident(table)),
            Self::Routine { kind, name } => format!("{kind} {name}"),
        }
    }
}

/// A MariaDB identifier as reports show it: bare when it is plain, else back-quoted.
pub(super) fn ident(name: &str) -> std::borrow::Cow<'_, str> {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if plain {
        std::borrow::Cow::Borrowed(name)
    } else {
        std::borrow::Cow::Owned(format!("`{}`", name.replace('`', "``")))
    }
}

/// Who a grant line is to: a user (`` `name`@`host` ``), `PUBLIC`, or a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Grantee {
    /// An account.
    User,
    /// Every account.
    Public,
    /// A role.
    Role(String),
}

/// The grantee of a `GRANT ... TO` line.
pub(super) fn grantee(line: &str) -> Option<Grantee> {
    let tokens = tokenize(line)?;
    let to = tokens.iter().position(|t| is_word(t, "TO"))?;
    let after = tokens.get(to + 1..)?;
    match after {
        [
            Token::Quoted(_) | Token::Word(_) | Token::Text,
            Token::Punct('@'),
            ..,
        ] => Some(Grantee::User),
        [Token::Word(word), ..] if word == "PUBLIC" => Some(Grantee::Public),
        [Token::Quoted(role) | Token::Word(role), ..] => Some(Grantee::Role(role.clone())),
        _ => None,
    }
}

/// A token of a grant line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A bare word, upper-cased.
    Word(String),
    /// A back-quoted identifier, unquoted.
    Quoted(String),
    /// A single-quoted string (its content is never kept).
    Text,
    /// One punctuation character.
    Punct(char),
}

/// Reads one line; `None` when it is not a form the server writes.
pub(super) fn parse(line: &str) -> Option<Grant> {
    let tokens = tokenize(line)?;
    let mut at = tokens.iter().peekable();
    match at.next()? {
        Token::Word(w) if w == "GRANT" => {}
        Token::Word(_) => return Some(Grant::Other),
        _ => return None,
    }
    let to = tokens.iter().position(|t| is_word(t, "TO"))?;
    let on = tokens.iter().position(|t| is_word(t, "ON"));
    let tail = tokens.get(to + 1..)?;
    match on {
        Some(on) if on < to => {
            let privileges = privilege_list(tokens.get(1..on)?)?;
            let object = object(tokens.get(on + 1..to)?, &privileges)?;
            Some(Grant::Privileges {
                privileges,
                object,
                grant_option: has_option(tail, "GRANT"),
            })
        }
        _ => {
            let role = match tokens.get(1..to)? {
                [Token::Quoted(role)] => role.clone(),
                [Token::Word(role)] => role.clone(),
                _ => return None,
            };
            Some(Grant::Role {
                role,
                admin_option: has_option(tail, "ADMIN"),
            })
        }
    }
}

fn is_word(token: &Token, word: &str) -> bool {
    matches!(token, Token::Word(w) if w == word)
}

/// `WITH ... <kind> OPTION ...` after the grantee.
fn has_option(tail: &[Token], kind: &str) -> bool {
    let Some(with) = tail.iter().position(|t| is_word(t, "WITH")) else {
        return false;
    };
    tail.get(with..)
        .unwrap_or_default()
        .windows(2)
        .any(|pair| matches!(pair, [a, b] if is_word(a, kind) && is_word(b, "OPTION")))
}

/// `SELECT, INSERT (`a`, `b`), ALL PRIVILEGES`: words joined by spaces, column lists dropped.
fn privilege_list(tokens: &[Token]) -> Option<Vec<String>> {
    let mut privileges = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut depth = 0_usize;
    for token in tokens {
        match token {
            Token::Punct('(') => depth += 1,
            Token::Punct(')') => depth = depth.checked_sub(1)?,
            _ if depth > 0 => {}
            Token::Punct(',') => {
                if current.is_empty() {
                    return None;
                }
                privileges.push(current.join(" "));
                current.clear();
            }
            Token::Word(word) => current.push(word),
            _ => return None,
        }
    }
    if current.is_empty() || depth != 0 {
        return None;
    }
    privileges.push(current.join(" "));
    Some(privileges)
}

/// `*.*`, `` `db`.* ``, `` `db`.`t` ``, `PROCEDURE `db`.`p` ``, or the user of `PROXY`.
fn object(tokens: &[Token], privileges: &[String]) -> Option<Object> {
    if privileges.iter().any(|p| p == "PROXY") {
        return Some(Object::Routine {
            kind: "PROXY",
            name: "user".to_owned(),
        });
    }
    let (kind, rest) = match tokens {
        [Token::Word(w), Token::Word(b), rest @ ..] if w == "PACKAGE" && b == "BODY" => {
            (Some("PACKAGE BODY"), rest)
        }
        [Token::Word(w), rest @ ..] if w == "PROCEDURE" => (Some("PROCEDURE"), rest),
        [Token::Word(w), rest @ ..] if w == "FUNCTION" => (Some("FUNCTION"), rest),
        [Token::Word(w), rest @ ..] if w == "PACKAGE" => (Some("PACKAGE"), rest),
        _ => (None, tokens),
    };
    let name = |t: &Token| match t {
        Token::Quoted(name) => Some(name.clone()),
        Token::Word(name) => Some(name.to_lowercase()),
        _ => None,
    };
    let object = match rest {
        [Token::Punct('*'), Token::Punct('.'), Token::Punct('*')] => Object::Global,
        [database, Token::Punct('.'), Token::Punct('*')] => Object::Database(name(database)?),
        [database, Token::Punct('.'), table] => Object::Table {
            database: name(database)?,
            table: name(table)?,
        },
        _ => return None,
    };
    match (kind, object) {
        (None, object) => Some(object),
        (Some(kind), Object::Table { database, table }) => Some(Object::Routine {
            kind,
            name: format!("{database}.{table}"),
        }),
        (Some(_), _) => None,
    }
}

/// Splits a line into tokens; `None` on an unterminated quote or a character the server
/// does not write outside quotes.
fn tokenize(line: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '`' => {
                let mut name = String::new();
                loop {
                    match chars.next()? {
                        '`' if chars.peek() == Some(&'`') => {
                            chars.next();
                            name.push('`');
                        }
                        '`' => break,
                        other => name.push(other),
                    }
                }
                tokens.push(Token::Quoted(name));
            }
            '\'' | '"' => {
                loop {
                    match chars.next()? {
                        '\\' => {
                            chars.next()?;
                        }
                        q if q == c && chars.peek() == Some(&c) => {
                            chars.next();
                        }
                        q if q == c => break,
                        _ => {}
                    }
                }
                tokens.push(Token::Text);
            }
            c if c.is_ascii_alphanumeric() || c == '_' || c == '$' => {
                let mut word = String::from(c.to_ascii_uppercase());
                while let Some(&next) = chars.peek() {
                    if next.is_ascii_alphanumeric() || next == '_' || next == '$' {
                        word.push(next.to_ascii_uppercase());
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(Token::Word(word));
            }
            ',' | '.' | '*' | '(' | ')' | '@' | '=' => tokens.push(Token::Punct(c)),
            _ => return None,
        }
    }
    Some(tokens)
}

/// Whether a database name in a grant holds a wildcard (`%` or `_` not escaped by `\`).
pub(super) fn is_pattern(database: &str) -> bool {
    let mut chars = database.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '%' | '_' => return true,
            _ => {}
        }
    }
    false
}

/// Whether `name` matches the grant's database pattern (`LIKE` rules: `%` any run, `_` one
/// character, `\` escapes). Iterative, with one backtrack point: linear in practice for the
/// 64-character names MariaDB allows.
pub(super) fn matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<(char, bool)> = {
        let mut out = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.push((chars.next().unwrap_or('\\'), false)),
                '%' | '_' => out.push((c, true)),
                other => out.push((other, false)),
            }
        }
        out
    };
    let name: Vec<char> = name.chars().collect();
    let (mut p, mut n) = (0_usize, 0_usize);
    let mut backtrack: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(('%', true)) => {
                backtrack = Some((p, n));
                p += 1;
            }
            Some(('_', true)) => {
                p += 1;
                n += 1;
            }
            Some((c, false)) if Some(c) == name.get(n) => {
                p += 1;
                n += 1;
            }
            _ => match backtrack {
                Some((star, from)) => {
                    p = star + 1;
                    n = from + 1;
                    backtrack = Some((star, from + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .unwrap_or_default()
        .iter()
        .all(|&(c, wild)| wild && c == '%')
}

#[cfg(test)]
mod tests {
    use super::{Grant, Object, is_pattern, matches, parse};

    fn privileges(line: &str) -> (Vec<String>, Object, bool) {
        match parse(line).unwrap() {
            Grant::Privileges {
                privileges,
                object,
                grant_option,
            } => (privileges, object, grant_option),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_every_form_the_server_writes() {
        let (p, o, g) = privileges(
            "GRANT PROCESS, FILE, SUPER, BINLOG MONITOR ON *.* TO `pg1`@`127.0.0.1` \
             IDENTIFIED BY PASSWORD '*AF9E01EA8519CE58E3739F4034EFD3D6B4CA6324' \
             WITH MAX_QUERIES_PER_HOUR 10",
        );
        assert_eq!(p, ["PROCESS", "FILE", "SUPER", "BINLOG MONITOR"]);
        assert_eq!(o, Object::Global);
        assert!(!g);
        let (p, o, g) = privileges(
            "GRANT SELECT, INSERT (`id`, `a``b`), UPDATE ON `ptest`.`t1` TO `pg1`@`%` WITH GRANT OPTION",
        );
        assert_eq!(p, ["SELECT", "INSERT", "UPDATE"]);
        assert_eq!(
            o,
            Object::Table {
                database: "ptest".into(),
                table: "t1".into()
            }
        );
        assert!(g);
        let (_, o, _) = privileges("GRANT SELECT ON `pt_st%`.* TO `pg1`@`127.0.0.1`");
        assert_eq!(o, Object::Database("pt_st%".into()));
        let (p, o, g) = privileges(
            "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` IDENTIFIED VIA \
             mysql_native_password USING 'invalid' OR unix_socket WITH GRANT OPTION",
        );
        assert_eq!(
            (p, o, g),
            (vec!["ALL PRIVILEGES".to_owned()], Object::Global, true)
        );
        let (_, o, _) = privileges("GRANT PROXY ON ``@`%` TO `root`@`localhost` WITH GRANT OPTION");
        assert!(matches!(o, Object::Routine { kind: "PROXY", .. }));
        let (_, o, _) = privileges(
            "GRANT EXECUTE ON PROCEDURE `mysql`.`addgeometrycolumn` TO `pg1`@`127.0.0.1`",
        );
        assert_eq!(o.scope(), "PROCEDURE mysql.addgeometrycolumn");
        assert_eq!(
            parse("GRANT `pr1` TO `pg1`@`127.0.0.1` WITH ADMIN OPTION"),
            Some(Grant::Role {
                role: "pr1".into(),
                admin_option: true
            })
        );
        assert_eq!(
            parse("SET DEFAULT ROLE `pr1` FOR `pg1`@`127.0.0.1`"),
            Some(Grant::Other)
        );
    }

    #[test]
    fn names_the_grantee_and_quotes_names() {
        use super::{Grantee, grantee, ident};
        assert_eq!(
            grantee("GRANT USAGE ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD '*AB'"),
            Some(Grantee::User)
        );
        assert_eq!(
            grantee("GRANT DELETE ON `d`.* TO `r1`"),
            Some(Grantee::Role("r1".into()))
        );
        assert_eq!(
            grantee("GRANT SELECT ON `d`.* TO PUBLIC"),
            Some(Grantee::Public)
        );
        assert_eq!(ident("accounts"), "accounts");
        assert_eq!(ident("app.t"), "`app.t`");
        assert_eq!(ident("a`b"), "`a``b`");
    }

    #[test]
    fn refuses_what_the_server_does_not_write() {
        for line in [
            "",
            "GRANT",
            "GRANT SELECT ON TO x",
            "GRANT , ON *.* TO x",
            "GRANT SELECT ON *.* TO `unterminated",
            "GRANT SELECT (a ON *.* TO x",
            "GRANT SELECT ON `a`.`b`.`c` TO x",
            "GRANT SELECT ON *.* TO 'x' WITH\u{0}",
            "-- GRANT SELECT ON *.* TO x",
        ] {
            assert_eq!(parse(line), None, "{line:?}");
        }
    }

    #[test]
    fn patterns_follow_like() {
        assert!(is_pattern("app_%"));
        assert!(is_pattern("app_db"));
        assert!(!is_pattern(r"app\_db"));
        assert!(matches("app%", "app"));
        assert!(matches("app%", "application"));
        assert!(matches("a_p", "axp"));
        assert!(!matches(r"a\_p", "axp"));
        assert!(matches(r"a\_p", "a_p"));
        assert!(matches("%b%c", "aabxbxc"));
        assert!(!matches("%b%c", "aabxbx"));
        assert!(!matches("app", "apps"));
        assert!(matches("%", ""));
        assert!(matches(&"%a".repeat(30), &"a".repeat(64)));
        assert!(!matches(&format!("{}b", "%a".repeat(30)), &"a".repeat(64)));
    }
}
