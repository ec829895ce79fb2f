//! The profile routes of the DEP simulator: define, get, assign (POST and PUT), remove
//! (dep-api.md §3.3, §4), and the account-driven enrollment profile (§3). Thin handlers over
//! `profiles.rs`; per-device throttling only at protocol ≥ 9, `retry_after_seconds` only at
//! ≥ 10.

use crate::apple::dep::{
    AssignProfileRequest, AssignProfileResponse, ClearProfileRequest, DefineProfileResponse,
    DepErrorCode as Code, DeviceStatusResponse,
};
use crate::sim::dep::api::{Data, body, check_serials, results};
use crate::sim::dep::profiles::{self, AssignFaults, DeviceResult};
use crate::sim::dep::respond::{Reply, serve_session};
use crate::sim::dep::server::{Shared, lock};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

pub(super) async fn define_profile(
    shared: Data,
    req: HttpRequest,
    bytes: web::Bytes,
) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            return Err(Reply::error(Code::MalformedRequestBody));
        };
        let (profile, devices) =
            match profiles::validate(&value).and_then(|p| Ok((p, profiles::serials(&value)?))) {
                Ok(v) => v,
                Err(code) => return Err(Reply::error(code)),
            };
        if !devices.is_empty() {
            check_serials(&devices, true)?;
        }
        let faults = assign_faults(shared.get_ref(), ctx.protocol);
        let (profile_uuid, list) =
            lock(&shared.world).define_profile(ctx.server, profile, &devices, faults, ctx.now);
        Ok(Reply::json(&DefineProfileResponse { profile_uuid, devices: results(list) }))
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
pub(super) struct ProfileQuery {
    profile_uuid: Option<String>,
}

pub(super) async fn get_profile(
    shared: Data,
    req: HttpRequest,
    query: web::Query<ProfileQuery>,
) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let Some(uuid) = query.profile_uuid.as_deref().filter(|u| !u.is_empty()) else {
            return Err(Reply::error(Code::ProfileUuidRequired));
        };
        let behaviour = shared.behaviour.load();
        let Some(mut profile) = lock(&shared.world).profile(ctx.server, uuid).cloned() else {
            let status = StatusCode::from_u16(behaviour.profile_not_found_status)
                .unwrap_or(StatusCode::BAD_REQUEST);
            return Err(Reply::error_status(status, Code::NotFound));
        };
        profile.profile_uuid = Some(uuid.to_ascii_uppercase());
        if ctx.protocol < 2 {
            profile.auto_advance_setup = None;
            profile.await_device_configured = None;
            profile.is_multi_user = None;
            profile.support_email_address = None;
        }
        if !behaviour.unprefixed_profile_names {
            return Err(Reply::json(&profile));
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
        Ok(Reply::json(&value))
    })
    .await
}

pub(super) async fn assign(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let request: AssignProfileRequest = body(&bytes)?;
        if request.profile_uuid.is_empty() {
            return Err(Reply::error(Code::ProfileUuidRequired));
        }
        check_serials(&request.devices, true)?;
        let faults = assign_faults(shared.get_ref(), ctx.protocol);
        let Some(list) = lock(&shared.world).assign_profile(
            ctx.server,
            &request.profile_uuid,
            &request.devices,
            faults,
            ctx.now,
        ) else {
            return Err(Reply::error(Code::ProfileNotFound));
        };
        let throttled = list.iter().any(|(_, r)| *r == DeviceResult::Throttled);
        let retry_after_seconds = (throttled && ctx.protocol >= 10)
            .then(|| u64::from(shared.faults.load().throttle_retry_after_secs));
        Ok(Reply::json(&AssignProfileResponse {
            profile_uuid: request.profile_uuid.to_ascii_uppercase(),
            devices: results(list),
            retry_after_seconds,
        }))
    })
    .await
}

pub(super) async fn remove(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let request: ClearProfileRequest = body(&bytes)?;
        check_serials(&request.devices, true)?;
        let fail_rate = shared.faults.load().assign_fail_rate;
        let list =
            lock(&shared.world).remove_profile(ctx.server, &request.devices, fail_rate, ctx.now);
        Ok(Reply::json(&DeviceStatusResponse { devices: results(list) }))
    })
    .await
}

pub(super) async fn set_ade(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            return Err(Reply::error(Code::MalformedRequestBody));
        };
        let Some(url) = value
            .get("mdm_service_discovery_url")
            .and_then(|v| v.as_str())
            .filter(|u| !u.is_empty())
        else {
            return Err(Reply::error(Code::MdmServiceDiscoveryUrlRequired));
        };
        let valid = url.len() <= 2000
            && url
                .strip_prefix("https://")
                .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace));
        if !valid {
            return Err(Reply::error(Code::MdmServiceDiscoveryUrlNotValid));
        }
        lock(&shared.world).set_ade_profile(ctx.server, Some(url.to_string()), ctx.now);
        Ok(Reply::empty())
    })
    .await
}

pub(super) async fn get_ade(shared: Data, req: HttpRequest) -> HttpResponse {
    serve_session(&shared, &req, |ctx| match lock(&shared.world).ade_profile(ctx.server) {
        Some(p) => Ok(Reply::json(&p)),
        None => Err(Reply::error_status(StatusCode::NOT_FOUND, Code::NotFound)),
    })
    .await
}

pub(super) async fn delete_ade(shared: Data, req: HttpRequest) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        lock(&shared.world).set_ade_profile(ctx.server, None, ctx.now);
        Ok(Reply::empty())
    })
    .await
}
