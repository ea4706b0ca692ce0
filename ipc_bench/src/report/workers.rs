//! "Threads or processes?": the workers part's results as tables (terminal and markdown) and a
//! chart of memory per worker against the number of workers.

use std::fmt::Write as _;

use crate::report::ipc::Table;
use crate::stats::{self, Latency, Throughput};
use crate::sys::Placement;
use crate::workers::{CpuBound, MemoryRow, Runner, StartCosts};

/// One hand-off measurement: a link between two threads or two processes.
pub struct HandoffCell {
    pub link: &'static str,
    pub placement: Placement,
    pub size: usize,
    pub round_trip: Latency,
    pub stream: Throughput,
}

pub struct WorkersResults {
    pub start: StartCosts,
    pub memory: Vec<MemoryRow>,
    pub handoff: Vec<HandoffCell>,
    pub cpu: CpuBound,
}

impl WorkersResults {
    pub fn tables(&self) -> Vec<Table> {
        vec![self.start_table(), self.memory_table(), self.handoff_table(), self.cpu_table()]
    }

    fn start_table(&self) -> Table {
        let mut rows: Vec<Vec<String>> = self
            .start
            .per_kind
            .iter()
            .map(|(kind, l)| latency_row(kind.name().to_string(), l))
            .collect();
        for (bytes, l) in &self.start.fork_with_memory {
            rows.push(latency_row(
                format!("forked process, parent with {} touched", stats::size(*bytes)),
                l,
            ));
        }
        Table {
            title: "Start and finish one worker (start, run nothing, wait for it; unpinned)"
                .to_string(),
            headers: ["worker", "median", "p99", "runs"].map(String::from).to_vec(),
            rows,
        }
    }

    fn memory_table(&self) -> Table {
        Table {
            title: "Memory per idle worker, from /proc/PID/smaps_rollup (the parent's growth \
                    included; unpinned)"
                .to_string(),
            headers: ["worker", "workers", "PSS per worker", "RSS per worker"]
                .map(String::from)
                .to_vec(),
            rows: self
                .memory
                .iter()
                .map(|m| {
                    vec![
                        m.kind.name().to_string(),
                        m.workers.to_string(),
                        kib(m.pss_kib),
                        kib(m.rss_kib),
                    ]
                })
                .collect(),
        }
    }

    fn handoff_table(&self) -> Table {
        let mut headers = vec!["link".to_string(), "placement".to_string()];
        let sizes = self.sizes();
        for &size in &sizes {
            headers.push(format!("round trip {}", stats::size(size)));
        }
        for &size in &sizes {
            headers.push(format!("stream {}", stats::size(size)));
        }
        let mut rows = Vec::new();
        let mut keys: Vec<(&str, Placement)> = Vec::new();
        for c in &self.handoff {
            if !keys.contains(&(c.link, c.placement)) {
                keys.push((c.link, c.placement));
            }
        }
        for (link, placement) in keys {
            let cell = |size| {
                self.handoff
                    .iter()
                    .find(|c| c.link == link && c.placement == placement && c.size == size)
            };
            let mut row = vec![link.to_string(), placement.name().to_string()];
            for &size in &sizes {
                row.push(cell(size).map_or("n/a".into(), |c| stats::time(c.round_trip.median_ns)));
            }
            for &size in &sizes {
                row.push(
                    cell(size).map_or("n/a".into(), |c| stats::rate(c.stream.messages_per_sec())),
                );
            }
            rows.push(row);
        }
        Table {
            title: "Hand-off: round trip (median) and stream (messages/s), threads against \
                    processes"
                .to_string(),
            headers,
            rows,
        }
    }

    fn sizes(&self) -> Vec<usize> {
        let mut sizes: Vec<usize> = self.handoff.iter().map(|c| c.size).collect();
        sizes.sort_unstable();
        sizes.dedup();
        sizes
    }

    fn cpu_table(&self) -> Table {
        let mut rows = Vec::new();
        let runners = [
            Runner::RustThreads,
            Runner::RustProcesses,
            Runner::PythonThreading,
            Runner::PythonMultiprocessing,
        ];
        for runner in runners {
            let row =
                |workers| self.cpu.rows.iter().find(|r| r.runner == runner && r.workers == workers);
            let (Some(one), Some(two)) = (row(1), row(2)) else {
                continue;
            };
            let spread = |r: &crate::workers::CpuRow| {
                format!(
                    "{} ({}–{})",
                    ms(r.median()),
                    ms(r.times[0]),
                    ms(*r.times.last().expect("at least one run"))
                )
            };
            rows.push(vec![
                runner.name().to_string(),
                spread(one),
                spread(two),
                format!("{:.2}x", one.median().as_secs_f64() / two.median().as_secs_f64()),
            ]);
        }
        Table {
            title: format!(
                "CPU-bound job (sum of i*i % 1000003; Rust n = {}, Python n = {}; unpinned): \
                 median time (min–max) and speed-up of two workers",
                self.cpu.rust_n, self.cpu.python_n
            ),
            headers: ["who", "1 worker", "2 workers", "speed-up"].map(String::from).to_vec(),
            rows,
        }
    }

    pub fn notes(&self) -> String {
        let mut text = String::new();
        if let Some(note) = &self.cpu.python_note {
            let _ = writeln!(text, "Python: {note}.");
        }
        text
    }
}

pub fn latency_row(name: String, l: &Latency) -> Vec<String> {
    vec![name, stats::time(l.median_ns), stats::time(l.p99_ns), l.samples.to_string()]
}

/// A memory figure. The figure is a difference (what the workers and the parent hold after,
/// less what the parent held before), so the parent freeing memory meanwhile can make it
/// negative: that is noise larger than the figure, and is said so, not shown as a size.
fn kib(k: f64) -> String {
    if k < 0.0 {
        format!("below the noise ({k:.0} KiB measured)")
    } else if k >= 1024.0 {
        format!("{:.1} MiB", k / 1024.0)
    } else {
        format!("{k:.0} KiB")
    }
}

fn ms(d: std::time::Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_negative_difference_is_noise_not_a_size() {
        assert_eq!(super::kib(-73.0), "below the noise (-73 KiB measured)");
        assert_eq!(super::kib(115.0), "115 KiB");
        assert_eq!(super::kib(2662.4), "2.6 MiB");
    }
}
