//! The ACME routes under `/acme` (RFC 8555 §7.1; ../shared/spec/enrollment.md §3.1). Thin:
//! each signed request has its media type checked ([`crate::acme::check_content_type`], 415
//! otherwise) and goes to [`crate::acme::AcmeService::handle`] as an [`Endpoint`]; this file
//! only adds `Replay-Nonce` (on every response, errors included), `Cache-Control: no-store`,
//! `Link: <directory>;rel="index"`, `Location` and the `rel="up"` / `rel="next"` links; a
//! refusal is rendered by [`AcmeProblem`] (`application/problem+json`). Bodies are capped by
//! the `/acme` scope (`DEVICE_BODY_LIMIT`); a body over it (or unreadable) is answered as an
//! RFC 8555 problem (`malformed`, status 413 or 400), not actix's plain-text error.

use super::error::acme::AcmeProblem;
use super::state::AppState;
use crate::acme::{Body, Endpoint, Reply};
use crate::urls;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    let post = |path: String, f: fn(String) -> Endpoint| {
        web::resource(path).route(web::post().to(
            move |state: web::Data<AppState>,
                  req: HttpRequest,
                  id: web::Path<String>,
                  body: Payload| { signed(state, req, f(id.into_inner()), body) },
        ))
    };
    let fixed = |f: fn() -> Endpoint| {
        web::post()
            .to(move |s: web::Data<AppState>, r: HttpRequest, b: Payload| signed(s, r, f(), b))
    };
    cfg.route(&format!("/{}", urls::ACME_DIRECTORY), web::get().to(directory))
        .route(&format!("/{}", urls::ACME_NEW_NONCE), web::head().to(new_nonce))
        .route(&format!("/{}", urls::ACME_NEW_NONCE), web::get().to(new_nonce_get))
        .route(&format!("/{}", urls::ACME_NEW_ACCOUNT), fixed(|| Endpoint::NewAccount))
        .route(&format!("/{}", urls::ACME_NEW_ORDER), fixed(|| Endpoint::NewOrder))
        .route(&format!("/{}", urls::ACME_REVOKE_CERT), fixed(|| Endpoint::RevokeCert))
        .route(&format!("/{}", urls::ACME_KEY_CHANGE), fixed(|| Endpoint::KeyChange))
        .route(
            &format!("/{}/{{id}}/{}", urls::ACME_ACCOUNT, urls::ACME_ORDERS),
            web::post().to(orders),
        )
        .service(post(format!("/{}/{{id}}", urls::ACME_ACCOUNT), Endpoint::Account))
        .service(post(
            format!("/{}/{{id}}/{}", urls::ACME_ORDER, urls::ACME_FINALIZE),
            Endpoint::Finalize,
        ))
        .service(post(format!("/{}/{{id}}", urls::ACME_ORDER), Endpoint::Order))
        .service(post(format!("/{}/{{id}}", urls::ACME_AUTHZ), Endpoint::Authz))
        .service(post(format!("/{}/{{id}}", urls::ACME_CHALLENGE), Endpoint::Challenge))
        .service(post(format!("/{}/{{id}}", urls::ACME_CERT), Endpoint::Cert));
}

/// Headers every ACME response carries.
fn base(state: &AppState, status: StatusCode) -> HttpResponseBuilder {
    let mut b = HttpResponse::build(status);
    b.insert_header(("Replay-Nonce", state.acme.new_nonce()))
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Link", format!("<{}>;rel=\"index\"", state.acme.directory_url())));
    b
}

async fn directory(state: web::Data<AppState>) -> HttpResponse {
    base(&state, StatusCode::OK).json(state.acme.directory())
}

async fn new_nonce(state: web::Data<AppState>) -> HttpResponse {
    base(&state, StatusCode::OK).finish()
}

async fn new_nonce_get(state: web::Data<AppState>) -> HttpResponse {
    base(&state, StatusCode::NO_CONTENT).finish()
}

/// A request body, or why it could not be read (over the limit, most often).
type Payload = Result<web::Bytes, actix_web::Error>;

/// The query of an orders-list page.
#[derive(Deserialize)]
struct OrdersPage {
    cursor: Option<String>,
}

async fn orders(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    page: web::Query<OrdersPage>,
    body: Payload,
) -> HttpResponse {
    let endpoint = Endpoint::Orders { account: id.into_inner(), cursor: page.into_inner().cursor };
    signed(state, req, endpoint, body).await
}

async fn signed(
    state: web::Data<AppState>,
    req: HttpRequest,
    endpoint: Endpoint,
    body: Payload,
) -> HttpResponse {
    match answer(&state, &req, endpoint, body).await {
        Ok(reply) => render(&state, reply),
        Err(problem) => problem.respond(base(&state, problem.status())),
    }
}

async fn answer(
    state: &AppState,
    req: &HttpRequest,
    endpoint: Endpoint,
    body: Payload,
) -> Result<Reply, AcmeProblem> {
    let body = body.map_err(|e| AcmeProblem::unreadable(&e))?;
    let content_type =
        req.headers().get(actix_web::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    crate::acme::check_content_type(content_type).map_err(|e| AcmeProblem::from(&e))?;
    let client = req.peer_addr().map(|a| a.ip());
    state.acme.handle(endpoint, body.to_vec(), client).await.map_err(|e| AcmeProblem::from(&e))
}

fn render(state: &AppState, reply: Reply) -> HttpResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    let mut b = base(state, status);
    if let Some(l) = &reply.location {
        b.insert_header(("Location", l.as_str()));
    }
    if let Some(up) = &reply.link_up {
        b.append_header(("Link", format!("<{up}>;rel=\"up\"")));
    }
    if let Some(next) = &reply.link_next {
        b.append_header(("Link", format!("<{next}>;rel=\"next\"")));
    }
    match reply.body {
        Body::Json(v) => b.json(v),
        Body::PemChain(pem) => b.content_type("application/pem-certificate-chain").body(pem),
    }
}
