//! The profile routes of the DEP simulator: define, get, assign (POST and PUT), remove
//! (dep-api.md §3.3, §4), and the account-driven enrollment profile (§3). Thin handlers over
//! `profiles.rs`; per-device throttling only at protocol ≥ 9, `retry_after_seconds` only at
//! ≥ 10.

use crate::apple::dep::{AssignProfileResponse, DefineProfileResponse, DeviceStatusResponse};
use crate::dep::codes::Code;
use crate::dep::input::{Data, body, results, serials};
use crate::dep::profiles::{self, AssignFaults, DeviceResult};
use crate::dep::requests::{
    self, ProfileDefinition, ProfileDevices, ProfileQuery, ServiceDiscovery,
};
use crate::dep::respond::{Reply, serve_session};
use crate::dep::state::Shared;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

pub(super) async fn define_profile(
    shared: Data,
    req: HttpRequest,
    bytes: web::Bytes,
) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let definition: ProfileDefinition = body("profile", &bytes)?;
        // `devices` may be absent or empty at definition time (§4).
        let devices = match definition.devices.clone().filter(|d| !d.is_empty()) {
            Some(d) => serials(Some(d), true)?,
            None => Vec::new(),
        };
        let profile = profiles::validate(definition).map_err(Reply::error)?;
        let faults = assign_faults(shared.get_ref(), ctx.protocol);
        let (profile_uuid, list) =
            shared.world().define_profile(ctx.server, profile, &devices, faults, ctx.now);
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

pub(super) async fn get_profile(shared: Data, req: HttpRequest) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let query: ProfileQuery =
            requests::read_query("profile", req.query_string()).map_err(Reply::error)?;
        let Some(uuid) = query.profile_uuid.as_deref().filter(|u| !u.is_empty()) else {
            return Err(Reply::error(Code::ProfileUuidRequired));
        };
        let behaviour = shared.behaviour.load();
        let Some(mut profile) = shared.world().profile(ctx.server, uuid).map(|p| p.answer()) else {
            let status = StatusCode::from_u16(behaviour.profile_not_found_status)
                .unwrap_or(StatusCode::BAD_REQUEST);
            return Err(Reply::error_status(status, Code::NotFound));
        };
        // GET answers the profile plus its (undocumented) `profile_uuid` (§3.3).
        profile.insert("profile_uuid".into(), uuid.to_ascii_uppercase().into());
        if ctx.protocol < 2 {
            for v2 in [
                "auto_advance_setup",
                "await_device_configured",
                "is_multi_user",
                "support_email_address",
            ] {
                profile.remove(v2);
            }
        }
        if behaviour.unprefixed_profile_names {
            for name in [
                "is_supervised",
                "is_mandatory",
                "is_mdm_removable",
                "is_multi_user",
                "is_return_to_service",
            ] {
                if let Some(v) = profile.remove(name) {
                    profile.insert(name.trim_start_matches("is_").to_string(), v);
                }
            }
        }
        Ok(Reply::json(&profile))
    })
    .await
}

pub(super) async fn assign(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let request: ProfileDevices = body("assign", &bytes)?;
        let Some(uuid) = request.profile_uuid.filter(|u| !u.is_empty()) else {
            return Err(Reply::error(Code::ProfileUuidRequired));
        };
        let devices = serials(request.devices, true)?;
        let faults = assign_faults(shared.get_ref(), ctx.protocol);
        let Some(list) =
            shared.world().assign_profile(ctx.server, &uuid, &devices, faults, ctx.now)
        else {
            return Err(Reply::error(Code::ProfileNotFound));
        };
        let throttled = list.iter().any(|(_, r)| *r == DeviceResult::Throttled);
        let retry_after_seconds = (throttled && ctx.protocol >= 10)
            .then(|| u64::from(shared.faults.load().throttle_retry_after_secs));
        Ok(Reply::json(&AssignProfileResponse {
            profile_uuid: uuid.to_ascii_uppercase(),
            devices: results(list),
            retry_after_seconds,
        }))
    })
    .await
}

pub(super) async fn remove(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        // `profile_uuid` is accepted but unused (§3.3).
        let request: ProfileDevices = body("remove", &bytes)?;
        let devices = serials(request.devices, true)?;
        let fail_rate = shared.faults.load().assign_fail_rate;
        let list = shared.world().remove_profile(ctx.server, &devices, fail_rate, ctx.now);
        Ok(Reply::json(&DeviceStatusResponse { devices: results(list) }))
    })
    .await
}

pub(super) async fn set_ade(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let request: ServiceDiscovery = body("account-driven enrollment profile", &bytes)?;
        let Some(url) = request.mdm_service_discovery_url.as_deref().filter(|u| !u.is_empty())
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
        shared.world().set_ade_profile(ctx.server, Some(url.to_string()), ctx.now);
        Ok(Reply::empty())
    })
    .await
}

pub(super) async fn get_ade(shared: Data, req: HttpRequest) -> HttpResponse {
    serve_session(&shared, &req, |ctx| match shared.world().ade_profile(ctx.server) {
        Some(p) => Ok(Reply::json(&p)),
        None => Err(Reply::error_status(StatusCode::NOT_FOUND, Code::NotFound)),
    })
    .await
}

pub(super) async fn delete_ade(shared: Data, req: HttpRequest) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        shared.world().set_ade_profile(ctx.server, None, ctx.now);
        Ok(Reply::empty())
    })
    .await
}
