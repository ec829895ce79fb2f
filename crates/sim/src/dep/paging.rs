//! Fetch and sync paging over the simulated world (dep-api.md §3.2); every cursor is a
//! position a fetch or a sync can continue from.
//!
//! A fetch without a cursor pins a [`Snapshot`]: the server's device list at that moment,
//! shared behind an `Arc` and reused by every later fetch while the server is unchanged, so
//! a 200,000-device fetch costs one O(N) copy of pointers and each page only its own slice.
//! Pages of that fetch keep returning that list even while devices change; the changes
//! arrive through sync, which reads the server's event log after the snapshot's position.
//! Exposes [`Page`], [`PageItem`], [`CursorError`] and the `fetch_page`/`sync_page` methods on
//! `World`. Pure: time comes in as `now`.

use crate::dep::cursor::Cursor;
use crate::dep::device::{Op, SimDevice};
use crate::dep::world::{ServerId, Snapshot, World};
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

/// `limit` from a request. Apple documents an int32 with default 100 and maximum 1000 (§3.2)
/// and no error code for other values, so the simulator refuses none: one rule, a value below
/// 1 means the default (absent, `0` and `-5` alike; nanodep's `-limit 0` means "the server's
/// default", §5.2) and a value above the maximum means the maximum (what `/account` advertises
/// as `limit.maximum`, §3.1). A `limit` that is not an int32 is not this rule's business: the
/// strict reader answers it `MALFORMED_REQUEST_BODY`.
pub fn clamp_limit(limit: Option<i64>) -> usize {
    match limit {
        Some(n) if n > 0 => (n as usize).min(MAX_LIMIT),
        _ => DEFAULT_LIMIT,
    }
}

/// Adds `item` to a sync page, and a copy of it when the `dup` fault says so and the page has
/// room for both: a duplicate never pushes a page past its `limit`. The caller checks there is
/// room for `item` itself.
fn push(items: &mut Vec<PageItem>, item: PageItem, limit: usize, dup: &mut dyn FnMut() -> bool) {
    if items.len() + 1 < limit && dup() {
        items.push(item.clone());
    }
    items.push(item);
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
                let c = self.decode_cursor(server, text)?;
                if c.is_exhausted_for_fetch() {
                    return Err(CursorError::Exhausted);
                }
                // Apple documents only INVALID_CURSOR and EXHAUSTED_CURSOR for a fetch (§3
                // table; EXPIRED_CURSOR is sync's): a fetch cursor older than 7 days, or whose
                // snapshot was dropped to bound memory, is INVALID_CURSOR, and the client
                // restarts the fetch, as after an expired one (§5.2).
                if is_stale(&c, now_ms) {
                    return Err(CursorError::Invalid);
                }
                let snap = self.find_snapshot(server, c.snapshot).ok_or(CursorError::Invalid)?;
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

    /// `POST /devices/sync`: what the client has not seen since its cursor, oldest first.
    ///
    /// A cursor names a position, fetch or sync alike. The spec says what a sync from the end
    /// of a fetch returns (the changes since, §3.2 items 2–3) and is silent on a cursor from
    /// the middle of one; answering only the changes would leave the devices the fetch had not
    /// reached yet unseen without a word. So a mid-fetch cursor syncs the rest of its fetch
    /// first, as `added` records dated by `device_assigned_date` (§3.2 item 8), then the
    /// changes; if that fetch's snapshot is gone it is EXPIRED_CURSOR, and the client starts a
    /// full fetch. `dup` is asked once a record whether to repeat it (the `dup` fault).
    pub fn sync_page(
        &mut self,
        server: ServerId,
        cursor: Option<&str>,
        limit: usize,
        now: OffsetDateTime,
        dup: &mut dyn FnMut() -> bool,
    ) -> Result<Page, CursorError> {
        let now_ms = unix_ms(now);
        let text = cursor.filter(|c| !c.is_empty()).ok_or(CursorError::Required)?;
        let c = self.decode_cursor(server, text)?;
        if is_stale(&c, now_ms) || c.seq < self.servers[server as usize].pruned_through {
            return Err(CursorError::Expired);
        }
        let limit = limit.clamp(1, MAX_LIMIT);
        let mut items: Vec<PageItem> = Vec::with_capacity(limit);
        let mut fetched_until = now.unix_timestamp();
        // Where the rest of an unfinished fetch resumes next time: (snapshot, offset).
        let mut resume = None;
        if !c.is_exhausted_for_fetch() {
            let snap = self.find_snapshot(server, c.snapshot).ok_or(CursorError::Expired)?;
            let mut i = (c.offset as usize).min(snap.devices.len());
            while i < snap.devices.len() && items.len() < limit {
                let device = Arc::clone(&snap.devices[i]);
                let op = Some((Op::Added, device.assigned_date));
                push(
                    &mut items,
                    PageItem { device, op, released_by_replacement: false },
                    limit,
                    dup,
                );
                i += 1;
            }
            fetched_until = snap.taken_at;
            if i < snap.devices.len() {
                resume = Some((snap.id, i as u32));
            }
        }
        let events = &self.servers[server as usize].events;
        let from = events.partition_point(|e| e.seq <= c.seq);
        let mut to = from;
        while resume.is_none() && to < events.len() && items.len() < limit {
            let e = &events[to];
            let item = PageItem {
                device: Arc::clone(&e.device),
                op: Some((e.op, e.at)),
                released_by_replacement: e.released_by_replacement,
            };
            push(&mut items, item, limit, dup);
            fetched_until = e.at;
            to += 1;
        }
        let more = resume.is_some() || to < events.len();
        let next = match resume {
            Some((snapshot, offset)) => {
                Cursor { server, snapshot, offset, seq: c.seq, issued_ms: now_ms }
            }
            None => {
                // With nothing left, the cursor moves to "now" in the log so later events of
                // other servers are not rescanned; otherwise it stops after the last record sent.
                let seq = match (more, to > from) {
                    (true, true) => events[to - 1].seq,
                    (true, false) => c.seq,
                    (false, _) => self.seq,
                };
                Cursor { server, snapshot: 0, offset: 0, seq, issued_ms: now_ms }
            }
        };
        Ok(Page { items, cursor: self.codec.encode(&next), more_to_follow: more, fetched_until })
    }

    /// Decodes a cursor this simulator handed out to `server`; anything else is INVALID_CURSOR.
    fn decode_cursor(&self, server: ServerId, text: &str) -> Result<Cursor, CursorError> {
        let c = self.codec.decode(text).ok_or(CursorError::Invalid)?;
        if c.server != server || c.seq > self.seq {
            return Err(CursorError::Invalid);
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

/// Older than the 7 days Apple keeps a cursor (§3.2 item 3).
fn is_stale(c: &Cursor, now_ms: i64) -> bool {
    now_ms - c.issued_ms > CURSOR_MAX_AGE_MS
}

fn unix_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dep::world::Quirks;
    use time::Duration;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

    fn world_with(n: usize) -> (World, ServerId) {
        let mut w = World::new(1, Quirks::default());
        let s = w.add_server("MDM one", None, T0);
        w.add_devices(Some(s), n, &[], T0).unwrap();
        (w, s)
    }

    fn sync(
        w: &mut World,
        s: ServerId,
        cursor: Option<&str>,
        limit: usize,
        now: OffsetDateTime,
    ) -> Result<Page, CursorError> {
        w.sync_page(s, cursor, limit, now, &mut || false)
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
        let changes = sync(&mut w, s, Some(&p3.cursor), 1000, T0).unwrap();
        let ops: Vec<Op> = changes.items.iter().map(|i| i.op.unwrap().0).collect();
        assert_eq!(ops.iter().filter(|o| **o == Op::Deleted).count(), 1);
        assert_eq!(ops.iter().filter(|o| **o == Op::Added).count(), 10);
        assert_eq!(&*changes.items[0].device.serial, gone);
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
        assert_eq!(sync(&mut w, s, None, 10, T0).unwrap_err(), CursorError::Required);
        assert_eq!(sync(&mut w, s, Some(""), 10, T0).unwrap_err(), CursorError::Required);
        assert_eq!(sync(&mut w, s, Some("garbage"), 10, T0).unwrap_err(), CursorError::Invalid);
        let c = w.fetch_page(other, None, 10, T0).unwrap().cursor;
        assert_eq!(sync(&mut w, s, Some(&c), 10, T0).unwrap_err(), CursorError::Invalid);
        assert_eq!(w.fetch_page(s, Some("garbage"), 10, T0).unwrap_err(), CursorError::Invalid);
    }

    #[test]
    fn a_cursor_older_than_seven_days_is_expired() {
        let (mut w, s) = world_with(3);
        let c = w.fetch_page(s, None, 10, T0).unwrap().cursor;
        assert!(sync(&mut w, s, Some(&c), 10, T0 + Duration::days(7)).is_ok());
        let later = T0 + Duration::days(7) + Duration::seconds(1);
        assert_eq!(sync(&mut w, s, Some(&c), 10, later).unwrap_err(), CursorError::Expired);
        // A fresh sync cursor restarts the seven days.
        let fresh = sync(&mut w, s, Some(&c), 10, T0 + Duration::days(6)).unwrap().cursor;
        assert!(sync(&mut w, s, Some(&fresh), 10, T0 + Duration::days(12)).is_ok());
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
        let p1 = sync(&mut w, s, Some(&c), 10, T0).unwrap();
        assert!(p1.more_to_follow && p1.items.len() == 10);
        let p2 = sync(&mut w, s, Some(&p1.cursor), 10, T0).unwrap();
        let p3 = sync(&mut w, s, Some(&p2.cursor), 10, T0).unwrap();
        assert!(!p3.more_to_follow && p3.items.len() == 5);
        let empty = sync(&mut w, s, Some(&p3.cursor), 10, T0 + Duration::seconds(1)).unwrap();
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

    #[test]
    fn a_fetch_cursor_that_cannot_continue_is_invalid_never_expired() {
        let (mut w, s) = world_with(30);
        let p1 = w.fetch_page(s, None, 10, T0).unwrap();
        // Seven days on, the same cursor: EXPIRED_CURSOR is sync's code, not fetch's (§3).
        let late = T0 + Duration::days(7) + Duration::seconds(1);
        assert_eq!(w.fetch_page(s, Some(&p1.cursor), 10, late).unwrap_err(), CursorError::Invalid);
        // Its snapshot dropped after enough newer fetches of a changing server.
        for _ in 0..=MAX_SNAPSHOTS {
            w.add_devices(Some(s), 1, &[], T0).unwrap();
            w.fetch_page(s, None, 10, T0).unwrap();
        }
        assert_eq!(w.fetch_page(s, Some(&p1.cursor), 10, T0).unwrap_err(), CursorError::Invalid);
        assert_eq!(sync(&mut w, s, Some(&p1.cursor), 10, T0).unwrap_err(), CursorError::Expired);
    }

    #[test]
    fn a_sync_from_the_middle_of_a_fetch_returns_the_rest_of_it_then_the_changes() {
        let (mut w, s) = world_with(25);
        let all: Vec<String> =
            w.truth().servers[0].devices.iter().map(|d| d.serial_number.clone()).collect();
        let p1 = w.fetch_page(s, None, 10, T0).unwrap();
        let new = w.add_devices(Some(s), 2, &[], T0).unwrap();
        let s1 = sync(&mut w, s, Some(&p1.cursor), 10, T0).unwrap();
        assert!(s1.more_to_follow && s1.items.len() == 10);
        // The position it hands back is still inside the fetch: a fetch continues from it too.
        let f = w.fetch_page(s, Some(&s1.cursor), 100, T0).unwrap();
        assert_eq!(serials(&f), all[20..].to_vec());
        let s2 = sync(&mut w, s, Some(&s1.cursor), 10, T0).unwrap();
        assert!(!s2.more_to_follow);
        let seen = [serials(&s1), serials(&s2)].concat();
        assert_eq!(seen, [all[10..].to_vec(), new].concat());
        for item in s1.items.iter().chain(&s2.items) {
            assert_eq!(item.op.unwrap().0, Op::Added);
        }
        let rest = &s1.items[0];
        assert_eq!(rest.op.unwrap().1, rest.device.assigned_date);
    }

    #[test]
    fn the_dup_fault_never_makes_a_page_longer_than_its_limit_and_loses_nothing() {
        let (mut w, s) = world_with(0);
        let mut cursor = w.fetch_page(s, None, 10, T0).unwrap().cursor;
        let added = w.add_devices(Some(s), 30, &[], T0).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        loop {
            let page = w.sync_page(s, Some(&cursor), 7, T0, &mut || true).unwrap();
            assert!(page.items.len() <= 7, "{} records at limit 7", page.items.len());
            seen.extend(serials(&page));
            cursor = page.cursor;
            if !page.more_to_follow {
                break;
            }
        }
        assert_eq!(seen, added.into_iter().collect());
        // At limit 1 there is never room for a copy.
        w.add_devices(Some(s), 1, &[], T0).unwrap();
        let one = w.sync_page(s, Some(&cursor), 1, T0, &mut || true).unwrap();
        assert_eq!(one.items.len(), 1);
    }
}
