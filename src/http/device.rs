//! The device-facing prefixes: `/enroll` (profile URL), `/acme` (ACME server, [`super::acme`]),
//! `/MDMServiceConfig` ([`super::service_config`]),
//! `/scep` (SCEP server, [`super::scep`]) and `/mdm` (check-in and commands, [`super::mdm`]).
//! The connection plumbing they rely on is
//! here: each TLS connection's client certificate chain is attached to its requests, and
//! `/mdm` requires one (devices get 403, never 401, which Setup Assistant treats as fatal).

use super::DEVICE_BODY_LIMIT;
use super::error::device::not_enabled;
use super::extract::{ClientCertificate, PeerCertificates};
use actix_web::dev::Extensions;
use actix_web::{HttpResponse, web};
use std::any::Any;

/// Per connection: disable Nagle (one write per response) and keep the peer's certificates.
pub fn on_connect(conn: &dyn Any, ext: &mut Extensions) {
    type Tls = actix_tls::accept::rustls_0_23::TlsStream<actix_web::rt::net::TcpStream>;
    if let Some(tls) = conn.downcast_ref::<Tls>() {
        let (socket, session) = tls.get_ref();
        let _ = socket.set_nodelay(true);
        if let Some(certs) = session.peer_certificates() {
            ext.insert(PeerCertificates(certs.iter().map(|c| c.clone().into_owned()).collect()));
        }
    } else if let Some(socket) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
        let _ = socket.set_nodelay(true);
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(super::service_config::configure)
        .service(
            web::scope("/enroll")
                .app_data(web::PayloadConfig::new(DEVICE_BODY_LIMIT))
                .configure(super::enroll::configure)
                .configure(super::signin::configure)
                .default_service(web::to(not_yet)),
        )
        .service(
            web::scope("/acme")
                .app_data(web::PayloadConfig::new(DEVICE_BODY_LIMIT))
                .configure(super::acme::configure)
                .default_service(web::to(not_yet)),
        )
        .service(
            web::scope("/scep")
                .app_data(web::PayloadConfig::new(DEVICE_BODY_LIMIT))
                .configure(super::scep::configure),
        )
        .service(
            web::scope("/mdm")
                .app_data(web::PayloadConfig::new(super::MDM_BODY_LIMIT))
                .configure(super::mdm::configure)
                .default_service(web::to(|_identity: ClientCertificate| not_yet())),
        );
}

async fn not_yet() -> HttpResponse {
    not_enabled().into_response()
}
