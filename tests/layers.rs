//! The crate's module graph (DESIGN.md section 1): no import cycle between top-level modules or
//! between the children of one directory module, every import pointing down the layer table, and
//! the built-in transports written against the public API only, as a user's transport would be.
//!
//! The graph is built from the source: every `src/**/*.rs` file is a node (`src/job/counters.rs`
//! is `job::counters`, `src/job/mod.rs` is `job`), and every reference to another module of the
//! crate in code is an edge to the file that *defines* the name: `use` trees (nested braces,
//! `self`, globs, renames), `crate::`/`super::`/`self::` paths and paths through a child module
//! or an imported module, with re-exports of `lib.rs` and `mod.rs` followed. Comments, strings,
//! attributes and everything gated on `cfg(test)` (test modules, `cfg(all(test, loom))` models)
//! are ignored: test code may reach anywhere. `lib.rs` makes no edges; it only re-exports. A
//! reference the checker cannot resolve fails every test here with its file and line, so an edge
//! is never dropped silently. See `layers_support/` for the parser.
//!
//! The checks: top-level modules form no cycle; inside each directory module, its children
//! (files and subdirectories, each one node) form no cycle, where the directory's own `mod.rs`
//! is the parent and its edges count one level up (children may use their parent's types and
//! the parent re-exports them); every top-level edge points down [`LAYERS`]; the built-in
//! transports (`transport/local.rs`, `transport/http/`) reach the rest of the crate only through
//! names another crate could write. `print_module_graph` prints the whole graph:
//!
//! ```text
//! cargo test --test layers -- --nocapture print_module_graph
//! ```

mod layers_support;

use layers_support::graph::{Graph, add_edge, knots, shortest_cycle};
use layers_support::resolve::Edge;
use layers_support::scan::{UseEntry, Vis};
use layers_support::tokens::{Token, strip_test_code, tokenize};
use layers_support::{Crate, ModFile, ModPath, display};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::OnceLock;

/// The rank of every top-level module: 0 is the bottom (mirror types). An import may go from a
/// module to one of a lower or equal rank, never up. Every top-level module must be listed, so
/// a new module forces a decision. The order is DESIGN.md section 1's: mirror types (with the
/// error, HRESULT and loom-shim modules they need, and leaf helpers that know no job: the
/// serial executor, the wake-up signal), the registry, meter and limiter (generic or pure),
/// interfaces, job model, the transport interface (the built-in transports use only the public
/// API, checked below), driver API, engine, then the manager on top.
const LAYERS: &[(&str, u32)] = &[
    ("types", 0),
    ("hresult", 0),
    ("sync", 0),
    ("clock", 0),
    ("faults", 0),
    ("executor", 0),
    ("signal", 0),
    ("platform", 0),
    ("registry", 1),
    ("meter", 1),
    ("limit", 1),
    ("interfaces", 1),
    ("job", 2),
    ("state_machine", 2),
    ("transport", 3),
    ("driver", 4),
    ("engine", 5),
    ("store", 5),
    ("manager", 6),
];

/// Knots (strongly connected sets of sibling modules) accepted anyway, each as its sorted full
/// module paths (`&["job::handles", "job::state"]`). Only for a type-level knot Rust cannot avoid,
/// each with a comment saying why. An entry that no longer matches a knot fails the test too.
const ALLOWED_KNOTS: &[&[&str]] = &[
    // The one knot the `BackgroundCopyCallback` trait forces (DESIGN section 2): a job's shared
    // state (`job::state::shared`) holds its `Arc<dyn BackgroundCopyCallback>`, whose methods take
    // `&Job`, `&JobFile` and `&JobError` (`job::handles`), and the handles hold the shared state.
    // Nothing else of the job layer is in it.
    &["job::handles", "job::state"],
    // The same trait one room down: `Job::set_notify_interface` takes and `get_notify_interface`
    // returns the trait object, whose methods take `&Job`.
    &["job::handles::callback", "job::handles::job"],
];

/// References the resolver may leave unresolved: `(file, path as written, reason)`. Empty: even
/// `crate::Result` resolves (to `error.rs`, through the root re-export).
const UNRESOLVED_ALLOWED: &[(&str, &str, &str)] = &[];

/// Member names the transport check must not flag: `(name, reason)`. The member check goes by
/// name (no type inference), so a public type's non-pub method named like a std method the
/// transports call on something else would be a false alarm; list such names here.
const MEMBER_NAME_COLLISIONS: &[(&str, &str)] = &[];

/// Files outside `src/platform/` allowed a platform `cfg` or a `std::os::` path: `(file, reason)`.
/// (`src/bin/`, the command line, is a separate crate target and is not scanned; code gated on
/// `cfg(test)` is not scanned either: a test may check what holds on one platform.)
const PLATFORM_CODE_ALLOWED: &[(&str, &str)] = &[(
    "src/transport/local.rs",
    "a built-in transport uses only the public API, as a user's transport would (checked by \
     `builtin_transports_use_only_public_api`), so it cannot call `platform::`: it reads a \
     source file's device and inode for its validator itself",
)];

/// The built-in transports that must use only the public API.
fn is_builtin_transport(rel_path: &str) -> bool {
    rel_path == "src/transport/local.rs" || rel_path.starts_with("src/transport/http/")
}

struct Analysis {
    krate: Crate,
    edges: Vec<Edge>,
}

/// The crate read and resolved once for all tests; panics if any reference did not resolve.
fn analysis() -> &'static Analysis {
    static ANALYSIS: OnceLock<Result<Analysis, String>> = OnceLock::new();
    let analysis = ANALYSIS.get_or_init(|| {
        let mut krate = Crate::load(Path::new(env!("CARGO_MANIFEST_DIR")))?;
        // src/bin/ holds the `bgcopy` command, a separate crate: not a module of the library.
        krate.unreached.retain(|path| !path.starts_with("src/bin/"));
        let (edges, errors) = krate.edges();
        let allowed = |e: &String| {
            UNRESOLVED_ALLOWED.iter().any(|(file, path, _)| e.starts_with(file) && e.contains(path))
        };
        let errors: Vec<String> = errors.into_iter().filter(|e| !allowed(e)).collect();
        if !errors.is_empty() {
            return Err(format!(
                "the module-graph checker cannot resolve these references to the crate; fix the \
                 code or teach tests/layers_support (never drop an edge silently):\n  {}",
                errors.join("\n  ")
            ));
        }
        Ok(Analysis { krate, edges })
    });
    match analysis {
        Ok(analysis) => analysis,
        Err(e) => panic!("{e}"),
    }
}

fn top(module: &[String]) -> String {
    module.first().cloned().unwrap_or_else(|| "crate".to_string())
}

/// Aggregated edges and, for each, the file-level edges behind it.
type Evidence<'a> = BTreeMap<(String, String), Vec<&'a Edge>>;

/// The graph of `edges` with each module mapped to a node by `node` (`None`: leave it out).
fn aggregate<'a>(
    edges: &'a [Edge],
    node: impl Fn(&ModPath) -> Option<String>,
) -> (Graph, Evidence<'a>) {
    let mut graph = Graph::new();
    let mut evidence = Evidence::new();
    for edge in edges {
        if let (Some(from), Some(to)) = (node(&edge.from), node(&edge.to)) {
            add_edge(&mut graph, &from, &to);
            if from != to {
                evidence.entry((from, to)).or_default().push(edge);
            }
        }
    }
    (graph, evidence)
}

/// One line per file and reference, its lines collected:
/// `    src/driver.rs  TransferError::Stopped  (transport::error)  lines 128, 142`.
fn list(out: &mut String, edges: &[&Edge], indent: &str) {
    let mut grouped: BTreeMap<(&str, &str, String), Vec<usize>> = BTreeMap::new();
    for e in edges {
        grouped.entry((&e.file, &e.written, display(&e.to))).or_default().push(e.line);
    }
    for ((file, written, to), mut lines) in grouped {
        lines.sort_unstable();
        lines.dedup();
        let lines: Vec<String> = lines.iter().map(usize::to_string).collect();
        let s = if lines.len() == 1 { "" } else { "s" };
        let _ = writeln!(out, "{indent}{file}  {written}  ({to})  line{s} {}", lines.join(", "));
    }
}

fn describe_knot(out: &mut String, graph: &Graph, knot: &[String], evidence: &Evidence<'_>) {
    let _ = writeln!(out, "\nknot {{{}}}", knot.join(", "));
    let _ = writeln!(out, "  a shortest cycle: {}", shortest_cycle(graph, knot).join(" -> "));
    for ((from, to), edges) in evidence {
        if knot.contains(from) && knot.contains(to) {
            let _ = writeln!(out, "  {from} -> {to}:");
            list(out, edges, "    ");
        }
    }
}

#[test]
fn top_level_modules_have_no_import_cycle() {
    let a = analysis();
    let (graph, evidence) = aggregate(&a.edges, |m| Some(top(m)));
    let found = knots(&graph);
    let mut report = String::new();
    for knot in &found {
        describe_knot(&mut report, &graph, knot, &evidence);
    }
    assert!(
        found.is_empty(),
        "{} import cycle(s) between top-level modules:\n{report}",
        found.len()
    );
}

#[test]
fn sibling_modules_have_no_import_cycle() {
    let a = analysis();
    let mut report = String::new();
    let mut seen: Vec<Vec<String>> = Vec::new();
    let directories =
        a.krate.files.values().filter(|f| !f.module.is_empty() && !f.scan.mods.is_empty());
    for dir in directories.map(|f| &f.module) {
        // A node per child of `dir` (file or directory); `dir`'s own mod.rs is the parent, whose
        // edges belong to the level above (where `dir` is one node), as do edges leaving `dir`.
        let child = |m: &ModPath| {
            (m.len() > dir.len() && m.starts_with(dir)).then(|| display(&m[..=dir.len()]))
        };
        let (graph, evidence) = aggregate(&a.edges, child);
        for knot in knots(&graph) {
            let allowed =
                ALLOWED_KNOTS.iter().any(|k| k.iter().copied().eq(knot.iter().map(String::as_str)));
            if !allowed {
                report.push_str(&format!(
                    "\nin `{}` ({}):",
                    display(dir),
                    a.krate.files[dir].rel_path
                ));
                describe_knot(&mut report, &graph, &knot, &evidence);
            }
            seen.push(knot);
        }
    }
    for stale in ALLOWED_KNOTS
        .iter()
        .filter(|k| !seen.iter().any(|s| s.iter().map(String::as_str).eq(k.iter().copied())))
    {
        report.push_str(&format!(
            "\nALLOWED_KNOTS lists {stale:?}, which is no longer a knot: remove it\n"
        ));
    }
    let suggestion: Vec<String> = seen.iter().map(|k| format!("&{k:?}")).collect();
    assert!(
        report.is_empty(),
        "import cycles between sibling modules:\n{report}\nIf a knot is a type-level one Rust cannot \
         avoid, accept it with a comment saying why:\n    const ALLOWED_KNOTS: &[&[&str]] = &[{}];",
        suggestion.join(", ")
    );
}

#[test]
fn layers_point_downwards() {
    let a = analysis();
    let modules: BTreeSet<&str> =
        a.krate.file(&[]).unwrap().scan.mods.keys().map(String::as_str).collect();
    let ranks: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    let mut report = String::new();
    for module in modules.iter().filter(|m| !ranks.contains_key(*m)) {
        report.push_str(&format!(
            "top-level module `{module}` has no rank in LAYERS: decide its layer\n"
        ));
    }
    for (module, _) in LAYERS.iter().filter(|(m, _)| !modules.contains(m)) {
        report.push_str(&format!("LAYERS ranks `{module}`, which is not a top-level module\n"));
    }
    if ranks.len() != LAYERS.len() {
        report.push_str("LAYERS lists a module twice\n");
    }
    let (_, evidence) = aggregate(&a.edges, |m| Some(top(m)));
    for ((from, to), edges) in &evidence {
        let (Some(&high), Some(&low)) = (ranks.get(from.as_str()), ranks.get(to.as_str())) else {
            continue;
        };
        if high < low {
            report.push_str(&format!(
                "`{from}` (rank {high}) imports `{to}` (rank {low}), a higher layer:\n"
            ));
            list(&mut report, edges, "    ");
        }
    }
    assert!(report.is_empty(), "layer violations (LAYERS: {LAYERS:?}):\n{report}");
}

/// `segs` written from the crate root (`crate::...`), following the file's own imports when it
/// starts with an imported name; `None` if it is relative (`super::`, `self::`, a child module).
fn from_root(file: &ModFile, segs: &[String]) -> Option<Vec<String>> {
    let mut segs = segs.to_vec();
    for _ in 0..8 {
        if segs.first()? == "crate" {
            return Some(segs);
        }
        let binding = |u: &&UseEntry| {
            u.module_level && !u.glob && u.binding.as_deref() == segs.first().map(String::as_str)
        };
        let entry = file.scan.uses.iter().find(binding)?;
        segs = entry.segs.iter().chain(&segs[1..]).cloned().collect();
    }
    None
}

/// Names of the types a user can name: root `pub use`s and the `pub` items of root `pub mod`s.
fn public_type_names(krate: &Crate) -> BTreeSet<String> {
    let root = krate.file(&[]).unwrap();
    let pub_bindings = |f: &ModFile| {
        let uses = f.scan.uses.iter().filter(|u| u.module_level && u.vis == Vis::Pub);
        let defs = f.scan.defs.iter().filter(|(_, v)| **v == Vis::Pub).map(|(n, _)| n.clone());
        uses.filter_map(|u| u.binding.clone()).chain(defs).collect::<Vec<_>>()
    };
    let mut names: BTreeSet<String> = pub_bindings(root).into_iter().collect();
    for (child, _) in root.scan.mods.iter().filter(|(_, v)| **v == Vis::Pub) {
        names.extend(pub_bindings(krate.file(std::slice::from_ref(child)).unwrap()));
    }
    names
}

#[test]
fn builtin_transports_use_only_public_api() {
    let a = analysis();
    let krate = &a.krate;
    let mut report = String::new();
    let transports = || krate.files.values().filter(|f| is_builtin_transport(&f.rel_path));
    // Paths: a name of the transport module itself (however written), or a path another crate
    // could write (`crate::X` with X `pub use`d at the root, `crate::hresult::..`).
    for file in transports() {
        let uses =
            file.scan.uses.iter().map(|u| (&u.segs, u.line, format!("use {}", u.segs.join("::"))));
        let paths = file.scan.paths.iter().map(|p| (&p.segs, p.line, p.segs.join("::")));
        for (segs, line, written) in uses.chain(paths) {
            if !krate.is_crate_path(file, segs, None, 0) {
                continue;
            }
            let Ok(landing) = krate.resolve(&file.module, segs) else { continue }; // reported by analysis()
            let Some(target) =
                landing.module().filter(|m| m.first().map(String::as_str) != Some("transport"))
            else {
                continue;
            };
            let why = match from_root(file, segs) {
                Some(absolute) => match krate.private_step(&absolute) {
                    Ok(None) => continue,
                    Ok(Some(why)) => why,
                    Err(e) => e,
                },
                None => {
                    "a relative path that leaves `transport`; write it as a public `crate::` name"
                        .to_string()
                }
            };
            let _ = writeln!(
                report,
                "{}:{line}  {written}  ({}): {why}",
                file.rel_path,
                display(target)
            );
        }
    }
    // Members, by name (no type inference): a `.name(` call where `name` is a `pub(crate)` or
    // `pub(super)` method of a public type outside `transport` (a `.name` read for such a field),
    // and no `pub` member, trait method, or member of `transport` itself has that name. Private
    // members are left out: reaching one from `transport` would not compile, so a match could
    // only be a name collision (like `url.origin()` and `SystemClock::origin`).
    let public_types = public_type_names(krate);
    let mut hidden: BTreeMap<(&str, bool), String> = BTreeMap::new();
    let mut allowed: BTreeSet<&str> = MEMBER_NAME_COLLISIONS.iter().map(|(n, _)| *n).collect();
    for file in krate.files.values() {
        let own = file.module.first().map(String::as_str) == Some("transport");
        let methods = file.scan.methods.iter().map(|m| (m, true));
        for (member, is_fn) in methods.chain(file.scan.fields.iter().map(|m| (m, false))) {
            let crate_visible = matches!(member.vis, Vis::Crate | Vis::Restricted);
            if own || member.vis == Vis::Pub {
                allowed.insert(&member.name);
            } else if crate_visible && public_types.contains(&member.owner) {
                let kind = if is_fn { "fn" } else { "field" };
                let (vis, owner, name) = (member.vis.word(), &member.owner, &member.name);
                let what = format!("{vis} {kind} {owner}::{name} ({})", file.rel_path);
                hidden.entry((&member.name, is_fn)).or_insert(what);
            }
        }
        allowed.extend(file.scan.trait_methods.iter().map(|m| m.name.as_str()));
    }
    for file in transports() {
        for (name, line, called) in &file.scan.accesses {
            let what = hidden.get(&(name.as_str(), *called));
            if let Some(what) = what.filter(|_| !allowed.contains(name.as_str())) {
                let _ = writeln!(report, "{}:{line}  .{name}  : the {what}", file.rel_path);
            }
        }
    }
    assert!(report.is_empty(), "the built-in transports reach past the public API:\n{report}");
}

#[test]
fn print_module_graph() {
    let a = analysis();
    assert!(!a.edges.is_empty(), "no edges at all: the checker found nothing to check");
    let ranks: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    let (mut graph, _) = aggregate(&a.edges, |m| Some(top(m)));
    for module in a.krate.file(&[]).unwrap().scan.mods.keys() {
        graph.entry(module.clone()).or_default();
    }
    let mut out = String::new();
    let files = a.krate.files.len();
    let _ = writeln!(
        out,
        "## bgcopy module graph: {files} module files, {} file-level references\n",
        a.edges.len()
    );
    let _ = writeln!(out, "### Top-level modules (LAYERS rank) and what they import\n");
    for (module, imports) in &graph {
        let rank = ranks.get(module.as_str()).map_or("unranked".to_string(), u32::to_string);
        let imports: Vec<&str> = imports.iter().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "- {module} ({rank}) -> {}",
            if imports.is_empty() { "(nothing)".to_string() } else { imports.join(", ") }
        );
    }
    let _ = writeln!(out, "\n### Module files and the names behind each edge\n");
    let mut by_pair: BTreeMap<(&ModPath, &ModPath), BTreeSet<&str>> = BTreeMap::new();
    for edge in &a.edges {
        let name = edge.written.strip_prefix("use ").unwrap_or(&edge.written);
        by_pair.entry((&edge.from, &edge.to)).or_default().insert(name);
    }
    let mut current: Option<&ModPath> = None;
    for ((from, to), names) in by_pair {
        if current != Some(from) {
            let _ = writeln!(out, "- {} ({})", display(from), a.krate.files[from].rel_path);
            current = Some(from);
        }
        let shown: Vec<&str> = names.iter().copied().take(6).collect();
        let more = names.len().saturating_sub(shown.len());
        let more = if more == 0 { String::new() } else { format!(" and {more} more") };
        let _ = writeln!(out, "  - -> {}: {}{more}", display(to), shown.join(", "));
    }
    let _ =
        writeln!(out, "\n### Children and their parent mod.rs importing each other (allowed)\n");
    for (dir, file) in
        a.krate.files.iter().filter(|(m, f)| !m.is_empty() && !f.scan.mods.is_empty())
    {
        let child_of = |m: &ModPath| {
            (m.len() > dir.len() && m.starts_with(dir)).then(|| m[..=dir.len()].to_vec())
        };
        let up: BTreeSet<ModPath> =
            a.edges.iter().filter(|e| e.to == *dir).filter_map(|e| child_of(&e.from)).collect();
        let down: BTreeSet<ModPath> =
            a.edges.iter().filter(|e| e.from == *dir).filter_map(|e| child_of(&e.to)).collect();
        let both: Vec<String> = up.intersection(&down).map(|m| display(m)).collect();
        if !both.is_empty() {
            let _ = writeln!(out, "- {} ({}) <-> {}", display(dir), file.rel_path, both.join(", "));
        }
    }
    if !a.krate.unreached.is_empty() {
        let _ = writeln!(
            out,
            "\nNot compiled outside tests (no edges): {}",
            a.krate.unreached.join(", ")
        );
    }
    println!("{out}");
}

/// Where `tokens` (attributes kept, test code gone) ask which platform they are on: a `cfg`,
/// `cfg!` or `cfg_attr` naming `unix`, `windows`, `target_os` or `target_family`, or a path
/// through `std::os::`. One `(line, what)` per finding.
fn platform_code(tokens: &[Token]) -> Vec<(usize, String)> {
    const PLATFORM_PREDICATES: &[&str] = &["unix", "windows", "target_os", "target_family"];
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if token.is("std")
            && tokens[i + 1..].iter().map(|t| t.text.as_str()).take(2).eq(["::", "os"])
        {
            found.push((token.line, "std::os::".to_owned()));
        }
        if !(token.is("cfg") || token.is("cfg_attr")) {
            continue;
        }
        let open = if tokens.get(i + 1).is_some_and(|t| t.is("!")) { i + 2 } else { i + 1 };
        if !tokens.get(open).is_some_and(|t| t.is("(")) {
            continue;
        }
        let mut depth = 0usize;
        for t in &tokens[open..] {
            match t.text.as_str() {
                "(" => depth += 1,
                ")" => depth -= 1,
                _ if t.is_ident() && PLATFORM_PREDICATES.contains(&t.text.as_str()) => {
                    found.push((t.line, format!("{}({})", token.text, t.text)));
                }
                _ => {}
            }
            if depth == 0 {
                break;
            }
        }
    }
    found
}

/// Platform code lives in `src/platform/`: no other module of the library (test code aside)
/// has a platform `cfg` or a `std::os::` path, except the files named in
/// [`PLATFORM_CODE_ALLOWED`].
#[test]
fn platform_code_is_only_in_the_platform_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut report = String::new();
    let mut excepted = BTreeSet::new();
    for file in analysis().krate.files.values() {
        let rel = file.rel_path.as_str();
        if rel.starts_with("src/platform/") || rel.starts_with("src/bin/") {
            continue;
        }
        let source = std::fs::read_to_string(root.join(rel)).expect("read a source file");
        let tokens = tokenize(&source).and_then(|t| strip_test_code(&t, true));
        let tokens = tokens.unwrap_or_else(|e| panic!("{rel}: {e}"));
        let found = platform_code(&tokens);
        if PLATFORM_CODE_ALLOWED.iter().any(|(allowed, _)| *allowed == rel) {
            assert!(!found.is_empty(), "{rel} is allowed platform code but has none: drop it");
            excepted.insert(rel);
            continue;
        }
        for (line, what) in found {
            let _ = writeln!(report, "  {rel}:{line}: {what}");
        }
    }
    assert!(
        report.is_empty(),
        "platform code outside src/platform/ (move it there, behind a function):\n{report}"
    );
    assert_eq!(excepted.len(), PLATFORM_CODE_ALLOWED.len(), "every exception names a file");
}

#[test]
fn the_platform_scan_finds_cfgs_and_std_os_but_not_test_code_or_look_alikes() {
    let scan = |src: &str| {
        let tokens = strip_test_code(&tokenize(src).unwrap(), true).unwrap();
        platform_code(&tokens).into_iter().map(|(_, what)| what).collect::<Vec<_>>()
    };
    let src = "#[cfg(unix)] fn a() {}\n\
               #[cfg_attr(not(windows), allow(dead_code))] struct S;\n\
               fn b() -> bool { cfg!(target_os = \"macos\") }\n\
               use std::os::unix::fs::MetadataExt;\n\
               fn c(v: &[u8]) { let _ = v.windows(2); let unix = 1; }\n\
               // #[cfg(windows)] in a comment\n\
               #[cfg(test)] mod tests { #[cfg(unix)] fn t() { let _ = std::os::unix::ffi::OsStrExt; } }";
    assert_eq!(
        scan(src),
        ["cfg(unix)", "cfg_attr(windows)", "cfg(target_os)", "std::os::"],
        "each platform question found once, look-alikes and test code left out"
    );
}
