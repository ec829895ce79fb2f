//! `/api/v1/signin/oidc`: the OpenID Connect provider users sign in with during Setup
//! Assistant. Thin: the directory checks, seals and audits; the client secret is taken, never
//! answered (only whether one is stored).

use crate::crypto::Secret;
use crate::directory::oidc::{NewOidcSettings, OidcSettings};
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::json::ApiJson;
use crate::http::state::AppState;
use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The provider settings as the page shows them (never the client secret).
#[derive(Serialize, ToSchema)]
pub struct OidcProvider {
    /// The name on the sign-in button: "Sign in with <provider_name>".
    pub provider_name: String,
    /// `https://…`, exactly as the provider's discovery document names it.
    pub issuer: String,
    pub client_id: String,
    /// Always true once saved: the secret is stored sealed and never shown.
    pub client_secret_set: bool,
    pub scopes: Vec<String>,
    pub username_claim: String,
    pub display_name_claim: String,
    pub email_claim: String,
    pub groups_claim: String,
    /// PEM certificates trusted for the provider besides the system's roots.
    pub ca_pem: Option<String>,
    pub timeout_seconds: u64,
}

impl From<OidcSettings> for OidcProvider {
    fn from(s: OidcSettings) -> Self {
        OidcProvider {
            provider_name: s.provider_name,
            issuer: s.issuer,
            client_id: s.client_id,
            client_secret_set: true,
            scopes: s.scopes,
            username_claim: s.username_claim,
            display_name_claim: s.display_name_claim,
            email_claim: s.email_claim,
            groups_claim: s.groups_claim,
            ca_pem: s.ca_pem,
            timeout_seconds: s.timeout_seconds,
        }
    }
}

/// The OpenID Connect setup: the redirect URI to register at the provider, and the settings
/// (null until saved).
#[derive(Serialize, ToSchema)]
pub struct OidcView {
    pub redirect_uri: String,
    pub provider: Option<OidcProvider>,
}

/// The settings to save. Left-out fields take their defaults; a left-out client secret keeps
/// the stored one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OidcInput {
    #[serde(default)]
    pub provider_name: Option<String>,
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password)]
    pub client_secret: Option<Secret<String>>,
    /// Default `openid profile email`; `openid` is always asked for.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Default `preferred_username` (then `email`, then `sub`).
    #[serde(default)]
    pub username_claim: Option<String>,
    /// Default `name`.
    #[serde(default)]
    pub display_name_claim: Option<String>,
    /// Default `email`.
    #[serde(default)]
    pub email_claim: Option<String>,
    /// Default `groups`.
    #[serde(default)]
    pub groups_claim: Option<String>,
    #[serde(default)]
    pub ca_pem: Option<String>,
    /// 1 to 10; default 10.
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
}

/// The connection test's steps, in plain words.
#[derive(Serialize, ToSchema)]
pub struct OidcTest {
    pub ok: bool,
    pub steps: Vec<OidcTestStep>,
}

#[derive(Serialize, ToSchema)]
pub struct OidcTestStep {
    pub step: String,
    pub ok: bool,
    pub detail: String,
}

async fn view(state: &AppState) -> Result<OidcView, ApiError> {
    let provider = state.directory.oidc_settings().await?.map(OidcProvider::from);
    Ok(OidcView { redirect_uri: state.directory.oidc_redirect_uri().to_string(), provider })
}

/// The OpenID Connect provider settings and the redirect URI to register there.
#[utoipa::path(tag = "signin", responses((status = OK, body = OidcView)))]
#[get("/signin/oidc")]
async fn get_oidc(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<OidcView>, ApiError> {
    Ok(web::Json(view(&state).await?))
}

/// Saves the OpenID Connect provider settings.
#[utoipa::path(tag = "signin", request_body = OidcInput, responses((status = OK, body = OidcView)))]
#[put("/signin/oidc")]
async fn put_oidc(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<OidcInput>,
) -> Result<web::Json<OidcView>, ApiError> {
    let b = body.into_inner();
    let new = NewOidcSettings {
        provider_name: b.provider_name,
        issuer: b.issuer,
        client_id: b.client_id,
        client_secret: b.client_secret,
        scopes: b.scopes,
        username_claim: b.username_claim,
        display_name_claim: b.display_name_claim,
        email_claim: b.email_claim,
        groups_claim: b.groups_claim,
        ca_pem: b.ca_pem,
        timeout_seconds: b.timeout_seconds,
    };
    state.directory.put_oidc(auth.actor(), new).await?;
    Ok(web::Json(view(&state).await?))
}

/// Removes the OpenID Connect provider (profiles naming it then cannot sign users in).
#[utoipa::path(tag = "signin", responses((status = NO_CONTENT)))]
#[delete("/signin/oidc")]
async fn delete_oidc(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    state.directory.delete_oidc(auth.actor()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Tries the saved settings: discovery reachable, issuer matching, signing keys fetched.
#[utoipa::path(tag = "signin", responses((status = OK, body = OidcTest)))]
#[post("/signin/oidc/test")]
async fn test_oidc(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<OidcTest>, ApiError> {
    let steps: Vec<OidcTestStep> = state
        .directory
        .test_oidc()
        .await?
        .into_iter()
        .map(|s| OidcTestStep { step: s.step, ok: s.ok, detail: s.detail })
        .collect();
    Ok(web::Json(OidcTest { ok: !steps.is_empty() && steps.iter().all(|s| s.ok), steps }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_oidc).service(put_oidc).service(delete_oidc).service(test_oidc);
}
