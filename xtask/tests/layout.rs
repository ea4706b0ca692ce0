//! The modules of the xtask and of the bench form no circle: for every pair, at most one names
//! the other. A circle makes a module impossible to read or test without the rest; this keeps
//! the layers of `xtask/src/*/mod.rs` and `ipc_bench/src/*/mod.rs` honest.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Module path (`sandbox::runner`) of every `.rs` file under `src`, `mod.rs` files excluded.
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    let mut folders = vec![src.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder).expect("xtask/src is readable") {
            let path = entry.expect("xtask/src is readable").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(src).expect("found under src");
                let name = relative.with_extension("").to_string_lossy().replace('/', "::");
                if !name.ends_with("mod") && name != "main" {
                    found.insert(name, path);
                }
            }
        }
    }
    found
}

/// The modules `text` names as `crate::a::b...` or `crate::a::{b, c::d}`, each resolved to the
/// longest known module path.
fn uses(text: &str, known: &BTreeMap<String, PathBuf>) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let mut resolve = |path: &str| {
        let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
        if let Some(module) =
            (1..=parts.len()).rev().map(|n| parts[..n].join("::")).find(|m| known.contains_key(m))
        {
            used.insert(module);
        }
    };
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        let path: String =
            rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
        let after = &rest[path.len()..];
        if let Some(list) = after.strip_prefix('{') {
            // One level of braces: `crate::links::{mqueue, pipe}`, `crate::{sys, links::watch}`.
            let list = &list[..list.find('}').unwrap_or(list.len())];
            for item in list.split(',') {
                let item = item.trim().split("::{").next().unwrap_or("");
                resolve(&format!("{path}{item}"));
            }
        } else {
            resolve(&path);
        }
    }
    used
}

/// A circle through `start`, if there is one, as the modules along it.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_string(), vec![start.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((at, path)) = stack.pop() {
        for next in graph.get(&at).into_iter().flatten() {
            if next == start {
                let mut found = path.clone();
                found.push(start.to_string());
                return Some(found);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

/// The circles among the modules of the crate whose sources are in `src`.
fn circles_in(src: &Path) -> Vec<String> {
    let known = modules(src);
    let graph: BTreeMap<String, BTreeSet<String>> = known
        .iter()
        .map(|(name, path)| {
            let text = fs::read_to_string(path).expect("a module is readable");
            let mut used = uses(&text, &known);
            used.remove(name);
            (name.clone(), used)
        })
        .collect();
    known.keys().filter_map(|m| circle(&graph, m)).map(|c| c.join(" -> ")).collect()
}

#[test]
fn no_module_names_one_that_names_it_back() {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    assert!(modules(&xtask).contains_key("sandbox::runner"));
    // The bench is tooling too, and laid out the same way.
    let bench = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ipc_bench/src");
    assert!(modules(&bench).contains_key("links::shm_sem"));
    for src in [xtask, bench] {
        let circles = circles_in(&src);
        assert!(circles.is_empty(), "module circles in {}:\n{}", src.display(), circles.join("\n"));
    }
}

#[test]
fn a_circle_is_found() {
    let graph: BTreeMap<String, BTreeSet<String>> =
        [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"]), ("d", vec!["a"])]
            .into_iter()
            .map(|(m, to)| (m.to_string(), to.into_iter().map(String::from).collect()))
            .collect();
    assert_eq!(circle(&graph, "a"), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    assert_eq!(circle(&graph, "d"), None);
}
