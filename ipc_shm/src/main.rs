//! Placeholder: the ipc_shm example is not written yet.
fn main() {
    println!("ipc_shm: not written yet");
}
