//! Orders for one `permanent-identifier` bound to an expected device, and reading orders and
//! authorizations (RFC 8555 §7.4, §7.5).

use super::records::{self, AuthzRec, Expectation, OrderRec, Status};
use super::render::PERMANENT_IDENTIFIER;
use super::{AcmeError, Ctx, Reply, Tx, load, save};
use serde_json::Value;

/// Longest identifier value accepted.
const MAX_IDENTIFIER_LEN: usize = 256;

/// A certificate this close to its expiry (or a third of its lifetime, if shorter) may be
/// renewed with the same ClientIdentifier.
pub const RENEWAL_WINDOW: time::Duration = time::Duration::days(30);

/// Whether `exp` was used for a certificate that is now near its expiry and not revoked: a
/// device renewing its identity by running the installed ACME payload again. How Apple
/// devices renew is not documented (../shared/spec/enrollment.md §3.6, UNCERTAIN), so both
/// ways are tolerated: this one, and a re-delivered profile with a new ClientIdentifier (an
/// ordinary first order).
pub(super) fn renewable(
    wtx: &impl Tx,
    exp: &Expectation,
    now: time::OffsetDateTime,
) -> Result<bool, AcmeError> {
    let Some(cert_id) = &exp.cert_id else { return Ok(false) };
    let Some(cert) = load::<records::CertRec>(wtx, records::CERTS, cert_id)? else {
        return Ok(false);
    };
    let window = RENEWAL_WINDOW.min((cert.not_after - cert.issued_at) / 3);
    Ok(cert.revoked.is_none() && cert.not_after - now <= window)
}

impl Ctx<'_> {
    /// new-order: exactly one `permanent-identifier` whose value is a ClientIdentifier an
    /// enrollment registered, unexpired, not used for a certificate, and not taken by another
    /// account. Creates the order, its authorization and its challenge.
    pub(super) fn new_order(&self) -> Result<Reply, AcmeError> {
        let account_id = self.account_id()?.to_string();
        let payload = self.json_payload()?;
        let ids = payload
            .get("identifiers")
            .and_then(Value::as_array)
            .ok_or_else(|| AcmeError::Malformed("the order has no \"identifiers\" array".into()))?;
        let [ident] = ids.as_slice() else {
            return Err(AcmeError::RejectedIdentifier(
                "an order must name exactly one permanent-identifier".into(),
            ));
        };
        let kind = ident.get("type").and_then(Value::as_str).unwrap_or_default();
        if kind != PERMANENT_IDENTIFIER {
            return Err(AcmeError::UnsupportedIdentifier(format!(
                "identifier type \"{}\" is not supported; only permanent-identifier is",
                kind.chars().take(40).collect::<String>()
            )));
        }
        let value = ident
            .get("value")
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty() && v.len() <= MAX_IDENTIFIER_LEN)
            .ok_or_else(|| AcmeError::Malformed(format!(
                    "the identifier's \"value\" must be a string of 1 to {MAX_IDENTIFIER_LEN} characters"
                )))?;
        let unknown = || {
            AcmeError::RejectedIdentifier(
                "this identifier was not issued by this appliance's enrollment, or it expired; \
                 install the enrollment profile again"
                    .into(),
            )
        };
        let mut exp =
            load::<Expectation>(&self.tx, records::EXPECTED, value)?.ok_or_else(unknown)?;
        let renewal = renewable(&self.tx, &exp, self.now)?;
        if renewal {
            // The attestation proves the device again; it may come with a new account key.
            exp.account_id = Some(account_id.clone());
            save(self.wtx()?, records::EXPECTED, value, &exp)?;
        } else if exp.expires_at <= self.now {
            return Err(unknown());
        } else if exp.cert_id.is_some() {
            return Err(AcmeError::RejectedIdentifier(
                "this identifier was already used for a certificate; it may order again only \
                 when that certificate is near its expiry"
                    .into(),
            ));
        }
        match &exp.account_id {
            _ if renewal => {}
            Some(owner) if owner != &account_id => {
                return Err(AcmeError::RejectedIdentifier(
                    "this identifier is bound to another ACME account".into(),
                ));
            }
            Some(_) => {}
            None => {
                exp.account_id = Some(account_id.clone());
                save(self.wtx()?, records::EXPECTED, value, &exp)?;
            }
        }
        let expires = if renewal {
            self.now + self.inner.options.order_lifetime
        } else {
            (self.now + self.inner.options.order_lifetime).min(exp.expires_at)
        };
        let (limits, max) = (&self.inner.limits, self.inner.options.max_unfinished);
        let held = super::limits::Stored::Orders(self.inner.pending.count());
        super::limits::check_cap(self.wtx()?, limits, max, self.now, held)?;
        let (order_id, authz_id) =
            (crate::crypto::random_token::<12>(), crate::crypto::random_token::<12>());
        let order = OrderRec {
            id: order_id.clone(),
            account_id: account_id.clone(),
            identifier: value.to_string(),
            status: Status::Pending,
            expires,
            authz_id: authz_id.clone(),
            cert_id: None,
            error: None,
        };
        let authz = AuthzRec {
            id: authz_id.clone(),
            order_id: order_id.clone(),
            account_id,
            identifier: value.to_string(),
            status: Status::Pending,
            expires,
            token: crate::crypto::random_token::<16>(),
            challenge_status: Status::Pending,
            validated: None,
            challenge_error: None,
            attested_spki_hex: None,
        };
        // Held in memory, not stored ([`super::pending`]).
        self.stage_order(&order);
        self.stage_authz(&authz);
        let mut r = Reply::json(201, self.inner.order_json(&order));
        r.location = Some(self.inner.order_url(&order_id));
        Ok(r)
    }

    /// An order of the requesting account.
    pub(super) fn own_order(&self, id: &str) -> Result<OrderRec, AcmeError> {
        let order = self.order_rec(id).ok_or_else(|| {
            AcmeError::NotFound(
                "there is no order at this URL: orders are removed a day after they expire, and \
                 a restart of the server forgets them; start a new order"
                    .into(),
            )
        })?;
        if order.account_id != self.account_id()? {
            return Err(AcmeError::Unauthorized("this order belongs to another account".into()));
        }
        Ok(order)
    }

    /// An authorization of the requesting account.
    pub(super) fn own_authz(&self, id: &str) -> Result<AuthzRec, AcmeError> {
        let authz = self.authz_rec(id).ok_or_else(|| {
            AcmeError::NotFound(
                "there is no authorization at this URL: authorizations are removed a day after \
                 they expire, and a restart of the server forgets them; start a new order"
                    .into(),
            )
        })?;
        if authz.account_id != self.account_id()? {
            return Err(AcmeError::Unauthorized(
                "this authorization belongs to another account".into(),
            ));
        }
        Ok(authz)
    }

    pub(super) fn order(&self, id: &str) -> Result<Reply, AcmeError> {
        self.require_post_as_get()?;
        let order = self.own_order(id)?;
        Ok(Reply::json(200, self.inner.order_json(&order)))
    }

    pub(super) fn authz(&self, id: &str) -> Result<Reply, AcmeError> {
        self.require_post_as_get()?;
        let authz = self.own_authz(id)?;
        Ok(Reply::json(200, self.inner.authz_json(&authz)))
    }
}
