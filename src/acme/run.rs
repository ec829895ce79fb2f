//! How a signed request runs once checked ([`super::AcmeService::commit`]): in a read
//! transaction of the last commit first for the endpoints that usually only read
//! ([`reads_first`]), through the store's writer otherwise or when the read turns out to need
//! a write ([`Ctx::wtx`]); and how a request sees and stages the orders and authorizations
//! held in memory ([`super::pending`]), whose changes are applied only once it succeeded.

use super::{AcmeError, Ctx, Endpoint, Inner, Prepared, Reply, Tx, pending, records};
use crate::store;
use serde::de::DeserializeOwned;

/// The transaction a [`Ctx`] reads through.
#[derive(Clone, Copy)]
pub(super) enum TxRef<'a> {
    Read(&'a redb::ReadTransaction),
    Write(&'a redb::WriteTransaction),
}

impl Tx for TxRef<'_> {
    fn load_rec<T: DeserializeOwned>(
        &self,
        def: store::Table,
        key: &str,
    ) -> Result<Option<T>, AcmeError> {
        match self {
            TxRef::Read(rtx) => rtx.load_rec(def, key),
            TxRef::Write(wtx) => wtx.load_rec(def, key),
        }
    }
}

/// The endpoints whose requests usually only read: they run in a read transaction first and
/// reach the store's writer only if they turn out to write.
pub(super) fn reads_first(endpoint: &Endpoint) -> bool {
    matches!(
        endpoint,
        Endpoint::Account(_)
            | Endpoint::Orders { .. }
            | Endpoint::Order(_)
            | Endpoint::Authz(_)
            | Endpoint::Challenge(_)
            | Endpoint::Cert(_)
    )
}

impl Inner {
    /// Carries out `p` in `tx`; `None` when `tx` is a read and the request needs to write.
    pub(super) fn run(
        &self,
        tx: TxRef<'_>,
        p: Prepared,
    ) -> Result<Option<(Reply, pending::Staged)>, AcmeError> {
        let Prepared { endpoint, req, jwk, payload, now, checked } = p;
        let (account, current) = self.resolve_key(&tx, &req.key, &endpoint)?;
        if current != jwk {
            req.verify(&current)?;
        }
        let ctx = Ctx {
            inner: self,
            tx,
            now,
            account,
            jwk: current,
            payload,
            checked,
            staged: Default::default(),
            wanted_write: Default::default(),
        };
        let reply = ctx.dispatch(endpoint);
        if ctx.wanted_write.get() {
            return Ok(None);
        }
        Ok(Some((reply?, ctx.staged.into_inner())))
    }
}

impl<'a> Ctx<'a> {
    /// The write transaction; in a read, marks the request as needing the writer and fails.
    pub(super) fn wtx(&self) -> Result<&'a redb::WriteTransaction, AcmeError> {
        match self.tx {
            TxRef::Write(wtx) => Ok(wtx),
            TxRef::Read(_) => {
                self.wanted_write.set(true);
                Err(AcmeError::Issue(
                    "this request writes; it runs again in the store's writer".into(),
                ))
            }
        }
    }

    /// An order as this request sees it: its own staged change, else the one held.
    pub(super) fn order_rec(&self, id: &str) -> Option<records::OrderRec> {
        let staged = self.staged.borrow().order(id).cloned();
        staged.or_else(|| self.inner.pending.order(id))
    }

    pub(super) fn authz_rec(&self, id: &str) -> Option<records::AuthzRec> {
        let staged = self.staged.borrow().authz(id).cloned();
        staged.or_else(|| self.inner.pending.authz(id))
    }

    /// Stages an order's new state ([`pending`]).
    pub(super) fn stage_order(&self, order: &records::OrderRec) {
        self.staged.borrow_mut().orders.push(order.clone());
    }

    pub(super) fn stage_authz(&self, authz: &records::AuthzRec) {
        self.staged.borrow_mut().authzs.push(authz.clone());
    }
}
