//! The per-file scanner: from the tokens of one module file (attributes and test code already
//! gone), what the file declares (`mod`s, items and their visibility, inherent methods, struct
//! fields) and everything it refers to (`use` trees, `a::b` paths, identifiers a glob import may
//! supply, `.member` accesses).

use super::tokens::{Kind, Token, is_at, matching};
use std::collections::BTreeMap;

/// An item's visibility, most visible first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Vis {
    Pub,
    Crate,
    Restricted,
    Private,
}

impl Vis {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Vis::Pub => "pub",
            Vis::Crate => "pub(crate)",
            Vis::Restricted => "pub(super/in)",
            Vis::Private => "private",
        }
    }
}

/// One leaf of a `use` tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UseEntry {
    /// The path as written, `self` leaves folded into their parent (`use a::{self}` is `a`).
    /// For a glob, the path of what the glob imports from.
    pub(crate) segs: Vec<String>,
    pub(crate) glob: bool,
    /// The name the entry binds (`None` for a glob and for `as _`).
    pub(crate) binding: Option<String>,
    pub(crate) vis: Vis,
    /// At module level (not inside a function or block): only these are visible to other files.
    pub(crate) module_level: bool,
    pub(crate) line: usize,
}

/// A path `a::b::c` outside `use`, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathRef {
    pub(crate) segs: Vec<String>,
    pub(crate) line: usize,
}

/// A method of an inherent `impl`, or a named field of a struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    /// The self type's (or struct's) name, without path or generics.
    pub(crate) owner: String,
    pub(crate) name: String,
    pub(crate) vis: Vis,
}

/// What one file declares and refers to.
#[derive(Debug, Default)]
pub(crate) struct FileScan {
    /// `mod name;` declarations.
    pub(crate) mods: BTreeMap<String, Vis>,
    /// Module-level items: struct, enum, union, trait, fn, type, const, static, macro_rules.
    pub(crate) defs: BTreeMap<String, Vis>,
    pub(crate) uses: Vec<UseEntry>,
    pub(crate) paths: Vec<PathRef>,
    /// Bare identifiers (not after `.`, `::` or `$`, not before `:`) that a glob might supply.
    pub(crate) idents: Vec<(String, usize)>,
    /// Methods of inherent impls.
    pub(crate) methods: Vec<Member>,
    /// Methods declared in traits and defined in trait impls (public wherever the trait is).
    pub(crate) trait_methods: Vec<Member>,
    pub(crate) fields: Vec<Member>,
    /// `.name` accesses: the name, its line, and whether it is called (`.name(` or `.name::<`).
    pub(crate) accesses: Vec<(String, usize, bool)>,
}

pub(crate) const KEYWORDS: &[&str] = &[
    "as",
    "async",
    "await",
    "break",
    "const",
    "continue",
    "crate",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "Self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "union",
    "unsafe",
    "use",
    "where",
    "while",
    "macro_rules",
];

const DEF_KEYWORDS: &[&str] =
    &["struct", "enum", "union", "trait", "type", "fn", "const", "static", "mod"];

/// What the brace being opened belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Block {
    Impl {
        owner: String,
        of_trait: bool,
    },
    Trait(String),
    Struct(String),
    /// The body of a macro invoked at module level (`bitflags! { pub struct .. }`): the items
    /// in it are module-level items.
    Macro,
    Other,
}

/// Scans one file's tokens.
pub(crate) fn scan(tokens: &[Token]) -> Result<FileScan, String> {
    let mut s = FileScan::default();
    let mut blocks: Vec<Block> = Vec::new();
    let mut pending: Option<Block> = None;
    let mut groups = 0usize; // open ( and [ since the pending block's keyword
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        let prev = i.checked_sub(1).map(|p| &tokens[p]);
        let after_dot_or_path = prev.is_some_and(|p| p.is(".") || p.is("::") || p.is("$"));
        if t.kind == Kind::Punct {
            match t.text.as_str() {
                "{" if prev.is_some_and(|p| p.is("!")) && item_level(&blocks) => {
                    blocks.push(Block::Macro);
                }
                "{" => blocks.push(pending.take().unwrap_or(Block::Other)),
                "}" => drop(blocks.pop()),
                "(" | "[" => groups += 1,
                ")" | "]" => groups = groups.saturating_sub(1),
                ";" if groups == 0 => pending = None,
                "." => {
                    if let Some(next) = tokens.get(i + 1).filter(|n| n.is_ident()) {
                        let called = is_at(tokens, i + 2, "(") || is_at(tokens, i + 2, "::");
                        s.accesses.push((next.text.clone(), next.line, called));
                    }
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        if !t.is_ident() {
            i += 1;
            continue;
        }
        if t.is("use") {
            let module_level = item_level(&blocks);
            i = parse_use(tokens, i, vis_before(tokens, i), module_level, &mut s.uses)?;
            continue;
        }
        let next = tokens.get(i + 1);
        let named =
            next.filter(|n| n.is_ident() && n.text != "_" && !KEYWORDS.contains(&n.text.as_str()));
        let member_of = blocks.split_last().filter(|(_, outer)| item_level(outer)).map(|(b, _)| b);
        if item_level(&blocks) {
            if let Some(name) = named.filter(|_| DEF_KEYWORDS.contains(&t.text.as_str())) {
                let vis = vis_before(tokens, i);
                if t.is("mod") {
                    if !is_at(tokens, i + 2, ";") {
                        return Err(format!(
                            "line {}: inline `mod {}` outside cfg(test) is not supported",
                            t.line, name.text
                        ));
                    }
                    s.mods.insert(name.text.clone(), vis);
                } else {
                    s.defs.entry(name.text.clone()).or_insert(vis);
                }
                match t.text.as_str() {
                    "struct" | "union" => pending = Some(Block::Struct(name.text.clone())),
                    "trait" => pending = Some(Block::Trait(name.text.clone())),
                    _ => {}
                }
                groups = 0;
            } else if t.is("macro_rules") && is_at(tokens, i + 1, "!") {
                if let Some(name) = tokens.get(i + 2).filter(|n| n.is_ident()) {
                    s.defs.entry(name.text.clone()).or_insert(Vis::Private);
                }
            } else if t.is("impl") {
                pending = Some(impl_header(tokens, i + 1));
                groups = 0;
            }
        } else if let Some(owner) = member_of {
            if let (Some(name), true) = (named, t.is("fn")) {
                let vis = vis_before(tokens, i);
                let (owner, of_trait) = match owner {
                    Block::Impl { owner, of_trait } => (owner.clone(), *of_trait),
                    Block::Trait(name) => (name.clone(), true),
                    _ => (String::new(), false),
                };
                let member = Member { owner, name: name.text.clone(), vis };
                match (member.owner.is_empty(), of_trait) {
                    (true, _) => {}
                    (false, true) => s.trait_methods.push(member),
                    (false, false) => s.methods.push(member),
                }
            }
            if let Block::Struct(owner) = owner
                && is_field_name(tokens, i)
            {
                let vis = vis_before(tokens, i);
                s.fields.push(Member { owner: owner.clone(), name: t.text.clone(), vis });
            }
        }
        if !after_dot_or_path && is_at(tokens, i + 1, "::") {
            let (segs, end) = path_at(tokens, i);
            s.paths.push(PathRef { segs, line: t.line });
            if !KEYWORDS.contains(&t.text.as_str()) {
                s.idents.push((t.text.clone(), t.line));
            }
            i = end;
            continue;
        }
        let before_colon = is_at(tokens, i + 1, ":");
        if !after_dot_or_path && !before_colon && !KEYWORDS.contains(&t.text.as_str()) {
            s.idents.push((t.text.clone(), t.line));
        }
        i += 1;
    }
    Ok(s)
}

/// Whether items here are module-level items (not in a function, impl or other block).
fn item_level(blocks: &[Block]) -> bool {
    blocks.iter().all(|b| *b == Block::Macro)
}

/// `name:` at the start of a field (after `{`, `,` or a visibility).
fn is_field_name(tokens: &[Token], i: usize) -> bool {
    if !is_at(tokens, i + 1, ":") {
        return false;
    }
    let mut j = i;
    if j > 0 && tokens[j - 1].is("pub") {
        j -= 1;
    } else if j > 0
        && tokens[j - 1].is(")")
        && let Some(open) = (0..j - 1).rev().find(|&k| tokens[k].is("("))
        && open > 0
        && tokens[open - 1].is("pub")
    {
        j = open - 1;
    }
    j > 0 && (tokens[j - 1].is("{") || tokens[j - 1].is(","))
}

/// The self type of `impl<..> Type<..> {` or `impl<..> Trait for Type {`; `i` is after `impl`.
fn impl_header(tokens: &[Token], mut i: usize) -> Block {
    let skip_generics = |mut i: usize| {
        if is_at(tokens, i, "<") {
            let mut depth = 0usize;
            while let Some(t) = tokens.get(i) {
                if t.is("<") {
                    depth += 1;
                } else if t.is(">") {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                i += 1;
            }
        }
        i
    };
    i = skip_generics(i);
    let mut owner = String::new();
    let mut of_trait = false;
    while let Some(t) = tokens.get(i) {
        if t.is("{") || t.is("where") {
            break;
        }
        if t.is("for") {
            of_trait = true;
        } else if t.is_ident() && !KEYWORDS.contains(&t.text.as_str()) {
            owner = t.text.clone();
            i = skip_generics(i + 1);
            continue;
        }
        i += 1;
    }
    Block::Impl { owner, of_trait }
}

/// The path starting at `i`: identifiers joined by `::`, up to a turbofish, `{`, `*` or the end.
fn path_at(tokens: &[Token], i: usize) -> (Vec<String>, usize) {
    let mut segs = vec![tokens[i].text.clone()];
    let mut j = i + 1;
    while is_at(tokens, j, "::") {
        match tokens.get(j + 1) {
            Some(t) if t.is_ident() => segs.push(t.text.clone()),
            _ => break,
        }
        j += 2;
    }
    (segs, j)
}

/// The visibility written before the item keyword at `i` (skipping `const`, `unsafe`, `async`,
/// `extern "C"`).
fn vis_before(tokens: &[Token], mut i: usize) -> Vis {
    while i > 0 {
        let t = &tokens[i - 1];
        let qualifier = t.is("const") || t.is("unsafe") || t.is("async") || t.is("extern");
        let abi = t.kind == Kind::Literal && i > 1 && tokens[i - 2].is("extern");
        if !(qualifier || abi) {
            break;
        }
        i -= 1;
    }
    match i.checked_sub(1).map(|p| &tokens[p]) {
        Some(t) if t.is("pub") => Vis::Pub,
        Some(t) if t.is(")") => {
            let open = (0..i - 1).rev().find(|&k| tokens[k].is("("));
            match open {
                Some(k) if k > 0 && tokens[k - 1].is("pub") => {
                    if k + 2 == i - 1 && tokens[k + 1].is("crate") {
                        Vis::Crate
                    } else {
                        Vis::Restricted
                    }
                }
                _ => Vis::Private,
            }
        }
        _ => Vis::Private,
    }
}

/// Parses `use <tree>;` starting at the `use` token at `i`; returns the index after the `;`.
fn parse_use(
    tokens: &[Token],
    i: usize,
    vis: Vis,
    module_level: bool,
    out: &mut Vec<UseEntry>,
) -> Result<usize, String> {
    let line = tokens[i].line;
    let start = if is_at(tokens, i + 1, "::") { i + 2 } else { i + 1 };
    let template =
        UseEntry { segs: Vec::new(), glob: false, binding: None, vis, module_level, line };
    let end = use_tree(tokens, start, &[], &template, out)?;
    if !is_at(tokens, end, ";") {
        return Err(format!("line {line}: cannot parse this `use` (no `;` where expected)"));
    }
    Ok(end + 1)
}

/// One use tree under `prefix`: `a::b`, `a::b as c`, `a::{..}`, `a::*`, `{..}`, `*`, `self`.
fn use_tree(
    tokens: &[Token],
    mut i: usize,
    prefix: &[String],
    template: &UseEntry,
    out: &mut Vec<UseEntry>,
) -> Result<usize, String> {
    let fail = || format!("line {}: cannot parse this `use` tree", template.line);
    let t = tokens.get(i).ok_or_else(fail)?;
    if t.is("{") {
        let close = matching(tokens, i)?;
        i += 1;
        while i < close {
            i = use_tree(tokens, i, prefix, template, out)?;
            if is_at(tokens, i, ",") {
                i += 1;
            } else if i != close {
                return Err(fail());
            }
        }
        return Ok(close + 1);
    }
    if t.is("*") {
        out.push(UseEntry { segs: prefix.to_vec(), glob: true, ..template.clone() });
        return Ok(i + 1);
    }
    if !t.is_ident() {
        return Err(fail());
    }
    let mut segs = prefix.to_vec();
    segs.push(t.text.clone());
    i += 1;
    while is_at(tokens, i, "::") {
        let next = tokens.get(i + 1).ok_or_else(fail)?;
        if next.is("{") || next.is("*") {
            return use_tree(tokens, i + 1, &segs, template, out);
        }
        if !next.is_ident() {
            return Err(fail());
        }
        segs.push(next.text.clone());
        i += 2;
    }
    if segs.last().is_some_and(|s| s == "self") && segs.len() > 1 {
        segs.pop();
    }
    let mut binding = segs.last().cloned();
    if is_at(tokens, i, "as") {
        let alias = tokens.get(i + 1).filter(|a| a.is_ident()).ok_or_else(fail)?;
        binding = (alias.text != "_").then(|| alias.text.clone());
        i += 2;
    }
    out.push(UseEntry { segs, binding, ..template.clone() });
    Ok(i)
}

#[cfg(test)]
mod tests {
    use super::super::tokens::{strip_attributes_and_test_code, tokenize};
    use super::*;

    fn scan_src(src: &str) -> FileScan {
        scan(&strip_attributes_and_test_code(&tokenize(src).unwrap()).unwrap()).unwrap()
    }

    fn uses(src: &str) -> Vec<(String, bool, Option<String>)> {
        let entries = scan_src(src).uses;
        entries.into_iter().map(|u| (u.segs.join("::"), u.glob, u.binding)).collect()
    }

    #[test]
    fn nested_use_trees_with_renames_self_and_globs() {
        let got = uses("use crate::{a::{b, c as d, self}, e::*, f::g as _};");
        let expected = [
            ("crate::a::b", false, Some("b")),
            ("crate::a::c", false, Some("d")),
            ("crate::a", false, Some("a")),
            ("crate::e", true, None),
            ("crate::f::g", false, None),
        ];
        let expected: Vec<_> =
            expected.iter().map(|(p, g, b)| (p.to_string(), *g, b.map(String::from))).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn super_chains_and_inline_paths() {
        let s = scan_src(
            "use super::super::x;\nfn f() { let _ = crate::job::options::check(1); \
             super::worker::Stop::Preempt; a.b::<u8>(); Vec::<u8>::new(); }",
        );
        assert_eq!(s.uses[0].segs, ["super", "super", "x"]);
        assert!(s.uses[0].module_level);
        let paths: Vec<String> = s.paths.iter().map(|p| p.segs.join("::")).collect();
        assert_eq!(paths, ["crate::job::options::check", "super::worker::Stop::Preempt", "Vec"]);
        assert_eq!(s.paths[1].line, 2);
    }

    #[test]
    fn items_visibility_members_and_fields() {
        let s = scan_src(
            "pub(crate) mod m; pub mod n; mod o;\n\
             pub struct Job { pub(crate) shared: u8, pub name: String, secret: u8 }\n\
             impl<'a> Job { pub(crate) fn inner(&self) {} pub fn outer(&self) { self.inner(); } }\n\
             impl fmt::Debug for Job { fn fmt(&self) {} }\n\
             pub const fn c() {} pub(super) static S: u8 = 0; macro_rules! mac { () => {} }\n\
             fn body() { use std::io::Read; struct Local; }",
        );
        let vis = |name: &str| s.defs.get(name).copied();
        assert_eq!(s.mods.keys().collect::<Vec<_>>(), ["m", "n", "o"]);
        assert_eq!((s.mods["m"], s.mods["n"], s.mods["o"]), (Vis::Crate, Vis::Pub, Vis::Private));
        assert_eq!(
            (vis("Job"), vis("c"), vis("S")),
            (Some(Vis::Pub), Some(Vis::Pub), Some(Vis::Restricted))
        );
        assert_eq!(
            (vis("mac"), vis("body"), vis("Local")),
            (Some(Vis::Private), Some(Vis::Private), None)
        );
        let fields: Vec<_> = s.fields.iter().map(|f| (f.name.as_str(), f.vis)).collect();
        assert_eq!(fields, [("shared", Vis::Crate), ("name", Vis::Pub), ("secret", Vis::Private)]);
        let methods: Vec<_> =
            s.methods.iter().map(|m| (m.owner.as_str(), m.name.as_str(), m.vis)).collect();
        assert_eq!(methods, [("Job", "inner", Vis::Crate), ("Job", "outer", Vis::Pub)]);
        assert_eq!(s.trait_methods[0].name, "fmt");
        assert!(s.accesses.contains(&("inner".to_string(), 3, true)));
        assert!(!s.uses[0].module_level, "a use inside a function body");
    }

    #[test]
    fn items_inside_module_level_macro_invocations_are_items() {
        let s = scan_src(
            "bitflags::bitflags! { pub struct Flags: u32 { const A = 1; } }\nfn f() { m! { struct No; } }",
        );
        assert_eq!(s.defs.keys().collect::<Vec<_>>(), ["Flags", "f"]);
        assert_eq!(s.paths[0].segs, ["bitflags", "bitflags"]);
    }

    #[test]
    fn inline_non_test_modules_are_refused() {
        let tokens = tokenize("mod inline { fn f() {} }").unwrap();
        assert!(scan(&tokens).unwrap_err().contains("inline `mod inline`"));
    }
}
