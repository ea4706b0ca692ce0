//! Measures what the seeds only claim: how fast a pipe, a Unix socketpair, a POSIX message
//! queue and shared memory (spinning, or blocking on a semaphore) carry messages between a
//! parent and a forked child, and how much it matters where the two processes run.
//!
//! Run it: `cargo xtask bench` (builds in release mode and writes the report under
//! target/ipc-bench/), or `cargo run --release -p ipc_bench -- [--quick] [--out DIR]`.
//!
//! What it measures, for each mechanism and each placement (unpinned, both processes on one
//! core, on two different cores):
//! - round-trip latency (ping-pong) with 64-byte and 4096-byte messages: median and p99;
//! - one-way throughput streaming 64 B, 4 KiB and 64 KiB messages: messages/s and MB/s;
//! - limits in the same run: memcpy bandwidth, the benchmark's own loop without IPC, one cache
//!   line's round trip between cores (the floor), and the cost of reading the clock.
//!
//! Every message carries a sequence number and a checksum that the receiver verifies, so a
//! transport that loses, reorders or corrupts data fails instead of winning.
//!
//! How it is organised: `links/` has one module per mechanism (`pipe`, `socketpair`, `mqueue`,
//! `shm_spin`, `shm_sem`), each implementing `links::link::End`; `measure` holds the two
//! measurements, generic over `End`; `reference` and `report/` (tables, checks, charts) do the
//! rest. The examples' patterns (fork rules, unlink early, PDEATHSIG) are in `sys`.
//!
//! Python it replaces: the seeds' `time.sleep`-paced demos, which claim that shared memory "is
//! fast" and that passing data between processes "may be slower", and measure neither.
//!
//! Man pages worth reading: pipe(7), unix(7), mq_overview(7), shm_overview(7), sem_overview(7),
//! futex(7), sched_setaffinity(2), sched_yield(2).

mod children;
mod framed;
mod handoff;
mod links;
mod measure;
mod payload;
mod reference;
mod report;
mod stats;
mod sys;
mod workers;

use std::ffi::OsString;
use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::report::ipc::Table;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use links::link::Spec;
use links::mechanism::{Mechanism, with_link};
use links::{threads, watch};
use measure::{Budget, RoundTrip, Setup, Stream};
use report::chart;
use report::ipc::{LatencyCell, References, Results, Subject, ThroughputCell};
use report::workers::{HandoffCell, WorkersResults};
use stats::{Latency, Throughput};
use sys::{Cpus, Placement, SignalsHeld};

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const LATENCY_SIZES: [usize; 2] = [64, 4096];
const STREAM_SIZES: [usize; 3] = [64, 4096, 65536];

/// Bytes of messages in flight in one direction of a stream, where the mechanism lets us set
/// it: the same as a pipe's default buffer.
const STREAM_BUFFER: usize = 64 * 1024;

const USAGE: &str = "\
usage: ipc_bench [--quick] [--only NAME,...] [--out DIR]

  --quick          rough figures in a few seconds (default: the full run, under two minutes)
  --only NAME,...  measure only these: pipe, socketpair, unix-path, mqueue, shm-spin,
                   shm-sem (the IPC part), workers (threads or processes: start cost,
                   memory, hand-off, CPU-bound work), python (Python and Rust over a
                   socketpair), children (starting a program: Command against fork + exec;
                   feeding cat)
  --out DIR        where to write ipc-bench.md and ipc-bench-latency.svg
                   (default: ipc-bench in the cargo target directory it was built in)";

const MARKDOWN_FILE: &str = "ipc-bench.md";
const CHART_FILE: &str = "ipc-bench-latency.svg";
const WORKERS_MARKDOWN_FILE: &str = "threads-or-processes.md";
const WORKERS_CHART_FILE: &str = "threads-or-processes-memory.svg";

/// The `--only` name of the threads-or-processes part.
const WORKERS_PART: &str = "workers";
/// The `--only` name of the Python-and-Rust part.
const PYTHON_PART: &str = "python";
const PYTHON_MARKDOWN_FILE: &str = "python-and-rust.md";
/// The `--only` name of the child-processes part, and its report.
const CHILDREN_PART: &str = "children";
const CHILDREN_MARKDOWN_FILE: &str = "child-processes.md";
/// The `--only` name of the large-payload part, and its report.
const HANDOFF_PART: &str = "handoff";
const HANDOFF_MARKDOWN_FILE: &str = "handoff.md";

/// The hand-off comparison's message sizes.
const HANDOFF_SIZES: [usize; 2] = [64, 4096];

struct Options {
    quick: bool,
    /// The IPC part: these mechanisms (none: skip it).
    mechanisms: Vec<Mechanism>,
    /// The threads-or-processes part.
    workers: bool,
    /// The Python-and-Rust part.
    python: bool,
    /// The child-processes part.
    children: bool,
    /// The large-payload part.
    handoff: bool,
    out: PathBuf,
}

fn main() -> ExitCode {
    // The workers part runs this program as a worker: before anything else.
    match std::env::args().nth(1).as_deref() {
        Some(workers::EXIT_ROLE) => return ExitCode::SUCCESS,
        Some(workers::IDLE_ROLE) => workers::idle_main(),
        Some(framed::WORKER_ROLE) => framed::worker_main(),
        _ => {}
    }
    let result = match parse(std::env::args_os().skip(1)) {
        Ok(Some(options)) => run(&options),
        Ok(None) => to_stdout(writeln!(io::stdout(), "{USAGE}")),
        Err(message) => {
            eprintln!("ipc_bench: {message} (`--help` lists the options)");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `| head`: the reader has all it wanted; the files are written already, or not at all.
        Err(error)
            if error
                .downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("ipc_bench: {error}");
            ExitCode::FAILURE
        }
    }
}

/// A write to stdout, with what failed said. A closed stdout stays a plain `BrokenPipe`, which
/// `main` takes as the reader having all it wanted.
fn to_stdout(written: io::Result<()>) -> Result<()> {
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(format!("writing the report to stdout: {e}").into())
        }
        other => Ok(other?),
    }
}

/// `Ok(None)` asks for the usage.
fn parse(args: impl Iterator<Item = OsString>) -> std::result::Result<Option<Options>, String> {
    use lexopt::prelude::*;

    let mut options = Options {
        quick: false,
        mechanisms: Mechanism::ALL.to_vec(),
        workers: true,
        python: true,
        children: true,
        handoff: true,
        out: default_out(),
    };
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("quick") => options.quick = true,
            Long("only") => {
                let names = parser
                    .value()
                    .map_err(|e| e.to_string())?
                    .string()
                    .map_err(|e| e.to_string())?;
                options.workers = names.split(',').any(|name| name == WORKERS_PART);
                options.python = names.split(',').any(|name| name == PYTHON_PART);
                options.children = names.split(',').any(|name| name == CHILDREN_PART);
                options.handoff = names.split(',').any(|name| name == HANDOFF_PART);
                let parts = [WORKERS_PART, PYTHON_PART, CHILDREN_PART, HANDOFF_PART];
                options.mechanisms = names
                    .split(',')
                    .filter(|name| !parts.contains(name))
                    .map(|name| {
                        Mechanism::ALL.into_iter().find(|m| m.id() == name).ok_or_else(|| {
                            let known: Vec<&str> = Mechanism::ALL.iter().map(|m| m.id()).collect();
                            format!(
                                "`--only`: nothing is called {name:?} (the names are: {}, \
                                 {WORKERS_PART}, {PYTHON_PART}, {CHILDREN_PART}, {HANDOFF_PART})",
                                known.join(", ")
                            )
                        })
                    })
                    .collect::<std::result::Result<_, _>>()?;
            }
            Long("out") => options.out = parser.value().map_err(|e| e.to_string())?.into(),
            Short('h') | Long("help") => return Ok(None),
            other => return Err(other.unexpected().to_string()),
        }
    }
    Ok(Some(options))
}

/// `ipc-bench` in cargo's target directory, found from where this program was built
/// (`TARGET/release/ipc_bench`); `target/ipc-bench` in the current folder otherwise.
fn default_out() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            let profile = exe.parent()?;
            matches!(profile.file_name()?.to_str()?, "release" | "debug")
                .then(|| profile.parent().map(|target| target.join("ipc-bench")))?
        })
        .unwrap_or_else(|| PathBuf::from("target/ipc-bench"))
}

/// One measurement of the plan.
#[derive(Clone, Copy)]
enum Cell {
    RoundTrip(Mechanism, Placement, usize),
    Stream(Mechanism, Placement, usize),
}

impl Cell {
    fn describe(self) -> String {
        let (what, m, p, size) = match self {
            Cell::RoundTrip(m, p, size) => ("round trip", m, p, size),
            Cell::Stream(m, p, size) => ("stream", m, p, size),
        };
        format!("{}, {what}, {}, {}", m.name(), stats::size(size), p.name())
    }
}

/// The command that repeats the IPC part of this run, for its report.
fn ipc_command(options: &Options) -> String {
    let mut command = String::from("cargo xtask bench");
    if options.quick {
        command.push_str(" --quick");
    }
    if options.mechanisms.len() < Mechanism::ALL.len() {
        let names: Vec<&str> = options.mechanisms.iter().map(|m| m.id()).collect();
        command.push_str(&format!(" --only {}", names.join(",")));
    }
    command
}

fn plan(cpus: &Cpus, mechanisms: &[Mechanism]) -> Vec<Cell> {
    let mut cells = Vec::new();
    for &mechanism in mechanisms {
        for placement in Placement::ALL {
            if !cpus.can_place(placement) {
                continue;
            }
            for size in LATENCY_SIZES {
                cells.push(Cell::RoundTrip(mechanism, placement, size));
            }
            for size in STREAM_SIZES {
                cells.push(Cell::Stream(mechanism, placement, size));
            }
        }
    }
    cells
}

fn run(options: &Options) -> Result<()> {
    sys::check_single_threaded()?;
    watch::install()?;
    let started = Instant::now();
    let bench = Bench {
        cpus: Cpus::read()?,
        budget: if options.quick { Budget::QUICK } else { Budget::FULL },
    };
    let effort = if options.quick { workers::Effort::QUICK } else { workers::Effort::FULL };
    let cells = plan(&bench.cpus, &options.mechanisms);
    let ipc_steps = if cells.is_empty() { 0 } else { cells.len() + 1 };
    let workers_steps = if options.workers { 4 } else { 0 };
    let python_rounds = if options.quick { 1 } else { 3 };
    let python_steps = if options.python { python_rounds * framed::PAIRS.len() } else { 0 };
    let other_steps = usize::from(options.children) + usize::from(options.handoff);
    let mut progress = Progress::new(ipc_steps + workers_steps + python_steps + other_steps);
    let ipc =
        if cells.is_empty() { None } else { Some(run_ipc(&bench, options, cells, &mut progress)?) };
    let workers =
        if options.workers { Some(run_workers(&bench, &effort, &mut progress)?) } else { None };
    let python = if options.python {
        Some(run_python(python_rounds, options.quick, &mut progress)?)
    } else {
        None
    };
    let children = if options.children {
        progress.show("children: spawn against fork + exec; feeding cat");
        Some(children::measure(&effort)?)
    } else {
        None
    };
    let handoff = if options.handoff {
        progress.show("handoff: 4 KiB, 1 MiB and 64 MiB to another process, three ways");
        Some(handoff::measure(options.quick)?)
    } else {
        None
    };
    progress.done();
    let machine = machine(&bench.cpus);
    if let Some(mut results) = ipc {
        results.took = started.elapsed();
        to_stdout(print_report(&results))?;
        write_files(&results, &options.out)?;
        let wrong = results.violations();
        if !wrong.is_empty() {
            let list: Vec<String> = wrong.into_iter().map(|v| v.text).collect();
            return Err(format!(
                "{} figure{} contradicted {} limit after being measured twice, so this run \
                 measured nothing trustworthy: {}",
                list.len(),
                if list.len() == 1 { "" } else { "s" },
                if list.len() == 1 { "its" } else { "their" },
                list.join("; ")
            )
            .into());
        }
    }
    if let Some(workers) = workers {
        to_stdout(print_workers(&workers, &machine))?;
        write_workers_files(&workers, &machine, options.quick, &options.out)?;
    }
    match python {
        Some(Ok(python)) => {
            let text =
                format!("\nPython and Rust over a socketpair, on {machine}\n\n{}", python.text());
            to_stdout(write!(io::stdout(), "{text}"))?;
            let markdown = python.markdown(&machine, options.quick);
            write_markdown(&options.out, PYTHON_MARKDOWN_FILE, &markdown)?;
        }
        // No python3 is not a failed bench: the part says why it is missing.
        Some(Err(why)) => to_stdout(writeln!(io::stdout(), "\nPython and Rust: skipped: {why}"))?,
        None => {}
    }
    if let Some(handoff) = handoff {
        write_part(
            &options.out,
            HANDOFF_MARKDOWN_FILE,
            "A large payload to another process",
            HANDOFF_PART,
            &handoff.table(),
            &machine,
            options.quick,
        )?;
    }
    if let Some(children) = children {
        let table = children.table();
        let md_title = "Child processes";
        write_part(
            &options.out,
            CHILDREN_MARKDOWN_FILE,
            md_title,
            CHILDREN_PART,
            &table,
            &machine,
            options.quick,
        )?;
    }
    Ok(())
}

/// Prints a part's one table and writes it as `file` in `out`, whole or not at all.
fn write_part(
    out: &Path,
    file: &str,
    title: &str,
    produced_by: &str,
    table: &Table,
    machine: &str,
    quick: bool,
) -> Result<()> {
    to_stdout(write!(io::stdout(), "\n{title}, on {machine}\n\n{}", table.text()))?;
    let md = format!(
        "# {title}\n\nMachine: {machine}. Mode: {}. Produced by `cargo xtask bench --only \
         {produced_by}`.\n\n{}",
        if quick { "quick (rough figures)" } else { "full" },
        table.markdown()
    );
    write_markdown(out, file, &md)
}

/// Writes `text` as `file` in `out`, under a temporary name renamed with Ctrl-C held off, so
/// that an interrupted run leaves the old file or the new one, never half of one.
fn write_markdown(out: &Path, file: &str, text: &str) -> Result<()> {
    fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let held = SignalsHeld::new()?;
    let markdown = out.join(file);
    fs::write(markdown.with_extension("partial"), text)?;
    fs::rename(markdown.with_extension("partial"), &markdown)?;
    drop(held);
    to_stdout(writeln!(io::stdout(), "wrote {}", markdown.display()))?;
    Ok(())
}

/// The Python-and-Rust part: every pair of [`framed::PAIRS`] once per round, alternated.
/// `Ok(Err(why))` when there is no `python3` to run.
fn run_python(
    rounds: usize,
    quick: bool,
    progress: &mut Progress,
) -> Result<std::result::Result<framed::Results, String>> {
    if let Err(e) = std::process::Command::new("python3")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .status()
    {
        return Ok(Err(format!("no python3 to run ({e})")));
    }
    let counts = if quick {
        framed::Counts { round_trips: 200, stream: [20_000, 5_000] }
    } else {
        framed::Counts { round_trips: 2_000, stream: [200_000, 50_000] }
    };
    let mut results = framed::Results { rounds: Vec::new() };
    for round in 1..=rounds {
        let mut figures: [framed::Figures; 4] = Default::default();
        for (i, (driver, worker)) in framed::PAIRS.into_iter().enumerate() {
            progress.show(&format!(
                "python part, round {round}: {} driver, {} worker",
                driver.name(),
                worker.name()
            ));
            figures[i] = framed::measure(driver, worker, &counts)?;
        }
        results.rounds.push(figures);
    }
    Ok(Ok(results))
}

/// The IPC part: every mechanism and placement, the limits, and the recheck.
fn run_ipc(
    bench: &Bench,
    options: &Options,
    cells: Vec<Cell>,
    progress: &mut Progress,
) -> Result<Results> {
    progress.show("limits: clock, memcpy, loop alone, floor");
    let refs = bench.references()?;
    let mut latency = Vec::new();
    let mut throughput = Vec::new();
    for cell in cells {
        progress.show(&cell.describe());
        match cell {
            Cell::RoundTrip(mechanism, placement, size) => latency.push(LatencyCell {
                mechanism,
                placement,
                size,
                latency: bench.round_trip(mechanism, placement, size)?,
            }),
            Cell::Stream(mechanism, placement, size) => throughput.push(ThroughputCell {
                mechanism,
                placement,
                size,
                throughput: bench.stream(mechanism, placement, size)?,
            }),
        }
    }
    let mut results = Results {
        machine: machine(&bench.cpus),
        quick: options.quick,
        command: ipc_command(options),
        latency_sizes: LATENCY_SIZES.to_vec(),
        stream_sizes: STREAM_SIZES.to_vec(),
        latency,
        throughput,
        refs,
        remeasured: Vec::new(),
        took: Duration::ZERO,
    };
    bench.recheck(&mut results)?;
    Ok(results)
}

/// The threads-or-processes part.
fn run_workers(
    bench: &Bench,
    effort: &workers::Effort,
    progress: &mut Progress,
) -> Result<WorkersResults> {
    progress.show("workers: start and finish");
    let start = workers::start_costs(effort)?;
    progress.show("workers: memory per idle worker");
    let memory = workers::memory(effort)?;
    progress.show("workers: hand-off, threads against processes");
    let mut handoff = Vec::new();
    for placement in [Placement::SameCore, Placement::DifferentCores] {
        if !bench.cpus.can_place(placement) {
            continue;
        }
        for size in HANDOFF_SIZES {
            for link in threads::ThreadLink::ALL {
                let measure = |round_trip| {
                    threads::measure(link, round_trip, bench.setup(placement, size))
                        .map_err(|e| format!("{}, {}: {e}", link.name(), placement.name()))
                };
                let (threads::Measured::RoundTrip(round_trip), threads::Measured::Stream(stream)) =
                    (measure(true)?, measure(false)?)
                else {
                    unreachable!("round_trip true measures a round trip, false a stream");
                };
                handoff.push(HandoffCell {
                    link: link.name(),
                    placement,
                    size,
                    round_trip,
                    stream,
                });
            }
            for (mechanism, name) in [
                (Mechanism::Pipe, "processes: pipe"),
                (Mechanism::ShmSem, "processes: shm + semaphore"),
            ] {
                let stream = bench.stream(mechanism, placement, size)??;
                handoff.push(HandoffCell {
                    link: name,
                    placement,
                    size,
                    round_trip: bench.round_trip(mechanism, placement, size)?,
                    stream,
                });
            }
        }
    }
    progress.show("workers: CPU-bound job over 1 and 2 workers");
    let cpu = workers::cpu_bound(effort)?;
    Ok(WorkersResults { start, memory, handoff, cpu })
}

fn print_workers(results: &WorkersResults, machine: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "\nThreads or processes? On {machine}\n")?;
    for table in results.tables() {
        writeln!(out, "{}", table.text())?;
    }
    write!(out, "{}", results.notes())?;
    Ok(())
}

fn write_workers_files(
    results: &WorkersResults,
    machine: &str,
    quick: bool,
    out: &Path,
) -> Result<()> {
    fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let held = SignalsHeld::new()?;
    let markdown = out.join(WORKERS_MARKDOWN_FILE);
    let chart = out.join(WORKERS_CHART_FILE);
    let partial = |path: &Path| path.with_extension("partial");
    let mut md = format!(
        "# Threads or processes?\n\nMachine: {machine}. Mode: {}. Produced by `cargo xtask \
         bench{}`.\n\n",
        if quick { "quick (rough figures)" } else { "full" },
        if quick { " --quick" } else { "" }
    );
    for table in results.tables() {
        md.push_str(&table.markdown());
        md.push('\n');
    }
    md.push_str(&format!("![Memory per idle worker]({WORKERS_CHART_FILE})\n\n"));
    md.push_str(&results.notes());
    fs::write(partial(&markdown), md)?;
    chart::memory_svg(results, machine, &partial(&chart))?;
    fs::rename(partial(&markdown), &markdown)?;
    fs::rename(partial(&chart), &chart)?;
    drop(held);
    to_stdout(writeln!(io::stdout(), "wrote {} and {}", markdown.display(), chart.display()))?;
    Ok(())
}

/// Where and how long to measure: what every measurement of one run shares.
struct Bench {
    cpus: Cpus,
    budget: Budget,
}

impl Bench {
    fn setup(&self, placement: Placement, size: usize) -> Setup<'_> {
        Setup { size, cpus: &self.cpus, placement, budget: self.budget }
    }

    fn references(&self) -> Result<References> {
        Ok(References {
            clock_ns: reference::clock_ns(self.budget),
            memcpy: STREAM_SIZES.iter().map(|&size| reference::memcpy(size, self.budget)).collect(),
            loop_alone: STREAM_SIZES
                .iter()
                .map(|&size| reference::loop_alone(size, self.budget))
                .collect::<Result<_>>()?,
            floor: reference::floor(&self.cpus, self.budget)?,
        })
    }

    fn round_trip(
        &self,
        mechanism: Mechanism,
        placement: Placement,
        size: usize,
    ) -> Result<Latency> {
        let spec = Spec { size, slots: 1 };
        with_link(mechanism, spec, RoundTrip(self.setup(placement, size)))
            .map_err(|e| failed(Cell::RoundTrip(mechanism, placement, size), e))
    }

    /// `Err` inside: why the mechanism cannot carry messages this big.
    fn stream(
        &self,
        mechanism: Mechanism,
        placement: Placement,
        size: usize,
    ) -> Result<std::result::Result<Throughput, String>> {
        if let Some(why) = mechanism.cannot_carry(size) {
            return Ok(Err(why));
        }
        let spec = Spec { size, slots: (STREAM_BUFFER / size).clamp(4, 1024) };
        let result = with_link(mechanism, spec, Stream(self.setup(placement, size)))
            .map_err(|e| failed(Cell::Stream(mechanism, placement, size), e))?;
        Ok(Ok(result))
    }

    /// Measures once more every figure that contradicts a limit, with the limit itself (a
    /// shared machine can slow either for a moment), and records what was measured again.
    fn recheck(&self, results: &mut Results) -> Result<()> {
        let first = results.violations();
        if first.is_empty() {
            return Ok(());
        }
        eprintln!(
            "{} figure{} contradict{} a limit; measuring {} again",
            first.len(),
            if first.len() == 1 { "" } else { "s" },
            if first.len() == 1 { "s" } else { "" },
            if first.len() == 1 { "it" } else { "them" }
        );
        if first.iter().any(|v| matches!(v.subject, Subject::Latency(_))) {
            results.refs.floor = reference::floor(&self.cpus, self.budget)?;
        }
        let mut sizes: Vec<usize> = Vec::new();
        for v in &first {
            match v.subject {
                Subject::Throughput(i) => sizes.push(results.throughput[i].size),
                Subject::Limits { size } => sizes.push(size),
                Subject::Latency(_) => {}
            }
        }
        sizes.sort_unstable();
        sizes.dedup();
        for size in sizes {
            let at = STREAM_SIZES
                .iter()
                .position(|&s| s == size)
                .expect("limits are measured at every stream size");
            results.refs.memcpy[at] = reference::memcpy(size, self.budget);
            results.refs.loop_alone[at] = reference::loop_alone(size, self.budget)?;
        }
        for v in first {
            match v.subject {
                Subject::Latency(i) => {
                    let c = &results.latency[i];
                    results.latency[i].latency =
                        self.round_trip(c.mechanism, c.placement, c.size)?;
                }
                Subject::Throughput(i) => {
                    let c = &results.throughput[i];
                    results.throughput[i].throughput =
                        self.stream(c.mechanism, c.placement, c.size)?;
                }
                Subject::Limits { .. } => {}
            }
            results.remeasured.push(v.text);
        }
        Ok(())
    }
}

fn failed(
    cell: Cell,
    error: Box<dyn std::error::Error + Send + Sync>,
) -> Box<dyn std::error::Error + Send + Sync> {
    format!("{}: {error}", cell.describe()).into()
}

fn print_report(results: &Results) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "IPC benchmark on {}{}\n",
        results.machine,
        if results.quick { " (quick: rough figures)" } else { "" }
    )?;
    for table in [results.latency_table(), results.throughput_table(), results.reference_table()] {
        writeln!(out, "{}", table.text())?;
    }
    write!(out, "{}", results.checks_text())?;
    Ok(())
}

/// Writes the markdown and the chart. Each file is written under a temporary name and renamed,
/// with Ctrl-C held off meanwhile, so an interrupted run leaves the previous files or the new
/// ones, never half a file and never a temporary one.
fn write_files(results: &Results, out: &Path) -> Result<()> {
    fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let held = SignalsHeld::new()?;
    let markdown = out.join(MARKDOWN_FILE);
    let chart = out.join(CHART_FILE);
    let partial = |path: &Path| path.with_extension("partial");
    fs::write(partial(&markdown), results.markdown(CHART_FILE))?;
    chart::latency_svg(results, &partial(&chart))?;
    fs::rename(partial(&markdown), &markdown)?;
    fs::rename(partial(&chart), &chart)?;
    drop(held);
    to_stdout(writeln!(io::stdout(), "\nwrote {} and {}", markdown.display(), chart.display()))?;
    Ok(())
}

/// The machine in a few words: CPU model, the CPUs we may use, the kernel.
fn machine(cpus: &Cpus) -> String {
    let model = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string());
    let n = cpus.allowed().len();
    format!("{model}, {n} CPU{}, Linux {kernel}", if n == 1 { "" } else { "s" })
}

/// "[ 3/75] pipe, round trip, 64 B, unpinned" on stderr: rewritten in place on a terminal,
/// one line each otherwise (a CI log).
struct Progress {
    total: usize,
    done: usize,
    terminal: bool,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress { total, done: 0, terminal: io::stderr().is_terminal() }
    }

    fn show(&mut self, what: &str) {
        self.done += 1;
        let width = self.total.to_string().len();
        let line = format!("[{:>width$}/{}] {what}", self.done, self.total);
        if self.terminal {
            eprint!("\r\x1b[K{line}");
        } else {
            eprintln!("{line}");
        }
    }

    fn done(&self) {
        if self.terminal {
            eprint!("\r\x1b[K");
        }
    }
}
