//! `/api/v1/business/devices…`: the organisation's devices as Apple Business lists them
//! (synced into the store by `business::orgdevices`), filtered and paged like
//! `/api/v1/devices`, exported as CSV, and their sync's state and "Sync now". Thin: the
//! domain module reads, filters and syncs; these handlers parse and answer.

use crate::business::orgdevices::{Listed, OrgDevicesError, OrgFilter, ServerFilter};
use crate::http::api::views::{self, SyncView};
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::state::AppState;
use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Largest page of the list.
const MAX_LIMIT: usize = 500;

impl From<OrgDevicesError> for ApiError {
    fn from(e: OrgDevicesError) -> Self {
        match e {
            OrgDevicesError::Account(a) => a.into(),
            OrgDevicesError::Apple(c) => ApiError::upstream("business_unavailable", c.to_string()),
            OrgDevicesError::Tokens(t) => t.into(),
            OrgDevicesError::Store(s) => s.into(),
        }
    }
}

#[derive(Deserialize, IntoParams, Default)]
pub struct OrgDeviceQuery {
    /// `ours` (one of this appliance's servers), `elsewhere` (another MDM server) or `none`.
    pub server: Option<String>,
    /// `ASSIGNED` or `UNASSIGNED`.
    pub status: Option<String>,
    /// Product family: `iPhone`, `iPad`, `Mac`, `AppleTV`, `Watch`, `Vision`.
    pub family: Option<String>,
    /// Model contains this.
    pub model: Option<String>,
    /// Serial number contains this.
    pub serial: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

impl OrgDeviceQuery {
    fn filter(&self) -> Result<OrgFilter, ApiError> {
        let server = match self.server.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(word) => Some(
                ServerFilter::parse(word)
                    .ok_or_else(|| ApiError::validation("server", "use ours, elsewhere or none"))?,
            ),
        };
        Ok(OrgFilter {
            server,
            status: self.status.clone(),
            family: self.family.clone(),
            model: self.model.clone(),
            serial: self.serial.clone(),
        })
    }
}

/// A page of the organisation's devices.
#[derive(Serialize, ToSchema)]
pub struct OrgDeviceList {
    pub items: Vec<views::Listed>,
    /// How many devices match the filter.
    pub total: usize,
}

/// The organisation's devices as the last sync saw them: filtered, in serial order, one page.
#[utoipa::path(tag = "business", params(OrgDeviceQuery), responses((status = OK, body = OrgDeviceList), (status = 422, body = ApiError)))]
#[get("/business/devices")]
async fn list(
    state: web::Data<AppState>,
    _auth: Authenticated,
    q: web::Query<OrgDeviceQuery>,
) -> Result<web::Json<OrgDeviceList>, ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_LIMIT);
    let (items, total) =
        state.business_devices.list(q.filter()?, limit, q.offset.unwrap_or(0)).await?;
    Ok(web::Json(OrgDeviceList { items: views::list(&items), total }))
}

const HEADER: [&str; 17] = [
    "serial",
    "assigned_server",
    "server_kind",
    "mdm_server_id",
    "status",
    "model",
    "product_family",
    "product_type",
    "purchase_source_type",
    "purchase_source_id",
    "order_number",
    "order_date",
    "added_at",
    "migration_capable",
    "migration_status",
    "migration_deadline",
    "token_id",
];

fn record(l: &Listed) -> [String; 17] {
    let f = &l.facts;
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        f.serial.to_string(),
        o(&l.server.server_name),
        l.server.kind.as_str().to_string(),
        o(&l.server.mdm_server_id),
        o(&f.status),
        o(&f.model),
        o(&f.product_family),
        o(&f.product_type),
        o(&f.purchase_source_type),
        o(&f.purchase_source_id),
        o(&f.order_number),
        o(&f.order_date),
        o(&f.added_at),
        f.migration_capable.map(|b| b.to_string()).unwrap_or_default(),
        o(&f.migration_status),
        o(&f.migration_deadline),
        l.server.token.as_ref().map(|t| t.to_string()).unwrap_or_default(),
    ]
}

/// Every organisation device matching the filter, as CSV.
#[utoipa::path(tag = "business", params(OrgDeviceQuery), responses((status = OK, content_type = "text/csv", body = String)))]
#[get("/business/devices/export.csv")]
async fn export(
    state: web::Data<AppState>,
    _auth: Authenticated,
    q: web::Query<OrgDeviceQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER).map_err(|e| ApiError::internal(&e))?;
    let (w, failed) = state
        .business_devices
        .scan(
            q.filter()?,
            (w, None),
            |(w, failed): &mut (csv::Writer<Vec<u8>>, Option<String>), l| {
                if failed.is_none()
                    && let Err(e) = w.write_record(
                        record(&l).iter().map(|c| super::devices::spreadsheet_safe(c).into_owned()),
                    )
                {
                    *failed = Some(e.to_string());
                }
            },
        )
        .await?;
    if let Some(e) = failed {
        return Err(ApiError::internal(&e));
    }
    let body = w.into_inner().map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"adebox-organisation-devices.csv\"",
        ))
        .body(body))
}

/// The sync of the organisation's devices: state, pages fetched, 429 waits, last error,
/// next run and its budget.
#[utoipa::path(tag = "business", responses((status = OK, body = SyncView)))]
#[get("/business/devices/sync")]
async fn sync_state(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<SyncView>, ApiError> {
    Ok(web::Json((&state.business_devices.view().await?).into()))
}

/// Starts a sync of the organisation's devices now (one at a time: when one is going on,
/// it is the one answered).
#[utoipa::path(tag = "business", responses((status = ACCEPTED, body = SyncView), (status = CONFLICT, body = ApiError, description = "business_not_set_up")))]
#[post("/business/devices/sync")]
async fn sync_now(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    if !state.business_devices.view().await?.configured {
        return Err(crate::business::BusinessError::NotSet.into());
    }
    state.business_devices.start();
    Ok(HttpResponse::Accepted().json(SyncView::from(&state.business_devices.view().await?)))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(export).service(sync_state).service(sync_now);
}
