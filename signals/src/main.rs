//! `cargo run -p signals` runs every recipe below in order, `-- --list` lists them and
//! `-- NAME` runs one. Each recipe is a complete program in its own file: copy it as its
//! `Copy:` line says. This file and `runner.rs` only gather them; copy neither.

// Each recipe is a whole program with its own `mod errors;`, as it will be in the crate it is
// copied into; here that loads the same helper file once per recipe.
#![allow(clippy::duplicate_mod)]

mod runner;

#[path = "graceful_shutdown.rs"]
mod graceful_shutdown;
#[path = "group_supervisor.rs"]
mod group_supervisor;
#[path = "handler_flag.rs"]
mod handler_flag;

fn main() -> std::process::ExitCode {
    runner::run(&[
        ("graceful_shutdown", graceful_shutdown::main),
        ("handler_flag", handler_flag::main),
        ("group_supervisor", group_supervisor::main),
    ])
}
