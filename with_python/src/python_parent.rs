//! A Python parent with a Rust worker, where a migration starts: Python gives the worker one
//! end of `multiprocessing.Pipe()` as stdin and stdout, `Connection` frames in and out; this
//! program starts the parent too. Python: `subprocess.Popen(argv, stdin=end, stdout=end)`.
//! Run: `cargo run -p with_python -- python_parent`
//! Copy: python_parent.rs python.rs errors.rs python_parent.py
//! Needs: anyhow@1, nix@0.31 (features signal)

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use anyhow::{Context, Result};

mod errors;
mod python;
use errors::say;

const WORKER: &str = "WITH_PYTHON_WORKER"; // Set by the Python parent for the worker.

pub fn main() -> std::process::ExitCode {
    errors::exit(if std::env::var_os(WORKER).is_some() { worker() } else { run() })
}

/// The worker: each frame is numbers as text; the answer, their sum of squares.
fn worker() -> Result<()> {
    let (mut input, mut output) = (io::stdin().lock(), io::stdout().lock());
    loop {
        let mut length = [0u8; 4];
        match input.read_exact(&mut length) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()), // Parent done.
            other => other.context("reading a frame's length")?,
        }
        let length = usize::try_from(i32::from_be_bytes(length)).unwrap_or(usize::MAX);
        anyhow::ensure!(length < 1 << 20, "a frame longer than 1 MiB");
        let mut frame = vec![0u8; length];
        input.read_exact(&mut frame).context("reading a frame")?;
        let text = String::from_utf8_lossy(&frame);
        let numbers: Result<Vec<u64>, _> = text.split(' ').map(str::parse).collect();
        let numbers = numbers.with_context(|| format!("{text:?} is not numbers"))?;
        let answer = numbers.iter().map(|n| n * n).sum::<u64>().to_string(); // sum of squares
        let frame = [&(answer.len() as i32).to_be_bytes()[..], answer.as_bytes()].concat();
        output.write_all(&frame).and_then(|()| output.flush()).context("answering")?;
    }
}

/// Starts the Python parent and prints what it reports.
fn run() -> Result<()> {
    let (ours, theirs) = UnixStream::pair().context("socketpair")?;
    ours.set_read_timeout(Some(Duration::from_secs(5))).context("SO_RCVTIMEO")?;
    let exe = std::env::current_exe().context("finding this program")?.display().to_string();
    let argv: Vec<String> = std::iter::once(exe).chain(std::env::args().skip(1)).collect();
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let parent = python::start(include_str!("python_parent.py"), &argv, theirs)?;
    for line in BufReader::new(&ours).lines() {
        say!("{}", line.context("reading from python3")?)?;
    }
    parent.finish()?;
    Ok(say!("rust: the Python parent exited with 0")?)
}
