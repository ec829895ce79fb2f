//! `/api/v1/settings/…`: the TLS certificate (and, later, the runtime settings); the
//! confirmation a switch of certificate needs is `tls_switch`'s.

use super::views::TlsInfo;
use crate::audit::{Action, NewEntry, Outcome};
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::json::ApiJson;
use crate::http::state::AppState;
use actix_web::{HttpResponse, delete, get, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct CustomCertificate {
    /// The certificate chain, server certificate first (PEM).
    pub cert_pem: String,
    /// Its unencrypted private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key_pem: String,
    /// Confirms re-assigning the devices the switch from the appliance CA re-assigns (see
    /// `GET /settings/tls/switch-impact`); needed when there are any.
    #[serde(default)]
    pub confirm: bool,
}

/// The certificates in use.
#[utoipa::path(tag = "settings", responses((status = OK, body = TlsInfo)))]
#[get("/settings/tls")]
async fn tls_info(state: web::Data<AppState>, _auth: Authenticated) -> web::Json<TlsInfo> {
    web::Json(super::tls_info::tls_view(&state, &state.tls.info()))
}

/// Places an ACME order now (the certificate is otherwise renewed at two thirds of its
/// lifetime); answers when the CA has issued, or with the CA's error.
#[utoipa::path(tag = "settings", responses((status = OK, body = TlsInfo), (status = 409, body = ApiError), (status = 502, body = ApiError)))]
#[post("/settings/tls/acme/renew")]
async fn acme_renew(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<web::Json<TlsInfo>, ApiError> {
    let Some(acme) = state.tls_acme.clone() else {
        return Err(ApiError::conflict(
            "acme_not_configured",
            "no ACME CA is configured; add a [tls.acme] section to the configuration file",
        ));
    };
    let now = state.clock.now();
    let result = acme.renew().await;
    state.alerts.note_renewal(result.as_ref().err().map(|e| e.to_string())).await.ok();
    let entry = NewEntry::new(
        now,
        auth.actor(),
        Action::TlsRenew,
        if result.is_ok() { Outcome::Success } else { Outcome::Failure },
    );
    let entry = match &result {
        Ok(info) => entry
            .target(info.sans.join(", "))
            .detail(format!("ACME, valid until {}", info.not_after)),
        Err(e) => entry.detail(e.to_string()),
    };
    state.audit.record(entry).await?;
    match result {
        Ok(_) => Ok(web::Json(super::tls_info::tls_view(&state, &state.tls.info()))),
        Err(e) => Err(ApiError::upstream("acme_order_failed", e.to_string())),
    }
}

/// The appliance CA certificate (PEM). Public: devices and browsers need it to trust us.
#[utoipa::path(tag = "settings", responses((status = OK, content_type = "application/x-pem-file", body = String)))]
#[get("/settings/tls/ca.pem")]
async fn ca_pem(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/x-pem-file")
        .insert_header(("Content-Disposition", "attachment; filename=\"adebox-ca.pem\""))
        .body(state.tls.ca().cert_pem().to_string())
}

/// The appliance CA certificate (DER).
#[utoipa::path(tag = "settings", responses((status = OK, content_type = "application/pkix-cert", body = Vec<u8>)))]
#[get("/settings/tls/ca.der")]
async fn ca_der(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/pkix-cert")
        .insert_header(("Content-Disposition", "attachment; filename=\"adebox-ca.cer\""))
        .body(state.tls.ca().cert_der().to_vec())
}

/// Installs your own certificate and key instead of the self-managed one.
#[utoipa::path(tag = "settings", request_body = CustomCertificate, responses((status = OK, body = TlsInfo), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
#[post("/settings/tls/custom")]
async fn install_custom(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<CustomCertificate>,
) -> Result<web::Json<TlsInfo>, ApiError> {
    let now = state.clock.now();
    let tls = state.tls.clone();
    let body = body.into_inner();
    let from_ca = tls.info().mode == crate::tls::TlsMode::SelfManaged;
    super::tls_switch::require_confirmation(&state, from_ca, body.confirm).await?;
    let result = web::block(move || tls.install_custom(&body.cert_pem, &body.key_pem, now))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let entry = NewEntry::new(
        now,
        auth.actor(),
        Action::TlsCustomInstall,
        if result.is_ok() { Outcome::Success } else { Outcome::Failure },
    );
    let entry = match &result {
        Ok(info) => entry.target(info.server.subject.clone()),
        Err(e) => entry.detail(e.to_string()),
    };
    state.audit.record(entry).await?;
    Ok(web::Json(super::tls_info::tls_view(&state, &result?)))
}

/// Goes back to the self-managed certificate (`?confirm=true` when that re-assigns devices).
#[utoipa::path(tag = "settings", params(("confirm" = Option<bool>, Query)), responses((status = OK, body = TlsInfo), (status = 409, body = ApiError)))]
#[delete("/settings/tls/custom")]
async fn remove_custom(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<super::tls_switch::Confirm>,
) -> Result<web::Json<TlsInfo>, ApiError> {
    let now = state.clock.now();
    let tls = state.tls.clone();
    let to_ca = tls.info().mode == crate::tls::TlsMode::CustomUpload;
    super::tls_switch::require_confirmation(&state, to_ca, query.confirm).await?;
    let info =
        web::block(move || tls.remove_custom(now)).await.map_err(|e| ApiError::internal(&e))??;
    state
        .audit
        .record(NewEntry::new(now, auth.actor(), Action::TlsCustomRemove, Outcome::Success))
        .await?;
    Ok(web::Json(super::tls_info::tls_view(&state, &info)))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(tls_info)
        .service(ca_pem)
        .service(ca_der)
        .service(install_custom)
        .service(remove_custom)
        .service(acme_renew);
}
