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

/// Reads `reader` until `lines` newlines have come (keeping those lines), or to its end, and
/// then stops reading: dropping the reader is what a closed stdout (`| head`) looks like to
/// the writer.
pub fn read_lines_then_close(reader: &mut impl Read, lines: usize) -> io::Result<Captured> {
    let mut captured = Captured::default();
    let mut byte = [0u8; 1];
    let mut seen = 0;
    // One byte at a time: `head` too reads no further than it needs to decide, and the lines
    // wanted here are a handful.
    while seen < lines {
        match reader.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => {
                captured.bytes.push(byte[0]);
                seen += usize::from(byte[0] == b'\n');
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(captured)
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
    fn stops_after_the_lines_asked_for() {
        let c = read_lines_then_close(&mut &b"one\ntwo\nthree\n"[..], 2).unwrap();
        assert_eq!(c.bytes, b"one\ntwo\n");
        let c = read_lines_then_close(&mut &b"one"[..], 2).unwrap();
        assert_eq!(c.bytes, b"one");
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(size(812), "812 bytes");
        assert_eq!(size(200 << 20), "200.0 MiB");
    }
}
