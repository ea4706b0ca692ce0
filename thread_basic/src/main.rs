//! Threads in Rust, for a reader coming from Python's `threading`, `_thread` and `queue`.
//!
//! Run it: `cargo run -p thread_basic`
//!
//! What it shows, one section each:
//! 1. spawning named threads with arguments (`thread::Builder`) and joining them;
//! 2. getting results back through `JoinHandle::join`;
//! 3. scoped threads (`thread::scope`) that borrow local data without `Arc`;
//! 4. a bounded channel (`mpsc::sync_channel`) as the thread queue, with back-pressure;
//! 5. a detached thread, and why `main` must still wait for it.
//!
//! Python it replaces: `threading.Thread(target=f, args=(i,))`, `.start()`, `.join()`,
//! `_thread.start_new_thread(f, args)`, `queue.Queue` with `put`/`get`.
//!
//! The block at the end of the file (errors and output) is shared by every example and
//! explained there.
//!
//! Man pages worth reading: pthread_create(3), pthread_join(3), pthread_detach(3).

use std::sync::mpsc::{self, TrySendError};
use std::thread;

const WORKERS: usize = 5;
const STEPS: usize = 3;

fn main() -> std::process::ExitCode {
    exit_status(run())
}

fn run() -> Result<()> {
    spawn_and_join()?;
    results_back()?;
    scoped_borrows()?;
    channel_as_queue()?;
    detached_thread()?;
    Ok(())
}

/// Section 1: `threading.Thread(target=worker, args=(i,))`, `.start()`, `.join()`.
fn spawn_and_join() -> Result<()> {
    say!("== 1. spawn {WORKERS} named threads, then join them ==")?;
    let mut handles = Vec::with_capacity(WORKERS);
    for index in 0..WORKERS {
        // `Builder` instead of `thread::spawn` gives the thread a name (shown in panics and in
        // debuggers) and returns spawn failures as an error instead of panicking.
        let handle = thread::Builder::new()
            .name(format!("worker-{index}"))
            // `move` hands `index` to the thread: the closure is the `target`, its captures are
            // the `args`.
            .spawn(move || -> Result<()> {
                let name = thread::current().name().unwrap_or("unnamed").to_owned();
                for step in 1..=STEPS {
                    // Each `say!` (like `println!`) takes the stdout lock for the whole line, so
                    // lines from different threads never tear (Python's `print` can: "Worker:
                    // Worker: 4").
                    say!("{name}: step {step} of {STEPS} (my index is {index})")?;
                }
                Ok(())
            })
            .with_context(|| format!("spawning thread worker-{index}"))?;
        handles.push(handle);
    }
    for handle in handles {
        // `join` returns `Err` only if the thread panicked, which here would be a bug; `Ok`
        // holds what the thread returned: its own `Result`.
        handle.join().expect("a worker thread panicked")?;
    }
    say!("main: joined all {WORKERS} workers, every step above came before this line")?;
    Ok(())
}

/// Section 2: results travel back through `join`, no shared variable needed.
fn results_back() -> Result<()> {
    say!("== 2. results back through JoinHandle::join ==")?;
    let handles = (1..=WORKERS as u64)
        .map(|n| {
            thread::Builder::new()
                .name(format!("sum-{n}"))
                .spawn(move || (1..=n * 1000).sum::<u64>())
                .with_context(|| format!("spawning thread sum-{n}"))
        })
        .collect::<Result<Vec<_>>>()?;
    // Joining in spawn order gives the results in spawn order, whatever order the threads
    // finished in.
    for (n, handle) in (1..=WORKERS as u64).zip(handles) {
        let sum = handle.join().expect("a summing thread panicked");
        say!("main: sum of 1..={} is {sum}", n * 1000)?;
    }
    Ok(())
}

/// Section 3: scoped threads borrow local data; the scope joins them before it returns.
fn scoped_borrows() -> Result<()> {
    say!("== 3. scoped threads borrow local data ==")?;
    let readings: Vec<u32> = (1..=12).collect();
    let mut doubled = vec![0u32; readings.len()];

    // `thread::spawn` needs `'static` data (hence `Arc` in most tutorials). A scope promises to
    // join every thread it started before it ends, so its threads may borrow `readings`, and
    // each may hold a disjoint `&mut` chunk of `doubled`.
    let chunk_sums = thread::scope(|scope| -> std::io::Result<Vec<u32>> {
        let mut handles = Vec::new();
        for (input, output) in readings.chunks(4).zip(doubled.chunks_mut(4)) {
            let handle = thread::Builder::new().spawn_scoped(scope, move || {
                for (out, value) in output.iter_mut().zip(input) {
                    *out = value * 2;
                }
                input.iter().sum::<u32>()
            })?;
            handles.push(handle);
        }
        Ok(handles
            .into_iter()
            .map(|h| h.join().expect("a scoped thread panicked"))
            .collect())
    })?;
    say!("main: sums of each chunk of 4: {chunk_sums:?}")?;
    say!("main: doubled in place by 3 threads: {doubled:?}")?;
    Ok(())
}

/// Section 4: `queue.Queue(maxsize=2)` with producers and one consumer.
fn channel_as_queue() -> Result<()> {
    const CAPACITY: usize = 2;
    const PRODUCERS: usize = 3;
    const ITEMS: usize = 3;
    say!("== 4. a bounded channel as the thread queue ==")?;
    let (tx, rx) = mpsc::sync_channel::<String>(CAPACITY);

    // Back-pressure, shown deterministically before any consumer runs: once the channel holds
    // CAPACITY items, `try_send` is refused and `send` would block until a receive makes room.
    for n in 1..=CAPACITY {
        tx.send(format!("item {n} from main"))
            .expect("the receiver is alive");
    }
    match tx.try_send("one too many".to_string()) {
        Err(TrySendError::Full(_)) => {
            say!("main: queue full at {CAPACITY} items, try_send refused; send would block")?
        }
        other => return Err(format!("a full channel must refuse try_send, got {other:?}").into()),
    }

    let consumer = thread::Builder::new()
        .name("consumer".into())
        .spawn(move || -> Result<usize> {
            // The loop ends when every `SyncSender` is dropped: no sentinel value needed, unlike
            // a `queue.Queue` consumer that must be told to stop.
            let mut count = 0;
            for item in rx {
                say!("consumer: got {item}")?;
                count += 1;
            }
            Ok(count)
        })
        .with_context(|| "spawning the consumer thread".to_string())?;

    let mut producers = Vec::new();
    for p in 1..=PRODUCERS {
        let tx = tx.clone();
        producers.push(
            thread::Builder::new()
                .name(format!("producer-{p}"))
                .spawn(move || {
                    for n in 1..=ITEMS {
                        // `send` fails only once the receiver is gone: the consumer stopped
                        // early (its stdout closed), and its own result says why.
                        if tx.send(format!("item {n} from producer {p}")).is_err() {
                            return;
                        }
                    }
                })
                .with_context(|| format!("spawning thread producer-{p}"))?,
        );
    }
    // The gotcha: main still holds the original sender. Until it is dropped the channel never
    // closes and the consumer's loop never ends, so joining the consumer would hang.
    drop(tx);
    for producer in producers {
        producer.join().expect("a producer panicked");
    }
    let count = consumer.join().expect("the consumer panicked")?;
    say!("main: consumer received {count} items, then the channel closed")?;
    Ok(())
}

/// Section 5: `_thread.start_new_thread(f, args)`: a thread nobody joins.
fn detached_thread() -> Result<()> {
    say!("== 5. a detached thread ==")?;
    let (done_tx, done_rx) = mpsc::channel();
    // Dropping the `JoinHandle` detaches the thread. It keeps running, but the process ends when
    // `main` returns, killing it mid-work: so main still needs a signal that the work is done.
    drop(
        thread::Builder::new()
            .name("detached".into())
            .spawn(move || {
                let said = say!("detached: working on my own, nobody will join me");
                done_tx.send(said).expect("main waits for this message");
            })
            .with_context(|| "spawning the detached thread".to_string())?,
    );
    done_rx
        .recv()
        .expect("the detached thread sends before it ends")?;
    say!("main: the detached thread reported done; now main may return")?;
    Ok(())
}

// ==== copied block: errors and output ========================================================
// Identical in every example (`cargo xtask tidy` checks): copy it with any part of this file.

/// Every error in these programs: boxed, and `Send + Sync` so that a thread can return one.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// `println!` that returns an error instead of panicking when stdout is closed (`| head`) or
/// full (`> /dev/full`); use it as `say!(...)?`. Like `println!`, it holds the stdout lock for
/// the whole line, so lines from different threads or processes never tear.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*).map_err(StdoutError)
    }};
}
use say;

/// A failed write to stdout, kept apart from other errors: a closed stdout ends the program
/// quietly, as it does any Unix tool in a pipeline.
#[derive(Debug)]
struct StdoutError(std::io::Error);

impl std::fmt::Display for StdoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "writing to stdout: {}", self.0)
    }
}

impl std::error::Error for StdoutError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Says what was being done when an error happened: which call, on what, with which limits.
trait Context<T> {
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<Box<dyn std::error::Error + Send + Sync>>> Context<T>
    for std::result::Result<T, E>
{
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|cause| {
            let cause = cause.into();
            // A closed stdout stays recognisable, whatever was being done.
            if stdout_closed(&*cause) {
                return cause;
            }
            format!("{}: {cause}", what()).into()
        })
    }
}

/// Ends the program like a Unix tool: a closed stdout quietly (the reader has all it wanted),
/// any other error as one line on stderr and exit status 1.
fn exit_status(result: Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if stdout_closed(&*e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e}", env!("CARGO_PKG_NAME"));
            std::process::ExitCode::FAILURE
        }
    }
}

/// Whether `error` is a write to a stdout whose reader has gone away.
fn stdout_closed(error: &(dyn std::error::Error + 'static)) -> bool {
    error
        .downcast_ref::<StdoutError>()
        .is_some_and(|StdoutError(e)| e.kind() == std::io::ErrorKind::BrokenPipe)
}
// ==== end of copied block: errors and output =================================================
