//! A small seeded random number generator for the simulators.
//!
//! Simulated faults, generated devices and identifiers come from one seed so a run can be
//! reproduced (`--seed`). This is SplitMix64: fast, tiny, statistically fine for test data,
//! and **not** cryptographic — nothing a simulator draws from it protects anything. Must not
//! be used for real secrets (those come from [`crate::crypto::random_bytes`]).

/// SplitMix64 (Steele, Lea, Flood 2014): a 64-bit state advanced by a Weyl sequence.
#[derive(Clone, Debug)]
pub struct SimRng {
    state: u64,
}

impl SimRng {
    pub fn new(seed: u64) -> Self {
        SimRng { state: seed }
    }

    /// The generator's whole state: `SimRng::new(state)` continues the same sequence (a
    /// simulator saved to disk draws on where it left off).
    pub fn state(&self) -> u64 {
        self.state
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// A uniform value in `0..n` (`n` > 0; 0 gives 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Multiply-shift (Lemire) keeps the bias negligible for the small ranges used here.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A uniform value in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p` (clamped to `[0, 1]`); never draws when `p` is 0 or 1, so
    /// switching a fault off does not change the sequence other decisions see.
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            false
        } else if p >= 1.0 {
            true
        } else {
            self.unit() < p
        }
    }

    /// `N` bytes as upper-case hex.
    pub fn hex_upper(&mut self, bytes: usize) -> String {
        let mut out = String::with_capacity(bytes * 2);
        while out.len() < bytes * 2 {
            for b in self.next_u64().to_be_bytes() {
                if out.len() < bytes * 2 {
                    out.push_str(&format!("{b:02X}"));
                }
            }
        }
        out
    }
}

/// The SplitMix64 output function; also a good 64-bit hash for deriving per-item values.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let mut a = SimRng::new(42);
        let mut b = SimRng::new(42);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(SimRng::new(43).next_u64(), xs[0]);
    }

    #[test]
    fn below_stays_in_range_and_unit_below_one() {
        let mut r = SimRng::new(7);
        for _ in 0..10_000 {
            assert!(r.below(10) < 10);
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
        assert_eq!(r.below(0), 0);
    }

    #[test]
    fn chance_extremes_do_not_draw() {
        let mut r = SimRng::new(1);
        let before = r.clone().next_u64();
        assert!(!r.chance(0.0));
        assert!(r.chance(1.0));
        assert_eq!(r.next_u64(), before);
    }

    #[test]
    fn hex_upper_has_the_asked_length() {
        let mut r = SimRng::new(3);
        let h = r.hex_upper(16);
        assert_eq!(h.len(), 32);
        assert!(h.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
    }
}
