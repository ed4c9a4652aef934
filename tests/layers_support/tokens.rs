//! The tokenizer: Rust source to identifiers, punctuation, literals and lifetimes, with comments,
//! doc comments and the contents of string and char literals gone; then attributes and every
//! item gated on `cfg(test)` removed.
//!
//! It is not a Rust lexer: numbers are one token up to the next non-identifier character (so
//! `1.5` is `1` `.` `5`), and only `::`, `->` and `=>` are joined punctuation. That is all the
//! scanner needs to find paths, `use` trees, items and member accesses.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An identifier or keyword (`r#type` is the identifier `type`).
    Ident,
    /// Punctuation: one character, or `::`, `->`, `=>`.
    Punct,
    /// A string, char, byte or number literal; its text is not kept.
    Literal,
    /// A lifetime or loop label such as `'a`.
    Lifetime,
}

/// One token and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) text: String,
    pub(crate) line: usize,
}

impl Token {
    /// Whether this is the identifier or punctuation `text` (never true of a literal).
    pub(crate) fn is(&self, text: &str) -> bool {
        self.kind != Kind::Literal && self.text == text
    }

    pub(crate) fn is_ident(&self) -> bool {
        self.kind == Kind::Ident
    }
}

/// Whether `tokens[i]` exists and is `text`.
pub(crate) fn is_at(tokens: &[Token], i: usize, text: &str) -> bool {
    tokens.get(i).is_some_and(|t| t.is(text))
}

fn ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits `src` into tokens, dropping whitespace and comments (nested block comments included).
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut lexer = Lexer { chars: &chars, i: 0, line: 1, tokens: Vec::new() };
    while lexer.i < chars.len() {
        lexer.next_token()?;
    }
    Ok(lexer.tokens)
}

struct Lexer<'a> {
    chars: &'a [char],
    i: usize,
    line: usize,
    tokens: Vec<Token>,
}

impl Lexer<'_> {
    fn at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.i + offset).copied()
    }

    fn push(&mut self, kind: Kind, text: String, line: usize) {
        self.tokens.push(Token { kind, text, line });
    }

    /// Consumes one char, counting lines.
    fn bump(&mut self) {
        if self.at(0) == Some('\n') {
            self.line += 1;
        }
        self.i += 1;
    }

    fn next_token(&mut self) -> Result<(), String> {
        let line = self.line;
        let c = self.chars[self.i];
        match (c, self.at(1)) {
            _ if c.is_whitespace() => self.bump(),
            ('/', Some('/')) => {
                while self.at(0).is_some_and(|c| c != '\n') {
                    self.bump();
                }
            }
            ('/', Some('*')) => self.block_comment(line)?,
            ('"', _) => {
                self.bump();
                self.quoted('"', line)?;
                self.push(Kind::Literal, String::new(), line);
            }
            ('\'', _) => self.char_or_lifetime(line)?,
            _ if ident_start(c) => self.ident_or_prefixed_literal(line)?,
            _ if c.is_ascii_digit() => {
                while self.at(0).is_some_and(ident_char) {
                    self.bump();
                }
                self.push(Kind::Literal, String::new(), line);
            }
            (':', Some(':')) | ('-', Some('>')) | ('=', Some('>')) => {
                self.i += 2;
                self.push(Kind::Punct, format!("{c}{}", self.chars[self.i - 1]), line);
            }
            _ => {
                self.bump();
                self.push(Kind::Punct, c.to_string(), line);
            }
        }
        Ok(())
    }

    fn block_comment(&mut self, line: usize) -> Result<(), String> {
        let mut depth = 0usize;
        loop {
            match (self.at(0), self.at(1)) {
                (Some('/'), Some('*')) => {
                    depth += 1;
                    self.i += 2;
                }
                (Some('*'), Some('/')) => {
                    depth -= 1;
                    self.i += 2;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                (Some(_), _) => self.bump(),
                (None, _) => return Err(format!("line {line}: unterminated block comment")),
            }
        }
    }

    /// Consumes up to and including the closing `close`, honouring backslash escapes.
    fn quoted(&mut self, close: char, line: usize) -> Result<(), String> {
        loop {
            match self.at(0) {
                None => return Err(format!("line {line}: unterminated literal")),
                Some('\\') => {
                    self.bump();
                    self.bump();
                }
                Some(c) => {
                    self.bump();
                    if c == close {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// `r"..."`, `r#"..."#`: the cursor is on the first `#` or the `"`.
    fn raw_string(&mut self, line: usize) -> Result<(), String> {
        let mut hashes = 0;
        while self.at(0) == Some('#') {
            hashes += 1;
            self.i += 1;
        }
        if self.at(0) != Some('"') {
            return Err(format!("line {line}: malformed raw string"));
        }
        self.i += 1;
        loop {
            match self.at(0) {
                None => return Err(format!("line {line}: unterminated raw string")),
                Some('"') if (1..=hashes).all(|k| self.at(k) == Some('#')) => {
                    self.i += 1 + hashes;
                    return Ok(());
                }
                Some(_) => self.bump(),
            }
        }
    }

    /// A char literal (`'a'`, `'\n'`, `'\u{1F600}'`) or a lifetime (`'a`, `'static`).
    fn char_or_lifetime(&mut self, line: usize) -> Result<(), String> {
        if self.at(1) == Some('\\') || self.at(2) == Some('\'') {
            self.bump();
            return self.quoted('\'', line).map(|()| self.push(Kind::Literal, String::new(), line));
        }
        self.i += 1;
        let start = self.i;
        while self.at(0).is_some_and(ident_char) {
            self.i += 1;
        }
        let name: String = self.chars[start..self.i].iter().collect();
        self.push(Kind::Lifetime, format!("'{name}"), line);
        Ok(())
    }

    fn ident_or_prefixed_literal(&mut self, line: usize) -> Result<(), String> {
        let start = self.i;
        while self.at(0).is_some_and(ident_char) {
            self.i += 1;
        }
        let word: String = self.chars[start..self.i].iter().collect();
        let raw_prefix = matches!(word.as_str(), "r" | "br" | "cr");
        match (self.at(0), self.at(1)) {
            (Some('"'), _) if raw_prefix => self.raw_string(line)?,
            (Some('#'), Some('"' | '#')) if raw_prefix => self.raw_string(line)?,
            (Some('#'), Some(c)) if word == "r" && ident_start(c) => {
                self.i += 1;
                return self.ident_or_prefixed_literal(line); // r#type is the identifier `type`
            }
            (Some('"'), _) if matches!(word.as_str(), "b" | "c") => {
                self.i += 1;
                self.quoted('"', line)?;
            }
            (Some('\''), _) if word == "b" => {
                self.i += 1;
                self.quoted('\'', line)?;
            }
            _ => {
                self.push(Kind::Ident, word, line);
                return Ok(());
            }
        }
        self.push(Kind::Literal, String::new(), line);
        Ok(())
    }
}

/// Index of the bracket closing the one at `open` (any of `(`, `[`, `{`).
pub(crate) fn matching(tokens: &[Token], open: usize) -> Result<usize, String> {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        if t.kind != Kind::Punct {
            continue;
        }
        match t.text.as_str() {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i);
                }
            }
            _ => {}
        }
    }
    Err(format!("line {}: unbalanced `{}`", tokens[open].line, tokens[open].text))
}

/// Drops every attribute, and every item (or field, statement, variant) that an attribute gates on
/// `cfg(test)`: `#[cfg(test)] mod tests { ... }`, `#[cfg(all(test, loom))] mod loom_tests;` and
/// the like. Test code may reach anywhere, so it makes no edges.
pub(crate) fn strip_attributes_and_test_code(tokens: &[Token]) -> Result<Vec<Token>, String> {
    strip_test_code(tokens, false)
}

/// Drops every item that an attribute gates on `cfg(test)` (as
/// [`strip_attributes_and_test_code`]), keeping the other attributes when `keep_attributes`.
pub(crate) fn strip_test_code(
    tokens: &[Token],
    keep_attributes: bool,
) -> Result<Vec<Token>, String> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut skip_next_item = false;
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i].is("#") {
            let inner = is_at(tokens, i + 1, "!");
            let open = if inner { i + 2 } else { i + 1 };
            if is_at(tokens, open, "[") {
                let close = matching(tokens, open)?;
                if cfg_requires_test(&tokens[open + 1..close]) {
                    if inner {
                        let line = tokens[i].line;
                        return Err(format!("line {line}: inner `#![cfg(test)]` is not supported"));
                    }
                    skip_next_item = true;
                } else if keep_attributes && !skip_next_item {
                    out.extend_from_slice(&tokens[i..=close]);
                }
                i = close + 1;
                continue;
            }
        }
        if skip_next_item {
            i = item_end(tokens, i)?;
            skip_next_item = false;
            continue;
        }
        out.push(tokens[i].clone());
        i += 1;
    }
    Ok(out)
}

/// Whether the attribute (the tokens inside `#[...]`) is a `cfg` that can only hold under test:
/// `test`, or `all(..)` with such a predicate, or `any(..)` of only such predicates.
fn cfg_requires_test(attr: &[Token]) -> bool {
    match attr {
        [cfg, open, predicate @ .., close] if cfg.is("cfg") && open.is("(") && close.is(")") => {
            predicate_requires_test(predicate)
        }
        _ => false,
    }
}

fn predicate_requires_test(predicate: &[Token]) -> bool {
    match predicate {
        [t] => t.is("test"),
        [head, open, args @ .., close] if open.is("(") && close.is(")") => {
            let parts = split_top_level_commas(args);
            if head.is("all") {
                parts.iter().any(|p| predicate_requires_test(p))
            } else if head.is("any") {
                !parts.is_empty() && parts.iter().all(|p| predicate_requires_test(p))
            } else {
                false // not(..), feature = "..", and the rest can hold outside tests
            }
        }
        _ => false,
    }
}

fn split_top_level_commas(tokens: &[Token]) -> Vec<&[Token]> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, t) in tokens.iter().enumerate() {
        if t.kind != Kind::Punct {
            continue;
        }
        match t.text.as_str() {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth -= 1,
            "," if depth == 0 => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tokens[start..]);
    parts.retain(|p| !p.is_empty());
    parts
}

/// Items that end with their `{ ... }` body (or a `;` for `mod m;`, `struct S;`, `struct S(u8);`).
const BRACED_ITEMS: &[&str] =
    &["mod", "fn", "impl", "trait", "struct", "enum", "union", "macro_rules"];
/// Items that end only at `;` (a `,` or a `{` inside them is part of them).
const SEMICOLON_ITEMS: &[&str] = &["use", "const", "static", "type", "let", "extern"];

/// The item keyword at `start`, after visibility and qualifiers (`pub(crate) const unsafe fn`).
fn item_keyword(tokens: &[Token], mut i: usize) -> Option<&str> {
    if is_at(tokens, i, "pub") {
        i += 1;
        if is_at(tokens, i, "(") {
            i = matching(tokens, i).ok()? + 1;
        }
    }
    loop {
        let t = tokens.get(i)?;
        let next_is_item = tokens.get(i + 1).is_some_and(|n| {
            ["fn", "unsafe", "async", "extern", "trait", "impl"].contains(&n.text.as_str())
        });
        if (t.is("const") && next_is_item) || t.is("unsafe") || t.is("async") {
            i += 1;
        } else {
            return Some(t.text.as_str());
        }
    }
}

/// Index just past the item starting at `start`.
fn item_end(tokens: &[Token], start: usize) -> Result<usize, String> {
    let keyword = item_keyword(tokens, start).unwrap_or("");
    let braced = BRACED_ITEMS.contains(&keyword);
    let semicolon_only = SEMICOLON_ITEMS.contains(&keyword);
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(start) {
        if t.kind != Kind::Punct {
            continue;
        }
        match t.text.as_str() {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" if depth == 0 => return Ok(i), // the enclosing group ends the item
            ")" | "]" | "}" => {
                depth -= 1;
                if depth == 0 && t.text == "}" && braced {
                    return Ok(i + 1);
                }
            }
            ";" if depth == 0 => return Ok(i + 1),
            "," if depth == 0 && !braced && !semicolon_only => return Ok(i + 1),
            _ => {}
        }
    }
    Err(format!("line {}: the item gated on cfg(test) does not end", tokens[start].line))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<String> {
        let tokens = tokenize(src).unwrap();
        strip_attributes_and_test_code(&tokens).unwrap().into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn comments_strings_and_chars_leave_no_identifiers() {
        let src = r####"
            // crate::line::comment
            /// crate::doc::comment
            //! crate::inner::doc
            /* crate::block /* crate::nested */ still::comment */
            let a = "crate::in::string \" crate::escaped";
            let b = r#"crate::raw "quoted" string"#;
            let c = b"crate::bytes"; let d = '"'; let e = '\''; let f = b'\\';
            let g: &'static str = "http://example/"; 'outer: loop {}
        "####;
        let words = texts(src);
        assert!(!words.iter().any(|w| w == "crate"), "{words:?}");
        assert!(words.contains(&"'static".to_string()) && words.contains(&"'outer".to_string()));
        assert_eq!(words.iter().filter(|w| w.is_empty()).count(), 7, "seven literals: {words:?}");
    }

    #[test]
    fn lines_are_counted_through_comments_and_strings() {
        let tokens = tokenize("/* a\n b */ x \"c\nd\" y\n// z\nw").unwrap();
        let lines: Vec<(String, usize)> = tokens.into_iter().map(|t| (t.text, t.line)).collect();
        let expected = [("x", 2), ("", 2), ("y", 3), ("w", 5)];
        assert_eq!(lines, expected.map(|(t, l)| (t.to_string(), l)));
    }

    #[test]
    fn raw_identifiers_and_joined_punctuation() {
        assert_eq!(texts("r#type::a -> b => c"), ["type", "::", "a", "->", "b", "=>", "c"]);
    }

    #[test]
    fn test_gated_items_are_removed_and_others_kept() {
        let src = "
            #[cfg(test)]
            mod tests { use crate::secret::Thing; }
            #[cfg(all(test, loom))] mod loom_tests;
            #[cfg(any(test, feature = \"x\"))] fn kept_any() {}
            #[cfg(not(test))] fn kept_not() {}
            #[cfg(all(test, not(loom)))]
            #[allow(unused)]
            mod more_tests { fn f() { crate::secret::g(); } }
            struct S { #[cfg(test)] hidden: u8, shown: u8 }
            #[derive(Debug)] struct T;";
        let words = texts(src);
        for gone in ["secret", "loom_tests", "more_tests", "hidden", "derive"] {
            assert!(!words.iter().any(|w| w == gone), "{gone} in {words:?}");
        }
        for kept in ["kept_any", "kept_not", "shown", "T"] {
            assert!(words.iter().any(|w| w == kept), "{kept} not in {words:?}");
        }
    }
}
