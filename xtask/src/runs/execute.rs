//! Running many example runs in parallel and collecting their outcomes.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::runs::conditions::Condition;
use crate::runs::progress::Progress;
use crate::sandbox::launcher::{Isolation, Limits};
use crate::sandbox::leftovers::Leftover;
use crate::sandbox::leftovers::Watch;
use crate::sandbox::runner::{self, Outcome, Spec, StdoutMode};

/// One run of one example.
pub struct Job {
    /// Index into the caller's list of examples.
    pub example: usize,
    /// 1-based.
    pub run: u32,
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub condition: Condition,
    /// A folder put first on the run's `PATH`.
    pub path_first: Option<PathBuf>,
}

pub struct Record {
    pub example: usize,
    pub run: u32,
    pub condition: Condition,
    pub outcome: Outcome,
    /// Only without namespaces: machine-wide IPC objects that appeared while this run went on
    /// and were still there after the last run. Maybe this run's, maybe another program's.
    pub suspects: Vec<Leftover>,
}

/// Runs every job, at most `workers` at a time, and returns the records in job order.
pub fn run_all(
    jobs: Vec<Job>,
    workers: usize,
    timeout: Duration,
    isolation: &Isolation,
) -> Result<Vec<Record>> {
    runner::become_subreaper().context("cannot become the reaper of the examples' orphans")?;
    let watch = match isolation {
        Isolation::Shared { .. } => Some(Watch::detect()?),
        Isolation::Namespaces { .. } => None,
    };
    let next = AtomicUsize::new(0);
    let progress = Progress::new("runs", jobs.len());
    let done = Mutex::new(Vec::with_capacity(jobs.len()));
    let work = || {
        while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
            let result = run_one(job, timeout, isolation, watch.as_ref());
            done.lock().expect("no worker panics while holding the list").push((
                job.example,
                job.run,
                job.condition,
                result,
            ));
            progress.tick();
        }
    };
    thread::scope(|scope| {
        let mut started = 0;
        for _ in 0..workers.clamp(1, jobs.len().max(1)) {
            // Under `ulimit -u` a thread may not start: fewer workers, or this thread alone,
            // still run every job.
            if thread::Builder::new().name("xtask-worker".into()).spawn_scoped(scope, work).is_ok()
            {
                started += 1;
            }
        }
        if started == 0 {
            work();
        }
    });

    let last = match &watch {
        Some(watch) => Some(watch.snapshot()?),
        None => None,
    };
    let mut records = Vec::with_capacity(jobs.len());
    for (example, run, condition, result) in done.into_inner().expect("every worker has ended") {
        let (outcome, appeared) = result?;
        let suspects = match &last {
            Some(last) => appeared.into_iter().filter(|o| last.contains(o)).collect(),
            None => Vec::new(),
        };
        records.push(Record { example, run, condition, outcome, suspects });
    }
    records.sort_by_key(|r| (r.example, r.condition, r.run));
    Ok(records)
}

fn run_one(
    job: &Job,
    timeout: Duration,
    isolation: &Isolation,
    watch: Option<&Watch>,
) -> Result<(Outcome, Vec<Leftover>)> {
    let before = watch.map(Watch::snapshot).transpose()?;
    let mut spec = Spec {
        program: job.program.clone(),
        args: job.args.clone(),
        timeout,
        isolation: isolation.clone(),
        stdout: StdoutMode::Capture,
        limits: Limits::default(),
        stops_early: false,
        cpu: None,
        path_first: job.path_first.clone(),
        poke: None,
    };
    job.condition.apply(&mut spec, job.run);
    let outcome = runner::run(&spec);
    let appeared = match (watch, before) {
        (Some(watch), Some(before)) => watch.snapshot()?.added_since(&before),
        _ => Vec::new(),
    };
    Ok((outcome, appeared))
}
