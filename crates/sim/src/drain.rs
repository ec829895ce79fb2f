//! Early answers a client can read over HTTP/2: a simulator route that answers without
//! reading the request body (an unknown route, a refused session, a body over the limit)
//! still reads that body to its end before the answer leaves.
//!
//! Why: when a handler answers while the client is still sending, the h2 server closes the
//! stream's receiving side with RST_STREAM once the answer is out. RFC 9113 §8.1 allows that
//! (with NO_ERROR), but common clients do not take it: curl reports "Stream error in the HTTP/2
//! framing layer" (exit 92) and drops the 404 it already received, for any body larger than
//! the 64 KiB initial window. Reading the body first lets the client finish its stream, so
//! the stream closes normally on both sides. Bodies beyond [`DRAIN_LIMIT`], or that stall for
//! [`DRAIN_TIMEOUT`], are left unread and get the reset after all.
//!
//! Exposes [`drain_unread_body`], an actix-web `from_fn` middleware both HTTP simulators wrap
//! their apps in. No domain module.

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use futures_util::Stream;
use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Most bytes read and thrown away after an early answer.
pub const DRAIN_LIMIT: usize = 64 << 20;
/// Longest wait for the rest of a body after an early answer.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The request body, shared between the handler (which may read it) and this middleware
/// (which reads whatever the handler left). A worker runs one request on one thread, hence
/// `Rc<RefCell<_>>`.
struct SharedBody(Rc<RefCell<Payload>>);

impl Stream for SharedBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_next(cx)
    }
}

/// Runs the route, then reads what is left of the request body before the answer is sent.
pub async fn drain_unread_body(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let body = Rc::new(RefCell::new(req.take_payload()));
    req.set_payload(Payload::Stream { payload: Box::pin(SharedBody(Rc::clone(&body))) });
    let answer = next.call(req).await;
    let mut rest = SharedBody(body);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
        let mut read = 0usize;
        while let Some(Ok(chunk)) = futures_util::StreamExt::next(&mut rest).await {
            read += chunk.len();
            if read > DRAIN_LIMIT {
                break;
            }
        }
    })
    .await;
    answer
}

/// A request with a body sent by curl over HTTP/2, for tests: `(exit status, body)`.
/// `None` (with a notice) when curl is not installed.
#[cfg(test)]
pub(crate) fn curl_h2(
    ca_pem: &str,
    method: &str,
    url: &str,
    body_len: usize,
    extra: &[&str],
) -> Option<(std::process::ExitStatus, String)> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (ca, body) = (dir.path().join("ca.pem"), dir.path().join("body"));
    std::fs::write(&ca, ca_pem).expect("write the CA");
    std::fs::write(&body, vec![b'x'; body_len]).expect("write the body");
    let out = std::process::Command::new("curl")
        .args(["-sS", "--http2", "--max-time", "20", "-X", method, "--cacert"])
        .arg(&ca)
        .arg("--data-binary")
        .arg(format!("@{}", body.display()))
        .args(extra)
        .arg(url)
        .output();
    match out {
        Ok(out) => Some((out.status, String::from_utf8_lossy(&out.stdout).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("notice: curl is not installed (Debian package `curl`); skipping");
            None
        }
        Err(e) => panic!("cannot run curl: {e}"),
    }
}
