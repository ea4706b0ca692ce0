//! The items a recipe names, as full paths, read with syn: every `use` tree expanded
//! (`use nix::sys::{mman::shm_open, stat::Mode}` gives `nix::sys::mman::shm_open` and
//! `nix::sys::stat::Mode`) and every path of two segments or more written in the code
//! (`std::fs::read_to_string`), kept when it starts with one of the crates asked for.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use syn::visit::{self, Visit};

use crate::project::syntax::macro_arguments;

/// The paths of the items that `source` names from `crates`, sorted.
pub fn used_paths(source: &str, crates: &[&str]) -> Result<BTreeSet<String>> {
    let file = syn::parse_file(source).context("cannot read the recipe as Rust")?;
    let mut paths = Paths::default();
    paths.visit_file(&file);
    let mut found = paths.0;
    found.retain(|path| crates.iter().any(|c| path.starts_with(&format!("{c}::"))));
    Ok(found)
}

#[derive(Default)]
struct Paths(BTreeSet<String>);

impl Paths {
    /// Adds the paths a use tree names, after `prefix`.
    fn expand(&mut self, prefix: &str, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => {
                self.expand(&format!("{prefix}{}::", path.ident), &path.tree)
            }
            syn::UseTree::Name(name) if name.ident == "self" => {
                self.0.insert(prefix.trim_end_matches("::").to_string());
            }
            syn::UseTree::Name(name) => {
                self.0.insert(format!("{prefix}{}", name.ident));
            }
            syn::UseTree::Rename(rename) => {
                self.0.insert(format!("{prefix}{}", rename.ident));
            }
            syn::UseTree::Group(group) => group.items.iter().for_each(|t| self.expand(prefix, t)),
            syn::UseTree::Glob(_) => {}
        }
    }
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.expand("", &item.tree);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        macro_arguments(mac).iter().for_each(|argument| self.visit_expr(argument));
        visit::visit_macro(self, mac);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.segments.len() > 1 {
            let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            self.0.insert(names.join("::"));
        }
        visit::visit_path(self, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn use_trees_are_expanded_and_written_paths_found() {
        let source = r#"
use std::io::{self, BufRead, Write as _};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use nix::sys::{
    mman::{MapFlags, mmap_anonymous},
    stat::Mode,
};
use errors::say;
use std::os::unix::prelude::*;

fn run() -> Result<()> {
    let text = std::fs::read_to_string("nix::not::code")?; // std::not::this
    let c = Vec::<u8>::new();
    nix::unistd::fork().map(drop);
    ensure!(len <= libc::PIPE_BUF, "{}", std::process::id());
    Ok(())
}
"#;
        let paths = used_paths(source, &["std", "nix", "libc"]).unwrap();
        let expected = [
            "libc::PIPE_BUF",
            "nix::sys::mman::MapFlags",
            "nix::sys::mman::mmap_anonymous",
            "nix::sys::stat::Mode",
            "nix::unistd::fork",
            "std::fs::read_to_string",
            "std::io",
            "std::io::BufRead",
            "std::io::Write",
            "std::process::id",
            "std::sync::atomic::AtomicU64",
            "std::sync::atomic::Ordering::Relaxed",
        ];
        assert_eq!(paths.iter().map(String::as_str).collect::<Vec<_>>(), expected);
    }
}
