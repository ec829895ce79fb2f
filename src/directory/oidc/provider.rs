//! The OpenID Connect protocol with the provider, done by the `openidconnect` crate over the
//! product's one outbound HTTP client (`outbound`: rustls on ring, no redirects, timeouts):
//! discovery (`<issuer>/.well-known/openid-configuration`, the issuer must match, the JWKS
//! fetched), the authorization request (state, nonce and a PKCE S256 challenge, all kept
//! server-side in [`OidcPending`]), the code exchange (PKCE verifier and client secret) and the
//! ID-token checks (signature against the JWKS, issuer, audience, expiry, nonce). Every step
//! with the provider is bounded by the configured timeout (at most 10 s), and answers are
//! read up to [`MAX_ANSWER`] bytes.

use super::cache::DiscoveryCache;
use super::{OidcClientConfig, OidcSettings};
use crate::crypto::Secret;
use crate::directory::{Account, SignInFailure};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AsyncHttpClient, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    HttpRequest, HttpResponse, IdToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, SignatureVerificationError, TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use time::OffsetDateTime;

/// The largest answer read from the provider (discovery, JWKS, token).
pub const MAX_ANSWER: usize = 512 * 1024;

/// An authorization request in flight: what the callback needs to finish it. Kept with the
/// sign-in attempt on the server; only `state` travels (in the provider's redirect).
#[derive(Clone)]
pub struct OidcPending {
    pub state: String,
    nonce: Nonce,
    verifier: Secret<String>,
    metadata: Box<CoreProviderMetadata>,
    config: OidcClientConfig,
    redirect_uri: String,
}

impl std::fmt::Debug for OidcPending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OidcPending(..)")
    }
}

impl OidcPending {
    /// The issuer this request went to (the callback's `iss` parameter must name it).
    pub fn issuer(&self) -> &str {
        &self.config.settings.issuer
    }
}

/// One step of the connection test, in plain words.
#[derive(Clone, Debug, Serialize)]
pub struct TestStep {
    pub step: String,
    pub ok: bool,
    pub detail: String,
}

/// Every claim of a verified ID token, beyond the standard ones the crate types.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct OtherClaims(HashMap<String, serde_json::Value>);

impl openidconnect::AdditionalClaims for OtherClaims {}

type FullIdToken = IdToken<
    OtherClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// The asymmetric algorithms an ID token may be signed with (never `none`, never HMAC).
const ALGORITHMS: [CoreJwsSigningAlgorithm; 8] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
];

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpFailure(String);

/// The product's outbound client, as the crate's HTTP client.
struct Http {
    client: reqwest::Client,
}

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpFailure;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpFailure>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(send(&self.client, request))
    }
}

async fn send(client: &reqwest::Client, request: HttpRequest) -> Result<HttpResponse, HttpFailure> {
    let (parts, body) = request.into_parts();
    // The URL names the provider's endpoint only: the secret travels in a header or the body.
    let url = parts.uri.to_string();
    let failed =
        |e: reqwest::Error| HttpFailure(format!("{url}: {}", crate::outbound::describe(&e)));
    let mut resp = client
        .request(parts.method, &url)
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .map_err(failed)?;
    let mut out = openidconnect::http::Response::builder().status(resp.status());
    if let Some(h) = out.headers_mut() {
        *h = resp.headers().clone();
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(HttpFailure(format!(
                "{url}: the answer is larger than {MAX_ANSWER} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    out.body(body).map_err(|e| HttpFailure(format!("{url}: {e}")))
}

fn http(settings: &OidcSettings) -> Result<Http, SignInFailure> {
    let timeout = Duration::from_secs(settings.timeout_seconds);
    let trust = match &settings.ca_pem {
        Some(pem) => crate::outbound::TrustRoots::SystemAnd(vec![pem.clone()]),
        None => crate::outbound::TrustRoots::System,
    };
    // The client's own limits (connect includes the TLS handshake) are a little longer than
    // the step's ([`bounded`]), so a silent provider is reported as such.
    let config = crate::outbound::OutboundConfig {
        trust,
        connect_timeout: timeout + Duration::from_secs(1),
        request_timeout: timeout + Duration::from_secs(1),
        ..Default::default()
    };
    let client = crate::outbound::client(&config)
        .map_err(|e| SignInFailure::Unavailable(format!("OpenID Connect client: {e}")))?;
    Ok(Http { client })
}

/// `fut`, or Unavailable after the settings' timeout (a slow provider gets a page in time).
async fn bounded<T>(
    settings: &OidcSettings,
    what: &str,
    fut: impl Future<Output = Result<T, SignInFailure>>,
) -> Result<T, SignInFailure> {
    let limit = Duration::from_secs(settings.timeout_seconds);
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r,
        Err(_) => Err(SignInFailure::Unavailable(format!(
            "the OpenID provider {} did not answer {what} within {} s",
            settings.issuer, settings.timeout_seconds
        ))),
    }
}

/// Reads the discovery document and the JWKS; the issuer must match the settings.
async fn discover(
    settings: &OidcSettings,
    http: &Http,
) -> Result<CoreProviderMetadata, SignInFailure> {
    let issuer = IssuerUrl::new(settings.issuer.clone())
        .map_err(|e| SignInFailure::Unavailable(format!("issuer {}: {e}", settings.issuer)))?;
    bounded(settings, "discovery", async {
        CoreProviderMetadata::discover_async(issuer, http).await.map_err(|e| {
            SignInFailure::Unavailable(format!(
                "OpenID discovery at {}: {}",
                settings.issuer,
                error_chain(&e)
            ))
        })
    })
    .await
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// The provider's discovery document and JWKS: the ones `cache` keeps, else fetched (and
/// kept) at `now`.
async fn metadata(
    settings: &OidcSettings,
    http: &Http,
    cache: &DiscoveryCache,
    now: OffsetDateTime,
) -> Result<CoreProviderMetadata, SignInFailure> {
    if let Some(kept) = cache.get(settings, now) {
        return Ok(kept);
    }
    let fetched = discover(settings, http).await?;
    cache.put(settings, now, &fetched);
    Ok(fetched)
}

/// Starts a sign-in: discovery (kept in `cache`), then the authorization URL to send the user
/// to, with a fresh state, nonce and PKCE challenge kept in the returned [`OidcPending`].
pub async fn begin(
    config: &OidcClientConfig,
    redirect_uri: &str,
    cache: &DiscoveryCache,
    now: OffsetDateTime,
) -> Result<(String, OidcPending), SignInFailure> {
    let http = http(&config.settings)?;
    let metadata = metadata(&config.settings, &http, cache, now).await?;
    let client = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(config.settings.client_id.clone()),
        Some(ClientSecret::new(config.client_secret.expose().clone())),
    )
    .set_redirect_uri(redirect(redirect_uri)?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    // The crate always asks for `openid`.
    for scope in config.settings.scopes.iter().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
    let pending = OidcPending {
        state: state.secret().clone(),
        nonce,
        verifier: Secret::new(verifier.secret().clone()),
        metadata: Box::new(metadata),
        config: config.clone(),
        redirect_uri: redirect_uri.to_string(),
    };
    Ok((url.to_string(), pending))
}

fn redirect(uri: &str) -> Result<RedirectUrl, SignInFailure> {
    RedirectUrl::new(uri.to_string())
        .map_err(|e| SignInFailure::Unavailable(format!("redirect URI {uri}: {e}")))
}

/// Finishes a sign-in: exchanges `code` (with the PKCE verifier and the client secret),
/// verifies the ID token and reads the account from its claims. A token signed with a key the
/// kept JWKS lacks (the provider rotated its keys) is checked again against a fresh discovery,
/// which `cache` then keeps.
pub async fn finish(
    pending: &OidcPending,
    code: String,
    cache: &DiscoveryCache,
    now: OffsetDateTime,
) -> Result<Account, SignInFailure> {
    let settings = &pending.config.settings;
    let http = http(settings)?;
    let client = CoreClient::from_provider_metadata(
        (*pending.metadata).clone(),
        ClientId::new(settings.client_id.clone()),
        Some(ClientSecret::new(pending.config.client_secret.expose().clone())),
    )
    .set_redirect_uri(redirect(&pending.redirect_uri)?);
    let request = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| SignInFailure::Unavailable(format!("OpenID provider: {e}")))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.expose().clone()));
    let token = bounded(settings, "the code exchange", async {
        request.request_async(&http).await.map_err(|e| {
            let words = error_chain(&e);
            match e {
                openidconnect::RequestTokenError::ServerResponse(_) => {
                    SignInFailure::Provider(format!("the provider refused the code: {words}"))
                }
                _ => SignInFailure::Unavailable(format!("OpenID token request: {words}")),
            }
        })
    })
    .await?;
    let raw = token.id_token().ok_or_else(|| {
        SignInFailure::Provider(
            "the provider answered no ID token; check that the client may use the openid scope"
                .into(),
        )
    })?;
    let id_token: FullIdToken = raw
        .to_string()
        .parse()
        .map_err(|e| SignInFailure::Provider(format!("the ID token cannot be read: {e}")))?;
    let claims_with = |client: &CoreClient<_, _, _, _, _, _>| {
        let verifier = client.id_token_verifier().set_allowed_algs(ALGORITHMS);
        id_token.claims(&verifier, &pending.nonce).map(serde_json::to_value)
    };
    let claims = match claims_with(&client) {
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => {
            let fresh = discover(settings, &http).await?;
            cache.put(settings, now, &fresh);
            let client = CoreClient::from_provider_metadata(
                fresh,
                ClientId::new(settings.client_id.clone()),
                Some(ClientSecret::new(pending.config.client_secret.expose().clone())),
            );
            claims_with(&client)
        }
        other => other,
    };
    let json = claims
        .map_err(|e| SignInFailure::Provider(format!("the ID token was refused: {e}")))?
        .map_err(|e| SignInFailure::Provider(format!("the ID token's claims: {e}")))?;
    account_from(settings, &json)
}

/// The account the claims describe: the username from the configured claim, else `email`,
/// else `sub`; the display name, e-mail and groups from theirs.
pub(in crate::directory) fn account_from(
    settings: &OidcSettings,
    claims: &serde_json::Value,
) -> Result<Account, SignInFailure> {
    let text = |name: &str| {
        claims.get(name).and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty())
    };
    let username = [settings.username_claim.as_str(), "email", "sub"]
        .into_iter()
        .find_map(text)
        .ok_or_else(|| {
            SignInFailure::Provider(format!(
                "the ID token carries no \"{}\", \"email\" or \"sub\" claim to name the user",
                settings.username_claim
            ))
        })?
        .to_string();
    if crate::admin::username_rule(&username).is_err() {
        return Err(SignInFailure::Provider(format!(
            "the user name \"{}\" from the ID token is not a usable account name (1 to 64 letters, digits, ._@-); choose another username claim",
            username.chars().take(64).collect::<String>()
        )));
    }
    let display_name =
        text(&settings.display_name_claim).unwrap_or(&username).chars().take(128).collect();
    let email = text(&settings.email_claim).filter(|e| e.len() <= 254).map(str::to_string);
    let groups = match claims.get(&settings.groups_claim) {
        Some(serde_json::Value::Array(items)) => {
            items.iter().filter_map(|g| g.as_str()).take(500).map(str::to_string).collect()
        }
        Some(serde_json::Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    };
    Ok(Account { username, display_name, email, groups })
}

/// The connection test: discovery reachable, issuer matches, JWKS fetched; each step in
/// plain words. Nothing secret is sent or shown.
pub async fn test(settings: &OidcSettings) -> Vec<TestStep> {
    let step = |step: &str, ok: bool, detail: String| TestStep { step: step.into(), ok, detail };
    let http = match http(settings) {
        Ok(h) => h,
        Err(e) => return vec![step("prepare the HTTP client", false, e.to_string())],
    };
    let discovery_url =
        format!("{}/.well-known/openid-configuration", settings.issuer.trim_end_matches('/'));
    // The document alone first, so a wrong issuer is told apart from an unreachable one.
    let doc = bounded(settings, "discovery", async {
        let resp = http
            .client
            .get(&discovery_url)
            .send()
            .await
            .map_err(|e| SignInFailure::Unavailable(crate::outbound::describe(&e)))?;
        if !resp.status().is_success() {
            return Err(SignInFailure::Unavailable(format!("HTTP {}", resp.status())));
        }
        resp.json::<serde_json::Value>()
            .await
            .map_err(|e| SignInFailure::Unavailable(format!("not a JSON document: {e}")))
    })
    .await;
    let mut steps = Vec::new();
    let doc = match doc {
        Ok(d) => {
            steps.push(step("read the discovery document", true, discovery_url.clone()));
            d
        }
        Err(e) => {
            steps.push(step("read the discovery document", false, format!("{discovery_url}: {e}")));
            return steps;
        }
    };
    let named = doc.get("issuer").and_then(|i| i.as_str()).unwrap_or_default();
    if named != settings.issuer {
        steps.push(step(
            "check the issuer",
            false,
            format!("the document names the issuer \"{named}\"; set the issuer to exactly that"),
        ));
        return steps;
    }
    steps.push(step("check the issuer", true, format!("the document names {named}")));
    match discover(settings, &http).await {
        Ok(m) => {
            let keys = m.jwks().keys().len();
            steps.push(step(
                "fetch the signing keys (JWKS)",
                keys > 0,
                format!("{keys} key(s) from {}", m.jwks_uri().as_str()),
            ));
        }
        Err(e) => steps.push(step("fetch the signing keys (JWKS)", false, e.to_string())),
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> OidcSettings {
        super::super::NewOidcSettings {
            issuer: "https://id.example.org".into(),
            client_id: "adebox".into(),
            ..Default::default()
        }
        .check()
        .unwrap()
    }

    #[test]
    fn claims_become_the_account_with_fallbacks() {
        let a = account_from(
            &settings(),
            &json!({"sub": "x1", "preferred_username": "alice", "name": "Alice Example",
                    "email": "alice@example.org", "groups": ["staff", "it"]}),
        )
        .unwrap();
        assert_eq!(a.username, "alice");
        assert_eq!(a.display_name, "Alice Example");
        assert_eq!(a.groups, ["staff", "it"]);
        let b =
            account_from(&settings(), &json!({"sub": "x2", "email": "bob@example.org"})).unwrap();
        assert_eq!(
            (b.username.as_str(), b.display_name.as_str()),
            ("bob@example.org", "bob@example.org")
        );
        let c = account_from(&settings(), &json!({"sub": "c-3", "groups": "staff"})).unwrap();
        assert_eq!(
            (c.username.as_str(), c.groups.as_slice()),
            ("c-3", ["staff".to_string()].as_slice())
        );
        assert!(matches!(
            account_from(&settings(), &json!({"sub": "a b"})),
            Err(SignInFailure::Provider(_))
        ));
    }
}
