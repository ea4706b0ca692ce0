//! `cargo run -p with_python` runs every recipe below in order, `-- --list` lists them and
//! `-- NAME` runs one. Each recipe is a complete program in its own file: copy it as its
//! `Copy:` line says. This file and `runner.rs` only gather them; copy neither.

// Each recipe is a whole program with its own `mod errors;` (and `mod python;`), as it will be
// in the crate it is copied into; here that loads the same helper file once per recipe.
#![allow(clippy::duplicate_mod)]

mod runner;

#[path = "framed_messages.rs"]
mod framed_messages;
#[path = "lockf_and_ofd.rs"]
mod lockf_and_ofd;
#[path = "memfd_to_python.rs"]
mod memfd_to_python;
#[path = "posix_queue.rs"]
mod posix_queue;
#[path = "python_parent.rs"]
mod python_parent;
#[path = "shm_from_python.rs"]
mod shm_from_python;
#[path = "shm_from_rust.rs"]
mod shm_from_rust;

fn main() -> std::process::ExitCode {
    runner::run(&[
        ("framed_messages", framed_messages::main),
        ("shm_from_rust", shm_from_rust::main),
        ("shm_from_python", shm_from_python::main),
        ("posix_queue", posix_queue::main),
        ("python_parent", python_parent::main),
        ("lockf_and_ofd", lockf_and_ofd::main),
        ("memfd_to_python", memfd_to_python::main),
    ])
}
