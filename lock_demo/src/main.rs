//! `cargo run -p lock_demo` runs every recipe below in order, `-- --list` lists them and
//! `-- NAME` runs one. Each recipe is a complete program in its own file: copy it as its
//! `Copy:` line says. This file and `runner.rs` only gather them; copy neither.

// Each recipe is a whole program with its own `mod errors;` (and `mod fork;`), as it will be in
// the crate it is copied into; here that loads the same helper file once per recipe.
#![allow(clippy::duplicate_mod)]

mod runner;

#[path = "atomic.rs"]
mod atomic;
#[path = "flock_processes.rs"]
mod flock_processes;
#[path = "inherited_lock.rs"]
mod inherited_lock;
#[path = "mutex.rs"]
mod mutex;
#[path = "record_locks.rs"]
mod record_locks;
#[path = "single_instance.rs"]
mod single_instance;
#[path = "try_lock.rs"]
mod try_lock;

fn main() -> std::process::ExitCode {
    runner::run(&[
        ("mutex", mutex::main),
        ("atomic", atomic::main),
        ("flock_processes", flock_processes::main),
        ("try_lock", try_lock::main),
        ("inherited_lock", inherited_lock::main),
        ("single_instance", single_instance::main),
        ("record_locks", record_locks::main),
    ])
}
