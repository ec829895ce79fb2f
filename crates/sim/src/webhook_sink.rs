//! A webhook receiver for the sandbox: a site's tool that takes adebox's events. It listens on
//! 127.0.0.1 over plain http (the sandbox's subscription ticks "allow http on this network"),
//! checks each request's `X-Adebox-Signature` with the secret it is given, counts what it got
//! and answers 204 — or 401 to a request whose signature does not verify, which then shows as
//! a failed delivery on the Integrations page. It knows the headers from docs/webhooks.md,
//! never the product's types.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Shared {
    secret: Mutex<Option<String>>,
    received: AtomicU64,
    refused: AtomicU64,
}

/// A running sink; dropping it leaves the server running until the process ends.
pub struct RunningSink {
    pub url: String,
    shared: Arc<Shared>,
}

impl RunningSink {
    /// The subscription's secret, to check signatures with (None: accept every request).
    pub fn set_secret(&self, secret: Option<String>) {
        *self.shared.secret.lock().unwrap_or_else(|p| p.into_inner()) = secret;
    }

    /// Requests accepted and refused so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.shared.received.load(Ordering::Relaxed), self.shared.refused.load(Ordering::Relaxed))
    }
}

fn verifies(secret: &str, req: &HttpRequest, body: &[u8]) -> bool {
    let header = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ts = header("X-Adebox-Timestamp");
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    let want = format!("v1={}", hex::encode(mac.finalize().into_bytes()));
    !ts.is_empty() && header("X-Adebox-Signature") == want
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    shared: web::Data<Arc<Shared>>,
) -> HttpResponse {
    let secret = shared.secret.lock().unwrap_or_else(|p| p.into_inner()).clone();
    if secret.is_some_and(|s| !verifies(&s, &req, &body)) {
        shared.refused.fetch_add(1, Ordering::Relaxed);
        return HttpResponse::Unauthorized().body("the signature does not verify");
    }
    shared.received.fetch_add(1, Ordering::Relaxed);
    HttpResponse::NoContent().finish()
}

/// Starts the sink on 127.0.0.1 (a free port).
pub fn start() -> std::io::Result<RunningSink> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let shared = Arc::new(Shared::default());
    let data = web::Data::new(shared.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(1024 * 1024))
            .default_service(web::to(receive))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    tokio::spawn(server);
    log::info!(target: "sim::webhooks", "webhook receiver listening on http://127.0.0.1:{port}/events");
    Ok(RunningSink { url: format!("http://127.0.0.1:{port}/events"), shared })
}
