//! `cargo run -p thread_basic` runs every recipe below in order, `-- --list` lists them and
//! `-- NAME` runs one. Each recipe is a complete program in its own file: copy it as its
//! `Copy:` line says. This file and `runner.rs` only gather them; copy neither.

// Each recipe is a whole program with its own `mod errors;` (and `mod fork;`), as it will be in
// the crate it is copied into; here that loads the same helper file once per recipe.
#![allow(clippy::duplicate_mod)]

mod runner;

#[path = "bounded_pool.rs"]
mod bounded_pool;
#[path = "channel_queue.rs"]
mod channel_queue;
#[path = "detached_thread.rs"]
mod detached_thread;
#[path = "event_and_condition.rs"]
mod event_and_condition;
#[path = "join_results.rs"]
mod join_results;
#[path = "scoped_threads.rs"]
mod scoped_threads;
#[path = "semaphore_and_barrier.rs"]
mod semaphore_and_barrier;
#[path = "spawn_and_join.rs"]
mod spawn_and_join;

fn main() -> std::process::ExitCode {
    runner::run(&[
        ("spawn_and_join", spawn_and_join::main),
        ("join_results", join_results::main),
        ("scoped_threads", scoped_threads::main),
        ("channel_queue", channel_queue::main),
        ("detached_thread", detached_thread::main),
        ("event_and_condition", event_and_condition::main),
        ("semaphore_and_barrier", semaphore_and_barrier::main),
        ("bounded_pool", bounded_pool::main),
    ])
}
