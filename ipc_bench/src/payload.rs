//! The message every benchmark sends, and the check every receiver makes.
//!
//! A message is `size` bytes, a multiple of 8: a sequence number (u64, little-endian), a body of
//! fixed pseudo-random words, and a checksum word at the end. The receiver recomputes the
//! checksum over every word it got and compares the sequence number with the one it expects, so
//! a transport that drops, repeats, reorders, truncates or corrupts a message fails the run
//! instead of winning it.
//!
//! Stamping is O(1) (the body's share of the checksum is computed once), checking is one pass
//! over the message: the receiver reads every byte, as a real consumer would.

use std::fmt;

/// The smallest message: a sequence number and a checksum.
pub const MIN_SIZE: usize = 16;

/// Multiplier that spreads a word's position over all 64 bits, so that two words swapped
/// between positions change the checksum.
const SPREAD: u64 = 0x9E37_79B9_7F4A_7C15;

/// A message buffer, ready to be stamped with any sequence number.
pub struct Message {
    bytes: Vec<u8>,
    /// The checksum of the body words alone.
    body_sum: u64,
}

impl Message {
    /// A message of `size` bytes whose body is derived from `salt`, so that the two directions
    /// of a link carry different bodies.
    ///
    /// # Panics
    /// If `size` is not a multiple of 8 or is below [`MIN_SIZE`]: the sizes are constants.
    pub fn new(size: usize, salt: u64) -> Message {
        assert!(
            size >= MIN_SIZE && size.is_multiple_of(8),
            "message size {size} must be a multiple of 8 and at least {MIN_SIZE}"
        );
        let mut bytes = vec![0; size];
        let mut state = salt | 1;
        for word in bytes.chunks_exact_mut(8) {
            // xorshift64: cheap, deterministic, and not all zeros (which would hide a
            // transport that hands over a zeroed buffer).
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
        let body_sum = weighted_sum(&bytes[8..size - 8], 1);
        Message { bytes, body_sum }
    }

    /// Writes `seq` and the matching checksum, and returns the whole message.
    pub fn stamp(&mut self, seq: u64) -> &[u8] {
        let end = self.bytes.len();
        // Word 0 is the sequence number; its weight is `0 * SPREAD`, so it adds itself.
        let check = seq.wrapping_add(self.body_sum);
        self.bytes[..8].copy_from_slice(&seq.to_le_bytes());
        self.bytes[end - 8..].copy_from_slice(&check.to_le_bytes());
        &self.bytes
    }
}

/// Sum over the 8-byte words of `bytes` of `word ^ (position * SPREAD)`, where the first word
/// has position `first`. Wrapping adds and xors of u64 lanes vectorise with plain SSE2.
fn weighted_sum(bytes: &[u8], first: u64) -> u64 {
    let mut position = first.wrapping_mul(SPREAD);
    let mut sum = 0u64;
    for word in bytes.chunks_exact(8) {
        let word = u64::from_le_bytes(word.try_into().expect("chunks_exact(8) gives 8 bytes"));
        sum = sum.wrapping_add(word ^ position);
        position = position.wrapping_add(SPREAD);
    }
    sum
}

/// What a receiver knows of the messages it should get: their size, and the body their sender
/// stamps (derived from the sender's salt). A message with the right checksum but the other
/// direction's body is an echo of the receiver's own message, not the peer's.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    size: usize,
    body_sum: u64,
}

impl Source {
    /// Messages of `size` bytes from a sender whose `Message` was made with `salt`.
    pub fn new(size: usize, salt: u64) -> Source {
        Source { size, body_sum: Message::new(size, salt).body_sum }
    }
}

/// What a receiver found wrong with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadError {
    WrongLength { expected: usize, got: usize },
    Corrupt { seq: u64 },
    WrongSender { seq: u64 },
    OutOfOrder { expected: u64, got: u64 },
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PayloadError::WrongLength { expected, got } => {
                write!(f, "a message of {got} bytes arrived, {expected} were sent")
            }
            PayloadError::Corrupt { seq } => {
                write!(f, "message {seq} arrived with a wrong checksum: its bytes were changed")
            }
            PayloadError::WrongSender { seq } => write!(
                f,
                "message {seq} carries the receiver's own body, not its peer's: the transport \
                 handed back what this side sent"
            ),
            PayloadError::OutOfOrder { expected, got } => write!(
                f,
                "message {got} arrived where {expected} was expected: the transport lost, \
                 repeated or reordered messages"
            ),
        }
    }
}

impl std::error::Error for PayloadError {}

/// Checks a received message's length, checksum and sender, and returns its sequence number.
pub fn read(msg: &[u8], from: &Source) -> Result<u64, PayloadError> {
    let size = from.size;
    if msg.len() != size {
        return Err(PayloadError::WrongLength { expected: size, got: msg.len() });
    }
    let (words, check) = msg.split_at(size - 8);
    let seq = u64::from_le_bytes(words[..8].try_into().expect("size >= MIN_SIZE"));
    let check = u64::from_le_bytes(check.try_into().expect("split at size - 8"));
    if weighted_sum(words, 0) != check {
        return Err(PayloadError::Corrupt { seq });
    }
    // The checksum is the sequence number plus the body's sum: the body says who sent it.
    if check.wrapping_sub(seq) != from.body_sum {
        return Err(PayloadError::WrongSender { seq });
    }
    Ok(seq)
}

/// Checks a received message completely: length, checksum, sender, and that it is number
/// `expected`.
pub fn expect(msg: &[u8], from: &Source, expected: u64) -> Result<(), PayloadError> {
    match read(msg, from)? {
        got if got == expected => Ok(()),
        got => Err(PayloadError::OutOfOrder { expected, got }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamped_message_checks_out() {
        for size in [16, 64, 4096, 65536] {
            let mut msg = Message::new(size, 7);
            for seq in [0, 1, 12345, u64::MAX] {
                let from = Source::new(size, 7);
                assert_eq!(read(msg.stamp(seq), &from), Ok(seq));
                assert_eq!(expect(msg.stamp(seq), &from, seq), Ok(()));
            }
        }
    }

    #[test]
    fn the_wrong_sequence_number_is_caught() {
        let mut msg = Message::new(64, 7);
        assert_eq!(
            expect(msg.stamp(5), &Source::new(64, 7), 4),
            Err(PayloadError::OutOfOrder { expected: 4, got: 5 })
        );
    }

    #[test]
    fn a_changed_byte_is_caught_anywhere() {
        let mut msg = Message::new(128, 3);
        let good = msg.stamp(9).to_vec();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x10;
            assert!(read(&bad, &Source::new(128, 3)).is_err(), "flipped byte {i} went unnoticed");
        }
    }

    #[test]
    fn swapped_words_are_caught() {
        let mut msg = Message::new(64, 3);
        let mut bad = msg.stamp(1).to_vec();
        let (a, b) = bad.split_at_mut(24);
        a[16..24].swap_with_slice(&mut b[..8]);
        assert_eq!(read(&bad, &Source::new(64, 3)), Err(PayloadError::Corrupt { seq: 1 }));
    }

    #[test]
    fn a_zeroed_or_short_message_is_caught() {
        // All zeros has checksum 0 over words that are 0 ^ position: not 0.
        assert!(read(&[0; 64], &Source::new(64, 3)).is_err());
        let mut msg = Message::new(64, 3);
        let stamped = msg.stamp(2).to_vec();
        assert_eq!(
            read(&stamped[..56], &Source::new(64, 3)),
            Err(PayloadError::WrongLength { expected: 64, got: 56 })
        );
    }

    #[test]
    fn the_two_directions_carry_different_bodies_and_are_told_apart() {
        let mut a = Message::new(64, 1);
        let mut b = Message::new(64, 2);
        assert_ne!(a.stamp(0), b.stamp(0));
        // A's own message, handed back to A, is not B's.
        assert_eq!(
            read(a.stamp(4), &Source::new(64, 2)),
            Err(PayloadError::WrongSender { seq: 4 })
        );
        assert_eq!(read(b.stamp(4), &Source::new(64, 2)), Ok(4));
    }
}
