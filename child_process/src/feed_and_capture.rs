//! Feeding a child and capturing its output without a deadlock. The parent starts a child (this
//! program again, as a filter that copies its stdin to both stdout and stderr), writes 20 MiB to
//! the child's stdin from a thread of its own, and meanwhile reads the child's stdout and stderr
//! together, each to its end. Dropping stdin when the writing is done closes it, which is the
//! child's end of file. The parent checks the exit status only after both outputs have ended,
//! and then compares what came back with what it sent.
//!
//! The obvious orders deadlock. Write everything, then read: the child blocks writing stdout
//! once that pipe holds 64 KiB, so it stops reading, and the parent blocks once the stdin pipe
//! is full too; here that happened from 192 KiB on (`tests/obvious_order.rs` measures it). Read
//! stdout to its end, then stderr: the child blocks once stderr holds 64 KiB, and never ends
//! stdout. `Command::output` reads both at once, but sends no input; `wait_with_output` does the
//! reading here, beside the writer thread. To bound the wait as well, see `timeout.rs`.
//!
//! Python: `subprocess.run(cmd, input=data, capture_output=True)`, `Popen.communicate(data)`.
//! Man pages: pipe(7) for a pipe's capacity.
//! Run: `cargo run -p child_process -- feed_and_capture`
//! Copy: feed_and_capture.rs errors.rs
//! Needs: anyhow@1

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};

mod errors;
use errors::say;

/// Set in the child's environment: it is the filter.
const ROLE: &str = "FEED_AND_CAPTURE_FILTER";
/// Over a hundred times the size at which the obvious order deadlocks here.
const SIZE: usize = 20 << 20;

pub fn main() -> std::process::ExitCode {
    errors::exit(if std::env::var_os(ROLE).is_some() { filter() } else { run() })
}

fn run() -> Result<()> {
    let input: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect(); // a pattern to check
    let exe = std::env::current_exe().context("finding this program")?;
    let mut child = Command::new(&exe)
        .args(std::env::args_os().skip(1)) // started as this program was
        .env(ROLE, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    let (mut stdin, data) = (child.stdin.take().expect("stdin is piped"), &input);
    let (output, written) = std::thread::scope(|scope| {
        // `move` gives stdin to the writer thread, which drops it, and so closes it, at the end.
        let writer = scope.spawn(move || stdin.write_all(data));
        // Reads stdout and stderr at once (with poll), each to its end, then reaps the child.
        let output = child.wait_with_output();
        (output, writer.join().expect("the writer thread does not panic"))
    });
    let output = output.context("reading the child's stdout and stderr")?;
    // The status first: a child that failed explains a write that broke off (EPIPE).
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!("the child ended: {}: {}", output.status, stderr.lines().last().unwrap_or(""));
    }
    written.context("writing the child's stdin")?;
    say!("parent: wrote {SIZE} bytes into the child's stdin from a thread, then closed it")?;
    say!("parent: meanwhile read the child's stdout and stderr together, to their ends")?;
    say!("parent: the child exited with 0")?;
    for (name, got) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        ensure!(*got == input, "the child's {name} differs from what was sent");
        say!("parent: {name}: {} bytes, the same bytes as sent", got.len())?;
    }
    Ok(())
}

/// The child: copies its stdin to stdout and to stderr, a chunk at a time, until end of file.
fn filter() -> Result<()> {
    let (mut stdin, mut stdout) = (std::io::stdin().lock(), std::io::stdout().lock());
    let mut stderr = std::io::stderr().lock();
    let mut chunk = vec![0; 64 << 10];
    loop {
        let n = stdin.read(&mut chunk).context("reading stdin")?;
        if n == 0 {
            return Ok(());
        }
        stdout.write_all(&chunk[..n]).map_err(errors::StdoutError)?;
        stderr.write_all(&chunk[..n]).context("writing stderr")?;
    }
}
