//! `/api/v1/enrollment/…`: the enrollment funnel (counts per step), recent refusals with
//! their reasons, and the enrollment settings (audit-only mode, and the enrollment URL devices
//! use, read-only).

use super::views::{self, EnrollEvent, EnrollSettings, Funnel};
use crate::audit::{Action, NewEntry, Outcome};
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::json::ApiJson;
use crate::http::state::AppState;
use actix_web::{get, put, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
pub struct Page {
    /// At most this many (default 50, at most 500).
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct RefusalList {
    pub items: Vec<EnrollEvent>,
    pub total: u64,
}

/// The enrollment settings as the API shows them: what the admin edits plus what follows
/// from the configuration.
#[derive(Serialize, ToSchema)]
pub struct SettingsView {
    /// Log and record devices the gate would refuse, and let them enroll anyway.
    pub audit_only: bool,
    /// Where devices post their signed MachineInfo during Setup Assistant: the `url` every
    /// profile sends to Apple. Read-only: it follows from `public.hosts` and `public.port` in
    /// the configuration; a PUT ignores it.
    #[schema(read_only)]
    pub enrollment_url: String,
}

fn view(state: &AppState, s: crate::enroll::EnrollSettings) -> SettingsView {
    SettingsView { audit_only: s.audit_only, enrollment_url: state.enroll.enrollment_url() }
}

/// Devices per enrollment step, all time and in the last 24 hours.
#[utoipa::path(tag = "enrollment", responses((status = OK, body = Funnel)))]
#[get("/enrollment/funnel")]
async fn funnel(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<Funnel>, ApiError> {
    Ok(web::Json(Funnel::from(&state.enroll.funnel().await?)))
}

/// Recent refusals (and devices audit-only mode let through), newest first.
#[utoipa::path(tag = "enrollment", params(Page), responses((status = OK, body = RefusalList)))]
#[get("/enrollment/refusals")]
async fn refusals(
    state: web::Data<AppState>,
    _auth: Authenticated,
    q: web::Query<Page>,
) -> Result<web::Json<RefusalList>, ApiError> {
    let limit = q.limit.unwrap_or(50).min(500);
    let (items, total) = state.enroll.refusals(limit, q.offset.unwrap_or(0)).await?;
    Ok(web::Json(RefusalList { items: views::list(&items), total }))
}

/// The enrollment settings and the enrollment URL devices use.
#[utoipa::path(tag = "enrollment", responses((status = OK, body = SettingsView)))]
#[get("/enrollment/settings")]
async fn settings(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<SettingsView>, ApiError> {
    let s = state.enroll.settings().await?;
    Ok(web::Json(view(&state, s)))
}

/// Changes the enrollment settings. `audit_only: true` lets devices the gate would refuse
/// enroll anyway, recording each one (for a first rollout); keep it off otherwise.
#[utoipa::path(tag = "enrollment", request_body = EnrollSettings, responses((status = OK, body = SettingsView)))]
#[put("/enrollment/settings")]
async fn set_settings(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<EnrollSettings>,
) -> Result<web::Json<SettingsView>, ApiError> {
    let s = state.enroll.set_settings(body.into_inner().into()).await?;
    let entry = NewEntry::new(
        state.clock.now(),
        auth.actor(),
        Action::EnrollmentSettingsChange,
        Outcome::Success,
    )
    .detail(format!("audit-only mode {}", if s.audit_only { "on" } else { "off" }));
    state.audit.record(entry).await?;
    Ok(web::Json(view(&state, s)))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(funnel).service(refusals).service(settings).service(set_settings);
}
