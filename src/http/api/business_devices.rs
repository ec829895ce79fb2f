//! `/api/v1/business/devices…`: the organisation's devices as Apple Business lists them
//! (synced into the store by `business::orgdevices`), filtered and paged like
//! `/api/v1/devices`, exported as CSV, and their sync's state and "Sync now". Thin: the
//! domain module reads, filters and syncs; these handlers parse and answer. The CSV is
//! streamed chunk by chunk (`orgdevices::CHUNK` rows a read), never built whole in memory.

use crate::business::applecare::CoverageState;
use crate::business::orgdevices::{Export, Listed, OrgDevicesError, OrgFilter, ServerFilter};
use crate::http::api::views::{self, SyncView};
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::state::AppState;
use crate::ids::Serial;
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
    /// AppleCare coverage: `active`, `inactive` (ended or cancelled), `none` (Apple lists no
    /// coverage) or `unknown` (Apple not asked yet).
    pub applecare: Option<String>,
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
        let applecare = match self.applecare.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(word) => Some(CoverageState::parse(word).ok_or_else(|| {
                ApiError::validation("applecare", "use active, inactive, none or unknown")
            })?),
        };
        Ok(OrgFilter {
            applecare,
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

const HEADER: [&str; 19] = [
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
    "applecare_status",
    "applecare_end_date",
];

fn record(l: &Listed) -> [String; 19] {
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
        l.applecare.state.as_str().to_string(),
        o(&l.applecare.end),
    ]
}

/// CSV lines of `rows`, each cell made safe for spreadsheets.
fn csv_lines<I, R>(rows: I) -> Result<web::Bytes, actix_web::Error>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = String>,
{
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(r.into_iter().map(|c| super::devices::spreadsheet_safe(&c).into_owned()))
            .map_err(actix_web::error::ErrorInternalServerError)?;
    }
    Ok(w.into_inner().map_err(actix_web::error::ErrorInternalServerError)?.into())
}

/// Where the export stands.
enum Step {
    Header,
    /// The next chunk, after this serial (from the start when none).
    After(Option<Serial>),
    Done,
}

/// The export's body: the header, then one piece per chunk of the list.
fn body(
    walk: Export,
) -> impl futures_util::Stream<Item = Result<web::Bytes, actix_web::Error>> + 'static {
    futures_util::stream::unfold((walk, Step::Header), |(walk, step)| async move {
        match step {
            Step::Done => None,
            Step::Header => {
                let head = csv_lines([HEADER.map(str::to_string)]);
                Some((head, (walk, Step::After(None))))
            }
            Step::After(after) => match walk.chunk(after).await {
                Ok((rows, next)) => {
                    let piece = csv_lines(rows.iter().map(record));
                    let step = next.map_or(Step::Done, |n| Step::After(Some(n)));
                    Some((piece, (walk, step)))
                }
                // The status is sent already: the download breaks off, and the log says why.
                Err(e) => {
                    log::error!("the organisation devices' export stopped: {e}");
                    Some((Err(ApiError::from(e).into()), (walk, Step::Done)))
                }
            },
        }
    })
}

/// Every organisation device matching the filter, as CSV.
#[utoipa::path(tag = "business", params(OrgDeviceQuery), responses((status = OK, content_type = "text/csv", body = String)))]
#[get("/business/devices/export.csv")]
async fn export(
    state: web::Data<AppState>,
    _auth: Authenticated,
    q: web::Query<OrgDeviceQuery>,
) -> Result<HttpResponse, ApiError> {
    let walk = state.business_devices.export(q.filter()?).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"adebox-organisation-devices.csv\"",
        ))
        .streaming(body(walk)))
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
