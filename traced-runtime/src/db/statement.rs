//! What a span says about a statement, worked out once per distinct SQL text: the operation,
//! the collection, the query summary, the span name and the sanitised text (inline literals
//! replaced by `?`), kept in a bounded cache so that a statement executed a million times is
//! parsed once.
//!
//! The parser is a tokenizer, not a SQL grammar: it skips strings, quoted identifiers and
//! comments, and reads the tables after `FROM`, `JOIN`, `INTO`, `UPDATE` and `TABLE`. What it
//! cannot read it leaves out (no collection, no summary) rather than guess.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The default number of distinct statements whose analysis is kept.
pub(crate) const STATEMENT_CACHE_CAPACITY_DEFAULT: usize = 1024;

/// The longest `db.query.summary` recorded (the semantic conventions' advice: 255 characters).
const SUMMARY_MAX_LEN: usize = 255;

/// The analysis of one SQL text.
#[derive(Debug)]
pub(crate) struct Statement {
    /// `db.operation.name`: the first keyword (`SELECT`, `CREATE TABLE`), when the text holds
    /// one statement.
    pub(crate) operation: Option<&'static str>,
    /// `db.collection.name`: the table, when the statement names exactly one.
    pub(crate) collection: Option<Arc<str>>,
    /// `db.query.summary`: operations and tables in order (`SELECT orders customers`).
    pub(crate) summary: Option<Arc<str>>,
    /// The span name: `{operation} {collection}`, else the operation, else `None` (the caller
    /// uses `db.system.name`).
    pub(crate) name: Option<Arc<str>>,
    /// `db.query.text`: the text with inline literals replaced by `?` (or as sent, when the
    /// sanitising is off).
    pub(crate) text: Arc<str>,
}

/// How a dialect quotes: MySQL reads `"…"` as a string unless `ANSI_QUOTES` is set; PostgreSQL
/// and SQLite read it as an identifier.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dialect {
    pub(crate) double_quoted_strings: bool,
}

/// A bounded map from SQL text to its analysis. When full it is emptied, so that the statements
/// in use now are cached again on their next execution (an application's set of statements is
/// small and stable; one that builds SQL with inline values evicts itself, not a fixed set).
#[derive(Debug)]
pub(crate) struct StatementCache {
    map: RwLock<HashMap<Box<str>, Arc<Statement>>>,
    capacity: usize,
    dialect: Dialect,
    sanitize: bool,
}

impl StatementCache {
    pub(crate) fn new(capacity: usize, dialect: Dialect, sanitize: bool) -> Self {
        StatementCache {
            map: RwLock::new(HashMap::new()),
            capacity,
            dialect,
            sanitize,
        }
    }

    /// The analysis of `sql`, from the cache or made now.
    pub(crate) fn get(&self, sql: &str) -> Arc<Statement> {
        if let Some(found) = self
            .map
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(sql)
        {
            return Arc::clone(found);
        }
        let statement = Arc::new(analyze(sql, self.dialect, self.sanitize));
        if self.capacity > 0 {
            let mut map = self
                .map
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if map.len() >= self.capacity {
                map.clear();
            }
            map.insert(sql.into(), Arc::clone(&statement));
        }
        statement
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.read().unwrap().len()
    }
}

/// Analyses one SQL text.
pub(crate) fn analyze(sql: &str, dialect: Dialect, sanitize: bool) -> Statement {
    let tokens = tokenize(sql, dialect);
    let words: Vec<&Token<'_>> = tokens.iter().filter(|t| !t.is_trivia()).collect();

    let mut operations: Vec<&'static str> = Vec::new();
    let mut tables: Vec<String> = Vec::new();
    let mut summary = String::new();
    let mut statements = 0usize;
    let mut at_statement_start = true;
    let mut i = 0;
    while i < words.len() {
        let token = words[i];
        match token {
            Token::Punct(';') => at_statement_start = true,
            Token::Word(word) => {
                let upper = word.to_ascii_uppercase();
                if let Some(op) = operation_keyword(&upper, words.get(i + 1)) {
                    if at_statement_start {
                        statements += 1;
                        at_statement_start = false;
                        if op != "WITH" {
                            operations.push(op);
                        }
                    } else if matches!(op, "SELECT" | "INSERT" | "UPDATE" | "DELETE") {
                        // the main statement after a CTE, or a sub-select
                        if operations.len() < statements {
                            operations.push(op);
                        }
                    } else {
                        i += 1;
                        continue;
                    }
                    if op != "WITH" {
                        push_summary(&mut summary, op);
                    }
                    if op.contains(' ') {
                        i += 1; // the second keyword (`TABLE`)
                    }
                    if op == "UPDATE" || op.ends_with(" TABLE") {
                        if let Some(name) = table_after(&words, i + 1) {
                            push_summary(&mut summary, &name);
                            tables.push(name);
                        }
                    }
                } else if matches!(upper.as_str(), "FROM" | "JOIN" | "INTO") {
                    if let Some(name) = table_after(&words, i + 1) {
                        push_summary(&mut summary, &name);
                        tables.push(name);
                    }
                } else {
                    at_statement_start = false;
                }
            }
            _ => at_statement_start = false,
        }
        i += 1;
    }

    let operation = if statements == 1 {
        operations.first().copied()
    } else {
        None
    };
    tables.dedup();
    let collection = match (statements, tables.as_slice()) {
        (1, [only]) => Some(Arc::<str>::from(only.as_str())),
        _ => None,
    };
    let name = match (operation, &collection) {
        (Some(op), Some(table)) => Some(Arc::from(format!("{op} {table}"))),
        (Some(op), None) => Some(Arc::from(op)),
        _ => None,
    };
    let summary = if summary.is_empty() {
        None
    } else {
        if summary.len() > SUMMARY_MAX_LEN {
            let mut end = SUMMARY_MAX_LEN;
            while !summary.is_char_boundary(end) {
                end -= 1;
            }
            summary.truncate(end);
        }
        Some(Arc::from(summary))
    };
    let text = if sanitize {
        sanitized(sql, &tokens)
    } else {
        Arc::from(sql)
    };
    Statement {
        operation,
        collection,
        summary,
        name,
        text,
    }
}

fn push_summary(summary: &mut String, part: &str) {
    if !summary.is_empty() {
        summary.push(' ');
    }
    summary.push_str(part);
}

/// The operation a keyword starts (`CREATE` followed by `TABLE` is `CREATE TABLE`).
fn operation_keyword(upper: &str, next: Option<&&Token<'_>>) -> Option<&'static str> {
    let next_upper = match next {
        Some(Token::Word(word)) => word.to_ascii_uppercase(),
        _ => String::new(),
    };
    Some(match upper {
        "SELECT" => "SELECT",
        "INSERT" => "INSERT",
        "UPDATE" => "UPDATE",
        "DELETE" => "DELETE",
        "MERGE" => "MERGE",
        "REPLACE" => "REPLACE",
        "UPSERT" => "UPSERT",
        "WITH" => "WITH",
        "VALUES" => "VALUES",
        "TRUNCATE" => "TRUNCATE",
        "BEGIN" => "BEGIN",
        "START" => "START TRANSACTION",
        "COMMIT" => "COMMIT",
        "ROLLBACK" => "ROLLBACK",
        "SAVEPOINT" => "SAVEPOINT",
        "RELEASE" => "RELEASE",
        "CALL" => "CALL",
        "EXPLAIN" => "EXPLAIN",
        "SHOW" => "SHOW",
        "SET" => "SET",
        "PRAGMA" => "PRAGMA",
        "CREATE" | "DROP" | "ALTER" => match (upper, next_upper.as_str()) {
            ("CREATE", "TABLE") => "CREATE TABLE",
            ("DROP", "TABLE") => "DROP TABLE",
            ("ALTER", "TABLE") => "ALTER TABLE",
            ("CREATE", "INDEX") => "CREATE INDEX",
            ("DROP", "INDEX") => "DROP INDEX",
            ("CREATE", "VIEW") => "CREATE VIEW",
            ("DROP", "VIEW") => "DROP VIEW",
            ("CREATE", _) => "CREATE",
            ("DROP", _) => "DROP",
            _ => "ALTER",
        },
        _ => return None,
    })
}

/// The (possibly qualified, possibly quoted) table name starting at `words[i]`, after the
/// optional `IF [NOT] EXISTS` and `ONLY`; `None` for a sub-select or anything else.
fn table_after(words: &[&Token<'_>], mut i: usize) -> Option<String> {
    loop {
        match words.get(i) {
            Some(Token::Word(word))
                if [
                    "IF",
                    "NOT",
                    "EXISTS",
                    "ONLY",
                    "IGNORE",
                    "LOW_PRIORITY",
                    "TEMPORARY",
                ]
                .iter()
                .any(|k| word.eq_ignore_ascii_case(k)) =>
            {
                i += 1;
            }
            _ => break,
        }
    }
    let mut name = String::new();
    loop {
        match words.get(i) {
            Some(Token::Word(word)) if !is_reserved(word) => name.push_str(word),
            Some(Token::Quoted(word)) => name.push_str(word),
            _ => return None,
        }
        match words.get(i + 1) {
            Some(Token::Punct('.')) => {
                name.push('.');
                i += 2;
            }
            _ => return Some(name),
        }
    }
}

fn is_reserved(word: &str) -> bool {
    ["SELECT", "WITH", "VALUES", "LATERAL", "UNNEST"]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
}

#[derive(Debug, PartialEq)]
enum Token<'a> {
    /// A keyword or a bare identifier.
    Word(&'a str),
    /// A quoted identifier, without its quotes.
    Quoted(&'a str),
    /// A string or number literal: the byte range replaced by `?` when sanitising.
    Literal(usize, usize),
    /// A placeholder (`$1`, `?`, `?1`, `:name`, `@name`), kept.
    Placeholder,
    Punct(char),
    /// Whitespace and comments.
    Trivia,
}

impl Token<'_> {
    fn is_trivia(&self) -> bool {
        matches!(
            self,
            Token::Trivia | Token::Literal(..) | Token::Placeholder
        )
    }
}

fn tokenize(sql: &str, dialect: Dialect) -> Vec<Token<'_>> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        match b {
            b if b.is_ascii_whitespace() => {
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                tokens.push(Token::Trivia);
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                tokens.push(Token::Trivia);
            }
            b'#' if dialect.double_quoted_strings => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                tokens.push(Token::Trivia);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i = (i + 2).min(bytes.len());
                tokens.push(Token::Trivia);
            }
            b'\'' => {
                i = skip_quoted(bytes, i, b'\'', dialect.double_quoted_strings);
                tokens.push(Token::Literal(start, i));
            }
            b'"' if dialect.double_quoted_strings => {
                i = skip_quoted(bytes, i, b'"', true);
                tokens.push(Token::Literal(start, i));
            }
            b'"' | b'`' => {
                i = skip_quoted(bytes, i, b, false);
                let inner_end = if i > start + 1 && bytes[i - 1] == b {
                    i - 1
                } else {
                    i
                };
                tokens.push(Token::Quoted(&sql[start + 1..inner_end]));
            }
            b'$' => {
                i += 1;
                if bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                    tokens.push(Token::Placeholder);
                } else {
                    // a PostgreSQL dollar-quoted string: $tag$ … $tag$
                    while i < bytes.len() && is_ident(bytes[i]) {
                        i += 1;
                    }
                    if bytes.get(i) == Some(&b'$') {
                        let tag = &sql[start..=i];
                        i += 1;
                        match sql[i..].find(tag) {
                            Some(end) => i += end + tag.len(),
                            None => i = bytes.len(),
                        }
                        tokens.push(Token::Literal(start, i));
                    } else {
                        tokens.push(Token::Punct('$'));
                    }
                }
            }
            b'?' | b':' | b'@'
                if bytes
                    .get(i + 1)
                    .is_some_and(|&n| is_ident(n) && (b != b':' || n != b':')) =>
            {
                i += 1;
                while i < bytes.len() && is_ident(bytes[i]) {
                    i += 1;
                }
                tokens.push(Token::Placeholder);
            }
            b'?' => {
                i += 1;
                tokens.push(Token::Placeholder);
            }
            b'0'..=b'9' => {
                // a number: digits, a fraction, an exponent, or a 0x… literal
                i += 1;
                while i < bytes.len()
                    && (is_ident(bytes[i])
                        || bytes[i] == b'.'
                        || ((bytes[i] == b'+' || bytes[i] == b'-')
                            && matches!(bytes[i - 1], b'e' | b'E')))
                {
                    i += 1;
                }
                tokens.push(Token::Literal(start, i));
            }
            b'.' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
                && !matches!(tokens.last(), Some(Token::Word(_) | Token::Quoted(_))) =>
            {
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'e') {
                    i += 1;
                }
                tokens.push(Token::Literal(start, i));
            }
            b if is_ident(b) => {
                while i < bytes.len() && (is_ident(bytes[i]) || bytes[i] == b'$') {
                    i += 1;
                }
                // E'…', X'…', B'…', N'…': a prefixed string literal
                if bytes.get(i) == Some(&b'\'') && i - start == 1 {
                    i = skip_quoted(bytes, i, b'\'', dialect.double_quoted_strings || b == b'E');
                    tokens.push(Token::Literal(start, i));
                } else {
                    tokens.push(Token::Word(&sql[start..i]));
                }
            }
            _ => {
                let ch = sql[i..].chars().next().unwrap_or('\u{fffd}');
                i += ch.len_utf8();
                tokens.push(Token::Punct(ch));
            }
        }
    }
    tokens
}

/// The end of the quoted run starting at `bytes[start] == quote`: a doubled quote is an escaped
/// one, and so is a backslash-escaped one where backslashes escape (MySQL, PostgreSQL `E''`).
fn skip_quoted(bytes: &[u8], start: usize, quote: u8, backslash_escapes: bool) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if backslash_escapes && bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// `sql` with every literal replaced by `?`; `sql` itself when it has none.
fn sanitized(sql: &str, tokens: &[Token<'_>]) -> Arc<str> {
    let mut out = String::new();
    let mut copied = 0;
    for token in tokens {
        if let Token::Literal(start, end) = *token {
            out.push_str(&sql[copied..start]);
            out.push('?');
            copied = end;
        }
    }
    if copied == 0 {
        return Arc::from(sql);
    }
    out.push_str(&sql[copied..]);
    Arc::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PG: Dialect = Dialect {
        double_quoted_strings: false,
    };
    const MYSQL: Dialect = Dialect {
        double_quoted_strings: true,
    };

    fn row(
        sql: &str,
        dialect: Dialect,
    ) -> (
        Option<&'static str>,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
    ) {
        let s = analyze(sql, dialect, true);
        (
            s.operation,
            s.collection.map(|c| c.to_string()),
            s.summary.map(|c| c.to_string()),
            s.name.map(|c| c.to_string()),
            s.text.to_string(),
        )
    }

    /// SQL, dialect, then the expected operation, collection, summary, name and text.
    type Row = (
        &'static str,
        Dialect,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        &'static str,
    );

    #[test]
    fn statements_are_summarised_and_sanitised() {
        let table: &[Row] = &[
            (
                "SELECT id, total FROM orders WHERE id = $1",
                PG,
                Some("SELECT"),
                Some("orders"),
                Some("SELECT orders"),
                Some("SELECT orders"),
                "SELECT id, total FROM orders WHERE id = $1",
            ),
            (
                "select * from orders where id = 42 and name = 'bob''s'",
                PG,
                Some("SELECT"),
                Some("orders"),
                Some("SELECT orders"),
                Some("SELECT orders"),
                "select * from orders where id = ? and name = ?",
            ),
            (
                "INSERT INTO shop.orders (id, note) VALUES (?, 'x')",
                MYSQL,
                Some("INSERT"),
                Some("shop.orders"),
                Some("INSERT shop.orders"),
                Some("INSERT shop.orders"),
                "INSERT INTO shop.orders (id, note) VALUES (?, ?)",
            ),
            (
                "UPDATE `orders` SET note = \"secret\" WHERE id = ?",
                MYSQL,
                Some("UPDATE"),
                Some("orders"),
                Some("UPDATE orders"),
                Some("UPDATE orders"),
                "UPDATE `orders` SET note = ? WHERE id = ?",
            ),
            (
                "UPDATE \"orders\" SET t1 = 1.5e-3",
                PG,
                Some("UPDATE"),
                Some("orders"),
                Some("UPDATE orders"),
                Some("UPDATE orders"),
                "UPDATE \"orders\" SET t1 = ?",
            ),
            (
                "DELETE FROM orders WHERE id = ?1",
                PG,
                Some("DELETE"),
                Some("orders"),
                Some("DELETE orders"),
                Some("DELETE orders"),
                "DELETE FROM orders WHERE id = ?1",
            ),
            (
                "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer",
                PG,
                Some("SELECT"),
                None,
                Some("SELECT orders customers"),
                Some("SELECT"),
                "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer",
            ),
            (
                "CREATE TABLE IF NOT EXISTS orders_7 (id BIGINT PRIMARY KEY)",
                PG,
                Some("CREATE TABLE"),
                Some("orders_7"),
                Some("CREATE TABLE orders_7"),
                Some("CREATE TABLE orders_7"),
                "CREATE TABLE IF NOT EXISTS orders_7 (id BIGINT PRIMARY KEY)",
            ),
            (
                "DROP TABLE IF EXISTS orders_7",
                PG,
                Some("DROP TABLE"),
                Some("orders_7"),
                Some("DROP TABLE orders_7"),
                Some("DROP TABLE orders_7"),
                "DROP TABLE IF EXISTS orders_7",
            ),
            (
                "INSERT INTO archive SELECT * FROM orders",
                PG,
                Some("INSERT"),
                None,
                Some("INSERT archive SELECT orders"),
                Some("INSERT"),
                "INSERT INTO archive SELECT * FROM orders",
            ),
            (
                "SELECT 1",
                PG,
                Some("SELECT"),
                None,
                Some("SELECT"),
                Some("SELECT"),
                "SELECT ?",
            ),
            (
                "SELECT $$it's$$ || E'\\'x'",
                PG,
                Some("SELECT"),
                None,
                Some("SELECT"),
                Some("SELECT"),
                "SELECT ? || ?",
            ),
            (
                "BEGIN; SELECT * FROM t; COMMIT",
                PG,
                None,
                None,
                Some("BEGIN SELECT t COMMIT"),
                None,
                "BEGIN; SELECT * FROM t; COMMIT",
            ),
            (
                "WITH recent AS (SELECT * FROM orders) SELECT * FROM recent",
                PG,
                Some("SELECT"),
                None,
                Some("SELECT orders SELECT recent"),
                Some("SELECT"),
                "WITH recent AS (SELECT * FROM orders) SELECT * FROM recent",
            ),
            (
                "-- 'not a literal'\nSELECT x FROM t /* 7 */",
                PG,
                Some("SELECT"),
                Some("t"),
                Some("SELECT t"),
                Some("SELECT t"),
                "-- 'not a literal'\nSELECT x FROM t /* 7 */",
            ),
            (
                "frobnicate the widgets",
                PG,
                None,
                None,
                None,
                None,
                "frobnicate the widgets",
            ),
            (
                "SELECT * FROM (SELECT 1) AS sub",
                PG,
                Some("SELECT"),
                None,
                Some("SELECT SELECT"),
                Some("SELECT"),
                "SELECT * FROM (SELECT ?) AS sub",
            ),
            (
                "SELECT x::text, 0x1F FROM t WHERE y = :name",
                PG,
                Some("SELECT"),
                Some("t"),
                Some("SELECT t"),
                Some("SELECT t"),
                "SELECT x::text, ? FROM t WHERE y = :name",
            ),
        ];
        for (sql, dialect, op, collection, summary, name, text) in table {
            let expected = (
                *op,
                collection.map(str::to_owned),
                summary.map(str::to_owned),
                name.map(str::to_owned),
                (*text).to_owned(),
            );
            assert_eq!(row(sql, *dialect), expected, "{sql}");
        }
    }

    #[test]
    fn sanitising_can_be_turned_off() {
        let s = analyze("SELECT * FROM t WHERE id = 42", PG, false);
        assert_eq!(&*s.text, "SELECT * FROM t WHERE id = 42");
    }

    #[test]
    fn the_cache_is_bounded_and_returns_the_same_analysis() {
        let cache = StatementCache::new(2, PG, true);
        let first = cache.get("SELECT 1");
        assert!(Arc::ptr_eq(&first, &cache.get("SELECT 1")));
        cache.get("SELECT 2");
        assert_eq!(cache.len(), 2);
        cache.get("SELECT 3");
        assert!(cache.len() <= 2);
    }
}
