//! keyChange (RFC 8555 §7.3.5): an account rolls over to a new key. The outer JWS is an
//! ordinary request signed by the account's current key (`kid`); its payload is an inner JWS
//! signed by the new key, carrying it as `jwk`, for the same URL, without a nonce, whose
//! payload names the account and its old key. If another account already has the new key
//! the answer is 409 with that account's URL.

use super::records::{self, AccountRec};
use super::{AcmeError, Ctx, Endpoint, Reply, save};
use crate::crypto::jws::{self, Jwk, JwsError};
use serde_json::Value;

impl Ctx<'_> {
    pub(super) fn key_change(&self) -> Result<Reply, AcmeError> {
        let mut account: AccountRec = self.account.clone().ok_or_else(|| {
            AcmeError::Unauthorized("keyChange is signed by an account's key".into())
        })?;
        // §7.3.5 check 2: the inner JWS is well-formed, carries the new key, no nonce, and is
        // signed by that key.
        let inner = jws::parse_key_change(&self.payload).map_err(inner_error)?;
        let jws::KeyRef::Jwk(new_key) = &inner.key else {
            return Err(AcmeError::Malformed("the inner JWS carries no \"jwk\"".into()));
        };
        let payload = inner.verify(new_key).map_err(inner_error)?;
        // Check 3: the same URL as the outer JWS (which was checked against this endpoint).
        inner.check_url(&self.inner.url_of(&Endpoint::KeyChange)).map_err(|_| {
            AcmeError::Malformed("the inner JWS's \"url\" differs from the outer JWS's".into())
        })?;
        // Checks 4 and 5: the payload names this account and its current key.
        let body: Value = serde_json::from_slice(payload).map_err(|_| {
            AcmeError::Malformed("the inner JWS's payload is not a JSON object".into())
        })?;
        let account_url = self.inner.account_url(&account.id);
        if body.get("account").and_then(Value::as_str) != Some(account_url.as_str()) {
            return Err(AcmeError::Malformed(
                "the inner JWS's \"account\" is not the URL of the account signing the request"
                    .into(),
            ));
        }
        let old_key = body
            .get("oldKey")
            .map(Jwk::from_json)
            .transpose()
            .map_err(|e| AcmeError::Malformed(format!("the inner JWS's \"oldKey\": {e}")))?;
        if old_key.map(|k| k.thumbprint()).as_deref() != Some(account.thumbprint.as_str()) {
            return Err(AcmeError::Malformed(
                "the inner JWS's \"oldKey\" is not the account's current key".into(),
            ));
        }
        // Check 6: no account has the new key yet (this one included: nothing would change).
        let thumbprint = new_key.thumbprint();
        super::auth::refuse_deactivated_key(&self.tx, &thumbprint)?;
        if let Some(holder) = self.inner.account_of_key(&self.tx, &thumbprint)? {
            return Err(AcmeError::Conflict {
                detail: "an account already has the new key; keys are not shared between \
                         accounts"
                    .into(),
                location: self.inner.account_url(&holder.id),
            });
        }
        let mut keys = self.wtx()?.open_table(records::ACCOUNT_KEYS)?;
        keys.remove(account.thumbprint.as_bytes())?;
        drop(keys);
        save(self.wtx()?, records::ACCOUNT_KEYS, &thumbprint, &account.id)?;
        account.thumbprint = thumbprint;
        account.jwk = new_key.to_json();
        save(self.wtx()?, records::ACCOUNTS, &account.id, &account)?;
        log::info!(account = account.id.as_str(); "ACME: account key changed");
        let mut r = Reply::json(200, self.inner.account_json(&account));
        r.location = Some(account_url);
        Ok(r)
    }
}

/// An inner JWS refusal: an unsupported algorithm stays `badSignatureAlgorithm` (with the
/// accepted ones listed); anything else is `malformed`, saying it is about the inner JWS.
fn inner_error(e: JwsError) -> AcmeError {
    match e {
        JwsError::BadSignatureAlgorithm(_) => e.into(),
        JwsError::Malformed(why) => {
            AcmeError::Malformed(format!("the keyChange payload is not a valid inner JWS: {why}"))
        }
        JwsError::BadSignature => {
            AcmeError::Malformed("the inner JWS is not signed by the key it carries".into())
        }
        other => AcmeError::Malformed(format!("the inner JWS is refused: {other}")),
    }
}
