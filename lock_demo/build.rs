//! Stops the build with one clear message on systems other than Linux, before the compiler
//! reports every Linux-only call in `src/main.rs` as an error of its own.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        println!(
            "cargo::error=lock_demo is Linux-only as written: it forks with nix and uses PR_SET_PDEATHSIG. The mutex and atomic recipes and std's File::lock work on macOS and the BSDs too; replace the forks with std::process::Command there."
        );
    }
}
