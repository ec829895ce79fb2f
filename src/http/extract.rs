//! Request extractors: who is calling (session or API token, with CSRF checks) and whether
//! their role may call this route (the one place permissions are enforced, from the route
//! table in `api::permissions`), from which address, and with which TLS client certificate.

use super::api::permissions::{Access, Route};
use super::error::ApiError;
use super::error::device::identity_refused;
use super::state::AppState;
use crate::admin::{Permission, Principal, Role};
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use rustls_pki_types::CertificateDer;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

pub const SESSION_COOKIE: &str = "adebox_session";
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// An authenticated caller of the admin API whose role holds what the matched route needs
/// (`api::permissions::ROUTES`). For a session, state-changing requests must carry the
/// session's CSRF token and must not come from another site.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub principal: Principal,
    /// The session cookie value, when signed in with one (logout and password change need it).
    pub session_cookie: Option<String>,
}

impl Authenticated {
    pub fn actor(&self) -> crate::audit::Actor {
        self.principal.actor()
    }

    pub fn role(&self) -> Role {
        self.principal.role()
    }

    /// For what a handler decides beyond its route (e.g. whose API tokens to list): the
    /// role holds it and the scope does not rule it out.
    pub fn holds(&self, permission: Permission) -> bool {
        self.principal.holds(permission)
    }
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    /// The caller the `/api/v1` middleware ([`super::authz`]) established and authorized
    /// before the route ran. Without it (a route outside that scope), the same checks run
    /// here against the matched route, refusing a route the table does not list.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            if let Some(done) = req.extensions().get::<Authenticated>() {
                return Ok(done.clone());
            }
            let auth = authenticate(req.clone()).await?;
            let pattern = req.match_pattern();
            let route = pattern
                .as_deref()
                .and_then(|p| super::api::permissions::lookup_route(req.method().as_str(), p));
            authorize(&req, route, &auth.principal)?;
            Ok(auth)
        })
    }
}

/// Checks `principal` against the route's row: its role, then its scope (a scoped
/// principal is refused organisation-wide routes); no row at all is refused for everyone
/// rather than left open.
pub(super) fn authorize(
    req: &HttpRequest,
    route: Option<&Route>,
    principal: &Principal,
) -> Result<(), ApiError> {
    match route.map(|r| (r, r.access)) {
        Some((_, Access::Public | Access::SignedIn)) => Ok(()),
        Some((route, Access::Needs(p))) => {
            crate::admin::require(principal.role(), p).map_err(ApiError::missing_permission)?;
            match super::api::permissions::org_wide(route) {
                Some(what) => Ok(principal.scope().require_all(what)?),
                None => Ok(()),
            }
        }
        None => Err(ApiError::forbidden(format!(
            "no permission is declared for {} {}, so it is refused for everyone",
            req.method(),
            req.match_pattern().as_deref().unwrap_or(req.path())
        ))),
    }
}

/// Who is calling: an API token, or a session cookie with its CSRF checks for changes.
pub(super) async fn authenticate(req: HttpRequest) -> Result<Authenticated, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal(&"application state missing"))?
        .clone();
    if let Some(value) = req.headers().get(actix_web::http::header::AUTHORIZATION) {
        let token = value.to_str().ok().and_then(bearer_token);
        return match token {
            Some(t) => match state.admin.principal_for_token(t).await? {
                Some(principal) => Ok(Authenticated { principal, session_cookie: None }),
                None => Err(ApiError::unauthenticated_because(
                    "this API token is not valid or was revoked; create a new one under Settings → API tokens",
                )),
            },
            None => Err(ApiError::unauthenticated_because(
                "send API tokens as `Authorization: Bearer <token>`: the word Bearer, one \
                 space, and the token with no space before or after it",
            )),
        };
    }
    let Some(cookie) = req.cookie(SESSION_COOKIE) else {
        return Err(ApiError::unauthenticated());
    };
    let cookie = cookie.value().to_string();
    let Some(principal) = state.admin.principal_for_session(&cookie).await? else {
        return Err(ApiError::unauthenticated_because("your session has ended; sign in again"));
    };
    if !is_safe(req.method()) {
        check_same_site(&req)?;
        let Principal::Session { csrf_token, .. } = &principal else {
            unreachable!("a cookie yields a session principal")
        };
        let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !constant_time_eq(sent.as_bytes(), csrf_token.as_bytes()) {
            return Err(ApiError::csrf(
                "this request lacks the page's CSRF token; reload the page and try again",
            ));
        }
    }
    Ok(Authenticated { principal, session_cookie: Some(cookie) })
}

/// The token of `Bearer <token>` (RFC 6750 §2.1: one space, a token without spaces). Extra
/// spaces are refused rather than trimmed: a header built wrongly is a client bug to report.
pub(super) fn bearer_token(header: &str) -> Option<&str> {
    header.strip_prefix("Bearer ").filter(|t| !t.is_empty() && !t.contains(char::is_whitespace))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Browsers say where a request comes from; refuse cross-site ones outright.
pub fn check_same_site(req: &HttpRequest) -> Result<(), ApiError> {
    let cross = req
        .headers()
        .get("Sec-Fetch-Site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site");
    if cross {
        return Err(ApiError::csrf("cross-site requests are not accepted"));
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// The client's IP address (the TCP peer: the appliance is not meant to sit behind a proxy).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequest for ClientIp {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(ClientIp(req.peer_addr().map(|a| a.ip()))))
    }
}

/// The TLS client certificate chain a connection presented (set per connection by the
/// listener; already verified against the appliance CA by rustls).
#[derive(Debug, Clone)]
pub struct PeerCertificates(pub Vec<CertificateDer<'static>>);

/// A required TLS client certificate: the leaf the client presented. Device routes use it;
/// absent, the request is refused with 403 (never 401, which devices treat as fatal).
#[derive(Debug, Clone)]
pub struct ClientCertificate(pub CertificateDer<'static>);

impl FromRequest for ClientCertificate {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let leaf = req.conn_data::<PeerCertificates>().and_then(|p| p.0.first().cloned());
        std::future::ready(leaf.map(ClientCertificate).ok_or_else(|| {
            identity_refused(
                "client_certificate_required",
                "this endpoint needs the device's identity certificate (TLS client certificate)",
            )
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bearer_token_is_exactly_bearer_space_token() {
        assert_eq!(bearer_token("Bearer adbx_abc"), Some("adbx_abc"));
        for bad in [
            "Bearer  adbx_abc",
            "Bearer adbx_abc ",
            "Bearer  adbx_abc  ",
            "Bearer ",
            "bearer x",
            "Bearer a b",
            "Bearer\tx",
        ] {
            assert_eq!(bearer_token(bad), None, "{bad:?}");
        }
    }
}
