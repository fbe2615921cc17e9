//! Replay and sequence detection for received per-message tokens (RFC 2743 §1.2.3), with
//! the semantics of MIT krb5 1.20's `g_seqstate_check` (util_seqstate.c; behaviour checked
//! against the disassembly of the installed libgssapi_krb5.so.2): sequence numbers are
//! taken relative to the peer's initial number (so wrap-around needs no special case), a
//! 64-entry bitmap remembers what was received below the highest number seen, and the
//! result is a set of supplementary status bits, never an error.
//!
//! One deliberate difference: MIT shifts its bitmap by `gap + 1` bits in C, which is
//! undefined (and on x86 taken modulo 64) for gaps of 63 or more; we clear the bitmap
//! instead, which is what the shift means.

use crate::error::major;

/// Replay detection covers the highest sequence number seen and the 63 below it.
const WINDOW: u64 = 64;

#[derive(Clone, Debug)]
pub struct SeqState {
    replay_detect: bool,
    sequence: bool,
    /// `u32::MAX` for 32-bit sequence numbers (RFC 1964 tokens), `u64::MAX` for RFC 4121.
    mask: u64,
    /// The peer's initial sequence number; everything is stored relative to it.
    base: u64,
    /// One more than the highest relative number seen (0 before any token).
    next: u64,
    /// Bit `i - 1` set: relative number `next - i` was received (bit 0 = `next - 1`).
    received: u64,
}

impl SeqState {
    /// `initial` is the peer's initial sequence number; `wide` selects 64-bit numbers.
    pub fn new(initial: u64, replay_detect: bool, sequence: bool, wide: bool) -> SeqState {
        let mask = if wide { u64::MAX } else { u64::from(u32::MAX) };
        SeqState {
            replay_detect,
            sequence,
            mask,
            base: initial & mask,
            next: 0,
            received: 0,
        }
    }

    /// Records a received (already authenticated) sequence number and returns the
    /// supplementary bits: 0, `DUPLICATE_TOKEN`, `OLD_TOKEN`, `UNSEQ_TOKEN` or `GAP_TOKEN`.
    pub fn check(&mut self, seqnum: u64) -> u32 {
        if !self.replay_detect && !self.sequence {
            return major::COMPLETE;
        }
        let rel = seqnum.wrapping_sub(self.base) & self.mask;
        if rel >= self.next {
            // Expected or in the future: slide the window up to `rel`.
            let gap = rel - self.next;
            self.received = match gap.checked_add(1).and_then(|s| u32::try_from(s).ok()) {
                Some(shift) if shift < 64 => self.received << shift,
                _ => 0,
            } | 1;
            self.next = rel.wrapping_add(1) & self.mask;
            return if gap > 0 && self.sequence {
                major::GAP_TOKEN
            } else {
                major::COMPLETE
            };
        }
        // In the past.
        let age = self.next - rel;
        if age > WINDOW {
            return if self.sequence {
                major::UNSEQ_TOKEN
            } else {
                major::OLD_TOKEN
            };
        }
        let bit = 1u64 << (age - 1);
        if self.replay_detect && self.received & bit != 0 {
            return major::DUPLICATE_TOKEN;
        }
        self.received |= bit;
        if self.sequence {
            major::UNSEQ_TOKEN
        } else {
            major::COMPLETE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOERR: u32 = major::COMPLETE;
    const GAP: u32 = major::GAP_TOKEN;
    const UNSEQ: u32 = major::UNSEQ_TOKEN;
    const OLD: u32 = major::OLD_TOKEN;
    const REPLAY: u32 = major::DUPLICATE_TOKEN;

    /// (initial, replay, sequence, widths to run, [(seqnum, expected)]).
    type Case = (u64, bool, bool, &'static [bool], &'static [(u64, u32)]);

    const BOTH: &[bool] = &[false, true];
    const NARROW: &[bool] = &[false];
    const WIDE: &[bool] = &[true];
    const U32: u64 = u32::MAX as u64;

    // The scenarios of MIT's t_seqstate.c, with results as the 1.20 library computes
    // them (for "sequence without replay", a repeat is UNSEQ, not DUPLICATE).
    const CASES: &[Case] = &[
        (
            10,
            false,
            false,
            BOTH,
            &[(11, NOERR), (10, NOERR), (10, NOERR), (9, NOERR)],
        ),
        (
            100,
            false,
            true,
            BOTH,
            &[(100, NOERR), (102, GAP), (103, NOERR), (101, UNSEQ)],
        ),
        (
            200,
            false,
            true,
            BOTH,
            &[(201, GAP), (202, NOERR), (200, UNSEQ), (203, NOERR)],
        ),
        (
            U32 - 1,
            false,
            true,
            NARROW,
            &[(U32 - 1, NOERR), (U32, NOERR), (0, NOERR), (1, NOERR)],
        ),
        (
            U32 - 1,
            false,
            true,
            NARROW,
            &[(U32 - 1, NOERR), (0, GAP), (U32, UNSEQ), (1, NOERR)],
        ),
        (
            u64::MAX - 1,
            false,
            true,
            WIDE,
            &[
                (u64::MAX - 1, NOERR),
                (u64::MAX, NOERR),
                (0, NOERR),
                (1, NOERR),
            ],
        ),
        (
            u64::MAX - 1,
            false,
            true,
            WIDE,
            &[
                (u64::MAX - 1, NOERR),
                (0, GAP),
                (u64::MAX, UNSEQ),
                (1, NOERR),
            ],
        ),
        (
            U32 - 1,
            false,
            true,
            WIDE,
            &[
                (U32 - 1, NOERR),
                (U32, NOERR),
                (U32 + 1, NOERR),
                (U32 + 2, NOERR),
            ],
        ),
        (
            U32 - 1,
            false,
            true,
            WIDE,
            &[
                (U32 - 1, NOERR),
                (U32 + 1, GAP),
                (U32, UNSEQ),
                (U32 + 2, NOERR),
            ],
        ),
        (
            U32 - 1,
            false,
            true,
            WIDE,
            &[(U32 - 1, NOERR), (U32, NOERR), (0, GAP)],
        ),
        (250, false, true, BOTH, &[(250, NOERR), (250, UNSEQ)]),
        (
            0,
            true,
            true,
            BOTH,
            &[
                (5, GAP),
                (3, UNSEQ),
                (8, GAP),
                (3, REPLAY),
                (0, UNSEQ),
                (0, REPLAY),
                (5, REPLAY),
                (3, REPLAY),
                (8, REPLAY),
                (9, NOERR),
            ],
        ),
        (
            0,
            true,
            false,
            BOTH,
            &[
                (5, NOERR),
                (3, NOERR),
                (8, NOERR),
                (3, REPLAY),
                (0, NOERR),
                (0, REPLAY),
                (5, REPLAY),
                (3, REPLAY),
                (8, REPLAY),
                (9, NOERR),
            ],
        ),
        (
            u64::MAX - 5,
            true,
            true,
            WIDE,
            &[
                (u64::MAX, GAP),
                (u64::MAX - 2, UNSEQ),
                (0, NOERR),
                (u64::MAX, REPLAY),
                (u64::MAX, REPLAY),
                (2, GAP),
                (0, REPLAY),
                (1, UNSEQ),
                (u64::MAX - 2, REPLAY),
                (u64::MAX - 6, GAP),
            ],
        ),
        (
            U32 - 5,
            true,
            true,
            NARROW,
            &[
                (U32, GAP),
                (U32 - 2, UNSEQ),
                (0, NOERR),
                (U32, REPLAY),
                (U32, REPLAY),
                (2, GAP),
                (0, REPLAY),
                (1, UNSEQ),
                (U32 - 2, REPLAY),
                (U32 - 6, GAP),
            ],
        ),
    ];

    #[test]
    fn mit_scenarios() {
        for (i, (initial, replay, sequence, widths, seqs)) in CASES.iter().enumerate() {
            for &wide in *widths {
                let mut s = SeqState::new(*initial, *replay, *sequence, wide);
                for (j, (seq, want)) in seqs.iter().enumerate() {
                    assert_eq!(s.check(*seq), *want, "case {i} seq {j} wide {wide}");
                }
            }
        }
    }

    #[test]
    fn window_edges() {
        // Replay only: the window is the highest number seen and the 63 below it.
        let mut s = SeqState::new(1000, true, false, true);
        assert_eq!(s.check(1100), NOERR);
        assert_eq!(s.check(1100 - 63), NOERR);
        assert_eq!(s.check(1100 - 63), REPLAY);
        assert_eq!(s.check(1100 - 64), OLD);
        assert_eq!(s.check(1100 - 64), OLD);
        // With sequencing, too old is UNSEQ.
        let mut s = SeqState::new(0, true, true, true);
        assert_eq!(s.check(0), NOERR);
        assert_eq!(s.check(200), GAP);
        assert_eq!(s.check(0), UNSEQ);
        // A gap of exactly 63 / 64 / huge must forget the old bitmap.
        for gap in [63u64, 64, 65, 1 << 40] {
            let mut s = SeqState::new(0, true, false, true);
            for n in 0..64 {
                assert_eq!(s.check(n), NOERR);
            }
            let top = 63 + gap + 1;
            assert_eq!(s.check(top), NOERR);
            // top - 1 was never received; MIT's x86 shift would keep stale bits here.
            assert_eq!(s.check(top - 1), NOERR, "gap {gap}");
            assert_eq!(s.check(top - 1), REPLAY, "gap {gap}");
        }
    }
}
