//! Orders and authorizations in memory: the short-lived state of an ACME enrollment, which a
//! device gets through in seconds and which no one needs after a restart.
//!
//! They are not written to the store. A crash (or a restart) forgets every order and
//! authorization in flight; the device's next request for one gets `404` (the order is gone),
//! and an ACME client, as Apple's devices and RFC 8555 clients do, starts over with a new
//! order for the same identifier, or the device fetches the enrollment profile again and
//! orders with a new one. Nothing it needs to do so is lost, because what outlives an
//! enrollment stays durable: accounts (a device keeps its account key and signs with it
//! across the crash), the ClientIdentifier's binding to its device and account
//! (`acme.expected`, written by the enrollment), and every issued certificate with its map to
//! the device (MDM check-in and revocation need them). Replay nonces are in memory too
//! ([`super::nonces`]).
//!
//! Changes are staged by a request while it runs ([`Staged`]) and applied only once the
//! request succeeded: after the store's commit for requests that write (on the writer thread,
//! in commit order, [`crate::store::Store::write_then`]), at once for those that only read.
//! A change the store runs again (group commit) stages again from scratch, so nothing is
//! applied twice. Statuses only move forward ([`rank`]): a read-only request that raced a
//! deactivation cannot bring an order it invalidated back to ready.
//!
//! Bounded: new orders are refused while [`super::AcmeOptions::max_unfinished`] are held
//! (`limits`), and upkeep drops those a day past their expiry.

use super::records::{AuthzRec, OrderRec, Status, account_order_key};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use time::OffsetDateTime;

#[derive(Default)]
pub(super) struct Pending {
    inner: Mutex<Maps>,
}

#[derive(Default)]
struct Maps {
    orders: HashMap<String, OrderRec>,
    authzs: HashMap<String, AuthzRec>,
    /// `<account id>/<order id>` of every order held: an account's orders in id order.
    by_account: BTreeSet<String>,
}

/// What one request changes, applied once it succeeded ([`Pending::apply`]).
#[derive(Clone, Debug, Default)]
pub(super) struct Staged {
    pub orders: Vec<OrderRec>,
    pub authzs: Vec<AuthzRec>,
}

impl Staged {
    /// The latest staged version of an order.
    pub fn order(&self, id: &str) -> Option<&OrderRec> {
        self.orders.iter().rev().find(|o| o.id == id)
    }

    pub fn authz(&self, id: &str) -> Option<&AuthzRec> {
        self.authzs.iter().rev().find(|a| a.id == id)
    }
}

/// How far along a status is: a change never moves a record back.
fn rank(s: Status) -> u8 {
    match s {
        Status::Pending => 0,
        Status::Ready => 1,
        Status::Processing => 2,
        Status::Valid => 3,
        Status::Invalid | Status::Deactivated => 4,
    }
}

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, Maps> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn order(&self, id: &str) -> Option<OrderRec> {
        self.lock().orders.get(id).cloned()
    }

    pub fn authz(&self, id: &str) -> Option<AuthzRec> {
        self.lock().authzs.get(id).cloned()
    }

    /// Orders held (each has one authorization).
    pub fn count(&self) -> u64 {
        self.lock().orders.len() as u64
    }

    /// The orders of `account` in id order, after `cursor` if given.
    pub fn orders_of(&self, account: &str, cursor: Option<&str>) -> Vec<OrderRec> {
        use std::ops::Bound;
        let maps = self.lock();
        let from = match cursor {
            Some(c) => Bound::Excluded(account_order_key(account, c)),
            None => Bound::Included(format!("{account}/")),
        };
        // Order ids are base64url: '0' sorts right after the '/' of `<account>/<order>`.
        let to = Bound::Excluded(format!("{account}0"));
        maps.by_account
            .range((from, to))
            .filter_map(|k| k.rsplit_once('/').and_then(|(_, id)| maps.orders.get(id)).cloned())
            .collect()
    }

    /// Whether `account` has any order held.
    pub fn has_orders(&self, account: &str) -> bool {
        let maps = self.lock();
        let from = format!("{account}/");
        maps.by_account.range(from.clone()..).next().is_some_and(|k| k.starts_with(&from))
    }

    /// Applies a request's changes, each only if it does not move a record back.
    pub fn apply(&self, staged: Staged) {
        let mut maps = self.lock();
        for o in staged.orders {
            if maps.orders.get(&o.id).is_some_and(|old| rank(old.status) > rank(o.status)) {
                continue;
            }
            maps.by_account.insert(account_order_key(&o.account_id, &o.id));
            maps.orders.insert(o.id.clone(), o);
        }
        for a in staged.authzs {
            if maps.authzs.get(&a.id).is_some_and(|old| rank(old.status) > rank(a.status)) {
                continue;
            }
            maps.authzs.insert(a.id.clone(), a);
        }
    }

    /// Forgets orders and authorizations expired before `cutoff`, at most `max` of them in
    /// all; returns how many of each.
    pub fn expire(&self, cutoff: OffsetDateTime, max: usize) -> (usize, usize) {
        let mut maps = self.lock();
        let orders: Vec<(String, String)> = maps
            .orders
            .values()
            .filter(|o| o.expires <= cutoff)
            .take(max)
            .map(|o| (o.id.clone(), o.account_id.clone()))
            .collect();
        for (id, account) in &orders {
            maps.orders.remove(id);
            maps.by_account.remove(&account_order_key(account, id));
        }
        let authzs: Vec<String> = maps
            .authzs
            .values()
            .filter(|a| a.expires <= cutoff)
            .take(max - orders.len())
            .map(|a| a.id.clone())
            .collect();
        for id in &authzs {
            maps.authzs.remove(id);
        }
        (orders.len(), authzs.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn order(id: &str, account: &str, status: Status, expires: OffsetDateTime) -> OrderRec {
        OrderRec {
            id: id.into(),
            account_id: account.into(),
            identifier: "client-id".into(),
            status,
            expires,
            authz_id: format!("{id}-authz"),
            cert_id: None,
            error: None,
        }
    }

    #[test]
    fn a_status_never_moves_back_and_an_account_lists_its_own_orders() {
        let p = Pending::default();
        let t = datetime!(2026-12-07 12:00 UTC);
        let stage = |o: OrderRec| p.apply(Staged { orders: vec![o], authzs: vec![] });
        stage(order("b", "acct", Status::Pending, t));
        stage(order("a", "acct", Status::Ready, t));
        stage(order("c", "acct2", Status::Pending, t));
        stage(order("a", "acct", Status::Invalid, t));
        // A request that read the order before it was invalidated cannot make it ready again.
        stage(order("a", "acct", Status::Ready, t));
        assert_eq!(p.order("a").unwrap().status, Status::Invalid);
        let ids = |v: Vec<OrderRec>| v.into_iter().map(|o| o.id).collect::<Vec<_>>();
        assert_eq!(ids(p.orders_of("acct", None)), ["a", "b"]);
        assert_eq!(ids(p.orders_of("acct", Some("a"))), ["b"]);
        assert!(p.has_orders("acct2") && !p.has_orders("acct3") && !p.has_orders("acc"));
        assert_eq!(p.count(), 3);
    }

    #[test]
    fn expiry_forgets_only_what_expired_and_stays_within_its_bound() {
        let p = Pending::default();
        let t = datetime!(2026-12-07 12:00 UTC);
        let orders = (0..5).map(|i| order(&format!("o{i}"), "acct", Status::Pending, t)).collect();
        p.apply(Staged { orders, authzs: vec![] });
        p.apply(Staged {
            orders: vec![order("late", "acct", Status::Pending, t + time::Duration::hours(2))],
            authzs: vec![],
        });
        assert_eq!(p.expire(t, 3), (3, 0));
        assert_eq!(p.expire(t, 10), (2, 0));
        assert_eq!(p.count(), 1);
        assert!(p.order("late").is_some());
        assert_eq!(p.orders_of("acct", None).len(), 1);
    }
}
