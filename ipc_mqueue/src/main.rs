//! `cargo run -p ipc_mqueue` runs every recipe below in order, `-- --list` lists them and
//! `-- NAME` runs one. Each recipe is a complete program in its own file: copy it as its
//! `Copy:` line says. This file and `runner.rs` only gather them; copy neither.

// Each recipe is a whole program with its own `mod errors;` (and `mod fork;`), as it will be in
// the crate it is copied into; here that loads the same helper file once per recipe.
#![allow(clippy::duplicate_mod)]

mod runner;

#[path = "limits_and_errors.rs"]
mod limits_and_errors;
#[path = "priorities.rs"]
mod priorities;
#[path = "queue_with_child.rs"]
mod queue_with_child;
#[path = "timed_receive.rs"]
mod timed_receive;

fn main() -> std::process::ExitCode {
    runner::run(&[
        ("queue_with_child", queue_with_child::main),
        ("priorities", priorities::main),
        ("limits_and_errors", limits_and_errors::main),
        ("timed_receive", timed_receive::main),
    ])
}
