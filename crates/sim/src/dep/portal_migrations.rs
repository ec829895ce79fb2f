//! The portal's MDM migration routes (apple-2026.md §1.1), part of the `/portal/` scope:
//!
//! | route | what |
//! | --- | --- |
//! | `GET /portal/migrations` | every migration with origin, destination, deadline, state |
//! | `POST /portal/migrations` `{serials, server_uuid, deadline \| deadline_days}` | schedule the move of devices managed at another server to `server_uuid` |
//! | `PUT /portal/migrations` `{serials, deadline \| deadline_days}` | change the deadline |
//! | `POST /portal/migrations/cancel` `{serials}` | cancel: the devices go back to their origin |
//! | `POST /portal/migrations/complete` `{serials}` | the devices migrated: they stay, their deadline is dropped |
//!
//! `deadline` is RFC 3339; `deadline_days` counts from the simulator clock. A deadline outside
//! 1–90 days is refused whole with 409, as Apple's API does; per-serial refusals (not managed
//! elsewhere, already migrating, nothing to change) come back in `refused` with the reason.

use crate::dep::migration::MigrationReport;
use crate::dep::portal_errors::{PortalError, parse, reply};
use crate::dep::state::Shared;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/migrations", web::get().to(list))
        .route("/migrations", web::post().to(schedule))
        .route("/migrations", web::put().to(change))
        .route("/migrations/cancel", web::post().to(cancel))
        .route("/migrations/complete", web::post().to(complete));
}

#[derive(Deserialize)]
struct Deadline {
    deadline: Option<String>,
    deadline_days: Option<i64>,
}

impl Deadline {
    /// The deadline in Unix seconds: exactly one of the two spellings.
    fn resolve(&self, now: OffsetDateTime) -> Result<i64, PortalError> {
        match (&self.deadline, self.deadline_days) {
            (Some(text), None) => OffsetDateTime::parse(text, &Rfc3339)
                .map(|t| t.unix_timestamp())
                .map_err(|_| {
                    PortalError::BadRequest(format!(
                        "deadline `{text}` is not an RFC 3339 time; write it like 2026-12-31T17:00:00Z"
                    ))
                }),
            (None, Some(days)) => Ok(now.unix_timestamp() + days.clamp(-36_500, 36_500) * 86_400),
            _ => Err(PortalError::BadRequest(
                "give the deadline as either `deadline` (RFC 3339) or `deadline_days`, not both and not neither".into(),
            )),
        }
    }
}

#[derive(Deserialize)]
struct Schedule {
    serials: Vec<String>,
    server_uuid: String,
    #[serde(flatten)]
    deadline: Deadline,
}

#[derive(Deserialize)]
struct Change {
    serials: Vec<String>,
    #[serde(flatten)]
    deadline: Deadline,
}

#[derive(Deserialize)]
struct Serials {
    serials: Vec<String>,
}

async fn list(shared: web::Data<Shared>) -> HttpResponse {
    HttpResponse::Ok().json(shared.world().migrations())
}

async fn schedule(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    reply((|| -> Result<MigrationReport, PortalError> {
        let req: Schedule = parse(&body)?;
        let now = shared.now();
        let deadline = req.deadline.resolve(now)?;
        let mut world = shared.world();
        let to = world.server_by_uuid(&req.server_uuid)?;
        Ok(world.schedule_migration(&req.serials, to, deadline, now)?)
    })())
}

async fn change(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    reply((|| -> Result<MigrationReport, PortalError> {
        let req: Change = parse(&body)?;
        let now = shared.now();
        let deadline = req.deadline.resolve(now)?;
        Ok(shared.world().change_migration(&req.serials, deadline, now)?)
    })())
}

async fn cancel(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    reply((|| -> Result<MigrationReport, PortalError> {
        let req: Serials = parse(&body)?;
        let now = shared.now();
        Ok(shared.world().cancel_migration(&req.serials, now))
    })())
}

async fn complete(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    reply((|| -> Result<MigrationReport, PortalError> {
        let req: Serials = parse(&body)?;
        let now = shared.now();
        Ok(shared.world().complete_migration(&req.serials, now))
    })())
}
