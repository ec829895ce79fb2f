//! `/api/v1/sync/…` and `/api/v1/settings/sync`: sync status, "Sync now", sync settings.

use super::views::{self, SyncSettings, SyncStatus};
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::json::{ApiJson, OptionalJson};
use crate::http::state::AppState;
use crate::ids::TokenId;
use crate::sync::{ManualKind, RunKind};
use actix_web::{HttpResponse, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct SyncList {
    pub items: Vec<SyncStatus>,
    pub total: u64,
}

#[derive(Deserialize, ToSchema, Default)]
pub struct SyncRequest {
    /// `sync` (changes, the default) or `full` (every device).
    #[schema(value_type = Option<String>)]
    pub kind: Option<ManualKind>,
}

#[derive(Serialize, ToSchema)]
pub struct Accepted {
    /// What will run: `delta`, `full` or `full_new_only`.
    #[schema(value_type = String)]
    pub run: RunKind,
    pub message: String,
}

/// The sync state of every token.
#[utoipa::path(tag = "sync", responses((status = OK, body = SyncList)))]
#[get("/sync")]
async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<web::Json<SyncList>, ApiError> {
    let mut statuses = state.sync.statuses().await?;
    auth.scope().retain(&mut statuses, |s| s.token_id.as_str());
    let items = views::list(&statuses);
    Ok(web::Json(SyncList { total: items.len() as u64, items }))
}

/// One token's sync state with its recent runs.
#[utoipa::path(tag = "sync", params(("token_id" = String, Path)), responses((status = OK, body = SyncStatus), (status = 400, body = ApiError, description = "not a token id"), (status = 404, body = ApiError)))]
#[get("/sync/{token_id}")]
async fn one(
    state: web::Data<AppState>,
    auth: Authenticated,
    token_id: web::Path<String>,
) -> Result<web::Json<SyncStatus>, ApiError> {
    let token_id = TokenId::parse(&token_id)?;
    auth.require_token(&token_id)?;
    Ok(web::Json(SyncStatus::from(&state.sync.status(&token_id, true).await?)))
}

/// "Sync now": allowed when no manual sync of this token was requested in the last 15
/// minutes; otherwise 429 `sync_budget` with `next_allowed_at`.
#[utoipa::path(tag = "sync", params(("token_id" = String, Path)), request_body = SyncRequest, responses(
    (status = ACCEPTED, body = Accepted), (status = 429, body = ApiError, description = "sync_budget, with next_allowed_at"), (status = 400, body = ApiError, description = "not a token id"), (status = 404, body = ApiError)))]
#[post("/sync/{token_id}")]
async fn request(
    state: web::Data<AppState>,
    auth: Authenticated,
    token_id: web::Path<String>,
    body: OptionalJson<SyncRequest>,
) -> Result<HttpResponse, ApiError> {
    let token_id = TokenId::parse(&token_id)?;
    auth.require_token(&token_id)?;
    let kind = body.into_inner().and_then(|b| b.kind).unwrap_or(ManualKind::Sync);
    let run = state.sync.request(auth.actor(), &token_id, kind).await?;
    let message = match run {
        RunKind::Delta => "Sync started: Apple's changes since the last sync are being fetched.",
        RunKind::Full => "Full sync started: every device is being fetched from Apple.",
        RunKind::FullNewOnly => {
            "Full sync started. Inside Apple's 7-day budget it only imports devices not known yet; the weekly full sync updates the rest."
        }
    };
    Ok(HttpResponse::Accepted().json(Accepted { run, message: message.into() }))
}

/// The sync settings (Apple's traffic budget and retention).
#[utoipa::path(tag = "settings", responses((status = OK, body = SyncSettings)))]
#[get("/settings/sync")]
async fn settings(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<SyncSettings>, ApiError> {
    Ok(web::Json(SyncSettings::from(&state.sync.settings().await?)))
}

/// Changes the sync settings.
#[utoipa::path(tag = "settings", request_body = SyncSettings, responses((status = OK, body = SyncSettings), (status = 422, body = ApiError)))]
#[put("/settings/sync")]
async fn set_settings(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<SyncSettings>,
) -> Result<web::Json<SyncSettings>, ApiError> {
    let s = state.sync.set_settings(auth.actor(), body.into_inner().into()).await?;
    Ok(web::Json(SyncSettings::from(&s)))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(one).service(request).service(settings).service(set_settings);
}
