//! Placeholder: the ipc_pipe example is not written yet.
fn main() {
    println!("ipc_pipe: not written yet");
}
