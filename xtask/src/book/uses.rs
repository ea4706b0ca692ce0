//! The items a recipe names, as full paths: every `use` declaration expanded
//! (`use nix::sys::{mman::shm_open, stat::Mode}` gives `nix::sys::mman::shm_open` and
//! `nix::sys::stat::Mode`) and every path written out in the code (`std::fs::read_to_string`),
//! kept when they start with one of the crates asked for.

use std::collections::BTreeSet;

/// The paths of the items that `source` names from `crates`, sorted.
pub fn used_paths(source: &str, crates: &[&str]) -> BTreeSet<String> {
    let code: String = source.lines().map(code_of).collect::<Vec<_>>().join("\n");
    let (mut found, mut rest) = (BTreeSet::new(), Vec::new());
    for statement in code.split(';') {
        let trimmed = statement.trim();
        match trimmed.strip_prefix("pub use ").or_else(|| trimmed.strip_prefix("use ")) {
            Some(tree) => {
                expand("", &tree.split_whitespace().collect::<Vec<_>>().join(" "), &mut found)
            }
            None => rest.push(statement),
        }
    }
    found.extend(written_paths(&rest.join(";")));
    found.retain(|path| crates.iter().any(|c| path.starts_with(&format!("{c}::"))));
    found
}

/// A line without its comment and without the text of its string literals.
fn code_of(line: &str) -> String {
    let (mut code, mut in_string, mut previous) = (String::new(), false, ' ');
    for c in line.chars() {
        if c == '"' && previous != '\\' {
            in_string = !in_string;
            code.push(c);
        } else if !in_string {
            if c == '/' && previous == '/' {
                code.pop();
                break;
            }
            code.push(c);
        }
        previous = c;
    }
    code
}

/// Adds the paths a use tree names, after `prefix`.
fn expand(prefix: &str, tree: &str, found: &mut BTreeSet<String>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let inner = tree[open + 1..].strip_suffix('}').unwrap_or(&tree[open + 1..]);
        let head = format!("{prefix}{}", &tree[..open]);
        for part in split_top_level(inner) {
            expand(&head, part, found);
        }
        return;
    }
    let name = tree.split(" as ").next().unwrap_or(tree).trim();
    match name {
        "" | "*" => {}
        "self" => {
            found.insert(prefix.trim_end_matches("::").to_string());
        }
        _ if !name.ends_with('*') => {
            found.insert(format!("{prefix}{name}"));
        }
        _ => {}
    }
}

/// The parts of a list separated by commas outside braces.
fn split_top_level(list: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (at, c) in list.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&list[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    parts.push(&list[start..]);
    parts
}

/// Paths of two segments or more written in the code: `std::process::exit(1)` gives
/// `std::process::exit`; a path's generic arguments and method calls are not part of it.
fn written_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let mut at = 0;
    while at < chars.len() {
        let starts_word =
            at == 0 || !(chars[at - 1].is_alphanumeric() || "_:.".contains(chars[at - 1]));
        if !(starts_word && (chars[at].is_alphabetic() || chars[at] == '_')) {
            at += 1;
            continue;
        }
        let mut end = at;
        loop {
            while end < chars.len() && (chars[end].is_alphanumeric() || chars[end] == '_') {
                end += 1;
            }
            let more = chars.get(end..end + 3).is_some_and(|next| {
                next[0] == ':' && next[1] == ':' && (next[2].is_alphabetic() || next[2] == '_')
            });
            if !more {
                break;
            }
            end += 2;
        }
        let path: String = chars[at..end].iter().collect();
        if path.contains("::") {
            paths.push(path);
        }
        at = end.max(at + 1);
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn use_trees_are_expanded_and_written_paths_found() {
        let source = "\
use std::io::{self, BufRead, Write as _};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use nix::sys::{
    mman::{MapFlags, mmap_anonymous},
    stat::Mode,
};
use errors::say;
use std::os::unix::prelude::*;

fn run() {
    let text = std::fs::read_to_string(\"nix::not::code\")?; // std::not::this
    let c = Vec::<u8>::new();
    nix::unistd::fork().map(drop);
}
";
        let paths = used_paths(source, &["std", "nix"]);
        let expected = [
            "nix::sys::mman::MapFlags",
            "nix::sys::mman::mmap_anonymous",
            "nix::sys::stat::Mode",
            "nix::unistd::fork",
            "std::fs::read_to_string",
            "std::io",
            "std::io::BufRead",
            "std::io::Write",
            "std::sync::atomic::AtomicU64",
            "std::sync::atomic::Ordering::Relaxed",
        ];
        assert_eq!(paths.iter().map(String::as_str).collect::<Vec<_>>(), expected);
    }
}
