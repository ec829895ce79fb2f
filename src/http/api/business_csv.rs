//! `/api/v1/business/actions/csv` and `/api/v1/business/actions/release/csv`: the Apple
//! Business actions for the serials of an uploaded CSV (the devices page's bulk tool). The
//! serials are read as the profile CSV is read (the first column that holds serials, an
//! optional header), then the action goes through exactly what the single actions go
//! through: the typed confirmation, the 1–90 day deadline, serials the organisation does not
//! own refused before any call, the caller's `request_id` (a repeat acts once), the audit.
//! `check=true` only reads the file: the serials found and what to type to confirm, nothing
//! sent to Apple. Release keeps its own route and permission (Owner).

use super::business_actions::{ActionView, submit, target};
use crate::business::activities::{self, Action, MAX_SERIALS, NewActivity};
use crate::http::error::ApiError;
use crate::http::extract::{Authenticated, ClientIp};
use crate::http::state::AppState;
use crate::ids::Serial;
use crate::profiles::csv::serials_from_csv;
use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
pub struct CsvActionQuery {
    /// `true`: only read the file and say what would be sent (nothing goes to Apple).
    #[serde(default)]
    pub check: bool,
    /// A new id (a UUID) for each action; the same upload again with it acts once.
    pub request_id: Option<String>,
    /// `assign`, `unassign`, `migrate`, `change_deadline` or `cancel_migration` (release has
    /// its own route).
    pub action: Option<Action>,
    /// The server token whose MDM server the devices go to (assign, unassign, migrate).
    pub token: Option<String>,
    /// The migration deadline (migrate, change_deadline), RFC 3339, 1 to 90 days from now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>)]
    pub deadline: Option<OffsetDateTime>,
    /// `N devices` (`SERIAL` for one; a release starts with `release `).
    pub confirm: Option<String>,
}

/// What a CSV holds, before anything is sent.
#[derive(Serialize, ToSchema)]
pub struct CsvCheck {
    /// The serials found, sorted, each once.
    pub serials: Vec<String>,
    /// What to type to confirm the action on them.
    pub confirm: String,
    /// The rows that held no serial number, each with its row number (they are left out).
    pub ignored_rows: Vec<String>,
}

/// The serials of the uploaded CSV; refused when there are none or more than one action
/// takes.
async fn read(body: web::Payload) -> Result<(Vec<Serial>, Vec<String>), ApiError> {
    let mut body = body;
    let too_large = "the CSV is larger than 1 MiB; an Apple Business action names at most 1,000 devices: split the file".to_string();
    let bytes = super::commands::read_capped(&mut body, crate::http::MAX_BODY, too_large).await?;
    let text = String::from_utf8_lossy(&bytes);
    let (raw, junk) = serials_from_csv(&text)?;
    let mut serials = Vec::with_capacity(raw.len());
    for s in &raw {
        serials.push(Serial::parse(s).map_err(|e| ApiError::validation("csv", e.to_string()))?);
    }
    serials.sort();
    serials.dedup();
    if serials.is_empty() {
        return Err(ApiError::validation(
            "csv",
            "the file holds no serial numbers: put one serial per row (a header row is fine)",
        ));
    }
    if serials.len() > MAX_SERIALS {
        return Err(ApiError::validation(
            "csv",
            format!(
                "the file names {} devices: one Apple Business action names at most {MAX_SERIALS}; split the file and send each part",
                serials.len()
            ),
        ));
    }
    Ok((serials, junk.into_iter().map(|j| j.message).collect()))
}

async fn run(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    q: CsvActionQuery,
    action: Action,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (serials, ignored_rows) = read(body).await?;
    if q.check {
        let confirm = activities::confirmation(action, &serials);
        let serials = serials.iter().map(|s| s.as_str().to_string()).collect();
        return Ok(HttpResponse::Ok().json(CsvCheck { serials, confirm, ignored_rows }));
    }
    let request_id = q.request_id.ok_or_else(|| {
        ApiError::validation("request_id", "give a request id (a new UUID) for this action")
    })?;
    activities::confirm(action, &serials, q.confirm.as_deref().unwrap_or(""))?;
    let server = match (q.token.as_deref(), action.needs_server()) {
        (Some(t), true) => Some(target(&state, t).await?),
        _ => None,
    };
    let n = NewActivity {
        request_id,
        action,
        serials,
        server,
        deadline: q.deadline,
        actor: auth.actor().label(),
    };
    let view: web::Json<ActionView> = submit(&state, &auth, ip, n).await?;
    Ok(HttpResponse::Ok().json(view.into_inner()))
}

/// Starts an action at Apple Business for the serials of a CSV (`Content-Type: text/csv`,
/// at most 1,000 serials); `check=true` only reads the file. Not release: see
/// `/business/actions/release/csv`.
#[utoipa::path(tag = "business", params(CsvActionQuery), request_body(content = String, content_type = "text/csv"), responses((status = OK, body = ActionView), (status = 422, body = ApiError), (status = 409, body = ApiError), (status = 502, body = ApiError)))]
#[post("/business/actions/csv")]
async fn from_csv(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    query: web::Query<CsvActionQuery>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let action = match (q.action, q.check) {
        (Some(a), _) => a,
        // Every action but release (its own route) is confirmed alike: a check needs none.
        (None, true) => Action::Assign,
        (None, false) => {
            return Err(ApiError::validation(
                "action",
                "choose the action: assign, unassign, migrate, change_deadline or cancel_migration",
            ));
        }
    };
    if action == Action::Release {
        return Err(ApiError::validation(
            "action",
            "release has its own route, POST /api/v1/business/actions/release/csv, with its stronger confirmation",
        ));
    }
    run(state, auth, ip, q, action, body).await
}

/// Releases the devices of a CSV from the organisation at Apple Business, for good.
#[utoipa::path(tag = "business", params(CsvActionQuery), request_body(content = String, content_type = "text/csv"), responses((status = OK, body = ActionView), (status = 422, body = ApiError), (status = 502, body = ApiError)))]
#[post("/business/actions/release/csv")]
async fn release_csv(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    query: web::Query<CsvActionQuery>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    run(state, auth, ip, query.into_inner(), Action::Release, body).await
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(from_csv).service(release_csv);
}
