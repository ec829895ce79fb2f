//! `POST /enroll/machineinfo`: the profile URL (../shared/spec/enrollment.md §1). The body is
//! read raw with a 64 KiB cap; `enroll::Enroll::handle` decides; the device gets the signed
//! profile (`application/x-apple-aspen-config`) or a refusal, which
//! [`super::error::device::EnrollRefusal`] renders (Apple's JSON shape, §1.4–§1.5).

use super::DEVICE_BODY_LIMIT;
use super::error::device::EnrollRefusal;
use super::state::AppState;
use crate::enroll::Answer;
use actix_web::{HttpResponse, web};
use futures_util::StreamExt;

/// The content type of an enrollment profile (spec §1.3).
pub const PROFILE_CONTENT_TYPE: &str = "application/x-apple-aspen-config";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/machineinfo", web::post().to(machine_info))
        .route("/anchors", web::get().to(super::service_config::anchors));
}

async fn machine_info(
    state: web::Data<AppState>,
    mut payload: web::Payload,
) -> Result<HttpResponse, EnrollRefusal> {
    // Read by hand so an oversize body is answered as JSON, not by actix's default text.
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| EnrollRefusal::unreadable())?;
        if body.len() + chunk.len() > DEVICE_BODY_LIMIT {
            return Err(EnrollRefusal::too_large(DEVICE_BODY_LIMIT + 1));
        }
        body.extend_from_slice(&chunk);
    }
    let Answer::Profile(bytes) = state.enroll.handle(body).await?;
    Ok(HttpResponse::Ok()
        .content_type(PROFILE_CONTENT_TYPE)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Content-Disposition", "attachment; filename=\"enroll.mobileconfig\""))
        .insert_header(("Cache-Control", "no-store"))
        .body(bytes))
}
