//! The arrows between the crate's top-level modules point one way: no module
//! imports, directly or through others, one that imports it, and each arrow
//! points down the layers `src/lib.rs` documents (see `docs/ARCHITECTURE.md`).
//! Read from the sources: every `crate::NAME` path outside comments, and each
//! item of a `crate::{…}` group, is an arrow from the file's top-level module
//! to `NAME`. One level down, no submodule of a folder module imports a
//! sibling that imports it. Checked natively only: the sources are the same
//! for every target.

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The code of a file with its comments blanked out (newlines kept, so byte
/// offsets still give line numbers). A `//` inside a string ends the line's
/// code here too: an arrow after a URL on the same line is not seen.
fn code_of(text: &str) -> String {
    let mut code = String::with_capacity(text.len());
    let mut in_block = false;
    for line in text.lines() {
        let mut rest = line;
        let mut kept = String::new();
        loop {
            if in_block {
                match rest.find("*/") {
                    Some(end) => {
                        rest = &rest[end + 2..];
                        in_block = false;
                    }
                    None => break,
                }
            } else {
                let line_comment = rest.find("//");
                let block = rest.find("/*");
                match (line_comment, block) {
                    (Some(l), Some(b)) if b < l => {
                        kept.push_str(&rest[..b]);
                        rest = &rest[b + 2..];
                        in_block = true;
                    }
                    (None, Some(b)) => {
                        kept.push_str(&rest[..b]);
                        rest = &rest[b + 2..];
                        in_block = true;
                    }
                    (Some(l), _) => {
                        kept.push_str(&rest[..l]);
                        break;
                    }
                    (None, None) => {
                        kept.push_str(rest);
                        break;
                    }
                }
            }
        }
        code.push_str(&kept);
        code.push('\n');
    }
    code
}

/// The leading module name of a path: `outbox::Routing` → `outbox`.
fn first_name(path: &str) -> String {
    path.trim_start()
        .chars()
        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
        .collect()
}

/// The top-level modules a `crate::` at `after` (the text just past it)
/// names: one, or each item of a group `crate::{a::X, b::{Y, Z}}`.
fn named_after_crate(after: &str) -> Vec<String> {
    let Some(group) = after.strip_prefix('{') else {
        return vec![first_name(after)];
    };
    let mut names = Vec::new();
    let mut depth = 1;
    let mut item = String::new();
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 1 => {
                names.push(first_name(&std::mem::take(&mut item)));
                continue;
            }
            _ => {}
        }
        if depth == 0 {
            break;
        }
        item.push(c);
    }
    names.push(first_name(&item));
    names
}

/// Top-level module → the top-level modules it names, each with where.
fn arrows(src: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut arrows: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_string_lossy();
        let from = first.trim_end_matches(".rs").to_string();
        if from == "lib" || from == "main" {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(&file).unwrap());
        for (at, _) in code.match_indices("crate::") {
            let line = code[..at].matches('\n').count() + 1;
            for to in named_after_crate(&code[at + 7..]) {
                if !to.is_empty() && to != from {
                    arrows
                        .entry(from.clone())
                        .or_default()
                        .entry(to)
                        .or_insert_with(|| format!("{}:{line}", relative.display()));
                }
            }
        }
    }
    arrows
}

/// The layers `src/lib.rs` documents, top first: its chain
/// `` `cli` → `server`/`service` → … `` split at the arrows and the slashes.
fn documented_layers(lib: &str) -> Vec<Vec<String>> {
    let doc: Vec<&str> = lib.lines().filter_map(|l| l.strip_prefix("//!")).collect();
    let first = doc
        .iter()
        .position(|l| l.contains('→'))
        .expect("lib.rs documents the layers with →");
    let mut chain = String::new();
    for line in &doc[first..] {
        chain.push_str(line);
        if line.trim_end().ends_with('.') {
            break;
        }
    }
    chain
        .trim_end()
        .trim_end_matches('.')
        .split('→')
        .map(|layer| {
            layer
                .split('/')
                .map(|m| m.trim().trim_matches('`').to_string())
                .collect()
        })
        .collect()
}

/// The crate's top-level modules, from its `mod` lines.
fn declared_modules(lib: &str) -> BTreeSet<String> {
    lib.lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("pub mod ")
                .or_else(|| l.trim().strip_prefix("mod "))
        })
        .map(|l| l.trim_end_matches(';').trim().to_string())
        .collect()
}

/// The direct submodules of the folder module `dir`: its files and folders.
fn submodules(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|name| name != "mod" && name != "tests")
        .collect()
}

/// Inside the folder module `src/TOP`: each direct submodule → the sibling
/// submodules it names, by `crate::TOP::NAME` or by a `super::` chain that
/// climbs to `TOP` (a file's tests, after its first `#[cfg(test)]`, are left
/// out: their `super::` is one level deeper).
fn sub_arrows(src: &Path, top: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let dir = src.join(top);
    let siblings = submodules(&dir);
    let mut files = Vec::new();
    sources(&dir, &mut files);
    let mut arrows: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&dir).unwrap();
        let parts: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().trim_end_matches(".rs").to_string())
            .collect();
        let from = parts[0].clone();
        if from == "mod" || from == "tests" {
            continue;
        }
        // How deep the file's module is below TOP: `a.rs` and `a/mod.rs` are 1.
        let depth = parts.len() - usize::from(parts.last().is_some_and(|p| p == "mod"));
        let text = std::fs::read_to_string(&file).unwrap();
        let code = code_of(text.split("#[cfg(test)]").next().unwrap_or_default());
        let mut named = Vec::new();
        let crate_path = format!("crate::{top}::");
        for (at, _) in code.match_indices(&crate_path) {
            named.push((at, named_after_crate(&code[at + crate_path.len()..])));
        }
        for (at, _) in code.match_indices("super::") {
            if code[..at].ends_with("super::") {
                continue;
            }
            let mut rest = &code[at..];
            let mut climbs = 0;
            while let Some(after) = rest.strip_prefix("super::") {
                rest = after;
                climbs += 1;
            }
            if climbs == depth {
                named.push((at, named_after_crate(rest)));
            }
        }
        for (at, names) in named {
            let line = code[..at].matches('\n').count() + 1;
            for to in names.into_iter().filter(|n| siblings.contains(n) && *n != from) {
                arrows
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_insert_with(|| format!("{top}/{}:{line}", relative.display()));
            }
        }
    }
    arrows
}

/// A cycle through `start`, as the modules on it, if there is one.
fn cycle_through(arrows: &BTreeMap<String, BTreeMap<String, String>>, start: &str) -> Option<Vec<String>> {
    let mut path = vec![start.to_string()];
    let mut seen = BTreeSet::new();
    fn walk(
        arrows: &BTreeMap<String, BTreeMap<String, String>>,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        let here = path.last().cloned().unwrap_or_default();
        for next in arrows
            .get(&here)
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            if next == start {
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next);
                if walk(arrows, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    walk(arrows, start, &mut path, &mut seen).then_some(path)
}

#[test]
fn no_top_level_module_imports_one_that_imports_it() {
    let arrows = arrows(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(arrows.len() > 10, "the sources were read: {arrows:?}");
    for module in arrows.keys() {
        if let Some(cycle) = cycle_through(&arrows, module) {
            let mut shown = Vec::new();
            for (i, from) in cycle.iter().enumerate() {
                let to = &cycle[(i + 1) % cycle.len()];
                shown.push(format!("{from} → {to} ({})", arrows[from][to]));
            }
            panic!("a cycle between top-level modules:\n  {}", shown.join("\n  "));
        }
    }
}

#[test]
fn every_arrow_points_down_the_layers_lib_rs_documents() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let layers = documented_layers(&lib);
    let mut rank = BTreeMap::new();
    for (n, layer) in layers.iter().enumerate() {
        for module in layer {
            assert!(
                rank.insert(module.clone(), n).is_none(),
                "lib.rs names `{module}` twice"
            );
        }
    }
    let unplaced: Vec<_> = declared_modules(&lib)
        .into_iter()
        .filter(|m| !rank.contains_key(m))
        .collect();
    assert!(
        unplaced.is_empty(),
        "lib.rs's chain of layers does not place {unplaced:?}"
    );
    let mut wrong = Vec::new();
    for (from, tos) in arrows(&root.join("src")) {
        for (to, at) in tos {
            match (rank.get(&from), rank.get(&to)) {
                (Some(f), Some(t)) if f < t => {}
                _ => wrong.push(format!("{from} → {to} ({at})")),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that point up or across the layers lib.rs documents:\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn a_grouped_import_is_an_arrow_to_each_of_its_modules() {
    let names = named_after_crate("{outbox::Routing, store::{Db, StoreError}, message};");
    assert_eq!(names, ["outbox", "store", "message"]);
    assert_eq!(named_after_crate("config::Config;"), ["config"]);
    let code = code_of("let a = 1; /* crate::store */ // crate::outbox\nuse crate::engine;");
    assert!(!code.contains("store") && !code.contains("outbox") && code.contains("crate::engine"));
}

#[test]
fn no_submodule_imports_a_sibling_that_imports_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let folders: Vec<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(folders.len() > 5, "{folders:?}");
    let mut cycles = Vec::new();
    for top in &folders {
        let arrows = sub_arrows(&src, top);
        for module in arrows.keys() {
            if let Some(cycle) = cycle_through(&arrows, module) {
                let shown: Vec<String> = cycle
                    .iter()
                    .enumerate()
                    .map(|(i, from)| {
                        let to = &cycle[(i + 1) % cycle.len()];
                        format!("{top}::{from} → {top}::{to} ({})", arrows[from][to])
                    })
                    .collect();
                cycles.push(shown.join(", "));
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "cycles between submodules:\n  {}",
        cycles.join("\n  ")
    );
}
