//! Stops the build with one clear message on systems other than Linux, before the compiler
//! reports every Linux-only call in `src/main.rs` as an error of its own.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        println!(
            "cargo::error=process_basic is Linux-only: it uses PR_SET_PDEATHSIG through nix. On macOS or the BSDs, spawn_worker's std::process::Command works once its prctl call is removed; the fork recipes need another way to stop orphans (kqueue's NOTE_EXIT on the parent)."
        );
    }
}
