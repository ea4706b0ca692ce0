//! A bounded channel as the queue between threads: three producers, one consumer, and
//! back-pressure when it is full. Python: `queue.Queue(maxsize=2)` with `put` and `get`.
//!
//! Run: `cargo run -p thread_basic -- channel_queue`
//! Copy: channel_queue.rs errors.rs
//! Needs: anyhow@1

use std::sync::mpsc::{self, TrySendError};
use std::thread;

use anyhow::{Context, Result, bail};

mod errors;
use errors::say;

const CAPACITY: usize = 2;
const PRODUCERS: usize = 3;
const ITEMS: usize = 3;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let (tx, rx) = mpsc::sync_channel::<String>(CAPACITY);
    // Back-pressure, shown before any consumer runs: once CAPACITY items wait, `try_send` is
    // refused, and `send` would block until a receive makes room.
    for n in 1..=CAPACITY {
        tx.send(format!("item {n} from main")).expect("the receiver is alive");
    }
    match tx.try_send("one too many".to_string()) {
        Err(TrySendError::Full(_)) => {
            say!("main: queue full at {CAPACITY} items, try_send refused; send would block")?
        }
        Ok(()) => bail!("a full channel took a message: try_send was due to refuse it"),
        Err(e) => bail!("try_send on a full channel: {e}"),
    }
    let consumer = thread::Builder::new()
        .name("consumer".into())
        .spawn(move || -> Result<usize> {
            // The loop ends when every sender is gone: no sentinel value, unlike a
            // `queue.Queue` consumer that must be told to stop.
            let mut count = 0;
            for item in rx {
                say!("consumer: got {item}")?;
                count += 1;
            }
            Ok(count)
        })
        .context("spawning the consumer thread")?;
    let mut producers = Vec::new();
    for p in 1..=PRODUCERS {
        let tx = tx.clone();
        let producer = thread::Builder::new().name(format!("producer-{p}")).spawn(move || {
            for n in 1..=ITEMS {
                // `send` fails only once the consumer is gone (its stdout was closed); the
                // consumer's own result says why.
                if tx.send(format!("item {n} from producer {p}")).is_err() {
                    return;
                }
            }
        });
        producers.push(producer.with_context(|| format!("spawning thread producer-{p}"))?);
    }
    // The gotcha: main still holds the first sender. Until it is dropped the channel never
    // closes, the consumer's loop never ends, and joining the consumer hangs.
    drop(tx);
    for producer in producers {
        producer.join().expect("a producer panicked");
    }
    let count = consumer.join().expect("the consumer panicked")?;
    say!("main: consumer received {count} items, then the channel closed")?;
    Ok(())
}
