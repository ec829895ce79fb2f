//! `/scep`: the SCEP server (RFC 8894 §4) for devices too old for ACME. Devices append
//! `?operation=…` to the payload's URL: `GetCACaps` (text), `GetCACert` (the RA and the SCEP
//! CA as `application/x-x509-ca-ra-cert`) and `PKIOperation`, by POST (raw body, capped by the
//! scope's `DEVICE_BODY_LIMIT`) or GET (`message` = base64 pkiMessage). `enroll::scep::Scep`
//! decides; this file reads the query. A refused request is still a `200` CertRep FAILURE
//! (the RFC's answer); what gets no CertRep is answered by [`ScepError`]: `400` for messages
//! too broken to answer, `413` too large, `429` too many from one client (every operation is
//! limited per client address, GetCACaps and GetCACert included).

use super::error::scep::ScepError;
use super::state::AppState;
use crate::enroll::scep::{MAX_PKI_MESSAGE_LEN, ScepFailure};
use actix_web::{HttpRequest, HttpResponse, web};
use base64ct::{Base64, Encoding};
use serde::Deserialize;

pub const CONTENT_TYPE_PKI_MESSAGE: &str = "application/x-pki-message";
pub const CONTENT_TYPE_CA_RA_CERT: &str = "application/x-x509-ca-ra-cert";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(get)).route("", web::post().to(post));
}

#[derive(Deserialize)]
struct Params {
    operation: Option<String>,
    message: Option<String>,
}

async fn get(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ScepError> {
    let q = web::Query::<Params>::from_query(req.query_string())
        .map_err(|_| ScepError::UnreadableQuery)?;
    let client = req.peer_addr().map(|a| a.ip());
    match q.operation.as_deref() {
        Some("GetCACaps") => Ok(HttpResponse::Ok()
            .content_type("text/plain")
            .insert_header(("Cache-Control", "no-store"))
            .body(state.scep.caps(client)?)),
        Some("GetCACert") => Ok(HttpResponse::Ok()
            .content_type(CONTENT_TYPE_CA_RA_CERT)
            .body(state.scep.ca_certs(client)?)),
        Some("PKIOperation") => {
            let message = q.message.as_deref().ok_or(ScepError::MissingMessage)?;
            if message.len() > MAX_PKI_MESSAGE_LEN * 4 / 3 + 4 {
                return Err(
                    ScepFailure::TooLarge { len: message.len(), max: MAX_PKI_MESSAGE_LEN }.into()
                );
            }
            // Clients that do not percent-encode send `+` which the query decoding turns
            // into a space; base64 has no spaces, so put them back and drop line breaks.
            let cleaned: String = message
                .chars()
                .filter(|c| *c != '\r' && *c != '\n')
                .map(|c| if c == ' ' { '+' } else { c })
                .collect();
            let body = Base64::decode_vec(&cleaned).map_err(|_| ScepError::MessageNotBase64)?;
            pki_operation(&state, &req, body).await
        }
        _ => Err(ScepError::UnknownOperation),
    }
}

async fn post(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ScepError> {
    let operation = web::Query::<Params>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().operation);
    match operation.as_deref() {
        Some("PKIOperation") => pki_operation(&state, &req, body.to_vec()).await,
        _ => Err(ScepError::UnknownOperation),
    }
}

async fn pki_operation(
    state: &AppState,
    req: &HttpRequest,
    body: Vec<u8>,
) -> Result<HttpResponse, ScepError> {
    let client = req.peer_addr().map(|a| a.ip());
    let bytes = state.scep.pki_operation(client, body).await?;
    Ok(HttpResponse::Ok()
        .content_type(CONTENT_TYPE_PKI_MESSAGE)
        .insert_header(("Cache-Control", "no-store"))
        .body(bytes))
}
