//! `/api/v1/profiles/…`: the skip-key catalog, profiles (list, get, create, validate, update,
//! delete, edit impact) and defaults per token and family. Thin: bodies go to `profiles` as
//! JSON values so that every field is checked there, field by field.

use super::views::{self, DefaultEntry, EditImpact, FieldIssue, ProfileView};
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::json::ApiJson;
use crate::http::state::AppState;
use crate::ids::{ProfileId, TokenId};
use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Availability {
    pub introduced: &'static str,
    pub deprecated: Option<&'static str>,
    pub removed: Option<&'static str>,
}

#[derive(Serialize, ToSchema)]
pub struct SkipKeyView {
    pub key: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub platforms: BTreeMap<&'static str, Availability>,
    pub always_skippable: bool,
    pub intune_name: Option<&'static str>,
    /// The screen's name in an admin's words ("Apple Pay"); Apple's key is secondary.
    pub screen: Option<&'static str>,
    /// What the user sees on it.
    pub user_sees: Option<&'static str>,
    /// Where the screen shows even when the profile hides it (Restore on macOS 15.4+).
    pub not_hideable: Vec<NotHideableView>,
}

#[derive(Serialize, ToSchema)]
pub struct NotHideableView {
    pub platform: &'static str,
    pub since: &'static str,
    pub source: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct SkipKeyList {
    pub items: Vec<SkipKeyView>,
    pub total: u64,
}

#[derive(Serialize, ToSchema)]
pub struct ProfileList {
    pub items: Vec<ProfileView>,
    pub total: u64,
}

#[derive(Serialize, ToSchema)]
pub struct ValidateOk {
    pub ok: bool,
    pub warnings: Vec<FieldIssue>,
}

#[derive(Serialize, ToSchema)]
pub struct DefaultList {
    pub items: Vec<DefaultEntry>,
}

#[derive(Deserialize, ToSchema)]
pub struct SetDefault {
    pub token_id: String,
    pub family: Option<String>,
    pub profile_id: Option<String>,
}

/// Apple's Setup Assistant screens a profile can hide.
#[utoipa::path(tag = "profiles", responses((status = OK, body = SkipKeyList)))]
#[get("/profiles/skip-keys")]
async fn skip_keys(_auth: Authenticated) -> web::Json<SkipKeyList> {
    let items: Vec<SkipKeyView> = crate::apple::skipkeys::all()
        .iter()
        .map(|k| SkipKeyView {
            key: k.key,
            title: k.title,
            description: k.description,
            platforms: k
                .platforms()
                .into_iter()
                .map(|(n, a)| {
                    (
                        n,
                        Availability {
                            introduced: a.introduced,
                            deprecated: a.deprecated,
                            removed: a.removed,
                        },
                    )
                })
                .collect(),
            always_skippable: k.always_skippable,
            intune_name: k.intune_name,
            screen: crate::profiles::screens::screen(k.key).map(|s| s.name),
            user_sees: crate::profiles::screens::screen(k.key).map(|s| s.user_sees),
            not_hideable: crate::profiles::screens::not_hideable(k.key)
                .into_iter()
                .map(|n| NotHideableView { platform: n.platform, since: n.since, source: n.source })
                .collect(),
        })
        .collect();
    web::Json(SkipKeyList { total: items.len() as u64, items })
}

/// Every profile with its per-token state, device count and defaults.
#[utoipa::path(tag = "profiles", responses((status = OK, body = ProfileList)))]
#[get("/profiles")]
async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<web::Json<ProfileList>, ApiError> {
    let mut profiles = state.profiles.list().await?;
    profiles.iter_mut().for_each(|p| narrow(&auth, p));
    let items = views::list(&profiles);
    Ok(web::Json(ProfileList { total: items.len() as u64, items }))
}

/// The defaults per token and family.
#[utoipa::path(tag = "profiles", responses((status = OK, body = DefaultList)))]
#[get("/profiles/defaults")]
async fn defaults(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<web::Json<DefaultList>, ApiError> {
    let mut items = state.profiles.defaults().await?;
    auth.scope().retain(&mut items, |d| d.token_id.as_str());
    Ok(web::Json(DefaultList { items: views::list(&items) }))
}

/// Sets or clears (`profile_id: null`) the default of a token or of one family of it.
#[utoipa::path(tag = "profiles", request_body = SetDefault, responses((status = OK, body = DefaultList), (status = 422, body = ApiError)))]
#[put("/profiles/defaults")]
async fn set_default(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<SetDefault>,
) -> Result<web::Json<DefaultList>, ApiError> {
    let b = body.into_inner();
    let token = TokenId::parse(&b.token_id)?;
    auth.require_token(&token)?;
    let profile = b.profile_id.as_deref().map(ProfileId::parse).transpose()?;
    let mut items = state.profiles.set_default(auth.actor(), &token, b.family, profile).await?;
    auth.scope().retain(&mut items, |d| d.token_id.as_str());
    Ok(web::Json(DefaultList { items: views::list(&items) }))
}

/// One profile, with the JSON adebox sends to Apple.
#[utoipa::path(tag = "profiles", params(("id" = String, Path)), responses((status = OK, body = ProfileView), (status = 400, body = ApiError, description = "not a profile id"), (status = 404, body = ApiError)))]
#[get("/profiles/{id}")]
async fn one(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<web::Json<ProfileView>, ApiError> {
    let id = ProfileId::parse(&id)?;
    let mut profile = state.profiles.get(&id).await?;
    narrow(&auth, &mut profile);
    Ok(web::Json(ProfileView::from(&profile)))
}

/// Creates a profile; 422 `validation` names every field at fault.
#[utoipa::path(tag = "profiles", request_body = Object, responses((status = CREATED, body = ProfileView), (status = 422, body = ApiError)))]
#[post("/profiles")]
async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    sign_in_usable(&state, &body).await?;
    let v = state.profiles.create(auth.actor(), body).await?;
    Ok(HttpResponse::Created().json(ProfileView::from(&v)))
}

/// Checks a profile without saving it: warnings, or 422 with every field at fault.
#[utoipa::path(tag = "profiles", request_body = Object, responses((status = OK, body = ValidateOk), (status = 422, body = ApiError)))]
#[post("/profiles/validate")]
async fn validate(
    state: web::Data<AppState>,
    _auth: Authenticated,
    body: ApiJson<serde_json::Value>,
) -> Result<web::Json<ValidateOk>, ApiError> {
    let body = body.into_inner();
    let warnings = state.profiles.validate(body.clone())?;
    sign_in_usable(&state, &body).await?;
    Ok(web::Json(ValidateOk { ok: true, warnings: views::list(&warnings) }))
}

/// Saves an edit as a new revision (defined anew at Apple; devices that had it get it again).
#[utoipa::path(tag = "profiles", params(("id" = String, Path)), request_body = Object, responses((status = OK, body = ProfileView), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
#[put("/profiles/{id}")]
async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<serde_json::Value>,
) -> Result<web::Json<ProfileView>, ApiError> {
    let id = ProfileId::parse(&id)?;
    require_all_its_tokens(&state, &auth, &id).await?;
    let body = body.into_inner();
    sign_in_usable(&state, &body).await?;
    let v = state.profiles.update(auth.actor(), &id, body).await?;
    Ok(web::Json(ProfileView::from(&v)))
}

/// What saving an edit would do: devices re-assigned, and how many are already set up.
#[utoipa::path(tag = "profiles", params(("id" = String, Path)), responses((status = OK, body = EditImpact), (status = 404, body = ApiError)))]
#[get("/profiles/{id}/edit-impact")]
async fn edit_impact(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<String>,
) -> Result<web::Json<EditImpact>, ApiError> {
    let id = ProfileId::parse(&id)?;
    Ok(web::Json(EditImpact::from(&state.profiles.edit_impact(&id).await?)))
}

/// Deletes a profile; 409 `profile_in_use` with `blockers` while a default or a device uses it.
#[utoipa::path(tag = "profiles", params(("id" = String, Path)), responses((status = NO_CONTENT), (status = 409, body = ApiError), (status = 404, body = ApiError)))]
#[delete("/profiles/{id}")]
async fn remove(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = ProfileId::parse(&id)?;
    require_all_its_tokens(&state, &auth, &id).await?;
    state.profiles.delete(auth.actor(), &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A profile as a scoped caller sees it: its state and defaults at their tokens only.
fn narrow(auth: &Authenticated, profile: &mut crate::profiles::ProfileView) {
    auth.scope().retain(&mut profile.tokens, |t| t.token_id.as_str());
    auth.scope().retain(&mut profile.defaults, |d| d.token_id.as_str());
}

/// A profile is shared by every token it is defined at or a default of: a scoped caller
/// edits or deletes it (or its setup steps) only when all of those are theirs. Answers 404
/// for a profile that does not exist.
pub(super) async fn require_all_its_tokens(
    state: &AppState,
    auth: &Authenticated,
    id: &ProfileId,
) -> Result<(), ApiError> {
    let profile = state.profiles.get(id).await?;
    if auth.scope().is_all() {
        return Ok(());
    }
    let tokens = profile.tokens.iter().map(|t| &t.token_id);
    for token in tokens.chain(profile.defaults.iter().map(|d| &d.token_id)) {
        auth.require_token(token)?;
    }
    Ok(())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    // Literal paths before `{id}`.
    cfg.service(skip_keys)
        .service(defaults)
        .service(set_default)
        .service(validate)
        .service(list)
        .service(create)
        .service(one)
        .service(update)
        .service(edit_impact)
        .service(remove);
}

/// A profile with user affinity needs a directory that can sign its users in: otherwise
/// every device on it would stop at the sign-in page. Asked here, where both are at hand
/// (profiles come before the directories in the module order).
async fn sign_in_usable(state: &AppState, body: &serde_json::Value) -> Result<(), ApiError> {
    if body.get("user_affinity").and_then(|v| v.as_str()) != Some("with_affinity") {
        return Ok(());
    }
    let source = body.pointer("/sign_in/source").and_then(|v| v.as_str()).unwrap_or("local");
    // An unknown source is the profile's own validation's to refuse, with its words.
    let Some(source) = crate::directory::Source::parse(source) else { return Ok(()) };
    match state.directory.usable(source).await? {
        Ok(()) => Ok(()),
        Err(fix) => Err(ApiError::validation(
            "sign_in.source",
            format!("users of a profile with user affinity sign in with a directory, and {fix}"),
        )),
    }
}
