//! A recipe: one file of an example crate that is a complete program, and the two header
//! lines that say how to copy it.
//!
//! ```text
//! //! Copy: semaphore.rs fork.rs errors.rs
//! //! Needs: anyhow@1, libc@0.2, nix@0.31 (features mman, process, signal, time)
//! ```
//!
//! `Copy:` names the recipe's own file first, then the helpers beside it; `Needs:` names the
//! crates it depends on, each with the version proven (what `cargo add CRATE@VERSION` takes)
//! and the features it needs. A file of `src/` with a `Copy:`
//! line is a recipe; a file without one is a helper or the crate's `main.rs`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

const COPY: &str = "//! Copy:";
const NEEDS: &str = "//! Needs:";

/// A crate a recipe depends on, with the features it turns on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub krate: String,
    /// The version requirement proven, as `cargo add` takes it after the `@`: `0.31`.
    pub version: String,
    pub features: Vec<String>,
}

/// One recipe file and its copy instructions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    /// The file's name without `.rs`: what `cargo run -p NAME -- RECIPE` takes.
    pub name: String,
    pub path: PathBuf,
    /// The files to copy, the recipe's own first, relative to its folder.
    pub copy: Vec<String>,
    pub needs: Vec<Need>,
}

/// The recipes in `dir` (an example's `src/`), sorted by name.
pub fn discover(dir: &Path) -> Result<Vec<Recipe>> {
    let mut recipes = Vec::new();
    let entries = fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        if let Some(recipe) = parse(&path, &text)? {
            recipes.push(recipe);
        }
    }
    recipes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(recipes)
}

/// The recipe in `text`, or `None` when it has no `Copy:` line (a helper, or `main.rs`).
pub fn parse(path: &Path, text: &str) -> Result<Option<Recipe>> {
    let at = |what: &str| format!("{}: {what}", path.display());
    let header = |prefix: &str| {
        text.lines().take_while(|l| l.starts_with("//!")).position(|l| l.starts_with(prefix))
    };
    let lines: Vec<&str> = text.lines().collect();
    let Some(copy_at) = header(COPY) else {
        return Ok(None);
    };
    let Some(needs_at) = header(NEEDS) else {
        bail!(at("a recipe's header has a `Copy:` line but no `Needs:` line"));
    };
    let copy: Vec<String> =
        lines[copy_at][COPY.len()..].split_whitespace().map(str::to_string).collect();
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .context(at("a recipe's file name must be UTF-8"))?
        .to_string();
    let own = format!("{name}.rs");
    if copy.first() != Some(&own) {
        bail!(at(&format!("the `Copy:` line must name the recipe's own file, {own}, first")));
    }
    let needs = parse_needs(&lines[needs_at][NEEDS.len()..])
        .with_context(|| at(&format!("line {}: malformed `Needs:`", needs_at + 1)))?;
    Ok(Some(Recipe { name, path: path.to_path_buf(), copy, needs }))
}

/// `anyhow, nix (features fs, mman), tempfile` gives three needs, nix's with two features.
fn parse_needs(text: &str) -> Result<Vec<Need>> {
    let mut needs = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let end = rest.find([',', '(']).unwrap_or(rest.len());
        let named = rest[..end].trim();
        let Some((krate, version)) = named.split_once('@') else {
            bail!("`{named}` names no version: write `{named}@MAJOR`, as proven (`nix@0.31`)");
        };
        let (krate, version) = (krate.to_string(), version.to_string());
        if krate.is_empty() || krate.contains(char::is_whitespace) {
            bail!("expected a crate name at `{rest}`");
        }
        if version.is_empty() || !version.chars().all(|c| c.is_ascii_digit() || c == '.') {
            bail!("`{named}`: a version is digits and dots, as in `nix@0.31`");
        }
        rest = &rest[end..];
        let mut features = Vec::new();
        if let Some(inner) = rest.strip_prefix('(') {
            let close = inner.find(')').context("a `(` is never closed")?;
            let list = inner[..close]
                .trim()
                .strip_prefix("features ")
                .context("expected `(features A, B)`")?;
            features = list.split(',').map(|f| f.trim().to_string()).collect();
            if features.iter().any(String::is_empty) {
                bail!("an empty feature name in `({})`", &inner[..close]);
            }
            rest = &inner[close + 1..];
        }
        needs.push(Need { krate, version, features });
        rest = rest.trim_start();
        match rest.strip_prefix(',') {
            Some(after) => rest = after.trim_start(),
            None if rest.is_empty() => {}
            None => bail!("expected `,` before `{rest}`"),
        }
    }
    Ok(needs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipe(text: &str) -> Result<Option<Recipe>> {
        parse(Path::new("src/semaphore.rs"), text)
    }

    #[test]
    fn a_header_gives_files_and_needs() {
        let text = "//! What it shows.\n//!\n//! Copy: semaphore.rs fork.rs errors.rs\n\
                    //! Needs: anyhow@1, nix@0.31 (features mman, process), tempfile@3\n\
                    \nfn main() {}\n";
        let found = recipe(text).unwrap().unwrap();
        assert_eq!(found.name, "semaphore");
        assert_eq!(found.copy, ["semaphore.rs", "fork.rs", "errors.rs"]);
        let needs: Vec<(&str, &str, Vec<&str>)> = found
            .needs
            .iter()
            .map(|n| {
                (
                    n.krate.as_str(),
                    n.version.as_str(),
                    n.features.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            needs,
            [
                ("anyhow", "1", vec![]),
                ("nix", "0.31", vec!["mman", "process"]),
                ("tempfile", "3", vec![])
            ]
        );
    }

    #[test]
    fn a_file_without_copy_is_no_recipe() {
        assert_eq!(recipe("//! A helper.\n\npub fn f() {}\n").unwrap(), None);
        // A `Copy:` below the header is code or a comment, not an instruction.
        assert_eq!(recipe("fn main() {}\n//! Copy: semaphore.rs\n").unwrap(), None);
    }

    #[test]
    fn malformed_headers_are_errors() {
        let no_needs = recipe("//! Copy: semaphore.rs\n").unwrap_err();
        assert!(no_needs.to_string().contains("no `Needs:`"), "{no_needs}");
        let wrong_first = recipe("//! Copy: fork.rs semaphore.rs\n//! Needs: anyhow@1\n");
        assert!(format!("{:#}", wrong_first.unwrap_err()).contains("first"));
        for needs in [
            "nix (features a",
            "nix (a, b)",
            "nix libc",
            "anyhow,, libc",
            "nix (features a,)",
            "anyhow, nix@0.31",
            "anyhow@, nix@0.31",
            "anyhow@latest",
        ] {
            let text = format!("//! Copy: semaphore.rs\n//! Needs: {needs}\n");
            assert!(recipe(&text).is_err(), "accepted `{needs}`");
        }
    }
}
