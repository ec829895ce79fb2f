//! `/api/v1/integrations/…`: webhook subscriptions (create with the secret shown once, edit,
//! delete, resume after a pause, send a test), each one's delivery log and "redeliver", and
//! the topics a subscription can choose. Subscriptions hold secrets: Owner only (`secrets`).
//! Every change is audited (never with the secret).

use crate::audit::{Action, NewEntry, Outcome};
use crate::events::{DeliveryView, NewSubscription, SubscriptionUpdate, SubscriptionView, Topic};
use crate::http::error::ApiError;
use crate::http::extract::{Authenticated, ClientIp};
use crate::http::json::ApiJson;
use crate::http::state::AppState;
use crate::ids::SubscriptionId;
use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A new subscription and its signing secret (shown only in this answer).
#[derive(Serialize, ToSchema)]
pub struct Created {
    pub subscription: SubscriptionView,
    /// Put it in the receiver now: adebox never shows it again.
    pub secret: String,
}

/// A topic a subscription can choose.
#[derive(Serialize, ToSchema)]
pub struct TopicView {
    pub name: String,
    /// MicroMDM's (`mdm.*`) or adebox's own (`adebox.*`).
    pub family: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DeliveriesQuery {
    /// How many of the newest attempts (1–200, default 50).
    pub limit: Option<usize>,
}

/// Something queued: the event id.
#[derive(Serialize, ToSchema)]
pub struct QueuedEvent {
    pub event_id: String,
}

/// Records the change in the audit log (never the secret), then hands back its result.
async fn audited<T>(
    state: &AppState,
    auth: &Authenticated,
    ip: ClientIp,
    (action, target, detail): (Action, &str, String),
    result: Result<T, crate::events::EventsError>,
) -> Result<T, ApiError> {
    let outcome = if result.is_ok() { Outcome::Success } else { Outcome::Failure };
    let entry = NewEntry::new(state.clock.now(), auth.actor(), action, outcome)
        .target(target.to_string())
        .from_addr(ip.0.map(|a| a.to_string()))
        .detail(detail);
    state.audit.record(entry).await?;
    Ok(result?)
}

fn id_of(path: &str) -> Result<SubscriptionId, ApiError> {
    SubscriptionId::parse(path).map_err(|e| ApiError::validation("id", e.to_string()))
}

/// The topics a subscription can choose.
#[utoipa::path(tag = "integrations", responses((status = OK, body = Vec<TopicView>)))]
#[get("/integrations/topics")]
async fn topics(_auth: Authenticated) -> web::Json<Vec<TopicView>> {
    web::Json(
        Topic::ALL
            .iter()
            .map(|t| TopicView {
                name: t.name().into(),
                family: if t.is_mdm() { "mdm" } else { "adebox" }.into(),
            })
            .collect(),
    )
}

/// Every webhook subscription with its outbox state (never a secret).
#[utoipa::path(tag = "integrations", responses((status = OK, body = Vec<SubscriptionView>)))]
#[get("/integrations/webhooks")]
async fn list(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<Vec<SubscriptionView>>, ApiError> {
    Ok(web::Json(state.events.list().await?))
}

/// Creates a subscription; the answer carries the signing secret, shown this once.
#[utoipa::path(tag = "integrations", request_body = NewSubscription, responses((status = 201, body = Created), (status = 422, body = ApiError)))]
#[post("/integrations/webhooks")]
async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    body: ApiJson<NewSubscription>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner();
    let what = format!("{} → {}", new.name.trim(), new.url.trim());
    let made = state.events.create(new).await;
    let target = made.as_ref().map(|(v, _)| v.id.to_string()).unwrap_or_default();
    let (subscription, secret) =
        audited(&state, &auth, ip, (Action::WebhookCreate, &target, what), made).await?;
    Ok(HttpResponse::Created().json(Created { subscription, secret: secret.expose().to_string() }))
}

/// One subscription.
#[utoipa::path(tag = "integrations", responses((status = OK, body = SubscriptionView), (status = 404, body = ApiError)))]
#[get("/integrations/webhooks/{id}")]
async fn one(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<String>,
) -> Result<web::Json<SubscriptionView>, ApiError> {
    Ok(web::Json(state.events.get(&id_of(&id)?).await?))
}

/// Changes a subscription's name, URL, topics, "allow http" or outbox limit.
#[utoipa::path(tag = "integrations", request_body = SubscriptionUpdate, responses((status = OK, body = SubscriptionView), (status = 422, body = ApiError)))]
#[put("/integrations/webhooks/{id}")]
async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    id: web::Path<String>,
    body: ApiJson<SubscriptionUpdate>,
) -> Result<web::Json<SubscriptionView>, ApiError> {
    let id = id_of(&id)?;
    let r = state.events.update(&id, body.into_inner()).await;
    let what = (Action::WebhookChange, id.as_str(), "edit".to_string());
    Ok(web::Json(audited(&state, &auth, ip, what, r).await?))
}

/// Deletes a subscription with its waiting events and delivery log.
#[utoipa::path(tag = "integrations", responses((status = OK, body = SubscriptionView), (status = 404, body = ApiError)))]
#[delete("/integrations/webhooks/{id}")]
async fn remove(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    id: web::Path<String>,
) -> Result<web::Json<SubscriptionView>, ApiError> {
    let id = id_of(&id)?;
    let r = state.events.delete(&id).await;
    let gone = r.as_ref().map(|v| format!("{} → {}", v.name, v.url)).unwrap_or_default();
    Ok(web::Json(audited(&state, &auth, ip, (Action::WebhookDelete, id.as_str(), gone), r).await?))
}

/// Resumes a subscription paused after a day of failures; waiting events go out now.
#[utoipa::path(tag = "integrations", responses((status = OK, body = SubscriptionView), (status = 404, body = ApiError)))]
#[post("/integrations/webhooks/{id}/resume")]
async fn resume(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    id: web::Path<String>,
) -> Result<web::Json<SubscriptionView>, ApiError> {
    let id = id_of(&id)?;
    let r = state.events.resume(&id).await;
    let what = (Action::WebhookChange, id.as_str(), "resume".to_string());
    Ok(web::Json(audited(&state, &auth, ip, what, r).await?))
}

/// Queues a test event (`adebox.Alert`, kind `test`) for this subscription only.
#[utoipa::path(tag = "integrations", responses((status = OK, body = QueuedEvent), (status = 404, body = ApiError)))]
#[post("/integrations/webhooks/{id}/test")]
async fn test(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<String>,
) -> Result<web::Json<QueuedEvent>, ApiError> {
    let event_id = state.events.send_test(&id_of(&id)?).await?;
    Ok(web::Json(QueuedEvent { event_id }))
}

/// The newest delivery attempts, newest first.
#[utoipa::path(tag = "integrations", params(DeliveriesQuery), responses((status = OK, body = Vec<DeliveryView>), (status = 404, body = ApiError)))]
#[get("/integrations/webhooks/{id}/deliveries")]
async fn deliveries(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<String>,
    q: web::Query<DeliveriesQuery>,
) -> Result<web::Json<Vec<DeliveryView>>, ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, crate::events::LOG_LIMIT as usize);
    Ok(web::Json(state.events.deliveries(&id_of(&id)?, limit).await?))
}

/// Queues the event of delivery log entry `seq` again (same id and body).
#[utoipa::path(tag = "integrations", responses((status = OK, body = QueuedEvent), (status = 404, body = ApiError)))]
#[post("/integrations/webhooks/{id}/deliveries/{seq}/redeliver")]
async fn redeliver(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    path: web::Path<(String, u64)>,
) -> Result<web::Json<QueuedEvent>, ApiError> {
    let (id, seq) = path.into_inner();
    let id = id_of(&id)?;
    let r = state.events.redeliver(&id, seq).await;
    let what = (Action::WebhookChange, id.as_str(), format!("redeliver log entry {seq}"));
    Ok(web::Json(QueuedEvent { event_id: audited(&state, &auth, ip, what, r).await? }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(topics)
        .service(list)
        .service(create)
        .service(one)
        .service(update)
        .service(remove)
        .service(resume)
        .service(test)
        .service(deliveries)
        .service(redeliver);
}
