//! `cargo xtask bench`: builds ipc_bench in release mode (a debug build would measure the
//! compiler's unoptimised loops, not IPC) and runs it. The report goes to the target directory
//! unless `--out` says otherwise.

use std::ffi::OsString;
use std::process::Command;

use anyhow::{Context, Result};

use crate::workspace::{Profile, Workspace, build_binaries};

const BENCH: &str = "ipc_bench";

/// Returns whether the bench succeeded; it prints its own report and errors.
pub fn bench(args: &[OsString]) -> Result<bool> {
    let workspace = Workspace::discover()?;
    let binaries = build_binaries(&workspace.root, &[BENCH], Profile::Release)?;
    let mut command = Command::new(&binaries[BENCH]);
    command.args(args);
    if !args
        .iter()
        .any(|a| a == "--out" || a == "-h" || a == "--help")
    {
        command
            .arg("--out")
            .arg(workspace.target_dir.join("ipc-bench"));
    }
    // The bench shares our terminal: its progress, tables and errors reach the user directly.
    // Ctrl-C reaches it too (same process group), and it cleans up on its own.
    let status = command
        .status()
        .with_context(|| format!("cannot run {}", binaries[BENCH].display()))?;
    Ok(status.success())
}
