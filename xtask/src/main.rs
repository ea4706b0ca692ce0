//! `cargo xtask`: the project's tooling. `verify` proves every example against its golden
//! files; `bless` writes them; `run` runs one program the way verify does; `bench` runs the IPC
//! benchmark. See README.md for the golden-file syntax.

mod book;
mod cli;
mod commands;
mod golden;
mod judge;
mod out;
mod project;
mod runs;
mod sandbox;

use std::process::ExitCode;

use cli::Command;
use commands::{bench, bless, copies, single, tidy, verify};
use sandbox::{interrupt, launcher, spin};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The sandbox launcher must enter its namespaces while it has one thread: first of all.
    match args.first().map(String::as_str) {
        Some(launcher::LAUNCHER_COMMAND) => launcher::launcher_main(&args[1..]),
        Some(spin::SPIN_COMMAND) => spin::spin_main(),
        _ => {}
    }
    if let Err(e) = interrupt::install() {
        eprintln!("error: cannot set up the handling of Ctrl-C: {e}");
        return ExitCode::from(2);
    }
    let command = match cli::parse(std::env::args_os().skip(1)) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("error: {message} (`cargo xtask --help` lists the commands and options)");
            return ExitCode::from(2);
        }
    };
    let result = match command {
        Command::Help => out::say!("{}", cli::USAGE).map(|()| true),
        Command::Verify(options, names) => verify::verify(&options, &names),
        Command::Bless(options, names) => bless::bless(&options, &names),
        Command::Run(options, program) => single::run_program(&options, &program),
        Command::Tidy => tidy::tidy(),
        Command::Copies(options, names) => copies::copies(&options, &names),
        Command::Bench(args) => bench::bench(&args),
        Command::Book { browser } => commands::book::book(browser),
    };
    // A Ctrl-C that stopped what `result` reports is being handled: its handler holds the
    // registry until it exits with the signal's status, so this waits for that.
    drop(interrupt::registry());
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        // `| head`: the reader has all it wanted.
        Err(error) if error.is::<out::StdoutClosed>() => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` puts the whole chain of causes on one line.
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
