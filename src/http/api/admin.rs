//! `/api/v1/admin/…`: first-run setup, sign-in, sessions, admins, API tokens.

use super::views::{self, ApiTokenInfo, UserInfo};
use crate::admin::{Permission, Principal, Role, Scope, Session};
use crate::crypto::Secret;
use crate::http::error::ApiError;
use crate::http::extract::{Authenticated, ClientIp, SESSION_COOKIE, check_same_site};
use crate::http::json::ApiJson;
use crate::http::state::AppState;
use crate::ids::TokenId;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct SetupState {
    /// True until the first admin exists.
    pub setup_required: bool,
    pub sandbox: bool,
}

/// A signed-in session as the page sees it.
#[derive(Serialize, ToSchema)]
pub struct SessionView {
    pub user: String,
    /// Send back as `X-CSRF-Token` on every state-changing request.
    pub csrf_token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub sandbox: bool,
    /// `owner`, `operator`, `help_desk` or `auditor`.
    #[schema(value_type = String)]
    pub role: Role,
    /// Permission codes the role holds (docs/roles.md): the page shows only what they allow.
    pub permissions: Vec<&'static str>,
    /// The server token ids the admin is limited to; null when unscoped.
    pub scope: Option<Vec<String>>,
}

/// The permissions a caller may use: their role's, less the organisation-wide ones when
/// their scope is limited.
fn permission_codes(role: Role, scope: &Scope) -> Vec<&'static str> {
    role.permissions().into_iter().filter(|p| scope.permits(*p)).map(Permission::code).collect()
}

fn scope_ids(scope: &Scope) -> Option<Vec<String>> {
    scope.tokens().map(|t| t.iter().map(|i| i.as_str().to_string()).collect())
}

#[derive(Deserialize, ToSchema)]
pub struct SetupRequest {
    /// The one-time code printed in the daemon log.
    pub setup_code: String,
    pub username: String,
    #[schema(value_type = String, format = Password)]
    pub password: Secret<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    #[schema(value_type = String, format = Password)]
    pub password: Secret<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    #[schema(value_type = String, format = Password)]
    pub current_password: Secret<String>,
    #[schema(value_type = String, format = Password)]
    pub new_password: Secret<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewUser {
    pub username: String,
    #[schema(value_type = String, format = Password)]
    pub password: Secret<String>,
    /// `owner`, `operator`, `help_desk` or `auditor`.
    #[schema(value_type = String)]
    pub role: Role,
}

#[derive(Deserialize, ToSchema)]
pub struct RoleChange {
    /// `owner`, `operator`, `help_desk` or `auditor`.
    #[schema(value_type = String)]
    pub role: Role,
}

#[derive(Deserialize, ToSchema)]
pub struct NewToken {
    /// What uses the token, e.g. "inventory export script".
    pub name: String,
    /// The token's role: yours when left out, never wider than yours.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub role: Option<Role>,
    /// Server token ids the token is limited to: yours when left out, never wider than yours.
    #[serde(default)]
    pub scope: Option<Vec<String>>,
}

#[derive(Deserialize, ToSchema)]
pub struct ScopeChange {
    /// Server token ids the admin is limited to, or null for every token and the
    /// organisation-wide data.
    pub tokens: Option<Vec<String>>,
}

/// Who is calling and what they may do; the page shows only what `permissions` allows.
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// The admin (for a token: the admin it acts for, if any).
    pub user: Option<String>,
    /// `session` or `api_token`.
    pub kind: &'static str,
    #[schema(value_type = String)]
    pub role: Role,
    /// The role as people read it, e.g. "Help desk".
    pub role_title: &'static str,
    /// Permission codes the caller may use (see docs/roles.md).
    pub permissions: Vec<&'static str>,
    /// The server token ids the caller is limited to; null when unscoped.
    pub scope: Option<Vec<String>>,
}

/// A new API token; `token` is shown this once and never again.
#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub info: ApiTokenInfo,
    pub token: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<UserInfo>,
    pub total: u64,
}

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<ApiTokenInfo>,
    pub total: u64,
}

async fn signed_in(state: &AppState, session: Session) -> Result<HttpResponse, ApiError> {
    let (role, scope) =
        state.admin.access_of(&session.username).await?.ok_or_else(ApiError::unauthenticated)?;
    let max_age = (session.expires_at - state.clock.now()).whole_seconds().max(0);
    let cookie = Cookie::build(SESSION_COOKIE, session.id.expose().clone())
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::seconds(max_age))
        .finish();
    Ok(HttpResponse::Ok().cookie(cookie).insert_header(("Cache-Control", "no-store")).json(
        SessionView {
            user: session.username,
            csrf_token: session.csrf_token,
            expires_at: session.expires_at,
            sandbox: state.sandbox,
            role,
            permissions: permission_codes(role, &scope),
            scope: scope_ids(&scope),
        },
    ))
}

/// Whether first-run setup is needed.
#[utoipa::path(tag = "admin", responses((status = OK, body = SetupState)))]
#[get("/admin/setup")]
async fn setup_state(state: web::Data<AppState>) -> Result<web::Json<SetupState>, ApiError> {
    Ok(web::Json(SetupState {
        setup_required: state.admin.setup_required().await?,
        sandbox: state.sandbox,
    }))
}

/// Creates the first admin with the one-time setup code from the daemon log, and signs in.
#[utoipa::path(tag = "admin", request_body = SetupRequest, responses(
    (status = OK, body = SessionView), (status = 401, body = ApiError, description = "bad_setup_code"),
    (status = 409, body = ApiError, description = "setup_done"), (status = 422, body = ApiError)))]
#[post("/admin/setup")]
async fn setup(
    req: HttpRequest,
    state: web::Data<AppState>,
    ip: ClientIp,
    body: ApiJson<SetupRequest>,
) -> Result<HttpResponse, ApiError> {
    check_same_site(&req)?;
    let body = body.into_inner();
    let session = state.admin.setup(&body.setup_code, &body.username, body.password, ip.0).await?;
    signed_in(&state, session).await
}

/// Signs in; sets the session cookie.
#[utoipa::path(tag = "admin", request_body = LoginRequest, responses(
    (status = OK, body = SessionView), (status = 401, body = ApiError, description = "bad_credentials"),
    (status = 429, body = ApiError, description = "locked_out, with retry_after_s")))]
#[post("/admin/login")]
async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    ip: ClientIp,
    body: ApiJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    check_same_site(&req)?;
    let body = body.into_inner();
    let session = state.admin.login(&body.username, body.password, ip.0).await?;
    signed_in(&state, session).await
}

/// The current session.
#[utoipa::path(tag = "admin", responses((status = OK, body = SessionView), (status = 401, body = ApiError)))]
#[get("/admin/session")]
async fn current_session(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let role = auth.role();
    let Some(cookie) = &auth.session_cookie else {
        return Err(ApiError::not_a_session());
    };
    let info = state.admin.session(cookie).await?.ok_or_else(ApiError::unauthenticated)?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(SessionView {
        user: info.username,
        csrf_token: info.csrf_token,
        expires_at: info.expires_at,
        sandbox: state.sandbox,
        role,
        permissions: permission_codes(role, auth.scope()),
        scope: scope_ids(auth.scope()),
    }))
}

/// Signs out.
#[utoipa::path(tag = "admin", responses((status = NO_CONTENT)))]
#[post("/admin/logout")]
async fn logout(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
) -> Result<HttpResponse, ApiError> {
    if let Some(cookie) = &auth.session_cookie {
        state.admin.logout(cookie, ip.0).await?;
    }
    let mut gone = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish();
    gone.make_removal();
    Ok(HttpResponse::NoContent().cookie(gone).finish())
}

/// Changes the signed-in admin's password; other sessions of that admin end.
#[utoipa::path(tag = "admin", request_body = PasswordChange, responses((status = NO_CONTENT), (status = 422, body = ApiError)))]
#[post("/admin/password")]
async fn change_password(
    state: web::Data<AppState>,
    auth: Authenticated,
    ip: ClientIp,
    body: ApiJson<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let Principal::Session { username, .. } = &auth.principal else {
        return Err(ApiError::forbidden("change passwords on the page, signed in as that admin"));
    };
    let body = body.into_inner();
    state
        .admin
        .change_password(
            username,
            body.current_password,
            body.new_password,
            auth.session_cookie.as_deref(),
            ip.0,
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who is calling, their role and its permissions.
#[utoipa::path(tag = "admin", responses((status = OK, body = Me), (status = 401, body = ApiError)))]
#[get("/me")]
async fn me(auth: Authenticated) -> HttpResponse {
    let role = auth.role();
    let kind = match auth.principal {
        Principal::Session { .. } => "session",
        Principal::ApiToken { .. } => "api_token",
    };
    HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(Me {
        user: auth.principal.admin().map(str::to_string),
        kind,
        role,
        role_title: role.title(),
        permissions: permission_codes(role, auth.scope()),
        scope: scope_ids(auth.scope()),
    })
}

/// The admins.
#[utoipa::path(tag = "admin", responses((status = OK, body = UserList)))]
#[get("/admin/users")]
async fn list_users(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<UserList>, ApiError> {
    let items = views::list(&state.admin.list_users().await?);
    Ok(web::Json(UserList { total: items.len() as u64, items }))
}

/// Adds an admin.
#[utoipa::path(tag = "admin", request_body = NewUser, responses((status = CREATED, body = UserInfo), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
#[post("/admin/users")]
async fn create_user(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<NewUser>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let user =
        state.admin.create_user(auth.actor(), &body.username, body.password, body.role).await?;
    Ok(HttpResponse::Created().json(UserInfo::from(&user)))
}

/// Gives an admin another role (there is always at least one Owner); audited.
#[utoipa::path(tag = "admin", params(("username" = String, Path)), request_body = RoleChange, responses((status = OK, body = UserInfo), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
#[put("/admin/users/{username}/role")]
async fn set_role(
    state: web::Data<AppState>,
    auth: Authenticated,
    username: web::Path<String>,
    body: ApiJson<RoleChange>,
) -> Result<web::Json<UserInfo>, ApiError> {
    let user = state.admin.set_role(auth.actor(), &username, body.role).await?;
    Ok(web::Json(UserInfo::from(&user)))
}

/// Limits an admin to some server tokens, or lifts the limit (`tokens` null); there is
/// always an Owner with no scope. Audited.
#[utoipa::path(tag = "admin", params(("username" = String, Path)), request_body = ScopeChange, responses((status = OK, body = UserInfo), (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
#[put("/admin/users/{username}/scope")]
async fn set_scope(
    state: web::Data<AppState>,
    auth: Authenticated,
    username: web::Path<String>,
    body: ApiJson<ScopeChange>,
) -> Result<web::Json<UserInfo>, ApiError> {
    let scope = match body.into_inner().tokens {
        Some(ids) => known_tokens(&state, "tokens", ids).await?,
        None => Scope::All,
    };
    let user = state.admin.set_scope(auth.actor(), &username, scope).await?;
    Ok(web::Json(UserInfo::from(&user)))
}

/// A scope of server token ids, each one a token the appliance has.
async fn known_tokens(
    state: &AppState,
    field: &'static str,
    ids: Vec<String>,
) -> Result<Scope, ApiError> {
    let known = state.tokens.list().await?;
    let mut scope = std::collections::BTreeSet::new();
    for id in ids {
        let id = TokenId::parse(&id)?;
        if !known.iter().any(|t| t.id == id) {
            return Err(ApiError::validation(
                field,
                format!("there is no server token {id}; use the ids GET /api/v1/tokens lists"),
            ));
        }
        scope.insert(id);
    }
    Ok(Scope::Tokens(scope))
}

/// Removes an admin (not yourself, not the last one).
#[utoipa::path(tag = "admin", params(("username" = String, Path)), responses((status = NO_CONTENT), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
#[delete("/admin/users/{username}")]
async fn delete_user(
    state: web::Data<AppState>,
    auth: Authenticated,
    username: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.admin.delete_user(auth.actor(), &username).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// API tokens (never their secrets): all of them for roles that see the admins, one's own
/// otherwise.
#[utoipa::path(tag = "admin", responses((status = OK, body = TokenList)))]
#[get("/admin/api-tokens")]
async fn list_tokens(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<web::Json<TokenList>, ApiError> {
    let mut all = state.admin.list_api_tokens().await?;
    if !auth.holds(Permission::AdminsRead) {
        let mine = auth.principal.admin().map(str::to_ascii_lowercase);
        all.retain(|t| {
            mine.is_some() && t.owner_admin.as_ref().map(|o| o.to_ascii_lowercase()) == mine
        });
    }
    let items = views::list(&all);
    Ok(web::Json(TokenList { total: items.len() as u64, items }))
}

/// Creates an API token for a script; the token is in this response only.
#[utoipa::path(tag = "admin", request_body = NewToken, responses((status = CREATED, body = CreatedToken), (status = 422, body = ApiError)))]
#[post("/admin/api-tokens")]
async fn create_token(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<NewToken>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let scope = match body.scope {
        Some(ids) => Some(known_tokens(&state, "scope", ids).await?),
        None => None,
    };
    let created =
        state.admin.create_api_token_for(&auth.principal, &body.name, body.role, scope).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(CreatedToken { info: (&created.info).into(), token: created.token.expose().clone() }))
}

/// Revokes an API token.
#[utoipa::path(tag = "admin", params(("id" = String, Path)), responses((status = NO_CONTENT), (status = 404, body = ApiError)))]
#[delete("/admin/api-tokens/{id}")]
async fn revoke_token(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.admin.revoke_api_token(&auth.principal, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(setup_state)
        .service(setup)
        .service(login)
        .service(current_session)
        .service(me)
        .service(logout)
        .service(change_password)
        .service(list_users)
        .service(create_user)
        .service(delete_user)
        .service(set_role)
        .service(set_scope)
        .service(list_tokens)
        .service(create_token)
        .service(revoke_token);
}
