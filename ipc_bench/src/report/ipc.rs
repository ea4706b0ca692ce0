//! The results as tables (plain text for the terminal, markdown for the file) and the checks
//! that hold each figure against its limit.

use std::fmt::Write as _;
use std::time::Duration;

use crate::links::mechanism::Mechanism;
use crate::stats::{self, Latency, Throughput};
use crate::sys::Placement;

/// Everything one run measured.
pub struct Results {
    pub machine: String,
    pub quick: bool,
    /// The command that repeats this part of the run: `cargo xtask bench`, its `--quick` and
    /// its `--only`.
    pub command: String,
    pub latency_sizes: Vec<usize>,
    pub stream_sizes: Vec<usize>,
    pub latency: Vec<LatencyCell>,
    pub throughput: Vec<ThroughputCell>,
    pub refs: References,
    /// Figures that contradicted a limit and were measured again, as first found.
    pub remeasured: Vec<String>,
    pub took: Duration,
}

pub struct LatencyCell {
    pub mechanism: Mechanism,
    pub placement: Placement,
    pub size: usize,
    pub latency: Latency,
}

pub struct ThroughputCell {
    pub mechanism: Mechanism,
    pub placement: Placement,
    pub size: usize,
    /// `Err`: why the mechanism cannot carry messages this big here.
    pub throughput: Result<Throughput, String>,
}

/// What a contradiction is about, so that it can be measured again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// `latency[i]` against the floor.
    Latency(usize),
    /// `throughput[i]` against memcpy.
    Throughput(usize),
    /// memcpy against the loop alone, which contains a memcpy, at one size.
    Limits { size: usize },
}

/// A figure that beats its limit, or a limit that contradicts another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub subject: Subject,
    pub text: String,
}

pub struct References {
    pub clock_ns: f64,
    pub memcpy: Vec<Throughput>,
    pub loop_alone: Vec<Throughput>,
    /// `None` with a single CPU.
    pub floor: Option<Latency>,
}

impl Results {
    pub fn latency_of(&self, m: Mechanism, p: Placement, size: usize) -> Option<&Latency> {
        self.latency
            .iter()
            .find(|c| c.mechanism == m && c.placement == p && c.size == size)
            .map(|c| &c.latency)
    }

    fn throughput_of(&self, m: Mechanism, p: Placement, size: usize) -> Option<&ThroughputCell> {
        self.throughput.iter().find(|c| c.mechanism == m && c.placement == p && c.size == size)
    }

    /// The placements that were measured, in table order.
    pub fn placements(&self) -> Vec<Placement> {
        Placement::ALL
            .into_iter()
            .filter(|p| self.latency.iter().any(|c| c.placement == *p))
            .collect()
    }

    /// The mechanisms that were measured, in table order.
    pub fn mechanisms(&self) -> Vec<Mechanism> {
        Mechanism::ALL
            .into_iter()
            .filter(|m| self.latency.iter().any(|c| c.mechanism == *m))
            .collect()
    }

    /// Figures that beat their limit, and limits that contradict each other. Each would mean a
    /// broken measurement, not a fast mechanism: a round trip faster than one cache line's
    /// round trip, a stream faster than copying its bytes once within one process, or a memcpy
    /// slower than the loop that contains one.
    pub fn violations(&self) -> Vec<Violation> {
        let mut found = Vec::new();
        for (i, cell) in self.latency.iter().enumerate() {
            let Some(floor) = self.refs.floor else {
                break;
            };
            if cell.latency.median_ns < floor.median_ns {
                let text = format!(
                    "{}, {}, {}: median round trip {} is below the floor {}",
                    cell.mechanism.name(),
                    cell.placement.name(),
                    stats::size(cell.size),
                    stats::time(cell.latency.median_ns),
                    stats::time(floor.median_ns)
                );
                found.push(Violation { subject: Subject::Latency(i), text });
            }
        }
        for (i, cell) in self.throughput.iter().enumerate() {
            let Ok(throughput) = cell.throughput else {
                continue;
            };
            let Some(copy) = self.refs.memcpy.iter().find(|t| t.size == cell.size) else {
                continue;
            };
            if throughput.mb_per_sec() > copy.mb_per_sec() {
                let text = format!(
                    "{}, {}, {}: {} is above memcpy's {}",
                    cell.mechanism.name(),
                    cell.placement.name(),
                    stats::size(cell.size),
                    stats::bandwidth(throughput.mb_per_sec()),
                    stats::bandwidth(copy.mb_per_sec())
                );
                found.push(Violation { subject: Subject::Throughput(i), text });
            }
        }
        for copy in &self.refs.memcpy {
            let Some(whole) = self.refs.loop_alone.iter().find(|t| t.size == copy.size) else {
                continue;
            };
            if whole.mb_per_sec() > copy.mb_per_sec() {
                found.push(Violation {
                    subject: Subject::Limits { size: copy.size },
                    text: format!(
                        "limits, {}: the loop alone ({}) is faster than the memcpy it contains \
                         ({})",
                        stats::size(copy.size),
                        stats::bandwidth(whole.mb_per_sec()),
                        stats::bandwidth(copy.mb_per_sec())
                    ),
                });
            }
        }
        found
    }

    pub fn latency_table(&self) -> Table {
        let mut headers = vec!["mechanism".to_string(), "placement".to_string()];
        for &size in &self.latency_sizes {
            headers.push(format!("{} median", stats::size(size)));
            headers.push(format!("{} p99", stats::size(size)));
        }
        let mut rows = Vec::new();
        for mechanism in self.mechanisms() {
            for placement in self.placements() {
                let mut row = vec![mechanism.name().to_string(), placement.name().to_string()];
                for &size in &self.latency_sizes {
                    match self.latency_of(mechanism, placement, size) {
                        Some(l) => {
                            row.push(stats::time(l.median_ns));
                            row.push(stats::time(l.p99_ns));
                        }
                        None => row.extend(["n/a".to_string(), "n/a".to_string()]),
                    }
                }
                rows.push(row);
            }
        }
        Table {
            title: "Round trip (ping-pong), parent and forked child".to_string(),
            headers,
            rows,
        }
    }

    pub fn throughput_table(&self) -> Table {
        let mut headers = vec!["mechanism".to_string(), "placement".to_string()];
        headers.extend(self.stream_sizes.iter().map(|&s| stats::size(s)));
        let mut rows = Vec::new();
        for mechanism in self.mechanisms() {
            for placement in self.placements() {
                let mut row = vec![mechanism.name().to_string(), placement.name().to_string()];
                for &size in &self.stream_sizes {
                    row.push(match self.throughput_of(mechanism, placement, size) {
                        Some(ThroughputCell { throughput: Ok(t), .. }) => throughput_text(t),
                        Some(ThroughputCell { throughput: Err(why), .. }) => why.clone(),
                        None => "n/a".to_string(),
                    });
                }
                rows.push(row);
            }
        }
        Table {
            title: "One-way stream, child to parent: messages/s and MB/s".to_string(),
            headers,
            rows,
        }
    }

    pub fn reference_table(&self) -> Table {
        let sizes = &self.stream_sizes;
        let mut headers = vec!["reference (same run)".to_string()];
        headers.extend(sizes.iter().map(|&s| stats::size(s)));
        let per_size = |name: &str, list: &[Throughput]| {
            let mut row = vec![name.to_string()];
            for &size in sizes {
                row.push(
                    list.iter().find(|t| t.size == size).map_or("n/a".to_string(), throughput_text),
                );
            }
            row
        };
        let mut floor_row = vec!["floor: one cache line's round trip, different cores".to_string()];
        floor_row.push(match self.refs.floor {
            Some(floor) => format!(
                "median {}, p99 {}",
                stats::time(floor.median_ns),
                stats::time(floor.p99_ns)
            ),
            None => "n/a: needs two CPUs".to_string(),
        });
        let mut clock_row = vec!["clock: one Instant::now()".to_string()];
        clock_row.push(stats::time(self.refs.clock_ns));
        for row in [&mut floor_row, &mut clock_row] {
            row.resize(headers.len(), String::new());
        }
        Table {
            title: "Limits, measured in the same run".to_string(),
            headers,
            rows: vec![
                per_size("memcpy, one copy in cache", &self.refs.memcpy),
                per_size("the loop alone: stamp, copy, check, no IPC", &self.refs.loop_alone),
                floor_row,
                clock_row,
            ],
        }
    }

    /// The whole report as markdown.
    pub fn markdown(&self, chart_file: &str) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# IPC benchmark\n");
        let _ = writeln!(
            md,
            "Machine: {}. Mode: {}. Took {:.1} s. Produced by `{}`.\n",
            self.machine,
            if self.quick { "quick (rough figures)" } else { "full" },
            self.took.as_secs_f64(),
            self.command
        );
        for table in [self.latency_table(), self.throughput_table(), self.reference_table()] {
            md.push_str(&table.markdown());
            md.push('\n');
        }
        let _ = writeln!(md, "![Round-trip latency]({chart_file})\n");
        md.push_str("How each mechanism is used:\n\n");
        for mechanism in self.mechanisms() {
            let _ = writeln!(md, "- **{}**: {}", mechanism.name(), mechanism.how());
        }
        md.push('\n');
        md.push_str(&self.checks_text());
        md
    }

    /// The checks' outcome, one paragraph.
    pub fn checks_text(&self) -> String {
        let violations = self.violations();
        let mut text = String::new();
        if violations.is_empty() {
            let round_trips = match self.refs.floor {
                Some(_) => format!("all {} round trips at or above the floor", self.latency.len()),
                None => "round trips not checked (no floor on one CPU)".to_string(),
            };
            let _ = writeln!(
                text,
                "Checks: every message's sequence number, checksum and sender verified; \
                 {round_trips}, all {} streams at or below memcpy, memcpy at least as fast as \
                 the loop that contains it.",
                self.throughput.iter().filter(|c| c.throughput.is_ok()).count()
            );
        } else {
            text.push_str(
                "FAILED: these figures contradict their limit, measured twice, so the run \
                 measured nothing trustworthy:\n",
            );
            for v in violations {
                let _ = writeln!(text, "- {}", v.text);
            }
        }
        if !self.remeasured.is_empty() {
            let _ = writeln!(
                text,
                "Measured twice, with their limit, because the first measurement contradicted it:"
            );
            for r in &self.remeasured {
                let _ = writeln!(text, "- {r}");
            }
        }
        text
    }
}

fn throughput_text(t: &Throughput) -> String {
    format!("{}, {}", stats::rate(t.messages_per_sec()), stats::bandwidth(t.mb_per_sec()))
}

/// A table with a title; the first columns are names, the rest are figures.
pub struct Table {
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Leading columns that hold names (left-aligned); the others are right-aligned.
    fn name_columns(&self) -> usize {
        if self.headers.first().is_some_and(|h| h == "mechanism") { 2 } else { 1 }
    }

    pub fn text(&self) -> String {
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|i| {
                std::iter::once(&self.headers[i])
                    .chain(self.rows.iter().map(|r| &r[i]))
                    .map(|cell| cell.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let names = self.name_columns();
        let line = |cells: &[String]| {
            let mut out = String::new();
            for (i, cell) in cells.iter().enumerate() {
                let pad = " ".repeat(widths[i] - cell.chars().count());
                if i > 0 {
                    out.push_str("  ");
                }
                if i < names {
                    out.push_str(cell);
                    out.push_str(&pad);
                } else {
                    out.push_str(&pad);
                    out.push_str(cell);
                }
            }
            out.trim_end().to_string()
        };
        let mut out = format!("{}\n", self.title);
        out.push_str(&line(&self.headers));
        out.push('\n');
        let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
        out.push_str(&line(&rule));
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row));
            out.push('\n');
        }
        out
    }

    pub fn markdown(&self) -> String {
        let names = self.name_columns();
        let mut out = format!("**{}**\n\n", self.title);
        let _ = writeln!(out, "| {} |", self.headers.join(" | "));
        let align: Vec<&str> =
            (0..self.headers.len()).map(|i| if i < names { "---" } else { "---:" }).collect();
        let _ = writeln!(out, "|{}|", align.join("|"));
        for row in &self.rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            title: "T".to_string(),
            headers: vec!["mechanism".into(), "placement".into(), "64 B".into()],
            rows: vec![
                vec!["pipe".into(), "unpinned".into(), "12.3 µs".into()],
                vec!["shm + spin".into(), "same core".into(), "245 ns".into()],
            ],
        }
    }

    #[test]
    fn text_aligns_names_left_and_figures_right() {
        assert_eq!(
            table().text(),
            "T\n\
             mechanism   placement     64 B\n\
             ----------  ---------  -------\n\
             pipe        unpinned   12.3 µs\n\
             shm + spin  same core   245 ns\n"
        );
    }

    #[test]
    fn markdown_right_aligns_figures() {
        assert_eq!(
            table().markdown(),
            "**T**\n\n\
             | mechanism | placement | 64 B |\n\
             |---|---|---:|\n\
             | pipe | unpinned | 12.3 µs |\n\
             | shm + spin | same core | 245 ns |\n"
        );
    }

    fn results(median_ns: f64, mb_per_sec: f64) -> Results {
        let latency = |median_ns| Latency { median_ns, p99_ns: median_ns * 2.0, samples: 1000 };
        let per_sec = |mb: f64| Throughput {
            messages: (mb * 1e6 / 64.0) as u64,
            size: 64,
            elapsed: Duration::from_secs(1),
        };
        Results {
            machine: "test".to_string(),
            quick: true,
            command: "cargo xtask bench --quick".to_string(),
            latency_sizes: vec![64],
            stream_sizes: vec![64],
            latency: vec![LatencyCell {
                mechanism: Mechanism::Pipe,
                placement: Placement::Unpinned,
                size: 64,
                latency: latency(median_ns),
            }],
            throughput: vec![ThroughputCell {
                mechanism: Mechanism::Pipe,
                placement: Placement::Unpinned,
                size: 64,
                throughput: Ok(per_sec(mb_per_sec)),
            }],
            refs: References {
                clock_ns: 20.0,
                memcpy: vec![per_sec(10_000.0)],
                loop_alone: vec![per_sec(5_000.0)],
                floor: Some(latency(200.0)),
            },
            remeasured: Vec::new(),
            took: Duration::from_secs(1),
        }
    }

    #[test]
    fn figures_within_their_limits_pass() {
        let r = results(5_000.0, 100.0);
        assert!(r.violations().is_empty());
        assert!(r.checks_text().starts_with("Checks: "));
    }

    #[test]
    fn a_round_trip_below_the_floor_is_reported() {
        let v = results(150.0, 100.0).violations();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].subject, Subject::Latency(0));
        assert!(v[0].text.contains("below the floor"), "{v:?}");
    }

    #[test]
    fn without_a_floor_round_trips_go_unchecked_and_say_so() {
        let mut r = results(150.0, 100.0);
        r.refs.floor = None;
        assert!(r.violations().is_empty());
        assert!(r.checks_text().contains("round trips not checked"));
    }

    #[test]
    fn a_stream_above_memcpy_is_reported() {
        let r = results(5_000.0, 20_000.0);
        let v = r.violations();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].subject, Subject::Throughput(0));
        assert!(v[0].text.contains("above memcpy"), "{v:?}");
        assert!(r.checks_text().starts_with("FAILED"));
    }

    #[test]
    fn a_memcpy_slower_than_the_loop_that_contains_it_is_reported() {
        let mut r = results(5_000.0, 100.0);
        r.refs.loop_alone = vec![Throughput {
            messages: (20_000.0 * 1e6 / 64.0) as u64,
            size: 64,
            elapsed: Duration::from_secs(1),
        }];
        let v = r.violations();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].subject, Subject::Limits { size: 64 });
        assert!(v[0].text.contains("faster than the memcpy it contains"), "{v:?}");
    }

    #[test]
    fn a_mechanism_that_cannot_carry_a_size_says_why() {
        let mut r = results(5_000.0, 100.0);
        r.throughput[0].throughput = Err("too big for this".to_string());
        assert!(r.throughput_table().text().contains("too big for this"));
        assert!(r.violations().is_empty());
    }
}
