//! mdBook, pinned, installed by the project's own command into `target/tools` (never into the
//! user's `~/.cargo/bin`), with only the `search` feature: no server, no file watcher.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::out::say;
use crate::sandbox::interrupt;

pub const VERSION: &str = "0.5.4";

/// The path of the pinned mdBook, installed into `target/tools` first if it is missing or
/// another version.
pub fn ensure(target: &Path) -> Result<PathBuf> {
    let tools = target.join("tools");
    let mdbook = tools.join("bin").join("mdbook");
    let installed = Command::new(&mdbook)
        .arg("--version")
        .stderr(Stdio::null())
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if installed.as_deref() == Some(&format!("mdbook v{VERSION}")) {
        return Ok(mdbook);
    }
    say!("book: installing mdBook {VERSION} into target/tools (once; about 2 min cold)")?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["install", "--locked", "--no-default-features", "--features", "search"])
        .arg(format!("mdbook@{VERSION}"))
        .arg("--root")
        .arg(&tools);
    let status =
        interrupt::run_forwarded(&mut command, false).context("cannot run `cargo install`")?;
    if !status.success() {
        bail!("`cargo install mdbook@{VERSION}` failed ({status}); it needs to reach crates.io");
    }
    Ok(mdbook)
}

/// Builds the book whose `book.toml` is in `dir`.
pub fn build(mdbook: &Path, dir: &Path) -> Result<()> {
    let mut command = Command::new(mdbook);
    command.arg("build").arg(dir);
    let status = interrupt::run_forwarded(&mut command, false).context("cannot run mdbook")?;
    if !status.success() {
        bail!("`mdbook build` failed ({status})");
    }
    Ok(())
}
