//! `/api/v1/audit`: the audit log, newest first; its chain's verification; its export as JSON
//! lines for a SIEM.

use super::views::{self, Entry};
use crate::audit::{Filter, Outcome};
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::state::AppState;
use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    /// At most 500; default 50.
    pub limit: Option<usize>,
    pub offset: Option<usize>,
    /// A username, `api-token:<name>`, `system` or `cli`.
    pub actor: Option<String>,
    /// An action code (`admin.login`) or a prefix of one (`admin`).
    pub action: Option<String>,
    /// `success` or `failure`.
    pub outcome: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditList {
    pub items: Vec<Entry>,
    pub total: u64,
}

/// The audit log, newest first, filtered.
#[utoipa::path(tag = "audit", params(AuditQuery), responses((status = OK, body = AuditList), (status = 400, body = ApiError)))]
#[get("/audit")]
async fn list(
    state: web::Data<AppState>,
    _auth: Authenticated,
    q: web::Query<AuditQuery>,
) -> Result<web::Json<AuditList>, ApiError> {
    let q = q.into_inner();
    let outcome = match q.outcome.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some("success") => Some(Outcome::Success),
        Some("failure") => Some(Outcome::Failure),
        Some(_) => return Err(ApiError::validation("outcome", "use `success` or `failure`")),
    };
    let filter = Filter {
        actor: q.actor.filter(|s| !s.is_empty()),
        action: q.action.filter(|s| !s.is_empty()),
        outcome,
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let (items, total) = state.audit.list(filter, limit, q.offset.unwrap_or(0)).await?;
    let names = names_by_id(&state).await?;
    let items = items.iter().map(|e| Entry::from(e).readable(&names)).collect();
    Ok(web::Json(AuditList { items, total }))
}

/// Token and profile ids → names, for the entries the page shows (ids stay in the export).
async fn names_by_id(
    state: &AppState,
) -> Result<std::collections::HashMap<String, String>, ApiError> {
    let tokens = state.tokens.list().await.map_err(|e| ApiError::internal(&e))?;
    let profiles = state.profiles.list().await?;
    Ok(tokens
        .into_iter()
        .map(|t| (t.id.to_string(), t.server_name))
        .chain(profiles.into_iter().map(|p| (p.id.to_string(), p.input.name)))
        .filter(|(id, _)| id.len() >= 6)
        .collect())
}

/// Whether the audit chain verifies, or its first broken link. Compare `head_mac` with the
/// last `audit chain head` line of the journal: an older head means newest entries were cut.
#[utoipa::path(tag = "audit", responses((status = OK, body = views::AuditVerification)))]
#[get("/audit/verify")]
async fn verify(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<views::AuditVerification>, ApiError> {
    let v = state.audit.verify().await?;
    Ok(web::Json(views::AuditVerification::from(&v)))
}

/// Entries read per store transaction while exporting.
const EXPORT_PAGE: usize = 500;

/// The whole audit log as JSON lines (`application/x-ndjson`), oldest first, streamed: one
/// entry per line with its sequence number and MAC, for a SIEM. Nothing secret is in it.
#[utoipa::path(tag = "audit", responses((status = OK, content_type = "application/x-ndjson", body = views::ExportLine)))]
#[get("/audit/export")]
async fn export(state: web::Data<AppState>, _auth: Authenticated) -> HttpResponse {
    let audit = state.audit.clone();
    let lines = futures_util::stream::try_unfold(Some(0u64), move |after| {
        let audit = audit.clone();
        async move {
            let Some(after) = after else { return Ok(None) };
            let page = audit.export_page(after, EXPORT_PAGE).await.map_err(|e| {
                log::error!("the audit export stopped: {e}");
                actix_web::error::ErrorInternalServerError("the audit export stopped")
            })?;
            let Some(last) = page.last().map(|s| s.entry.id) else { return Ok(None) };
            let mut chunk = Vec::new();
            for sealed in &page {
                let line = views::ExportLine::from(sealed);
                serde_json::to_writer(&mut chunk, &line)
                    .expect("export lines serialize infallibly");
                chunk.push(b'\n');
            }
            let next = (page.len() == EXPORT_PAGE).then_some(last);
            Ok::<_, actix_web::Error>(Some((web::Bytes::from(chunk), next)))
        }
    });
    HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .insert_header(("Content-Disposition", "attachment; filename=\"adebox-audit-log.jsonl\""))
        .streaming(lines)
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(verify).service(export);
}
