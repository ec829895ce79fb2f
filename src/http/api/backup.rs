//! `/api/v1/settings/backup…`: the daily backup's schedule as Settings edits it (directory,
//! time, retention, a passphrase or an age recipient), the last result and the next run, and
//! "Back up now". The passphrase is write-only: answers say only whether one is saved.
//! A schedule saved here wins over `[backup]` of the configuration file until it is removed.

use super::views::{LastBackup, Source};
use crate::audit::{Action, NewEntry, Outcome};
use crate::backup::BackupError;
use crate::backup::schedule::{PlanSeal, ScheduleInput};
use crate::backup::scheduled::Scheduled;
use crate::config::Retention;
use crate::crypto::Secret;
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::json::ApiJson;
use crate::http::state::AppState;
use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// The backup schedule in effect, as Settings shows it (never the passphrase).
#[derive(Serialize, ToSchema)]
pub struct BackupSettings {
    /// `page` (saved here), `file` (`[backup]` of the configuration file), or null: no backup.
    pub source: Option<Source>,
    /// Whether the configuration file has a `[backup]` (in effect again when the page's
    /// schedule is removed).
    pub file_configured: bool,
    pub directory: Option<String>,
    /// `HH:MM`, UTC.
    pub time: Option<String>,
    pub keep: Option<u32>,
    pub keep_days: Option<u32>,
    /// `passphrase` (saved here, sealed), `passphrase_file` or `recipient`.
    pub seal: Option<String>,
    pub passphrase_file: Option<String>,
    pub recipient: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub changed_at: Option<OffsetDateTime>,
    pub changed_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub next_at: Option<OffsetDateTime>,
    pub last: Option<LastBackup>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveBackup {
    /// An absolute path the adebox user may write (created 0700 if missing).
    pub directory: String,
    /// `HH:MM`, UTC.
    pub time: String,
    /// Keep the newest N backups (1–1000), or
    #[serde(default)]
    pub keep: Option<u32>,
    /// the backups of the last N days (1–3650); neither: keep 7.
    #[serde(default)]
    pub keep_days: Option<u32>,
    /// At least 12 characters; left out, the saved one is kept. Not with `recipient`.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password)]
    pub passphrase: Option<Secret<String>>,
    /// An age public key (`age1…`): the backups are encrypted to it instead.
    #[serde(default)]
    pub recipient: Option<String>,
}

fn schedule(state: &AppState) -> Result<&Scheduled, ApiError> {
    state.backups.as_ref().ok_or_else(|| ApiError::internal(&"the backup schedule is not running"))
}

fn refused(e: BackupError) -> ApiError {
    match e {
        BackupError::Schedule { field, .. } => ApiError::validation(field, e.to_string()),
        BackupError::Recipient(_) => ApiError::validation("recipient", e.to_string()),
        other => ApiError::internal(&other),
    }
}

async fn view(state: &AppState) -> Result<BackupSettings, ApiError> {
    let s = schedule(state)?;
    let plan = s.plan().await.map_err(|e| ApiError::internal(&e))?;
    let last = s.last().await.map_err(|e| ApiError::internal(&e))?;
    let now = state.clock.now();
    let mut v = BackupSettings {
        source: None,
        file_configured: s.file_config().is_some(),
        directory: None,
        time: None,
        keep: None,
        keep_days: None,
        seal: None,
        passphrase_file: None,
        recipient: None,
        changed_at: None,
        changed_by: None,
        next_at: None,
        last: last.as_ref().map(Into::into),
    };
    let Some(p) = plan else { return Ok(v) };
    v.source = Some(p.source.into());
    v.directory = Some(p.directory.display().to_string());
    v.time = Some(format!("{:02}:{:02}", p.at.0, p.at.1));
    (v.keep, v.keep_days) = match p.retention {
        Retention::Count(n) => (Some(n), None),
        Retention::Days(d) => (None, Some(d)),
    };
    v.seal = Some(
        match &p.seal {
            PlanSeal::PassphraseFile(f) => {
                v.passphrase_file = Some(f.display().to_string());
                "passphrase_file"
            }
            PlanSeal::Passphrase(_) => "passphrase",
            PlanSeal::Recipient(r) => {
                v.recipient = Some(r.clone());
                "recipient"
            }
        }
        .into(),
    );
    if let Some((at, by)) = p.changed {
        (v.changed_at, v.changed_by) = (Some(at), Some(by));
    }
    v.next_at = Some(crate::backup::scheduled::next_at(now, p.at));
    Ok(v)
}

/// The backup schedule in effect, the next run and the last result.
#[utoipa::path(tag = "settings", responses((status = OK, body = BackupSettings)))]
#[get("/settings/backup")]
async fn show(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<BackupSettings>, ApiError> {
    Ok(web::Json(view(&state).await?))
}

/// Saves the schedule (it wins over the configuration file's); 422 names the field and the
/// fix.
#[utoipa::path(tag = "settings", request_body = SaveBackup, responses((status = OK, body = BackupSettings), (status = 422, body = ApiError)))]
#[put("/settings/backup")]
async fn save(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<SaveBackup>,
) -> Result<web::Json<BackupSettings>, ApiError> {
    let b = body.into_inner();
    let input = ScheduleInput {
        directory: b.directory,
        time: b.time,
        keep: b.keep,
        keep_days: b.keep_days,
        passphrase: b.passphrase,
        recipient: b.recipient,
    };
    let actor = auth.actor();
    schedule(&state)?.set(&input, &actor.label()).await.map_err(refused)?;
    let v = view(&state).await?;
    let sealed = match &v.recipient {
        Some(r) => format!("encrypted to {r}"),
        None => "sealed under the saved passphrase".to_string(),
    };
    let retention = match (v.keep, v.keep_days) {
        (_, Some(d)) => format!("{d} days"),
        (n, _) => format!("{} backups", n.unwrap_or_default()),
    };
    let entry =
        NewEntry::new(state.clock.now(), actor, Action::BackupScheduleSet, Outcome::Success)
            .target(v.directory.clone().unwrap_or_default())
            .detail(format!(
                "daily at {} UTC, keeping {retention}, {sealed}",
                v.time.clone().unwrap_or_default()
            ));
    state.audit.record(entry).await?;
    Ok(web::Json(v))
}

/// Removes the schedule saved here: the configuration file's `[backup]`, if any, is in effect
/// again.
#[utoipa::path(tag = "settings", responses((status = OK, body = BackupSettings), (status = 404, body = ApiError)))]
#[delete("/settings/backup")]
async fn remove(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<web::Json<BackupSettings>, ApiError> {
    if !schedule(&state)?.clear().await.map_err(refused)? {
        return Err(ApiError::not_found_because("no backup schedule is saved on the page"));
    }
    let entry = NewEntry::new(
        state.clock.now(),
        auth.actor(),
        Action::BackupScheduleRemove,
        Outcome::Success,
    );
    state.audit.record(entry).await?;
    Ok(web::Json(view(&state).await?))
}

/// Writes a backup now with the schedule in effect and prunes; answers with its result.
#[utoipa::path(tag = "settings", responses((status = OK, body = LastBackup)))]
#[post("/settings/backup/run")]
async fn run_now(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let last = schedule(&state)?.run_now().await;
    let outcome = if last.ok { Outcome::Success } else { Outcome::Failure };
    let entry = NewEntry::new(state.clock.now(), auth.actor(), Action::BackupRun, outcome)
        .target(last.file.clone().unwrap_or_default())
        .detail(last.message.clone());
    state.audit.record(entry).await?;
    Ok(HttpResponse::Ok().json(LastBackup::from(&last)))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(show).service(save).service(remove).service(run_now);
}
