//! `PUT /mdm/checkin` and `PUT /mdm/connect`: the MDM check-in and command channel
//! (../shared/spec/enrollment.md §4.1). The body is read raw (64 KiB cap, set by the `/mdm`
//! scope), the identity proven by [`super::device_identity`], and `mdm::Mdm` decides. Devices
//! get 200 (empty, or a command plist), 400 for a message we cannot read, 403 for an identity
//! we do not accept — never 401. An accepted message is then published as a webhook event
//! (`events`), before the device gets its answer, when a subscription wants its topic.

use super::device_identity::device_identity;
use super::error::ApiError;
use super::state::AppState;
use crate::events::MdmChannel;
use actix_web::{HttpRequest, HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/checkin", web::put().to(check_in)).route("/connect", web::put().to(connect));
}

async fn check_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let identity = device_identity(&req, &body)?;
    let answer = state.mdm.check_in(&identity, &body).await?;
    state.events.publish_mdm(MdmChannel::CheckIn, &body, url_params(&req)).await?;
    Ok(match answer {
        Some(plist) if !plist.is_empty() => {
            HttpResponse::Ok().content_type("application/xml").body(plist)
        }
        _ => HttpResponse::Ok().finish(),
    })
}

async fn connect(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let identity = device_identity(&req, &body)?;
    let answer = state.mdm.connect(&identity, &body).await?;
    state.events.publish_mdm(MdmChannel::Connect, &body, url_params(&req)).await?;
    Ok(match answer {
        Some(plist) => HttpResponse::Ok().content_type("application/xml").body(plist),
        None => HttpResponse::Ok().finish(),
    })
}

/// The request's query parameters, which webhook events repeat (`url_params`).
fn url_params(req: &HttpRequest) -> std::collections::BTreeMap<String, String> {
    url::form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect()
}
