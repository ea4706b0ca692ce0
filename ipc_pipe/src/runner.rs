//! Lets `cargo run -p NAME` reach the recipes of this example. Not part of any recipe: each
//! recipe is a complete program in its own file; copy it as its `Copy:` line says.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

/// A recipe's name and its `main`.
pub type Recipe = (&'static str, fn() -> ExitCode);

/// `NAME` runs every recipe in order, each in a process of its own as if it had been copied
/// alone, and goes on past a recipe that fails; `NAME RECIPE` runs one; `NAME --list` prints
/// their names, one a line.
pub fn run(recipes: &[Recipe]) -> ExitCode {
    let program = env!("CARGO_PKG_NAME");
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--list") => {
            let names: String = recipes.iter().map(|(name, _)| format!("{name}\n")).collect();
            // A closed stdout ends the listing quietly, as it does every recipe.
            let _ = std::io::stdout().write_all(names.as_bytes());
            ExitCode::SUCCESS
        }
        Some("--help" | "-h") => {
            let usage = format!(
                "usage: cargo run -p {program} [-- RECIPE | -- --list]\n\
                 runs every recipe of {program} in order, or the one named; each recipe is one \
                 file of {program}/src\n"
            );
            let _ = std::io::stdout().write_all(usage.as_bytes());
            ExitCode::SUCCESS
        }
        Some(wanted) => match recipes.iter().find(|(name, _)| *name == wanted) {
            Some((_, main)) => main(),
            None => {
                eprintln!("{program}: no recipe `{wanted}` (`--list` lists them)");
                ExitCode::from(2)
            }
        },
        None => run_all(program, recipes),
    }
}

fn run_all(program: &str, recipes: &[Recipe]) -> ExitCode {
    let this = match std::env::current_exe() {
        Ok(path) => path,
        Err(e) => {
            eprintln!("{program}: cannot find this program: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut failed = Vec::new();
    for (name, _) in recipes {
        match writeln!(std::io::stdout(), "== {name} ==") {
            Ok(()) => {}
            // `| head`: the reader has all it wanted.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{program}: writing to stdout: {e}");
                return ExitCode::FAILURE;
            }
        }
        let mut command = Command::new(&this);
        if let Some(path) = path_with_project_python() {
            command.env("PATH", path);
        }
        match command.arg(name).status() {
            Ok(status) if status.success() => {}
            // A recipe that exits with 1 has said why on stderr.
            Ok(status) if status.code() == Some(1) => failed.push(*name),
            // A program that stops on SIGHUP, SIGINT or SIGTERM exits with 128 + its number,
            // as a shell reports a process the signal killed: for such a recipe, success.
            Ok(status) if status.code().is_some_and(|code| [129, 130, 143].contains(&code)) => {
                let _ = writeln!(std::io::stdout(), "({status}: 128 + the signal it stopped on)");
            }
            Ok(status) => {
                eprintln!("{program}: recipe {name} {status}");
                failed.push(*name);
            }
            Err(e) => {
                eprintln!("{program}: cannot run recipe {name}: {e}");
                failed.push(*name);
            }
        }
    }
    if failed.is_empty() {
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "{program}: {} of {} recipes failed: {}",
        failed.len(),
        recipes.len(),
        failed.join(", ")
    );
    ExitCode::FAILURE
}

/// `PATH` with the project's Python environment first, where `cargo xtask` has made it
/// (`target/python-venv`, with the packages the Python sides need), as verify runs recipes.
fn path_with_project_python() -> Option<OsString> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from);
    let target =
        target.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let bin = target.join("python-venv").join("bin");
    if !bin.join("python3").exists() {
        return None;
    }
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&rest))).ok()
}
