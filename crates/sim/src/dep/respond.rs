//! The request gate and the response writer every DEP route of the simulator goes through.
//!
//! Exposes [`Reply`] (what a route decided: status and body), [`Ctx`] (the caller's server,
//! protocol version and the time), and [`serve_open`] / [`serve_session`], which apply, in
//! order: the request-level faults (slow, 5xx, 429), the User-Agent rule (400
//! `USER_AGENT_MISSING`/`USER_AGENT_INVALID`), and for API routes the session (401), a revoked
//! token (403 `signature_invalid`) and the scripted 403s. Every answer is one buffer with a
//! `Content-Length` (never chunked), so a page leaves in one write; the reset fault instead
//! sends half of it and aborts the connection. Uses actix-web; no domain module.

use crate::dep::codes::Code;
use crate::dep::sessions::{SessionUse, check_user_agent};
use crate::dep::state::{ErrorStyle, Shared, lock};
use crate::dep::world::ServerId;
use actix_web::body::SizedStream;
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use time::OffsetDateTime;

/// Apple's content type on every answer, without a hyphen in `UTF8` (dep-api.md §2.4).
pub const CONTENT_TYPE: &str = "application/json;charset=UTF8";
/// The session header of every call but `/session`, and of a rotated session (§2.2).
pub const SESSION_HEADER: &str = "X-ADM-Auth-Session";
/// Selects the answer's shape (§2.4).
pub const PROTOCOL_VERSION_HEADER: &str = "X-Server-Protocol-Version";

/// What a route returns: `Err` is a refusal (an error body), so routes can use `?`.
pub type Answer = Result<Reply, Reply>;

/// A route's answer before the gate writes it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    body: Body,
    retry_after: Option<u32>,
}

#[derive(Debug)]
enum Body {
    Json(Vec<u8>),
    Code(&'static str),
    Text(&'static str),
    Empty,
}

impl Reply {
    /// 200 with `value` as JSON.
    pub fn json<T: Serialize>(value: &T) -> Reply {
        match serde_json::to_vec(value) {
            Ok(bytes) => {
                Reply { status: StatusCode::OK, body: Body::Json(bytes), retry_after: None }
            }
            Err(_) => Reply::code(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
        }
    }

    /// An Apple error code as the body.
    pub fn code(status: StatusCode, code: &'static str) -> Reply {
        Reply { status, body: Body::Code(code), retry_after: None }
    }

    /// A documented DEP error with the status Apple sends with it.
    pub fn error(code: Code) -> Reply {
        let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::BAD_REQUEST);
        Reply::code(status, code.as_str())
    }

    /// A documented DEP error with another status (where observers disagree with the docs).
    pub fn error_status(status: StatusCode, code: Code) -> Reply {
        Reply::code(status, code.as_str())
    }

    /// 200 with no body (e.g. `POST /account-driven-enrollment/profile`).
    pub fn empty() -> Reply {
        Reply { status: StatusCode::OK, body: Body::Empty, retry_after: None }
    }

    /// A plain text body (fault answers, OAuth problems), never quoted.
    pub fn text(status: StatusCode, text: &'static str) -> Reply {
        Reply { status, body: Body::Text(text), retry_after: None }
    }
}

/// Who is asking, with what protocol version, when.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The server the session belongs to (`/session`: not yet known, 0).
    pub server: ServerId,
    pub protocol: u32,
    pub now: OffsetDateTime,
}

/// `X-Server-Protocol-Version`; absent or unreadable means the original version 1.
pub fn protocol_version(req: &HttpRequest) -> u32 {
    req.headers()
        .get(PROTOCOL_VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1)
}

/// Gate for `/session` (no session needed).
pub async fn serve_open(
    shared: &Shared,
    req: &HttpRequest,
    f: impl FnOnce(&Ctx) -> Answer,
) -> HttpResponse {
    let reset = match pre_checks(shared, req).await {
        Ok(reset) => reset,
        Err(reply) => return write(shared, reply, None, false),
    };
    let ctx = Ctx { server: 0, protocol: protocol_version(req), now: shared.now() };
    write(shared, f(&ctx).unwrap_or_else(|refusal| refusal), None, reset)
}

/// Gate for every API route: needs a live session of a token that is still valid.
pub async fn serve_session(
    shared: &Shared,
    req: &HttpRequest,
    f: impl FnOnce(&Ctx) -> Answer,
) -> HttpResponse {
    let reset = match pre_checks(shared, req).await {
        Ok(reset) => reset,
        Err(reply) => return write(shared, reply, None, false),
    };
    let now = shared.now();
    let token = req.headers().get(SESSION_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
    let faults = shared.faults.load();
    let Some(SessionUse { server, access_token, rotated }) =
        lock(&shared.sessions).use_session(token, now_ms, faults.rotate_session_every)
    else {
        let reply = if shared.behaviour.load().unknown_session_forbidden {
            Reply::error(Code::Forbidden)
        } else {
            Reply::code(StatusCode::UNAUTHORIZED, "UNAUTHORIZED")
        };
        return write(shared, reply, None, false);
    };
    let retired =
        shared.world().server(server).is_none_or(|s| s.retired_tokens.contains(&access_token));
    // A revoked or superseded token's sessions see `signature_invalid` (Fleet #47700, §2.3).
    let refusal = if retired || faults.revoked {
        Some(Code::SignatureInvalid)
    } else if faults.terms_not_signed {
        Some(Code::TermsNotSigned)
    } else if faults.access_denied {
        Some(Code::AccessDenied)
    } else {
        None
    };
    if let Some(code) = refusal {
        return write(shared, Reply::error(code), None, false);
    }
    let ctx = Ctx { server, protocol: protocol_version(req), now };
    write(shared, f(&ctx).unwrap_or_else(|refusal| refusal), rotated, reset)
}

/// Request-level faults and the User-Agent rule. `Ok(reset)` says whether to cut this
/// response short.
async fn pre_checks(shared: &Shared, req: &HttpRequest) -> Result<bool, Reply> {
    shared.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let faults = shared.faults.load_full();
    let (delay, error, busy, reset) = {
        let mut rng = lock(&shared.fault_rng);
        let delay = faults.slow.filter(|s| rng.chance(s.rate)).map(|s| s.delay);
        let error = rng.chance(faults.server_error_rate).then(|| rng.below(3));
        let busy = rng.chance(faults.too_many_requests_rate);
        (delay, error, busy, rng.chance(faults.reset_rate))
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    if let Some(which) = error {
        let status = [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::SERVICE_UNAVAILABLE,
        ];
        // Zentral's tests saw `503 "Try again"` (dep-api.md §3.4).
        return Err(Reply::text(status[which as usize], "Try again"));
    }
    if busy {
        let mut r = Reply::text(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
        r.retry_after = Some(faults.retry_after_secs);
        return Err(r);
    }
    let ua = req.headers().get("User-Agent").and_then(|v| v.to_str().ok());
    if let Some(code) = check_user_agent(ua, &shared.behaviour.load().user_agent_deny) {
        return Err(Reply::error(code));
    }
    Ok(reset)
}

/// Writes a reply as one sized buffer, or half of it and then an aborted connection.
fn write(shared: &Shared, reply: Reply, rotated: Option<String>, reset: bool) -> HttpResponse {
    let bytes: Vec<u8> = match reply.body {
        Body::Json(b) => b,
        Body::Text(t) => t.as_bytes().to_vec(),
        Body::Empty => Vec::new(),
        Body::Code(code) => match shared.behaviour.load().error_style {
            ErrorStyle::Bare => code.as_bytes().to_vec(),
            ErrorStyle::BareNewline => format!("{code}\n").into_bytes(),
            ErrorStyle::JsonQuoted => format!("\"{code}\"").into_bytes(),
        },
    };
    let mut builder = HttpResponse::build(reply.status);
    builder.insert_header(("Content-Type", CONTENT_TYPE));
    if let Some(token) = rotated {
        builder.insert_header((SESSION_HEADER, token));
    }
    if let Some(secs) = reply.retry_after {
        builder.insert_header(("Retry-After", secs.to_string()));
    }
    if reset {
        // Promise the whole length, send half, then fail the body: actix drops the connection
        // (HTTP/1.1) or resets the stream (HTTP/2), as a network cut would.
        let half = Bytes::from(bytes[..bytes.len() / 2].to_vec());
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(half),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "simulated connection reset",
            )),
        ];
        return builder
            .body(SizedStream::new(bytes.len() as u64 + 1, futures_util::stream::iter(chunks)));
    }
    builder.body(bytes)
}
