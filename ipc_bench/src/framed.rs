//! The python part: messages in the framing of Python's `multiprocessing.connection`
//! (`send_bytes`: a 4-byte big-endian length, then the bytes) over a socketpair, between a
//! driver and a worker process, each written in Python or in Rust. It answers "which side should
//! I move to Rust first?" with the four pairs measured in one run, alternated.
//!
//! The driver starts the worker with one end of a socketpair as its stdin, times round trips
//! (the worker echoes each frame) and a stream (the worker sends COUNT frames of SIZE bytes,
//! each with its sequence number), and checks every reply. The Python side is `framed.py`; the
//! Rust worker is this program run as [`WORKER_ROLE`].

use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The argument that makes this program the Rust worker.
pub const WORKER_ROLE: &str = "__framed_worker";
const SCRIPT: &str = include_str!("framed.py");
pub const SIZES: [usize; 2] = [64, 4096];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Python,
    Rust,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Python => "Python",
            Side::Rust => "Rust",
        }
    }

    /// The command that runs this side as the worker.
    fn worker_argv(self) -> io::Result<Vec<String>> {
        Ok(match self {
            Side::Python => ["python3", "-c", SCRIPT, "worker"].map(String::from).to_vec(),
            Side::Rust => vec![
                std::env::current_exe()?.to_string_lossy().into_owned(),
                WORKER_ROLE.to_string(),
            ],
        })
    }
}

/// What one driver measured against one worker.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// Median and p99 round trip, per size of [`SIZES`].
    pub round_trip: [(Duration, Duration); 2],
    /// Messages per second, per size.
    pub stream: [f64; 2],
}

pub struct Counts {
    pub round_trips: usize,
    pub stream: [usize; 2],
}

/// One measurement: `driver` drives `worker`.
pub fn measure(driver: Side, worker: Side, counts: &Counts) -> crate::Result<Figures> {
    let argv = worker.worker_argv()?;
    match driver {
        Side::Rust => rust_driver(&argv, counts),
        Side::Python => python_driver(&argv, counts),
    }
}

fn python_driver(worker: &[String], counts: &Counts) -> crate::Result<Figures> {
    let output = crate::sys::dies_with_us(&mut Command::new("python3"))
        .args(["-c", SCRIPT, "driver"])
        .arg(counts.round_trips.to_string())
        .args(counts.stream.map(|n| n.to_string()))
        .args(worker)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stderr);
        return Err(format!("the Python driver failed ({}): {}", output.status, said.trim()).into());
    }
    let mut figures = Figures::default();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let index = |size: &str| SIZES.iter().position(|s| s.to_string() == size);
        let ns = |text: &str| text.parse().map(Duration::from_nanos);
        match fields[..] {
            ["rt", size, median, p99] => {
                let i = index(size).ok_or("the Python driver named an unknown size")?;
                figures.round_trip[i] = (ns(median)?, ns(p99)?);
            }
            ["stream", size, rate] => {
                let i = index(size).ok_or("the Python driver named an unknown size")?;
                figures.stream[i] = rate.parse()?;
            }
            _ => return Err(format!("the Python driver printed {line:?}").into()),
        }
    }
    Ok(figures)
}

fn rust_driver(worker: &[String], counts: &Counts) -> crate::Result<Figures> {
    let (ours, theirs) = UnixStream::pair()?;
    ours.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut child = crate::sys::dies_with_us(&mut Command::new(&worker[0]))
        .args(&worker[1..])
        .stdin(OwnedFd::from(theirs))
        .spawn()
        .map_err(|e| format!("cannot start the worker {}: {e}", worker[0]))?;
    let measured = drive(&ours, counts);
    drop(ours); // End of file: the worker ends.
    let status = crate::sys::wait_at_most(&mut child, Duration::from_secs(10))?;
    let figures = measured?;
    if !status.success() {
        return Err(format!("the worker {} ended: {status}", worker[0]).into());
    }
    Ok(figures)
}

fn drive(socket: &UnixStream, counts: &Counts) -> crate::Result<Figures> {
    let mut figures = Figures::default();
    let mut reply = Vec::new();
    for (i, size) in SIZES.into_iter().enumerate() {
        let mut message = vec![b'p'; size];
        let mut times = Vec::with_capacity(counts.round_trips);
        for sequence in 0..counts.round_trips + counts.round_trips / 10 {
            message[size - 8..].copy_from_slice(&(sequence as u64).to_be_bytes());
            let start = Instant::now();
            send(socket, &message)?;
            receive(socket, &mut reply)?;
            times.push(start.elapsed());
            if reply != message {
                return Err(format!("round trip {sequence}: the reply differs").into());
            }
        }
        let mut times = times.split_off(counts.round_trips / 10); // The warm-up is dropped.
        times.sort();
        figures.round_trip[i] = (times[times.len() / 2], times[times.len() * 99 / 100]);

        let count = counts.stream[i];
        let start = Instant::now();
        send(socket, format!("s {count} {size}").as_bytes())?;
        for sequence in 0..count as u64 {
            receive(socket, &mut reply)?;
            if reply.len() != size || reply[..8] != sequence.to_be_bytes() {
                return Err(format!("stream: message {sequence} is wrong").into());
            }
        }
        figures.stream[i] = count as f64 / start.elapsed().as_secs_f64();
    }
    Ok(figures)
}

/// One frame, as `Connection.send_bytes` writes it: in one write.
fn send(mut socket: &UnixStream, message: &[u8]) -> io::Result<()> {
    let length = i32::try_from(message.len()).map_err(io::Error::other)?;
    let frame = [&length.to_be_bytes()[..], message].concat();
    socket.write_all(&frame)
}

/// One frame into `into`; `UnexpectedEof` when the peer has gone.
fn receive(mut socket: &UnixStream, into: &mut Vec<u8>) -> io::Result<()> {
    let mut length = [0u8; 4];
    socket.read_exact(&mut length)?;
    let length = usize::try_from(i32::from_be_bytes(length))
        .ok()
        .filter(|&n| n <= 1 << 20)
        .ok_or_else(|| io::Error::other("a frame longer than 1 MiB"))?;
    into.resize(length, 0);
    socket.read_exact(into)
}

/// The Rust worker: answers on stdin (a socket) until end of file.
pub fn worker_main() -> ! {
    // Safety: fd 0 is the socket the driver passed as stdin, owned by nothing else here.
    let socket = UnixStream::from(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(0) });
    let code = match serve(&socket) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("ipc_bench worker: {e}");
            1
        }
    };
    std::process::exit(code)
}

fn serve(socket: &UnixStream) -> io::Result<()> {
    let mut message = Vec::new();
    loop {
        match receive(socket, &mut message) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            other => other?,
        }
        if message.first() == Some(&b's') {
            let text = String::from_utf8_lossy(&message[1..]).into_owned();
            let mut fields = text.split_whitespace().map(str::parse::<usize>);
            let (Some(Ok(count)), Some(Ok(size))) = (fields.next(), fields.next()) else {
                return Err(io::Error::other(format!("a bad stream request {text:?}")));
            };
            let mut frame = vec![b'x'; size];
            for sequence in 0..count as u64 {
                frame[..8].copy_from_slice(&sequence.to_be_bytes());
                send(socket, &frame)?;
            }
        } else {
            send(socket, &message)?;
        }
    }
}

/// The four pairs, in the order measured in each round.
pub const PAIRS: [(Side, Side); 4] = [
    (Side::Python, Side::Python),
    (Side::Python, Side::Rust),
    (Side::Rust, Side::Python),
    (Side::Rust, Side::Rust),
];

/// Every round's figures, per pair of [`PAIRS`].
pub struct Results {
    pub rounds: Vec<[Figures; 4]>,
}

impl Results {
    /// The table: per pair, the median of the rounds' figures and their range.
    pub fn rows(&self) -> Vec<[String; 5]> {
        PAIRS
            .iter()
            .enumerate()
            .map(|(p, (driver, worker))| {
                let all: Vec<&Figures> = self.rounds.iter().map(|round| &round[p]).collect();
                let spread = |values: Vec<f64>, show: fn(f64) -> String| {
                    let mut values = values;
                    values.sort_by(f64::total_cmp);
                    let median = show(values[values.len() / 2]);
                    match values.len() {
                        1 => median,
                        _ => format!(
                            "{median} ({}–{})",
                            show(values[0]),
                            show(values[values.len() - 1])
                        ),
                    }
                };
                let rt = |i: usize| {
                    spread(
                        all.iter().map(|f| f.round_trip[i].0.as_nanos() as f64).collect(),
                        crate::stats::time,
                    )
                };
                let st = |i: usize| {
                    spread(all.iter().map(|f| f.stream[i]).collect(), crate::stats::rate)
                };
                [
                    format!("{} driver, {} worker", driver.name(), worker.name()),
                    rt(0),
                    rt(1),
                    st(0),
                    st(1),
                ]
            })
            .collect()
    }

    pub const HEADINGS: [&'static str; 5] = [
        "pair (driver, worker)",
        "round trip 64 B",
        "round trip 4 KiB",
        "stream 64 B",
        "stream 4 KiB",
    ];

    pub fn markdown(&self, machine: &str, quick: bool) -> String {
        let mut md = format!(
            "# Python and Rust on the two ends of a socketpair\n\nMachine: {machine}. Mode: {}. \
             Produced by `cargo xtask bench --only python`. Messages in the framing of \
             `multiprocessing.connection.Connection.send_bytes`; the driver times round trips \
             (the worker echoes) and a stream (worker to driver), and checks every message. \
             Median of {} rounds, alternated, (lowest–highest); round trips are each round's \
             median.\n\n| {} |\n|---|---:|---:|---:|---:|\n",
            if quick { "quick (rough figures)" } else { "full" },
            self.rounds.len(),
            Self::HEADINGS.join(" | ")
        );
        for row in self.rows() {
            md.push_str(&format!("| {} |\n", row.join(" | ")));
        }
        md
    }

    pub fn text(&self) -> String {
        let rows = self.rows();
        let widths: Vec<usize> = (0..5)
            .map(|c| {
                rows.iter()
                    .map(|r| r[c].chars().count())
                    .chain([Self::HEADINGS[c].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<String>| {
            cells
                .iter()
                .enumerate()
                .map(|(c, cell)| match c {
                    0 => format!("{cell:<w$}", w = widths[c]),
                    _ => format!("{cell:>w$}", w = widths[c]),
                })
                .collect::<Vec<_>>()
                .join("  ")
        };
        let mut text = line(Self::HEADINGS.map(String::from).to_vec()) + "\n";
        text += &(line(widths.iter().map(|w| "-".repeat(*w)).collect()) + "\n");
        for row in rows {
            text += &line(row.to_vec());
            text.push('\n');
        }
        text
    }
}
