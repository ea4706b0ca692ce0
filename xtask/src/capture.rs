//! Reading an example's output with bounded memory: keep the first bytes, count the rest.
//!
//! An example stuck in a print loop writes millions of lines before the timeout kills it. All of
//! it is read, so that the example is reported for what it did (runaway output) rather than as
//! blocked on a full pipe, but only [`KEEP`] bytes of each stream are stored.

use std::io::{self, Read};

/// Bytes of each stream kept for comparison and reports.
pub const KEEP: usize = 4 << 20;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Captured {
    /// The first [`KEEP`] bytes at most.
    pub bytes: Vec<u8>,
    /// How many bytes came after those and were dropped.
    pub dropped: u64,
}

/// Reads `reader` to its end, keeping at most `keep` bytes.
pub fn read_bounded(reader: &mut impl Read, keep: usize) -> io::Result<Captured> {
    let mut captured = Captured::default();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => return Ok(captured),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let room = keep.saturating_sub(captured.bytes.len()).min(n);
        captured.bytes.extend_from_slice(&chunk[..room]);
        captured.dropped += (n - room) as u64;
    }
}

/// A byte count for people: `812 bytes`, `3.2 MiB`.
pub fn size(bytes: u64) -> String {
    const MIB: f64 = (1u64 << 20) as f64;
    if bytes < 1 << 20 {
        format!("{bytes} bytes")
    } else {
        format!("{:.1} MiB", bytes as f64 / MIB)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_start_and_counts_the_rest() {
        let data = vec![b'x'; 1000];
        let c = read_bounded(&mut &data[..], 300).unwrap();
        assert_eq!(c.bytes.len(), 300);
        assert_eq!(c.dropped, 700);
        let c = read_bounded(&mut &data[..], 5000).unwrap();
        assert_eq!(c.bytes.len(), 1000);
        assert_eq!(c.dropped, 0);
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(size(812), "812 bytes");
        assert_eq!(size(200 << 20), "200.0 MiB");
    }
}
