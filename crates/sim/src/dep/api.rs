//! The DEP API routes of the simulator (dep-api.md §2–§3), each a thin handler: read the
//! request strictly with the simulator's own types ([`crate::dep::requests`]), call the
//! world, render the answer.
//!
//! `/session` reads and verifies OAuth 1.0a with the simulator's own reader
//! ([`crate::dep::oauth`]: realm optional; reused nonce, bad signature, unknown consumer
//! key 401; malformed, missing, duplicated or unsupported parameters and non-HMAC-SHA1 400;
//! revoked or superseded token 401 `token_rejected`, then the scripted 403s). Every other route
//! goes through [`serve_session`]; the profile routes are in `api_profiles.rs`. Unknown paths
//! answer 404 `NOT_FOUND`.

use crate::apple::dep::{
    ActivationLockResponse, BetaEnrollmentTokens, DeviceListResponse, DeviceStatus,
    DeviceStatusResponse, SessionResponse,
};
use crate::dep::api_profiles::{
    assign, define_profile, delete_ade, get_ade, get_profile, remove, set_ade,
};
use crate::dep::codes::Code;
use crate::dep::input::{Data, body, serials};
use crate::dep::oauth::SessionAuth;
use crate::dep::paging::{CursorError, clamp_limit};
use crate::dep::render;
use crate::dep::requests::{self, ActivationLock, CursorRequest, DeviceList, DeviceQuery};
use crate::dep::respond::{Answer, CONTENT_TYPE, Ctx, Reply, serve_open, serve_session};
use crate::dep::state::{Shared, lock};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use std::collections::BTreeMap;

pub use crate::dep::input::MAX_SERIALS;

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

/// Any other path: 404 with Apple's `NOT_FOUND` body.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().insert_header(("Content-Type", CONTENT_TYPE)).body("NOT_FOUND")
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

fn open_session(shared: &Shared, req: &HttpRequest, ctx: &Ctx) -> Answer {
    let header = req.headers().get("Authorization").and_then(|v| v.to_str().ok());
    let auth = SessionAuth::parse(header).map_err(|problem| {
        log::warn!(target: "sim::dep", "refused /session: {problem}");
        Reply::text(
            StatusCode::from_u16(problem.status()).unwrap_or(StatusCode::BAD_REQUEST),
            problem.body(),
        )
    })?;
    let faults = shared.faults.load();
    let (consumer_secret, access_secret, server, expired) = {
        let world = shared.world();
        let Some(id) = world.server_by_consumer_key(auth.consumer_key()) else {
            return Err(Reply::text(
                StatusCode::UNAUTHORIZED,
                "oauth_problem=consumer_key_unknown",
            ));
        };
        let Some(s) = world.server(id) else { return Err(Reply::error(Code::TokenRejected)) };
        // A superseded token is Apple's `token_rejected` (Fleet #47700, §1.6).
        if faults.revoked || s.retired_tokens.contains(auth.token()) {
            return Err(Reply::error(Code::TokenRejected));
        }
        if s.token.access_token.expose() != auth.token() {
            return Err(Reply::text(
                StatusCode::UNAUTHORIZED,
                "oauth_problem=token_rejected_unknown",
            ));
        }
        let expired = s.token.expiry < ctx.now;
        (s.token.consumer_secret.clone(), s.token.access_secret.clone(), id, expired)
    };
    // The client signed the URL it used; the Host it sent is that URL's authority.
    let authority = req.connection_info().host().to_string();
    let signed = auth.verify(
        req.method().as_str(),
        &authority,
        req.path(),
        req.query_string(),
        consumer_secret.expose(),
        access_secret.expose(),
    );
    if let Err(problem) = signed {
        return Err(Reply::text(StatusCode::UNAUTHORIZED, problem.body()));
    }
    if !lock(&shared.nonces).first_use(auth.consumer_key(), auth.nonce()) {
        return Err(Reply::text(StatusCode::UNAUTHORIZED, "oauth_problem=nonce_used"));
    }
    if expired {
        return Err(Reply::text(StatusCode::UNAUTHORIZED, "oauth_problem=token_expired"));
    }
    // Apple judges the terms only once the token itself is good (Fleet, §2.3).
    if faults.terms_not_signed {
        return Err(Reply::error(Code::TermsNotSigned));
    }
    if faults.access_denied {
        return Err(Reply::error(Code::AccessDenied));
    }
    let now_ms = (ctx.now.unix_timestamp_nanos() / 1_000_000) as i64;
    let token = lock(&shared.sessions).open(server, auth.token(), now_ms);
    Ok(Reply::json(&SessionResponse { auth_session_token: token }))
}

async fn account(shared: Data, req: HttpRequest) -> HttpResponse {
    serve_session(&shared, &req, |ctx| match shared.world().server(ctx.server) {
        Some(s) => Ok(Reply::json(&render::account(s, ctx.protocol))),
        None => Err(Reply::error(Code::AccessDenied)),
    })
    .await
}

async fn fetch(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| page(&shared, ctx, &bytes, false)).await
}

async fn sync(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| page(&shared, ctx, &bytes, true)).await
}

fn page(shared: &Shared, ctx: &Ctx, bytes: &[u8], sync: bool) -> Answer {
    let request: CursorRequest = body(if sync { "sync" } else { "fetch" }, bytes)?;
    let cursor = request.cursor.as_deref().filter(|c| !c.is_empty());
    let limit = clamp_limit(request.limit.map(i64::from));
    let faults = shared.faults.load();
    let echo = cursor.is_some() && lock(&shared.fault_rng).chance(faults.echo_cursor_rate);
    if let (true, Some(c)) = (echo, cursor) {
        // Apple's bug: the request cursor comes back with more_to_follow forever (§3.2 item 6).
        return Err(Reply::json(&crate::apple::dep::FetchDeviceResponse {
            cursor: c.to_string(),
            devices: Vec::new(),
            fetched_until: Some(ctx.now),
            more_to_follow: true,
        }));
    }
    let result = {
        let mut world = shared.world();
        if sync {
            // Sync may repeat records (§3.2 item 4); the `dup` fault decides which.
            let rate = faults.duplicate_rate;
            let mut rng = lock(&shared.fault_rng);
            let mut dup = || rate > 0.0 && rng.chance(rate);
            world.sync_page(ctx.server, cursor, limit, ctx.now, &mut dup)
        } else {
            world.fetch_page(ctx.server, cursor, limit, ctx.now)
        }
    };
    let page = result.map_err(cursor_error)?;
    Ok(Reply::json(&render::page(&page, ctx.protocol)))
}

async fn details(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let request: DeviceList = body("device details", &bytes)?;
        // No per-call limit is documented for details; zentral saw 5000 answered (§3.2).
        let devices = serials(request.devices, false)?;
        let found: Vec<_> = {
            let world = shared.world();
            devices.iter().map(|s| (s.clone(), world.device_at(ctx.server, s))).collect()
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
        Ok(Reply::json(&DeviceListResponse { devices }))
    })
    .await
}

async fn disown(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let request: DeviceList = body("disown", &bytes)?;
        let devices = serials(request.devices, true)?;
        let report = shared.world().disown(ctx.server, &devices, ctx.now);
        let mut devices: BTreeMap<String, DeviceStatus> =
            report.changed.into_iter().map(|s| (s, DeviceStatus::Success)).collect();
        devices.extend(report.unknown.into_iter().map(|s| (s, DeviceStatus::NotAccessible)));
        Ok(Reply::json(&DeviceStatusResponse { devices }))
    })
    .await
}

async fn activation_lock(shared: Data, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let request: ActivationLock = body("activation lock", &bytes)?;
        let key_ok = request.escrow_key.as_deref().is_none_or(escrow_key_ok);
        let device = request.device.filter(|d| !d.is_empty() && key_ok);
        // Apple documents only MALFORMED_REQUEST_BODY for this route's bad bodies (§3).
        let Some(device) = device else { return Err(Reply::error(Code::MalformedRequestBody)) };
        let response_status = shared.world().activation_lock(ctx.server, &device);
        Ok(Reply::json(&ActivationLockResponse { serial_number: device, response_status }))
    })
    .await
}

/// Apple documents 64 hex characters (nanodep sends those); petarov's mock sends the same 32
/// bytes in base64. Which Apple accepts besides hex is uncertain (dep-api.md §3.2), so both
/// are tolerated.
fn escrow_key_ok(key: &str) -> bool {
    use base64ct::{Base64, Encoding};
    let hex = key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit());
    hex || Base64::decode_vec(key).is_ok_and(|k| k.len() == 32)
}

async fn replacement_details(shared: Data, req: HttpRequest) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        let query: DeviceQuery = requests::read_query("replacement details", req.query_string())
            .map_err(Reply::error)?;
        let Some(serial) = query.device.as_deref().filter(|d| !d.is_empty()) else {
            return Err(Reply::error(Code::DeviceIdRequired));
        };
        // Documented 404, observed 400 (petarov, zentral): answer what is observed.
        match shared.world().replacement_details(ctx.server, serial) {
            Some(d) => Ok(Reply::json(&d)),
            None => Err(Reply::error(Code::DeviceNotFound)),
        }
    })
    .await
}

async fn beta_tokens(shared: Data, req: HttpRequest) -> HttpResponse {
    serve_session(&shared, &req, |ctx| {
        Ok(Reply::json(&BetaEnrollmentTokens {
            beta_enrollment_tokens: shared.world().beta_tokens(ctx.server),
        }))
    })
    .await
}
