//! Accounts (RFC 8555 §7.3): creation by key, the account object with its `orders` URL
//! (§7.1.2), reading it and updating its contacts (§7.3.2), deactivation (§7.3.6), and the
//! orders list (§7.1.2.1), paginated with `Link: rel="next"`.
//!
//! Accounts are keyed by their key's RFC 7638 thumbprint (`acme.account_keys`) and stored;
//! an account's orders are held in memory with the orders ([`super::pending`]), so its list
//! shows the orders made since the server started.

use super::error::Problem;
use super::records::{self, AccountRec, AccountStatus, Expectation, OrderRec, Status};
use super::{AcmeError, Ctx, Inner, Reply, load, save};
use crate::crypto::jws::JwsError;
use crate::urls;
use serde_json::{Value, json};

/// Orders per page of an orders list.
pub const ORDERS_PER_PAGE: usize = 50;
/// Most contact URLs an account keeps, and the longest one.
pub const MAX_CONTACTS: usize = 8;
pub const MAX_CONTACT_LEN: usize = 256;

impl Inner {
    pub(super) fn account_url(&self, id: &str) -> String {
        self.urls.acme(&format!("{}/{id}", urls::ACME_ACCOUNT))
    }

    /// An account's orders list, from `cursor` on (RFC 8555 §7.1.2.1).
    pub(super) fn orders_url(&self, account: &str, cursor: Option<&str>) -> String {
        let base =
            self.urls.acme(&format!("{}/{account}/{}", urls::ACME_ACCOUNT, urls::ACME_ORDERS));
        match cursor {
            Some(c) => format!("{base}?cursor={c}"),
            None => base,
        }
    }

    /// The account object (RFC 8555 §7.1.2). There are no terms of service to agree to.
    pub(super) fn account_json(&self, a: &AccountRec) -> Value {
        let mut v = json!({"status": a.status.as_str(), "orders": self.orders_url(&a.id, None)});
        if !a.contact.is_empty() {
            v["contact"] = json!(a.contact);
        }
        v
    }
}

impl Ctx<'_> {
    /// new-account: 201 with a new account, 200 with the existing one for a known key
    /// (RFC 8555 §7.3, §7.3.1).
    pub(super) fn new_account(&self) -> Result<Reply, AcmeError> {
        let payload = self.json_payload()?;
        let reply = |status, a: &AccountRec| {
            let mut r = Reply::json(status, self.inner.account_json(a));
            r.location = Some(self.inner.account_url(&a.id));
            r
        };
        if let Some(existing) = &self.account {
            return Ok(reply(200, existing));
        }
        if payload.get("onlyReturnExisting").and_then(Value::as_bool) == Some(true) {
            return Err(JwsError::NoAccountForKey.into());
        }
        let contact = match payload.get("contact") {
            Some(c) => contacts(c)?,
            None => Vec::new(),
        };
        let (limits, max) = (&self.inner.limits, self.inner.options.max_unfinished);
        super::limits::check_cap(
            self.wtx()?,
            limits,
            max,
            self.now,
            super::limits::Stored::Accounts,
        )?;
        let rec = AccountRec {
            id: crate::crypto::random_token::<12>(),
            thumbprint: self.jwk.thumbprint(),
            jwk: self.jwk.to_json(),
            created_at: self.now,
            status: AccountStatus::Valid,
            contact,
        };
        save(self.wtx()?, records::ACCOUNTS, &rec.id, &rec)?;
        save(self.wtx()?, records::ACCOUNT_KEYS, &rec.thumbprint, &rec.id)?;
        Ok(reply(201, &rec))
    }

    /// The requester's own account: read with POST-as-GET, or updated (`contact`, and
    /// `status: "deactivated"`) by a payload (RFC 8555 §7.3.2, §7.3.6).
    pub(super) fn account(&self, id: &str) -> Result<Reply, AcmeError> {
        let mut rec = self.own_account(id)?.clone();
        if !self.payload.is_empty() {
            let payload = self.json_payload()?;
            if let Some(c) = payload.get("contact") {
                rec.contact = contacts(c)?;
            }
            match payload.get("status") {
                None => {}
                Some(s) if s == "deactivated" => rec.status = AccountStatus::Deactivated,
                // Restating the current status changes nothing.
                Some(s) if s == "valid" => {}
                Some(_) => {
                    return Err(AcmeError::Malformed(
                        "an account's status can only be changed to \"deactivated\"".into(),
                    ));
                }
            }
            save(self.wtx()?, records::ACCOUNTS, &rec.id, &rec)?;
            if rec.status == AccountStatus::Deactivated {
                self.cancel_orders(&rec.id)?;
                log::info!(account = rec.id.as_str(); "ACME: account deactivated by its key");
            }
        }
        Ok(Reply::json(200, self.inner.account_json(&rec)))
    }

    /// The orders of the requester's account that are not invalid, in id order, one page
    /// from `cursor` on; `Link: rel="next"` names the next page (RFC 8555 §7.1.2.1).
    pub(super) fn orders(&self, account: &str, cursor: Option<&str>) -> Result<Reply, AcmeError> {
        self.require_post_as_get()?;
        self.own_account(account)?;
        if let Some(c) = cursor
            && !is_id(c)
        {
            return Err(AcmeError::Malformed("the orders list cursor is not an order id".into()));
        }
        let (mut urls, mut last, mut more) = (Vec::new(), None, false);
        for order in self.inner.pending.orders_of(account, cursor) {
            if !self.listed(&order) {
                continue;
            }
            if urls.len() == ORDERS_PER_PAGE {
                more = true;
                break;
            }
            urls.push(self.inner.order_url(&order.id));
            last = Some(order.id);
        }
        let mut r = Reply::json(200, json!({"orders": urls}));
        if more {
            r.link_next = Some(self.inner.orders_url(account, last.as_deref()));
        }
        Ok(r)
    }

    /// RFC 8555 §7.1.2.1: pending orders are listed, invalid ones are not (an expired pending
    /// or ready order is invalid, §7.1.6).
    fn listed(&self, o: &OrderRec) -> bool {
        match o.status {
            Status::Invalid | Status::Deactivated => false,
            Status::Pending | Status::Ready => o.expires > self.now,
            Status::Processing | Status::Valid => true,
        }
    }

    /// The requester's account, which must be the one at `id`.
    fn own_account(&self, id: &str) -> Result<&AccountRec, AcmeError> {
        match &self.account {
            Some(a) if a.id == id => Ok(a),
            _ => Err(AcmeError::Unauthorized(
                "this request is signed by the key of another account than the one at this URL"
                    .into(),
            )),
        }
    }

    /// RFC 8555 §7.3.6: a deactivated account's pending work is cancelled. Its unfinished
    /// orders become invalid, their authorizations deactivated, and a ClientIdentifier it
    /// held but never got a certificate for is released, so the device can start again with
    /// a new account.
    fn cancel_orders(&self, account: &str) -> Result<(), AcmeError> {
        let gone =
            Problem::new("unauthorized", "the account that placed this order was deactivated");
        for mut order in self.inner.pending.orders_of(account, None) {
            if matches!(order.status, Status::Pending | Status::Ready) {
                order.status = Status::Invalid;
                order.error = Some(gone.clone());
                self.stage_order(&order);
            }
            if let Some(mut authz) = self.authz_rec(&order.authz_id)
                && matches!(authz.status, Status::Pending | Status::Valid)
            {
                authz.status = Status::Deactivated;
                self.stage_authz(&authz);
            }
            if let Some(mut exp) =
                load::<Expectation>(&self.tx, records::EXPECTED, &order.identifier)?
                && exp.cert_id.is_none()
                && exp.account_id.as_deref() == Some(account)
            {
                exp.account_id = None;
                save(self.wtx()?, records::EXPECTED, &order.identifier, &exp)?;
            }
        }
        Ok(())
    }
}

/// Whether `s` could be one of our ids (base64url): anything else in a cursor is refused
/// before it reaches a URL.
fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A `contact` array (RFC 8555 §7.3): `mailto:` URLs of one plain address each, without
/// header fields. Other schemes are `unsupportedContact`; malformed ones `invalidContact`.
pub(super) fn contacts(v: &Value) -> Result<Vec<String>, AcmeError> {
    let list = v.as_array().ok_or_else(|| {
        AcmeError::Malformed("\"contact\" must be an array of mailto: URLs".into())
    })?;
    if list.len() > MAX_CONTACTS {
        return Err(AcmeError::InvalidContact(format!(
            "an account has at most {MAX_CONTACTS} contacts, not {}",
            list.len()
        )));
    }
    list.iter().map(contact).collect()
}

fn contact(v: &Value) -> Result<String, AcmeError> {
    let url =
        v.as_str().ok_or_else(|| AcmeError::Malformed("every contact must be a string".into()))?;
    let shown: String = url.chars().take(80).collect();
    if url.len() > MAX_CONTACT_LEN {
        return Err(AcmeError::InvalidContact(format!(
            "the contact \"{shown}…\" is over {MAX_CONTACT_LEN} characters"
        )));
    }
    let Some((scheme, address)) = url.split_once(':') else {
        return Err(AcmeError::InvalidContact(format!("the contact \"{shown}\" is not a URL")));
    };
    if !scheme.eq_ignore_ascii_case("mailto") {
        return Err(AcmeError::UnsupportedContact(format!(
            "the contact \"{shown}\" is not a mailto: URL; only mailto: contacts are supported"
        )));
    }
    let plain = address.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !domain.is_empty() && !domain.contains('@')
    });
    let bad_char = address.chars().any(|c| c.is_whitespace() || c.is_control() || c == ',');
    if address.contains('?') {
        return Err(AcmeError::InvalidContact(format!(
            "the contact \"{shown}\" has header fields (\"?…\"), which RFC 8555 §7.3 forbids"
        )));
    }
    if !plain || bad_char {
        return Err(AcmeError::InvalidContact(format!(
            "the contact \"{shown}\" is not one plain e-mail address (mailto:name@example.org)"
        )));
    }
    Ok(format!("mailto:{address}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_are_plain_mailto_addresses() {
        let ok = contacts(&json!(["mailto:admin@example.org", "MAILTO:it@example.org"])).unwrap();
        assert_eq!(ok, ["mailto:admin@example.org", "mailto:it@example.org"]);
        assert!(contacts(&json!([])).unwrap().is_empty());
        let kind = |v: Value| contacts(&v).unwrap_err().problem_type();
        assert_eq!(kind(json!(["tel:+1555"])), "unsupportedContact");
        assert_eq!(kind(json!(["https://example.org"])), "unsupportedContact");
        for bad in [
            "mailto:a@example.org?subject=x",
            "mailto:a@example.org,b@example.org",
            "mailto:nobody",
            "mailto:@example.org",
            "mailto:a b@example.org",
            "no-scheme",
        ] {
            assert_eq!(kind(json!([bad])), "invalidContact", "{bad}");
        }
        assert_eq!(kind(json!(vec!["mailto:a@example.org"; 9])), "invalidContact");
        assert_eq!(
            kind(json!([format!("mailto:{}@example.org", "a".repeat(300))])),
            "invalidContact"
        );
        assert_eq!(kind(json!("mailto:a@example.org")), "malformed");
        assert_eq!(kind(json!([1])), "malformed");
    }

    #[test]
    fn a_cursor_is_an_id() {
        assert!(is_id("AbC-_09"));
        for bad in ["", "a/b", "a?b", "a b", "é"] {
            assert!(!is_id(bad), "{bad}");
        }
    }
}
