//! A small deterministic mutator for the bounded fuzz run in the test suite.
//!
//! From a seed corpus and a [`SimRng`] seed it makes inputs by stacking one to four edits: bit
//! flips, "interesting" bytes, truncation, range deletion and duplication, splices with another
//! seed, ASN.1 length-field edits (a length byte after a tag set to 0, 0x80 indefinite, 0x84 or
//! a long-form length that runs past the end) and text tokens (quotes, brackets, huge numbers,
//! NUL, invalid UTF-8). It is not coverage guided: libFuzzer (`fuzz/`) is for that. Same seed,
//! same inputs, so a failure found in CI reproduces.

use crate::sim::rng::SimRng;

/// Largest input made (mutations that grow past it are cut back).
pub const MAX_INPUT: usize = 256 * 1024;

const INTERESTING: &[u8] = &[0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0xfe, 0xff];

const TOKENS: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"=",
    b"\n",
    b"\r\n",
    b"\0",
    b"\xff\xfe",
    b"\xc3\x28",
    b"-1",
    b"0",
    b"18446744073709551616",
    b"99999999999999999999999999",
    b"1e308",
    b"null",
    b"true",
    b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    b"<dict>",
    b"</dict>",
    b"<key>",
    b"<string>",
    b"<data>",
    b"<integer>",
    b"-----BEGIN CERTIFICATE-----",
    b"-----END PKCS7-----",
    b"Content-Type: application/pkcs7-mime",
    b"====",
    b"%2e%2e/",
    b"Thu, 01 Jan 1970 00:00:00 GMT",
];

/// Makes inputs from `seeds`, reproducibly from `seed`.
pub struct Mutator<'a> {
    seeds: &'a [Vec<u8>],
    rng: SimRng,
}

impl<'a> Mutator<'a> {
    pub fn new(seeds: &'a [Vec<u8>], seed: u64) -> Self {
        Mutator { seeds, rng: SimRng::new(seed) }
    }

    fn below(&mut self, n: usize) -> usize {
        self.rng.below(n as u64) as usize
    }

    /// The next input: a seed with one to four edits (or, with no seeds, random bytes).
    pub fn next_input(&mut self) -> Vec<u8> {
        if self.seeds.is_empty() {
            let len = self.below(256);
            return (0..len).map(|_| self.rng.next_u64() as u8).collect();
        }
        let mut data = self.seeds[self.below(self.seeds.len())].clone();
        let edits = 1 + self.below(4);
        for _ in 0..edits {
            self.edit(&mut data);
        }
        data.truncate(MAX_INPUT);
        data
    }

    fn edit(&mut self, data: &mut Vec<u8>) {
        if data.is_empty() {
            data.push(self.rng.next_u64() as u8);
            return;
        }
        let len = data.len();
        match self.below(10) {
            0 => {
                let at = self.below(len);
                data[at] ^= 1 << self.below(8);
            }
            1 => {
                let at = self.below(len);
                data[at] = INTERESTING[self.below(INTERESTING.len())];
            }
            2 => data.truncate(self.below(len)),
            3 => {
                let at = self.below(len);
                let n = 1 + self.below((len - at).min(64));
                data.drain(at..at + n);
            }
            4 => {
                let at = self.below(len);
                let n = 1 + self.below((len - at).min(256));
                let copy = data[at..at + n].to_vec();
                let to = self.below(len + 1);
                data.splice(to..to, copy);
            }
            5 => self.splice_other(data),
            6 | 7 => self.edit_length(data),
            8 => {
                let token = TOKENS[self.below(TOKENS.len())];
                let to = self.below(len + 1);
                data.splice(to..to, token.iter().copied());
            }
            _ => {
                // A run of the same byte grown or replaced: deep nesting and long fields.
                let at = self.below(len);
                let n = 1 + self.below(512);
                let byte = data[at];
                data.splice(at..at, std::iter::repeat_n(byte, n));
            }
        }
    }

    /// Keeps a prefix of `data` and continues with the tail of another seed.
    fn splice_other(&mut self, data: &mut Vec<u8>) {
        let other = &self.seeds[self.rng.below(self.seeds.len() as u64) as usize];
        if other.is_empty() {
            return;
        }
        let cut = self.below(data.len());
        let from = self.below(other.len());
        data.truncate(cut);
        data.extend_from_slice(&other[from..]);
    }

    /// Edits a byte that could be an ASN.1 length (the one after a likely tag).
    fn edit_length(&mut self, data: &mut Vec<u8>) {
        let len = data.len();
        if len < 2 {
            return;
        }
        // Prefer positions right after a constructed or common universal tag.
        let start = self.below(len - 1);
        let at = (start..len - 1)
            .find(|&i| matches!(data[i], 0x30 | 0x31 | 0x02 | 0x04 | 0x06 | 0xa0 | 0xa1 | 0x80))
            .map_or(start, |i| i + 1);
        match self.below(5) {
            0 => data[at] = 0,
            1 => data[at] = 0x80,
            2 => data[at] = data[at].wrapping_add(1 + self.rng.below(4) as u8),
            3 => data[at] = data[at].wrapping_sub(1 + self.rng.below(4) as u8),
            _ => {
                data[at] = 0x84;
                let huge = [0x7f, 0xff, 0xff, 0xff];
                data.splice(at + 1..at + 1, huge);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_the_same_inputs() {
        let seeds = vec![b"0\x82\x01\x00hello".to_vec(), b"{\"a\": 1}".to_vec()];
        let a: Vec<_> = {
            let mut m = Mutator::new(&seeds, 7);
            (0..200).map(|_| m.next_input()).collect()
        };
        let mut m = Mutator::new(&seeds, 7);
        let b: Vec<_> = (0..200).map(|_| m.next_input()).collect();
        assert_eq!(a, b);
        assert!(a.iter().any(|x| !seeds.contains(x)), "mutations change the seeds");
    }

    #[test]
    fn never_exceeds_the_input_cap_and_survives_empty_seeds() {
        let seeds = vec![vec![0x30; MAX_INPUT], Vec::new()];
        let mut m = Mutator::new(&seeds, 1);
        for _ in 0..100 {
            assert!(m.next_input().len() <= MAX_INPUT);
        }
        let mut none = Mutator::new(&[], 2);
        assert!(none.next_input().len() < 256);
    }
}
