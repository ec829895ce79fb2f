//! `/api/v1/sandbox/…`: drive the simulated Apple side from the page (sandbox mode only).
//! Everything goes to the simulator's stand-in ABM portal over HTTPS, as a script would.

use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::json::ApiJson;
use crate::http::state::AppState;
use crate::sim::dep::portal_client::PortalClient;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

fn portal(state: &AppState) -> Result<&PortalClient, ApiError> {
    state.sandbox_portal.as_ref().ok_or_else(|| {
        ApiError::not_found("the sandbox (this appliance is not running in sandbox mode)")
    })
}

#[derive(Deserialize, ToSchema)]
pub struct CreateServer {
    /// The pending key to make the token for.
    pub key_id: String,
    pub server_name: String,
}

#[derive(Deserialize, ToSchema)]
pub struct RenewAtPortal {
    /// A pending key, or…
    pub key_id: Option<String>,
    /// …a token whose current key to use.
    pub token_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct AddDevices {
    pub server_uuid: String,
    pub count: usize,
}

#[derive(Deserialize, ToSchema)]
pub struct MoveDevices {
    pub serials: Vec<String>,
    pub server_uuid: String,
}

#[derive(Deserialize, ToSchema)]
pub struct MigrateDevices {
    /// Devices managed at another simulated MDM server.
    pub serials: Vec<String>,
    /// The destination server.
    pub server_uuid: String,
    /// The deadline, in days from now (1 to 90).
    pub deadline_days: i64,
}

#[derive(Deserialize, ToSchema)]
pub struct ReleaseDevices {
    pub serials: Vec<String>,
}

/// The simulated Apple side: its MDM servers and device counts.
#[utoipa::path(tag = "sandbox", responses((status = OK, body = Object), (status = 404, body = ApiError)))]
#[get("/sandbox")]
async fn overview(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<Value>, ApiError> {
    let p = portal(&state)?;
    let truth = p.truth().await?;
    let servers: Vec<Value> = truth["servers"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    json!({
                        "server_uuid": s["server_uuid"],
                        "server_name": s["server_name"],
                        "devices": s["devices"].as_array().map(|d| d.len()).unwrap_or(0),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let unassigned = truth["unassigned"].as_array().map(|a| a.len()).unwrap_or(0);
    Ok(web::Json(json!({"servers": servers, "unassigned": unassigned})))
}

/// The simulated ABM makes an MDM server for a pending key and hands back its token.
#[utoipa::path(tag = "sandbox", request_body = CreateServer, responses((status = CREATED, body = Object)))]
#[post("/sandbox/abm/servers")]
async fn create_server(
    state: web::Data<AppState>,
    _auth: Authenticated,
    body: ApiJson<CreateServer>,
) -> Result<HttpResponse, ApiError> {
    let p = portal(&state)?;
    let cert = state.tokens.pending_key_certificate(&body.key_id).await?;
    let issued = p.create_server(body.server_name.trim(), &cert).await?;
    Ok(HttpResponse::Created().json(issued))
}

/// The simulated ABM renews a server's token (the old one then stops working).
#[utoipa::path(tag = "sandbox", params(("uuid" = String, Path)), request_body = RenewAtPortal, responses((status = OK, body = Object)))]
#[post("/sandbox/abm/servers/{uuid}/token")]
async fn renew(
    state: web::Data<AppState>,
    _auth: Authenticated,
    uuid: web::Path<String>,
    body: ApiJson<RenewAtPortal>,
) -> Result<HttpResponse, ApiError> {
    let p = portal(&state)?;
    let cert = match (&body.key_id, &body.token_id) {
        (Some(k), _) if !k.is_empty() => state.tokens.pending_key_certificate(k).await?,
        (_, Some(t)) if !t.is_empty() => {
            state.tokens.token_certificate(&crate::tokens::TokenId::parse(t)?).await?
        }
        _ => {
            return Err(ApiError::validation(
                "key_id",
                "give the pending key (key_id) or the token (token_id) whose key to use",
            ));
        }
    };
    Ok(HttpResponse::Ok().json(p.renew(&uuid, &cert).await?))
}

/// Adds generated devices to a simulated MDM server.
#[utoipa::path(tag = "sandbox", request_body = AddDevices, responses((status = OK, body = Object)))]
#[post("/sandbox/devices")]
async fn add_devices(
    state: web::Data<AppState>,
    _auth: Authenticated,
    body: ApiJson<AddDevices>,
) -> Result<web::Json<Value>, ApiError> {
    if !(1..=5000).contains(&body.count) {
        return Err(ApiError::validation("count", "add 1 to 5,000 devices at a time"));
    }
    let v = portal(&state)?.add_devices(&body.server_uuid, body.count).await?;
    Ok(web::Json(json!({"serials": v["added"]})))
}

/// Moves devices to another simulated MDM server.
#[utoipa::path(tag = "sandbox", request_body = MoveDevices, responses((status = OK, body = Object)))]
#[post("/sandbox/devices/move")]
async fn move_devices(
    state: web::Data<AppState>,
    _auth: Authenticated,
    body: ApiJson<MoveDevices>,
) -> Result<web::Json<Value>, ApiError> {
    let serials = clean(&body.serials)?;
    Ok(web::Json(portal(&state)?.move_devices(&serials, &body.server_uuid).await?))
}

/// Schedules, at the simulated Apple Business, the MDM migration of devices managed at another
/// simulated server to `server_uuid` with a deadline (apple-2026.md §1.1).
#[utoipa::path(tag = "sandbox", request_body = MigrateDevices, responses((status = OK, body = Object), (status = 422, body = ApiError)))]
#[post("/sandbox/devices/migrate")]
async fn migrate_devices(
    state: web::Data<AppState>,
    _auth: Authenticated,
    body: ApiJson<MigrateDevices>,
) -> Result<web::Json<Value>, ApiError> {
    let serials = clean(&body.serials)?;
    let p = portal(&state)?;
    Ok(web::Json(p.schedule_migration(&serials, &body.server_uuid, body.deadline_days).await?))
}

/// Releases devices from the simulated organisation.
#[utoipa::path(tag = "sandbox", request_body = ReleaseDevices, responses((status = OK, body = Object)))]
#[post("/sandbox/devices/release")]
async fn release(
    state: web::Data<AppState>,
    _auth: Authenticated,
    body: ApiJson<ReleaseDevices>,
) -> Result<web::Json<Value>, ApiError> {
    let serials = clean(&body.serials)?;
    Ok(web::Json(portal(&state)?.release_devices(&serials).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct SimulateEnrollment {
    /// How many synced devices with an assigned profile, not yet enrolled, to enroll.
    pub count: usize,
    /// Devices enrolling at once (default 8).
    pub concurrency: Option<usize>,
}

fn fleet(state: &AppState) -> Result<&crate::sim::fleet::sandbox::SandboxFleet, ApiError> {
    state.sandbox_fleet.as_ref().ok_or_else(|| {
        ApiError::not_found("the sandbox (this appliance is not running in sandbox mode)")
    })
}

/// Picks `count` synced devices with an assigned profile that are not yet enrolled and
/// enrolls them with simulated iPhones/iPads in the background (one run at a time).
#[utoipa::path(tag = "sandbox", request_body = SimulateEnrollment, responses((status = ACCEPTED, body = Object), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
#[post("/sandbox/enroll")]
async fn simulate_enrollment(
    state: web::Data<AppState>,
    _auth: Authenticated,
    body: ApiJson<SimulateEnrollment>,
) -> Result<HttpResponse, ApiError> {
    let f = fleet(&state)?;
    if !(1..=1000).contains(&body.count) {
        return Err(ApiError::validation("count", "simulate 1 to 1,000 devices at a time"));
    }
    let concurrency = body.concurrency.unwrap_or(8);
    if !(1..=64).contains(&concurrency) {
        return Err(ApiError::validation("concurrency", "enroll 1 to 64 devices at once"));
    }
    if f.running() {
        return Err(busy());
    }
    let certified = state.acme.certified_serials().await.map_err(|e| ApiError::internal(&e))?;
    let (assigned, _) =
        state.profiles.assignments(Some("assigned".into()), None, usize::MAX, 0).await?;
    let serials: Vec<String> = assigned
        .into_iter()
        .map(|a| a.serial)
        .filter(|s| !certified.contains(s))
        .take(body.count)
        .map(|s| s.into_string())
        .collect();
    if serials.is_empty() {
        return Err(ApiError::conflict(
            "no_devices",
            "no synced device with an assigned profile is left to enroll: add devices on this page, sync, and wait for their profile",
        ));
    }
    let picked = serials.len();
    if !f.start(serials, concurrency, state.clock.now()) {
        return Err(busy());
    }
    Ok(HttpResponse::Accepted().json(json!({"devices": picked, "requested": body.count})))
}

fn busy() -> ApiError {
    ApiError::conflict(
        "busy",
        "simulated devices are already enrolling; wait for that run to finish",
    )
}

/// The current or last simulated enrollment run: progress and report.
#[utoipa::path(tag = "sandbox", responses((status = OK, body = Object), (status = 404, body = ApiError)))]
#[get("/sandbox/enroll")]
async fn enrollment_run(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<Value>, ApiError> {
    let f = fleet(&state)?;
    Ok(web::Json(match f.status() {
        Some(s) => json!(s),
        None => json!({"running": false, "total": 0, "done": 0, "report": null}),
    }))
}

fn clean(serials: &[String]) -> Result<Vec<String>, ApiError> {
    let out: Vec<String> =
        serials.iter().map(|s| s.trim().to_ascii_uppercase()).filter(|s| !s.is_empty()).collect();
    if out.is_empty() || out.len() > 5000 {
        return Err(ApiError::validation("serials", "give 1 to 5,000 serial numbers"));
    }
    Ok(out)
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(overview)
        .service(create_server)
        .service(renew)
        .service(add_devices)
        .service(move_devices)
        .service(migrate_devices)
        .service(release)
        .service(simulate_enrollment)
        .service(enrollment_run);
}
