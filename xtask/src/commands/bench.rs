//! `cargo xtask bench`: builds ipc_bench in release mode (a debug build would measure the
//! compiler's unoptimised loops, not IPC) and runs it with the arguments given, unchanged.

use std::ffi::OsString;
use std::process::Command;

use anyhow::{Context, Result};

use crate::project::workspace::{Profile, Workspace, build_binaries};
use crate::sandbox::interrupt;

const BENCH: &str = "ipc_bench";

/// Returns whether the bench succeeded; it prints its own report and errors.
pub fn bench(args: &[OsString]) -> Result<bool> {
    let workspace = Workspace::discover()?;
    let binaries = build_binaries(&workspace.root, &[BENCH], Profile::Release)?;
    let mut command = Command::new(&binaries[BENCH]);
    // Its defaults are its own, the report's folder included (`target/ipc-bench`).
    command.args(args);
    // The bench shares our terminal: its progress, tables and errors reach the user directly.
    // Ctrl-C reaches it too (same process group), and it cleans up on its own; a SIGTERM sent
    // to xtask alone is passed on to it (see `interrupt`).
    let child = interrupt::spawn_forwarded(&mut command, false)
        .with_context(|| format!("cannot run {}", binaries[BENCH].display()))?;
    Ok(child
        .wait()
        .with_context(|| format!("cannot wait for {}", binaries[BENCH].display()))?
        .success())
}
