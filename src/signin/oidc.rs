//! Signing a device's user in with OpenID Connect: the page's button leads to
//! [`SignIn::oidc_link`], which asks the provider for a fresh authorization request (state,
//! nonce, PKCE) and binds it to the waiting attempt on the server; the provider sends the user
//! back to the callback, [`SignIn::oidc_callback`] finds the attempt by its `state` (once),
//! lets the directory exchange the code and verify the ID token, and finishes exactly as the
//! password form does (group rule, profile, stored user, audit, timeline).

use super::{SignIn, SubmitError};
use crate::directory::SignInFailure;
use std::net::IpAddr;

/// What the provider sent back to the callback.
pub enum ProviderAnswer {
    /// `code`, and the `iss` parameter if the provider sent one (RFC 9207).
    Code { code: String, issuer: Option<String> },
    /// `error` and `error_description` (e.g. `access_denied` when the user cancelled).
    Error { error: String, description: Option<String> },
}

/// Why the callback did not give the device its profile; `retry` names the attempt when the
/// user may try the provider again.
#[derive(Debug)]
pub struct OidcFailure {
    pub error: SubmitError,
    pub retry: Option<String>,
}

impl From<SubmitError> for OidcFailure {
    fn from(error: SubmitError) -> Self {
        OidcFailure { error, retry: None }
    }
}

impl From<crate::store::StoreError> for OidcFailure {
    fn from(e: crate::store::StoreError) -> Self {
        SubmitError::from(e).into()
    }
}

/// Who the audit log names for a failure before the provider named the user.
const UNNAMED: &str = "(OpenID Connect user)";

impl SignIn {
    /// A new authorization request at the provider for `attempt_id`: the URL to send the user
    /// to. The request's state, nonce and PKCE verifier stay with the attempt.
    pub async fn oidc_link(&self, attempt_id: &str) -> Result<String, SubmitError> {
        let now = self.inner.clock.now();
        let attempt = self.inner.attempts.get(attempt_id, now).ok_or(SubmitError::Expired)?;
        if attempt.source != crate::directory::Source::Oidc {
            return Err(SubmitError::Forged);
        }
        let (url, pending) = self.inner.directory.oidc_begin().await?;
        if !self.inner.attempts.set_oidc(attempt_id, pending, now) {
            return Err(SubmitError::Expired);
        }
        Ok(url)
    }

    /// The provider sent the user back with `state` and `answer`: finish the sign-in.
    pub async fn oidc_callback(
        &self,
        state: &str,
        answer: ProviderAnswer,
        addr: Option<IpAddr>,
    ) -> Result<Vec<u8>, OidcFailure> {
        let now = self.inner.clock.now();
        let (id, attempt, pending) =
            self.inner.attempts.take_oidc(state, now).ok_or(SubmitError::Expired)?;
        let mi = &attempt.admitted.machine_info;
        let retry = |error: SubmitError| OidcFailure { error, retry: Some(id.clone()) };
        let code = match answer {
            ProviderAnswer::Error { error, description } => {
                let words = provider_error(&error, description.as_deref());
                self.audit_failure(mi, UNNAMED, addr, &words).await?;
                return Err(retry(SignInFailure::Provider(words).into()));
            }
            ProviderAnswer::Code { issuer: Some(iss), .. } if iss != pending.issuer() => {
                let words = format!("the answer came from issuer \"{iss}\", not the one set up");
                self.audit_failure(mi, UNNAMED, addr, &words).await?;
                return Err(retry(SignInFailure::Provider(words).into()));
            }
            ProviderAnswer::Code { code, .. } => code,
        };
        let account = match self.inner.directory.oidc_finish(&pending, code).await {
            Ok(a) => a,
            Err(e) => {
                self.audit_failure(mi, UNNAMED, addr, &e.to_string()).await?;
                return Err(retry(e.into()));
            }
        };
        self.finish(&id, &attempt, account, addr).await.map_err(|e| match e {
            e @ SubmitError::NotAllowed { .. } => retry(e),
            e => OidcFailure { error: e, retry: None },
        })
    }
}

/// The provider's error in words for the audit log and the page (bounded, printable only).
fn provider_error(error: &str, description: Option<&str>) -> String {
    let clean = |s: &str| -> String { s.chars().filter(|c| !c.is_control()).take(200).collect() };
    let what = match error {
        "access_denied" => "the sign-in was cancelled or refused at the provider".to_string(),
        "login_required" | "interaction_required" => {
            "the provider needs the user to sign in".into()
        }
        other => format!("the provider answered \"{}\"", clean(other)),
    };
    match description.map(clean).filter(|d| !d.is_empty()) {
        Some(d) => format!("{what} ({d})"),
        None => what,
    }
}
