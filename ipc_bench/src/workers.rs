//! Threads or processes? What seed 000 only claims, measured: what a worker costs to start and
//! finish, what it costs in memory while it waits, and what two workers gain on CPU-bound work,
//! as a thread, a forked process and a freshly spawned program. Every run's result is checked:
//! exit statuses, the workers' sums, the workers being alive when their memory is read.

use std::fs;
use std::hint::black_box;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::measure::{Budget, time_each};
use crate::stats::Latency;
use crate::sys::{self, Forked};

/// The hidden first argument that makes this program exit at once: the "fresh program" that
/// `Command::spawn` starts.
pub const EXIT_ROLE: &str = "__exit";
/// The hidden first argument that makes this program wait for end of file on stdin: an idle
/// spawned worker.
pub const IDLE_ROLE: &str = "__idle";

/// What a worker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Thread,
    Forked,
    Spawned,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Thread, Kind::Forked, Kind::Spawned];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Thread => "thread (thread::spawn)",
            Kind::Forked => "forked process (fork)",
            Kind::Spawned => "spawned program (Command::spawn)",
        }
    }
}

/// How much to measure.
#[derive(Debug, Clone, Copy)]
pub struct Effort {
    /// For the start-and-finish timings.
    pub timing: Budget,
    /// Parent memory sizes for the fork-cost series.
    pub fork_memory: &'static [usize],
    pub worker_counts: &'static [usize],
    /// Time one worker spends on the whole CPU-bound job.
    pub job: Duration,
    /// Repetitions of each CPU-bound measurement.
    pub repeats: usize,
}

const MIB: usize = 1 << 20;

impl Effort {
    pub const FULL: Effort = Effort {
        timing: Budget {
            warmup: Duration::from_millis(20),
            target: Duration::from_millis(250),
            min_samples: 50,
        },
        fork_memory: &[MIB, 100 * MIB, 1024 * MIB],
        worker_counts: &[1, 10, 100],
        job: Duration::from_millis(300),
        repeats: 5,
    };

    pub const QUICK: Effort = Effort {
        timing: Budget {
            warmup: Duration::from_millis(2),
            target: Duration::from_millis(20),
            min_samples: 10,
        },
        fork_memory: &[MIB, 100 * MIB],
        worker_counts: &[1, 10],
        job: Duration::from_millis(40),
        repeats: 1,
    };
}

// ---------------------------------------------------------------------------------------------
// Start and finish.

pub struct StartCosts {
    pub per_kind: Vec<(Kind, Latency)>,
    /// Fork + exit + wait with this many bytes of the parent's memory touched.
    pub fork_with_memory: Vec<(usize, Latency)>,
}

pub fn start_costs(effort: &Effort) -> crate::Result<StartCosts> {
    let exe = std::env::current_exe()?;
    let mut per_kind = Vec::new();
    for kind in Kind::ALL {
        let latency = match kind {
            Kind::Thread => time_each(effort.timing, 20, || {
                let handle = thread::Builder::new().spawn(|| black_box(7))?;
                if handle.join().map_err(|_| "a thread panicked")? != 7 {
                    return Err("a thread returned the wrong value".into());
                }
                Ok(())
            })?,
            Kind::Forked => {
                sys::settle_single_threaded()?;
                time_each(effort.timing, 20, fork_and_reap)?
            }
            Kind::Spawned => time_each(effort.timing, 5, || {
                let status = Command::new(&exe).arg(EXIT_ROLE).status()?;
                if !status.success() {
                    return Err(format!("the spawned program ended with {status}").into());
                }
                Ok(())
            })?,
        };
        per_kind.push((kind, latency));
    }
    let mut fork_with_memory = Vec::new();
    sys::settle_single_threaded()?;
    for &bytes in effort.fork_memory {
        let memory = touched(bytes);
        let budget = Budget { min_samples: effort.timing.min_samples.min(20), ..effort.timing };
        fork_with_memory.push((bytes, time_each(budget, 3, fork_and_reap)?));
        black_box(&memory);
    }
    Ok(StartCosts { per_kind, fork_with_memory })
}

/// `bytes` of memory, every page written, so that the kernel really holds it.
fn touched(bytes: usize) -> Vec<u8> {
    let mut memory = vec![0u8; bytes];
    for page in memory.chunks_mut(4096) {
        page[0] = 1;
    }
    memory
}

/// One fork whose child exits at once, reaped and checked: the way every fork here is made
/// (`sys::fork`: flushed, the child set to die with its parent).
fn fork_and_reap() -> crate::Result<()> {
    let Forked::Parent(child) = sys::fork()? else { sys::exit_child(Ok(())) };
    child.wait()
}

// ---------------------------------------------------------------------------------------------
// Memory per idle worker.

pub struct MemoryRow {
    pub kind: Kind,
    pub workers: usize,
    /// Proportional set size added per worker, KiB: shared pages divided among their sharers.
    pub pss_kib: f64,
    /// Resident set size added per worker, KiB: shared pages counted in full for each.
    pub rss_kib: f64,
}

/// Rss and Pss of a process, KiB, from /proc/PID/smaps_rollup.
fn rollup(pid: &str) -> crate::Result<(f64, f64)> {
    let path = format!("/proc/{pid}/smaps_rollup");
    let text = fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let field = |name: &str| -> crate::Result<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| format!("no {name} in {path}").into())
    };
    Ok((field("Rss:")?, field("Pss:")?))
}

pub fn memory(effort: &Effort) -> crate::Result<Vec<MemoryRow>> {
    let mut rows = Vec::new();
    for &workers in effort.worker_counts {
        for kind in Kind::ALL {
            let (rss, pss) = match kind {
                Kind::Thread => idle_threads(workers)?,
                Kind::Forked => idle_forks(workers)?,
                Kind::Spawned => idle_spawned(workers)?,
            };
            rows.push(MemoryRow {
                kind,
                workers,
                pss_kib: pss / workers as f64,
                rss_kib: rss / workers as f64,
            });
        }
    }
    Ok(rows)
}

/// Memory added by `n` threads blocked on a condition variable.
fn idle_threads(n: usize) -> crate::Result<(f64, f64)> {
    let (rss0, pss0) = rollup("self")?;
    let started = Arc::new(Barrier::new(n + 1));
    let release = Arc::new((Mutex::new(false), Condvar::new()));
    let mut handles = Vec::new();
    for _ in 0..n {
        let (started, release) = (started.clone(), release.clone());
        handles.push(thread::Builder::new().spawn(move || {
            started.wait();
            let (done, cv) = &*release;
            let mut done = done.lock().expect("no thread panics holding it");
            while !*done {
                done = cv.wait(done).expect("no thread panics holding it");
            }
        })?);
    }
    started.wait();
    let (rss1, pss1) = rollup("self")?;
    *release.0.lock().expect("no thread panics holding it") = true;
    release.1.notify_all();
    for handle in handles {
        handle.join().map_err(|_| "an idle thread panicked")?;
    }
    Ok((rss1 - rss0, pss1 - pss0))
}

/// Memory added by `n` forked children blocked reading a pipe: theirs, and the parent's growth.
fn idle_forks(n: usize) -> crate::Result<(f64, f64)> {
    sys::settle_single_threaded()?;
    let (rss0, pss0) = rollup("self")?;
    let (mut reader, writer) = std::io::pipe()?;
    // Room made before measuring: the parent's own allocations would count as the workers'.
    let mut children = Vec::with_capacity(n);
    for _ in 0..n {
        match sys::fork()? {
            Forked::Child => sys::run_child(|| {
                drop(writer);
                // Blocks until the parent closes the write end: end of file.
                reader.read_to_end(&mut Vec::new())?;
                Ok(())
            }),
            Forked::Parent(child) => children.push(child),
        }
    }
    let measured = sum_memory(children.iter().map(|c| c.pid().to_string()), rss0, pss0);
    drop(writer);
    for child in children {
        child.wait()?;
    }
    measured
}

/// Memory of `n` freshly spawned copies of this program, waiting for end of file on stdin.
fn idle_spawned(n: usize) -> crate::Result<(f64, f64)> {
    let (rss0, pss0) = rollup("self")?;
    let exe = std::env::current_exe()?;
    let mut children = Vec::with_capacity(n);
    for _ in 0..n {
        let mut child = crate::sys::dies_with_us(&mut Command::new(&exe))
            .arg(IDLE_ROLE)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        // The child says it has started (and so is fully loaded) with one byte.
        child.stdout.take().expect("stdout was piped").read_exact(&mut [0u8; 1])?;
        children.push(child);
    }
    let measured = sum_memory(children.iter().map(|c| c.id().to_string()), rss0, pss0);
    for mut child in children {
        drop(child.stdin.take());
        let status = child.wait()?;
        if !status.success() {
            return Err(format!("an idle spawned program ended with {status}").into());
        }
    }
    measured
}

/// The workers' own Rss and Pss plus what the parent grew by since `rss0`/`pss0`.
fn sum_memory(
    pids: impl Iterator<Item = String>,
    rss0: f64,
    pss0: f64,
) -> crate::Result<(f64, f64)> {
    let (mut rss, mut pss) = (0.0, 0.0);
    for pid in pids {
        let (r, p) = rollup(&pid)?;
        rss += r;
        pss += p;
    }
    let (rss1, pss1) = rollup("self")?;
    Ok((rss + rss1 - rss0, pss + pss1 - pss0))
}

/// The idle spawned worker's side: say it has started, then wait for end of file.
pub fn idle_main() -> ! {
    let _ = std::io::stdout().write_all(b"!");
    let _ = std::io::stdout().flush();
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    std::process::exit(0)
}

// ---------------------------------------------------------------------------------------------
// CPU-bound work in parallel.

/// The job, the same in Rust and in Python: the sum of `i * i % 1000003` over a range.
pub fn job(start: u64, end: u64) -> u64 {
    (black_box(start)..black_box(end)).map(|i| i * i % 1_000_003).sum()
}

/// Who runs the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    RustThreads,
    RustProcesses,
    PythonThreading,
    PythonMultiprocessing,
}

impl Runner {
    pub fn name(self) -> &'static str {
        match self {
            Runner::RustThreads => "Rust, threads",
            Runner::RustProcesses => "Rust, forked processes",
            Runner::PythonThreading => "Python 3, threading",
            Runner::PythonMultiprocessing => "Python 3, multiprocessing",
        }
    }
}

pub struct CpuRow {
    pub runner: Runner,
    pub workers: usize,
    /// Every repetition's time, sorted.
    pub times: Vec<Duration>,
}

impl CpuRow {
    pub fn median(&self) -> Duration {
        self.times[self.times.len() / 2]
    }
}

pub struct CpuBound {
    pub rust_n: u64,
    pub python_n: u64,
    pub rows: Vec<CpuRow>,
    /// Why there are no Python rows, when there are none.
    pub python_note: Option<String>,
}

/// The job split over 1 and 2 workers, as threads and as processes, repeated and alternated.
pub fn cpu_bound(effort: &Effort) -> crate::Result<CpuBound> {
    // Calibrate: how many iterations one worker does in `effort.job`.
    let probe = 2_000_000;
    let started = Instant::now();
    black_box(job(0, probe));
    let per_iter = started.elapsed().as_secs_f64() / probe as f64;
    let rust_n = ((effort.job.as_secs_f64() / per_iter) as u64).max(probe);
    let expected = job(0, rust_n);

    let mut rows: Vec<CpuRow> = Vec::new();
    for _ in 0..effort.repeats {
        for workers in [1, 2] {
            for runner in [Runner::RustThreads, Runner::RustProcesses] {
                let (took, total) = match runner {
                    Runner::RustThreads => split_threads(rust_n, workers)?,
                    _ => split_processes(rust_n, workers)?,
                };
                if total != expected {
                    return Err(format!(
                        "{} with {workers} workers summed {total}, not {expected}",
                        runner.name()
                    )
                    .into());
                }
                record(&mut rows, runner, workers, took);
            }
        }
    }
    let python_n = (rust_n / 60).max(100_000);
    let python_note = python_rows(python_n, effort.repeats, &mut rows).err();
    for row in &mut rows {
        row.times.sort();
    }
    Ok(CpuBound { rust_n, python_n, rows, python_note })
}

fn record(rows: &mut Vec<CpuRow>, runner: Runner, workers: usize, took: Duration) {
    match rows.iter_mut().find(|r| r.runner == runner && r.workers == workers) {
        Some(row) => row.times.push(took),
        None => rows.push(CpuRow { runner, workers, times: vec![took] }),
    }
}

/// `[0, n)` in `parts` nearly equal ranges.
fn parts(n: u64, parts: usize) -> Vec<(u64, u64)> {
    let parts = parts as u64;
    (0..parts).map(|p| (n * p / parts, n * (p + 1) / parts)).collect()
}

fn split_threads(n: u64, workers: usize) -> crate::Result<(Duration, u64)> {
    let started = Instant::now();
    let handles = parts(n, workers)
        .into_iter()
        .map(|(a, b)| thread::Builder::new().spawn(move || job(a, b)))
        .collect::<std::io::Result<Vec<_>>>()?;
    let mut total = 0;
    for handle in handles {
        total += handle.join().map_err(|_| "a worker thread panicked")?;
    }
    Ok((started.elapsed(), total))
}

fn split_processes(n: u64, workers: usize) -> crate::Result<(Duration, u64)> {
    sys::settle_single_threaded()?;
    let started = Instant::now();
    let (mut reader, writer) = std::io::pipe()?;
    let mut children = Vec::new();
    for (a, b) in parts(n, workers) {
        match sys::fork()? {
            Forked::Child => sys::run_child(|| {
                drop(reader);
                // Eight bytes are written at once (under PIPE_BUF): the parent reads whole sums.
                match (&writer).write(&job(a, b).to_le_bytes())? {
                    8 => Ok(()),
                    n => Err(format!("wrote {n} of 8 bytes").into()),
                }
            }),
            Forked::Parent(child) => children.push(child),
        }
    }
    drop(writer);
    let mut total = 0;
    for _ in 0..workers {
        let mut sum = [0u8; 8];
        reader.read_exact(&mut sum)?;
        total += u64::from_le_bytes(sum);
    }
    for child in children {
        child.wait()?;
    }
    Ok((started.elapsed(), total))
}

/// The same job in Python, as the seeds would run it; `Err` says why it was skipped.
fn python_rows(n: u64, repeats: usize, rows: &mut Vec<CpuRow>) -> Result<(), String> {
    let expected = job(0, n);
    for _ in 0..repeats {
        for workers in [1, 2] {
            for (runner, mode) in [
                (Runner::PythonThreading, "threading"),
                (Runner::PythonMultiprocessing, "multiprocessing"),
            ] {
                let output = crate::sys::dies_with_us(&mut Command::new("python3"))
                    .args(["-c", PYTHON_JOB, mode, &workers.to_string(), &n.to_string()])
                    .stdin(Stdio::null())
                    .output()
                    .map_err(|e| format!("no python3 to run ({e}); the Python rows are skipped"))?;
                let text = String::from_utf8_lossy(&output.stdout);
                let mut fields = text.split_whitespace();
                let (Some(seconds), Some(total)) = (fields.next(), fields.next()) else {
                    return Err(format!(
                        "python3 {mode} printed nothing usable ({}); the Python rows are skipped",
                        String::from_utf8_lossy(&output.stderr).trim()
                    ));
                };
                if total != expected.to_string() {
                    return Err(format!(
                        "python3 {mode} summed {total}, not {expected}; the Python rows are \
                         skipped"
                    ));
                }
                let seconds: f64 = seconds
                    .parse()
                    .map_err(|_| format!("python3 printed {seconds:?} as its time"))?;
                record(rows, runner, workers, Duration::from_secs_f64(seconds));
            }
        }
    }
    Ok(())
}

/// The Python side: `python3 -c PYTHON_JOB MODE WORKERS N` prints seconds and the sum. The
/// processes are started with the platform's default method (fork on Linux) and joined.
const PYTHON_JOB: &str = r#"
import sys, time, threading, multiprocessing

def job(a, b, out=None, index=0):
    s = 0
    for i in range(a, b):
        s += i * i % 1000003
    if out is not None:
        out[index] = s
    return s

def proc_job(a, b, queue):
    queue.put(job(a, b))

if __name__ == "__main__":
    mode, k, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    parts = [(n * p // k, n * (p + 1) // k) for p in range(k)]
    start = time.perf_counter()
    if mode == "threading":
        out = [0] * k
        workers = [threading.Thread(target=job, args=(a, b, out, i)) for i, (a, b) in enumerate(parts)]
        for w in workers: w.start()
        for w in workers: w.join()
        total = sum(out)
    else:
        queue = multiprocessing.Queue()
        workers = [multiprocessing.Process(target=proc_job, args=(a, b, queue)) for a, b in parts]
        for w in workers: w.start()
        total = sum(queue.get() for _ in workers)
        for w in workers: w.join()
        if any(w.exitcode != 0 for w in workers): sys.exit(1)
    print(time.perf_counter() - start, total)
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parts_cover_the_range_once() {
        assert_eq!(parts(10, 2), vec![(0, 5), (5, 10)]);
        assert_eq!(parts(7, 3), vec![(0, 2), (2, 4), (4, 7)]);
        let whole = job(0, 1000);
        let split: u64 = parts(1000, 3).into_iter().map(|(a, b)| job(a, b)).sum();
        assert_eq!(whole, split);
    }

    #[test]
    fn the_job_is_the_formula() {
        // 0 + 1 + 4 + 9, and 2000 * 2000 = 4_000_000 = 3 * 1_000_003 + 999_991.
        assert_eq!(job(0, 4), 14);
        assert_eq!(job(2000, 2001), 999_991);
    }
}
