//! The obvious orders of feeding a child and reading its output deadlock, at the sizes
//! `child_process/README.md` names; `feed_and_capture.rs` does not, at over a hundred times
//! the larger one. The child is the recipe's own filter, which copies its stdin to both stdout
//! and stderr in chunks of up to 64 KiB. Each attempt runs in a thread and gets a bounded wait:
//! one that has not finished by then is stuck, and its child is killed, which unsticks it.

use std::io::{Read, Write};
use std::process::{ChildStderr, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

const KIB: usize = 1024;
/// Far longer than any of these attempts takes when it is not stuck (a few milliseconds).
const PATIENCE: Duration = Duration::from_secs(2);

#[derive(Clone, Copy)]
enum Order {
    /// Write all of stdin, close it, then read stdout and stderr (together).
    WriteThenRead,
    /// Write stdin from a thread; meanwhile read stdout to its end, then stderr.
    StdoutThenStderr,
}

fn read_all(mut stdout: ChildStdout) -> usize {
    let mut all = Vec::new();
    stdout.read_to_end(&mut all).map_or(0, |_| all.len())
}

fn read_err(mut stderr: ChildStderr) -> usize {
    let mut all = Vec::new();
    stderr.read_to_end(&mut all).map_or(0, |_| all.len())
}

/// Whether feeding `size` bytes in `order` finishes.
fn finishes(order: Order, size: usize) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_child_process"))
        .arg("feed_and_capture")
        .env("FEED_AND_CAPTURE_FILTER", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut stdin, stdout) = (child.stdin.take().unwrap(), child.stdout.take().unwrap());
    let stderr = child.stderr.take().unwrap();
    let (done, finished) = mpsc::channel();
    let attempt = thread::spawn(move || {
        let input = vec![b'x'; size];
        let (out, err) = match order {
            Order::WriteThenRead => {
                let _ = stdin.write_all(&input);
                drop(stdin);
                let err = thread::spawn(move || read_err(stderr));
                (read_all(stdout), err.join().unwrap())
            }
            Order::StdoutThenStderr => {
                let writer = thread::spawn(move || stdin.write_all(&input));
                let out = read_all(stdout);
                let err = read_err(stderr);
                let _ = writer.join();
                (out, err)
            }
        };
        let _ = done.send((out, err));
    });
    let result = finished.recv_timeout(PATIENCE);
    let _ = child.kill(); // a stuck attempt's pipes break, and its threads end
    let _ = child.wait();
    attempt.join().unwrap();
    match result {
        Ok((out, err)) => {
            assert_eq!((out, err), (size, size), "{size} bytes came back whole");
            true
        }
        Err(_) => false,
    }
}

#[test]
fn writing_everything_before_reading_deadlocks_above_192_kib() {
    assert!(finishes(Order::WriteThenRead, 128 * KIB), "two pipes' worth always fits");
    // The stdin pipe, the stdout pipe and the chunk the blocked child holds: 64 KiB each.
    assert!(!finishes(Order::WriteThenRead, 192 * KIB + 1), "more than they hold never fits");
}

#[test]
fn reading_stdout_before_stderr_deadlocks_above_128_kib() {
    assert!(finishes(Order::StdoutThenStderr, 64 * KIB), "one stderr pipe's worth fits");
    // The stderr pipe and the chunk the blocked child holds.
    assert!(!finishes(Order::StdoutThenStderr, 128 * KIB + 1), "more never does");
}

#[test]
fn the_recipe_moves_over_a_hundred_times_the_larger_size() {
    let recipe = include_str!("../src/feed_and_capture.rs");
    let size = recipe.lines().find_map(|l| l.strip_prefix("const SIZE: usize = ")).unwrap();
    let (value, shift) = size.trim_end_matches(';').split_once(" << ").unwrap();
    let size = value.parse::<usize>().unwrap() << shift.parse::<u32>().unwrap();
    assert!(size >= 100 * (192 * KIB + 1), "SIZE is {size} bytes");
}
