//! Stops the build with one clear message on systems other than Linux, before the compiler
//! reports every Linux-only call in `src/main.rs` as an error of its own.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        println!(
            "cargo::error=ipc_pipe is Linux-only: it forks with nix and uses PR_SET_PDEATHSIG. On macOS or the BSDs, std::io::pipe and UnixStream::pair work as shown here; replace the fork with std::process::Command."
        );
    }
}
