//! `/api/v1/devices/{serial}/mdm…`: a device's MDM enrollment and command history with
//! results, and the actions of the device page's MDM panel: refresh device information,
//! rename, release now, erase for re-enrollment or Return to Service (typed confirmation),
//! and for a device whose
//! setup steps block its release: retry the step, release anyway. Every action is audited.

use super::views::MdmState;
use crate::audit::{Action, NewEntry, Outcome};
use crate::http::error::ApiError;
use crate::http::extract::{Authenticated, ClientIp};
use crate::http::json::ApiJson;
use crate::http::state::AppState;
use crate::ids::Serial;
use actix_web::{get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The device's MDM state and its commands, newest first.
#[utoipa::path(tag = "mdm", responses((status = OK, body = MdmState), (status = 404, body = ApiError)))]
#[get("/devices/{serial}/mdm")]
async fn mdm_state(
    state: web::Data<AppState>,
    auth: Authenticated,
    serial: web::Path<String>,
) -> Result<web::Json<MdmState>, ApiError> {
    let serial = path_serial(&serial)?;
    auth.require_device(&state, &serial).await?;
    let found = state.mdm.state(&serial).await?;
    found.as_ref().map(|s| web::Json(MdmState::from(s))).ok_or_else(|| {
        ApiError::not_found_because(format!(
            "device {serial} has not checked in with MDM on this appliance"
        ))
    })
}

#[derive(Deserialize, ToSchema)]
pub struct RenameBody {
    /// The new device name (1–63 characters).
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
pub struct EraseBody {
    /// The device's serial number, typed to confirm.
    pub confirm: String,
}

/// A queued command.
#[derive(Serialize, ToSchema)]
pub struct Queued {
    pub command_uuid: String,
}

/// The `{serial}` of the path: a malformed one is a 400 naming the field.
fn path_serial(text: &str) -> Result<Serial, ApiError> {
    Serial::parse(text).map_err(|e| ApiError::from(e).field("serial"))
}

async fn audited(
    state: &AppState,
    auth: &Authenticated,
    ip: ClientIp,
    action: Action,
    serial: &Serial,
    what: &str,
    result: Result<String, crate::mdm::MdmError>,
) -> Result<web::Json<Queued>, ApiError> {
    let outcome = if result.is_ok() { Outcome::Success } else { Outcome::Failure };
    let entry = NewEntry::new(state.clock.now(), auth.actor(), action, outcome)
        .target(serial.to_string())
        .from_addr(ip.0.map(|a| a.to_string()))
        .detail(what.to_string());
    state.audit.record(entry).await?;
    Ok(web::Json(Queued { command_uuid: result? }))
}

/// Queues DeviceInformation; the answer appears in the command history.
#[utoipa::path(tag = "mdm", responses((status = OK, body = Queued), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
#[post("/devices/{serial}/mdm/refresh")]
async fn refresh(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    serial: web::Path<String>,
) -> Result<web::Json<Queued>, ApiError> {
    let serial = path_serial(&serial)?;
    auth.require_device(&state, &serial).await?;
    let r = state.mdm.refresh(&serial, &auth.actor().label()).await;
    audited(&state, &auth, ip, Action::MdmCommand, &serial, "refresh device information", r).await
}

/// Queues Settings/DeviceName.
#[utoipa::path(tag = "mdm", request_body = RenameBody, responses((status = OK, body = Queued), (status = 422, body = ApiError)))]
#[post("/devices/{serial}/mdm/rename")]
async fn rename(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    serial: web::Path<String>,
    body: ApiJson<RenameBody>,
) -> Result<web::Json<Queued>, ApiError> {
    let serial = path_serial(&serial)?;
    auth.require_device(&state, &serial).await?;
    let r = state.mdm.rename(&serial, &auth.actor().label(), &body.name).await;
    let what = format!("rename to \"{}\"", body.name.trim());
    audited(&state, &auth, ip, Action::MdmCommand, &serial, &what, r).await
}

/// Queues DeviceConfigured: the device leaves "Awaiting final configuration".
#[utoipa::path(tag = "mdm", responses((status = OK, body = Queued), (status = 404, body = ApiError)))]
#[post("/devices/{serial}/mdm/release")]
async fn release(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    serial: web::Path<String>,
) -> Result<web::Json<Queued>, ApiError> {
    let serial = path_serial(&serial)?;
    auth.require_device(&state, &serial).await?;
    let r = state.mdm.release(&serial, &auth.actor().label()).await;
    audited(&state, &auth, ip, Action::MdmCommand, &serial, "release now", r).await
}

/// Queues EraseDevice ahead of everything else; `confirm` must be the serial number.
#[utoipa::path(tag = "mdm", request_body = EraseBody, responses((status = OK, body = Queued), (status = 422, body = ApiError)))]
#[post("/devices/{serial}/mdm/erase")]
async fn erase(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    serial: web::Path<String>,
    body: ApiJson<EraseBody>,
) -> Result<web::Json<Queued>, ApiError> {
    let serial = path_serial(&serial)?;
    auth.require_device(&state, &serial).await?;
    let r = state.mdm.erase(&serial, &auth.actor().label(), &body.confirm).await;
    audited(&state, &auth, ip, Action::MdmErase, &serial, "erase for re-enrollment", r).await
}

#[derive(Deserialize, ToSchema)]
pub struct ReturnToServiceBody {
    /// The device's serial number, typed to confirm.
    pub confirm: String,
    /// A `.mobileconfig` with a Wi-Fi payload (`com.apple.wifi.managed`), base64: the network
    /// the device joins after the erase. Leave it out for a device on Ethernet.
    pub wifi_profile: Option<String>,
}

/// Queues EraseDevice with Return to Service (iOS/iPadOS 17+, tvOS 18+, visionOS): the device
/// erases, joins the Wi-Fi network and enrolls again by itself with a fresh enrollment profile.
#[utoipa::path(tag = "mdm", request_body = ReturnToServiceBody, responses((status = OK, body = Queued), (status = 422, body = ApiError)))]
#[post("/devices/{serial}/mdm/return-to-service")]
async fn return_to_service(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    serial: web::Path<String>,
    body: ApiJson<ReturnToServiceBody>,
) -> Result<web::Json<Queued>, ApiError> {
    use base64ct::{Base64, Encoding};
    let serial = path_serial(&serial)?;
    auth.require_device(&state, &serial).await?;
    let body = body.into_inner();
    let wifi = body.wifi_profile.as_deref().map(|b| Base64::decode_vec(b.trim()));
    let wifi = wifi.transpose().map_err(|_| crate::mdm::MdmError::Invalid {
        field: "wifi_profile",
        message: "the Wi-Fi profile is not base64; send the .mobileconfig file's bytes in base64"
            .into(),
    });
    let r = match wifi {
        Ok(wifi) => match state.mdm.plan_return_to_service(&serial, &body.confirm, wifi).await {
            Ok(plan) => state.mdm.return_to_service(plan, &auth.actor().label()).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    let what = "erase and return to service";
    audited(&state, &auth, ip, Action::MdmErase, &serial, what, r).await
}

/// What a setup action did.
#[derive(Serialize, ToSchema)]
pub struct SetupDone {
    pub done: String,
}

async fn audited_setup(
    state: &AppState,
    auth: &Authenticated,
    ip: ClientIp,
    serial: &Serial,
    result: Result<String, crate::mdm::MdmError>,
) -> Result<web::Json<SetupDone>, ApiError> {
    let outcome = if result.is_ok() { Outcome::Success } else { Outcome::Failure };
    let what = result.as_ref().map_or("setup step action".to_string(), |w| w.clone());
    let entry = NewEntry::new(state.clock.now(), auth.actor(), Action::MdmCommand, outcome)
        .target(serial.to_string())
        .from_addr(ip.0.map(|a| a.to_string()))
        .detail(what);
    state.audit.record(entry).await?;
    Ok(web::Json(SetupDone { done: result? }))
}

/// Sends the setup step that failed and blocks the release again.
#[utoipa::path(tag = "mdm", responses((status = OK, body = SetupDone), (status = 409, body = ApiError)))]
#[post("/devices/{serial}/mdm/setup/retry")]
async fn retry_step(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    serial: web::Path<String>,
) -> Result<web::Json<SetupDone>, ApiError> {
    let serial = path_serial(&serial)?;
    auth.require_device(&state, &serial).await?;
    let r = state.mdm.retry_step(&serial, &auth.actor().label()).await;
    audited_setup(&state, &auth, ip, &serial, r).await
}

/// Skips the remaining setup steps and releases the device.
#[utoipa::path(tag = "mdm", responses((status = OK, body = SetupDone), (status = 409, body = ApiError)))]
#[post("/devices/{serial}/mdm/setup/release-anyway")]
async fn release_anyway(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    serial: web::Path<String>,
) -> Result<web::Json<SetupDone>, ApiError> {
    let serial = path_serial(&serial)?;
    auth.require_device(&state, &serial).await?;
    let r = state.mdm.release_anyway(&serial, &auth.actor().label()).await;
    audited_setup(&state, &auth, ip, &serial, r).await
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(mdm_state).service(refresh).service(rename).service(release).service(erase);
    cfg.service(retry_step).service(release_anyway).service(return_to_service);
}
