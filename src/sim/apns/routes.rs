//! The APNs simulator's routes: `POST /3/device/{token}` answered as Apple does
//! (../shared/spec/enrollment.md §5.1: `200` + `apns-id`, or `{"reason": …}` with the status
//! of [`Reason`]), and a stand-in Apple Push Certificates Portal under `/portal/` (issue a
//! push certificate for a CSR; list the pushes a token got) for the standalone simulator.

use super::server::{Delivery, Shared, lock};
use crate::apple::apns::{self, ErrorBody, Reason};
use actix_web::dev::Extensions;
use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use std::any::Any;
use std::sync::atomic::Ordering;

/// APNs takes 4 KB payloads; anything larger is refused by the payload config itself.
pub const MAX_BODY: usize = 16 * 1024;

/// The client certificate of a connection (DER), when one was presented.
#[derive(Clone)]
struct ClientCert(Vec<u8>);

pub fn on_connect(conn: &dyn Any, ext: &mut Extensions) {
    type Tls = actix_tls::accept::rustls_0_23::TlsStream<actix_web::rt::net::TcpStream>;
    if let Some(tls) = conn.downcast_ref::<Tls>() {
        let (socket, session) = tls.get_ref();
        let _ = socket.set_nodelay(true);
        if let Some(leaf) = session.peer_certificates().and_then(|c| c.first()) {
            ext.insert(ClientCert(leaf.to_vec()));
        }
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/3/device/{token}", web::post().to(push))
        .route("/3/device/{token}", web::route().to(method_not_allowed))
        .route("/portal/certificates", web::post().to(issue))
        .route("/portal/pushes/{token}", web::get().to(pushes));
}

fn refuse(reason: Reason) -> HttpResponse {
    let status = StatusCode::from_u16(reason.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = ErrorBody { reason: reason.code().into(), timestamp: None };
    HttpResponse::build(status).insert_header(("apns-id", new_id())).json(body)
}

pub async fn bad_path() -> HttpResponse {
    refuse(Reason::BadPath)
}

async fn method_not_allowed() -> HttpResponse {
    refuse(Reason::MethodNotAllowed)
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn push(
    req: HttpRequest,
    shared: web::Data<Shared>,
    token: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    let served = shared.requests.fetch_add(1, Ordering::Relaxed);
    let faults = shared.faults.load_full();
    let (delay, server_error, busy, reset, unregistered) = {
        let mut rng = lock(&shared.rng);
        let delay = faults.slow.filter(|s| rng.chance(s.rate)).map(|s| s.delay);
        (
            delay,
            rng.chance(faults.server_error_rate),
            rng.chance(faults.too_many_requests_rate),
            rng.chance(faults.reset_rate),
            rng.chance(faults.unregistered_rate),
        )
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    // Who is asking: only certificates of the stand-in push CA get this far (TLS checked
    // the chain); the topic is the certificate's UID.
    let Some(cert) = req.conn_data::<ClientCert>() else {
        return refuse(Reason::MissingProviderToken);
    };
    let Ok(info) = crate::crypto::push_cert::parse_certificate(&cert.0) else {
        return refuse(Reason::BadCertificate);
    };
    if faults.bad_certificate {
        return refuse(Reason::BadCertificate);
    }
    if served < u64::from(faults.fail_first) {
        return refuse(Reason::ServiceUnavailable);
    }
    if server_error {
        let odd = served % 2 == 1;
        return refuse(if odd { Reason::InternalServerError } else { Reason::ServiceUnavailable });
    }
    if busy {
        let mut resp = refuse(Reason::TooManyRequests);
        if let Ok(v) = faults.retry_after_secs.to_string().parse() {
            resp.headers_mut().insert(actix_web::http::header::RETRY_AFTER, v);
        }
        return resp;
    }
    if reset {
        // Promise a body and fail it: HTTP/2 resets the stream, as a network cut would.
        let chunks: Vec<Result<Bytes, std::io::Error>> =
            vec![Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "simulated reset"))];
        return HttpResponse::Ok().streaming(futures_util::stream::iter(chunks));
    }

    let token = token.into_inner().to_lowercase();
    let well_formed = token.len() >= 16
        && token.len() <= 200
        && token.len().is_multiple_of(2)
        && token.bytes().all(|b| b.is_ascii_hexdigit());
    if !well_formed || lock(&shared.bad_tokens).contains(&token) {
        return refuse(Reason::BadDeviceToken);
    }
    let topic = header(&req, "apns-topic").map(str::to_string).unwrap_or(info.topic.clone());
    if topic != info.topic {
        return refuse(Reason::TopicDisallowed);
    }
    let push_type = header(&req, "apns-push-type").map(str::to_string);
    if push_type
        .as_deref()
        .is_some_and(|t| t != apns::PUSH_TYPE_MDM && t != "alert" && t != "background")
    {
        return refuse(Reason::InvalidPushType);
    }
    let priority = header(&req, "apns-priority").map(str::to_string);
    if priority.as_deref().is_some_and(|p| !["1", "5", "10"].contains(&p)) {
        return refuse(Reason::BadPriority);
    }
    let expiration = match header(&req, "apns-expiration").map(|v| v.trim().parse::<i64>()) {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => return refuse(Reason::BadExpirationDate),
    };
    if body.is_empty() {
        return refuse(Reason::PayloadEmpty);
    }
    if body.len() > apns::MAX_PAYLOAD {
        return refuse(Reason::PayloadTooLarge);
    }
    let magic = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("mdm").and_then(|m| m.as_str()).map(str::to_string));
    let Some(push_magic) = magic else {
        return refuse(Reason::PayloadEmpty);
    };
    if unregistered || lock(&shared.unregistered).contains(&token) {
        let now_ms = crate::clock::Clock::system().now().unix_timestamp() * 1000;
        let body =
            ErrorBody { reason: Reason::Unregistered.code().into(), timestamp: Some(now_ms) };
        return HttpResponse::Gone().insert_header(("apns-id", new_id())).json(body);
    }
    let apns_id = header(&req, "apns-id").map_or_else(new_id, str::to_string);
    shared.record(Delivery {
        token,
        topic,
        push_magic,
        apns_id: apns_id.clone(),
        push_type,
        priority,
        expiration,
        at: crate::clock::Clock::system().now(),
    });
    HttpResponse::Ok().insert_header(("apns-id", apns_id)).finish()
}

/// The stand-in portal: a CSR (PEM or DER) in, a push certificate (PEM) out. `?topic=` keeps
/// a topic, as a renewal at the real portal does.
async fn issue(
    shared: web::Data<Shared>,
    q: web::Query<std::collections::HashMap<String, String>>,
    body: Bytes,
) -> HttpResponse {
    match shared.issue(&body, q.get("topic").map(String::as_str)) {
        Ok(pem) => HttpResponse::Ok().content_type("application/x-pem-file").body(pem),
        Err(e) => HttpResponse::BadRequest().body(e.to_string()),
    }
}

async fn pushes(shared: web::Data<Shared>, token: web::Path<String>) -> HttpResponse {
    let list = lock(&shared.deliveries).get(&token.to_lowercase()).cloned().unwrap_or_default();
    HttpResponse::Ok().json(list)
}

fn new_id() -> String {
    let b = crate::crypto::random_bytes::<16>();
    let h = hex::encode_upper(b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}
