//! Stops the build with one clear message on systems other than Linux, before the compiler
//! reports every Linux-only call in `src/main.rs` as an error of its own.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        println!(
            "cargo::error=ipc_shm is Linux-only: it relies on /dev/shm, posix_fallocate on shared memory, process-shared unnamed semaphores (macOS has none) and PR_SET_PDEATHSIG. memmap2 and the atomic_counter recipe carry over to other Unixes."
        );
    }
}
