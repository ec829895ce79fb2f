//! `/api/v1/alerts/…`: the alert settings (SMTP server, recipients per alert kind,
//! thresholds), "send test" with the SMTP server's answer, and the alerts that hold and were
//! announced. The SMTP password is a secret: Owner only (`secrets`), never in an answer or the
//! audit log. Changes and tests are audited.

use super::views::{self, ActiveAlert, AlertSettingsView, SentEntry, SettingsUpdate, TestResult};
use crate::audit::{Action, NewEntry, Outcome};
use crate::http::error::ApiError;
use crate::http::extract::{Authenticated, ClientIp};
use crate::http::json::ApiJson;
use crate::http::state::AppState;
use actix_web::{delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The alerts that hold now and the newest announcements.
#[derive(Serialize, ToSchema)]
pub struct AlertsView {
    pub active: Vec<ActiveAlert>,
    /// Newest first: each alert raised or resolved and what became of its e-mail.
    pub recent: Vec<SentEntry>,
}

/// Where to send the test message (default: the test message's recipients).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TestRequest {
    #[serde(default)]
    pub to: Option<Vec<String>>,
}

async fn audit(
    state: &AppState,
    auth: &Authenticated,
    ip: ClientIp,
    action: Action,
    ok: bool,
    detail: String,
) -> Result<(), ApiError> {
    let outcome = if ok { Outcome::Success } else { Outcome::Failure };
    let entry = NewEntry::new(state.clock.now(), auth.actor(), action, outcome)
        .target("alerts".to_string())
        .from_addr(ip.0.map(|a| a.to_string()))
        .detail(detail);
    state.audit.record(entry).await?;
    Ok(())
}

/// The alert settings (the SMTP password only as `password_set`).
#[utoipa::path(tag = "integrations", responses((status = OK, body = AlertSettingsView)))]
#[get("/alerts/settings")]
async fn settings(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<AlertSettingsView>, ApiError> {
    Ok(web::Json((&state.alerts.settings().await?).into()))
}

/// Changes the alert settings; fields left out stay as they are.
#[utoipa::path(tag = "integrations", request_body = SettingsUpdate, responses((status = OK, body = AlertSettingsView), (status = 422, body = ApiError)))]
#[put("/alerts/settings")]
async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    body: ApiJson<SettingsUpdate>,
) -> Result<web::Json<AlertSettingsView>, ApiError> {
    let change = body.into_inner();
    // What changed, in words; never the password itself.
    let mut what = Vec::new();
    if let Some(s) = &change.smtp {
        what.push(format!("SMTP {}:{} ({:?})", s.host.trim(), s.port, s.security));
        if s.password.is_some() {
            what.push("SMTP password replaced".into());
        }
    }
    if let Some(r) = &change.recipients {
        what.push(format!("recipients of {}", r.keys().cloned().collect::<Vec<_>>().join(", ")));
    }
    if change.refusals_per_hour.is_some() || change.disk_free_percent.is_some() {
        what.push("thresholds".into());
    }
    let result = state.alerts.update(change.into()).await;
    audit(&state, &auth, ip, Action::AlertSettingsChange, result.is_ok(), what.join("; ")).await?;
    Ok(web::Json((&result?).into()))
}

/// Removes the SMTP server and erases its stored password; recipients and thresholds stay.
/// Alerts are still listed and published as webhook events; their e-mails wait until an SMTP
/// server is set again.
#[utoipa::path(tag = "integrations", responses((status = OK, body = AlertSettingsView)))]
#[delete("/alerts/settings/smtp")]
async fn remove_smtp(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
) -> Result<web::Json<AlertSettingsView>, ApiError> {
    let result = state.alerts.remove_smtp().await;
    let detail = match &result {
        Ok((true, _)) => "SMTP server and its password removed".to_string(),
        Ok((false, _)) => "no SMTP server was set".to_string(),
        Err(e) => e.to_string(),
    };
    audit(&state, &auth, ip, Action::AlertSmtpRemove, result.is_ok(), detail).await?;
    Ok(web::Json((&result?.1).into()))
}

/// Sends a test e-mail now; the answer carries the SMTP server's reply in plain words.
#[utoipa::path(tag = "integrations", request_body = TestRequest, responses((status = OK, body = TestResult), (status = 422, body = ApiError)))]
#[post("/alerts/test")]
async fn test(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    body: ApiJson<TestRequest>,
) -> Result<web::Json<TestResult>, ApiError> {
    let result = state.alerts.send_test(body.into_inner().to).await;
    let (ok, detail) = match &result {
        Ok(r) => (r.sent, format!("to {}: {}", r.recipients.join(", "), r.answer)),
        Err(e) => (false, e.to_string()),
    };
    audit(&state, &auth, ip, Action::AlertTest, ok, detail).await?;
    Ok(web::Json((&result?).into()))
}

/// The alerts that hold now and the newest announcements.
#[utoipa::path(tag = "integrations", responses((status = OK, body = AlertsView)))]
#[get("/alerts")]
async fn list(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<AlertsView>, ApiError> {
    Ok(web::Json(AlertsView {
        active: views::list(&state.alerts.active().await?),
        recent: views::list(&state.alerts.recent(50).await?),
    }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(settings).service(update).service(remove_smtp).service(test).service(list);
}
