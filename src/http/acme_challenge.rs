//! The plain-HTTP listener of `tls.acme.http_listen` (port 80): it answers
//! `GET /.well-known/acme-challenge/{token}` with the key authorization while the appliance's
//! own ACME order is pending, and 404 to everything else. It never redirects: the admin page,
//! the API and the device endpoints stay HTTPS-only, and nothing of them is reachable here.

use crate::tls::Challenges;
use actix_web::{App, HttpResponse, HttpServer, web};
use std::net::TcpListener;

use super::{ListenError, SHUTDOWN_GRACE};

pub const PATH_PREFIX: &str = "/.well-known/acme-challenge/";

/// Starts the challenge listener.
pub fn serve(
    listener: TcpListener,
    challenges: Challenges,
) -> Result<actix_web::dev::Server, ListenError> {
    let server = HttpServer::new(move || {
        let challenges = challenges.clone();
        App::new().default_service(web::to(move |req: actix_web::HttpRequest| {
            let answer = match (req.method().as_str(), req.path().strip_prefix(PATH_PREFIX)) {
                ("GET", Some(token)) => challenges.answer(token),
                _ => None,
            };
            async move {
                match answer {
                    // RFC 8555 §8.3: the key authorization as the body, nothing else.
                    Some(key_authorization) => HttpResponse::Ok()
                        .content_type("application/octet-stream")
                        .insert_header(("Cache-Control", "no-store"))
                        .body(key_authorization),
                    None => HttpResponse::NotFound().finish(),
                }
            }
        }))
    })
    .workers(1)
    .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
    .client_request_timeout(std::time::Duration::from_secs(10))
    .listen(listener)
    .map_err(|e| ListenError::Server(e.to_string()))?;
    Ok(server.disable_signals().run())
}
