//! `/api/v1/signin/…`: the directories users sign in with on the enrollment sign-in page
//! (user affinity): the local accounts kept on the appliance.

use crate::crypto::Secret;
use crate::http::error::ApiError;
use crate::http::extract::{Authenticated, ClientIp};
use crate::http::json::ApiJson;
use crate::http::state::AppState;
use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// A local sign-in account (never its password or hash).
#[derive(Serialize, ToSchema)]
pub struct LocalUser {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    /// Groups a profile's "who may enroll" rule can name.
    pub groups: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub created_at: OffsetDateTime,
}

impl From<&crate::directory::LocalUserInfo> for LocalUser {
    fn from(r: &crate::directory::LocalUserInfo) -> LocalUser {
        LocalUser {
            username: r.username.clone(),
            display_name: r.display_name.clone(),
            email: r.email.clone(),
            groups: r.groups.clone(),
            created_at: r.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LocalUserList {
    pub items: Vec<LocalUser>,
    pub total: usize,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLocalUser {
    /// 1 to 64 letters, digits, dots, dashes, underscores or @; also the Mac account's short
    /// name when a profile pre-fills it.
    pub username: String,
    /// The person's full name.
    pub display_name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[schema(value_type = String, format = Password)]
    pub password: Secret<String>,
}

/// The local sign-in accounts, by username.
#[utoipa::path(tag = "signin", responses((status = OK, body = LocalUserList)))]
#[get("/signin/users")]
async fn list_users(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<LocalUserList>, ApiError> {
    let mut users = state.directory.local_users().await?;
    users.sort_by(|a, b| a.username.cmp(&b.username));
    let items: Vec<LocalUser> = users.iter().map(LocalUser::from).collect();
    Ok(web::Json(LocalUserList { total: items.len(), items }))
}

/// Adds a local sign-in account.
#[utoipa::path(tag = "signin", request_body = NewLocalUser, responses((status = CREATED, body = LocalUser)))]
#[post("/signin/users")]
async fn add_user(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    body: ApiJson<NewLocalUser>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let new = crate::directory::NewLocalUser {
        username: b.username,
        display_name: b.display_name,
        email: b.email,
        groups: b.groups,
        password: b.password,
    };
    let info = state.directory.add_local_user(auth.actor(), new, ip.0).await?;
    Ok(HttpResponse::Created().json(LocalUser::from(&info)))
}

/// Removes a local sign-in account (devices already enrolled for it keep their user).
#[utoipa::path(tag = "signin", responses((status = NO_CONTENT)))]
#[delete("/signin/users/{username}")]
async fn delete_user(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.directory.delete_local_user(auth.actor(), &path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_users).service(add_user).service(delete_user);
}
