//! `/enroll/web`: the user sign-in page at a profile's `configuration_web_url`
//! (../shared/spec/enrollment.md §1.6). `GET` with `x-apple-aspen-deviceinfo` starts an
//! attempt (`signin::SignIn::start`) and shows the form; `POST` of the form signs the user
//! in and answers the signed enrollment profile. A profile signing users in with OpenID
//! Connect shows a link instead: `GET /enroll/web/oidc/start` sends the user to the provider
//! with a fresh authorization request bound to the attempt, and the provider sends them back
//! to `GET /enroll/web/oidc/callback`, which answers the profile. Every refusal is a page in
//! plain words ([`super::error::signin`]).

use super::enroll::PROFILE_CONTENT_TYPE;
use super::error::signin::{EnrollAnswer, PageRefusal, from_enroll, from_submit};
use super::signin_page as html;
use super::state::AppState;
use crate::crypto::Secret;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::Deserialize;

/// The header Setup Assistant puts the base64 CMS MachineInfo in (spec §1.6).
pub const DEVICE_INFO_HEADER: &str = "x-apple-aspen-deviceinfo";

/// The form's size limit: four short fields.
const FORM_LIMIT: usize = 16 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/web")
            .app_data(web::FormConfig::default().limit(FORM_LIMIT))
            .route(web::get().to(start))
            .route(web::post().to(submit)),
    )
    .route("/web/style.css", web::get().to(style))
    .route("/web/oidc/start", web::get().to(oidc_start))
    .route("/web/oidc/callback", web::get().to(oidc_callback));
}

async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "max-age=3600"))
        .body(html::STYLE)
}

fn page(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        // Under the appliance's usual `no-referrer`, browsers send `Origin: null` with a form
        // post (Fetch: "serializing a request origin"), which the origin check must refuse;
        // `same-origin` lets the page's own form name its origin and still tells other sites
        // nothing.
        .insert_header(("Referrer-Policy", "same-origin"))
        .body(body)
}

fn refusal_page(r: &PageRefusal, facts: Option<&crate::signin::PageFacts>) -> HttpResponse {
    answer(r, html::message(facts, r.title, &r.words))
}

/// `body` with the refusal's status and Retry-After.
fn answer(r: &PageRefusal, body: String) -> HttpResponse {
    let mut resp = page(r.status, body);
    if let Some(secs) = r.retry_after
        && let Ok(v) = actix_web::http::header::HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(actix_web::http::header::RETRY_AFTER, v);
    }
    resp
}

/// The MachineInfo from the header: standard base64, or URL-safe (fleet accepts both), with
/// any whitespace a proxy may have folded in removed.
fn device_info(req: &HttpRequest) -> Option<Vec<u8>> {
    use base64ct::{Base64, Base64Unpadded, Base64Url, Base64UrlUnpadded, Encoding};
    let raw = req.headers().get(DEVICE_INFO_HEADER)?.to_str().ok()?;
    let text: String = raw.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    Base64::decode_vec(&text)
        .or_else(|_| Base64Unpadded::decode_vec(&text))
        .or_else(|_| Base64Url::decode_vec(&text))
        .or_else(|_| Base64UrlUnpadded::decode_vec(&text))
        .ok()
}

async fn start(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if req.headers().get(DEVICE_INFO_HEADER).is_none() {
        let words = "This page is part of setting up a new device: it opens by itself in \
                     Setup Assistant. There is nothing to do here in a browser.";
        return page(StatusCode::BAD_REQUEST, html::message(None, "Device sign-in", words));
    }
    let Some(body) = device_info(&req) else {
        let words = "Setup Assistant sent this device's identity in a form we cannot read. \
                     Restart the device and try again; if it happens again, contact your IT \
                     department.";
        let title = "This device could not be identified";
        return page(StatusCode::BAD_REQUEST, html::message(None, title, words));
    };
    match state.signin.start(body).await {
        Ok(s) if s.facts.source == crate::directory::Source::Oidc.code() => {
            provider_page(&state, StatusCode::OK, &s.facts, &s.attempt, None).await
        }
        Ok(s) => page(StatusCode::OK, html::form(&s.facts, &s.attempt, &s.csrf, "", None)),
        Err(e) => match from_enroll(e) {
            EnrollAnswer::Json(j) => j.error_response(),
            EnrollAnswer::Page(p) => refusal_page(&p, None),
        },
    }
}

#[derive(Deserialize)]
struct SignInForm {
    attempt: String,
    csrf: String,
    username: String,
    password: String,
}

async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Result<web::Form<SignInForm>, actix_web::Error>,
) -> HttpResponse {
    let Ok(web::Form(form)) = form else {
        let words = "The sign-in form arrived incomplete. Go back and continue again.";
        return page(StatusCode::BAD_REQUEST, html::message(None, "Sign in", words));
    };
    let facts = state.signin.facts(&form.attempt);
    // A form posted from another site (SameSite does not apply: there is no cookie) is refused
    // before any password is checked; the attempt's own token is checked next.
    if !same_origin(&req) {
        let r = from_submit(crate::signin::SubmitError::Forged).0;
        if let EnrollAnswer::Page(p) = r {
            return refusal_page(&p, facts.as_ref());
        }
    }
    let addr = req.peer_addr().map(|a| a.ip());
    let username = form.username.clone();
    let password = Secret::new(form.password);
    match state.signin.submit(&form.attempt, &form.csrf, addr, &username, password).await {
        Ok(profile) => profile_answer(profile),
        Err(e) => match from_submit(e) {
            (EnrollAnswer::Json(j), _) => j.error_response(),
            (EnrollAnswer::Page(p), true) if facts.is_some() => {
                let facts = facts.expect("checked just above");
                answer(&p, html::form(&facts, &form.attempt, &form.csrf, &username, Some(&p.words)))
            }
            (EnrollAnswer::Page(p), _) => refusal_page(&p, facts.as_ref()),
        },
    }
}

/// Whether the form came from our own page: an `Origin` (or, without one, a `Referer`) naming
/// another host than the request's is refused; neither header is tolerated, as some web views
/// send none on a form post.
fn same_origin(req: &HttpRequest) -> bool {
    let host = req.connection_info().host().to_ascii_lowercase();
    let from = req
        .headers()
        .get("origin")
        .or_else(|| req.headers().get("referer"))
        .and_then(|v| v.to_str().ok());
    match from {
        None | Some("null") => from.is_none(),
        Some(url) => {
            let rest = url.split_once("://").map_or(url, |(_, r)| r);
            let origin_host = rest.split('/').next().unwrap_or_default().to_ascii_lowercase();
            origin_host == host
        }
    }
}

/// The signed enrollment profile, as Setup Assistant's web view takes it.
fn profile_answer(profile: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(PROFILE_CONTENT_TYPE)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Content-Disposition", "attachment; filename=\"enroll.mobileconfig\""))
        .insert_header(("Cache-Control", "no-store"))
        .body(profile)
}

/// The page with the "Sign in with <provider>" link of `attempt`, `error` above it.
async fn provider_page(
    state: &AppState,
    status: StatusCode,
    facts: &crate::signin::PageFacts,
    attempt: &str,
    error: Option<&str>,
) -> HttpResponse {
    let name = match state.directory.oidc_provider_name().await {
        Ok(Some(n)) => n,
        Ok(None) => {
            let f =
                crate::directory::SignInFailure::Unavailable("OpenID Connect is not set up".into());
            return submit_refusal(crate::signin::SubmitError::SignIn(f), Some(facts));
        }
        Err(e) => {
            let f = crate::directory::SignInFailure::from(e);
            return submit_refusal(crate::signin::SubmitError::SignIn(f), Some(facts));
        }
    };
    let href = format!("/enroll/web/oidc/start?attempt={attempt}");
    page(status, html::provider(facts, &name, &href, error))
}

/// A failed step as its page (never a bare status).
fn submit_refusal(
    e: crate::signin::SubmitError,
    facts: Option<&crate::signin::PageFacts>,
) -> HttpResponse {
    match from_submit(e).0 {
        EnrollAnswer::Json(j) => j.error_response(),
        EnrollAnswer::Page(p) => refusal_page(&p, facts),
    }
}

#[derive(Deserialize)]
struct StartQuery {
    attempt: String,
}

/// The page's link: a fresh authorization request for the attempt, and off to the provider.
async fn oidc_start(
    state: web::Data<AppState>,
    query: Result<web::Query<StartQuery>, actix_web::Error>,
) -> HttpResponse {
    let Ok(web::Query(q)) = query else {
        return submit_refusal(crate::signin::SubmitError::Expired, None);
    };
    let facts = state.signin.facts(&q.attempt);
    match state.signin.oidc_link(&q.attempt).await {
        Ok(url) => HttpResponse::SeeOther()
            .insert_header((actix_web::http::header::LOCATION, url))
            .insert_header(("Cache-Control", "no-store"))
            .insert_header(("Referrer-Policy", "no-referrer"))
            .finish(),
        Err(e) => submit_refusal(e, facts.as_ref()),
    }
}

/// What the provider appends to the redirect URI (RFC 6749 §4.1.2, RFC 9207 `iss`).
#[derive(Deserialize)]
struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The provider sent the user back: finish the sign-in and answer the device's profile.
async fn oidc_callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: Result<web::Query<CallbackQuery>, actix_web::Error>,
) -> HttpResponse {
    use crate::signin::ProviderAnswer;
    let q = match query {
        Ok(web::Query(q)) => q,
        Err(_) => return submit_refusal(crate::signin::SubmitError::Expired, None),
    };
    let answer = match (q.code, q.error) {
        (_, Some(error)) => ProviderAnswer::Error { error, description: q.error_description },
        (Some(code), None) => ProviderAnswer::Code { code, issuer: q.iss },
        (None, None) => return submit_refusal(crate::signin::SubmitError::Expired, None),
    };
    let Some(st) = q.state else {
        return submit_refusal(crate::signin::SubmitError::Expired, None);
    };
    let addr = req.peer_addr().map(|a| a.ip());
    match state.signin.oidc_callback(&st, answer, addr).await {
        Ok(profile) => profile_answer(profile),
        Err(f) => {
            let facts = f.retry.as_deref().and_then(|a| state.signin.facts(a));
            match (from_submit(f.error), f.retry, facts) {
                ((EnrollAnswer::Page(p), _), Some(attempt), Some(facts)) => {
                    let resp = provider_page(&state, p.status, &facts, &attempt, Some(&p.words));
                    resp.await
                }
                ((EnrollAnswer::Page(p), _), _, facts) => refusal_page(&p, facts.as_ref()),
                ((EnrollAnswer::Json(j), _), _, _) => j.error_response(),
            }
        }
    }
}
