//! `/api/v1/signin/ldap…`: the LDAP / Active Directory directory users sign in with on the
//! enrollment sign-in page: its settings (the bind password is write-only: answers say only
//! whether one is set), and the step-by-step connection test.

use super::views::{LdapSettings, TestReport};
use crate::crypto::Secret;
use crate::directory::DirectoryError;
use crate::directory::ldap::{LdapView, TestSettings};
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::json::ApiJson;
use crate::http::state::AppState;
use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// The LDAP directory as the page shows it (never the bind password).
#[derive(Serialize, ToSchema)]
pub struct LdapDirectory {
    /// Whether one is set up; when not, `settings` holds the defaults to start from.
    pub configured: bool,
    pub settings: LdapSettings,
    /// Whether a service-account password is saved.
    pub bind_password_set: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub updated_at: Option<OffsetDateTime>,
}

impl From<LdapView> for LdapDirectory {
    fn from(v: LdapView) -> Self {
        LdapDirectory {
            configured: true,
            settings: (&v.settings).into(),
            bind_password_set: v.bind_password_set,
            updated_at: Some(v.updated_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveLdap {
    pub settings: LdapSettings,
    /// The service account's password; left out, the saved one is kept.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password)]
    pub bind_password: Option<Secret<String>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestLdap {
    /// Settings to test (the form's); left out, the saved ones.
    #[serde(default)]
    pub settings: Option<LdapSettings>,
    /// Left out: the saved password, when `settings` keeps the saved bind DN.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password)]
    pub bind_password: Option<Secret<String>>,
    /// A user to look up (no password is checked).
    #[serde(default)]
    pub username: Option<String>,
}

/// A settings field's refusal names it as the body does (`settings.url`).
fn in_settings(e: DirectoryError) -> ApiError {
    match e {
        DirectoryError::Validation { field, message } if field != "bind_password" => {
            ApiError::validation(&format!("settings.{field}"), message)
        }
        other => other.into(),
    }
}

fn defaults() -> LdapSettings {
    serde_json::from_value(serde_json::json!({"url": "", "user_base": ""}))
        .expect("the defaults deserialize")
}

/// The LDAP directory's settings (the defaults, `configured: false`, when none is set up).
#[utoipa::path(tag = "signin", responses((status = OK, body = LdapDirectory)))]
#[get("/signin/ldap")]
async fn show(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<LdapDirectory>, ApiError> {
    Ok(web::Json(match state.directory.ldap().await? {
        Some(v) => v.into(),
        None => LdapDirectory {
            configured: false,
            settings: defaults(),
            bind_password_set: false,
            updated_at: None,
        },
    }))
}

/// Saves the LDAP directory; 422 names the field at fault and the fix.
#[utoipa::path(tag = "signin", request_body = SaveLdap, responses((status = OK, body = LdapDirectory), (status = 422, body = ApiError)))]
#[put("/signin/ldap")]
async fn save(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<SaveLdap>,
) -> Result<web::Json<LdapDirectory>, ApiError> {
    let b = body.into_inner();
    let view = state.directory.set_ldap(auth.actor(), b.settings.into(), b.bind_password).await;
    Ok(web::Json(view.map_err(in_settings)?.into()))
}

/// Removes the LDAP directory.
#[utoipa::path(tag = "signin", responses((status = NO_CONTENT), (status = 404, body = ApiError)))]
#[delete("/signin/ldap")]
async fn remove(state: web::Data<AppState>, auth: Authenticated) -> Result<HttpResponse, ApiError> {
    state.directory.delete_ldap(auth.actor()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Tests a connection step by step: reach, TLS, service bind, user lookup or search base.
#[utoipa::path(tag = "signin", request_body = TestLdap, responses((status = OK, body = TestReport), (status = 422, body = ApiError)))]
#[post("/signin/ldap/test")]
async fn test(
    state: web::Data<AppState>,
    _auth: Authenticated,
    body: ApiJson<TestLdap>,
) -> Result<web::Json<TestReport>, ApiError> {
    let b = body.into_inner();
    let given =
        b.settings.map(|s| TestSettings { settings: s.into(), bind_password: b.bind_password });
    let report = state.directory.test_ldap(given, b.username.as_deref()).await;
    Ok(web::Json((&report.map_err(in_settings)?).into()))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(show).service(save).service(remove).service(test);
}
