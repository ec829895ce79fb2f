//! `GET /MDMServiceConfig`, Apple's discovery document for a device management service
//! (`../shared/spec/apple-2026.md` §6), and the anchors it points to: unauthenticated, so that
//! tools (and Apple, should it ever read it: UNCERTAIN which clients do) find this appliance's
//! enrollment URL and what to trust for it.
//!
//! `trust_profile_url` is left out: Apple says to omit it when no trust profile is needed, and
//! the enrollment profile itself carries the appliance CA.

use super::state::AppState;
use actix_web::{HttpResponse, web};
use base64ct::{Base64, Encoding};
use serde::Serialize;

/// Where the anchors are served, below the enrollment prefix.
pub const ANCHORS_PATH: &str = "/enroll/anchors";

/// Apple's spelling of the content type (§6).
const CONTENT_TYPE: &str = "application/json; charset=UTF8";

#[derive(Serialize)]
struct ServiceConfig {
    dep_enrollment_url: String,
    dep_anchor_certs_url: String,
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/MDMServiceConfig", web::get().to(service_config));
}

async fn service_config(state: web::Data<AppState>) -> HttpResponse {
    let dep_enrollment_url = state.enroll.enrollment_url();
    // The anchors live beside the enrollment URL, on the same public base.
    let base = dep_enrollment_url.split("/enroll/").next().unwrap_or_default().to_string();
    let body = ServiceConfig { dep_enrollment_url, dep_anchor_certs_url: base + ANCHORS_PATH };
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .insert_header(("Cache-Control", "no-store"))
        .json(body)
}

/// The certificates a device needs to trust the enrollment URL, as the profile's
/// `anchor_certs` wants them: the appliance CA while adebox serves its own certificate; none
/// for the admin's own, which chains to whatever root the site chose (§6 allows `[]`).
pub(super) async fn anchors(state: web::Data<AppState>) -> HttpResponse {
    let certs: Vec<String> =
        state.tls.anchor_certs().iter().map(|der| Base64::encode_string(der)).collect();
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .insert_header(("Cache-Control", "no-store"))
        .json(certs)
}
