//! The arrows between the crate's top-level modules point one way: no module
//! imports, directly or through others, one that imports it (see
//! `docs/ARCHITECTURE.md`). Read from the sources: every `crate::NAME` path
//! outside comments is an arrow from the file's top-level module to `NAME`.
//! Checked natively only: the sources are the same for every target.

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

/// Top-level module → the top-level modules it names.
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
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for (at, _) in code.match_indices("crate::") {
                let to: String = code[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !to.is_empty() && to != from {
                    arrows
                        .entry(from.clone())
                        .or_default()
                        .entry(to)
                        .or_insert_with(|| format!("{}:{}", relative.display(), n + 1));
                }
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
