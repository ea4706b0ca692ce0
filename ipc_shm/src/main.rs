//! `cargo run -p ipc_shm` runs every recipe below in order, `-- --list` lists them and
//! `-- NAME` runs one. Each recipe is a complete program in its own file: copy it as its
//! `Copy:` line says. This file and `runner.rs` only gather them; copy neither.

// Each recipe is a whole program with its own `mod errors;` (and `mod fork;`), as it will be in
// the crate it is copied into; here that loads the same helper file once per recipe.
#![allow(clippy::duplicate_mod)]

mod runner;

#[path = "atomic_counter.rs"]
mod atomic_counter;
#[path = "file_mapping.rs"]
mod file_mapping;
#[path = "read_after_exit.rs"]
mod read_after_exit;
#[path = "seen_from_outside.rs"]
mod seen_from_outside;
#[path = "semaphore.rs"]
mod semaphore;

fn main() -> std::process::ExitCode {
    runner::run(&[
        ("read_after_exit", read_after_exit::main),
        ("atomic_counter", atomic_counter::main),
        ("semaphore", semaphore::main),
        ("seen_from_outside", seen_from_outside::main),
        ("file_mapping", file_mapping::main),
    ])
}
