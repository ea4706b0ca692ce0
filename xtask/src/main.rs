//! `cargo xtask`: the project's tooling. `verify` proves every example against its golden
//! files; `bless` writes them; `bench` runs the IPC benchmark. See README.md for the
//! golden-file syntax.

mod bench;
mod bless;
mod check;
mod cli;
mod execute;
mod golden;
mod ipc_objects;
mod matcher;
mod runner;
mod verify;
mod view;
mod workspace;

use std::process::ExitCode;

use cli::Command;

fn main() -> ExitCode {
    let command = match cli::parse(std::env::args_os().skip(1)) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("error: {message}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let result = match command {
        Command::Help => {
            println!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Command::Verify(options, names) => verify::verify(&options, &names),
        Command::Bless(options, names) => bless::bless(&options, &names),
        Command::Bench(args) => bench::bench(&args),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            // `{:#}` puts the whole chain of causes on one line.
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
