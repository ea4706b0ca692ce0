//! Percentiles and the units the tables print.

use std::time::Duration;

/// Median and 99th percentile of a set of round-trip times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    pub median_ns: f64,
    pub p99_ns: f64,
    pub samples: usize,
}

impl Latency {
    /// Summarises `samples` (nanoseconds), sorting them in place.
    ///
    /// # Panics
    /// If `samples` is empty: every measurement takes at least one sample.
    pub fn from_samples(samples: &mut [u64]) -> Latency {
        assert!(!samples.is_empty(), "a latency needs at least one sample");
        samples.sort_unstable();
        Latency {
            median_ns: percentile(samples, 50.0) as f64,
            p99_ns: percentile(samples, 99.0) as f64,
            samples: samples.len(),
        }
    }
}

/// Nearest-rank percentile of sorted, non-empty `sorted`: the smallest sample that at least
/// `p` percent of the samples do not exceed.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Messages moved in one direction over some time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throughput {
    pub messages: u64,
    pub size: usize,
    pub elapsed: Duration,
}

impl Throughput {
    pub fn messages_per_sec(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64()
    }

    /// Decimal megabytes (10^6 bytes) per second, as network and disk figures are given.
    pub fn mb_per_sec(&self) -> f64 {
        self.messages_per_sec() * self.size as f64 / 1e6
    }
}

/// A time in nanoseconds, with three significant digits and a unit that fits.
pub fn time(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{} ns", sig3(ns))
    } else if ns < 1_000_000.0 {
        format!("{} µs", sig3(ns / 1e3))
    } else {
        format!("{} ms", sig3(ns / 1e6))
    }
}

/// A rate per second with three significant digits and k or M.
pub fn rate(per_sec: f64) -> String {
    if per_sec < 1e3 {
        format!("{}/s", sig3(per_sec))
    } else if per_sec < 1e6 {
        format!("{} k/s", sig3(per_sec / 1e3))
    } else {
        format!("{} M/s", sig3(per_sec / 1e6))
    }
}

/// Megabytes per second, shown as MB/s or GB/s.
pub fn bandwidth(mb_per_sec: f64) -> String {
    if mb_per_sec < 1e3 {
        format!("{} MB/s", sig3(mb_per_sec))
    } else {
        format!("{} GB/s", sig3(mb_per_sec / 1e3))
    }
}

/// Three significant digits, without exponent: 0.123, 1.23, 12.3, 123, 1234.
fn sig3(x: f64) -> String {
    let decimals = if x >= 100.0 {
        0
    } else if x >= 10.0 {
        1
    } else if x >= 1.0 {
        2
    } else {
        3
    };
    format!("{x:.decimals$}")
}

/// A message size: 64 B, 4 KiB, 64 KiB.
pub fn size(bytes: usize) -> String {
    if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut samples: Vec<u64> = (1..=100).rev().collect();
        let latency = Latency::from_samples(&mut samples);
        assert_eq!(latency.median_ns, 50.0);
        assert_eq!(latency.p99_ns, 99.0);
        assert_eq!(latency.samples, 100);

        let latency = Latency::from_samples(&mut [7]);
        assert_eq!((latency.median_ns, latency.p99_ns), (7.0, 7.0));

        // One slow outlier among 1000 moves p99 only when it is among the slowest 1 %.
        let mut samples = vec![10; 1000];
        samples[0] = 1_000_000;
        let latency = Latency::from_samples(&mut samples);
        assert_eq!((latency.median_ns, latency.p99_ns), (10.0, 10.0));
        let mut samples = vec![10; 1000];
        samples[..11].fill(500);
        assert_eq!(Latency::from_samples(&mut samples).p99_ns, 500.0);
    }

    #[test]
    fn throughput_units() {
        let t = Throughput { messages: 2_000_000, size: 4096, elapsed: Duration::from_millis(500) };
        assert_eq!(t.messages_per_sec(), 4e6);
        assert_eq!(t.mb_per_sec(), 4e6 * 4096.0 / 1e6);
    }

    #[test]
    fn formatting() {
        assert_eq!(time(245.0), "245 ns");
        assert_eq!(time(12_345.0), "12.3 µs");
        assert_eq!(time(1_500.0), "1.50 µs");
        assert_eq!(time(2_500_000.0), "2.50 ms");
        assert_eq!(rate(950.0), "950/s");
        assert_eq!(rate(1_234_567.0), "1.23 M/s");
        assert_eq!(rate(45_600.0), "45.6 k/s");
        assert_eq!(bandwidth(0.5), "0.500 MB/s");
        assert_eq!(bandwidth(12_300.0), "12.3 GB/s");
        assert_eq!(size(64), "64 B");
        assert_eq!(size(4096), "4 KiB");
        assert_eq!(size(65536), "64 KiB");
    }
}
