//! `cargo run -p ipc_socket` runs every recipe below in order, `-- --list` lists them and
//! `-- NAME` runs one. Each recipe is a complete program in its own file: copy it as its
//! `Copy:` line says. This file and `runner.rs` only gather them; copy neither.

// Each recipe is a whole program with its own `mod errors;`, as it will be in the crate it is
// copied into; here that loads the same helper file once per recipe.
#![allow(clippy::duplicate_mod)]

mod runner;

#[path = "fifo.rs"]
mod fifo;
#[path = "pass_descriptors.rs"]
mod pass_descriptors;
#[path = "peer_credentials.rs"]
mod peer_credentials;
#[path = "server_by_path.rs"]
mod server_by_path;

fn main() -> std::process::ExitCode {
    runner::run(&[
        ("server_by_path", server_by_path::main),
        ("peer_credentials", peer_credentials::main),
        ("pass_descriptors", pass_descriptors::main),
        ("fifo", fifo::main),
    ])
}
