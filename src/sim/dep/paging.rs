//! Fetch and sync paging over the simulated world (dep-api.md §3.2).
//!
//! A fetch without a cursor pins a [`Snapshot`]: the server's device list at that moment,
//! shared behind an `Arc` and reused by every later fetch while the server is unchanged, so
//! a 200,000-device fetch costs one O(N) copy of pointers and each page only its own slice.
//! Pages of that fetch keep returning that list even while devices change; the changes
//! arrive through sync, which reads the server's event log after the snapshot's position.
//! Exposes [`Page`], [`PageItem`], [`CursorError`] and the `fetch_page`/`sync_page` methods on
//! `World`. Pure: time comes in as `now`.

use crate::sim::dep::cursor::Cursor;
use crate::sim::dep::device::{Op, SimDevice};
use crate::sim::dep::world::{ServerId, World};
use std::sync::Arc;
use time::OffsetDateTime;

/// `limit` when the request has none (dep-api.md §3.2).
pub const DEFAULT_LIMIT: usize = 100;
/// Largest page Apple serves.
pub const MAX_LIMIT: usize = 1000;
/// Cursor lifetime: a sync cursor older than this is `EXPIRED_CURSOR`.
pub const CURSOR_MAX_AGE_MS: i64 = 7 * 86_400 * 1000;
/// Fetch snapshots kept for paging; the oldest is dropped first (its cursors then expire).
const MAX_SNAPSHOTS: usize = 8;

/// A server's device list frozen at the start of a fetch.
#[derive(Debug)]
pub struct Snapshot {
    pub id: u64,
    pub server: ServerId,
    pub devices: Vec<Arc<SimDevice>>,
    /// Event-log position when taken: a sync after this fetch starts here.
    pub seq: u64,
    pub taken_at: i64,
}

/// One device record of a page.
#[derive(Clone, Debug)]
pub struct PageItem {
    pub device: Arc<SimDevice>,
    /// `op_type`/`op_date` (sync only; a fetch has none, §3.2 item 5).
    pub op: Option<(Op, i64)>,
    pub released_by_replacement: bool,
}

/// What a fetch or sync answers.
#[derive(Clone, Debug)]
pub struct Page {
    pub items: Vec<PageItem>,
    pub cursor: String,
    pub more_to_follow: bool,
    pub fetched_until: i64,
}

/// The documented cursor errors (400 bodies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CursorError {
    Required,
    Invalid,
    Expired,
    Exhausted,
}

impl CursorError {
    pub fn code(self) -> &'static str {
        match self {
            CursorError::Required => "CURSOR_REQUIRED",
            CursorError::Invalid => "INVALID_CURSOR",
            CursorError::Expired => "EXPIRED_CURSOR",
            CursorError::Exhausted => "EXHAUSTED_CURSOR",
        }
    }
}

/// `limit` from a request: absent or non-positive → default, above the maximum → maximum.
pub fn clamp_limit(limit: Option<i64>) -> usize {
    match limit {
        Some(n) if n > 0 => (n as usize).min(MAX_LIMIT),
        _ => DEFAULT_LIMIT,
    }
}

impl World {
    /// `POST /server/devices`.
    pub fn fetch_page(
        &mut self,
        server: ServerId,
        cursor: Option<&str>,
        limit: usize,
        now: OffsetDateTime,
    ) -> Result<Page, CursorError> {
        let now_ms = unix_ms(now);
        let (snapshot, start) = match cursor.filter(|c| !c.is_empty()) {
            None => (self.current_snapshot(server, now)?, 0),
            Some(text) => {
                let c = self.check_cursor(server, text, now_ms)?;
                if c.is_exhausted_for_fetch() {
                    return Err(CursorError::Exhausted);
                }
                // A snapshot dropped to bound memory cannot be resumed: the client restarts
                // the fetch, as after any expired cursor.
                let snap = self.find_snapshot(server, c.snapshot).ok_or(CursorError::Expired)?;
                (snap, c.offset as usize)
            }
        };
        self.servers[server as usize].cursor_issued = true;
        let start = start.min(snapshot.devices.len());
        let end = (start + limit.clamp(1, MAX_LIMIT)).min(snapshot.devices.len());
        let items = snapshot.devices[start..end]
            .iter()
            .map(|d| PageItem { device: Arc::clone(d), op: None, released_by_replacement: false })
            .collect();
        let more = end < snapshot.devices.len();
        let next = Cursor {
            server,
            // The last page hands out a cursor with no fetch pages left: fetching with it is
            // EXHAUSTED_CURSOR, syncing with it continues from the snapshot (§3.2 item 2).
            snapshot: if more { snapshot.id } else { 0 },
            offset: if more { end as u32 } else { 0 },
            seq: snapshot.seq,
            issued_ms: now_ms,
        };
        Ok(Page {
            items,
            cursor: self.codec.encode(&next),
            more_to_follow: more,
            fetched_until: snapshot.taken_at,
        })
    }

    /// `POST /devices/sync`: events after the cursor, oldest first, duplicates included.
    pub fn sync_page(
        &mut self,
        server: ServerId,
        cursor: Option<&str>,
        limit: usize,
        now: OffsetDateTime,
    ) -> Result<Page, CursorError> {
        let now_ms = unix_ms(now);
        let text = cursor.filter(|c| !c.is_empty()).ok_or(CursorError::Required)?;
        let c = self.check_cursor(server, text, now_ms)?;
        let global_seq = self.seq;
        let srv = &self.servers[server as usize];
        if c.seq < srv.pruned_through {
            return Err(CursorError::Expired);
        }
        let from = srv.events.partition_point(|e| e.seq <= c.seq);
        let to = (from + limit.clamp(1, MAX_LIMIT)).min(srv.events.len());
        let slice = &srv.events[from..to];
        let items: Vec<PageItem> = slice
            .iter()
            .map(|e| PageItem {
                device: Arc::clone(&e.device),
                op: Some((e.op, e.at)),
                released_by_replacement: e.released_by_replacement,
            })
            .collect();
        let more = to < srv.events.len();
        // With nothing left, the cursor moves to "now" in the log so later events of other
        // servers are not rescanned; otherwise it stops after the last record sent.
        let seq = if more { slice.last().map_or(c.seq, |e| e.seq) } else { global_seq };
        let fetched_until = slice.last().map_or(now.unix_timestamp(), |e| e.at);
        let next = Cursor { server, snapshot: 0, offset: 0, seq, issued_ms: now_ms };
        Ok(Page { items, cursor: self.codec.encode(&next), more_to_follow: more, fetched_until })
    }

    /// Decodes a cursor and checks it belongs to `server` and is not older than 7 days.
    fn check_cursor(
        &self,
        server: ServerId,
        text: &str,
        now_ms: i64,
    ) -> Result<Cursor, CursorError> {
        let c = self.codec.decode(text).ok_or(CursorError::Invalid)?;
        if c.server != server || c.seq > self.seq {
            return Err(CursorError::Invalid);
        }
        if now_ms - c.issued_ms > CURSOR_MAX_AGE_MS {
            return Err(CursorError::Expired);
        }
        Ok(c)
    }

    fn current_snapshot(
        &mut self,
        server: ServerId,
        now: OffsetDateTime,
    ) -> Result<Arc<Snapshot>, CursorError> {
        let srv = self.servers.get(server as usize).ok_or(CursorError::Invalid)?;
        if let Some(s) = &srv.snapshot {
            return Ok(Arc::clone(s));
        }
        let snap = Arc::new(Snapshot {
            id: self.next_snapshot,
            server,
            devices: srv.devices.values().cloned().collect(),
            seq: self.seq,
            taken_at: now.unix_timestamp(),
        });
        self.next_snapshot += 1;
        self.snapshots.insert(snap.id, Arc::clone(&snap));
        while self.snapshots.len() > MAX_SNAPSHOTS {
            self.snapshots.pop_first();
        }
        self.servers[server as usize].snapshot = Some(Arc::clone(&snap));
        Ok(snap)
    }

    fn find_snapshot(&self, server: ServerId, id: u64) -> Option<Arc<Snapshot>> {
        let cached = self.servers.get(server as usize).and_then(|s| s.snapshot.as_ref());
        self.snapshots
            .get(&id)
            .or(cached.filter(|s| s.id == id))
            .filter(|s| s.server == server)
            .cloned()
    }
}

fn unix_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::dep::world::Quirks;
    use time::Duration;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

    fn world_with(n: usize) -> (World, ServerId) {
        let mut w = World::new(1, Quirks::default());
        let s = w.add_server("MDM one", None, T0);
        w.add_devices(Some(s), n, &[], T0).unwrap();
        (w, s)
    }

    fn serials(p: &Page) -> Vec<String> {
        p.items.iter().map(|i| i.device.serial.to_string()).collect()
    }

    #[test]
    fn fetch_pages_through_a_stable_snapshot_while_devices_change() {
        let (mut w, s) = world_with(250);
        let before: Vec<String> =
            w.truth().servers[0].devices.iter().map(|d| d.serial_number.clone()).collect();
        let p1 = w.fetch_page(s, None, 100, T0).unwrap();
        assert!(p1.more_to_follow && p1.items.iter().all(|i| i.op.is_none()));
        // Changes in the middle of the fetch do not show in its later pages.
        let gone = serials(&p1)[0].clone();
        w.release_devices(std::slice::from_ref(&gone), false, T0);
        w.add_devices(Some(s), 10, &[], T0).unwrap();
        let p2 = w.fetch_page(s, Some(&p1.cursor), 100, T0).unwrap();
        let p3 = w.fetch_page(s, Some(&p2.cursor), 100, T0).unwrap();
        assert!(!p3.more_to_follow);
        let all: Vec<String> = [serials(&p1), serials(&p2), serials(&p3)].concat();
        assert_eq!(all, before);
        // The finished cursor cannot fetch again, but syncs the changes made meanwhile.
        assert_eq!(w.fetch_page(s, Some(&p3.cursor), 100, T0).unwrap_err(), CursorError::Exhausted);
        let sync = w.sync_page(s, Some(&p3.cursor), 1000, T0).unwrap();
        let ops: Vec<Op> = sync.items.iter().map(|i| i.op.unwrap().0).collect();
        assert_eq!(ops.iter().filter(|o| **o == Op::Deleted).count(), 1);
        assert_eq!(ops.iter().filter(|o| **o == Op::Added).count(), 10);
        assert_eq!(&*sync.items[0].device.serial, gone);
    }

    #[test]
    fn an_unchanged_server_reuses_its_snapshot_and_a_change_makes_a_new_one() {
        let (mut w, s) = world_with(5);
        let a = w.current_snapshot(s, T0).unwrap();
        let b = w.current_snapshot(s, T0).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        w.add_devices(Some(s), 1, &[], T0).unwrap();
        let c = w.current_snapshot(s, T0).unwrap();
        assert_ne!(a.id, c.id);
        assert_eq!(c.devices.len(), 6);
    }

    #[test]
    fn sync_needs_a_cursor_and_refuses_garbage_and_other_servers_cursors() {
        let (mut w, s) = world_with(3);
        let other = w.add_server("MDM two", None, T0);
        assert_eq!(w.sync_page(s, None, 10, T0).unwrap_err(), CursorError::Required);
        assert_eq!(w.sync_page(s, Some(""), 10, T0).unwrap_err(), CursorError::Required);
        assert_eq!(w.sync_page(s, Some("garbage"), 10, T0).unwrap_err(), CursorError::Invalid);
        let c = w.fetch_page(other, None, 10, T0).unwrap().cursor;
        assert_eq!(w.sync_page(s, Some(&c), 10, T0).unwrap_err(), CursorError::Invalid);
        assert_eq!(w.fetch_page(s, Some("garbage"), 10, T0).unwrap_err(), CursorError::Invalid);
    }

    #[test]
    fn a_cursor_older_than_seven_days_is_expired() {
        let (mut w, s) = world_with(3);
        let c = w.fetch_page(s, None, 10, T0).unwrap().cursor;
        assert!(w.sync_page(s, Some(&c), 10, T0 + Duration::days(7)).is_ok());
        let later = T0 + Duration::days(7) + Duration::seconds(1);
        assert_eq!(w.sync_page(s, Some(&c), 10, later).unwrap_err(), CursorError::Expired);
        // A fresh sync cursor restarts the seven days.
        let fresh = w.sync_page(s, Some(&c), 10, T0 + Duration::days(6)).unwrap().cursor;
        assert!(w.sync_page(s, Some(&fresh), 10, T0 + Duration::days(12)).is_ok());
    }

    #[test]
    fn limit_is_clamped_like_apples() {
        assert_eq!(clamp_limit(None), 100);
        assert_eq!(clamp_limit(Some(0)), 100);
        assert_eq!(clamp_limit(Some(-5)), 100);
        assert_eq!(clamp_limit(Some(5000)), 1000);
        assert_eq!(clamp_limit(Some(250)), 250);
    }

    #[test]
    fn sync_pages_through_many_events_with_more_to_follow() {
        let (mut w, s) = world_with(0);
        let c = w.fetch_page(s, None, 10, T0).unwrap().cursor;
        w.add_devices(Some(s), 25, &[], T0).unwrap();
        let p1 = w.sync_page(s, Some(&c), 10, T0).unwrap();
        assert!(p1.more_to_follow && p1.items.len() == 10);
        let p2 = w.sync_page(s, Some(&p1.cursor), 10, T0).unwrap();
        let p3 = w.sync_page(s, Some(&p2.cursor), 10, T0).unwrap();
        assert!(!p3.more_to_follow && p3.items.len() == 5);
        let empty = w.sync_page(s, Some(&p3.cursor), 10, T0 + Duration::seconds(1)).unwrap();
        assert!(empty.items.is_empty() && !empty.more_to_follow);
        assert_ne!(empty.cursor, p3.cursor, "an empty sync still hands out a fresh cursor");
    }

    #[test]
    fn an_empty_server_fetches_one_empty_final_page() {
        let (mut w, s) = world_with(0);
        let p = w.fetch_page(s, None, 100, T0).unwrap();
        assert!(p.items.is_empty() && !p.more_to_follow);
        assert_eq!(w.fetch_page(s, Some(&p.cursor), 100, T0).unwrap_err(), CursorError::Exhausted);
    }
}
