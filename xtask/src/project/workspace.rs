//! Finding the examples in the workspace and building them.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use std::os::unix::process::CommandExt;

use anyhow::{Context, Result, bail};

use crate::project::recipe::{self, Recipe};
use crate::sandbox::interrupt;
use cargo_metadata::diagnostic::DiagnosticLevel;
use cargo_metadata::{Message, MetadataCommand, TargetKind};

/// The workspace members that are tooling, not examples: they have no golden files.
const TOOLING: [&str; 2] = ["xtask", "ipc_bench"];

/// Where an example keeps its recipes' golden files: `golden/RECIPE.stdout` and `.stderr`.
pub const GOLDEN_DIR: &str = "golden";

/// One recipe of an example crate: what verify runs and judges as one program.
#[derive(Debug, Clone)]
pub struct Example {
    /// `package/recipe`, as failures name it and the command line selects it.
    pub name: String,
    /// The example crate, whose binary runs the recipe as `BINARY RECIPE`.
    pub package: String,
    pub recipe: Recipe,
    /// The example crate's folder.
    pub dir: PathBuf,
}

impl Example {
    pub fn golden_stdout(&self) -> PathBuf {
        self.golden("stdout")
    }

    pub fn golden_stderr(&self) -> PathBuf {
        self.golden("stderr")
    }

    /// `golden/RECIPE.status`: the exit status the recipe must end with, where it is not 0
    /// (a program that stops on a signal exits with 128 + its number).
    pub fn golden_status(&self) -> PathBuf {
        self.golden("status")
    }

    /// The exit status a plain run must end with: the number in [`Example::golden_status`],
    /// or 0 without that file.
    pub fn expected_status(&self) -> Result<i32> {
        let path = self.golden_status();
        if !path.exists() {
            return Ok(0);
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", shown(&path)))?;
        text.trim().parse().with_context(|| {
            format!("{} must hold one exit status, a number, not {:?}", shown(&path), text.trim())
        })
    }

    fn golden(&self, stream: &str) -> PathBuf {
        let file = format!("{}.{stream}", self.recipe.name);
        self.dir.join(GOLDEN_DIR).join(file)
    }
}

pub struct Workspace {
    pub root: PathBuf,
    /// Where cargo builds (`CARGO_TARGET_DIR`, or `target/` below the root), and where every
    /// command writes what it makes: the book, the copies, tools, the Python environment.
    pub target: PathBuf,
    /// Every recipe of every member except the tooling, sorted by name.
    pub examples: Vec<Example>,
}

impl Workspace {
    /// The example crates that have recipes, each once, in the order of [`Workspace::examples`].
    pub fn packages(&self) -> Vec<&str> {
        let mut packages: Vec<&str> = self.examples.iter().map(|e| e.package.as_str()).collect();
        packages.dedup();
        packages
    }

    pub fn discover() -> Result<Workspace> {
        let metadata = MetadataCommand::new()
            .no_deps()
            .exec()
            .context("cannot read the workspace with `cargo metadata`")?;
        let root = metadata.workspace_root.clone().into_std_path_buf();
        let mut examples = Vec::new();
        for package in metadata.workspace_packages() {
            if TOOLING.contains(&package.name.as_str()) {
                continue;
            }
            let dir = package
                .manifest_path
                .parent()
                .context("a manifest path has a parent")?
                .to_path_buf()
                .into_std_path_buf();
            if dir.file_name().and_then(|n| n.to_str()) != Some(package.name.as_str()) {
                bail!(
                    "example `{}` lives in {}: each example's folder must have the package's name",
                    package.name,
                    dir.display()
                );
            }
            let recipes = recipe::discover(&dir.join("src"))?;
            if recipes.is_empty() {
                bail!(
                    "example `{}` has no recipe: no file of {}/src has a `//! Copy:` line",
                    package.name,
                    shown(&dir)
                );
            }
            for recipe in recipes {
                examples.push(Example {
                    name: format!("{}/{}", package.name, recipe.name),
                    package: package.name.to_string(),
                    recipe,
                    dir: dir.clone(),
                });
            }
        }
        examples.sort_by(|a, b| a.name.cmp(&b.name));
        let target = metadata.target_directory.clone().into_std_path_buf();
        Ok(Workspace { root, target, examples })
    }

    /// The recipes named on the command line (`package` for all of its recipes, or
    /// `package/recipe`), or all of them when none is named.
    pub fn select(&self, names: &[String]) -> Result<Vec<Example>> {
        if names.is_empty() {
            return Ok(self.examples.clone());
        }
        let mut chosen: Vec<Example> = Vec::new();
        for name in names {
            let name = name.trim_end_matches('/');
            let matching: Vec<&Example> =
                self.examples.iter().filter(|e| e.name == name || e.package == name).collect();
            if matching.is_empty() {
                let mut packages: Vec<&str> =
                    self.examples.iter().map(|e| e.package.as_str()).collect();
                packages.dedup();
                bail!(
                    "unknown example or recipe `{name}` (the examples are: {}; \
                     `cargo run -p EXAMPLE -- --list` lists an example's recipes)",
                    packages.join(", ")
                );
            }
            for example in matching {
                if !chosen.iter().any(|c| c.name == example.name) {
                    chosen.push(example.clone());
                }
            }
        }
        Ok(chosen)
    }

    /// The example crates' folders, each once.
    pub fn example_dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = self.examples.iter().map(|e| e.dir.clone()).collect();
        dirs.dedup(); // the recipes are sorted by name, so an example's recipes are together
        dirs
    }

    /// Every recipe has a golden stdout file, and every golden file belongs to a recipe.
    pub fn check_golden_files(&self) -> Result<()> {
        for example in &self.examples {
            let path = example.golden_stdout();
            if !path.is_file() {
                bail!(
                    "{} is missing: every recipe needs one (create it with `cargo xtask bless {}`)",
                    shown(&path),
                    example.name
                );
            }
        }
        for dir in self.example_dirs() {
            // The golden files of the layout before recipes, one per example.
            for old in ["golden.stdout", "golden.stderr"] {
                let orphan = dir.join(old);
                if orphan.is_file() {
                    bail!(
                        "{} belongs to no recipe: each recipe has its own, {}/RECIPE.stdout",
                        shown(&orphan),
                        GOLDEN_DIR
                    );
                }
            }
            let golden = dir.join(GOLDEN_DIR);
            let Ok(entries) = std::fs::read_dir(&golden) else {
                continue;
            };
            for entry in entries {
                let path = entry?.path();
                let known = self.examples.iter().any(|e| {
                    e.golden_stdout() == path
                        || e.golden_stderr() == path
                        || e.golden_status() == path
                });
                if !known {
                    bail!(
                        "{} belongs to no recipe: name it RECIPE.stdout, .stderr or .status after \
                         a file of src/ with a `//! Copy:` line, or remove it",
                        shown(&path)
                    );
                }
            }
        }
        Ok(())
    }
}

/// `path` relative to the current directory when it lies below it, for shorter messages.
pub fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// Builds the binaries of the examples the recipes belong to, once each, and returns the
/// path of each by package name.
pub fn build(root: &Path, examples: &[Example]) -> Result<HashMap<String, PathBuf>> {
    let mut packages: Vec<&str> = examples.iter().map(|e| e.package.as_str()).collect();
    packages.sort_unstable();
    packages.dedup();
    build_binaries(root, &packages, Profile::Dev)
}

/// Each example's `main.rs` runs exactly the recipes its crate's files declare: a recipe
/// missing from `main.rs` would go unrun by `cargo run -p NAME`, and one `main.rs` lists without
/// a file of its own could not be copied. `main.rs` is read, not run: a binary that ignores its
/// arguments must meet verify's sandbox and timeout, never an unguarded `--list`.
pub fn check_listed(workspace: &Workspace) -> Result<()> {
    for dir in workspace.example_dirs() {
        let main = dir.join("src").join("main.rs");
        let text = std::fs::read_to_string(&main)
            .with_context(|| format!("cannot read {}", shown(&main)))?;
        let listed = recipes_listed(&text);
        let mut sorted = listed.clone();
        sorted.sort();
        let files: Vec<&str> = workspace
            .examples
            .iter()
            .filter(|e| e.dir == dir)
            .map(|e| e.recipe.name.as_str())
            .collect();
        if sorted != files {
            bail!(
                "{} runs the recipes [{}], but the files of {} with a `//! Copy:` line are \
                 [{}]: list each recipe file in main.rs once, as `(\"NAME\", NAME::main)`",
                shown(&main),
                listed.join(", "),
                shown(&dir.join("src")),
                files.join(", ")
            );
        }
    }
    Ok(())
}

/// The recipes a `main.rs` hands to `runner::run`: each entry `("NAME", NAME::main)`, in order.
pub fn recipes_listed(main_rs: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in main_rs.lines() {
        let line = line.trim();
        let Some(entry) = line.strip_prefix("(\"") else {
            continue;
        };
        let Some((name, rest)) = entry.split_once("\",") else {
            continue;
        };
        let module = rest.trim().trim_end_matches(',').trim_end_matches(')');
        if module == format!("{name}::main") {
            names.push(name.to_string());
        }
    }
    names
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Dev,
    Release,
}

/// Builds the binary of each package (named like the package) and returns its path, by name.
///
/// Cargo's progress and warnings go to our stderr; its JSON messages on stdout are only read for
/// the artifact paths, so nothing cargo prints can enter a comparison.
pub fn build_binaries(
    root: &Path,
    packages: &[&str],
    profile: Profile,
) -> Result<HashMap<String, PathBuf>> {
    let mut args = vec!["--bins"];
    if profile == Profile::Release {
        args.push("--release");
    }
    for package in packages {
        args.extend(["--package", package]);
    }
    let built = cargo_build(root, &args, &[], Diagnostics::Show)?;
    if !built.status.success() {
        bail!("`cargo build` failed ({}); fix the build errors above", built.status);
    }
    for package in packages {
        if !built.binaries.contains_key(*package) {
            bail!(
                "`cargo build` produced no binary named `{package}`: {package}/Cargo.toml must \
                 build a binary with the package's name"
            );
        }
    }
    Ok(built.binaries)
}

/// What the compiler's diagnostics do during [`cargo_build`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Diagnostics {
    /// Rendered on our stderr, as `cargo build` shows them.
    Show,
    /// Kept, rendered, in [`Built::errors`]: the errors only, in the compiler's order.
    Collect,
}

/// What one `cargo build` made and said.
pub struct Built {
    /// The path of each binary built, by target name.
    pub binaries: HashMap<String, PathBuf>,
    /// With [`Diagnostics::Collect`]: each error the compiler gave, as it renders it.
    pub errors: Vec<String>,
    pub status: ExitStatus,
}

/// Runs `cargo build ARGS` in `dir` with `env` added, stoppable by Ctrl-C through xtask.
/// Cargo's own progress goes to our stderr.
pub fn cargo_build(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &OsStr)],
    diagnostics: Diagnostics,
) -> Result<Built> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let format = match diagnostics {
        Diagnostics::Show => "--message-format=json-render-diagnostics",
        Diagnostics::Collect => "--message-format=json",
    };
    let mut command = Command::new(cargo);
    command
        .current_dir(dir)
        .arg("build")
        .arg(format)
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // cargo and its compilers in a group of their own, so that Ctrl-C reaches them through
    // xtask (see `interrupt`), which can then stop them all and exit cleanly.
    command.process_group(0);
    let mut child =
        interrupt::spawn_forwarded(&mut command, true).context("cannot run `cargo build`")?;
    let stdout = child.take_stdout().expect("stdout was piped");
    let mut binaries = HashMap::new();
    let mut errors = Vec::new();
    for message in Message::parse_stream(BufReader::new(stdout)) {
        match message.context("cannot read cargo's build messages")? {
            Message::CompilerArtifact(artifact) => {
                if artifact.target.kind.contains(&TargetKind::Bin)
                    && let Some(executable) = artifact.executable
                {
                    binaries.insert(artifact.target.name.clone(), executable.into_std_path_buf());
                }
            }
            Message::CompilerMessage(message)
                if message.message.level == DiagnosticLevel::Error
                    || message.message.level == DiagnosticLevel::Ice =>
            {
                errors.extend(message.message.rendered);
            }
            _ => {}
        }
    }
    let status = child.wait().context("cannot wait for `cargo build`")?;
    Ok(Built { binaries, errors, status })
}
