//! Stops the build with one clear message on systems other than Linux, before the compiler
//! reports every Linux-only call as an error of its own.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        println!(
            "cargo::error=with_python is Linux-only: it uses POSIX shared memory and message queues as Linux has them. The socketpair recipe works on macOS too."
        );
    }
}
