//! Stops the build with one clear message on systems other than Linux, before the compiler
//! reports every Linux-only call as an error of its own.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        println!(
            "cargo::error=signals is Linux-only: it waits on pidfds and uses PR_SET_PDEATHSIG. The sigwait pattern of graceful_shutdown.rs itself is POSIX."
        );
    }
}
