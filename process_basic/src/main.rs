//! Placeholder: the process_basic example is not written yet.
fn main() {
    println!("process_basic: not written yet");
}
