//! Stops the build with one clear message on systems other than Linux, before the compiler
//! reports every Linux-only call as an error of its own.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        println!(
            "cargo::error=child_process is Linux-only: its timeout waits on a pidfd (Linux 5.3+). feed_and_capture.rs needs only std and builds anywhere."
        );
    }
}
