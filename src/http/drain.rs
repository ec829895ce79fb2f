//! Reads what is left of a request body after the handler has answered, so that an early
//! answer (401, 403, 404, 413, 415, …) ends the exchange cleanly over HTTP/2 as well.
//!
//! Why: when a handler answers without reading the body, actix drops the request stream and
//! the HTTP/2 layer ends it with `RST_STREAM(NO_ERROR)` while the client is still uploading.
//! RFC 9113 §8.1 allows that, but common clients (curl 7.88 among them) report it as a stream
//! error and lose the answer. Reading the rest of the body before the response goes out lets
//! the stream close normally; over HTTP/1.1 it keeps the connection reusable.
//!
//! The cost stays bounded: bytes are discarded as they arrive (no buffering), at most
//! [`MAX_DRAIN`] bytes are read, and the whole-request deadline (`http::Timeouts::request`)
//! still applies because this runs inside it. A body announced or found to be larger than the
//! cap is not read: the stream is reset as before, which is the most a client sending that
//! much to a refused request can expect.

use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::web::Bytes;
use futures_util::{Stream, StreamExt};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// The most bytes read and discarded after an answer. Above every route's body limit (the
/// largest is 5 MiB for CSV uploads) with room for a client that sent somewhat more.
pub const MAX_DRAIN: usize = 16 * 1024 * 1024;

/// The middleware (for `App::wrap_fn`): runs the request with its body behind a shared handle,
/// then reads whatever the handler left unread before handing the response out.
pub fn drain_unread_body<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let announced = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let (http_req, payload) = req.into_parts();
    let body = Rc::new(RefCell::new(Some(payload)));
    let shared: actix_http::BoxedPayloadStream = Box::pin(SharedBody(body.clone()));
    let call = srv.call(ServiceRequest::from_parts(http_req, Payload::from(shared)));
    async move {
        let response = call.await;
        let left = body.borrow_mut().take();
        if let Some(rest) = left {
            let too_big = announced.is_some_and(|n| n > MAX_DRAIN as u64);
            if !too_big {
                discard(rest).await;
            }
        }
        response
    }
}

/// Reads and drops up to [`MAX_DRAIN`] bytes; stops early at the end of the body or an error.
async fn discard(mut rest: Payload) {
    let mut read = 0usize;
    while let Some(chunk) = rest.next().await {
        match chunk {
            Ok(bytes) => {
                read = read.saturating_add(bytes.len());
                if read > MAX_DRAIN {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}

/// The request body as the handler sees it; the middleware keeps the other handle. Once the
/// body has ended (or failed) the handle is emptied, so the middleware knows nothing is left.
struct SharedBody(Rc<RefCell<Option<Payload>>>);

impl Stream for SharedBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut slot = self.0.borrow_mut();
        let Some(payload) = slot.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(payload).poll_next(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            *slot = None;
        }
        polled
    }
}
