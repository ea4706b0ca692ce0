//! `cargo run -p child_process` runs every recipe below in order, `-- --list` lists them and
//! `-- NAME` runs one. Each recipe is a complete program in its own file: copy it as its
//! `Copy:` line says. This file and `runner.rs` only gather them; copy neither.

// Each recipe is a whole program with its own `mod errors;`, as it will be in the crate it is
// copied into; here that loads the same helper file once per recipe.
#![allow(clippy::duplicate_mod)]

mod runner;

#[path = "feed_and_capture.rs"]
mod feed_and_capture;
#[path = "kill_tree.rs"]
mod kill_tree;
#[path = "timeout.rs"]
mod timeout;

fn main() -> std::process::ExitCode {
    runner::run(&[
        ("feed_and_capture", feed_and_capture::main),
        ("timeout", timeout::main),
        ("kill_tree", kill_tree::main),
    ])
}
