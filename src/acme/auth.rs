//! Who a signed request comes from and where it was sent (RFC 8555 §6.2–6.3): the URL each
//! [`Endpoint`] must name in its JWS header, the key that must have signed it (the `jwk` of a
//! new-account request, or the key of the account its `kid` names), and the request's media
//! type. A deactivated account's key is refused here, for every request (§7.3.6).

use super::records::{self, AccountRec, AccountStatus};
use super::{AcmeError, Endpoint, Inner, Tx, load};
use crate::crypto::jws::{self, JwsError, KeyRef};
use crate::urls;

/// The media type of every signed ACME request (RFC 8555 §6.2).
pub const JOSE_JSON: &str = "application/jose+json";

/// RFC 8555 §6.2: a request whose `Content-Type` is not `application/jose+json` is refused
/// with 415. Parameters (`; charset=utf-8`) and case are tolerated: they do not change what
/// the body is.
pub fn check_content_type(content_type: Option<&str>) -> Result<(), AcmeError> {
    let essence = content_type.and_then(|ct| ct.split(';').next()).map(str::trim);
    match essence {
        Some(ct) if ct.eq_ignore_ascii_case(JOSE_JSON) => Ok(()),
        Some(ct) => Err(AcmeError::UnsupportedMediaType(format!(
            "the request's Content-Type is \"{}\"; ACME requests are sent as {JOSE_JSON}",
            ct.chars().take(80).collect::<String>()
        ))),
        None => Err(AcmeError::UnsupportedMediaType(format!(
            "the request has no Content-Type; ACME requests are sent as {JOSE_JSON}"
        ))),
    }
}

impl Inner {
    pub(super) fn url_of(&self, endpoint: &Endpoint) -> String {
        let u = &self.urls;
        match endpoint {
            Endpoint::NewAccount => u.acme(urls::ACME_NEW_ACCOUNT),
            Endpoint::NewOrder => u.acme(urls::ACME_NEW_ORDER),
            Endpoint::Account(id) => self.account_url(id),
            Endpoint::Orders { account, cursor } => self.orders_url(account, cursor.as_deref()),
            Endpoint::Order(id) => self.order_url(id),
            Endpoint::Authz(id) => self.authz_url(id),
            Endpoint::Challenge(id) => u.acme(&format!("{}/{id}", urls::ACME_CHALLENGE)),
            Endpoint::Finalize(id) => {
                u.acme(&format!("{}/{id}/{}", urls::ACME_ORDER, urls::ACME_FINALIZE))
            }
            Endpoint::Cert(id) => u.acme(&format!("{}/{id}", urls::ACME_CERT)),
            Endpoint::RevokeCert => u.acme(urls::ACME_REVOKE_CERT),
            Endpoint::KeyChange => u.acme(urls::ACME_KEY_CHANGE),
        }
    }

    /// The key a request is signed with: its `jwk` (new-account, and revokeCert signed with a
    /// certificate's key) or its account's. A deactivated account is refused.
    pub(super) fn resolve_key(
        &self,
        wtx: &impl Tx,
        key: &KeyRef,
        endpoint: &Endpoint,
    ) -> Result<(Option<AccountRec>, jws::Jwk), AcmeError> {
        let (account, jwk) = match (key, endpoint) {
            (KeyRef::Jwk(jwk), Endpoint::NewAccount) => {
                let thumbprint = jwk.thumbprint();
                refuse_deactivated_key(wtx, &thumbprint)?;
                (self.account_of_key(wtx, &thumbprint)?, jwk.clone())
            }
            // RFC 8555 §7.6: revocation may be signed with the certificate's own key.
            (KeyRef::Jwk(jwk), Endpoint::RevokeCert) => (None, jwk.clone()),
            (KeyRef::Jwk(_), _) => {
                return Err(AcmeError::Malformed(
                    "this request must name its account with \"kid\", not carry a \"jwk\"; only \
                     new-account (and revokeCert signed with the certificate's key) carry one"
                        .into(),
                ));
            }
            (KeyRef::Kid(_), Endpoint::NewAccount) => {
                return Err(AcmeError::Malformed(
                    "a new-account request must carry the account key as \"jwk\", not \"kid\""
                        .into(),
                ));
            }
            (KeyRef::Kid(kid), _) => {
                let prefix = self.urls.acme(&format!("{}/", urls::ACME_ACCOUNT));
                let unknown = || JwsError::AccountDoesNotExist(kid.chars().take(200).collect());
                let id = kid.strip_prefix(&prefix).ok_or_else(unknown)?;
                let account =
                    load::<AccountRec>(wtx, records::ACCOUNTS, id)?.ok_or_else(unknown)?;
                let jwk = jws::Jwk::from_json(&account.jwk)?;
                (Some(account), jwk)
            }
        };
        if let Some(a) = &account
            && a.status == AccountStatus::Deactivated
        {
            return Err(AcmeError::Unauthorized(
                "this account was deactivated and its key is no longer accepted (RFC 8555 \
                 §7.3.6); create a new account with a new key"
                    .into(),
            ));
        }
        Ok((account, jwk))
    }

    /// The account whose key has `thumbprint`, if any.
    pub(super) fn account_of_key(
        &self,
        wtx: &impl Tx,
        thumbprint: &str,
    ) -> Result<Option<AccountRec>, AcmeError> {
        match load::<String>(wtx, records::ACCOUNT_KEYS, thumbprint)? {
            Some(id) => load::<AccountRec>(wtx, records::ACCOUNTS, &id),
            None => Ok(None),
        }
    }
}

/// A key whose deactivated account upkeep deleted stays refused (RFC 8555 §7.3.6).
pub(super) fn refuse_deactivated_key(wtx: &impl Tx, thumbprint: &str) -> Result<(), AcmeError> {
    if load::<String>(wtx, records::DEACTIVATED_KEYS, thumbprint)?.is_some() {
        return Err(AcmeError::Unauthorized(
            "this key belonged to an account that was deactivated, and is no longer accepted \
             (RFC 8555 §7.3.6); create the account with a new key"
                .into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_jose_json_is_accepted_with_any_parameters_and_case() {
        for ok in ["application/jose+json", "Application/JOSE+JSON", "application/jose+json; x=1"] {
            check_content_type(Some(ok)).unwrap();
        }
        for bad in [Some("application/json"), Some("text/plain"), Some(""), None] {
            let err = check_content_type(bad).unwrap_err();
            assert!(matches!(err, AcmeError::UnsupportedMediaType(_)), "{bad:?}");
            assert_eq!(err.problem_type(), "malformed", "{bad:?}");
            assert!(err.to_string().contains(JOSE_JSON), "{err}");
        }
    }
}
