//! The device-activity routes of the Apple Business API simulator (apple-2026.md §8.7):
//! `POST /v1/orgDeviceActivities` (read strictly; a bad server, a serial the organisation does
//! not own or a deadline more than 90 days out is a 409 naming it), its status, and the
//! pre-signed CSV log. The activities themselves are in `activities.rs`.

use crate::business::Business;
use crate::business::activities::{self, Kind};
use crate::business::api::{JSON, base, conflict, error, gate, not_found};
use crate::dep::state::{Shared, lock};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

/// The most serials one activity may name (Apple does not say, §8.7; DEP's limit is 1000).
const MAX_ACTIVITY_DEVICES: usize = 1000;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/orgDeviceActivities", web::post().to(create_activity))
        .route("/v1/orgDeviceActivities/{id}", web::get().to(get_activity))
        .route("/activity-logs/{id}.csv", web::get().to(activity_log));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivityRequest {
    data: ActivityData,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivityData {
    #[serde(rename = "type")]
    kind: String,
    attributes: ActivityAttributes,
    relationships: ActivityRelationships,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ActivityAttributes {
    activity_type: String,
    #[serde(default)]
    activity_type_metadata: Option<Metadata>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Metadata {
    mdm_migration_deadline_date_time: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ActivityRelationships {
    #[serde(default)]
    mdm_server: Option<ToOne>,
    devices: ToMany,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ToOne {
    data: Linkage,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ToMany {
    data: Vec<Linkage>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Linkage {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

async fn create_activity(
    req: HttpRequest,
    shared: web::Data<Shared>,
    b: web::Data<Business>,
    body: web::Bytes,
) -> HttpResponse {
    if let Err(r) = gate(&req, &shared, &b) {
        return *r;
    }
    let run = || -> Result<HttpResponse, Box<HttpResponse>> {
        let r: ActivityRequest = serde_json::from_slice(&body).map_err(|e| {
            error(
                400,
                "PARAMETER_ERROR.INVALID",
                "The request body is invalid",
                &format!("The request body cannot be read: {e}"),
                None,
            )
        })?;
        let d = r.data;
        if d.kind != "orgDeviceActivities" {
            return Err(conflict(
                "ENTITY_ERROR.ATTRIBUTE.INVALID",
                "The type must be orgDeviceActivities.",
                "/data/type",
            ));
        }
        let kind = Kind::parse(&d.attributes.activity_type).ok_or_else(|| {
            conflict(
                "ENTITY_ERROR.ATTRIBUTE.INVALID",
                &format!("'{}' is not a valid activityType.", d.attributes.activity_type),
                "/data/attributes/activityType",
            )
        })?;
        let now = shared.now();
        let deadline = match (kind.needs_deadline(), d.attributes.activity_type_metadata) {
            (false, _) => None,
            (true, None) => {
                return Err(conflict(
                    "ENTITY_ERROR.ATTRIBUTE.REQUIRED",
                    "mdmMigrationDeadlineDateTime is required for this activityType.",
                    "/data/attributes/activityTypeMetadata",
                ));
            }
            (true, Some(m)) => {
                let t = time::OffsetDateTime::parse(
                    &m.mdm_migration_deadline_date_time,
                    &time::format_description::well_known::Rfc3339,
                )
                .map_err(|_| {
                    conflict(
                        "ENTITY_ERROR.ATTRIBUTE.INVALID",
                        "mdmMigrationDeadlineDateTime is not a date-time.",
                        "/data/attributes/activityTypeMetadata/mdmMigrationDeadlineDateTime",
                    )
                })?;
                let away = t.unix_timestamp() - now.unix_timestamp();
                if !(0..=crate::dep::migration::MAX_DAYS * 86_400).contains(&away) {
                    return Err(conflict(
                        "ENTITY_ERROR.ATTRIBUTE.INVALID",
                        "The MDM migration deadline must be within 90 days from now.",
                        "/data/attributes/activityTypeMetadata/mdmMigrationDeadlineDateTime",
                    ));
                }
                Some(t.unix_timestamp())
            }
        };
        let devices = d.relationships.devices.data;
        if devices.is_empty() || devices.len() > MAX_ACTIVITY_DEVICES {
            return Err(conflict(
                "ENTITY_ERROR.RELATIONSHIP.INVALID",
                &format!("Name 1 to {MAX_ACTIVITY_DEVICES} devices."),
                "/data/relationships/devices",
            ));
        }
        let mut world = lock(&shared.world);
        let server = match (kind.needs_server(), d.relationships.mdm_server) {
            (false, _) => None,
            (true, None) => {
                return Err(conflict(
                    "ENTITY_ERROR.RELATIONSHIP.REQUIRED",
                    "An mdmServer is required for this activityType.",
                    "/data/relationships/mdmServer",
                ));
            }
            (true, Some(s)) => Some(
                world
                    .server_by_uuid(&s.data.id)
                    .ok()
                    .filter(|_| s.data.kind == "mdmServers")
                    .ok_or_else(|| {
                        conflict(
                            "ENTITY_ERROR.RELATIONSHIP.INVALID",
                            &format!("There is no mdmServers with id '{}'.", s.data.id),
                            "/data/relationships/mdmServer/data/id",
                        )
                    })?,
            ),
        };
        let mut serials = Vec::with_capacity(devices.len());
        for l in devices {
            if l.kind != "orgDevices" || world.org_device(&l.id).is_none() {
                return Err(conflict(
                    "ENTITY_ERROR.RELATIONSHIP.INVALID",
                    &format!("The device '{}' is not in the organization.", l.id),
                    "/data/relationships/devices",
                ));
            }
            serials.push(l.id);
        }
        let mut acts = lock(&b.activities);
        let a = acts.submit(kind, server, serials, deadline, now.unix_timestamp());
        let delay = acts.delay_secs;
        // A zero delay completes at once, before the answer.
        acts.settle(&mut world, now);
        let a = acts.get(&a.id).cloned().unwrap_or(a);
        Ok(HttpResponse::Created().content_type(JSON).json(activity_body(
            &base(&req),
            &a,
            delay,
            now.unix_timestamp(),
        )))
    };
    run().unwrap_or_else(|r| *r)
}

fn activity_body(base: &str, a: &activities::Activity, delay: i64, now: i64) -> Value {
    let (status, sub) = activities::status(a, delay, now);
    let self_link = format!("{base}/v1/orgDeviceActivities/{}", a.id);
    let mut attrs = json!({"status": status, "subStatus": sub, "activityType": a.kind.as_str(),
        "createdDateTime": crate::dep::render::rfc3339(a.created_at)});
    if let Some(done) = a.completed_at {
        attrs["completedDateTime"] = json!(crate::dep::render::rfc3339(done));
        attrs["downloadUrl"] = json!(format!("{base}/activity-logs/{}.csv", a.id));
    }
    json!({"data": {"type": "orgDeviceActivities", "id": a.id, "attributes": attrs, "links": {"self": self_link}},
           "links": {"self": self_link}})
}

async fn get_activity(
    req: HttpRequest,
    shared: web::Data<Shared>,
    b: web::Data<Business>,
    id: web::Path<String>,
) -> HttpResponse {
    if let Err(r) = gate(&req, &shared, &b) {
        return *r;
    }
    let acts = lock(&b.activities);
    match acts.get(&id) {
        Some(a) => HttpResponse::Ok().content_type(JSON).json(activity_body(
            &base(&req),
            a,
            acts.delay_secs,
            shared.now().unix_timestamp(),
        )),
        None => *not_found("There is no resource of type 'orgDeviceActivities' with id."),
    }
}

/// The pre-signed log download: no bearer token (§8.7, UNCERTAIN).
async fn activity_log(b: web::Data<Business>, id: web::Path<String>) -> HttpResponse {
    match lock(&b.activities).get(&id).filter(|a| a.completed_at.is_some()) {
        Some(a) => HttpResponse::Ok().content_type("text/csv").body(activities::csv(a)),
        None => HttpResponse::NotFound().finish(),
    }
}
