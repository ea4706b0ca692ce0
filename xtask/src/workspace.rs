//! Finding the examples in the workspace and building them.

use std::collections::HashMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use std::os::unix::process::CommandExt;

use anyhow::{Context, Result, bail};
use nix::unistd::Pid;

use crate::interrupt;
use cargo_metadata::{Message, MetadataCommand, TargetKind};

/// The workspace members that are tooling, not examples: they have no golden files.
const TOOLING: [&str; 2] = ["xtask", "ipc_bench"];

pub const GOLDEN_STDOUT: &str = "golden.stdout";
pub const GOLDEN_STDERR: &str = "golden.stderr";

#[derive(Debug, Clone)]
pub struct Example {
    pub name: String,
    pub dir: PathBuf,
}

impl Example {
    pub fn golden_stdout(&self) -> PathBuf {
        self.dir.join(GOLDEN_STDOUT)
    }

    pub fn golden_stderr(&self) -> PathBuf {
        self.dir.join(GOLDEN_STDERR)
    }
}

pub struct Workspace {
    pub root: PathBuf,
    /// Every member except the tooling, sorted by name.
    pub examples: Vec<Example>,
}

impl Workspace {
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
            examples.push(Example {
                name: package.name.to_string(),
                dir,
            });
        }
        examples.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Workspace { root, examples })
    }

    /// The examples named on the command line, or all of them when none is named.
    pub fn select(&self, names: &[String]) -> Result<Vec<Example>> {
        if names.is_empty() {
            return Ok(self.examples.clone());
        }
        let mut chosen = Vec::new();
        for name in names {
            let Some(example) = self.examples.iter().find(|e| &e.name == name) else {
                let known: Vec<&str> = self.examples.iter().map(|e| e.name.as_str()).collect();
                bail!(
                    "unknown example `{name}` (the examples are: {})",
                    known.join(", ")
                );
            };
            if !chosen.iter().any(|c: &Example| c.name == example.name) {
                chosen.push(example.clone());
            }
        }
        Ok(chosen)
    }

    /// Every example has a golden stdout file, and every golden file belongs to an example.
    pub fn check_golden_files(&self) -> Result<()> {
        for example in &self.examples {
            let path = example.golden_stdout();
            if !path.is_file() {
                bail!(
                    "{} is missing: every example needs one (create it with `cargo xtask bless {}`)",
                    shown(&path),
                    example.name
                );
            }
        }
        for entry in std::fs::read_dir(&self.root)
            .with_context(|| format!("cannot list {}", self.root.display()))?
        {
            let dir = entry?.path();
            if self.examples.iter().any(|e| e.dir == dir) {
                continue;
            }
            for name in [GOLDEN_STDOUT, GOLDEN_STDERR] {
                let orphan = dir.join(name);
                if orphan.is_file() {
                    bail!(
                        "{} belongs to no example: add its folder to the workspace members or remove it",
                        shown(&orphan)
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

/// Builds the examples' binaries once and returns the path of each, by example name.
pub fn build(root: &Path, examples: &[Example]) -> Result<HashMap<String, PathBuf>> {
    let packages: Vec<&str> = examples.iter().map(|e| e.name.as_str()).collect();
    build_binaries(root, &packages, Profile::Dev)
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
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .args([
            "build",
            "--bins",
            "--message-format=json-render-diagnostics",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if profile == Profile::Release {
        command.arg("--release");
    }
    for package in packages {
        command.args(["--package", package]);
    }
    // cargo and its compilers in a group of their own, so that Ctrl-C reaches them through
    // xtask (see `interrupt`), which can then stop them all and exit cleanly.
    command.process_group(0);
    interrupt::unblocked(&mut command);
    let mut child = {
        let mut registry = interrupt::registry();
        if let Some(signal) = registry.interrupted() {
            bail!("stopped by {}", signal.as_str());
        }
        let child = command.spawn().context("cannot run `cargo build`")?;
        registry.add_forwarded(Pid::from_raw(child.id() as i32), true);
        child
    };
    let stdout = child.stdout.take().expect("stdout was piped");
    let mut binaries = HashMap::new();
    for message in Message::parse_stream(BufReader::new(stdout)) {
        if let Message::CompilerArtifact(artifact) =
            message.context("cannot read cargo's build messages")?
            && artifact.target.kind.contains(&TargetKind::Bin)
            && let Some(executable) = artifact.executable
        {
            binaries.insert(artifact.target.name.clone(), executable.into_std_path_buf());
        }
    }
    let status = child.wait().context("cannot wait for `cargo build`");
    interrupt::registry().remove_forwarded(Pid::from_raw(child.id() as i32));
    let status = status?;
    if !status.success() {
        bail!("`cargo build` failed ({status}); fix the build errors above");
    }
    for package in packages {
        if !binaries.contains_key(*package) {
            bail!(
                "`cargo build` produced no binary named `{package}`: {package}/Cargo.toml must \
                 build a binary with the package's name"
            );
        }
    }
    Ok(binaries)
}
