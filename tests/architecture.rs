//! The source tree's shape, read from the sources: no import circle among the files of `src/`.
//! A file depends on another when it names an item of it through `crate::` or `super::` (a use
//! or a path in code), following a module's `pub use` re-exports to the file that defines the
//! item. A module's own `mod`/`pub use` of its children and `#[cfg(test)]` code are not
//! dependencies. The worker's `src/bin/` is another crate and is not read.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A module path: `crate::a::b` is `["a", "b"]`.
type ModPath = Vec<String>;

struct File {
    module: ModPath,
    /// The code, without comments and without `#[cfg(test)]` modules.
    code: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && path.file_name().is_some_and(|n| n != "bin") {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_of(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: ModPath = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The code without comments and without test modules (which sit at a file's end).
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = String::new();
    let mut in_block = false;
    for line in text.lines() {
        let mut line = line;
        if in_block {
            match line.find("*/") {
                Some(end) => {
                    line = &line[end + 2..];
                    in_block = false;
                }
                None => continue,
            }
        }
        if let Some(start) = line.find("/*") {
            in_block = !line[start..].contains("*/");
            line = &line[..start];
        }
        // `//` outside a string literal ends the code of the line (URLs in strings stay).
        let code = match line.find("//") {
            Some(i) if line[..i].matches('"').count() % 2 == 0 => &line[..i],
            _ => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Expands the use tree starting at `s` (just after `crate::` or `super::`): its paths, relative
/// to that root.
fn use_tree(s: &str) -> Vec<Vec<String>> {
    let mut rest = s.trim_start();
    let mut prefix = Vec::new();
    loop {
        if let Some(inner) = rest.strip_prefix('{') {
            let body = matching_brace(inner);
            let mut out = Vec::new();
            for part in split_top_level(body) {
                for tail in use_tree(part) {
                    out.push([prefix.clone(), tail].concat());
                }
            }
            return out;
        }
        let ident: String = rest
            .chars()
            .take_while(|c| is_ident(*c) || *c == '*')
            .collect();
        if ident.is_empty() {
            return vec![prefix];
        }
        rest = &rest[ident.len()..];
        prefix.push(ident);
        match rest.strip_prefix("::") {
            Some(r) => rest = r.trim_start(),
            None => return vec![prefix],
        }
    }
}

/// The text up to the `}` that closes an already opened brace.
fn matching_brace(s: &str) -> &str {
    let mut depth = 1;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &s[..i];
                }
            }
            _ => {}
        }
    }
    s
}

fn split_top_level(s: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// Every `crate::`/`super::`/`self::` path a file names, as full module paths.
fn named_paths(file: &File) -> Vec<ModPath> {
    let mut out = Vec::new();
    for (root, base) in [
        ("crate::", Vec::new()),
        ("super::", parent(&file.module)),
        ("self::", file.module.clone()),
    ] {
        let mut from = 0;
        while let Some(i) = file.code[from..].find(root) {
            let at = from + i;
            from = at + root.len();
            let preceded = file.code[..at].chars().next_back().is_some_and(is_ident);
            if preceded {
                continue;
            }
            for tail in use_tree(&file.code[from..]) {
                let tail: Vec<String> = tail.into_iter().filter(|s| s != "self").collect();
                out.push([base.clone(), tail].concat());
            }
        }
    }
    out
}

fn parent(module: &ModPath) -> ModPath {
    module[..module.len().saturating_sub(1)].to_vec()
}

/// Items a module's file declares (public or not) and the re-exports it makes.
struct Exports {
    declared: BTreeSet<String>,
    /// `pub use child::{a, b}` and `pub use child::*`: (child module, item or `*`).
    reexports: Vec<(ModPath, String)>,
}

fn exports_of(file: &File) -> Exports {
    let mut declared = BTreeSet::new();
    for line in file.code.lines() {
        let words: Vec<&str> = line
            .split(|c: char| !is_ident(c))
            .filter(|w| !w.is_empty())
            .collect();
        for pair in words.windows(2) {
            if matches!(
                pair[0],
                "fn" | "struct" | "enum" | "const" | "static" | "type" | "trait" | "mod"
            ) {
                declared.insert(pair[1].to_owned());
            }
        }
    }
    let mut reexports = Vec::new();
    let mut from = 0;
    while let Some(i) = file.code[from..].find("pub use ") {
        let at = from + i + "pub use ".len();
        from = at;
        let text = &file.code[at..];
        let (base, text) = match text.strip_prefix("self::") {
            Some(t) => (file.module.clone(), t),
            None if text.starts_with("crate::") || text.starts_with("super::") => continue,
            None => (file.module.clone(), text),
        };
        for path in use_tree(text) {
            if let Some((item, child)) = path.split_last() {
                reexports.push(([base.clone(), child.to_vec()].concat(), item.clone()));
            }
        }
    }
    Exports {
        declared,
        reexports,
    }
}

/// The file a full path lands in: the longest module prefix, then through re-exports.
fn target(path: &[String], modules: &BTreeMap<ModPath, Exports>, depth: usize) -> Option<ModPath> {
    let split = (0..=path.len())
        .rev()
        .find(|n| modules.contains_key(&path[..*n]))?;
    let module = path[..split].to_vec();
    let (Some(item), Some(exports)) = (path.get(split), modules.get(&module)) else {
        return Some(module);
    };
    if exports.declared.contains(item) || depth > 8 {
        return Some(module);
    }
    for (child, name) in &exports.reexports {
        let hit = name == item
            || (name == "*"
                && modules
                    .get(child)
                    .is_some_and(|e| e.declared.contains(item)));
        if hit {
            let path = [child.clone(), vec![item.clone()]].concat();
            return target(&path, modules, depth + 1);
        }
    }
    Some(module)
}

fn name(module: &ModPath) -> String {
    if module.is_empty() {
        "lib.rs".to_owned()
    } else {
        module.join("/")
    }
}

/// The file dependency graph of `src/`.
fn graph() -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    let files: Vec<File> = paths
        .iter()
        .map(|p| File {
            module: module_of(&src, p),
            code: code_of(&fs::read_to_string(p).unwrap_or_default()),
        })
        .collect();
    let modules: BTreeMap<ModPath, Exports> = files
        .iter()
        .map(|f| (f.module.clone(), exports_of(f)))
        .collect();
    let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for file in &files {
        let out = edges.entry(file.module.clone()).or_default();
        for path in named_paths(file) {
            match target(&path, &modules, 0) {
                // A module naming its own descendants is how it is made, not a dependency.
                Some(t) if t != file.module && !t.starts_with(&file.module) => {
                    out.insert(t);
                }
                _ => {}
            }
        }
    }
    edges
}

/// The strongly connected components with more than one file (Tarjan).
fn circles(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<ModPath, BTreeSet<ModPath>>,
        index: BTreeMap<&'a ModPath, usize>,
        low: BTreeMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        on_stack: BTreeSet<&'a ModPath>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(v: &'a ModPath, s: &mut State<'a>) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        let edges = s.edges;
        for w in edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(w, s);
                let lw = s.low[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(lw));
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(name(w));
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v) {
            visit(v, &mut s);
        }
    }
    s.found
}

#[test]
fn no_import_circle_among_the_files_of_src() {
    let edges = graph();
    assert!(
        edges.len() > 40,
        "the sources were not read: {}",
        edges.len()
    );
    let found = circles(&edges);
    assert!(found.is_empty(), "import circles: {found:#?}");
}

#[test]
fn the_reader_sees_a_dependency_through_a_reexport() {
    // clerk/cookie_rules.rs names `crate::token::TokenError`, which token/mod.rs re-exports from
    // token/token_error.rs: the edge goes to the file that defines it.
    let edges = graph();
    let decision = vec!["clerk".to_owned(), "cookie_rules".to_owned()];
    let deps: Vec<String> = edges
        .get(&decision)
        .into_iter()
        .flatten()
        .map(name)
        .collect();
    assert!(deps.contains(&"token/token_error".to_owned()), "{deps:?}");
}

#[test]
fn nothing_outside_pipeline_imports_it_but_the_edge_that_drives_it() {
    // The machine's surface (`machine.rs`: Request, Step, Event and their payloads) is what the
    // rest of the crate shares; the pipeline's phases and states are its own. `edge/` is the one
    // driver: it builds the `Pipeline`, runs the warm-up, and calls `start`/`resume`.
    let edges = graph();
    let in_pipeline = |m: &ModPath| m.first().is_some_and(|p| p == "pipeline");
    let is_driver = |m: &ModPath| m.first().is_some_and(|p| p == "edge");
    let outside: Vec<String> = edges
        .iter()
        .filter(|(from, _)| !in_pipeline(from) && !is_driver(from))
        .flat_map(|(from, tos)| {
            tos.iter()
                .filter(|to| in_pipeline(to))
                .map(move |to| format!("{} -> {}", name(from), name(to)))
        })
        .collect();
    assert!(
        outside.is_empty(),
        "imports of pipeline/ from outside: {outside:#?}"
    );
    let driver: Vec<String> = edges
        .iter()
        .filter(|(from, _)| is_driver(from))
        .flat_map(|(_, tos)| tos.iter().filter(|to| in_pipeline(to)).map(name))
        .collect();
    assert!(
        driver
            .iter()
            .all(|to| to == "pipeline" || to == "pipeline/warm_up"),
        "the edge reaches into the pipeline's phases: {driver:?}"
    );
}
