//! The shape of the product crate, checked: imports point inward through the rings of
//! `src/lib.rs` (and `../shared/design.md`), and no module imports, through any chain, a
//! module that imports it back.
//!
//! The graph is read from the sources, not from the compiler: every `crate::…`, `super::…`
//! and `self::…` path in a file (outside comments and its inline `#[cfg(test)]` module) is an
//! arrow from that file's module to the longest module the path names. A parent's `mod`
//! line is not an arrow; its `use child::…` is. The simulators' crate (`crates/sim`) is held
//! to the same no-circle rule. Unit-test files, in every crate, are where Rust's module rules
//! put them (docs/testing.md).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The product's top-level modules, innermost first, as `src/lib.rs` lists them. A module
/// may import only modules of an earlier line.
const RINGS: &[(&str, &[&str])] = &[
    ("infrastructure", &["logging", "files", "certinfo", "metrics"]),
    ("infrastructure", &["outbound"]),
    ("infrastructure", &["config"]),
    ("infrastructure", &["keys"]),
    ("infrastructure", &["store", "urls"]),
    ("infrastructure", &["tls"]),
    ("infrastructure", &["schemas"]),
    // The domain ring is ordered: a module calls only those before it.
    ("domain", &["audit"]),
    ("domain", &["events"]),
    ("domain", &["admin"]),
    ("domain", &["tokens"]),
    ("domain", &["devices"]),
    ("domain", &["depclient"]),
    ("domain", &["business"]),
    ("domain", &["push"]),
    ("domain", &["sync"]),
    ("domain", &["profiles"]),
    ("domain", &["acme"]),
    ("domain", &["enroll"]),
    ("domain", &["directory"]),
    ("domain", &["signin"]),
    ("domain", &["lifecycle"]),
    ("domain", &["setup"]),
    ("domain", &["mdm"]),
    ("domain", &["backup"]),
    ("domain", &["alerts"]),
    ("edges", &["http", "control", "fuzzing"]),
    ("edges", &["daemon"]),
    ("edges", &["bench"]),
    ("edges", &["manpages"]),
    ("edges", &["cli"]),
];

/// The crate root's own items (`crate::version`) and the re-exported outer crates
/// (`crate::apple`, `crate::sim`, …) are open to every module.
const OPEN: &[&str] = &["version", "apple", "clock", "crypto", "sim", "fixtures"];

#[test]
fn product_imports_point_inward_through_the_rings() {
    let graph = Graph::read(Path::new("src"));
    let rank = |m: &str| RINGS.iter().position(|(_, line)| line.contains(&m));
    let mut wrong = Vec::new();
    for (from, to, file) in graph.arrows() {
        let (a, b) = (top(&from), top(&to));
        if a == b || OPEN.contains(&b) || a.is_empty() || b.is_empty() {
            continue;
        }
        match (rank(a), rank(b)) {
            (Some(ra), Some(rb)) if rb < ra => {}
            (Some(_), Some(_)) => wrong.push(format!("{file}: {a} imports {b} ({to})")),
            (None, _) => wrong.push(format!("{a} is in no ring of tests/architecture.rs")),
            (_, None) => wrong.push(format!("{b} is in no ring of tests/architecture.rs")),
        }
    }
    wrong.dedup();
    assert!(wrong.is_empty(), "imports against the rings:\n  {}", wrong.join("\n  "));
}

#[test]
fn lib_rs_lists_the_modules_in_ring_order() {
    let lib = std::fs::read_to_string("src/lib.rs").expect("src/lib.rs is readable");
    let listed: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod ").and_then(|m| m.strip_suffix(';')))
        .collect();
    let rings: Vec<&str> = RINGS.iter().flat_map(|(_, line)| line.iter().copied()).collect();
    assert_eq!(listed, rings, "src/lib.rs and RINGS in tests/architecture.rs differ");
}

#[test]
fn product_modules_import_no_circle() {
    let circles = Graph::read(Path::new("src")).circles();
    assert!(circles.is_empty(), "import circles in src/:\n  {}", circles.join("\n  "));
}

#[test]
fn simulator_modules_import_no_circle() {
    let circles = Graph::read(Path::new("crates/sim/src")).circles();
    assert!(circles.is_empty(), "import circles in crates/sim/src/:\n  {}", circles.join("\n  "));
}

#[test]
fn the_graph_sees_an_arrow_against_the_rings_and_a_circle() {
    let mut g = Graph::default();
    for m in ["", "tokens", "tokens::view", "profiles", "profiles::crud", "profiles::owner"] {
        g.modules.insert(m.to_string());
    }
    // A re-export alone is no arrow; code using a child, or a child using its parent, is.
    g.add_file("tokens", "src/tokens/mod.rs", "pub use view::V;\n");
    g.add_file("tokens::view", "src/tokens/view.rs", "use crate::profiles::crud::X;\n");
    g.add_file("profiles", "src/profiles/mod.rs", "pub use crud::Y;\nfn f() { crud::g() }\n");
    g.add_file("profiles::crud", "src/profiles/crud.rs", "use super::{owner::O, P};\n");
    g.add_file(
        "profiles::owner",
        "src/profiles/owner.rs",
        "// crate::tokens\nuse super::crud::Y;\n",
    );
    let arrows: Vec<_> = g.arrows().into_iter().map(|(a, b, _)| format!("{a} > {b}")).collect();
    assert_eq!(
        arrows,
        [
            "profiles > profiles::crud",
            "profiles::crud > profiles",
            "profiles::crud > profiles::owner",
            "profiles::owner > profiles::crud",
            "tokens::view > profiles::crud",
        ]
    );
    // The parent and its child are one module split in files; siblings are not.
    assert_eq!(g.circles(), ["profiles::crud -> profiles::owner -> profiles::crud"]);
    assert_eq!(top("tokens::view"), "tokens");
}

/// Every source tree of the workspace: the unit-test files are held to one layout in all.
const SOURCE_ROOTS: &[&str] = &[
    "src",
    "crates/wire/src",
    "crates/sim/src",
    "crates/tls-provider/src",
    "crates/device-schema/src",
];

/// Why `file` breaks the unit-test layout of `docs/testing.md` (a module's `tests` module,
/// inline or where Rust's module rules put it: `foo/tests.rs`, `dir/tests.rs`, a `tests/`
/// folder), if it does: a `#[path]` that moves a module elsewhere, or a `*_tests.rs` file.
fn misplaced_tests(file: &Path, text: &str) -> Option<String> {
    let name = file.file_name()?.to_string_lossy();
    if name.ends_with("_tests.rs") {
        return Some(format!("{}: name it tests.rs in the module's folder", file.display()));
    }
    let line = text.lines().position(|l| l.trim_start().starts_with("#[path"))?;
    Some(format!("{}:{}: #[path] instead of the module rules", file.display(), line + 1))
}

#[test]
fn unit_test_files_follow_the_module_rules() {
    let mut wrong = Vec::new();
    for root in SOURCE_ROOTS {
        let mut files = Vec::new();
        collect(Path::new(root), &mut files);
        assert!(!files.is_empty(), "{root} holds sources");
        for f in files {
            let text = std::fs::read_to_string(&f).expect("source file is readable");
            wrong.extend(misplaced_tests(&f, &text));
        }
    }
    assert!(wrong.is_empty(), "unit tests out of place:\n  {}", wrong.join("\n  "));
    // The check sees both ways out of the layout.
    assert!(misplaced_tests(Path::new("src/a/gate_tests.rs"), "").is_some());
    let moved = "#[cfg(test)]\n#[path = \"gate_tests.rs\"]\nmod tests;\n";
    assert!(misplaced_tests(Path::new("src/a/gate.rs"), moved).is_some());
    assert!(misplaced_tests(Path::new("src/a/gate/tests.rs"), "use super::*;\n").is_none());
}

/// Crates that do I/O or run an async runtime (and any `actix-…`): the wire crate must reach
/// none of them. (`rustls-pki-types`, plain certificate types, is fine.)
const IO_CRATES: &[&str] =
    &["tokio", "redb", "reqwest", "hyper", "mio", "rustls", "utoipa", "socket2", "actix-web"];

#[test]
fn the_wire_crate_reaches_no_io_crate() {
    let reached = Lockfile::read().reachable_from("adebox-wire");
    let io: Vec<&String> = reached
        .iter()
        .filter(|c| IO_CRATES.contains(&c.as_str()) || c.starts_with("actix"))
        .collect();
    assert!(io.is_empty(), "adebox-wire depends, through Cargo.lock, on {io:?}");
    assert!(reached.len() > 10, "the lock file was read: {} crates", reached.len());
}

/// The schema checker is linked into the daemon: it stays a pure reader of plists and YAML.
#[test]
fn the_schema_checker_reaches_no_io_crate() {
    let reached = Lockfile::read().reachable_from("device-schema");
    let io: Vec<&String> = reached
        .iter()
        .filter(|c| IO_CRATES.contains(&c.as_str()) || c.starts_with("actix"))
        .collect();
    assert!(io.is_empty(), "device-schema depends, through Cargo.lock, on {io:?}");
    assert!(reached.contains("plist"), "the lock file was read: {reached:?}");
}

#[test]
fn the_simulators_do_not_reach_the_product() {
    let reached = Lockfile::read().reachable_from("adebox-sim");
    assert!(reached.contains("adebox-wire"), "the simulators use the wire crate");
    for forbidden in ["adebox", "redb"] {
        assert!(!reached.contains(forbidden), "adebox-sim depends on {forbidden}");
    }
}

/// `Cargo.lock`'s dependency lists: a superset of what a crate builds with (it also holds
/// dev-dependencies and features other members enable), so a crate absent here is absent
/// from the build.
struct Lockfile {
    deps: BTreeMap<String, BTreeSet<String>>,
}

impl Lockfile {
    fn read() -> Lockfile {
        let text = std::fs::read_to_string("Cargo.lock").expect("Cargo.lock is readable");
        let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for package in text.split("[[package]]").skip(1) {
            let mut lines = package.lines();
            let name = lines
                .by_ref()
                .find_map(|l| l.strip_prefix("name = \""))
                .and_then(|n| n.strip_suffix('"'))
                .expect("each package has a name");
            let listed = package
                .split_once("dependencies = [")
                .map(|(_, rest)| rest.split(']').next().unwrap_or(""))
                .unwrap_or("");
            let names = listed.lines().filter_map(|l| {
                let l = l.trim().trim_end_matches(',').trim_matches('"');
                l.split(' ').next().filter(|n| !n.is_empty()).map(str::to_string)
            });
            deps.entry(name.to_string()).or_default().extend(names);
        }
        Lockfile { deps }
    }

    fn reachable_from(&self, root: &str) -> BTreeSet<String> {
        let (mut seen, mut todo) = (BTreeSet::new(), vec![root.to_string()]);
        while let Some(c) = todo.pop() {
            if seen.insert(c.clone()) {
                todo.extend(self.deps.get(&c).into_iter().flatten().cloned());
            }
        }
        seen.remove(root);
        seen
    }
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or("")
}

/// Modules (`a::b`, the crate root is `""`) and the arrows between them.
#[derive(Default)]
struct Graph {
    modules: BTreeSet<String>,
    /// from → to → the file the first such import is in.
    edges: BTreeMap<String, BTreeMap<String, String>>,
}

impl Graph {
    fn read(root: &Path) -> Graph {
        let mut files = Vec::new();
        collect(root, &mut files);
        let mut g = Graph::default();
        // Unit-test files wire what they test like the composition root does; they are no
        // part of the shape.
        files.retain(|f| {
            f.file_name().is_some_and(|n| n != "tests.rs")
                && !f.components().any(|c| c.as_os_str() == "tests")
        });
        let named: Vec<(String, PathBuf)> =
            files.into_iter().map(|f| (module_of(root, &f), f)).collect();
        g.modules.extend(named.iter().map(|(m, _)| m.clone()));
        for (module, file) in &named {
            let text = std::fs::read_to_string(file).expect("source file is readable");
            g.add_file(module, &file.display().to_string(), &text);
        }
        g
    }

    fn add_file(&mut self, module: &str, file: &str, text: &str) {
        // Code only: comments dropped, and the inline unit-test module at the end of a file
        // left out (its `super` is the file itself).
        let mut code = Vec::new();
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            let line = line.split("//").next().unwrap_or("").trim();
            let test_module =
                lines.peek().is_some_and(|l| l.trim_start().starts_with("mod ") && l.contains('{'));
            if line.starts_with("#[cfg(test)]") && test_module {
                break;
            }
            code.push(line.to_string());
        }
        let mut uses = Vec::new();
        let mut other = String::new();
        let mut i = 0;
        while i < code.len() {
            if let Some(tree) = use_tree(&code[i]) {
                let reexport = code[i].starts_with("pub");
                let mut item = tree.to_string();
                while !code[i].contains(';') && i + 1 < code.len() {
                    i += 1;
                    item.push_str(&code[i]);
                }
                let mut named = Vec::new();
                expand(item.split(';').next().unwrap_or(""), &mut Vec::new(), &mut named);
                uses.extend(named.into_iter().map(|(path, name)| (path, name, reexport)));
            } else {
                other.push_str(&code[i]);
                other.push('\n');
            }
            i += 1;
        }
        let mut targets: Vec<Vec<String>> = self.paths(module, &other);
        for (path, name, reexport) in uses {
            // A re-export is the module's face, not its dependency, unless its own code uses
            // the name too.
            if !reexport || words(&other).contains(name.as_str()) {
                targets.push(path);
            }
        }
        for path in targets {
            if let Some(target) = self.resolve(module, &path).filter(|t| t != module) {
                self.edges
                    .entry(module.to_string())
                    .or_default()
                    .entry(target)
                    .or_insert_with(|| file.to_string());
            }
        }
    }

    /// The paths in `code` that name a module of this crate: those starting with `crate`,
    /// `super` or `self`, and those starting with a child of `module` (`child::f()`).
    fn paths(&self, module: &str, code: &str) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for word in code.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
            let parts: Vec<String> =
                word.split("::").filter(|p| !p.is_empty()).map(str::to_string).collect();
            let Some(first) = parts.first() else { continue };
            if word.contains("::")
                && (["crate", "super", "self"].contains(&first.as_str())
                    || self.modules.contains(&join(module, first)))
            {
                out.push(parts);
            }
        }
        out
    }

    /// The longest known module `path` (`crate::a::b::C`, `super::x`) names, seen from
    /// `module`.
    fn resolve(&self, module: &str, path: &[String]) -> Option<String> {
        let mut base: Vec<&str> =
            if module.is_empty() { vec![] } else { module.split("::").collect() };
        let mut rest = path;
        match path.first().map(String::as_str) {
            Some("crate") => {
                base.clear();
                rest = &path[1..];
            }
            Some("self") => rest = &path[1..],
            Some("super") => {
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop()?;
                    rest = &rest[1..];
                }
            }
            // `use child::…` in a parent names its own child.
            Some(first) if self.modules.contains(&join(module, first)) => {}
            _ => return None,
        }
        let mut found = base.join("::");
        let mut current = base.join("::");
        for part in rest {
            current = join(&current, part);
            if self.modules.contains(&current) {
                found = current.clone();
            } else {
                break;
            }
        }
        Some(found)
    }

    fn arrows(&self) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for (from, tos) in &self.edges {
            for (to, file) in tos {
                out.push((from.clone(), to.clone(), file.clone()));
            }
        }
        out
    }

    /// Every shortest cycle through each module, once per set of modules, as
    /// `a -> b -> a`.
    fn circles(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for start in self.edges.keys() {
            if let Some(cycle) = self.shortest_path_back(start) {
                let key: BTreeSet<_> = cycle.iter().cloned().collect();
                if seen.insert(key) {
                    out.push(format!("{} -> {start}", cycle.join(" -> ")));
                }
            }
        }
        out
    }

    fn shortest_path_back(&self, start: &str) -> Option<Vec<String>> {
        let mut previous: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start.to_string()]);
        while let Some(at) = queue.pop_front() {
            let ahead = self.edges.get(&at).into_iter().flat_map(|t| t.keys());
            for next in ahead.filter(|to| !is_ancestor(to, &at)) {
                if next == start {
                    let mut cycle = vec![at.clone()];
                    while let Some(p) = previous.get(cycle.last().expect("never empty")) {
                        cycle.push(p.clone());
                    }
                    cycle.reverse();
                    return Some(cycle);
                }
                if !previous.contains_key(next) && next != start {
                    previous.insert(next.clone(), at.clone());
                    queue.push_back(next.clone());
                }
            }
        }
        None
    }
}

/// Whether `a` is `b`'s parent, grandparent, … (the crate root is everyone's).
fn is_ancestor(a: &str, b: &str) -> bool {
    a.is_empty() || b.starts_with(&format!("{a}::"))
}

fn join(base: &str, part: &str) -> String {
    if base.is_empty() { part.to_string() } else { format!("{base}::{part}") }
}

/// The tree of a `use` item (`use a::{b, c};` → `a::{b, c}`), if the line starts one.
fn use_tree(code: &str) -> Option<&str> {
    let rest = code.strip_prefix("pub").map_or(code, |r| {
        let r = r.trim_start();
        r.strip_prefix('(').and_then(|r| r.split_once(')')).map_or(r, |(_, r)| r)
    });
    let tree = rest.trim_start().strip_prefix("use ")?;
    Some(tree.split(';').next().unwrap_or("").trim())
}

/// Every path a use tree names, with the name it brings into scope: `a::{b::C, d as e}` →
/// (`a::b::C`, `C`), (`a::d`, `e`).
fn expand(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let (head, alias) = tree.split_once(" as ").unwrap_or((tree, ""));
        let mut path = prefix.clone();
        path.extend(head.trim().split("::").filter(|p| !p.is_empty()).map(str::to_string));
        let name = if alias.is_empty() {
            path.last().cloned().unwrap_or_default()
        } else {
            alias.trim().to_string()
        };
        let name = if name == "self" { prefix.last().cloned().unwrap_or_default() } else { name };
        out.push((path, name));
        return;
    };
    let depth = prefix.len();
    prefix.extend(
        tree[..open].split("::").filter(|p| !p.trim().is_empty()).map(|p| p.trim().to_string()),
    );
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let (mut level, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => level += 1,
            '}' => level -= 1,
            ',' if level == 0 => {
                expand(&inner[start..i], prefix, out);
                start = i + 1;
            }
            _ => {}
        }
    }
    if !inner[start..].trim().is_empty() {
        expand(&inner[start..], prefix, out);
    }
    prefix.truncate(depth);
}

/// The identifiers in `code`.
fn words(code: &str) -> BTreeSet<&str> {
    code.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).expect("source directory is readable").flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`; `lib.rs` and `main.rs` are the root.
fn module_of(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).expect("file is under the root").with_extension("");
    let mut parts: Vec<String> =
        rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts.join("::")
}
