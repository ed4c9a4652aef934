//! Name resolution: a path as written in one module, followed through child modules, `use`
//! re-exports (renames and globs included) to the module file that defines what it names; and the
//! file-level edges that result.
//!
//! A name in a module is, in this order: a child module (`mod x;`), an item the file defines
//! (`struct`, `enum`, `union`, `trait`, `fn`, `type`, `const`, `static`, `macro_rules!`), a name a
//! module-level `use` binds (followed to its own target), or a name one of the module's globs
//! supplies. Private imports count: Rust lets a child module see them (`use super::X`).

use super::scan::{UseEntry, Vis};
use super::{Crate, ModFile, ModPath, display};
use std::collections::BTreeSet;

/// Where a path ends up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Landing {
    /// The path names a module.
    Module(ModPath),
    /// The path names an item of `module`: defined there, or imported there from another crate
    /// (`crate::sync::Mutex` is `parking_lot`'s, but the crate reaches it through `sync`).
    Item { module: ModPath, name: String },
    /// The `use` names another crate.
    External,
}

impl Landing {
    /// The module file the path depends on.
    pub(crate) fn module(&self) -> Option<&ModPath> {
        match self {
            Landing::Module(m) | Landing::Item { module: m, .. } => Some(m),
            Landing::External => None,
        }
    }
}

/// One file-level reference to another module file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Edge {
    pub(crate) from: ModPath,
    pub(crate) to: ModPath,
    pub(crate) file: String,
    pub(crate) line: usize,
    /// What the file wrote: `use crate::job::counters::Generation`, `crate::hresult::E_FAIL`,
    /// or for a glob `use super::* (code)`, the identifier the glob supplies in parentheses.
    pub(crate) written: String,
}

/// Deeper than this, re-exports must be going round in a loop.
const MAX_DEPTH: usize = 24;

impl Crate {
    /// Resolves `segs` as written in module `from`.
    pub(crate) fn resolve(&self, from: &[String], segs: &[String]) -> Result<Landing, String> {
        self.resolve_at(from, segs, 0)
    }

    fn resolve_at(
        &self,
        from: &[String],
        segs: &[String],
        depth: usize,
    ) -> Result<Landing, String> {
        if depth > MAX_DEPTH {
            return Err(format!("re-exports go round in a loop at `{}`", segs.join("::")));
        }
        let mut module = from.to_vec();
        let mut rest = segs;
        if rest.first().is_some_and(|s| s == "crate") {
            module.clear();
            rest = &rest[1..];
        }
        while let Some((first, tail)) = rest.split_first() {
            match first.as_str() {
                "super" => {
                    if module.pop().is_none() {
                        return Err("`super` goes above the crate root".to_string());
                    }
                }
                "self" => {}
                _ => break,
            }
            rest = tail;
        }
        while let Some((name, tail)) = rest.split_first() {
            match self.lookup(&module, name, depth)?.1 {
                Landing::Module(m) => {
                    module = m;
                    rest = tail;
                }
                other => return Ok(other), // later segments are variants or associated items
            }
        }
        Ok(Landing::Module(module))
    }

    /// The visibility `name` has in `module` and what it means there.
    pub(crate) fn lookup(
        &self,
        module: &[String],
        name: &str,
        depth: usize,
    ) -> Result<(Vis, Landing), String> {
        let file = self.file(module)?;
        let item_here = || Landing::Item { module: module.to_vec(), name: name.to_string() };
        if let Some(&vis) = file.scan.mods.get(name) {
            let mut child = module.to_vec();
            child.push(name.to_string());
            return Ok((vis, Landing::Module(child)));
        }
        if let Some(&vis) = file.scan.defs.get(name) {
            return Ok((vis, item_here()));
        }
        let module_uses = || file.scan.uses.iter().filter(|u| u.module_level);
        if let Some(entry) = module_uses().find(|u| !u.glob && u.binding.as_deref() == Some(name)) {
            let landing = match self.resolve_use(file, entry, depth)? {
                Landing::External => item_here(),
                landing => landing,
            };
            return Ok((entry.vis, landing));
        }
        for entry in module_uses().filter(|u| u.glob) {
            if let Landing::Module(target) = self.resolve_use(file, entry, depth)?
                && let Ok((vis, landing)) = self.lookup(&target, name, depth + 1)
            {
                return Ok((vis.max(entry.vis), landing)); // max: the less visible of the two
            }
        }
        Err(format!(
            "`{name}` is not declared, defined or imported in `{}` ({})",
            display(module),
            file.rel_path
        ))
    }

    /// Where a `use` of `file` leads; `External` when its first segment names another crate.
    fn resolve_use(
        &self,
        file: &ModFile,
        entry: &UseEntry,
        depth: usize,
    ) -> Result<Landing, String> {
        if !self.is_crate_path(file, &entry.segs, Some(entry), depth) {
            return Ok(Landing::External);
        }
        self.resolve_at(&file.module, &entry.segs, depth + 1)
    }

    /// Whether a path written in `file` starts inside the crate: with `crate`, `super` or `self`,
    /// with a child module of the file, or with a name a module-level `use` of the file binds to
    /// something of this crate. Anything else is another crate, a local name, or the prelude.
    /// (`entry` is the `use` being resolved, which does not count as binding its own first name.)
    pub(crate) fn is_crate_path(
        &self,
        file: &ModFile,
        segs: &[String],
        entry: Option<&UseEntry>,
        depth: usize,
    ) -> bool {
        let Some(first) = segs.first().map(String::as_str) else { return false };
        if matches!(first, "crate" | "super" | "self") || file.scan.mods.contains_key(first) {
            return true;
        }
        file.scan.uses.iter().any(|u| {
            u.module_level
                && !u.glob
                && !entry.is_some_and(|e| std::ptr::eq(e, u))
                && u.binding.as_deref() == Some(first)
                && depth < MAX_DEPTH
                && matches!(self.resolve_use(file, u, depth + 1), Ok(l) if l != Landing::External)
        })
    }

    /// Every reference from a module file (`lib.rs` excluded) to another module file, sorted,
    /// and every reference to the crate that could not be resolved (`file:line: why`).
    pub(crate) fn edges(&self) -> (Vec<Edge>, Vec<String>) {
        let mut edges = Vec::new();
        let mut errors = Vec::new();
        for file in self.files.values().filter(|f| !f.module.is_empty()) {
            let mut push = |to: &ModPath, line: usize, written: String| {
                if *to != file.module {
                    let (from, file) = (file.module.clone(), file.rel_path.clone());
                    edges.push(Edge { from, to: to.clone(), file, line, written });
                }
            };
            for entry in
                file.scan.uses.iter().filter(|u| self.is_crate_path(file, &u.segs, Some(u), 0))
            {
                let written = entry.segs.join("::");
                let written = if entry.glob { format!("{written}::*") } else { written };
                match self.resolve_at(&file.module, &entry.segs, 0) {
                    Ok(Landing::Module(target)) if entry.glob => {
                        for (to, line, ident) in self.glob_supplies(file, &target, entry.line) {
                            push(&to, line, format!("use {written} ({ident})"));
                        }
                    }
                    Ok(landing) => {
                        if let Some(to) = landing.module() {
                            push(to, entry.line, format!("use {written}"));
                        }
                    }
                    Err(e) => errors
                        .push(format!("{}:{}: `use {written}`: {e}", file.rel_path, entry.line)),
                }
            }
            for path in
                file.scan.paths.iter().filter(|p| self.is_crate_path(file, &p.segs, None, 0))
            {
                let written = path.segs.join("::");
                match self.resolve_at(&file.module, &path.segs, 0) {
                    Ok(landing) => {
                        if let Some(to) = landing.module() {
                            push(to, path.line, written);
                        }
                    }
                    Err(e) => {
                        errors.push(format!("{}:{}: `{written}`: {e}", file.rel_path, path.line))
                    }
                }
            }
        }
        edges.sort();
        edges.dedup();
        (edges, errors)
    }

    /// What a glob `use target::*` in `file` supplies: each bare identifier of the file that is
    /// not the file's own and that `target` resolves, with the module defining it. A glob whose
    /// names the file does not use still depends on `target` itself.
    fn glob_supplies(
        &self,
        file: &ModFile,
        target: &[String],
        line: usize,
    ) -> Vec<(ModPath, usize, String)> {
        let scan = &file.scan;
        let mut own: BTreeSet<&str> =
            scan.defs.keys().chain(scan.mods.keys()).map(String::as_str).collect();
        own.extend(scan.uses.iter().filter_map(|u| u.binding.as_deref()));
        let mut supplied = Vec::new();
        for (ident, line) in &scan.idents {
            if !own.insert(ident.as_str()) {
                continue; // the file's own name, or already looked up
            }
            if let Ok((_, landing)) = self.lookup(target, ident, 0)
                && let Some(module) = landing.module()
            {
                supplied.push((module.clone(), *line, ident.clone()));
            }
        }
        if supplied.is_empty() {
            supplied.push((target.to_vec(), line, "*".to_string()));
        }
        supplied
    }

    /// Why the path (written from the crate root) could not be written by another crate: the
    /// first step that is not `pub`. `None` if every module on it and the name it ends at are
    /// `pub` where they are looked up.
    pub(crate) fn private_step(&self, segs: &[String]) -> Result<Option<String>, String> {
        let skip = usize::from(segs.first().is_some_and(|s| s == "crate"));
        let mut module = ModPath::new();
        for name in &segs[skip..] {
            let (vis, landing) = self.lookup(&module, name, 0)?;
            if vis != Vis::Pub {
                let what = format!("`{name}` is {} in `{}`", vis.word(), display(&module));
                return Ok(Some(what));
            }
            match landing {
                Landing::Module(m) => module = m,
                _ => return Ok(None),
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn krate(sources: &[(&str, &str)]) -> Crate {
        Crate::from_sources(sources).unwrap()
    }

    fn targets(krate: &Crate) -> Vec<String> {
        let (edges, errors) = krate.edges();
        assert!(errors.is_empty(), "{errors:?}");
        edges
            .iter()
            .map(|e| format!("{} -> {}: {}", display(&e.from), display(&e.to), e.written))
            .collect()
    }

    const LIB: &str = "mod a; mod e; mod job; pub use job::Job; pub mod t;";

    #[test]
    fn nested_trees_follow_reexports_to_the_defining_file() {
        let k = krate(&[
            ("src/lib.rs", LIB),
            ("src/a/mod.rs", "mod b; mod c; pub(crate) use b::Bee; pub(crate) use c::*;"),
            ("src/a/b.rs", "pub(crate) struct Bee;"),
            ("src/a/c.rs", "pub(crate) fn see() {}"),
            ("src/e.rs", "pub(crate) struct E;"),
            ("src/job/mod.rs", "pub struct Job; use crate::{a::{Bee, see as d, self}, e::*};"),
            ("src/t.rs", "fn f() -> E { crate::Job; E }"),
        ]);
        let (edges, _) = k.edges();
        let edges: Vec<_> = edges.iter().map(|e| (display(&e.from), display(&e.to))).collect();
        let expected = [
            ("a", "a::b"),
            ("a", "a::c"),
            ("job", "a"),
            ("job", "a::b"),
            ("job", "a::c"),
            ("job", "e"),
            ("t", "job"),
        ];
        assert_eq!(edges, expected.map(|(f, t)| (f.to_string(), t.to_string())));
    }

    #[test]
    fn super_chains_child_modules_and_inline_paths() {
        let k = krate(&[
            ("src/lib.rs", "mod x; mod y;"),
            ("src/x/mod.rs", "mod z; use z::Zed; pub(crate) enum Stop { Now }"),
            ("src/x/z/mod.rs", "mod deep; pub(crate) struct Zed;"),
            ("src/x/z/deep.rs", "fn f() { super::super::Stop::Now; let s = \"crate::y::W\"; }"),
            ("src/y.rs", "// crate::x::Stop\n pub(crate) struct W; fn g() { crate::x::z::Zed; }"),
        ]);
        assert_eq!(
            targets(&k),
            [
                "x -> x::z: use z::Zed",
                "x::z::deep -> x: super::super::Stop::Now",
                "y -> x::z: crate::x::z::Zed",
            ]
        );
    }

    #[test]
    fn globs_depend_on_what_the_file_uses_from_them() {
        let k = krate(&[
            ("src/lib.rs", "mod h;"),
            ("src/h/mod.rs", "mod codes; mod table; pub use codes::*; pub(crate) fn code() {}"),
            ("src/h/codes.rs", "pub const OK: u32 = 0; pub const NAME: u32 = 1;"),
            (
                "src/h/table.rs",
                "use super::*; struct Row { name: u32 } const T: u32 = OK + code();",
            ),
        ]);
        assert_eq!(
            targets(&k),
            [
                "h -> h::codes: use codes::* (*)",
                "h::table -> h: use super::* (code)",
                "h::table -> h::codes: use super::* (OK)",
            ]
        );
    }

    #[test]
    fn unresolved_names_and_test_modules() {
        let k = krate(&[
            ("src/lib.rs", "mod a; mod b;"),
            ("src/a.rs", "use crate::b::Missing;\n#[cfg(test)] mod tests { use crate::b::Gone; }"),
            ("src/b.rs", "use std::fmt; fn f() { fmt::Debug; }"),
        ]);
        let (edges, errors) = k.edges();
        assert!(edges.is_empty(), "{edges:?}");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("src/a.rs:1: `use crate::b::Missing`"), "{errors:?}");
    }

    #[test]
    fn private_steps_of_paths_from_the_root() {
        let k = krate(&[
            ("src/lib.rs", LIB),
            ("src/a/mod.rs", "mod b; mod c;"),
            ("src/a/b.rs", ""),
            ("src/a/c.rs", ""),
            ("src/e.rs", ""),
            ("src/job/mod.rs", "pub struct Job; pub(crate) mod options;"),
            ("src/job/options.rs", "pub(crate) struct JobOptions;"),
            ("src/t.rs", ""),
        ]);
        let step = |p: &str| k.private_step(&p.split("::").map(String::from).collect::<Vec<_>>());
        assert_eq!(step("crate::Job"), Ok(None));
        assert_eq!(
            step("crate::job::options::JobOptions"),
            Ok(Some("`job` is private in `crate`".into()))
        );
        assert!(step("crate::nothing").is_err());
    }
}
