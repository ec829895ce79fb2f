//! The stand-in portal's Apple Business API page (`/portal/business/…`, JSON): create an API
//! account (its client id, key id and private key, shown once), list and revoke accounts,
//! set the 429 fault, the moved-audience fault and how long activities take. Plain-words errors like the rest of the
//! portal.

use crate::business::{Business, BusinessFaults};
use crate::dep::portal_errors::{PortalError, parse, reply};
use crate::dep::state::lock;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/portal/business")
            .route("/accounts", web::get().to(list))
            .route("/accounts", web::post().to(create))
            .route("/accounts/{client_id}/revoke", web::post().to(revoke))
            .route("/faults", web::get().to(get_faults))
            .route("/faults", web::put().to(set_faults))
            .route("/activity-delay", web::put().to(set_delay))
            .route("/audience-moved", web::put().to(set_audience_moved)),
    );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAccount {
    name: String,
}

async fn list(b: web::Data<Business>) -> HttpResponse {
    HttpResponse::Ok().json(lock(&b.accounts).list())
}

async fn create(b: web::Data<Business>, body: web::Bytes) -> HttpResponse {
    reply(parse::<NewAccount>(&body).and_then(|n| {
        if n.name.trim().is_empty() {
            return Err(PortalError::BadRequest("name is empty; give the account a name".into()));
        }
        b.create_account(n.name.trim()).map_err(|e| PortalError::Internal(e.to_string()))
    }))
}

async fn revoke(b: web::Data<Business>, id: web::Path<String>) -> HttpResponse {
    reply(b.revoke_account(&id).map_err(|e| PortalError::NotFound(e.to_string())))
}

async fn get_faults(b: web::Data<Business>) -> HttpResponse {
    HttpResponse::Ok().json(*lock(&b.faults))
}

async fn set_faults(b: web::Data<Business>, body: web::Bytes) -> HttpResponse {
    reply(parse::<BusinessFaults>(&body).inspect(|f| b.set_faults(*f)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Delay {
    seconds: i64,
}

async fn set_delay(b: web::Data<Business>, body: web::Bytes) -> HttpResponse {
    reply(parse::<Delay>(&body).and_then(|d| {
        if !(0..=3600).contains(&d.seconds) {
            return Err(PortalError::BadRequest("seconds must be between 0 and 3600".into()));
        }
        b.set_activity_delay(d.seconds);
        Ok(d.seconds)
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AudienceMoved {
    moved: bool,
}

async fn set_audience_moved(b: web::Data<Business>, body: web::Bytes) -> HttpResponse {
    reply(parse::<AudienceMoved>(&body).map(|a| {
        b.set_audience_moved(a.moved);
        a.moved
    }))
}
