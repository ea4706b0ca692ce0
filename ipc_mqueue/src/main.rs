//! Placeholder: the ipc_mqueue example is not written yet.
fn main() {
    println!("ipc_mqueue: not written yet");
}
