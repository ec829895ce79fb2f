//! The JSON API under `/api/v1` that the page and scripts share, and its OpenAPI document,
//! generated from the handlers' annotations so it cannot drift from the code.
//!
//! Conventions: lists answer `{"items": [...], "total": N}` with `limit` / `offset`; errors
//! answer `{"error", "message", "field"}` (see `http::error`).

mod admin;
mod alerts;
mod assignments;
mod audit;
mod backup;
mod business_actions;
mod business_csv;
mod business_devices;
mod business;
mod business_where;
mod commands;
mod devices;
mod enrollment;
mod integrations;
mod mdm;
pub mod permissions;
mod profiles;
mod push;
mod sandbox;
mod settings;
mod setup;
mod signin;
mod signin_oidc;
mod signin_ldap;
mod status;
mod sync;
mod tls_info;
mod tls_switch;
mod tokens;
pub mod views;

use super::error;
use actix_web::web;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

pub use super::json::JSON_LIMIT;

#[derive(OpenApi)]
#[openapi(
    info(title = "adebox API", description = "The JSON API of the adebox appliance: the admin page uses it, and so can scripts with an API token (`Authorization: Bearer adbx_…`). State-changing requests from a browser session carry `X-CSRF-Token`."),
    components(schemas(error::ApiError)),
    tags(
        (name = "admin", description = "Setup, sign-in, admins and API tokens"),
        (name = "status", description = "Health of the appliance"),
        (name = "audit", description = "The audit log"),
        (name = "settings", description = "Certificates and settings"),
        (name = "tokens", description = "Apple server tokens"),
        (name = "sync", description = "Device sync with Apple"),
        (name = "devices", description = "The device inventory"),
        (name = "profiles", description = "Enrollment profiles, defaults and assignment"),
        (name = "enrollment", description = "The enrollment funnel, refusals and settings"),
        (name = "push", description = "The MDM push (APNs) certificate"),
        (name = "mdm", description = "A device's MDM state, command history and actions"),
        (name = "sandbox", description = "The simulated Apple side (sandbox mode only)"),
        (name = "integrations", description = "Webhook subscriptions and their deliveries"),
        (name = "business", description = "The Apple Business API: the account, where a serial is, actions on the organisation's devices, AppleCare coverage"),
        (name = "signin", description = "The directories users sign in with during Setup Assistant (user affinity)"),
    )
)]
struct ApiDoc;

/// Registers every `/api/v1` route (relative to the scope).
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.configure(admin::configure)
        .configure(status::configure)
        .configure(audit::configure)
        .configure(settings::configure)
        .configure(tls_switch::configure)
        .configure(backup::configure)
        .configure(tokens::configure)
        .configure(sync::configure)
        .configure(devices::configure)
        .configure(profiles::configure)
        .configure(assignments::configure)
        .configure(enrollment::configure)
        .configure(push::configure)
        .configure(mdm::configure)
        .configure(commands::configure)
        .configure(setup::configure)
        .configure(sandbox::configure)
        .configure(integrations::configure)
        .configure(alerts::configure)
        .configure(signin::configure)
        .configure(signin_oidc::configure)
        .configure(signin_ldap::configure)
        .configure(business_actions::configure)
        .configure(business_csv::configure)
        .configure(business_devices::configure)
        .configure(business::configure)
        .configure(business_where::configure)
        .route("/openapi.json", web::get().to(super::openapi));
}

/// The `/api/v1` scope with its body limits and error shapes.
pub fn scope() -> utoipa_actix_web::scope::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    utoipa_actix_web::scope("/api/v1")
        .wrap(actix_web::middleware::from_fn(super::authz::gate))
        .app_data(web::JsonConfig::default().limit(JSON_LIMIT).error_handler(error::json_error))
        .app_data(web::QueryConfig::default().error_handler(error::query_error))
        .app_data(web::PathConfig::default().error_handler(error::path_error))
        .configure(configure)
}

/// The OpenAPI document, built the same way the routes are registered.
pub fn openapi_json() -> String {
    let (_, mut doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(scope())
        .split_for_parts();
    doc.info.version = crate::version().to_string();
    doc.to_pretty_json().expect("the generated OpenAPI document serializes")
}
