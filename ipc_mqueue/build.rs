//! Stops the build with one clear message on systems other than Linux, before the compiler
//! reports every Linux-only call in `src/main.rs` as an error of its own.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        println!(
            "cargo::error=ipc_mqueue is Linux-only: POSIX message queues as used here (mq_open with attributes, mq_timedreceive, /proc/sys/fs/mqueue limits) exist on Linux; macOS has none. Use a pipe or a Unix socket there (see ipc_pipe)."
        );
    }
}
