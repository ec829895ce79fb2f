//! `/api/v1/profiles/{id}/setup-steps` and `/api/v1/setup/profiles`: an enrollment profile's
//! steps run while Setup Assistant waits, and the configuration profiles (`.mobileconfig`)
//! uploaded for them. Every change is audited.

use crate::audit::{Action, NewEntry, Outcome};
use crate::http::error::ApiError;
use crate::http::extract::{Authenticated, ClientIp};
use crate::http::json::ApiJson;
use crate::http::state::AppState;
use crate::ids::{ConfigProfileId, ProfileId};
use crate::setup::{ProfileRec, Step, StepList, upload::MAX_PROFILE};
use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A profile's steps, in order.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepsBody {
    /// Each `{"action": {"kind": …}, "on_error": "block" | "skip"}`; kinds:
    /// `install_profile` (`profile_id`), `device_name`, `account_configuration`
    /// (`short_name`, `full_name`, `lock`), `command` (`command`: the Command dictionary as
    /// an XML plist).
    #[schema(value_type = Vec<Object>)]
    pub steps: Vec<Step>,
}

/// A profile's steps as stored.
#[derive(Serialize, ToSchema)]
pub struct StepsView {
    #[schema(value_type = Vec<Object>)]
    pub steps: Vec<Step>,
    /// False while the profile runs the default list (the device name).
    pub edited: bool,
    pub updated_at: Option<String>,
    pub updated_by: Option<String>,
}

impl From<StepList> for StepsView {
    fn from(l: StepList) -> StepsView {
        let rfc = &time::format_description::well_known::Rfc3339;
        StepsView {
            steps: l.steps,
            edited: l.edited,
            updated_at: l.updated_at.and_then(|t| t.format(rfc).ok()),
            updated_by: l.updated_by,
        }
    }
}

/// An uploaded configuration profile.
#[derive(Serialize, ToSchema)]
pub struct ConfigProfileView {
    pub id: String,
    pub name: String,
    pub identifier: String,
    pub payload_types: Vec<String>,
    /// The signer's subject, for a signed profile.
    pub signed_by: Option<String>,
    /// Subjects of the certificates its certificate payloads carry.
    pub certificates: Vec<String>,
    pub size: usize,
    pub uploaded_at: String,
    pub uploaded_by: String,
}

impl From<ProfileRec> for ConfigProfileView {
    fn from(p: ProfileRec) -> ConfigProfileView {
        let rfc = &time::format_description::well_known::Rfc3339;
        ConfigProfileView {
            id: p.id.into_string(),
            name: p.name,
            identifier: p.identifier,
            payload_types: p.payload_types,
            signed_by: p.signed_by,
            certificates: p.certificates,
            size: p.size,
            uploaded_at: p.uploaded_at.format(rfc).unwrap_or_default(),
            uploaded_by: p.uploaded_by,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ConfigProfiles {
    pub items: Vec<ConfigProfileView>,
}

async fn audit(
    state: &AppState,
    auth: &Authenticated,
    ip: &ClientIp,
    action: Action,
    ok: bool,
    target: String,
    detail: String,
) -> Result<(), ApiError> {
    let outcome = if ok { Outcome::Success } else { Outcome::Failure };
    let entry = NewEntry::new(state.clock.now(), auth.actor(), action, outcome)
        .target(target)
        .from_addr(ip.0.map(|a| a.to_string()))
        .detail(detail);
    state.audit.record(entry).await?;
    Ok(())
}

/// The steps a profile's devices run before their release.
#[utoipa::path(tag = "profiles", responses((status = OK, body = StepsView), (status = 404, body = ApiError)))]
#[get("/profiles/{id}/setup-steps")]
async fn get_steps(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<String>,
) -> Result<web::Json<StepsView>, ApiError> {
    let id = ProfileId::parse(&id)?;
    state.profiles.get(&id).await?;
    Ok(web::Json(state.setup.steps(&id).await?.into()))
}

/// Replaces a profile's steps; devices already waiting keep the steps they started with.
#[utoipa::path(tag = "profiles", request_body = StepsBody, responses((status = OK, body = StepsView), (status = 422, body = ApiError)))]
#[put("/profiles/{id}/setup-steps")]
async fn put_steps(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    id: web::Path<String>,
    body: ApiJson<StepsBody>,
) -> Result<web::Json<StepsView>, ApiError> {
    let id = ProfileId::parse(&id)?;
    super::profiles::require_all_its_tokens(&state, &auth, &id).await?;
    let steps = body.into_inner().steps;
    let n = steps.len();
    let r = state.setup.set_steps(&id, steps, &auth.actor().label()).await;
    let detail = format!("setup steps: {n} steps");
    audit(&state, &auth, &ip, Action::ProfileUpdate, r.is_ok(), id.to_string(), detail).await?;
    Ok(web::Json(r?.into()))
}

/// The uploaded configuration profiles.
#[utoipa::path(tag = "profiles", responses((status = OK, body = ConfigProfiles)))]
#[get("/setup/profiles")]
async fn list_profiles(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<ConfigProfiles>, ApiError> {
    let items = state.setup.profiles().await?.into_iter().map(Into::into).collect();
    Ok(web::Json(ConfigProfiles { items }))
}

/// Uploads a configuration profile (`.mobileconfig`, signed or not; the raw file as the body,
/// at most 512 KiB). It is checked before it is kept; a refusal names the payload and key.
#[utoipa::path(tag = "profiles", request_body(content = Vec<u8>, content_type = "application/x-apple-aspen-config"), responses((status = CREATED, body = ConfigProfileView), (status = 413, body = ApiError), (status = 422, body = ApiError)))]
#[post("/setup/profiles")]
async fn upload_profile(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let too_large = format!(
        "a configuration profile is at most {MAX_PROFILE} bytes; remove payloads or split it"
    );
    let bytes = super::commands::read_capped(&mut body, MAX_PROFILE, too_large).await?;
    let r = state.setup.upload(bytes, &auth.actor().label()).await;
    let (target, detail) = match &r {
        Ok(p) => (p.id.to_string(), format!("configuration profile \"{}\" uploaded", p.name)),
        Err(e) => (String::new(), format!("configuration profile refused: {e}")),
    };
    audit(&state, &auth, &ip, Action::ProfileCreate, r.is_ok(), target, detail).await?;
    Ok(HttpResponse::Created().json(ConfigProfileView::from(r?)))
}

/// Deletes an uploaded configuration profile no step names (409 `in_use` otherwise).
#[utoipa::path(tag = "profiles", responses((status = NO_CONTENT), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
#[delete("/setup/profiles/{id}")]
async fn delete_profile(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = ConfigProfileId::parse(&id)?;
    let r = state.setup.delete_profile(&id).await;
    let detail = "configuration profile deleted".to_string();
    audit(&state, &auth, &ip, Action::ProfileDelete, r.is_ok(), id.to_string(), detail).await?;
    r?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_steps).service(put_steps);
    cfg.service(list_profiles).service(upload_profile).service(delete_profile);
}
