//! `cargo xtask tidy`: what rustfmt does not check.
//!
//! - **Copied blocks stay identical.** Each example is a crate of its own that a reader can copy
//!   alone, so the helpers several examples need (errors and output, fork) are copied into
//!   each, between `// ==== copied block: NAME` and `// ==== end of copied block: NAME` lines.
//!   Every copy of a block must be the same, byte for byte, as the others.
//! - **Comment lines fit in 100 columns**, like the code rustfmt wraps (rustfmt leaves
//!   comments alone).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::out::say;
use crate::workspace::{Workspace, shown};

const BLOCK_START: &str = "// ==== copied block: ";
const BLOCK_END: &str = "// ==== end of copied block: ";
const MAX_COMMENT_COLUMNS: usize = 100;

/// One copy of a block: where it is and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    pub path: PathBuf,
    /// 1-based line of the start marker.
    pub line: usize,
    pub text: String,
}

/// Returns whether everything is tidy; prints each problem.
pub fn tidy() -> Result<bool> {
    let workspace = Workspace::discover()?;
    let files = rust_files(&workspace.root)?;
    let mut problems = Vec::new();
    let mut blocks: BTreeMap<String, Vec<Copy>> = BTreeMap::new();
    for path in &files {
        let text =
            fs::read_to_string(path).with_context(|| format!("cannot read {}", shown(path)))?;
        match copied_blocks(path, &text) {
            Ok(found) => {
                for (name, copy) in found {
                    blocks.entry(name).or_default().push(copy);
                }
            }
            Err(problem) => problems.push(problem),
        }
        problems.extend(long_comments(path, &text));
    }
    for (name, copies) in &blocks {
        problems.extend(differing_copies(name, copies));
    }
    for problem in &problems {
        say!("{problem}")?;
    }
    let copies: usize = blocks.values().map(Vec::len).sum();
    say!(
        "tidy: {} Rust files, {} copied block{} in {copies} copies, comments within {} columns: {}",
        files.len(),
        blocks.len(),
        if blocks.len() == 1 { "" } else { "s" },
        MAX_COMMENT_COLUMNS,
        if problems.is_empty() {
            "ok".to_string()
        } else {
            format!(
                "{} problem{}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            )
        }
    )?;
    Ok(problems.is_empty())
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

/// The copied blocks in one file, by name.
fn copied_blocks(path: &Path, text: &str) -> Result<Vec<(String, Copy)>, String> {
    let mut found = Vec::new();
    let mut open: Option<(String, usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let at = || format!("{}:{line_no}", shown(path));
        if let Some(rest) = line.trim_start().strip_prefix(BLOCK_START) {
            if let Some((name, start, _)) = &open {
                return Err(format!(
                    "{}: copied block starts inside block `{name}` opened on line {start}",
                    at()
                ));
            }
            open = Some((block_name(rest), line_no, format!("{line}\n")));
        } else if let Some(rest) = line.trim_start().strip_prefix(BLOCK_END) {
            let Some((name, start, mut body)) = open.take() else {
                return Err(format!(
                    "{}: end of a copied block that never started",
                    at()
                ));
            };
            if block_name(rest) != name {
                return Err(format!(
                    "{}: block `{name}` (line {start}) ends as `{}`",
                    at(),
                    block_name(rest)
                ));
            }
            body.push_str(line);
            body.push('\n');
            found.push((
                name,
                Copy {
                    path: path.to_path_buf(),
                    line: start,
                    text: body,
                },
            ));
        } else if let Some((_, _, body)) = &mut open {
            body.push_str(line);
            body.push('\n');
        }
    }
    match open {
        Some((name, start, _)) => Err(format!(
            "{}:{start}: copied block `{name}` is never closed with `{BLOCK_END}{name}`",
            shown(path)
        )),
        None => Ok(found),
    }
}

/// `errors and output ====...` gives `errors and output`.
fn block_name(rest: &str) -> String {
    rest.trim_end_matches(['=', ' ']).trim().to_string()
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
    let model = copies
        .iter()
        .find(|c| c.text == reference)
        .expect("the reference text comes from a copy");
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
                .map(|(i, (a, b))| {
                    (
                        i,
                        a.unwrap_or("(end of block)"),
                        b.unwrap_or("(end of block)"),
                    )
                })
                .expect("different texts differ in some line");
            format!(
                "{}:{}: copied block `{name}` differs from {} ({agreeing} cop{} agree): \
                 expected `{}`, found `{}`",
                shown(&copy.path),
                copy.line + offset,
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

    fn block(name: &str, body: &str) -> String {
        format!(
            "// ==== copied block: {name} ====\n{body}// ==== end of copied block: {name} ====\n"
        )
    }

    #[test]
    fn blocks_are_found_by_name() {
        let text = format!(
            "fn main() {{}}\n{}{}",
            block("a", "x\n"),
            block("b b", "y\nz\n")
        );
        let found = copied_blocks(Path::new("f.rs"), &text).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, "a");
        assert_eq!(found[0].1.line, 2);
        assert_eq!(found[1].0, "b b");
        assert!(found[1].1.text.contains("y\nz\n"));
    }

    #[test]
    fn malformed_blocks_are_errors_with_a_line() {
        let err =
            copied_blocks(Path::new("f.rs"), "// ==== copied block: a ====\nx\n").unwrap_err();
        assert!(
            err.contains("f.rs:1") && err.contains("never closed"),
            "{err}"
        );
        let err = copied_blocks(
            Path::new("f.rs"),
            "x\n// ==== end of copied block: a ====\n",
        )
        .unwrap_err();
        assert!(err.contains("f.rs:2"), "{err}");
        let text = "// ==== copied block: a ====\n// ==== end of copied block: b ====\n";
        assert!(
            copied_blocks(Path::new("f.rs"), text)
                .unwrap_err()
                .contains("ends as `b`")
        );
    }

    #[test]
    fn the_odd_copy_out_is_named_with_its_line() {
        let copy = |path: &str, body: &str| Copy {
            path: path.into(),
            line: 10,
            text: block("a", body),
        };
        let copies = vec![
            copy("one.rs", "x\ny\n"),
            copy("two.rs", "x\ny\n"),
            copy("three.rs", "x\nY\n"),
        ];
        let problems = differing_copies("a", &copies);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("three.rs:12: copied block `a` differs from one.rs"));
        assert!(
            problems[0].contains("expected `y`, found `Y`"),
            "{}",
            problems[0]
        );
        assert!(differing_copies("a", &copies[..2]).is_empty());
    }

    #[test]
    fn a_shorter_copy_is_caught() {
        let copies = vec![
            Copy {
                path: "one.rs".into(),
                line: 1,
                text: "a\nb\n".into(),
            },
            Copy {
                path: "two.rs".into(),
                line: 1,
                text: "a\n".into(),
            },
        ];
        let problems = differing_copies("a", &copies);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("(end of block)"), "{}", problems[0]);
    }

    #[test]
    fn only_comment_lines_over_100_columns() {
        let long = format!("    // {}", "w".repeat(95));
        let code = format!("    let x = \"{}\";", "w".repeat(95));
        let text = format!("// short\n{long}\n{code}\n");
        let problems = long_comments(Path::new("f.rs"), &text);
        assert_eq!(
            problems,
            vec!["f.rs:2: comment line is 102 columns wide; wrap it at 100"]
        );
    }
}
