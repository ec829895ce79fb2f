//! A per-address limit on requests a stranger can make without credentials: one client address
//! gets at most [`Limiter::per_window`] per [`WINDOW`]. ACME uses it for `newAccount` and
//! `newOrder` (each stores records), SCEP for its operations (a PKIOperation costs an RSA
//! private-key operation, a Marvin-style timing oracle, ../shared/crates.md Q2). Pure: time
//! is a parameter. The map of addresses is bounded: ended windows are swept at
//! [`SWEEP_AT`] addresses, and past [`MAX_CLIENTS`] live ones a new address is refused
//! until a window ends (a flood from that many addresses is refused, not remembered).

use std::collections::HashMap;
use std::net::IpAddr;
use time::{Duration, OffsetDateTime};

pub const WINDOW: Duration = Duration::minutes(1);

/// Clients remembered before the ended windows are swept.
pub const SWEEP_AT: usize = 10_000;
/// Most addresses remembered at once (about 5 MiB).
pub const MAX_CLIENTS: usize = 100_000;

/// Fixed one-minute windows per client address.
#[derive(Debug)]
pub struct Limiter {
    pub per_window: u32,
    seen: HashMap<IpAddr, (OffsetDateTime, u32)>,
}

impl Limiter {
    pub fn new(per_window: u32) -> Limiter {
        Limiter { per_window, seen: HashMap::new() }
    }

    /// Counts one operation by `client` at `now`; `Err(when)` names when it may try again.
    pub fn allow(&mut self, client: IpAddr, now: OffsetDateTime) -> Result<(), OffsetDateTime> {
        if self.seen.len() >= SWEEP_AT && !self.seen.contains_key(&client) {
            self.seen.retain(|_, (start, _)| *start + WINDOW > now);
            if self.seen.len() >= MAX_CLIENTS {
                return Err(now + WINDOW);
            }
        }
        let entry = self.seen.entry(client).or_insert((now, 0));
        if entry.0 + WINDOW <= now {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_window {
            return Err(entry.0 + WINDOW);
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn limits_each_client_per_minute_and_forgets_after_it() {
        let now = datetime!(2026-11-24 12:00 UTC);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let mut l = Limiter::new(2);
        assert!(l.allow(a, now).is_ok());
        assert!(l.allow(a, now).is_ok());
        assert_eq!(l.allow(a, now + Duration::seconds(30)), Err(now + WINDOW));
        assert!(l.allow(b, now).is_ok(), "another client has its own budget");
        assert!(l.allow(a, now + WINDOW).is_ok(), "a new window");
    }
}
