//! `/api/v1/devices/…`: the inventory list, CSV export, one device, counts.

use super::views::{self, Assignment, DeviceCounts, DeviceDetail, DeviceSummary, IssuedCert};
use crate::devices::{DeviceFilter, Lifecycle, SortKey};
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::state::AppState;
use crate::ids::{ProfileId, ProfileUuid, Serial, TokenId};
use crate::profiles::ProfileNames;
use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Largest page of the list.
const MAX_LIMIT: usize = 500;

#[derive(Deserialize, IntoParams, Default)]
pub struct DeviceQuery {
    /// Exact serial number.
    pub serial: Option<String>,
    /// Serial numbers starting with this.
    pub serial_prefix: Option<String>,
    /// Model contains this.
    pub model: Option<String>,
    pub family: Option<String>,
    pub os: Option<String>,
    pub token: Option<String>,
    /// Apple profile UUID.
    pub profile: Option<String>,
    /// One of this appliance's profiles (its id): devices with any of its Apple uuids.
    pub profile_id: Option<String>,
    /// `not_contacted`, `profile_assigned`, `profile_pushed`, `enrolled`, `checked_out`, `removed`.
    pub lifecycle: Option<String>,
    pub include_removed: Option<bool>,
    /// Devices enrolled for a user (user affinity) whose username, display name or e-mail
    /// contains this, ignoring case.
    pub user: Option<String>,
    #[param(value_type = Option<String>)]
    pub sort: Option<SortKey>,
    /// `asc` (default) or `desc`.
    pub order: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

impl DeviceQuery {
    fn filter(&self, names: &ProfileNames) -> Result<DeviceFilter, ApiError> {
        let clean =
            |v: &Option<String>| v.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let lifecycle = match clean(&self.lifecycle) {
            None => None,
            Some(l) => Some(Lifecycle::parse(&l).ok_or_else(|| {
                ApiError::validation(
                    "lifecycle",
                    "use not_contacted, profile_assigned, profile_pushed, enrolled, checked_out or removed",
                )
            })?),
        };
        Ok(DeviceFilter {
            serial: clean(&self.serial).map(|s| Serial::parse(&s)).transpose()?,
            serial_prefix: clean(&self.serial_prefix),
            model: clean(&self.model),
            family: clean(&self.family),
            os: clean(&self.os),
            token: clean(&self.token).map(|t| TokenId::parse(&t)).transpose()?,
            profile: clean(&self.profile).map(|u| ProfileUuid::parse(&u)).transpose()?,
            profile_any: clean(&self.profile_id)
                .map(|id| ProfileId::parse(&id).map(|id| names.uuids_of(&id)))
                .transpose()?,
            lifecycle,
            include_removed: self.include_removed.unwrap_or(false),
            within_tokens: None,
            serials_in: None,
        })
    }

    /// The filter with the `user` condition resolved through the enrolled users' index (the
    /// devices module keeps no users, so the edge joins them).
    async fn filter_with_users(
        &self,
        names: &ProfileNames,
        signin: &crate::signin::SignIn,
    ) -> Result<DeviceFilter, ApiError> {
        let mut filter = self.filter(names)?;
        if let Some(want) = self.user.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
            filter.serials_in =
                Some(signin.serials_of_users_matching(want).await?.into_iter().collect());
        }
        Ok(filter)
    }

    fn descending(&self) -> Result<bool, ApiError> {
        match self.order.as_deref() {
            None | Some("") | Some("asc") => Ok(false),
            Some("desc") => Ok(true),
            Some(_) => Err(ApiError::validation("order", "use asc or desc")),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeviceList {
    pub items: Vec<DeviceListItem>,
    pub total: u64,
}

/// A device of the list, with the user it was enrolled for.
#[derive(Serialize, ToSchema)]
pub struct DeviceListItem {
    #[serde(flatten)]
    pub summary: DeviceSummary,
    /// The user who signed in during Setup Assistant (profiles with user affinity).
    pub user: Option<DeviceUser>,
}

/// The inventory: filtered, sorted, one page.
#[utoipa::path(tag = "devices", params(DeviceQuery), responses((status = OK, body = DeviceList), (status = 422, body = ApiError)))]
#[get("/devices")]
async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: web::Query<DeviceQuery>,
) -> Result<web::Json<DeviceList>, ApiError> {
    let names = state.profiles.names().await?;
    let mut filter = q.filter_with_users(&names, &state.signin).await?;
    auth.restrict(&mut filter);
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_LIMIT);
    let (items, total) = state
        .devices
        .list(filter, q.sort.unwrap_or_default(), q.descending()?, limit, q.offset.unwrap_or(0))
        .await?;
    let serials = items.iter().map(|d| d.serial.clone()).collect();
    let users = state.signin.users_of_serials(serials).await?;
    let items = items
        .iter()
        .map(|d| DeviceListItem {
            summary: DeviceSummary::from(d).named(&names),
            user: users.get(&d.serial).cloned().map(DeviceUser::from),
        })
        .collect();
    Ok(web::Json(DeviceList { items, total }))
}

/// Every device matching the filter, as CSV.
#[utoipa::path(tag = "devices", params(DeviceQuery), responses((status = OK, content_type = "text/csv", body = String)))]
#[get("/devices/export.csv")]
async fn export(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: web::Query<DeviceQuery>,
) -> Result<HttpResponse, ApiError> {
    let names = state.profiles.names().await?;
    let users = state.signin.users_by_serial().await?;
    let mut filter = q.filter_with_users(&names, &state.signin).await?;
    auth.restrict(&mut filter);
    let tokens: std::collections::HashMap<String, String> = state
        .tokens
        .list()
        .await
        .map_err(|e| ApiError::internal(&e))?
        .into_iter()
        .map(|t| (t.id.to_string(), t.server_name))
        .collect();
    let (items, _) = state
        .devices
        .list(filter, q.sort.unwrap_or_default(), q.descending()?, usize::MAX, 0)
        .await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "serial",
        "model",
        "description",
        "color",
        "family",
        "os",
        "token",
        "profile",
        "profile_status",
        "lifecycle",
        "assigned_at",
        "first_seen",
        "updated_at",
        "removed_at",
        "removed_reason",
        "token_id",
        "profile_id",
        "profile_uuid",
        "user",
        "user_name",
        "user_email",
    ];
    w.write_record(header).map_err(|e| ApiError::internal(&e))?;
    let t = |v: Option<time::OffsetDateTime>| {
        v.and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_default()
    };
    for d in items {
        let profile = d.profile_uuid.as_ref().and_then(|u| names.of_uuid(u.as_str()));
        let user = users.get(&d.serial);
        let record = [
            d.serial.as_str(),
            d.model.as_deref().unwrap_or(""),
            d.description.as_deref().unwrap_or(""),
            d.color.as_deref().unwrap_or(""),
            d.family.as_deref().unwrap_or(""),
            d.os.as_deref().unwrap_or(""),
            tokens.get(d.token.as_str()).map(String::as_str).unwrap_or(d.token.as_str()),
            profile.map(|(_, name)| name).unwrap_or(""),
            d.profile_status.as_deref().unwrap_or(""),
            d.lifecycle_words.as_str(),
            &t(d.assigned_at),
            &t(Some(d.first_seen)),
            &t(Some(d.updated_at)),
            &t(d.removed.as_ref().map(|r| r.at)),
            d.removed.as_ref().map(|r| r.reason.words()).unwrap_or(""),
            d.token.as_str(),
            &profile.map(|(id, _)| id.to_string()).unwrap_or_default(),
            d.profile_uuid.as_ref().map_or("", |u| u.as_str()),
            user.map_or("", |u| u.username.as_str()),
            user.map_or("", |u| u.display_name.as_str()),
            user.and_then(|u| u.email.as_deref()).unwrap_or(""),
        ];
        w.write_record(record.iter().map(|c| spreadsheet_safe(c).into_owned()))
            .map_err(|e| ApiError::internal(&e))?;
    }
    let body = w.into_inner().map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"adebox-devices.csv\""))
        .body(body))
}

/// A CSV cell a spreadsheet will not run: text starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return is a formula (or becomes one) in Excel, LibreOffice and Google Sheets, so it
/// gets a leading apostrophe (OWASP "CSV Injection"). Apple's fields (model, description,
/// color) and admin-named tokens reach this export; the page's own export does the same.
pub(super) fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Devices per lifecycle state and per token.
#[utoipa::path(tag = "devices", responses((status = OK, body = DeviceCounts)))]
#[get("/devices/counts")]
async fn counts(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<web::Json<DeviceCounts>, ApiError> {
    let mut counts = state.devices.counts().await?;
    if !auth.scope().is_all() {
        counts.by_token.retain(|token, _| auth.scope().allows(token.as_str()));
        // Per lifecycle within the scope: the in-memory index counts them without a page.
        for (lifecycle, n) in counts.by_lifecycle.iter_mut() {
            let mut filter = DeviceFilter { lifecycle: Some(*lifecycle), ..Default::default() };
            auth.restrict(&mut filter);
            *n = state.devices.list(filter, SortKey::Serial, false, 0, 0).await?.1;
        }
    }
    Ok(web::Json(DeviceCounts::from(&counts)))
}

/// A device with its profile assignment state.
#[derive(Serialize, ToSchema)]
pub struct DeviceWithAssignment {
    #[serde(flatten)]
    pub detail: DeviceDetail,
    /// The profile assignment (state, last result, next retry), when one was requested.
    pub assignment: Option<Assignment>,
    /// The user who signed in during Setup Assistant (profiles with user affinity).
    pub user: Option<DeviceUser>,
}

/// The user a device was enrolled for.
#[derive(Serialize, ToSchema)]
pub struct DeviceUser {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    /// The directory that vouched for them: `local`, `ldap` or `oidc`.
    pub source: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub signed_in_at: time::OffsetDateTime,
}

impl From<crate::signin::EnrolledUserRecord> for DeviceUser {
    fn from(r: crate::signin::EnrolledUserRecord) -> DeviceUser {
        DeviceUser {
            username: r.username,
            display_name: r.display_name,
            email: r.email,
            source: r.source,
            signed_in_at: r.signed_in_at,
        }
    }
}

/// One device: every field Apple gave, its timeline and its profile assignment.
#[utoipa::path(tag = "devices", params(("serial" = String, Path)), responses((status = OK, body = DeviceWithAssignment), (status = 404, body = ApiError)))]
#[get("/devices/{serial}")]
async fn one(
    state: web::Data<AppState>,
    auth: Authenticated,
    serial: web::Path<String>,
) -> Result<web::Json<DeviceWithAssignment>, ApiError> {
    let serial = Serial::parse(&serial)?;
    auth.require_device(&state, &serial).await?;
    let detail = state
        .devices
        .get(&serial)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("device {serial}")))?;
    let assignment = state.profiles.assignment(&serial).await?;
    let names = state.profiles.names().await?;
    let mut detail = DeviceDetail::from(&detail);
    detail.summary = detail.summary.named(&names);
    let user = state.signin.user_of_serial(&serial).await?;
    Ok(web::Json(DeviceWithAssignment {
        detail,
        assignment: assignment.as_ref().map(Assignment::from),
        user: user.map(DeviceUser::from),
    }))
}

/// The identity certificates issued to a device (ACME or SCEP), oldest first.
#[utoipa::path(tag = "devices", params(("serial" = String, Path)), responses((status = OK, body = Vec<IssuedCert>)))]
#[get("/devices/{serial}/certificates")]
async fn certificates(
    state: web::Data<AppState>,
    auth: Authenticated,
    serial: web::Path<String>,
) -> Result<web::Json<Vec<IssuedCert>>, ApiError> {
    let serial = Serial::parse(&serial)?;
    auth.require_device(&state, &serial).await?;
    let certs = state.acme.certificates_of(&serial).await.map_err(|e| ApiError::internal(&e))?;
    Ok(web::Json(views::list(&certs)))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(export).service(counts).service(one).service(certificates);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_escaped() {
        for bad in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(spreadsheet_safe(bad), format!("'{bad}"), "{bad:?}");
        }
        for ok in ["C02XK1ABCD12", "iPhone 15", "", "2026-12-07T05:00:00Z", "a=b"] {
            assert_eq!(spreadsheet_safe(ok), ok);
        }
    }
}
