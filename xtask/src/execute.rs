//! Running many example runs in parallel and collecting their outcomes.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::ipc_objects::Watch;
use crate::runner::{self, Leftover, Outcome, Spec};

/// One run of one example.
pub struct Job {
    /// Index into the caller's list of examples.
    pub example: usize,
    /// 1-based.
    pub run: u32,
    pub binary: PathBuf,
}

pub struct Record {
    pub example: usize,
    pub run: u32,
    pub outcome: Outcome,
}

/// Runs every job, at most `workers` at a time, and returns the records in job order.
///
/// IPC objects that appeared during a run and still exist after the last run are added to that
/// run's leftovers and then removed (see [`crate::ipc_objects`]).
pub fn run_all(
    jobs: Vec<Job>,
    workers: usize,
    timeout: Duration,
    watch: &Watch,
) -> Result<Vec<Record>> {
    runner::become_subreaper().context("cannot become the reaper of the examples' orphans")?;
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    thread::scope(|scope| {
        for _ in 0..workers.clamp(1, jobs.len().max(1)) {
            let tx = tx.clone();
            let (jobs, next) = (&jobs, &next);
            scope.spawn(move || {
                while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let result = run_one(job, timeout, watch);
                    if tx.send((job.example, job.run, result)).is_err() {
                        return;
                    }
                }
            });
        }
    });
    drop(tx);
    let mut records = Vec::with_capacity(jobs.len());
    let mut appeared_in = Vec::with_capacity(jobs.len());
    for (example, run, result) in rx {
        let (outcome, appeared) = result?;
        records.push(Record {
            example,
            run,
            outcome,
        });
        appeared_in.push(appeared);
    }

    let last = watch.snapshot()?;
    let mut removed: Vec<Leftover> = Vec::new();
    for (record, appeared) in records.iter_mut().zip(appeared_in) {
        for object in appeared.into_iter().filter(|o| last.contains(o)) {
            if !removed.contains(&object) {
                watch.remove(&object)?;
                removed.push(object.clone());
            }
            record.outcome.leftovers.push(object);
        }
    }
    records.sort_by_key(|r| (r.example, r.run));
    Ok(records)
}

fn run_one(job: &Job, timeout: Duration, watch: &Watch) -> Result<(Outcome, Vec<Leftover>)> {
    let before = watch.snapshot()?;
    let outcome = runner::run(&Spec {
        program: job.binary.clone(),
        args: Vec::new(),
        timeout,
    })
    .with_context(|| format!("cannot run {}", job.binary.display()))?;
    let appeared = watch.snapshot()?.added_since(&before);
    Ok((outcome, appeared))
}
