//! The APNs simulator's routes: `POST /3/device/{token}` answered as Apple does
//! (../shared/spec/enrollment.md §5.1: `200` + `apns-id`, or `{"reason": …}` with the status
//! of the [`Refusal`]), after the request was read strictly by `request.rs`; and a stand-in
//! Apple Push Certificates Portal under `/portal/` (issue a push certificate for a CSR; list
//! the pushes a token got) for the standalone simulator.

use super::request::{self, MAX_PAYLOAD, Refusal};
use super::state::{Delivery, Shared, lock};
use actix_web::dev::Extensions;
use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use std::any::Any;
use std::sync::atomic::Ordering;

/// Largest body of the portal's routes (a CSR is about 1 KB). Push bodies are read by the push
/// route itself, so a body of any size gets Apple's `PayloadTooLarge`.
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
        .route("/3/device/", web::route().to(missing_token))
        .route("/3/device", web::route().to(missing_token))
        .route("/portal/certificates", web::post().to(issue))
        .route("/portal/pushes/{token}", web::get().to(pushes));
}

fn refuse(refusal: Refusal) -> HttpResponse {
    let (reason, status) = refusal.wire();
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    HttpResponse::build(status)
        .insert_header(("apns-id", new_id()))
        .json(serde_json::json!({ "reason": reason }))
}

pub async fn bad_path() -> HttpResponse {
    refuse(Refusal::BadPath)
}

async fn method_not_allowed() -> HttpResponse {
    refuse(Refusal::MethodNotAllowed)
}

async fn missing_token() -> HttpResponse {
    refuse(Refusal::MissingDeviceToken)
}

/// The body, read up to one byte past [`MAX_PAYLOAD`] (enough to know it is too large; the
/// rest is drained by `sim::drain`).
async fn read_body(mut payload: web::Payload) -> Result<Vec<u8>, actix_web::error::PayloadError> {
    use futures_util::StreamExt;
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        body.extend_from_slice(&chunk?);
        if body.len() > MAX_PAYLOAD {
            body.truncate(MAX_PAYLOAD + 1);
            break;
        }
    }
    Ok(body)
}

async fn push(
    req: HttpRequest,
    shared: web::Data<Shared>,
    token: web::Path<String>,
    payload: web::Payload,
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
        return refuse(Refusal::MissingProviderToken);
    };
    let Some(cert_topic) = certificate_topic(&cert.0) else {
        return refuse(Refusal::BadCertificate);
    };
    if faults.bad_certificate {
        return refuse(Refusal::BadCertificate);
    }
    // APNs is HTTP/2 only (§5.1): Apple would not even complete the connection over
    // HTTP/1.1. actix always offers both by ALPN, so the simulator refuses the request instead,
    // with a status no client mistakes for an answer about the push.
    if req.version() != actix_web::http::Version::HTTP_2 {
        return HttpResponse::build(StatusCode::HTTP_VERSION_NOT_SUPPORTED)
            .body("APNs answers HTTP/2 only (enrollment.md §5.1)");
    }
    if served < u64::from(faults.fail_first) {
        return refuse(Refusal::ServiceUnavailable);
    }
    if server_error {
        let odd = served % 2 == 1;
        return refuse(if odd {
            Refusal::InternalServerError
        } else {
            Refusal::ServiceUnavailable
        });
    }
    if busy {
        let mut resp = refuse(Refusal::TooManyRequests);
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

    let Ok(body) = read_body(payload).await else {
        return refuse(Refusal::PayloadEmpty);
    };
    let push = match request::read(req.headers(), &token, &body, &cert_topic) {
        Ok(p) => p,
        Err(refusal) => {
            log::info!(target: "sim::apns", "refused a push: {}", refusal.wire().0);
            return refuse(refusal);
        }
    };
    if lock(&shared.bad_tokens).contains(&push.token) {
        return refuse(Refusal::BadDeviceToken);
    }
    if unregistered || lock(&shared.unregistered).contains(&push.token) {
        // 410 carries when the token stopped being valid, in milliseconds (§5.1).
        let now_ms = crate::clock::Clock::system().now().unix_timestamp() * 1000;
        let (reason, _) = Refusal::Unregistered.wire();
        return HttpResponse::Gone()
            .insert_header(("apns-id", new_id()))
            .json(serde_json::json!({ "reason": reason, "timestamp": now_ms }));
    }
    let apns_id = push.apns_id.clone().unwrap_or_else(new_id);
    shared.record(Delivery {
        token: push.token,
        topic: push.topic,
        push_magic: push.push_magic,
        apns_id: apns_id.clone(),
        push_type: push.push_type,
        priority: push.priority,
        expiration: push.expiration,
        at: crate::clock::Clock::system().now(),
    });
    HttpResponse::Ok().insert_header(("apns-id", apns_id)).finish()
}

/// The topic of a push certificate: the UID attribute of its subject, which must start with
/// `com.apple.mgmt` (enrollment.md §5.2 item 5). Read here with x509-parser, not with the
/// product's certificate reader.
fn certificate_topic(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let topic = cert.subject().iter_attributes().find_map(|a| {
        (a.attr_type().to_id_string() == "0.9.2342.19200300.100.1.1")
            .then(|| a.as_str().ok().map(str::to_string))
            .flatten()
    })?;
    topic.starts_with("com.apple.mgmt").then_some(topic)
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
