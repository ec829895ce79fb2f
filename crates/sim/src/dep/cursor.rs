//! Fetch and sync cursors of the DEP simulator.
//!
//! Apple's cursors are opaque; real ones are unpadded base64 of colon-separated numbers
//! (dep-api.md §3.2 item 7). Ours look the same: base64 of
//! `server:snapshot:offset:seq:issued_ms:tag`, where `tag` is a truncated HMAC-SHA256 under a
//! per-simulator key, so garbage, edited cursors and cursors of another simulator instance are
//! told apart from real ones (`INVALID_CURSOR`). `snapshot` 0 marks a cursor with no fetch
//! pages left (a fetch with it is `EXHAUSTED_CURSOR`); `seq` is the position in the server's
//! event log that a sync continues from; `issued_ms` drives the 7-day expiry. Pure.

use base64ct::{Base64Unpadded, Encoding};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Longest cursor Apple documents (`cursor` string ≤ 1000 chars, §3.2).
pub const MAX_CURSOR_LEN: usize = 1000;

/// What a cursor says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// Index of the MDM server the cursor belongs to.
    pub server: u32,
    /// The fetch snapshot being paged through; 0 when no fetch pages remain.
    pub snapshot: u64,
    /// Next index into the snapshot.
    pub offset: u32,
    /// Last event-log sequence number covered.
    pub seq: u64,
    /// When the cursor was handed out (Unix milliseconds, simulator clock).
    pub issued_ms: i64,
}

impl Cursor {
    /// True when a fetch with this cursor has nothing left to return.
    pub fn is_exhausted_for_fetch(&self) -> bool {
        self.snapshot == 0
    }
}

/// Signs and checks cursors with one key.
#[derive(Clone)]
pub struct CursorCodec {
    key: [u8; 32],
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec")
    }
}

impl CursorCodec {
    pub fn new(key: [u8; 32]) -> Self {
        CursorCodec { key }
    }

    /// The signing key, for saving the simulator (cursors it handed out stay valid after a
    /// restart).
    pub(crate) fn key(&self) -> [u8; 32] {
        self.key
    }

    pub fn encode(&self, c: &Cursor) -> String {
        let body = format!("{}:{}:{}:{}:{}", c.server, c.snapshot, c.offset, c.seq, c.issued_ms);
        let text = format!("{body}:{}", self.tag(&body));
        Base64Unpadded::encode_string(text.as_bytes())
    }

    /// `None` for anything this simulator did not hand out unchanged.
    pub fn decode(&self, text: &str) -> Option<Cursor> {
        if text.is_empty() || text.len() > MAX_CURSOR_LEN {
            return None;
        }
        let raw = Base64Unpadded::decode_vec(text.trim_end_matches('=')).ok()?;
        let raw = String::from_utf8(raw).ok()?;
        let (body, tag) = raw.rsplit_once(':')?;
        if !bool::from(subtle::ConstantTimeEq::ct_eq(tag.as_bytes(), self.tag(body).as_bytes())) {
            return None;
        }
        let mut parts = body.split(':');
        let cursor = Cursor {
            server: parts.next()?.parse().ok()?,
            snapshot: parts.next()?.parse().ok()?,
            offset: parts.next()?.parse().ok()?,
            seq: parts.next()?.parse().ok()?,
            issued_ms: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(cursor)
    }

    fn tag(&self, body: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .expect("HMAC accepts keys of any length");
        mac.update(body.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Cursor {
        Cursor { server: 2, snapshot: 7, offset: 1000, seq: 123_456, issued_ms: 1_746_306_115_059 }
    }

    #[test]
    fn round_trips_and_looks_like_apples() {
        let codec = CursorCodec::new([1; 32]);
        let text = codec.encode(&sample());
        assert!(!text.contains('='), "unpadded like Apple's: {text}");
        assert!(text.len() < MAX_CURSOR_LEN);
        assert_eq!(codec.decode(&text), Some(sample()));
    }

    #[test]
    fn rejects_garbage_edits_and_other_simulators() {
        let codec = CursorCodec::new([1; 32]);
        let text = codec.encode(&sample());
        assert_eq!(codec.decode("not a cursor"), None);
        assert_eq!(codec.decode(""), None);
        assert_eq!(codec.decode(&"A".repeat(1001)), None);
        assert_eq!(CursorCodec::new([2; 32]).decode(&text), None);
        // Apple's own cursor shape (valid base64 of numbers) is not ours either.
        assert_eq!(
            codec.decode("MTAwOjA6MTc0NjMwNjExNTA1OToxNzQ2MzA2NDgyNTM2OnRydWU6MTc0NjMwNjExNTA1OQ"),
            None
        );
        let raw = String::from_utf8(Base64Unpadded::decode_vec(&text).unwrap()).unwrap();
        let edited = raw.replacen("2:", "3:", 1);
        assert_eq!(codec.decode(&Base64Unpadded::encode_string(edited.as_bytes())), None);
    }

    #[test]
    fn snapshot_zero_means_no_fetch_pages_left() {
        assert!(Cursor { snapshot: 0, ..sample() }.is_exhausted_for_fetch());
        assert!(!sample().is_exhausted_for_fetch());
    }
}
