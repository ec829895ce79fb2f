//! `/api/v1/assignments`: assign a profile to serials (JSON list or CSV upload, with a dry
//! run), remove assignments, and the per-serial state list (the retry queue view). Bodies
//! are read with their own cap, 5 MiB ([`MAX_CSV_BYTES`]): up to 200,000 serials do not fit
//! the API's 1 MiB limit.

use super::views::{self, Assignment, RequestReport};
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::json::parse_strict;
use crate::http::state::AppState;
use crate::ids::{ProfileId, TokenId};
use crate::profiles::assign::MAX_SERIALS;
use crate::profiles::csv::MAX_CSV_BYTES;
use actix_web::{HttpResponse, delete, get, post, web};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
pub struct AssignBody {
    pub profile_id: String,
    pub serials: Vec<String>,
    #[serde(default)]
    pub dry_run: bool,
    /// Only this token's devices (others are reported as `other_token`).
    #[serde(default)]
    pub token_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct UnassignBody {
    pub serials: Vec<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct CsvQuery {
    pub profile_id: String,
    #[serde(default)]
    pub dry_run: bool,
    pub token_id: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    pub state: Option<String>,
    pub token: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct AssignmentList {
    pub items: Vec<Assignment>,
    pub total: u64,
}

async fn read_capped(mut body: web::Payload) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("the body could not be read: {e}")))?;
        if out.len() + chunk.len() > MAX_CSV_BYTES {
            return Err(ApiError::payload_too_large(
                "the list is larger than 5 MiB (the assignment limit: 200,000 serials with a short column beside them); split it into smaller files and send each",
            ));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A scoped caller assigns only within their tokens: the named token and every known
/// serial must be in scope.
async fn in_scope(
    state: &AppState,
    auth: &Authenticated,
    token: Option<&TokenId>,
    serials: &[String],
) -> Result<(), ApiError> {
    if let Some(t) = token {
        auth.require_token(t)?;
    }
    auth.require_serials(state, serials).await
}

fn answer(dry_run: bool, report: crate::profiles::RequestReport) -> HttpResponse {
    let report = RequestReport::from(&report);
    if dry_run { HttpResponse::Ok().json(report) } else { HttpResponse::Accepted().json(report) }
}

/// Assigns a profile to serials; `dry_run` only reports each serial's outcome.
#[utoipa::path(tag = "profiles", request_body = AssignBody, responses((status = OK, body = RequestReport, description = "dry run"), (status = ACCEPTED, body = RequestReport), (status = 422, body = ApiError)))]
#[post("/assignments")]
async fn assign(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let bytes = read_capped(body).await?;
    let b: AssignBody = parse_strict(&bytes, MAX_SERIALS)?;
    let token = b.token_id.as_deref().map(TokenId::parse).transpose()?;
    in_scope(&state, &auth, token.as_ref(), &b.serials).await?;
    let profile = ProfileId::parse(&b.profile_id)?;
    let report = state
        .profiles
        .request(auth.actor(), Some(&profile), b.serials, token.as_ref(), b.dry_run, vec![])
        .await?;
    Ok(answer(b.dry_run, report))
}

/// Assigns a profile to the serials of a CSV (`Content-Type: text/csv`, ≤ 5 MiB).
#[utoipa::path(tag = "profiles", params(CsvQuery), request_body(content = String, content_type = "text/csv"), responses((status = OK, body = RequestReport), (status = ACCEPTED, body = RequestReport), (status = 422, body = ApiError)))]
#[post("/assignments/csv")]
async fn assign_csv(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<CsvQuery>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let bytes = read_capped(body).await?;
    let text = String::from_utf8_lossy(&bytes);
    let (serials, junk) = crate::profiles::csv::serials_from_csv(&text)?;
    let q = query.into_inner();
    let token = q.token_id.as_deref().map(TokenId::parse).transpose()?;
    in_scope(&state, &auth, token.as_ref(), &serials).await?;
    let profile = ProfileId::parse(&q.profile_id)?;
    let report = state
        .profiles
        .request(auth.actor(), Some(&profile), serials, token.as_ref(), q.dry_run, junk)
        .await?;
    Ok(answer(q.dry_run, report))
}

/// Removes the profile assignment of serials at Apple.
#[utoipa::path(tag = "profiles", request_body = UnassignBody, responses((status = ACCEPTED, body = RequestReport)))]
#[delete("/assignments")]
async fn unassign(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let bytes = read_capped(body).await?;
    let b: UnassignBody = parse_strict(&bytes, MAX_SERIALS)?;
    in_scope(&state, &auth, None, &b.serials).await?;
    let report = state.profiles.request(auth.actor(), None, b.serials, None, false, vec![]).await?;
    Ok(HttpResponse::Accepted().json(RequestReport::from(&report)))
}

/// Per-serial assignment states (the retry queue).
#[utoipa::path(tag = "profiles", params(ListQuery), responses((status = OK, body = AssignmentList)))]
#[get("/assignments")]
async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<ListQuery>,
) -> Result<web::Json<AssignmentList>, ApiError> {
    let q = query.into_inner();
    let token = q.token.as_deref().filter(|s| !s.is_empty()).map(TokenId::parse).transpose()?;
    let (limit, offset) = (q.limit.unwrap_or(100).min(1000), q.offset.unwrap_or(0));
    let state_filter = q.state.filter(|s| !s.is_empty());
    if auth.scope().is_all() {
        let (items, total) = state.profiles.assignments(state_filter, token, limit, offset).await?;
        return Ok(web::Json(AssignmentList { items: views::list(&items), total }));
    }
    // Scoped: every match, narrowed to the scope, then the page.
    let (mut items, _) = state.profiles.assignments(state_filter, token, usize::MAX, 0).await?;
    auth.scope().retain(&mut items, |a| a.token_id.as_str());
    let total = items.len() as u64;
    let page: Vec<_> = items.into_iter().skip(offset).take(limit).collect();
    Ok(web::Json(AssignmentList { items: views::list(&page), total }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(assign_csv).service(assign).service(unassign).service(list);
}
