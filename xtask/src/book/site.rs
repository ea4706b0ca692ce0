//! The book's sources, generated into `target/book-src` from the repository on every build:
//! nothing in them is kept by hand.
//!
//! - The landing page is README.md's Python index; the front pages are `book/*.md`.
//! - A page per recipe: its header in words, the Python rows of its example's README, the recipe
//!   and its helpers *included* from the source (`{{#include}}`, so the page cannot drift from
//!   the file verify proves), the golden file included the same way with its placeholders
//!   explained, what it uses (each std and crate item linked to its documentation, and what
//!   std lacks where a crate stands in: [`crate::book::what_it_uses`]), the `Copy:`/`Needs:`
//!   lines as steps, and the bench rows that concern it, from a
//!   committed results file, with its date and machine.
//! - Every markdown file these pages link to is mirrored at its own path, so relative links keep
//!   working; links to a recipe's `.rs` file go to its page instead.

use std::collections::{BTreeSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::book::api_docs::ApiDocs;
use crate::book::links::{is_external, normalize, relative, rewrite};
use crate::book::what_it_uses;
use crate::out::say;
use crate::project::recipe::Recipe;
use crate::project::workspace::{Example, Workspace};

/// The front pages, in the sidebar's order, after the landing page.
const FRONT: [(&str, &str); 7] = [
    ("How the examples behave", "book/how-the-examples-behave.md"),
    ("Which IPC should I use?", "book/which-ipc.md"),
    ("Threads or processes?", "book/threads-or-processes.md"),
    ("Python and Rust: which side first?", "book/python-and-rust.md"),
    ("Golden files", "book/golden-files.md"),
    ("What verify checks", "book/what-verify-checks.md"),
    ("Where this stops", "book/where-this-stops.md"),
];

/// An example README's section on what the seed articles' code does.
const ERRATA_HEADING: &str = "## Errata for the seeds";

/// README.md's section that is the landing page.
const INDEX_HEADING: &str = "## From Python: where is it?";

/// What was generated: the chapters, relative to `src`.
pub struct Sources {
    pub src: PathBuf,
    /// `package/recipe` and its page.
    pub recipe_pages: Vec<(String, PathBuf)>,
    pub chapters: Vec<PathBuf>,
}

/// Writes the book's sources into `out` (replacing what was there) and returns what it wrote.
pub fn generate(workspace: &Workspace, out: &Path) -> Result<Sources> {
    if out.exists() {
        fs::remove_dir_all(out).with_context(|| format!("cannot remove {}", out.display()))?;
    }
    let src = out.join("src");
    fs::create_dir_all(&src).with_context(|| format!("cannot create {}", src.display()))?;
    let root = &workspace.root;
    let mut mirror = Mirror::new(root, &src, &workspace.examples);
    // In the workspace's order (Cargo.toml's members): threads first, then processes, ...
    let manifest = fs::read_to_string(root.join("Cargo.toml")).context("cannot read Cargo.toml")?;
    let mut packages = workspace.packages();
    packages.sort_by_key(|p| manifest.find(&format!("\"{p}\"")).unwrap_or(usize::MAX));
    // The pages the sidebar names itself: links to them are not queued as reference pages.
    mirror.done.extend(FRONT.iter().map(|(_, p)| PathBuf::from(p)));
    mirror.done.extend(packages.iter().map(|p| Path::new(p).join("README.md")));

    let readme = fs::read_to_string(root.join("README.md")).context("cannot read README.md")?;
    let index = section(&readme, INDEX_HEADING).context("README.md has no Python index")?;
    // The README's first paragraph, how to use and copy and test it, then the Python index:
    // every recipe page sends the reader to "Copy a recipe".
    let mut landing =
        format!("# Linux concurrency and IPC in Rust, proven\n\n{}\n\n", first_paragraph(&readme));
    for heading in ["## Use", "## Copy a recipe", "## Test"] {
        let part =
            section(&readme, heading).with_context(|| format!("README.md has no {heading}"))?;
        landing.push_str(part.trim_end());
        landing.push_str("\n\n");
    }
    landing.push_str(index);
    mirror.write_page(Path::new("index.md"), &landing)?;

    let mut summary =
        String::from("# Summary\n\n[Start here: use, copy, test; from Python](index.md)\n\n");
    for (title, path) in FRONT {
        mirror.page(Path::new(path))?;
        summary.push_str(&format!("- [{title}]({path})\n"));
    }
    summary.push_str("\n# Recipes\n\n");
    let mut crates: Vec<String> =
        workspace.examples.iter().flat_map(|e| &e.recipe.needs).map(|n| n.krate.clone()).collect();
    crates.sort();
    crates.dedup();
    let docs = ApiDocs::build(workspace, &crates)?;
    if let Some(why) = &docs.std_missing {
        say!("book: std's items are not linked to their documentation: {why}")?;
    }
    let mut recipe_pages = Vec::new();
    for package in packages {
        let readme = Path::new(package).join("README.md");
        mirror.page(&readme)?;
        summary.push_str(&format!("- [{package}]({})\n", readme.display()));
        for example in workspace.examples.iter().filter(|e| e.package == package) {
            let page = recipe_page_path(example);
            let text = recipe_page(example, root, &docs)?;
            mirror.write_page(&page, &text)?;
            summary.push_str(&format!("  - [{}]({})\n", example.recipe.name, page.display()));
            recipe_pages.push((example.name.clone(), page));
        }
    }
    // Whatever else the pages link to, at its own path (README.md, the bench's reports, ...).
    mirror.drain()?;
    summary.push_str("\n# Reference\n\n");
    for page in &mirror.extra_pages {
        // Its own title, where it has one: a reader looks for "IPC benchmark", not a path.
        let text = fs::read_to_string(src.join(page)).unwrap_or_default();
        let title = text.lines().find_map(|l| l.strip_prefix("# ")).map(str::to_string);
        let title = title.unwrap_or_else(|| page.display().to_string());
        summary.push_str(&format!("- [{title} ({})]({})\n", page.display(), page.display()));
    }
    fs::write(src.join("SUMMARY.md"), summary).context("cannot write SUMMARY.md")?;
    fs::write(out.join("book.toml"), BOOK_TOML).context("cannot write book.toml")?;
    let mut chapters = vec![PathBuf::from("index.md")];
    chapters.extend(FRONT.iter().map(|(_, p)| PathBuf::from(p)));
    chapters.extend(recipe_pages.iter().map(|(_, p)| p.clone()));
    chapters.extend(mirror.extra_pages.iter().cloned());
    Ok(Sources { src, recipe_pages, chapters })
}

const BOOK_TOML: &str = r#"[book]
title = "Linux concurrency and IPC in Rust, proven"
language = "en"
src = "src"

[build]
build-dir = "../book"
create-missing = false
# Not the `index` preprocessor, which would turn every README.md into an index.html and break
# the links to it; only `links`, for `{{#include}}`.
use-default-preprocessors = false

[preprocessor.links]

[output.html]
# No playground: the recipes need crates (nix, memmap2) and Linux; verify and `cargo xtask
# copies` are their proof.
[output.html.playground]
runnable = false
copyable = true

[output.html.search]
enable = true
"#;

/// `PACKAGE/RECIPE.md`, beside the example's mirrored README.
fn recipe_page_path(example: &Example) -> PathBuf {
    Path::new(&example.package).join(format!("{}.md", example.recipe.name))
}

/// Copies markdown files into the book with their links rewritten, and the files they link to.
struct Mirror<'a> {
    root: &'a Path,
    src: &'a Path,
    /// Recipe files (relative to the root) and their pages.
    recipes: Vec<(PathBuf, PathBuf)>,
    done: BTreeSet<PathBuf>,
    queue: VecDeque<PathBuf>,
    /// Pages mirrored because something links to them.
    extra_pages: Vec<PathBuf>,
    /// Listing pages to write, and their text.
    generated: Vec<(PathBuf, String)>,
}

impl<'a> Mirror<'a> {
    fn new(root: &'a Path, src: &'a Path, examples: &[Example]) -> Mirror<'a> {
        let recipes = examples
            .iter()
            .map(|e| {
                let file = e.recipe.path.strip_prefix(root).unwrap_or(&e.recipe.path);
                (file.to_path_buf(), recipe_page_path(e))
            })
            .collect();
        Mirror {
            root,
            src,
            recipes,
            done: BTreeSet::new(),
            queue: VecDeque::new(),
            extra_pages: Vec::new(),
            generated: Vec::new(),
        }
    }

    /// Mirrors the markdown file `path` (relative to the root) as a page at the same path.
    fn page(&mut self, path: &Path) -> Result<()> {
        self.done.insert(path.to_path_buf());
        let text = fs::read_to_string(self.root.join(path))
            .with_context(|| format!("cannot read {}", path.display()))?;
        self.write_page(path, &text)
    }

    /// Writes `text` as the page `path`, its links rewritten for the book.
    fn write_page(&mut self, path: &Path, text: &str) -> Result<()> {
        let folder = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let text = rewrite(text, |target| self.link(&folder, target));
        let dest = self.src.join(path);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&dest, text).with_context(|| format!("cannot write {}", dest.display()))
    }

    /// What a link from a page in `folder` becomes; queues what it points to.
    fn link(&mut self, folder: &Path, target: &str) -> String {
        if is_external(target) || target.starts_with('#') {
            return target.to_string();
        }
        let (file, anchor) = match target.split_once('#') {
            Some((file, anchor)) => (file, format!("#{anchor}")),
            None => (target, String::new()),
        };
        let mut path = normalize(&folder.join(file));
        if let Some((_, page)) = self.recipes.iter().find(|(f, _)| *f == path) {
            return format!("{}{anchor}", relative(folder, page).display());
        }
        if self.root.join(&path).is_dir() {
            // A folder: its README, as a code host shows it, or a page that lists it.
            let readme = path.join("README.md");
            path = if self.root.join(&readme).is_file() { readme } else { self.listing(&path) };
        }
        if !self.done.contains(&path) && self.root.join(&path).is_file() {
            self.done.insert(path.clone());
            self.queue.push_back(path.clone());
        }
        format!("{}{anchor}", relative(folder, &path).display())
    }

    /// A generated page `FOLDER/index.md` that lists the folder's files, for a link to a folder
    /// without a README; returns its path.
    fn listing(&mut self, folder: &Path) -> PathBuf {
        let page = folder.join("index.md");
        if self.done.insert(page.clone()) {
            let mut names: Vec<String> = fs::read_dir(self.root.join(folder))
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            let mut text = format!(
                "# {}

",
                folder.display()
            );
            for name in names {
                text.push_str(&format!("- [{name}]({name})\n"));
            }
            self.generated.push((page.clone(), text));
        }
        page
    }

    /// Mirrors everything queued: markdown as pages, other files as they are.
    fn drain(&mut self) -> Result<()> {
        loop {
            if let Some((page, text)) = self.generated.pop() {
                self.write_page(&page, &text)?;
                self.extra_pages.push(page);
                continue;
            }
            let Some(path) = self.queue.pop_front() else {
                break;
            };
            if path.extension().is_some_and(|e| e == "md") {
                let text = fs::read_to_string(self.root.join(&path))
                    .with_context(|| format!("cannot read {}", path.display()))?;
                self.write_page(&path, &text)?;
                self.extra_pages.push(path);
            } else {
                let dest = self.src.join(&path);
                if let Some(parent) = dest.parent() {
                    fs::create_dir_all(parent)?;
                }
                fs::copy(self.root.join(&path), &dest)
                    .with_context(|| format!("cannot copy {}", path.display()))?;
            }
        }
        Ok(())
    }
}

/// The section of `text` that starts with the line `heading`, up to the next heading of its
/// level or above.
fn section<'t>(text: &'t str, heading: &str) -> Option<&'t str> {
    let start = text.find(&format!("\n{heading}\n"))? + 1;
    let level = heading.chars().take_while(|&c| c == '#').count();
    let rest = &text[start + heading.len()..];
    let end = rest
        .match_indices("\n#")
        .find(|(at, _)| {
            let hashes = rest[at + 1..].chars().take_while(|&c| c == '#').count();
            hashes <= level && rest[at + 1 + hashes..].starts_with(' ')
        })
        .map_or(rest.len(), |(at, _)| at + 1);
    Some(&text[start..start + heading.len() + end])
}

/// The first paragraph after the title.
fn first_paragraph(text: &str) -> &str {
    text.split("\n\n").nth(1).unwrap_or("").trim()
}

/// The page of one recipe.
fn recipe_page(example: &Example, root: &Path, docs: &ApiDocs) -> Result<String> {
    let recipe = &example.recipe;
    let source = fs::read_to_string(&recipe.path)
        .with_context(|| format!("cannot read {}", recipe.path.display()))?;
    let header = Header::read(&source);
    // From target/book-src/src/PACKAGE/ back to the repository.
    let up = "../../../../";
    let file = |name: &str| format!("{up}{}/src/{name}", example.package);
    let mut page = format!("# {}\n\n{}\n\n", example.name, header.what);
    page.push_str(&format!(
        "Run it: `cargo run -p {} -- {}`. Verify proves it: `cargo xtask verify {}`.\n\n",
        example.package, recipe.name, example.name
    ));

    let readme_path = root.join(&example.package).join("README.md");
    let rows = python_rows(&readme_path, recipe)?;
    page.push_str(&format!("{PYTHON_HEADING}\n\n{}\n\n", header.python));
    if !rows.is_empty() {
        page.push_str("Call by call:\n\n");
        page.push_str(&rows);
        page.push('\n');
    }
    // The seeds' errata are the example's: what their code does when it runs, checked.
    let readme = fs::read_to_string(&readme_path)
        .with_context(|| format!("cannot read {}", readme_path.display()))?;
    if let Some(errata) = section(&readme, ERRATA_HEADING) {
        page.push_str(&errata.replacen(
            ERRATA_HEADING,
            "## What the seed articles' Python does, run",
            1,
        ));
        page.push_str(&format!(
            "\n(For all of {}; [its page](README.md) has the rest.)\n\n",
            example.package
        ));
    }

    page.push_str(&format!("## The program\n\n`src/{}.rs`, whole:\n\n", recipe.name));
    page.push_str(&format!("```rust\n{{{{#include {}}}}}\n```\n\n", file(&recipe.copy[0])));
    let uses = what_it_uses::section(recipe, &source, docs)
        .with_context(|| format!("{}", recipe.path.display()))?;
    page.push_str(&uses);

    page.push_str("## What it prints\n\n");
    let golden = example.golden_stdout();
    let golden_text =
        fs::read_to_string(&golden).with_context(|| format!("cannot read {}", golden.display()))?;
    let golden_rel = golden.strip_prefix(root).unwrap_or(&golden);
    page.push_str(&format!(
        "What `cargo xtask verify` proves it prints, `{}`, run after run and under every \
         condition it tries:\n\n```text\n{{{{#include {up}{}}}}}\n```\n\n",
        golden_rel.display(),
        golden_rel.display()
    ));
    page.push_str(&explain_placeholders(&golden_text));

    page.push_str("## Copy it\n\n");
    page.push_str(&copy_steps(recipe));
    for helper in &recipe.copy[1..] {
        let language = if helper.ends_with(".py") { "python" } else { "rust" };
        page.push_str(&format!(
            "<details><summary><code>{helper}</code></summary>\n\n```{language}\n\
             {{{{#include {}}}}}\n```\n\n</details>\n\n",
            file(helper)
        ));
    }

    let figures = figures(root, example)?;
    if !figures.is_empty() {
        page.push_str("## Measured\n\n");
        page.push_str(&figures);
    }
    if !header.man.is_empty() {
        page.push_str(&format!("## Read more\n\nMan pages: {}.\n", header.man));
    }
    Ok(page)
}

/// What a recipe's `//!` header says, in parts.
struct Header {
    what: String,
    man: String,
    /// What follows `Python:` in the header, up to `Man pages:`, `Run:` or the end.
    python: String,
}

impl Header {
    fn read(source: &str) -> Header {
        let mut what = Vec::new();
        let mut man = String::new();
        let mut in_what = true;
        for line in source.lines() {
            let Some(text) = line.strip_prefix("//!") else {
                break;
            };
            let text = text.strip_prefix(' ').unwrap_or(text);
            if let Some(pages) = text.strip_prefix("Man pages:") {
                man = pages.trim().trim_end_matches('.').to_string();
            }
            if text.starts_with("Run:") || text.starts_with("Copy:") {
                in_what = false;
            }
            if in_what {
                what.push(text);
            }
        }
        let what = what.join("\n").trim().to_string();
        let after = what.split_once("Python:").map_or("", |(_, after)| after);
        let end = ["Man pages:", "Run:", "\n\n"].iter().filter_map(|stop| after.find(stop)).min();
        let python = after[..end.unwrap_or(after.len())].split_whitespace().collect::<Vec<_>>();
        let python = python.join(" ");
        Header { what, man, python }
    }
}

/// The rows of the example README's Python tables that name the recipe's file, with the
/// table's heading.
fn python_rows(readme: &Path, recipe: &Recipe) -> Result<String> {
    let text =
        fs::read_to_string(readme).with_context(|| format!("cannot read {}", readme.display()))?;
    let file = format!("{}.rs", recipe.name);
    let mut out = String::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].starts_with('|') {
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && lines[i].starts_with('|') {
            i += 1;
        }
        let table = &lines[start..i];
        if table.len() < 3 || !table[0].contains("Python") {
            continue;
        }
        let rows: Vec<&&str> = table[2..].iter().filter(|r| r.contains(&file)).collect();
        if !rows.is_empty() {
            out.push_str(&format!("{}\n{}\n", table[0], table[1]));
            for row in rows {
                out.push_str(&format!("{row}\n"));
            }
        }
    }
    Ok(out)
}

/// Every recipe page has this section, from the recipe header's `Python:` line.
pub const PYTHON_HEADING: &str = "## The Python it replaces";

/// What a golden file's placeholder stands for, by its name; `None` for a name nobody has
/// explained yet (the book check then fails, naming it).
pub fn placeholder_meaning(name: &str) -> Option<String> {
    let process = |who: &str| Some(format!("the process ID of {who}, different every run"));
    match name {
        "PID" => Some("a process ID, different every run".to_string()),
        "PARENT" => process("the parent"),
        "CHILD" | "CHILD2" => process("a child (two names: two children)"),
        "SPAWNED" | "WORKER" => process("the worker started with `Command`"),
        "PROCESS" => process("the instance that holds the lock"),
        "SLEEPER" | "QUITTER" => process(&format!("the {}", name.to_lowercase())),
        "NAME" => Some("the name Python's `SharedMemory` chose: `psm_` and 8 hex digits".into()),
        "BYTES" => Some("the size of the pickle, which depends on Python's version".into()),
        "PROTOCOL" => Some("the pickle protocol of the Python that ran (4 on 3.8 to 3.13)".into()),
        _ => name
            .strip_prefix('W')
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            .and_then(|n| process(&format!("worker {n}"))),
    }
}

/// What a reader would miss on the recipe pages: a recipe whose header has no `Python:`
/// line, or a placeholder in its golden files that [`placeholder_meaning`] cannot explain.
pub fn missing_explanations(workspace: &Workspace) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for example in &workspace.examples {
        let path = &example.recipe.path;
        let source =
            fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        if Header::read(&source).python.is_empty() {
            problems
                .push(format!("{}: the header has no `Python:` line for the book", example.name));
        }
        let unexplained = what_it_uses::unexplained(&example.recipe, &source)
            .with_context(|| format!("{}", path.display()))?;
        for path in unexplained {
            problems.push(format!(
                "{}: uses `{path}`, and nothing says what std lacks there (add its module to \
                 `GAPS` in xtask/src/book/what_it_uses.rs)",
                example.name
            ));
        }
        for golden in [example.golden_stdout(), example.golden_stderr()] {
            let Ok(text) = fs::read_to_string(&golden) else { continue };
            for name in placeholder_names(&text) {
                if placeholder_meaning(&name).is_none() {
                    problems.push(format!(
                        "{}: placeholder [{name}] has no explanation for the book (add it to \
                         `placeholder_meaning` in xtask/src/book/site.rs)",
                        golden.display()
                    ));
                }
            }
        }
    }
    Ok(problems)
}

/// The placeholder names in a golden file.
pub fn placeholder_names(golden: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in golden.lines() {
        let mut rest = line;
        while let Some(open) = rest.find('[') {
            let after = &rest[open + 1..];
            let Some(close) = after.find(']') else { break };
            let inner = &after[..close];
            if inner.starts_with(|c: char| c.is_ascii_uppercase())
                && inner.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                names.insert(inner.to_string());
            }
            rest = &after[close + 1..];
        }
    }
    names
}

/// The placeholders and blocks of a golden file, in words.
fn explain_placeholders(golden: &str) -> String {
    let names = placeholder_names(golden);
    let any = golden.contains("[..]");
    let mut notes = Vec::new();
    for name in &names {
        let meaning = placeholder_meaning(name).unwrap_or_else(|| "not explained".to_string());
        notes.push(format!(
            "`[{name}]` is {meaning}: one or more characters without a space, the same \
             everywhere `[{name}]` appears."
        ));
    }
    if any {
        notes.push("`[..]` is any text within its line.".to_string());
    }
    if golden.lines().any(|l| l.trim() == "[unordered]") {
        notes.push(
            "The lines between `[unordered]` and `[/unordered]` appear in any order: the \
             scheduler decides it."
                .to_string(),
        );
    }
    if golden.lines().any(|l| l.trim() == "[interleaved]") {
        notes.push(
            "Between `[interleaved]` and `[/interleaved]`, each `[stream]` is one thread's or \
             process's lines, in their own order; the streams interleave as the scheduler \
             runs them."
                .to_string(),
        );
    }
    if notes.is_empty() {
        return "Every line is literal: the output is the same in every run.\n\n".to_string();
    }
    let mut out = String::from("How to read it:\n\n");
    for note in notes {
        out.push_str(&format!("- {note}\n"));
    }
    out.push_str("\n[Golden files](../book/golden-files.md) describes the syntax.\n\n");
    out
}

/// The `Copy:` and `Needs:` lines as steps.
fn copy_steps(recipe: &Recipe) -> String {
    let mut steps =
        format!("1. `cargo new myprog`, then copy `{}` to `myprog/src/main.rs`", recipe.copy[0]);
    if recipe.copy.len() > 1 {
        let helpers: Vec<String> = recipe.copy[1..].iter().map(|h| format!("`{h}`")).collect();
        steps.push_str(&format!(" and {} beside it, unchanged", helpers.join(", ")));
    }
    steps.push_str(".\n");
    let plain: Vec<String> = recipe
        .needs
        .iter()
        .filter(|n| n.features.is_empty())
        .map(|n| format!("{}@{}", n.krate, n.version))
        .collect();
    let mut adds = Vec::new();
    if !plain.is_empty() {
        adds.push(format!("`cargo add {}`", plain.join(" ")));
    }
    for need in recipe.needs.iter().filter(|n| !n.features.is_empty()) {
        adds.push(format!(
            "`cargo add {}@{} --features {}`",
            need.krate,
            need.version,
            need.features.join(",")
        ));
    }
    steps.push_str(&format!("2. In `myprog`: {}.\n", adds.join(", then ")));
    steps.push_str(
        "3. `cargo run`: it prints what the golden file above says. `cargo xtask copies` does \
         exactly this for every recipe, and fails if a copy does not build or prints \
         otherwise.\n\n",
    );
    steps
}

/// Which rows of which results file concern a recipe: (file, the first cells that match).
fn figure_rows(example: &Example) -> Option<(&'static str, &'static [&'static str])> {
    Some(match (example.package.as_str(), example.recipe.name.as_str()) {
        ("ipc_pipe", "socketpair") => ("ipc-bench.md", &["socketpair"]),
        ("ipc_pipe", _) => ("ipc-bench.md", &["pipe"]),
        ("ipc_mqueue", _) => ("ipc-bench.md", &["POSIX mqueue"]),
        ("ipc_socket", "server_by_path") => ("ipc-bench.md", &["Unix socket by path"]),
        ("ipc_shm", "semaphore") => ("ipc-bench.md", &["shm + semaphore"]),
        ("thread_basic", "channel_queue") => ("threads-or-processes.md", &["threads: mpsc"]),
        ("thread_basic", "spawn_and_join") => ("threads-or-processes.md", &["thread ("]),
        ("process_basic", "spawn_worker") => ("threads-or-processes.md", &["spawned program"]),
        ("process_basic", "fork_and_wait" | "worker_processes") => {
            ("threads-or-processes.md", &["forked process"])
        }
        ("with_python", "framed_messages") => ("python-and-rust.md", &[""]),
        _ => return None,
    })
}

/// The bench's rows that concern the recipe, table by table, from the committed results file,
/// with the date it was committed and the machine it names.
fn figures(root: &Path, example: &Example) -> Result<String> {
    let Some((file, firsts)) = figure_rows(example) else {
        return Ok(String::new());
    };
    let path = Path::new("ipc_bench/results").join(file);
    let text = fs::read_to_string(root.join(&path))
        .with_context(|| format!("cannot read {}", path.display()))?;
    let machine = text
        .lines()
        .find_map(|l| l.strip_prefix("Machine: "))
        .and_then(|l| l.split(". ").next())
        .unwrap_or("not named");
    let date = Command::new("git")
        .args(["log", "-1", "--format=%cs", "--"])
        .arg(&path)
        .current_dir(root)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "not committed yet".to_string());
    let mut out = format!(
        "From [`{}`](../{}), committed {date}, measured on {machine}:\n\n",
        path.display(),
        path.display()
    );
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    let mut any = false;
    while i < lines.len() {
        if !lines[i].starts_with('|') {
            i += 1;
            continue;
        }
        let caption = lines[..i].iter().rev().find(|l| !l.trim().is_empty()).copied().unwrap_or("");
        let start = i;
        while i < lines.len() && lines[i].starts_with('|') {
            i += 1;
        }
        let table = &lines[start..i];
        let rows: Vec<&&str> = table
            .iter()
            .skip(2)
            .filter(|r| {
                let first = r.trim_start_matches('|').trim_start();
                firsts.iter().any(|f| first.starts_with(f))
            })
            .collect();
        if table.len() > 2 && !rows.is_empty() {
            any = true;
            if caption.starts_with("**") {
                out.push_str(&format!("{caption}\n\n"));
            }
            out.push_str(&format!("{}\n{}\n", table[0], table[1]));
            for row in rows {
                out.push_str(&format!("{row}\n"));
            }
            out.push('\n');
        }
    }
    Ok(if any { out } else { String::new() })
}

/// The `{{#include PATH}}` of the pages under `src` whose file does not exist.
pub fn unresolved_includes(src: &Path) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut folders = vec![src.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in
            fs::read_dir(&folder).with_context(|| format!("cannot list {}", folder.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "md") {
                continue;
            }
            let text = fs::read_to_string(&path)?;
            for (at, _) in text.match_indices("{{#include ") {
                let rest = &text[at + "{{#include ".len()..];
                let Some(end) = rest.find("}}") else { continue };
                let target = rest[..end].trim();
                let file = target.split(':').next().unwrap_or(target);
                if !folder.join(file).is_file() {
                    let page = path.strip_prefix(src).unwrap_or(&path);
                    problems.push(format!(
                        "{}: `{{{{#include {target}}}}}` does not resolve",
                        page.display()
                    ));
                }
            }
        }
    }
    problems.sort();
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_python_line_of_a_header_and_the_placeholders_are_explained() {
        let source = "//! What it does. Python: `os.fork()`, `os.waitpid`.\n//! Man pages: fork(2).\n\
                      //! Run: `cargo run`\n";
        assert_eq!(Header::read(source).python, "`os.fork()`, `os.waitpid`.");
        assert!(Header::read("//! No Python here.\n").python.is_empty());
        assert!(placeholder_meaning("W3").unwrap().contains("worker 3"));
        assert!(placeholder_meaning("PID").is_some());
        assert!(placeholder_meaning("WHATEVER").is_none());
        let names = placeholder_names("a [PID] b [..] [W0]\n[unordered]\n");
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["PID", "W0"]);
    }
}
