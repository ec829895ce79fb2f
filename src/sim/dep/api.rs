//! The DEP API routes of the simulator (dep-api.md §2–§3), each a thin handler: read the
//! body with the shared wire types of [`crate::apple::dep`], call the world, render.
//!
//! `/session` verifies OAuth 1.0a with [`crate::crypto::oauth1`] (realm optional, reused nonce
//! 401, bad signature 401, unknown consumer key 401, non-HMAC-SHA1 400, revoked or superseded
//! token 401 `token_rejected`, then the scripted 403s). Every other route goes through
//! [`serve_session`]. Unknown paths answer 404 `NOT_FOUND`.

use crate::apple::dep::{
    ActivationLockRequest, ActivationLockResponse, AssignProfileRequest, AssignProfileResponse,
    BetaEnrollmentTokens, ClearProfileRequest, DefineProfileResponse, DepErrorCode as Code,
    DeviceListRequest, DeviceListResponse, DeviceStatus, DeviceStatusResponse, FetchDeviceRequest,
    FetchDeviceResponse, MAX_DEVICES_PER_REQUEST, SessionResponse,
};
use crate::crypto::oauth1::{Authorization, SIGNATURE_METHOD};
use crate::sim::dep::paging::{CursorError, clamp_limit};
use crate::sim::dep::profiles::{self, AssignFaults, DeviceResult};
use crate::sim::dep::render;
use crate::sim::dep::respond::{Ctx, Reply, serve_open, serve_session};
use crate::sim::dep::server::{Shared, lock};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/session", web::get().to(session))
        .route("/account", web::get().to(account))
        .route("/server/devices", web::post().to(fetch))
        .route("/devices/sync", web::post().to(sync))
        .route("/devices", web::post().to(details))
        .route("/devices/disown", web::post().to(disown))
        .route("/device/activationlock", web::post().to(activation_lock))
        .route("/device/replacementDetails", web::get().to(replacement_details))
        .route("/os-beta-enrollment/tokens", web::get().to(beta_tokens))
        .route("/profile", web::post().to(define_profile))
        .route("/profile", web::get().to(get_profile))
        // Modern docs say POST; PUT is what it was and what nanodep and Fleet send (§3).
        .route("/profile/devices", web::post().to(assign))
        .route("/profile/devices", web::put().to(assign))
        .route("/profile/devices", web::delete().to(remove))
        .route("/account-driven-enrollment/profile", web::post().to(set_ade))
        .route("/account-driven-enrollment/profile", web::get().to(get_ade))
        .route("/account-driven-enrollment/profile", web::delete().to(delete_ade));
}

type Data = web::Data<Shared>;

/// Reads a JSON body with a shared wire type; an empty body is the type's default.
fn body<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, Reply> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|_| Reply::error(Code::MalformedRequestBody))
}

fn status(r: DeviceResult) -> DeviceStatus {
    match r {
        DeviceResult::Success => DeviceStatus::Success,
        DeviceResult::NotAccessible => DeviceStatus::NotAccessible,
        DeviceResult::Failed => DeviceStatus::Failed,
        DeviceResult::Throttled => DeviceStatus::Throttled,
    }
}

fn results(list: Vec<(String, DeviceResult)>) -> BTreeMap<String, DeviceStatus> {
    list.into_iter().map(|(s, r)| (s, status(r))).collect()
}

fn cursor_error(e: CursorError) -> Reply {
    Reply::error(match e {
        CursorError::Required => Code::CursorRequired,
        CursorError::Invalid => Code::InvalidCursor,
        CursorError::Expired => Code::ExpiredCursor,
        CursorError::Exhausted => Code::ExhaustedCursor,
    })
}

async fn session(shared: Data, req: HttpRequest) -> HttpResponse {
    serve_open(&shared, &req, |ctx| open_session(&shared, &req, ctx)).await
}

fn open_session(shared: &Shared, req: &HttpRequest, ctx: &Ctx) -> Reply {
    let Some(header) = req.headers().get("Authorization").and_then(|v| v.to_str().ok()) else {
        return Reply::text(StatusCode::BAD_REQUEST, "oauth_problem=parameter_absent");
    };
    let auth = match Authorization::parse(header) {
        Ok(a) => a,
        Err(e) => {
            return Reply::text(
                StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
                "oauth_problem=parameter_rejected",
            );
        }
    };
    if auth.signature_method() != SIGNATURE_METHOD {
        return Reply::text(StatusCode::BAD_REQUEST, "oauth_problem=signature_method_rejected");
    }
    let faults = shared.faults.load();
    let (consumer_secret, access_secret, server, expired) = {
        let world = lock(&shared.world);
        let Some(id) = world.server_by_consumer_key(auth.consumer_key()) else {
            return Reply::text(StatusCode::UNAUTHORIZED, "oauth_problem=consumer_key_unknown");
        };
        let Some(s) = world.server(id) else { return Reply::error(Code::TokenRejected) };
        // A superseded token is Apple's `token_rejected` (Fleet #47700, §1.6).
        if faults.revoked || s.retired_tokens.contains(auth.token()) {
            return Reply::error(Code::TokenRejected);
        }
        if s.token.access_token.expose() != auth.token() {
            return Reply::text(StatusCode::UNAUTHORIZED, "oauth_problem=token_rejected_unknown");
        }
        let expired = s.token.expiry < ctx.now;
        (s.token.consumer_secret.clone(), s.token.access_secret.clone(), id, expired)
    };
    // The client signed the URL it used; the Host it sent is that URL's authority.
    let url = format!("https://{}/session", req.connection_info().host());
    if auth.verify("GET", &url, consumer_secret.expose(), access_secret.expose()).is_err() {
        return Reply::text(StatusCode::UNAUTHORIZED, "oauth_problem=bad_signature");
    }
    if !lock(&shared.nonces).first_use(auth.consumer_key(), auth.nonce()) {
        return Reply::text(StatusCode::UNAUTHORIZED, "oauth_problem=nonce_used");
    }
    if expired {
        return Reply::text(StatusCode::UNAUTHORIZED, "oauth_problem=token_expired");
    }
    // Apple judges the terms only once the token itself is good (Fleet, §2.3).
    if faults.terms_not_signed {
        return Reply::error(Code::TermsNotSigned);
    }
    if faults.access_denied {
        return Reply::error(Code::AccessDenied);
    }
    let now_ms = (ctx.now.unix_timestamp_nanos() / 1_000_000) as i64;
    let token = lock(&shared.sessions).open(server, auth.token(), now_ms);
    Reply::json(&SessionResponse { auth_session_token: token })
}

async fn account(shared: Data, req: HttpRequest) -> HttpResponse {
    serve_session(&shared, &req, |ctx| match lock(&shared.world).server(ctx.server) {
        Some(s) => Reply::json(&render::account(s, ctx.protocol)),
        None => Reply::error(Code::AccessDenied),
    })
    .await
}

async fn fetch(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| page(&shared, ctx, &bytes, false)).await
}

async fn sync(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| page(&shared, ctx, &bytes, true)).await
}

fn page(shared: &Shared, ctx: &Ctx, bytes: &[u8], sync: bool) -> Reply {
    let request: FetchDeviceRequest = match body(bytes) {
        Ok(r) => r,
        Err(reply) => return reply,
    };
    let cursor = request.cursor.as_deref().filter(|c| !c.is_empty());
    let limit = clamp_limit(request.limit.map(i64::from));
    let faults = shared.faults.load();
    let (echo, dup_rate) = (
        cursor.is_some() && lock(&shared.fault_rng).chance(faults.echo_cursor_rate),
        faults.duplicate_rate,
    );
    if let (true, Some(c)) = (echo, cursor) {
        // Apple's bug: the request cursor comes back with more_to_follow forever (§3.2 item 6).
        return Reply::json(&FetchDeviceResponse {
            cursor: c.to_string(),
            devices: Vec::new(),
            fetched_until: Some(ctx.now),
            more_to_follow: true,
        });
    }
    let result = {
        let mut world = lock(&shared.world);
        if sync {
            world.sync_page(ctx.server, cursor, limit, ctx.now)
        } else {
            world.fetch_page(ctx.server, cursor, limit, ctx.now)
        }
    };
    let page = match result {
        Ok(p) => p,
        Err(e) => return cursor_error(e),
    };
    let mut response = render::page(&page, ctx.protocol);
    if sync && dup_rate > 0.0 {
        let mut rng = lock(&shared.fault_rng);
        let mut out = Vec::with_capacity(response.devices.len());
        for d in response.devices {
            if rng.chance(dup_rate) {
                out.push(d.clone());
            }
            out.push(d);
        }
        response.devices = out;
    }
    Reply::json(&response)
}

async fn details(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let request: DeviceListRequest = match body(&bytes) {
            Ok(r) => r,
            Err(reply) => return reply,
        };
        if request.devices.is_empty() {
            return Reply::error(Code::DeviceIdRequired);
        }
        let found: Vec<_> = {
            let world = lock(&shared.world);
            request.devices.iter().map(|s| (s.clone(), world.device_at(ctx.server, s))).collect()
        };
        let devices = found
            .into_iter()
            .map(|(serial, dev)| {
                let d = match dev {
                    Some(d) => crate::apple::dep::Device {
                        response_status: Some(DeviceStatus::Success),
                        ..render::device(&d, ctx.protocol)
                    },
                    None => crate::apple::dep::Device {
                        response_status: Some(DeviceStatus::NotAccessible),
                        ..Default::default()
                    },
                };
                (serial, d)
            })
            .collect();
        Reply::json(&DeviceListResponse { devices })
    })
    .await
}

async fn disown(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let request: DeviceListRequest = match body(&bytes) {
            Ok(r) => r,
            Err(reply) => return reply,
        };
        if request.devices.is_empty() {
            return Reply::error(Code::DeviceIdRequired);
        }
        let report = lock(&shared.world).disown(ctx.server, &request.devices, ctx.now);
        let mut devices: BTreeMap<String, DeviceStatus> =
            report.changed.into_iter().map(|s| (s, DeviceStatus::Success)).collect();
        devices.extend(report.unknown.into_iter().map(|s| (s, DeviceStatus::NotAccessible)));
        Reply::json(&DeviceStatusResponse { devices })
    })
    .await
}

async fn activation_lock(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let request: ActivationLockRequest = match body(&bytes) {
            Ok(r) => r,
            Err(reply) => return reply,
        };
        let key_ok = request
            .escrow_key
            .as_deref()
            .is_none_or(|k| k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit()));
        if request.device.is_empty() || !key_ok {
            return Reply::error(Code::MalformedRequestBody);
        }
        let response_status = lock(&shared.world).activation_lock(ctx.server, &request.device);
        Reply::json(&ActivationLockResponse { serial_number: request.device, response_status })
    })
    .await
}

#[derive(serde::Deserialize)]
struct DeviceQuery {
    device: Option<String>,
}

async fn replacement_details(
    shared: Data,
    req: HttpRequest,
    query: web::Query<DeviceQuery>,
) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let Some(serial) = query.device.as_deref().filter(|d| !d.is_empty()) else {
            return Reply::error(Code::DeviceIdRequired);
        };
        // Documented 404, observed 400 (petarov, zentral): answer what is observed.
        match lock(&shared.world).replacement_details(ctx.server, serial) {
            Some(d) => Reply::json(&d),
            None => Reply::error(Code::DeviceNotFound),
        }
    })
    .await
}

async fn beta_tokens(shared: Data, req: HttpRequest) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        Reply::json(&BetaEnrollmentTokens {
            beta_enrollment_tokens: lock(&shared.world).beta_tokens(ctx.server),
        })
    })
    .await
}

async fn define_profile(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            return Reply::error(Code::MalformedRequestBody);
        };
        let (profile, devices) =
            match profiles::validate(&value).and_then(|p| Ok((p, profiles::serials(&value)?))) {
                Ok(v) => v,
                Err(code) => return Reply::error(code),
            };
        if devices.len() > MAX_DEVICES_PER_REQUEST {
            return Reply::error(Code::MalformedRequestBody);
        }
        let faults = assign_faults(shared.get_ref(), ctx.protocol);
        let (profile_uuid, list) =
            lock(&shared.world).define_profile(ctx.server, profile, &devices, faults, ctx.now);
        Reply::json(&DefineProfileResponse { profile_uuid, devices: results(list) })
    })
    .await
}

fn assign_faults(shared: &Shared, protocol: u32) -> AssignFaults {
    let f = shared.faults.load();
    // Per-device throttling exists from protocol 9 (AppleDoc assign-profile "Throttling").
    AssignFaults {
        throttle_rate: if protocol >= 9 { f.throttle_rate } else { 0.0 },
        fail_rate: f.assign_fail_rate,
    }
}

#[derive(serde::Deserialize)]
struct ProfileQuery {
    profile_uuid: Option<String>,
}

async fn get_profile(
    shared: Data,
    req: HttpRequest,
    query: web::Query<ProfileQuery>,
) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let Some(uuid) = query.profile_uuid.as_deref().filter(|u| !u.is_empty()) else {
            return Reply::error(Code::ProfileUuidRequired);
        };
        let behaviour = shared.behaviour.load();
        let Some(mut profile) = lock(&shared.world).profile(ctx.server, uuid).cloned() else {
            let status = StatusCode::from_u16(behaviour.profile_not_found_status)
                .unwrap_or(StatusCode::BAD_REQUEST);
            return Reply::error_status(status, Code::NotFound);
        };
        profile.profile_uuid = Some(uuid.to_ascii_uppercase());
        if ctx.protocol < 2 {
            profile.auto_advance_setup = None;
            profile.await_device_configured = None;
            profile.is_multi_user = None;
            profile.support_email_address = None;
        }
        if !behaviour.unprefixed_profile_names {
            return Reply::json(&profile);
        }
        let mut value = serde_json::to_value(&profile).unwrap_or_default();
        if let Some(obj) = value.as_object_mut() {
            for name in [
                "is_supervised",
                "is_mandatory",
                "is_mdm_removable",
                "is_multi_user",
                "is_return_to_service",
            ] {
                if let Some(v) = obj.remove(name) {
                    obj.insert(name.trim_start_matches("is_").to_string(), v);
                }
            }
        }
        Reply::json(&value)
    })
    .await
}

async fn assign(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let request: AssignProfileRequest = match body(&bytes) {
            Ok(r) => r,
            Err(reply) => return reply,
        };
        if request.profile_uuid.is_empty() {
            return Reply::error(Code::ProfileUuidRequired);
        }
        if request.devices.is_empty() {
            return Reply::error(Code::DeviceIdRequired);
        }
        // Apple asks for at most 1000 serials per request (§3.3) without documenting the error
        // for more; the simulator refuses, so a client that ignores the limit is caught in tests.
        if request.devices.len() > MAX_DEVICES_PER_REQUEST {
            return Reply::error(Code::MalformedRequestBody);
        }
        let faults = assign_faults(shared.get_ref(), ctx.protocol);
        let Some(list) = lock(&shared.world).assign_profile(
            ctx.server,
            &request.profile_uuid,
            &request.devices,
            faults,
            ctx.now,
        ) else {
            return Reply::error(Code::ProfileNotFound);
        };
        let throttled = list.iter().any(|(_, r)| *r == DeviceResult::Throttled);
        let retry_after_seconds = (throttled && ctx.protocol >= 10)
            .then(|| u64::from(shared.faults.load().throttle_retry_after_secs));
        Reply::json(&AssignProfileResponse {
            profile_uuid: request.profile_uuid.to_ascii_uppercase(),
            devices: results(list),
            retry_after_seconds,
        })
    })
    .await
}

async fn remove(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let request: ClearProfileRequest = match body(&bytes) {
            Ok(r) => r,
            Err(reply) => return reply,
        };
        if request.devices.is_empty() {
            return Reply::error(Code::DeviceIdRequired);
        }
        if request.devices.len() > MAX_DEVICES_PER_REQUEST {
            return Reply::error(Code::MalformedRequestBody);
        }
        let fail_rate = shared.faults.load().assign_fail_rate;
        let list =
            lock(&shared.world).remove_profile(ctx.server, &request.devices, fail_rate, ctx.now);
        Reply::json(&DeviceStatusResponse { devices: results(list) })
    })
    .await
}

async fn set_ade(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            return Reply::error(Code::MalformedRequestBody);
        };
        let Some(url) = value
            .get("mdm_service_discovery_url")
            .and_then(|v| v.as_str())
            .filter(|u| !u.is_empty())
        else {
            return Reply::error(Code::MdmServiceDiscoveryUrlRequired);
        };
        let valid = url.len() <= 2000
            && url
                .strip_prefix("https://")
                .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace));
        if !valid {
            return Reply::error(Code::MdmServiceDiscoveryUrlNotValid);
        }
        lock(&shared.world).set_ade_profile(ctx.server, Some(url.to_string()), ctx.now);
        Reply::empty()
    })
    .await
}

async fn get_ade(shared: Data, req: HttpRequest) -> HttpResponse {
    serve_session(&shared, &req, |ctx| match lock(&shared.world).ade_profile(ctx.server) {
        Some(p) => Reply::json(&p),
        None => Reply::error_status(StatusCode::NOT_FOUND, Code::NotFound),
    })
    .await
}

async fn delete_ade(shared: Data, req: HttpRequest) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        lock(&shared.world).set_ade_profile(ctx.server, None, ctx.now);
        Reply::empty()
    })
    .await
}
