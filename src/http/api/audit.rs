//! `/api/v1/audit`: the audit log, newest first.

use super::views::{self, Entry};
use crate::audit::{Filter, Outcome};
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::state::AppState;
use actix_web::{get, web};
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
    Ok(web::Json(AuditList { items: views::list(&items), total }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list);
}
