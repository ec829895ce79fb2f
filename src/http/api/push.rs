//! `/api/v1/push/…`: the MDM push (APNs) certificate: its status, the request for the Apple
//! Push Certificates Portal (plain CSR or vendor-signed), and the upload of what the portal
//! issued. Changes are audited by the push service; the key never leaves it.

use super::views::{PushStatus, RequestInfo, Unreachable};
use crate::crypto::Secret;
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::json::{ApiJson, OptionalJson};
use crate::http::state::AppState;
use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema, Default)]
pub struct NewRequest {
    /// Goes into the CSR's subject (the portal does not show it).
    pub email: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct VendorSigning {
    /// The MDM vendor certificate (PEM), optionally followed by its intermediates.
    pub vendor_certificate: String,
    /// The vendor certificate's private key (PEM). Used for this signature only, never kept.
    pub vendor_key: String,
}

#[derive(Serialize, ToSchema)]
pub struct SignedRequest {
    /// The base64 plist to upload at the Apple Push Certificates Portal.
    pub request: String,
    pub file_name: String,
}

#[derive(Deserialize, ToSchema)]
pub struct Upload {
    /// The certificate from the portal as PEM text.
    pub certificate: Option<String>,
    /// Or the file's bytes in base64 (DER or PEM).
    pub certificate_base64: Option<String>,
}

/// The push certificate's state, topic, expiry and what to do next.
#[utoipa::path(tag = "push", responses((status = OK, body = PushStatus)))]
#[get("/push")]
async fn status(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<PushStatus>, ApiError> {
    Ok(web::Json(PushStatus::from(&state.push.status().await?)))
}

/// Makes a new key and certificate request, replacing a pending one.
#[utoipa::path(tag = "push", request_body = NewRequest, responses((status = CREATED, body = RequestInfo)))]
#[post("/push/request")]
async fn new_request(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: OptionalJson<NewRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = body.into_inner().and_then(|b| b.email).filter(|e| !e.trim().is_empty());
    let info = state.push.create_request(auth.actor(), email).await?;
    Ok(HttpResponse::Created().json(RequestInfo::from(&info)))
}

/// The pending request's CSR, to upload at the portal.
#[utoipa::path(tag = "push", responses((status = OK, content_type = "application/pkcs10", body = String), (status = 409, body = ApiError)))]
#[get("/push/request.csr")]
async fn csr(state: web::Data<AppState>, _auth: Authenticated) -> Result<HttpResponse, ApiError> {
    let pem = state.push.request_csr_pem().await?;
    Ok(HttpResponse::Ok()
        .content_type("application/pkcs10")
        .insert_header(("Content-Disposition", "attachment; filename=\"adebox-push.csr\""))
        .body(pem))
}

/// The pending request signed with an MDM vendor certificate (spec §5.2).
#[utoipa::path(tag = "push", request_body = VendorSigning, responses((status = OK, body = SignedRequest), (status = 422, body = ApiError)))]
#[post("/push/request/vendor-signed")]
async fn vendor_signed(
    state: web::Data<AppState>,
    _auth: Authenticated,
    body: ApiJson<VendorSigning>,
) -> Result<web::Json<SignedRequest>, ApiError> {
    let VendorSigning { vendor_certificate, vendor_key } = body.into_inner();
    let request =
        state.push.vendor_signed_request(vendor_certificate, Secret::new(vendor_key)).await?;
    Ok(web::Json(SignedRequest { request, file_name: "adebox-push-request.b64".into() }))
}

/// Installs (or renews) the push certificate the portal issued.
#[utoipa::path(tag = "push", request_body = Upload, responses((status = OK, body = PushStatus), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
#[post("/push/certificate")]
async fn upload(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<Upload>,
) -> Result<web::Json<PushStatus>, ApiError> {
    let bytes = match body.into_inner() {
        Upload { certificate: Some(pem), .. } if !pem.trim().is_empty() => pem.into_bytes(),
        Upload { certificate_base64: Some(b64), .. } => {
            use base64ct::Encoding;
            base64ct::Base64::decode_vec(b64.trim()).map_err(|_| {
                ApiError::validation(
                    "certificate",
                    "the file could not be read; choose the .pem file again",
                )
            })?
        }
        _ => {
            return Err(ApiError::validation(
                "certificate",
                "choose the certificate file (.pem) you downloaded from the Apple Push Certificates Portal",
            ));
        }
    };
    Ok(web::Json(PushStatus::from(&state.push.upload(auth.actor(), bytes).await?)))
}

/// How pushes to a device (by UDID) went: when one was last sent, and whether Apple refused
/// its token for good (the device is unreachable until it sends a new one).
#[utoipa::path(tag = "push", params(("udid" = String, Path)), responses((status = OK, body = DevicePush), (status = 404, body = ApiError)))]
#[get("/push/devices/{udid}")]
async fn device(
    state: web::Data<AppState>,
    _auth: Authenticated,
    udid: web::Path<String>,
) -> Result<web::Json<DevicePush>, ApiError> {
    let udid = crate::ids::Udid::parse(&udid)?;
    let r = state.push.device(&udid).await?.ok_or_else(|| ApiError::not_found("push record"))?;
    Ok(web::Json(DevicePush {
        last_sent_at: r.last_sent_at,
        unreachable: r.unreachable.as_ref().map(Unreachable::from),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct DevicePush {
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_sent_at: Option<time::OffsetDateTime>,
    pub unreachable: Option<Unreachable>,
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(status)
        .service(new_request)
        .service(csr)
        .service(vendor_signed)
        .service(upload)
        .service(device);
}
