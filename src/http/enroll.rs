//! `POST /enroll/machineinfo`: the profile URL (../shared/spec/enrollment.md §1). The body is
//! read raw with a 64 KiB cap; `enroll::Enroll::handle` decides; this file only chooses what
//! the device sees: the signed profile (`application/x-apple-aspen-config`), Apple's
//! OS-update-required 403 (§1.5), or a 403 JSON refusal with `code`, `message` (may be shown
//! on the device), `description` (logs) and `details` (§1.4). Devices never get 401.

use super::DEVICE_BODY_LIMIT;
use super::state::AppState;
use crate::enroll::{Answer, EnrollError};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use futures_util::StreamExt;
use serde_json::json;

/// The content type of an enrollment profile (spec §1.3).
pub const PROFILE_CONTENT_TYPE: &str = "application/x-apple-aspen-config";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/machineinfo", web::post().to(machine_info));
}

async fn machine_info(state: web::Data<AppState>, mut payload: web::Payload) -> HttpResponse {
    // Read by hand so an oversize body is answered as JSON, not by actix's default text.
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return device_error(
                StatusCode::BAD_REQUEST,
                "adebox.bad_request",
                "the request body could not be read",
                "",
            );
        };
        if body.len() + chunk.len() > DEVICE_BODY_LIMIT {
            return too_large(DEVICE_BODY_LIMIT + 1);
        }
        body.extend_from_slice(&chunk);
    }
    match state.enroll.handle(body).await {
        Ok(Answer::Profile(bytes)) => HttpResponse::Ok()
            .content_type(PROFILE_CONTENT_TYPE)
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .insert_header(("Content-Disposition", "attachment; filename=\"enroll.mobileconfig\""))
            .insert_header(("Cache-Control", "no-store"))
            .body(bytes),
        Err(e) => render(&e),
    }
}

fn render(e: &EnrollError) -> HttpResponse {
    match e {
        EnrollError::TooLarge { len, .. } => too_large(*len),
        EnrollError::Malformed(detail) => device_error(
            StatusCode::BAD_REQUEST,
            "adebox.bad_machine_info",
            "This device could not be identified. Contact your IT department.",
            &format!("the body is not a signed MachineInfo: {detail}"),
        ),
        EnrollError::Refused(r) => device_error(
            StatusCode::FORBIDDEN,
            &format!("adebox.enrollment.{}", r.code()),
            r.device_message(),
            &r.words(),
        ),
        EnrollError::OsUpdateRequired { os_version } => {
            HttpResponse::Forbidden().insert_header(("Cache-Control", "no-store")).json(json!({
                "code": "com.apple.softwareupdate.required",
                "message": format!("Update this device to {os_version} or later to continue."),
                "description": "the enrollment profile requires a newer OS",
                "details": {"OSVersion": os_version},
            }))
        }
        EnrollError::Unavailable(detail) => device_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "adebox.enrollment.unavailable",
            "Enrollment is not available yet. Contact your IT department.",
            detail,
        ),
        EnrollError::NoPushCertificate(detail) => device_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "adebox.enrollment.no_push_certificate",
            "Enrollment is not available yet. Try again later or contact your IT department.",
            detail,
        ),
        EnrollError::Store(s) => {
            log::error!("enrollment failed: {s}");
            device_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "adebox.internal",
                "Enrollment failed on the server. Try again later.",
                "",
            )
        }
    }
}

fn too_large(len: usize) -> HttpResponse {
    device_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "adebox.too_large",
        "This device could not be identified. Contact your IT department.",
        &format!(
            "the body is over {len} bytes; a MachineInfo is a few KiB (limit {DEVICE_BODY_LIMIT})"
        ),
    )
}

/// Spec §1.4: JSON, `code` + `message` (+ `description`, `details`).
fn device_error(status: StatusCode, code: &str, message: &str, description: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({"code": code, "message": message, "description": description, "details": {}}))
}
