//! `cargo run -p process_basic` runs every recipe below in order, `-- --list` lists them and
//! `-- NAME` runs one. Each recipe is a complete program in its own file: copy it as its
//! `Copy:` line says. This file and `runner.rs` only gather them; copy neither.

// Each recipe is a whole program with its own `mod errors;` (and `mod fork;`), as it will be in
// the crate it is copied into; here that loads the same helper file once per recipe.
#![allow(clippy::duplicate_mod)]

mod runner;

#[path = "exit_statuses.rs"]
mod exit_statuses;
#[path = "fork_and_wait.rs"]
mod fork_and_wait;
#[path = "spawn_worker.rs"]
mod spawn_worker;
#[path = "worker_processes.rs"]
mod worker_processes;

fn main() -> std::process::ExitCode {
    runner::run(&[
        ("fork_and_wait", fork_and_wait::main),
        ("worker_processes", worker_processes::main),
        ("exit_statuses", exit_statuses::main),
        ("spawn_worker", spawn_worker::main),
    ])
}
