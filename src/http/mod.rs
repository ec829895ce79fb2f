//! The HTTPS listener (actix-web + rustls): the admin page under `/admin`, the JSON API under
//! `/api/v1`, `/healthz`, `/metrics`, and the device-facing prefixes `/enroll`, `/acme` and `/mdm`; plus
//! an optional plain-HTTP listener that only redirects to HTTPS.
//!
//! Handlers are thin: extract, call one domain function, render. The domain services reach
//! handlers through [`AppState`]; the store never does. Every `/api/v1` request passes one
//! gate (`authz`) that authenticates it and checks its role against the route table
//! (`api::permissions`) before the route runs. Every response carries security
//! headers (a strict Content-Security-Policy among them) and every route has a body limit.

mod acme;
pub mod acme_challenge;
pub mod api;
mod assets;
mod authz;
mod device;
pub mod device_identity;
mod drain;
mod enroll;
mod signin;
mod signin_page;
pub mod error;
pub mod extract;
pub mod json;
mod mdm;
mod metrics;
mod scep;
pub mod scope;
mod service_config;
mod state;

pub use state::{AppState, MetricsState};

use actix_web::dev::Server;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpResponse, HttpServer, web};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;
use utoipa_actix_web::AppExt;

/// The page's Content-Security-Policy: our own scripts, styles and API only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Largest body any route accepts unless it sets a smaller limit.
pub const MAX_BODY: usize = 1024 * 1024;

/// Device requests are small; MachineInfo and check-ins are a few KiB.
pub const DEVICE_BODY_LIMIT: usize = 64 * 1024;

/// MDM check-ins and reports: room for a `SetBootstrapToken` with a 64 KiB token in base64
/// (the check-in reader's own limit, `apple::mdm::MAX_MESSAGE`).
pub const MDM_BODY_LIMIT: usize = crate::apple::mdm::MAX_MESSAGE;

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error(
        "cannot listen on {addr} ({key}): the address is already in use by another program. Stop it, or choose another port (`ss -ltnp` shows who listens)"
    )]
    InUse { addr: SocketAddr, key: &'static str },
    #[error(
        "cannot listen on {addr} ({key}): permission denied. Ports below 1024 need CAP_NET_BIND_SERVICE (the packaged systemd unit grants it); or choose a port above 1023"
    )]
    Permission { addr: SocketAddr, key: &'static str },
    #[error("cannot listen on {addr} ({key}): {detail}")]
    Other { addr: SocketAddr, key: &'static str, detail: String },
    #[error("cannot start the HTTPS server: {0}")]
    Server(String),
}

/// Binds a TCP listener, translating the usual failures into advice; `key` names the setting
/// the address came from, as the admin wrote it (`config key listen.https`, `option --listen`).
pub fn bind(addr: SocketAddr, key: &'static str) -> Result<TcpListener, ListenError> {
    TcpListener::bind(addr).map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => ListenError::InUse { addr, key },
        std::io::ErrorKind::PermissionDenied => ListenError::Permission { addr, key },
        _ => ListenError::Other { addr, key, detail: e.to_string() },
    })
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)))
        .add((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .add((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .add((header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .add((header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000")))
        .add(("Cross-Origin-Opener-Policy", HeaderValue::from_static("same-origin")))
}

/// How long a client may take (docs/api.md): slow clients are cut off so they cannot hold
/// connections and workers open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// From connecting to the end of the request head (line and headers); then 408 and close.
    pub request_head: Duration,
    /// From the request head to the response head: reading the body and handling it; then
    /// 408 and close. Bounds a client that sends its body slowly.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { request_head: Duration::from_secs(10), request: Duration::from_secs(60) }
    }
}

/// What in-flight requests get at shutdown (actix checks once a second, so one second).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Starts the HTTPS server on already-bound listeners.
pub fn serve_https(
    state: AppState,
    listeners: Vec<TcpListener>,
    workers: usize,
    timeouts: Timeouts,
) -> Result<Server, ListenError> {
    let tls_config = state.tls.server_config().map_err(|e| ListenError::Server(e.to_string()))?;
    let state = web::Data::new(state);
    let mut server = HttpServer::new(move || {
        let (app, _) = App::new()
            .into_utoipa_app()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(MAX_BODY))
            .service(api::scope())
            .split_for_parts();
        // Innermost, so the whole-request deadline below also bounds reading what is left.
        app.wrap_fn(drain::drain_unread_body)
            .wrap_fn(error::payload_errors_as_json)
            .wrap(security_headers())
            .wrap_fn(move |req, srv| {
                use actix_web::dev::Service as _;
                let call = srv.call(req);
                async move {
                    match actix_web::rt::time::timeout(timeouts.request, call).await {
                        Ok(result) => result,
                        Err(_) => Err(actix_web::error::ErrorRequestTimeout(format!(
                            "the request took over {} s to arrive; send it in one go",
                            timeouts.request.as_secs()
                        ))),
                    }
                }
            })
            // Outermost: counts what the client got, the deadline's 408 included.
            .wrap(actix_web::middleware::from_fn(metrics::count))
            .route("/healthz", web::get().to(healthz))
            .configure(metrics::configure)
            .configure(device::configure)
            .configure(assets::configure)
            .default_service(web::to(not_found))
    })
    .workers(workers)
    // actix counts an idle keep-alive connection (a browser left open) as in flight, so every
    // shutdown with a page open waits the whole grace; the daemon must be down within 2 s.
    .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
    .client_request_timeout(timeouts.request_head)
    .on_connect(device::on_connect);
    for l in listeners {
        server = server
            .listen_rustls_0_23(l, tls_config.clone())
            .map_err(|e| ListenError::Server(e.to_string()))?;
    }
    Ok(server.disable_signals().run())
}

/// Starts the plain-HTTP listener that sends every request to the HTTPS address.
pub fn serve_redirect(listener: TcpListener, https_base: String) -> Result<Server, ListenError> {
    let base = Arc::new(https_base);
    let server = HttpServer::new(move || {
        let base = base.clone();
        App::new().default_service(web::to(move |req: actix_web::HttpRequest| {
            // The target host comes from the configuration, never from the Host header, so
            // the redirect cannot be pointed elsewhere.
            let path = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let target = format!("{}{}", base, path);
            async move {
                HttpResponse::PermanentRedirect().insert_header((header::LOCATION, target)).finish()
            }
        }))
    })
    .workers(1)
    .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
    .listen(listener)
    .map_err(|e| ListenError::Server(e.to_string()))?;
    Ok(server.disable_signals().run())
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({"status": "ok"}))
}

pub(crate) async fn openapi(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi_json.as_str().to_string())
}

async fn not_found(req: actix_web::HttpRequest) -> HttpResponse {
    error::ApiError::not_found(&format!("`{}`", req.path())).into_response()
}
