//! Child processes, as `child_process`'s recipes run them: what starting and reaping a program
//! costs with `Command` (posix_spawn) against `fork` + `exec`, and how fast a child can be fed
//! and drained at once, with a writer thread (the recipe's way) against one thread that polls
//! both pipes. Each pair is alternated sample by sample, so that both see the same machine.

use std::ffi::CString;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::report::ipc::Table;
use crate::report::workers::latency_row;
use crate::stats::{self, Latency};
use crate::sys::{self, Forked};
use crate::workers::{EXIT_ROLE, Effort};

/// What one run of `cat` is fed, and must give back.
pub const FEED_BYTES: usize = 1 << 20;

pub struct ChildCosts {
    /// Start this program (which exits at once) and reap it: `Command::status`.
    pub spawn: Latency,
    /// The same with `fork` and `execv`, then `waitpid`.
    pub fork_exec: Latency,
    /// 1 MiB through `cat`: a writer thread, and `wait_with_output` reading both outputs.
    pub feed_threads: Latency,
    /// The same from one thread polling stdin and stdout, both non-blocking.
    pub feed_poll: Latency,
    /// 1 MiB through one pipe and no child, a thread writing: the pipe's own limit.
    pub pipe_alone: Latency,
}

pub fn measure(effort: &Effort) -> crate::Result<ChildCosts> {
    let exe = std::env::current_exe()?;
    let path = CString::new(exe.as_os_str().as_bytes())?;
    let argv = [path.clone(), CString::new(EXIT_ROLE)?];
    let spawn = || -> crate::Result<()> {
        let status = sys::dies_with_us(&mut Command::new(&exe)).arg(EXIT_ROLE).status()?;
        if !status.success() {
            return Err(format!("the spawned program ended with {status}").into());
        }
        Ok(())
    };
    let fork_exec = || -> crate::Result<()> {
        match sys::fork()? {
            Forked::Parent(child) => child.wait(),
            Forked::Child => {
                let failed = nix::unistd::execv(&path, &argv).unwrap_err();
                sys::exit_child(Err(format!("execv: {failed}").into()))
            }
        }
    };
    sys::settle_single_threaded()?;
    let [spawn, fork_exec] = alternated(effort, [&mut { spawn }, &mut { fork_exec }])?;
    let input: Vec<u8> = (0..FEED_BYTES).map(|i| (i % 251) as u8).collect();
    // Feeding moves every byte through two pipes and a child: it cannot beat one pipe. A run
    // where it seems to measured something else; it is measured once more, then refused.
    for attempt in 1..=2 {
        let [feed_threads, feed_poll, pipe_alone] = alternated(
            effort,
            [&mut || feed_with_threads(&input), &mut || feed_with_poll(&input), &mut || {
                through_a_pipe(&input)
            }],
        )?;
        let limit = pipe_alone.median_ns;
        if feed_threads.median_ns >= limit && feed_poll.median_ns >= limit {
            return Ok(ChildCosts { spawn, fork_exec, feed_threads, feed_poll, pipe_alone });
        }
        if attempt == 2 {
            return Err(format!(
                "feeding cat took a median {} or {}, less than one pipe alone ({}), twice",
                stats::time(feed_threads.median_ns),
                stats::time(feed_poll.median_ns),
                stats::time(limit)
            )
            .into());
        }
    }
    unreachable!("the second attempt returns")
}

/// Times each of `ops` in turn, one sample of each per round, for the effort's budget.
fn alternated<const N: usize>(
    effort: &Effort,
    mut ops: [&mut dyn FnMut() -> crate::Result<()>; N],
) -> crate::Result<[Latency; N]> {
    let mut samples: [Vec<u64>; N] = std::array::from_fn(|_| Vec::new());
    let started = Instant::now();
    for round in 0.. {
        let warm = round >= 3; // the first rounds warm the page cache and the loader's caches
        if warm
            && samples[0].len() >= effort.timing.min_samples
            && started.elapsed() >= 2 * effort.timing.target
        {
            break;
        }
        for (op, taken) in ops.iter_mut().zip(&mut samples) {
            let start = Instant::now();
            op()?;
            if warm {
                taken.push(start.elapsed().as_nanos() as u64);
            }
        }
    }
    Ok(samples.map(|mut taken| Latency::from_samples(&mut taken)))
}

/// The limit the feeding cannot pass: the same bytes through one pipe, no child, no copy back.
fn through_a_pipe(input: &[u8]) -> crate::Result<()> {
    let (mut reader, mut writer) = io::pipe()?;
    let got = std::thread::scope(|scope| {
        scope.spawn(move || writer.write_all(input));
        let mut got = Vec::with_capacity(input.len());
        reader.read_to_end(&mut got).map(|_| got)
    })?;
    if got.len() != input.len() {
        return Err(format!("a pipe gave back {} bytes, not {}", got.len(), input.len()).into());
    }
    Ok(())
}

fn cat() -> io::Result<std::process::Child> {
    sys::dies_with_us(&mut Command::new("cat"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
}

fn check(output: &[u8], input: &[u8], status: std::process::ExitStatus) -> crate::Result<()> {
    if !status.success() {
        return Err(format!("cat ended with {status}").into());
    }
    if output != input {
        return Err(
            format!("cat gave back {} bytes, not the {} fed", output.len(), input.len()).into()
        );
    }
    Ok(())
}

/// The recipe's way: a scoped writer thread owns stdin; `wait_with_output` drains stdout.
fn feed_with_threads(input: &[u8]) -> crate::Result<()> {
    let mut child = cat()?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let (output, written) = std::thread::scope(|scope| {
        let writer = scope.spawn(move || stdin.write_all(input));
        (child.wait_with_output(), writer.join().expect("the writer does not panic"))
    });
    let output = output?;
    written?;
    check(&output.stdout, input, output.status)
}

/// One thread: both pipes non-blocking, `poll` says which one can move.
fn feed_with_poll(input: &[u8]) -> crate::Result<()> {
    let mut child = cat()?;
    let mut stdin = Some(child.stdin.take().expect("stdin is piped"));
    let mut stdout = child.stdout.take().expect("stdout is piped");
    fcntl(stdin.as_ref().expect("just taken"), FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
    fcntl(&stdout, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
    let (mut sent, mut output, mut chunk) = (0, Vec::with_capacity(input.len()), vec![0; 65536]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut fds = vec![PollFd::new(stdout.as_fd(), PollFlags::POLLIN)];
        if let Some(stdin) = &stdin {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLOUT));
        }
        if poll(&mut fds, PollTimeout::from(1000u16))? == 0 && Instant::now() > deadline {
            return Err("cat neither took nor gave anything for 10 s".into());
        }
        let (readable, writable) = (fds[0].any().unwrap_or(false), fds.get(1).map(PollFd::any));
        if writable == Some(Some(true)) {
            let stdin_ref = stdin.as_mut().expect("polled for writing");
            match stdin_ref.write(&input[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.into()),
            }
            if sent == input.len() {
                stdin = None; // closed: cat's end of file
            }
        }
        if readable {
            match stdout.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => output.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    let status = sys::wait_at_most(&mut child, Duration::from_secs(10))?;
    check(&output, input, status)
}

impl ChildCosts {
    pub fn table(&self) -> Table {
        let feed = |name: &str, l: &Latency| {
            let mb_per_s = FEED_BYTES as f64 / (l.median_ns / 1e9) / 1e6;
            let mut row = latency_row(name.to_string(), l);
            row[1] = format!("{} ({:.0} MB/s)", row[1], mb_per_s);
            row
        };
        Table {
            title: format!(
                "Each pair alternated sample by sample (unpinned): start and reap this program, \
                 and feed {} through cat while reading it back, against one pipe alone",
                stats::size(FEED_BYTES)
            ),
            headers: ["how", "median", "p99", "runs"].map(String::from).to_vec(),
            rows: vec![
                latency_row("start: Command::status (posix_spawn)".into(), &self.spawn),
                latency_row("start: fork + execv + waitpid".into(), &self.fork_exec),
                feed("feed cat: writer thread + wait_with_output", &self.feed_threads),
                feed("feed cat: one thread, poll on both pipes", &self.feed_poll),
                feed("no child: one pipe, a thread writing (the limit)", &self.pipe_alone),
            ],
        }
    }
}
