//! `/scep`: the SCEP server (RFC 8894 §4) for devices too old for ACME. Devices append
//! `?operation=…` to the payload's URL: `GetCACaps` (text), `GetCACert` (the RA and the SCEP
//! CA as `application/x-x509-ca-ra-cert`) and `PKIOperation`, by POST (raw body, capped by the
//! scope's `DEVICE_BODY_LIMIT`) or GET (`message` = base64 pkiMessage). `enroll::scep::Scep`
//! decides; this file maps the query and the statuses: a refused request is still a `200`
//! CertRep FAILURE (the RFC's answer); only messages too broken to answer get `400`, too
//! large `413`, too many from one client `429`.

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

async fn get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Ok(q) = web::Query::<Params>::from_query(req.query_string()) else {
        return plain_error(
            actix_web::http::StatusCode::BAD_REQUEST,
            "the query string is not readable",
        );
    };
    match q.operation.as_deref() {
        Some("GetCACaps") => HttpResponse::Ok()
            .content_type("text/plain")
            .insert_header(("Cache-Control", "no-store"))
            .body(state.scep.caps()),
        Some("GetCACert") => match state.scep.ca_certs() {
            Ok(bytes) => HttpResponse::Ok().content_type(CONTENT_TYPE_CA_RA_CERT).body(bytes),
            Err(e) => render(&e),
        },
        Some("PKIOperation") => {
            let Some(message) = q.message.as_deref() else {
                return plain_error(
                    actix_web::http::StatusCode::BAD_REQUEST,
                    "PKIOperation by GET carries the pkiMessage as `message`",
                );
            };
            if message.len() > MAX_PKI_MESSAGE_LEN * 4 / 3 + 4 {
                return render(&ScepFailure::TooLarge {
                    len: message.len(),
                    max: MAX_PKI_MESSAGE_LEN,
                });
            }
            // Clients that do not percent-encode send `+` which the query decoding turns
            // into a space; base64 has no spaces, so put them back and drop line breaks.
            let cleaned: String = message
                .chars()
                .filter(|c| *c != '\r' && *c != '\n')
                .map(|c| if c == ' ' { '+' } else { c })
                .collect();
            match Base64::decode_vec(&cleaned) {
                Ok(body) => pki_operation(&state, &req, body).await,
                Err(_) => plain_error(
                    actix_web::http::StatusCode::BAD_REQUEST,
                    "the `message` parameter is not base64",
                ),
            }
        }
        _ => unknown_operation(),
    }
}

async fn post(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let operation = web::Query::<Params>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().operation);
    match operation.as_deref() {
        Some("PKIOperation") => pki_operation(&state, &req, body.to_vec()).await,
        _ => unknown_operation(),
    }
}

async fn pki_operation(state: &AppState, req: &HttpRequest, body: Vec<u8>) -> HttpResponse {
    let client = req.peer_addr().map(|a| a.ip());
    match state.scep.pki_operation(client, body).await {
        Ok(bytes) => HttpResponse::Ok()
            .content_type(CONTENT_TYPE_PKI_MESSAGE)
            .insert_header(("Cache-Control", "no-store"))
            .body(bytes),
        Err(e) => render(&e),
    }
}

fn unknown_operation() -> HttpResponse {
    plain_error(
        actix_web::http::StatusCode::BAD_REQUEST,
        "unknown SCEP operation; this server offers GetCACaps, GetCACert and PKIOperation",
    )
}

fn render(e: &ScepFailure) -> HttpResponse {
    use actix_web::http::StatusCode;
    match e {
        ScepFailure::TooLarge { .. } => plain_error(StatusCode::PAYLOAD_TOO_LARGE, &e.to_string()),
        ScepFailure::Malformed(_) => plain_error(StatusCode::BAD_REQUEST, &e.to_string()),
        ScepFailure::RateLimited { .. } => {
            let mut r = plain_error(StatusCode::TOO_MANY_REQUESTS, &e.to_string());
            // At most one window away.
            let wait = crate::enroll::scep::limit::WINDOW.whole_seconds().to_string();
            if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&wait) {
                r.headers_mut().insert(actix_web::http::header::RETRY_AFTER, v);
            }
            r
        }
        ScepFailure::Internal(_) | ScepFailure::Store(_) => {
            log::error!("SCEP request failed: {e}");
            plain_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the SCEP server failed; see the appliance log",
            )
        }
    }
}

fn plain_error(status: actix_web::http::StatusCode, words: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(words.to_string())
}
