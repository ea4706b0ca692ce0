//! Stops the build with one clear message on systems other than Linux, before the compiler
//! reports every Linux-only call as an error of its own.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        println!(
            "cargo::error=ipc_socket is Linux-only: memfd seals and SO_PEERCRED are Linux's. The server by path and SCM_RIGHTS work on the BSDs with LOCAL_PEERCRED and shm_open instead."
        );
    }
}
