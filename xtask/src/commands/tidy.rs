//! `cargo xtask tidy`: what rustfmt does not check.
//!
//! - **Helpers stay identical.** Each recipe is copied with the helper files its `Copy:` line
//!   names, so a helper (`errors.rs`, `fork.rs`, ...) must be the same, byte for byte, in every
//!   example crate that has one, and the `mod` lines of a recipe must be its `Copy:` helpers.
//! - **Recipes stay short**: at most [`MAX_RECIPE_LINES`] lines each, a median of at most
//!   [`MAX_MEDIAN_LINES`], and at most [`MAX_COPIED_LINES`] lines copied for any one recipe
//!   (its file and its helpers).
//! - **Comment lines fit in 100 columns**, like the code rustfmt wraps (rustfmt leaves
//!   comments alone).
//! - **`unsafe` is explained and kept out of the story**: see [`unsafe_code`].
//! - **The Python side is clean**: `ruff check` and `ruff format --check` on the recipes' `.py`
//!   files (ruff from the project's Python environment, [`crate::project::python_env`]).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

mod unsafe_code;

use crate::out::{counted, say};
use crate::project::python_env;
use crate::project::recipe::Recipe;
use crate::project::workspace::{Workspace, shown};

const MAX_COMMENT_COLUMNS: usize = 100;
pub const MAX_RECIPE_LINES: usize = 120;
pub const MAX_MEDIAN_LINES: usize = 80;
pub const MAX_COPIED_LINES: usize = 200;

/// One copy of a helper file: where it is and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    pub path: PathBuf,
    pub text: String,
}

/// Returns whether everything is tidy; prints each problem.
pub fn tidy() -> Result<bool> {
    let workspace = Workspace::discover()?;
    let files = rust_files(&workspace.root)?;
    let mut problems = Vec::new();
    for path in &files {
        let text =
            fs::read_to_string(path).with_context(|| format!("cannot read {}", shown(path)))?;
        problems.extend(long_comments(path, &text));
        let in_recipe = workspace.examples.iter().any(|e| e.recipe.path == *path);
        problems.extend(unsafe_code::problems(path, &text, in_recipe));
    }
    let helpers = helper_copies(&workspace)?;
    for (name, copies) in &helpers {
        problems.extend(differing_copies(name, copies));
    }
    let recipes: Vec<&Recipe> = workspace.examples.iter().map(|e| &e.recipe).collect();
    let sizes = recipes.iter().map(|r| recipe_size(r)).collect::<Result<Vec<_>>>()?;
    for (recipe, size) in recipes.iter().zip(&sizes) {
        problems.extend(size.problems(recipe));
    }
    problems.extend(median_problem(&sizes));
    let own: Vec<usize> = sizes.iter().map(|s| s.own).collect();
    let largest = sizes.iter().map(|s| s.copied).max().unwrap_or(0);
    let readme = workspace.root.join("README.md");
    let readme =
        fs::read_to_string(&readme).with_context(|| format!("cannot read {}", shown(&readme)))?;
    problems.extend(stale_sizes(&readme, median(&own), largest));
    problems.extend(python_problems(&workspace.root, &workspace.target)?);
    for problem in &problems {
        say!("{problem}")?;
    }
    let copies: usize = helpers.values().map(Vec::len).sum();
    say!(
        "tidy: {} Rust files, {} recipes (median {} lines, at most {} copied), {} helper{} in \
         {copies} copies, comments within {} columns: {}",
        files.len(),
        recipes.len(),
        median(&sizes.iter().map(|s| s.own).collect::<Vec<_>>()),
        sizes.iter().map(|s| s.copied).max().unwrap_or(0),
        helpers.len(),
        if helpers.len() == 1 { "" } else { "s" },
        MAX_COMMENT_COLUMNS,
        if problems.is_empty() { "ok".to_string() } else { counted(problems.len(), "problem") }
    )?;
    Ok(problems.is_empty())
}

/// What ruff finds in the Python files of the example crates, one problem per line it prints.
fn python_problems(root: &Path, target: &Path) -> Result<Vec<String>> {
    let Some(bin) = python_env::ensure(root, target)? else {
        return Ok(vec![
            "python: no python3, so the .py files could not be checked with ruff".to_string(),
        ]);
    };
    let mut problems = Vec::new();
    for args in [&["check", "--quiet", "--output-format", "concise"][..], &["format", "--check"]] {
        let output = Command::new(bin.join("ruff"))
            .args(args)
            .args(PYTHON_FOLDERS)
            .current_dir(root)
            .output()
            .with_context(|| format!("cannot run ruff from {}", shown(&bin)))?;
        if !output.status.success() {
            let said = String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr);
            problems.extend(said.lines().filter(|l| !l.is_empty()).map(|l| format!("ruff: {l}")));
            if problems.is_empty() {
                problems.push(format!("ruff {} failed: {}", args[0], output.status));
            }
        }
    }
    Ok(problems)
}

/// Where the Python files are; `ruff.toml`, at the top, holds ruff's settings.
const PYTHON_FOLDERS: [&str; 2] = ["with_python", "ipc_bench"];

/// Every helper file of the example crates (a file of `src/` that is neither a recipe nor
/// `main.rs`), by file name.
fn helper_copies(workspace: &Workspace) -> Result<BTreeMap<String, Vec<Copy>>> {
    let recipes: Vec<&Path> = workspace.examples.iter().map(|e| e.recipe.path.as_path()).collect();
    let mut helpers: BTreeMap<String, Vec<Copy>> = BTreeMap::new();
    for folder in workspace.example_dirs().iter().map(|d| d.join("src")) {
        for entry in
            fs::read_dir(&folder).with_context(|| format!("cannot list {}", shown(&folder)))?
        {
            let path = entry?.path();
            let name =
                path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if !name.ends_with(".rs") || name == "main.rs" || recipes.contains(&path.as_path()) {
                continue;
            }
            let text = fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", shown(&path)))?;
            helpers.entry(name).or_default().push(Copy { path, text });
        }
    }
    for copies in helpers.values_mut() {
        copies.sort_by(|a, b| a.path.cmp(&b.path));
    }
    Ok(helpers)
}

/// How long a recipe is, alone and with what its `Copy:` line brings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Size {
    pub own: usize,
    pub copied: usize,
    /// Helpers named on the `Copy:` line that are not beside the recipe.
    pub missing: Vec<String>,
    /// `mod` lines of the recipe that its `Copy:` line does not name, and the other way round.
    pub unlisted_mods: Vec<String>,
    pub unused_helpers: Vec<String>,
}

impl Size {
    fn problems(&self, recipe: &Recipe) -> Vec<String> {
        let at = shown(&recipe.path);
        let mut found = Vec::new();
        if self.own > MAX_RECIPE_LINES {
            found.push(format!(
                "{at}: {} lines; a recipe has at most {MAX_RECIPE_LINES} (split it, or move what \
                 it does not teach into a helper)",
                self.own
            ));
        }
        if self.copied > MAX_COPIED_LINES {
            found.push(format!(
                "{at}: its `Copy:` line copies {} lines; at most {MAX_COPIED_LINES}",
                self.copied
            ));
        }
        for name in &self.missing {
            found.push(format!("{at}: `Copy:` names {name}, which is not beside it"));
        }
        for name in &self.unlisted_mods {
            found.push(format!(
                "{at}: `mod {name};` needs {name}.rs on the `Copy:` line, or a copy will not build"
            ));
        }
        for name in &self.unused_helpers {
            found.push(format!(
                "{at}: `Copy:` names {name}, but no `mod` line (or `include_str!`) uses it"
            ));
        }
        found
    }
}

fn recipe_size(recipe: &Recipe) -> Result<Size> {
    let dir = recipe.path.parent().context("a recipe lives in a folder")?;
    let count = |path: &Path| -> Result<usize> {
        let text =
            fs::read_to_string(path).with_context(|| format!("cannot read {}", shown(path)))?;
        Ok(text.lines().count())
    };
    let text = fs::read_to_string(&recipe.path)
        .with_context(|| format!("cannot read {}", shown(&recipe.path)))?;
    let own = text.lines().count();
    let mut size = Size {
        own,
        copied: own,
        missing: Vec::new(),
        unlisted_mods: Vec::new(),
        unused_helpers: Vec::new(),
    };
    let helpers = &recipe.copy[1..];
    for name in helpers {
        let path = dir.join(name);
        if path.is_file() {
            size.copied += count(&path)?;
        } else {
            size.missing.push(name.clone());
        }
    }
    let mods = mod_lines(&text);
    size.unlisted_mods =
        mods.iter().filter(|m| !helpers.contains(&format!("{m}.rs"))).cloned().collect();
    // A helper is used by a `mod` line (`fork.rs`) or, for a file of another language (the
    // Python side of a recipe), by an `include_str!` of it.
    size.unused_helpers = helpers
        .iter()
        .filter(|h| {
            let by_mod = mods.iter().any(|m| format!("{m}.rs") == **h);
            let included = !h.ends_with(".rs") && text.contains(&format!("include_str!(\"{h}\")"));
            !by_mod && !included
        })
        .cloned()
        .collect();
    Ok(size)
}

/// The modules a file declares from files of their own: `mod NAME;` at the start of a line.
fn mod_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("mod ")?.strip_suffix(';'))
        .map(|m| m.trim().to_string())
        .collect()
}

fn median(values: &[usize]) -> usize {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    match sorted.len() {
        0 => 0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]).div_ceil(2),
    }
}

/// The README states the median recipe and the largest copy that tidy prints, as "the median
/// and the largest copy: M and L lines today": a figure that no longer holds is a problem.
fn stale_sizes(readme: &str, median: usize, largest: usize) -> Option<String> {
    const CLAIM: &str = "the median and the largest copy: ";
    let text = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    let Some(at) = text.find(CLAIM) else {
        return Some(format!("README.md no longer says \"{CLAIM}M and L lines today\""));
    };
    let stated: Vec<&str> = text[at + CLAIM.len()..].split(' ').take(3).collect();
    let (want_median, want_largest) = (median.to_string(), largest.to_string());
    (stated != [want_median.as_str(), "and", want_largest.as_str()]).then(|| {
        format!(
            "README.md says \"{CLAIM}{}\"; tidy measures {median} and {largest}: correct it",
            stated.join(" ")
        )
    })
}

fn median_problem(sizes: &[Size]) -> Option<String> {
    let own: Vec<usize> = sizes.iter().map(|s| s.own).collect();
    let median = median(&own);
    (median > MAX_MEDIAN_LINES)
        .then(|| format!("the recipes' median is {median} lines; at most {MAX_MEDIAN_LINES}"))
}

/// Every `.rs` file below `root`, sorted, skipping build output and hidden folders.
fn rust_files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in
            fs::read_dir(&folder).with_context(|| format!("cannot list {}", shown(&folder)))?
        {
            let entry = entry?;
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if entry.file_type()?.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    folders.push(path);
                }
            } else if name.ends_with(".rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Each copy that differs from the most common text, with its first differing line.
fn differing_copies(name: &str, copies: &[Copy]) -> Vec<String> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for copy in copies {
        match counts.iter_mut().find(|(text, _)| *text == copy.text) {
            Some((_, n)) => *n += 1,
            None => counts.push((&copy.text, 1)),
        }
    }
    // The most common text is taken as right; on a tie, the first file's.
    let Some(&(reference, agreeing)) = counts.iter().max_by_key(|(_, n)| *n) else {
        return Vec::new();
    };
    let model =
        copies.iter().find(|c| c.text == reference).expect("the reference text comes from a copy");
    copies
        .iter()
        .filter(|c| c.text != reference)
        .map(|copy| {
            let (offset, expected, found) = reference
                .lines()
                .map(Some)
                .chain(std::iter::repeat(None))
                .zip(copy.text.lines().map(Some).chain(std::iter::repeat(None)))
                .enumerate()
                .find(|(_, (a, b))| a != b)
                .map(|(i, (a, b))| (i, a.unwrap_or("(end of file)"), b.unwrap_or("(end of file)")))
                .expect("different texts differ in some line");
            format!(
                "{}:{}: helper {name} differs from {} ({agreeing} cop{} agree; copy the right \
                 one over the others): expected `{}`, found `{}`",
                shown(&copy.path),
                offset + 1,
                shown(&model.path),
                if agreeing == 1 { "y" } else { "ies" },
                expected.trim(),
                found.trim()
            )
        })
        .collect()
}

/// Comment lines wider than [`MAX_COMMENT_COLUMNS`].
fn long_comments(path: &Path, text: &str) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| line.trim_start().starts_with("//"))
        .filter_map(|(i, line)| {
            let columns = line.chars().count();
            (columns > MAX_COMMENT_COLUMNS).then(|| {
                format!(
                    "{}:{}: comment line is {columns} columns wide; wrap it at {}",
                    shown(path),
                    i + 1,
                    MAX_COMMENT_COLUMNS
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(path: &str, text: &str) -> Copy {
        Copy { path: path.into(), text: text.into() }
    }

    #[test]
    fn the_odd_copy_out_is_named_with_its_line() {
        let copies = vec![
            copy("one/fork.rs", "x\ny\n"),
            copy("two/fork.rs", "x\ny\n"),
            copy("three/fork.rs", "x\nY\n"),
        ];
        let problems = differing_copies("fork.rs", &copies);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with("three/fork.rs:2: helper fork.rs differs from one/fork.rs"),
            "{}",
            problems[0]
        );
        assert!(problems[0].contains("expected `y`, found `Y`"), "{}", problems[0]);
        assert!(differing_copies("fork.rs", &copies[..2]).is_empty());
    }

    #[test]
    fn a_shorter_copy_is_caught() {
        let copies = vec![copy("one/a.rs", "a\nb\n"), copy("two/a.rs", "a\n")];
        let problems = differing_copies("a.rs", &copies);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("(end of file)"), "{}", problems[0]);
    }

    #[test]
    fn mod_lines_are_the_helpers_a_recipe_declares() {
        let text = "//! mod fake;\nmod errors;\nmod fork;\nuse errors::say;\n    mod inner;\n";
        assert_eq!(mod_lines(text), ["errors", "fork"]);
    }

    #[test]
    fn a_recipe_is_measured_with_its_helpers() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| fs::write(dir.path().join(name), text).unwrap();
        write(
            "r.rs",
            "//! Copy: r.rs errors.rs gone.rs\n//! Needs: anyhow@1\nmod errors;\nmod fork;\n",
        );
        write("errors.rs", "a\nb\nc\n");
        let path = dir.path().join("r.rs");
        let text = fs::read_to_string(&path).unwrap();
        let recipe = crate::project::recipe::parse(&path, &text).unwrap().unwrap();
        let size = recipe_size(&recipe).unwrap();
        assert_eq!((size.own, size.copied), (4, 7));
        assert_eq!(size.missing, ["gone.rs"]);
        assert_eq!(size.unlisted_mods, ["fork"]);
        assert_eq!(size.unused_helpers, ["gone.rs"]);
        assert_eq!(size.problems(&recipe).len(), 3);
    }

    #[test]
    fn the_readme_states_the_sizes_tidy_measures() {
        let readme = "prints\nthe median and the largest copy: 57 and 200 lines today).";
        assert_eq!(stale_sizes(readme, 57, 200), None);
        assert!(stale_sizes(readme, 53, 200).unwrap().contains("measures 53 and 200"));
        assert!(stale_sizes("no claim", 57, 200).unwrap().contains("no longer says"));
    }

    #[test]
    fn the_median_of_recipe_lengths() {
        assert_eq!(median(&[10, 200, 30]), 30);
        assert_eq!(median(&[10, 20, 31, 41]), 26); // rounded up: never below the true median
        assert_eq!(median(&[]), 0);
    }

    #[test]
    fn only_comment_lines_over_100_columns() {
        let long = format!("    // {}", "w".repeat(95));
        let code = format!("    let x = \"{}\";", "w".repeat(95));
        let text = format!("// short\n{long}\n{code}\n");
        let problems = long_comments(Path::new("f.rs"), &text);
        assert_eq!(problems, vec!["f.rs:2: comment line is 102 columns wide; wrap it at 100"]);
    }
}
