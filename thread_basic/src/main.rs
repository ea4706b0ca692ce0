//! Placeholder: the thread_basic example is not written yet.
fn main() {
    println!("thread_basic: not written yet");
}
