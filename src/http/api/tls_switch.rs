//! Switching the appliance certificate between the appliance CA and another one changes what
//! the DEP profiles pin (`anchor_certs`), so every profile is defined again at Apple and its
//! devices re-assigned. `GET /settings/tls/switch-impact` says how many devices that is; an
//! upload or a removal that would re-assign any is refused until it is confirmed. A switch
//! the configuration file asks for is held (`tls::hold`) with a banner until an admin confirms
//! it with `POST /settings/tls/held/confirm`.

use super::views::{EditImpact, TlsInfo};
use crate::audit::{Action, NewEntry, Outcome};
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::state::AppState;
use actix_web::{get, post, web};
use serde::Deserialize;

/// `?confirm=true` on `DELETE /settings/tls/custom`.
#[derive(Deserialize, Default)]
pub(super) struct Confirm {
    #[serde(default)]
    pub confirm: bool,
}

/// How many devices a switch between the appliance CA and another certificate re-assigns:
/// the devices holding any profile (the profiles are all defined again at Apple), and of
/// those, how many are already set up (they keep the old settings until erased).
#[utoipa::path(tag = "settings", responses((status = OK, body = EditImpact)))]
#[get("/settings/tls/switch-impact")]
async fn switch_impact(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<EditImpact>, ApiError> {
    Ok(web::Json(EditImpact::from(&state.profiles.all_profiles_impact().await?)))
}

/// Refuses a switch that changes the profiles' anchors and re-assigns devices, unless the
/// admin confirmed it (after seeing the count).
pub(super) async fn require_confirmation(
    state: &AppState,
    changes_anchors: bool,
    confirmed: bool,
) -> Result<(), ApiError> {
    if !changes_anchors || confirmed {
        return Ok(());
    }
    let impact = state.profiles.all_profiles_impact().await?;
    if impact.devices_to_reassign == 0 {
        return Ok(());
    }
    Err(ApiError::conflict(
        "confirm_reassign",
        format!(
            "switching between the appliance CA and another certificate changes what the enrollment profiles pin (anchor_certs): every profile is defined again at Apple and {} devices are re-assigned ({} already set up keep the old settings until erased); send the request again with confirm set to true",
            impact.devices_to_reassign, impact.enrolled
        ),
    ))
}

/// Serves the certificate the configuration file asks for (`[tls.acme]`, `tls.cert_file`),
/// held until now because it re-assigns devices (see `GET /settings/tls/switch-impact`); the
/// profiles are then defined again at Apple. 409 `nothing_held` when nothing waits.
#[utoipa::path(tag = "settings", responses((status = OK, body = TlsInfo), (status = 409, body = ApiError)))]
#[post("/settings/tls/held/confirm")]
async fn confirm_held(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<web::Json<TlsInfo>, ApiError> {
    let now = state.clock.now();
    let impact = state.profiles.all_profiles_impact().await?;
    let tls = state.tls.clone();
    let held =
        web::block(move || tls.confirm_held(now)).await.map_err(|e| ApiError::internal(&e))?;
    let mode = match held {
        Ok(Some(mode)) => mode,
        Ok(None) => {
            return Err(ApiError::conflict(
                "nothing_held",
                "no certificate from the configuration file is waiting for a confirmation",
            ));
        }
        Err(e) => {
            let entry =
                NewEntry::new(now, auth.actor(), Action::TlsSwitchConfirm, Outcome::Failure)
                    .detail(e.to_string());
            state.audit.record(entry).await?;
            return Err(ApiError::internal(&e));
        }
    };
    let entry = NewEntry::new(now, auth.actor(), Action::TlsSwitchConfirm, Outcome::Success)
        .target(crate::tls::describe_source(mode))
        .detail(format!("{} devices to re-assign", impact.devices_to_reassign));
    state.audit.record(entry).await?;
    Ok(web::Json(super::tls_info::tls_view(&state, &state.tls.info())))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(switch_impact).service(confirm_held);
}
