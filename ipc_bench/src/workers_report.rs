//! "Threads or processes?": the workers part's results as tables (terminal and markdown) and a
//! chart of memory per worker against the number of workers.

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;

use crate::report::Table;
use crate::stats::{self, Latency, Throughput};
use crate::sys::Placement;
use crate::workers::{CpuBound, Kind, MemoryRow, Runner, StartCosts};

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
        vec![
            self.start_table(),
            self.memory_table(),
            self.handoff_table(),
            self.cpu_table(),
        ]
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
                format!(
                    "forked process, parent with {} touched",
                    stats::size(*bytes)
                ),
                l,
            ));
        }
        Table {
            title: "Start and finish one worker (start, run nothing, wait for it; unpinned)"
                .to_string(),
            headers: ["worker", "median", "p99", "runs"]
                .map(String::from)
                .to_vec(),
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
            let row = |workers| {
                self.cpu
                    .rows
                    .iter()
                    .find(|r| r.runner == runner && r.workers == workers)
            };
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
                format!(
                    "{:.2}x",
                    one.median().as_secs_f64() / two.median().as_secs_f64()
                ),
            ]);
        }
        Table {
            title: format!(
                "CPU-bound job (sum of i*i % 1000003; Rust n = {}, Python n = {}; unpinned): \
                 median time (min–max) and speed-up of two workers",
                self.cpu.rust_n, self.cpu.python_n
            ),
            headers: ["who", "1 worker", "2 workers", "speed-up"]
                .map(String::from)
                .to_vec(),
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

fn latency_row(name: String, l: &Latency) -> Vec<String> {
    vec![
        name,
        stats::time(l.median_ns),
        stats::time(l.p99_ns),
        l.samples.to_string(),
    ]
}

fn kib(k: f64) -> String {
    if k >= 1024.0 {
        format!("{:.1} MiB", k / 1024.0)
    } else {
        format!("{k:.0} KiB")
    }
}

fn ms(d: std::time::Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// Memory per worker (PSS) against the number of workers, one line per kind, log scales.
pub fn memory_svg(results: &WorkersResults, machine: &str, path: &Path) -> crate::Result<()> {
    let root = SVGBackend::new(path, (620, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let counts: Vec<usize> = {
        let mut c: Vec<usize> = results.memory.iter().map(|m| m.workers).collect();
        c.sort_unstable();
        c.dedup();
        c
    };
    let max_kib = results.memory.iter().map(|m| m.pss_kib).fold(1.0, f64::max);
    let min_kib = results
        .memory
        .iter()
        .map(|m| m.pss_kib)
        .fold(f64::MAX, f64::min)
        .max(1.0);
    let x_max = *counts.last().unwrap_or(&1) as f64 * 2.0;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Memory per idle worker, PSS ({machine})"),
            ("sans-serif", 15),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (0.7f64..x_max).log_scale(),
            (min_kib / 4.0..max_kib * 40.0).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("workers")
        .y_desc("KiB per worker (log scale)")
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    const COLORS: [RGBColor; 3] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
    ];
    for (k, kind) in Kind::ALL.into_iter().enumerate() {
        let color = COLORS[k];
        let points: Vec<(f64, f64)> = results
            .memory
            .iter()
            .filter(|m| m.kind == kind)
            .map(|m| (m.workers as f64, m.pss_kib.max(min_kib / 4.0)))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(kind.name())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
