//! The command API, as NanoMDM's (`../shared/fixtures/mdm-integration/nanomdm-openapi.yaml`):
//! `PUT /api/v1/mdm/enqueue/{id,…}` with a raw command plist, `GET /api/v1/mdm/push/{id,…}`;
//! ids are UDIDs or serial numbers. The answer is NanoMDM's result JSON, 200 when every device
//! took the command, 207 when some did, 500 when none did. Only the URL and the credentials
//! (an API token as `Authorization: Bearer …` instead of basic auth) differ from NanoMDM
//! (`docs/command-api.md`).

use crate::apple::mdm::request_types::{self, Class};
use crate::apple::mdm::{MAX_COMMAND_REQUEST, parse_command_request};
use crate::audit::{Action, NewEntry, Outcome};
use crate::http::error::ApiError;
use crate::http::extract::{Authenticated, ClientIp};
use crate::http::state::AppState;
use crate::mdm::IdOutcome;
use actix_web::{HttpResponse, get, put, web};
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// One device's outcome.
#[derive(Serialize, ToSchema)]
pub struct IdStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_result: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_error: Option<String>,
}

/// NanoMDM's `APIResult`.
#[derive(Serialize, ToSchema)]
pub struct ApiResult {
    /// Each id as it was given → its outcome.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub status: BTreeMap<String, IdStatus>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_push: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_uuid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_type: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct EnqueueQuery {
    /// Any value: queue only, do not push (NanoMDM's `nopush`).
    pub nopush: Option<String>,
    /// `1`: send a request type adebox does not know (Owner only).
    pub allow_unknown: Option<String>,
}

/// A raw body of at most `max` bytes; over it, 413 with `too_large`.
pub(super) async fn read_capped(
    body: &mut web::Payload,
    max: usize,
    too_large: String,
) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("the body could not be read: {e}")))?;
        if bytes.len() + chunk.len() > max {
            return Err(ApiError::payload_too_large(too_large));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn flag(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.is_empty() && s != "0" && s != "false")
}

/// The result JSON with NanoMDM's status code: 500 when every id failed, 207 when some did.
fn answer(mut result: ApiResult, outcomes: Vec<IdOutcome>) -> HttpResponse {
    let failed = outcomes.iter().filter(|o| o.failed()).count();
    let all_failed = failed == outcomes.len();
    for o in outcomes {
        let s = IdStatus {
            push_error: o.push_error,
            push_result: None,
            command_error: o.command_error,
        };
        result.status.insert(o.id, s);
    }
    let mut resp = if failed == 0 {
        HttpResponse::Ok()
    } else if all_failed {
        HttpResponse::InternalServerError()
    } else {
        HttpResponse::build(actix_web::http::StatusCode::MULTI_STATUS)
    };
    resp.json(result)
}

/// Queues a command (a raw plist, at most 1 MiB) for devices named by UDID or serial, and
/// pushes them unless `nopush`. Erase-like and unknown request types need an Owner.
#[utoipa::path(tag = "mdm", params(EnqueueQuery), request_body(content = String, content_type = "application/xml"), responses((status = OK, body = ApiResult), (status = 207, body = ApiResult), (status = 500, body = ApiResult), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 413, body = ApiError)))]
#[put("/mdm/enqueue/{ids}")]
async fn enqueue(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    ids: web::Path<String>,
    query: web::Query<EnqueueQuery>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let ids = crate::mdm::split_ids(&ids)?;
    require_ids_in_scope(&state, &auth, &ids).await?;
    let too_large = format!("a command plist is at most {MAX_COMMAND_REQUEST} bytes");
    let bytes = read_capped(&mut body, MAX_COMMAND_REQUEST, too_large).await?;
    let request = parse_command_request(&bytes)
        .map_err(|e| ApiError::bad_request(format!("the body is not an MDM command plist: {e}")))?;
    let rt = request.request_type.clone();
    if request_types::classify(&rt) == Class::Unknown && !flag(&query.allow_unknown) {
        return Err(ApiError::bad_request(format!(
            "{rt:?} is not an MDM request type adebox knows from Apple's schemas; check the \
             spelling, or send it again with ?allow_unknown=1 (Owner only)"
        ))
        .field("RequestType"));
    }
    check_schema(&state, &request, flag(&query.allow_unknown))?;
    let needed = crate::mdm::permission_for(&rt);
    if !auth.holds(needed) {
        return Err(ApiError::missing_permission(crate::admin::Missing {
            permission: needed,
            role: auth.role(),
        }));
    }
    let no_push = flag(&query.nopush);
    let uuid = request.uuid.clone();
    let target = ids.join(",").chars().take(200).collect::<String>();
    let r = state.mdm.enqueue_request(ids, request, &auth.actor().label(), no_push).await;
    let action = match needed {
        crate::admin::Permission::DeviceErase => Action::MdmErase,
        _ => Action::MdmCommand,
    };
    let (ok, detail) = match &r {
        Ok(o) => {
            let queued = o.iter().filter(|x| x.command_error.is_none()).count();
            (
                queued > 0,
                format!("{rt} {uuid} through the command API: {queued} of {} queued", o.len()),
            )
        }
        Err(e) => (false, format!("{rt} {uuid} through the command API: {e}")),
    };
    let outcome = if ok { Outcome::Success } else { Outcome::Failure };
    let entry = NewEntry::new(state.clock.now(), auth.actor(), action, outcome)
        .target(target)
        .from_addr(ip.0.map(|a| a.to_string()))
        .detail(detail);
    state.audit.record(entry).await?;
    let outcomes = r?;
    let all_refused = outcomes.iter().all(|o| o.command_error.is_some());
    let result = ApiResult {
        status: BTreeMap::new(),
        no_push,
        push_error: None,
        command_error: all_refused.then(|| "no device took the command (see status)".into()),
        command_uuid: Some(uuid),
        request_type: Some(rt),
    };
    Ok(answer(result, outcomes))
}

/// With `[mdm] schemas_dir` set, the command must follow Apple's schema for its request type
/// on some OS (each device's own OS is checked when it is queued). A request type the checkout
/// does not describe passes only with `allow_unknown`.
fn check_schema(
    state: &AppState,
    request: &crate::apple::mdm::CommandRequest,
    allow_unknown: bool,
) -> Result<(), ApiError> {
    let schemas = state.mdm.schemas();
    let rt = &request.request_type;
    let described = schemas.knows_command(rt);
    if allow_unknown && described == Some(false) {
        return Ok(());
    }
    let Err(v) = schemas.check_command(&request.value, None) else { return Ok(()) };
    let unknown = if described == Some(false) {
        ", or send it again with ?allow_unknown=1 (Owner only) if the devices know it"
    } else {
        ""
    };
    let field = v.0.first().map(|f| f.path.clone()).unwrap_or_default();
    Err(ApiError::bad_request(format!(
        "the command does not follow Apple's schema for {rt}: {}; fix the key and send it \
         again{unknown}",
        crate::schemas::describe(&v)
    ))
    .field(&field))
}

/// Pushes devices named by UDID or serial, so they check in.
#[utoipa::path(tag = "mdm", responses((status = OK, body = ApiResult), (status = 207, body = ApiResult), (status = 500, body = ApiResult)))]
#[get("/mdm/push/{ids}")]
async fn push(
    state: web::Data<AppState>,
    auth: Authenticated,
    ids: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let ids = crate::mdm::split_ids(&ids)?;
    require_ids_in_scope(&state, &auth, &ids).await?;
    let outcomes = state.mdm.push_ids(ids).await?;
    let result = ApiResult {
        status: BTreeMap::new(),
        no_push: false,
        push_error: None,
        command_error: None,
        command_uuid: None,
        request_type: None,
    };
    Ok(answer(result, outcomes))
}

/// A caller limited to some server tokens names only their devices; an id no enrolled device
/// has is left to the per-id result (it tells nothing about other tokens).
async fn require_ids_in_scope(
    state: &AppState,
    auth: &Authenticated,
    ids: &[String],
) -> Result<(), ApiError> {
    if auth.scope().is_all() {
        return Ok(());
    }
    for serial in state.mdm.serials_of(ids.to_vec()).await? {
        auth.require_device(state, &serial).await?;
    }
    Ok(())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(enqueue).service(push);
}
