//! The module-graph checker behind `tests/layers.rs`: a tokenizer that strips comments, strings
//! and test code ([`tokens`]), a per-file scanner ([`scan`]), a name resolver that follows
//! re-exports to the file that defines a name ([`resolve`]), and strongly connected components
//! ([`graph`]). std only, no `syn`: small enough to read, and every path it cannot resolve is an
//! error rather than a silently missing edge.

pub(crate) mod graph;
pub(crate) mod resolve;
pub(crate) mod scan;
pub(crate) mod tokens;

use scan::FileScan;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module path from the crate root: `["job", "counters"]`; the root is empty.
pub(crate) type ModPath = Vec<String>;

/// `job::counters`, or `crate` for the root.
pub(crate) fn display(module: &[String]) -> String {
    if module.is_empty() { "crate".to_string() } else { module.join("::") }
}

/// One module file and what it declares.
#[derive(Debug)]
pub(crate) struct ModFile {
    pub(crate) module: ModPath,
    /// `src/job/counters.rs`, relative to the manifest directory.
    pub(crate) rel_path: String,
    pub(crate) scan: FileScan,
}

/// Every module file reachable from `src/lib.rs` through `mod` declarations outside test code.
#[derive(Debug)]
pub(crate) struct Crate {
    pub(crate) files: BTreeMap<ModPath, ModFile>,
    /// Source files no such declaration reaches (test-only modules such as `job/loom_tests.rs`).
    pub(crate) unreached: Vec<String>,
}

impl Crate {
    /// Reads every `src/**/*.rs` under `manifest_dir`.
    pub(crate) fn load(manifest_dir: &Path) -> Result<Crate, String> {
        let mut sources = Vec::new();
        collect_rs(manifest_dir, &manifest_dir.join("src"), &mut sources)?;
        let borrowed: Vec<(&str, &str)> =
            sources.iter().map(|(p, s)| (p.as_str(), s.as_str())).collect();
        Crate::from_sources(&borrowed)
    }

    /// Builds the crate from `(relative path, source)` pairs; `src/lib.rs` must be one of them.
    pub(crate) fn from_sources(sources: &[(&str, &str)]) -> Result<Crate, String> {
        let by_path: BTreeMap<&str, &str> = sources.iter().copied().collect();
        let mut files = BTreeMap::new();
        let mut errors = Vec::new();
        let mut queue = vec![(ModPath::new(), "src/lib.rs".to_string())];
        while let Some((module, rel_path)) = queue.pop() {
            let Some(source) = by_path.get(rel_path.as_str()) else {
                errors.push(format!("{rel_path}: no such source file"));
                continue;
            };
            let scanned = tokens::tokenize(source)
                .and_then(|t| tokens::strip_attributes_and_test_code(&t))
                .and_then(|t| scan::scan(&t));
            let scan = match scanned {
                Ok(scan) => scan,
                Err(e) => {
                    errors.push(format!("{rel_path}: {e}"));
                    continue;
                }
            };
            let dir = match rel_path.strip_suffix("lib.rs").or(rel_path.strip_suffix("mod.rs")) {
                Some(dir) => dir.to_string(),
                None => format!("{}/", rel_path.trim_end_matches(".rs")),
            };
            for child in scan.mods.keys() {
                let candidates = [format!("{dir}{child}.rs"), format!("{dir}{child}/mod.rs")];
                let found: Vec<&String> =
                    candidates.iter().filter(|c| by_path.contains_key(c.as_str())).collect();
                match found.as_slice() {
                    [path] => {
                        let mut child_module = module.clone();
                        child_module.push(child.clone());
                        queue.push((child_module, (*path).clone()));
                    }
                    _ => errors.push(format!(
                        "{rel_path}: `mod {child};` needs exactly one of {candidates:?}"
                    )),
                }
            }
            files.insert(module.clone(), ModFile { module, rel_path, scan });
        }
        if !errors.is_empty() {
            return Err(errors.join("\n"));
        }
        let reached: BTreeSet<&str> = files.values().map(|f| f.rel_path.as_str()).collect();
        let unreached =
            by_path.keys().filter(|p| !reached.contains(*p)).map(|p| p.to_string()).collect();
        Ok(Crate { files, unreached })
    }

    pub(crate) fn file(&self, module: &[String]) -> Result<&ModFile, String> {
        self.files.get(module).ok_or_else(|| format!("no module `{}`", display(module)))
    }
}

fn collect_rs(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_rs(base, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let source =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let rel = path.strip_prefix(base).map_err(|e| e.to_string())?;
            let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>();
            out.push((rel.join("/"), source));
        }
    }
    Ok(())
}
