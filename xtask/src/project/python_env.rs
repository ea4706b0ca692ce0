//! The project's own Python environment, for the recipes whose Python side needs a package the
//! standard library lacks (`posix_ipc`): a virtual environment under `target/python-venv`, with
//! `with_python/requirements.txt` installed, pinned. Never the user's system Python.
//!
//! It is made on first use and remade only when the requirements change (the environment keeps
//! a copy of the file it was made from). Its `bin` folder goes first on the `PATH` of the runs,
//! so the recipes' `python3` is the environment's, as after `source .../bin/activate`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::out::say;
use crate::sandbox::interrupt;

const REQUIREMENTS: &str = "with_python/requirements.txt";
/// The environment's folder in the target folder.
const VENV: &str = "python-venv";
/// The copy of the requirements the environment was made from.
const MADE_FROM: &str = "requirements.installed";

/// The environment's `bin` folder, made or brought up to date. `Ok(None)` when there is no
/// `python3` at all: the recipes that need one then fail, each with one line saying so.
pub fn ensure(root: &Path, target: &Path) -> Result<Option<PathBuf>> {
    let requirements = fs::read_to_string(root.join(REQUIREMENTS))
        .with_context(|| format!("cannot read {REQUIREMENTS}"))?;
    let venv = target.join(VENV);
    let bin = venv.join("bin");
    if fs::read_to_string(venv.join(MADE_FROM)).ok().as_deref() == Some(requirements.as_str()) {
        return Ok(Some(bin));
    }
    if Command::new("python3").arg("--version").stdout(Stdio::null()).status().is_err() {
        say!(
            "python: no python3 on PATH; the with_python recipes will fail until it is installed"
        )?;
        return Ok(None);
    }
    let shown = crate::project::workspace::shown(&venv);
    say!("python: making {shown} and installing {REQUIREMENTS} (once)")?;
    if venv.exists() {
        fs::remove_dir_all(&venv).with_context(|| format!("cannot remove the old {shown}"))?;
    }
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        "`python3 -m venv` failed (on Debian and Ubuntu: apt install python3-venv)",
    )?;
    run(
        Command::new(bin.join("python"))
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(root.join(REQUIREMENTS)),
        "pip could not install the requirements (it needs to reach PyPI once)",
    )?;
    fs::write(venv.join(MADE_FROM), requirements)
        .with_context(|| format!("cannot write {shown}/{MADE_FROM}"))?;
    Ok(Some(bin))
}

fn run(command: &mut Command, failed: &str) -> Result<()> {
    // Its output goes to our stderr, where the user sees what pip says.
    command.stdout(Stdio::null());
    let program = format!("{:?}", command.get_program());
    let status = interrupt::run_forwarded(command, false)
        .with_context(|| format!("cannot run {program}"))?;
    if !status.success() {
        bail!("{failed}: {status}");
    }
    Ok(())
}
