//! `/api/v1/business/actions…` and `/api/v1/business/applecare/{serial}`: the actions adebox
//! takes at Apple Business (assign, unassign, schedule / change / cancel a migration, and
//! release from the organisation on its own route with its own permission), their progress
//! and per-serial log, and a device's AppleCare coverage. Each action is typed-confirmed,
//! audited, and names a request id so that a retried request never acts twice.

use crate::audit::{Action as AuditAction, NewEntry, Outcome};
use crate::business::activities::{
    self, Action, ActivityError, NewActivity, Record, ServerTarget, State,
};
use crate::business::applecare::Coverage;
use crate::http::api::views::ActionSerialOutcome;
use crate::http::error::ApiError;
use crate::http::extract::{Authenticated, ClientIp};
use crate::http::json::ApiJson;
use crate::http::state::AppState;
use crate::ids::{Serial, TokenId};
use actix_web::{get, post, web};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
pub struct ActionBody {
    /// A new id (a UUID) for each action; sending the same request again with it returns the
    /// action already taken instead of acting twice.
    pub request_id: String,
    /// `assign`, `unassign`, `migrate`, `change_deadline` or `cancel_migration` (release has
    /// its own route).
    pub action: Action,
    /// Serial numbers, 1 to 1,000.
    pub serials: Vec<String>,
    /// The server token whose MDM server the devices go to (assign, unassign, migrate).
    pub token: Option<String>,
    /// The migration deadline (migrate, change_deadline), RFC 3339, 1 to 90 days from now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub deadline: Option<OffsetDateTime>,
    /// The serial for one device, the number of devices for more (`12 devices`).
    pub confirm: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ReleaseBody {
    pub request_id: String,
    pub serials: Vec<String>,
    /// `release SERIAL` for one device, `release N devices` for more.
    pub confirm: String,
}

/// An action and where it stands.
#[derive(Serialize, ToSchema)]
pub struct ActionView {
    pub request_id: String,
    pub action: Action,
    pub serials: Vec<String>,
    /// The MDM server the devices go to, by name.
    pub server_name: Option<String>,
    pub token: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub deadline: Option<OffsetDateTime>,
    pub actor: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub created_at: OffsetDateTime,
    pub state: State,
    /// One line in plain words.
    pub summary: String,
    /// Apple's `status` and `subStatus`.
    pub apple_status: Option<String>,
    pub apple_sub_status: Option<String>,
    pub apple_id: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub finished_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub next_poll_at: Option<OffsetDateTime>,
    /// Each serial's outcome, read from Apple's log.
    pub results: Vec<ActionSerialOutcome>,
    /// Apple's per-serial log, exactly as Apple sent it.
    pub log: Option<String>,
    pub error: Option<String>,
}

impl From<Record> for ActionView {
    fn from(r: Record) -> Self {
        ActionView {
            summary: r.summary(),
            server_name: r.server.as_ref().map(|s| s.name.clone()),
            token: r.server.as_ref().and_then(|s| s.token.as_ref()).map(|t| t.to_string()),
            request_id: r.request_id,
            action: r.action,
            serials: r.serials.into_iter().map(Serial::into_string).collect(),
            deadline: r.deadline,
            actor: r.actor,
            created_at: r.created_at,
            state: r.state,
            apple_status: r.apple_status,
            apple_sub_status: r.apple_sub_status,
            apple_id: r.apple_id,
            finished_at: r.finished_at,
            next_poll_at: r.next_poll_at,
            results: r.results.into_iter().map(ActionSerialOutcome::from).collect(),
            log: r.log,
            error: r.error,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ActionList {
    pub items: Vec<ActionView>,
    pub total: u64,
}

fn serials(raw: &[String]) -> Result<Vec<Serial>, ApiError> {
    let mut out = Vec::with_capacity(raw.len());
    for s in raw {
        out.push(Serial::parse(s).map_err(|e| ApiError::validation("serials", e.to_string()))?);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Our server token → its Apple Business MDM server: the admin's mapping first, then the
/// server uuid both APIs report (as the servers list shows them).
pub(super) async fn target(state: &AppState, token: &str) -> Result<ServerTarget, ApiError> {
    let id = TokenId::parse(token).map_err(|e| ApiError::validation("token", e.to_string()))?;
    let view = state.tokens.get(&id).await?;
    // The same answer as every action's when no account is set up.
    let links = state.business.servers().await.map_err(|e| match e {
        crate::business::ServiceError::Account(a) => ActivityError::Account(a).into(),
        other => ApiError::from(other),
    })?;
    let Some(link) = links.into_iter().find(|l| l.token.as_ref() == Some(&id)) else {
        return Err(ActivityError::UnknownServer(view.server_name).into());
    };
    Ok(ServerTarget { id: link.mdm_server_id, name: view.server_name, token: Some(id) })
}

pub(super) async fn submit(
    state: &AppState,
    auth: &Authenticated,
    ip: ClientIp,
    n: NewActivity,
) -> Result<web::Json<ActionView>, ApiError> {
    let r = match state.business_actions.connection.client().await {
        Ok(c) => state.business_actions.activities.submit(&c, n.clone()).await,
        Err(e) => Err(e.into()),
    };
    let (outcome, detail) = match &r {
        Ok(rec) if rec.state != State::Rejected => (Outcome::Success, rec.summary()),
        Ok(rec) => (
            Outcome::Failure,
            format!("{}: {}", rec.summary(), rec.error.clone().unwrap_or_default()),
        ),
        Err(e) => (
            Outcome::Failure,
            format!("{} {} devices refused: {e}", n.action.words(), n.serials.len()),
        ),
    };
    let mut target: Vec<&str> = n.serials.iter().take(20).map(Serial::as_str).collect();
    let more = n.serials.len().saturating_sub(target.len());
    let more_text = format!("and {more} more");
    if more > 0 {
        target.push(&more_text);
    }
    let entry =
        NewEntry::new(state.clock.now(), auth.actor(), AuditAction::BusinessActivity, outcome)
            .target(target.join(", "))
            .from_addr(ip.0.map(|a| a.to_string()))
            .detail(format!("request {}: {detail}", n.request_id));
    state.audit.record(entry).await?;
    Ok(web::Json(ActionView::from(r?)))
}

/// Starts an action at Apple Business (not release: see `/business/actions/release`).
/// Apple runs it in the background; poll `GET /business/actions/{request_id}` for its
/// progress and each serial's outcome.
#[utoipa::path(tag = "business", request_body = ActionBody, responses((status = OK, body = ActionView), (status = 422, body = ApiError), (status = 409, body = ApiError), (status = 502, body = ApiError)))]
#[post("/business/actions")]
async fn start(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    body: ApiJson<ActionBody>,
) -> Result<web::Json<ActionView>, ApiError> {
    let body = body.into_inner();
    if body.action == Action::Release {
        return Err(ApiError::validation(
            "action",
            "release has its own route, POST /api/v1/business/actions/release, with its stronger confirmation",
        ));
    }
    let serials = serials(&body.serials)?;
    activities::confirm(body.action, &serials, &body.confirm)?;
    let server = match (&body.token, body.action.needs_server()) {
        (Some(t), true) => Some(target(&state, t).await?),
        _ => None,
    };
    let n = NewActivity {
        request_id: body.request_id,
        action: body.action,
        serials,
        server,
        deadline: body.deadline,
        actor: auth.actor().label(),
    };
    submit(&state, &auth, ip, n).await
}

/// Releases devices from the organisation at Apple Business, for good.
#[utoipa::path(tag = "business", request_body = ReleaseBody, responses((status = OK, body = ActionView), (status = 422, body = ApiError), (status = 502, body = ApiError)))]
#[post("/business/actions/release")]
async fn release(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    body: ApiJson<ReleaseBody>,
) -> Result<web::Json<ActionView>, ApiError> {
    let body = body.into_inner();
    let serials = serials(&body.serials)?;
    activities::confirm(Action::Release, &serials, &body.confirm)?;
    let n = NewActivity {
        request_id: body.request_id,
        action: Action::Release,
        serials,
        server: None,
        deadline: None,
        actor: auth.actor().label(),
    };
    submit(&state, &auth, ip, n).await
}

#[derive(Deserialize, IntoParams)]
pub struct RecentQuery {
    /// At most this many (default 50, at most 500).
    pub limit: Option<usize>,
    /// Only the actions naming this serial.
    pub serial: Option<String>,
}

/// The latest actions, newest first.
#[utoipa::path(tag = "business", params(RecentQuery), responses((status = OK, body = ActionList)))]
#[get("/business/actions")]
async fn recent(
    state: web::Data<AppState>,
    _auth: Authenticated,
    query: web::Query<RecentQuery>,
) -> Result<web::Json<ActionList>, ApiError> {
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let serial = query.serial.as_deref().map(Serial::parse).transpose()?;
    // The filter reads further back than `limit` so a device's actions are found.
    let scan = if serial.is_some() { 500 } else { limit };
    let items: Vec<ActionView> = state
        .business_actions
        .activities
        .recent(scan)
        .await?
        .into_iter()
        .filter(|r| serial.as_ref().is_none_or(|s| r.serials.contains(s)))
        .take(limit)
        .map(ActionView::from)
        .collect();
    Ok(web::Json(ActionList { total: items.len() as u64, items }))
}

/// One action: its progress, each serial's outcome and Apple's log.
#[utoipa::path(tag = "business", responses((status = OK, body = ActionView), (status = 404, body = ApiError)))]
#[get("/business/actions/{request_id}")]
async fn one(
    state: web::Data<AppState>,
    _auth: Authenticated,
    request_id: web::Path<String>,
) -> Result<web::Json<ActionView>, ApiError> {
    let acts = &state.business_actions.activities;
    match acts.get(&request_id).await? {
        Some(r) => Ok(web::Json(ActionView::from(r))),
        None => Err(ActivityError::NotFound(request_id.into_inner()).into()),
    }
}

#[derive(Deserialize, IntoParams)]
pub struct CoverageQuery {
    /// Ask Apple again instead of using the answer kept for a day.
    #[serde(default)]
    pub refresh: bool,
}

/// A device's AppleCare coverage.
#[derive(Serialize, ToSchema)]
pub struct CoverageView {
    pub serial: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub fetched_at: OffsetDateTime,
    /// Apple's coverages (`status`, `description`, `startDateTime`, `endDateTime`, …); empty:
    /// not covered.
    #[schema(value_type = Vec<Object>)]
    pub coverages: Vec<crate::business::client_activities::CoverageAttributes>,
}

impl From<Coverage> for CoverageView {
    fn from(c: Coverage) -> Self {
        CoverageView {
            serial: c.serial.into_string(),
            fetched_at: c.fetched_at,
            coverages: c.coverages,
        }
    }
}

/// A device's AppleCare coverage, from Apple Business (kept a day).
#[utoipa::path(tag = "business", params(CoverageQuery), responses((status = OK, body = CoverageView), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
#[get("/business/applecare/{serial}")]
async fn applecare(
    state: web::Data<AppState>,
    auth: Authenticated,
    serial: web::Path<String>,
    query: web::Query<CoverageQuery>,
) -> Result<web::Json<CoverageView>, ApiError> {
    let serial = Serial::parse(&serial)?;
    auth.require_device(&state, &serial).await?;
    let b = &state.business_actions;
    let client = b.connection.client().await.map_err(ActivityError::from)?;
    Ok(web::Json(b.applecare.coverage(&client, &serial, query.refresh).await?.into()))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(start).service(release).service(recent).service(one).service(applecare);
}
