//! `cargo run -p ipc_pipe` runs every recipe below in order, `-- --list` lists them and
//! `-- NAME` runs one. Each recipe is a complete program in its own file: copy it as its
//! `Copy:` line says. This file and `runner.rs` only gather them; copy neither.

// Each recipe is a whole program with its own `mod errors;` (and `mod fork;`), as it will be in
// the crate it is copied into; here that loads the same helper file once per recipe.
#![allow(clippy::duplicate_mod)]

mod runner;

#[path = "broken_pipe.rs"]
mod broken_pipe;
#[path = "byte_stream.rs"]
mod byte_stream;
#[path = "framed_messages.rs"]
mod framed_messages;
#[path = "many_writers.rs"]
mod many_writers;
#[path = "socketpair.rs"]
mod socketpair;

fn main() -> std::process::ExitCode {
    runner::run(&[
        ("byte_stream", byte_stream::main),
        ("framed_messages", framed_messages::main),
        ("socketpair", socketpair::main),
        ("many_writers", many_writers::main),
        ("broken_pipe", broken_pipe::main),
    ])
}
