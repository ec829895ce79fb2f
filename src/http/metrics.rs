//! `GET /metrics`: the Prometheus text format (docs/metrics.md), when `metrics.enabled` is
//! set; served to an admin's API token (organisation-wide, any role) or to a client in
//! `metrics.allow`, and a 404 like any unknown path when metrics are off. Also the
//! middleware that counts every HTTP request by route class and status.

use super::error::ApiError;
use super::state::AppState;
use crate::admin::Permission;
use crate::metrics::{RouteClass, Snapshot};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics));
}

/// Counts the request once answered (errors included, under the status they answer with).
pub(super) async fn count(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let class = RouteClass::of(req.path());
    let live = req.app_data::<web::Data<AppState>>().map(|s| s.metrics.live.clone());
    let started = std::time::Instant::now();
    let result = next.call(req).await;
    if let Some(live) = live {
        let status = match &result {
            Ok(res) => res.status(),
            Err(e) => e.as_response_error().status_code(),
        };
        live.http_request(class, status.as_u16(), started.elapsed());
    }
    result
}

async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let m = &state.metrics;
    if !m.config.enabled {
        return Err(ApiError::not_found_because(
            "metrics are off: set `enabled = true` under [metrics] in the configuration file and reload",
        ));
    }
    let allowed = req.peer_addr().is_some_and(|a| m.config.allows(a.ip()));
    if !allowed {
        admit_token(&req, &state).await?;
    }
    let snapshot = snapshot(&state).await?;
    Ok(HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(m.live.render(&snapshot)))
}

/// Only an admin's API token (a session cookie is not enough: scrapers hold tokens), for the
/// whole organisation, since the figures are organisation-wide.
async fn admit_token(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(super::extract::bearer_token);
    let Some(token) = token else {
        return Err(ApiError::unauthenticated_because(
            "send an admin's API token as `Authorization: Bearer <token>` (Settings → API tokens), or scrape from an address listed in metrics.allow",
        ));
    };
    let Some(principal) = state.admin.principal_for_token(token).await? else {
        return Err(ApiError::unauthenticated_because(
            "this API token is not valid or was revoked; create a new one under Settings → API tokens",
        ));
    };
    if !principal.holds(Permission::Read) || !principal.scope().is_all() {
        return Err(ApiError::forbidden(
            "metrics cover every server token: use an API token of an admin who is not limited to some server tokens",
        ));
    }
    Ok(())
}

/// A value's code as the API writes it (`snake_case`).
fn code(v: impl Serialize) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// The levels kept in the store, read now.
async fn snapshot(state: &AppState) -> Result<Snapshot, ApiError> {
    let mut snap = Snapshot::default();
    let counts = state.devices.counts().await?;
    snap.devices_by_lifecycle = counts.by_lifecycle.iter().map(|(l, n)| (code(l), *n)).collect();
    snap.devices_by_token =
        counts.by_token.into_iter().map(|(t, n)| (t.into_string(), n)).collect();
    snap.funnel_stages = counts.funnel.steps.iter().map(|(s, n)| (code(s), *n)).collect();
    let funnel = state.enroll.funnel().await?;
    snap.enrollment_events =
        funnel.steps.iter().map(|s| (s.step.code().to_string(), s.all_time)).collect();
    let kept = crate::enroll::events::MAX_EVENTS as usize;
    let (refusals, _) = state.enroll.refusals(kept, 0).await?;
    let mut by_reason = std::collections::BTreeMap::<String, u64>::new();
    for e in refusals.iter().filter(|e| e.step == crate::enroll::events::Step::Refused) {
        *by_reason.entry(e.reason.clone().unwrap_or_else(|| "unknown".into())).or_default() += 1;
    }
    snap.recent_refusals = by_reason.into_iter().collect();
    for t in state.tokens.list().await? {
        if let Ok(s) = state.sync.status(&t.id, false).await {
            snap.sync_failures.push((t.id.to_string(), u64::from(s.consecutive_failures)));
        }
    }
    (state.metrics.store)(&mut snap);
    Ok(snap)
}
