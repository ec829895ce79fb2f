//! `/api/v1/tokens/…`: Apple server tokens and the key pairs made for them.

use super::views::{self, PendingKeyInfo, SyncStatus, TokenView};
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::json::{ApiJson, OptionalJson};
use crate::http::state::AppState;
use crate::tokens::TokenId;
use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A token with its device count and sync state.
#[derive(Serialize, ToSchema)]
pub struct Token {
    #[serde(flatten)]
    pub token: TokenView,
    /// Active devices of this token.
    pub devices: u64,
    pub sync: Option<SyncStatus>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<Token>,
    pub total: u64,
}

#[derive(Serialize, ToSchema)]
pub struct PendingKeyList {
    pub items: Vec<PendingKeyInfo>,
    pub total: u64,
}

#[derive(Deserialize, ToSchema, Default)]
pub struct NewKey {
    /// The token this key will renew, if any.
    pub for_token: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct AddToken {
    /// The pending key the token was made for.
    pub key_id: String,
    /// The `.p7m` file's text, as downloaded from Apple Business Manager.
    pub token: String,
    /// The Apple Account that downloaded the token.
    pub apple_id: String,
}

#[derive(Deserialize, ToSchema)]
pub struct RenewToken {
    pub token: String,
    /// A new pending key; without it the token's current key is used.
    pub key_id: Option<String>,
    pub apple_id: Option<String>,
}

async fn with_state(
    state: &AppState,
    view: crate::tokens::TokenView,
    history: bool,
) -> Result<Token, ApiError> {
    let counts = state.devices.counts().await?;
    let sync = state.sync.status(&view.id, history).await.ok();
    Ok(Token {
        devices: counts.by_token.get(&view.id).copied().unwrap_or(0),
        sync: sync.as_ref().map(SyncStatus::from),
        token: TokenView::from(&view),
    })
}

/// Every token, soonest expiry first.
#[utoipa::path(tag = "tokens", responses((status = OK, body = TokenList)))]
#[get("/tokens")]
async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<web::Json<TokenList>, ApiError> {
    let counts = state.devices.counts().await?;
    let mut items = Vec::new();
    let mut views = state.tokens.list().await?;
    auth.scope().retain(&mut views, |v| v.id.as_str());
    for view in views {
        let sync = state.sync.status(&view.id, false).await.ok();
        items.push(Token {
            devices: counts.by_token.get(&view.id).copied().unwrap_or(0),
            sync: sync.as_ref().map(SyncStatus::from),
            token: TokenView::from(&view),
        });
    }
    Ok(web::Json(TokenList { total: items.len() as u64, items }))
}

/// One token, with its recent sync runs.
#[utoipa::path(tag = "tokens", params(("id" = String, Path)), responses((status = OK, body = Token), (status = 404, body = ApiError)))]
#[get("/tokens/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<web::Json<Token>, ApiError> {
    let id = TokenId::parse(&id)?;
    auth.require_token(&id)?;
    let view = state.tokens.get(&id).await?;
    Ok(web::Json(with_state(&state, view, true).await?))
}

/// Adds a token: the `.p7m` Apple made for a pending key, checked with Apple.
#[utoipa::path(tag = "tokens", request_body = AddToken, responses(
    (status = CREATED, body = Token), (status = 409, body = ApiError, description = "already_added"),
    (status = 422, body = ApiError, description = "validation or apple_refused"), (status = 503, body = ApiError, description = "apple_unreachable")))]
#[post("/tokens")]
async fn add(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<AddToken>,
) -> Result<HttpResponse, ApiError> {
    let view =
        state.tokens.add(auth.actor(), &body.key_id, body.token.as_bytes(), &body.apple_id).await?;
    Ok(HttpResponse::Created().json(with_state(&state, view, false).await?))
}

/// Renews a token; the current one keeps working until the new one is checked.
#[utoipa::path(tag = "tokens", params(("id" = String, Path)), request_body = RenewToken, responses(
    (status = OK, body = Token), (status = 409, body = ApiError, description = "foreign_server"), (status = 422, body = ApiError)))]
#[post("/tokens/{id}/renew")]
async fn renew(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<RenewToken>,
) -> Result<web::Json<Token>, ApiError> {
    let id = TokenId::parse(&id)?;
    auth.require_token(&id)?;
    let b = body.into_inner();
    let view = state
        .tokens
        .renew(
            auth.actor(),
            &id,
            b.key_id.as_deref().filter(|k| !k.is_empty()),
            b.token.as_bytes(),
            b.apple_id.as_deref(),
        )
        .await?;
    Ok(web::Json(with_state(&state, view, false).await?))
}

/// Deletes a token nothing uses any more; otherwise 409 with the blockers.
#[utoipa::path(tag = "tokens", params(("id" = String, Path)), responses((status = NO_CONTENT), (status = 409, body = ApiError, description = "token_in_use, with blockers")))]
#[delete("/tokens/{id}")]
async fn remove(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = TokenId::parse(&id)?;
    auth.require_token(&id)?;
    state.tokens.delete(auth.actor(), &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn pem_download(pem: String, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/x-pem-file")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}\"")))
        .body(pem)
}

/// The public key (certificate) a token is encrypted to, to upload in ABM again.
#[utoipa::path(tag = "tokens", params(("id" = String, Path)), responses((status = OK, content_type = "application/x-pem-file", body = String)))]
#[get("/tokens/{id}/public-key.pem")]
async fn token_key(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = TokenId::parse(&id)?;
    auth.require_token(&id)?;
    let pem = state.tokens.token_certificate(&id).await?;
    Ok(pem_download(pem, &format!("adebox-public-key-{id}.pem")))
}

/// Makes a key pair for a new (or renewed) token.
#[utoipa::path(tag = "tokens", request_body = NewKey, responses((status = CREATED, body = PendingKeyInfo)))]
#[post("/tokens/keys")]
async fn new_key(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: OptionalJson<NewKey>,
) -> Result<HttpResponse, ApiError> {
    let for_token = body.into_inner().and_then(|b| b.for_token).filter(|t| !t.is_empty());
    let for_token = for_token.as_deref().map(TokenId::parse).transpose()?;
    match &for_token {
        Some(token) => auth.require_token(token)?,
        None => auth.require_unscoped("a key pair for a new server token")?,
    }
    let key = state.tokens.create_pending_key(auth.actor(), for_token).await?;
    Ok(HttpResponse::Created().json(PendingKeyInfo::from(&key)))
}

/// Key pairs waiting for their token.
#[utoipa::path(tag = "tokens", responses((status = OK, body = PendingKeyList)))]
#[get("/tokens/keys")]
async fn keys(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<web::Json<PendingKeyList>, ApiError> {
    let mut keys = state.tokens.list_pending_keys().await?;
    // A key for a new token (no `for_token`) is organisation-wide.
    auth.scope().retain(&mut keys, |k| k.for_token.as_ref().map_or("", |t| t.as_str()));
    let items = views::list(&keys);
    Ok(web::Json(PendingKeyList { total: items.len() as u64, items }))
}

/// The public key to upload in Apple Business Manager.
#[utoipa::path(tag = "tokens", params(("id" = String, Path)), responses((status = OK, content_type = "application/x-pem-file", body = String)))]
#[get("/tokens/keys/{id}/public-key.pem")]
async fn key_pem(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_pending_key(&state, &id).await?;
    let pem = state.tokens.pending_key_certificate(&id).await?;
    Ok(pem_download(pem, &format!("adebox-public-key-{id}.pem")))
}

/// Discards a pending key.
#[utoipa::path(tag = "tokens", params(("id" = String, Path)), responses((status = NO_CONTENT), (status = 404, body = ApiError)))]
#[delete("/tokens/keys/{id}")]
async fn discard_key(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_pending_key(&state, &id).await?;
    state.tokens.discard_pending_key(auth.actor(), &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    // The fixed `keys` paths before `{id}`, so `keys` is never taken for a token id.
    cfg.service(keys).service(new_key).service(key_pem).service(discard_key);
    cfg.service(list)
        .service(add)
        .service(get_one)
        .service(renew)
        .service(remove)
        .service(token_key);
}
