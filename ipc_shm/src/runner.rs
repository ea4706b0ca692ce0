//! Lets `cargo run -p NAME` reach the recipes of this example. Not part of any recipe: each
//! recipe is a complete program in its own file; copy it as its `Copy:` line says.

use std::io::Write as _;
use std::process::{Command, ExitCode};

/// A recipe's name and its `main`.
pub type Recipe = (&'static str, fn() -> ExitCode);

/// `NAME` runs every recipe in order, each in a process of its own as if it had been copied
/// alone; `NAME RECIPE` runs one; `NAME --list` prints their names, one a line.
pub fn run(recipes: &[Recipe]) -> ExitCode {
    let program = env!("CARGO_PKG_NAME");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let wanted = args.first().map(String::as_str);
    if wanted == Some("--list") {
        let names: String = recipes.iter().map(|(name, _)| format!("{name}\n")).collect();
        // A closed stdout ends the listing quietly, as it does every recipe.
        let _ = std::io::stdout().write_all(names.as_bytes());
        return ExitCode::SUCCESS;
    }
    if let Some(wanted) = wanted {
        return match recipes.iter().find(|(name, _)| *name == wanted) {
            Some((_, main)) => main(),
            None => {
                eprintln!("{program}: no recipe `{wanted}` (`--list` lists them)");
                ExitCode::from(2)
            }
        };
    }
    let this = match std::env::current_exe() {
        Ok(path) => path,
        Err(e) => {
            eprintln!("{program}: cannot find this program: {e}");
            return ExitCode::FAILURE;
        }
    };
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
        match Command::new(&this).arg(name).status() {
            Ok(status) if status.success() => {}
            // A recipe that exits with 1 has said why on stderr.
            Ok(status) if status.code() == Some(1) => return ExitCode::FAILURE,
            Ok(status) => {
                eprintln!("{program}: recipe {name} {status}");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("{program}: cannot run recipe {name}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
