//! Placeholder: the lock_demo example is not written yet.
fn main() {
    println!("lock_demo: not written yet");
}
