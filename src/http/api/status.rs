//! `/api/v1/status`: version, uptime, counts, the banners every page shows, and how the
//! appliance reaches Apple (so a test server or a proxy is never in use unnoticed).

use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::http::state::AppState;
use crate::tls::TlsMode;
use actix_web::{get, web};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Counts {
    pub admins: u64,
    pub api_tokens: u64,
    pub audit_entries: u64,
    pub tokens: u64,
    pub devices: u64,
}

/// Something that needs the admin, shown at the top of every page.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct Banner {
    /// `info`, `warning` or `error`.
    pub level: String,
    pub code: String,
    pub message: String,
    /// Where the fix is, as a page path.
    pub link: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Status {
    pub version: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    pub uptime_s: i64,
    pub sandbox: bool,
    pub counts: Counts,
    pub banners: Vec<Banner>,
    /// The DEP API and APNs in use, the roots trusted for them and the proxy; `notices` lists
    /// every setting that is not the default.
    pub apple_services: super::views::AppleServices,
    /// The daily backup (saved on Settings, or `[backup]` in the configuration file); `null`
    /// when none is set up
    /// or for an admin limited to some server tokens.
    pub backup: Option<BackupStatus>,
    /// Whether commands and uploaded profiles are checked against Apple's schemas.
    pub schema_checks: SchemaChecks,
}

/// Apple's schemas in use (`[mdm] schemas_dir`), or the notice that the checks are for shape
/// only.
#[derive(Serialize, ToSchema)]
pub struct SchemaChecks {
    pub enabled: bool,
    /// The checkout, for an admin not limited to some server tokens.
    pub dir: Option<String>,
    /// Set while the checks are off: what is checked, and the key that turns them on.
    pub notice: Option<String>,
}

/// Where the daily backups go, when the next runs and how the last went.
#[derive(Serialize, ToSchema)]
pub struct BackupStatus {
    pub directory: String,
    #[serde(with = "time::serde::rfc3339")]
    pub next_at: OffsetDateTime,
    pub last: Option<super::views::LastBackup>,
}

/// Version, uptime, counts and banners.
#[utoipa::path(tag = "status", responses((status = OK, body = Status), (status = 401, body = crate::http::error::ApiError)))]
#[get("/status")]
async fn status(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<web::Json<Status>, ApiError> {
    let now = state.clock.now();
    let scope = auth.scope();
    let mut devices = state.devices.counts().await?;
    devices.by_token.retain(|token, _| scope.allows(token.as_str()));
    let mut tokens = state.tokens.list().await?;
    scope.retain(&mut tokens, |t| t.id.as_str());
    // Organisation-wide counts stay 0 for an admin limited to some server tokens.
    let org_wide = scope.is_all();
    let counts = Counts {
        admins: if org_wide { state.admin.list_users().await?.len() as u64 } else { 0 },
        api_tokens: if org_wide { state.admin.count_active_api_tokens().await? } else { 0 },
        audit_entries: if org_wide { state.audit.count().await? } else { 0 },
        tokens: tokens.len() as u64,
        devices: devices.by_token.values().sum(),
    };
    let mut banners = banners(&state, now);
    for (level, code, message, link) in state.tokens.banners().await? {
        if scope.allows(token_of_link(&link)) {
            banners.push(Banner { level, code, message, link: Some(link) });
        }
    }
    if org_wide {
        if let Some((level, code, message, link)) = state.push.status().await?.banner() {
            banners.push(Banner { level, code, message, link: Some(link) });
        }
        for (level, code, message, link) in state.profiles.banners().await? {
            banners.push(Banner { level, code, message, link: Some(link) });
        }
        banners.extend(alert_banners(&state).await?);
        banners.extend(tls_held_banner(&state).await?);
    }
    let mut backup = None;
    if let Some(b) = state.backups.as_ref().filter(|_| org_wide)
        && let Some(plan) = b.plan().await.map_err(|e| ApiError::internal(&e))?
    {
        backup = Some(BackupStatus {
            directory: plan.directory.display().to_string(),
            next_at: crate::backup::scheduled::next_at(now, plan.at),
            last: b.last().await.map_err(|e| ApiError::internal(&e))?.as_ref().map(Into::into),
        });
    }
    if let Some(last) = backup.as_ref().and_then(|b| b.last.as_ref()).filter(|l| !l.ok) {
        banners.push(Banner {
            level: "error".into(),
            code: "backup_failed".into(),
            message: format!("The daily backup failed at {}: {}", last.at, last.message),
            link: Some("/admin/settings#backups".into()),
        });
    }
    for t in &tokens {
        let Ok(s) = state.sync.status(&t.id, false).await else { continue };
        if let Some(run) = &s.last_run
            && run.outcome == crate::sync::RunOutcome::Failed
            && s.consecutive_failures >= 2
            && t.state != crate::tokens::ExpiryState::Broken
        {
            banners.push(Banner {
                level: "warning".into(),
                code: "sync_failing".into(),
                message: format!(
                    "Sync of \"{}\" has failed {} times in a row: {}",
                    t.server_name, s.consecutive_failures, run.message
                ),
                link: Some(format!("/admin/tokens/{}#token-sync", t.id)),
            });
        }
    }
    Ok(web::Json(Status {
        version: crate::version().to_string(),
        started_at: state.started_at,
        uptime_s: (now - state.started_at).whole_seconds(),
        sandbox: state.sandbox,
        counts,
        banners,
        apple_services: (&*state.apple_services).into(),
        backup,
        schema_checks: SchemaChecks {
            enabled: state.mdm.schemas().notice().is_none(),
            dir: state.mdm.schemas().dir().filter(|_| org_wide).map(|d| d.display().to_string()),
            notice: state.mdm.schemas().notice().map(str::to_string),
        },
    }))
}

/// The token id of a token banner's link, `/admin/tokens/{id}` with an optional `#fragment`
/// (`#renew`): the scope check must not see the fragment as part of the id.
fn token_of_link(link: &str) -> &str {
    let path = link.split(['#', '?']).next().unwrap_or_default();
    path.strip_prefix("/admin/tokens/").unwrap_or_default()
}

/// The alerts no other module already shows a banner for (tokens, the push certificate and
/// sync have their own), and alert e-mails that are failing to send.
async fn alert_banners(state: &AppState) -> Result<Vec<Banner>, ApiError> {
    use crate::alerts::AlertKind as K;
    let mut out = Vec::new();
    for a in state.alerts.active().await? {
        if matches!(
            a.kind,
            K::DiskFull | K::CertificateRenewal | K::EnrollmentRefusals | K::SetupBlocked
        ) {
            let code = a.kind.code().to_string();
            out.push(Banner {
                level: a.severity,
                code,
                message: a.summary,
                link: Some(a.fix_path),
            });
        }
    }
    if let Some((_, error)) = state.alerts.failing_mail().await?.into_iter().next() {
        out.push(Banner {
            level: "warning".into(),
            code: "alert_mail_failing".into(),
            message: format!("Alert e-mails are not getting through and are retried: {error}"),
            link: Some("/admin/integrations#alerts".into()),
        });
    }
    Ok(out)
}

fn banners(state: &AppState, now: OffsetDateTime) -> Vec<Banner> {
    let mut out = Vec::new();
    // A service that is not Apple's is worth a banner on every page outside the sandbox (whose
    // simulators are the point): devices and tokens from Apple Business Manager do not work
    // there. The proxy and extra roots are ordinary site settings, listed on Settings only.
    if !state.sandbox {
        for n in &state.apple_services.notices {
            if matches!(n.code.as_str(), "dep_api_not_apple" | "apns_not_apple") {
                out.push(Banner {
                    level: "warning".into(),
                    code: n.code.clone(),
                    message: format!(
                        "adebox is not talking to Apple. {} — remove that key from the configuration file and restart to use Apple's service.",
                        n.message
                    ),
                    link: Some("/admin/settings#apple-services".into()),
                });
            }
        }
    }
    let tls = state.tls.info();
    if let Some(broken) = &tls.rule_break {
        out.push(Banner {
            level: "error".into(),
            code: "tls_certificate_breaks_apple_rules".into(),
            message: format!(
                "The appliance's TLS certificate breaks Apple's rule \"{}\": {}. Install a certificate that meets it (tls.cert_file in the configuration file, or Settings).",
                broken.rule, broken.message
            ),
            link: Some("/admin/settings#tls".into()),
        });
    }
    if let Some(error) = state.tls_acme.as_ref().and_then(|a| {
        let s = a.status();
        s.last_error.map(|e| (e, s.next_attempt_at))
    }) {
        let (error, next) = error;
        out.push(Banner {
            level: "error".into(),
            code: "tls_acme_failing".into(),
            message: format!(
                "The appliance's certificate could not be obtained from the ACME CA: {}. adebox tries again{}; check [tls.acme] in the configuration file and that the CA reaches this appliance on port 80.",
                error.trim_end_matches('.'),
                next.map(|n| format!(" at {n}")).unwrap_or_default()
            ),
            link: Some("/admin/settings#tls".into()),
        });
    }
    if tls.mode != TlsMode::SelfManaged && tls.mode != TlsMode::Acme {
        let left = tls.server.not_after - now;
        if left < time::Duration::days(30) {
            out.push(Banner {
                level: if left < time::Duration::days(7) { "error" } else { "warning" }.into(),
                code: "tls_certificate_expiring".into(),
                message: format!(
                    "The appliance's TLS certificate (your own) expires on {}; install a renewed one or switch back to the self-managed certificate.",
                    tls.server.not_after.date()
                ),
                link: Some("/admin/settings#tls".into()),
            });
        }
    }
    out
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(status);
}

/// The banner every page shows while a certificate from the configuration file is held.
async fn tls_held_banner(state: &AppState) -> Result<Option<Banner>, ApiError> {
    let Some(mode) = state.tls.held() else { return Ok(None) };
    let impact = state.profiles.all_profiles_impact().await?;
    Ok(Some(Banner {
        level: "warning".into(),
        code: "tls_switch_held".into(),
        message: format!(
            "The configuration file asks for the certificate of {}. Serving it changes what the enrollment profiles pin: every profile is defined again at Apple and {} devices are re-assigned. The self-managed certificate is served until you confirm on Settings (or set tls.confirm_reassign = true).",
            crate::tls::describe_source(mode),
            impact.devices_to_reassign
        ),
        link: Some("/admin/settings#tls".into()),
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_token_of_a_banner_link_ignores_the_fragment() {
        assert_eq!(super::token_of_link("/admin/tokens/t-1#renew"), "t-1");
        assert_eq!(super::token_of_link("/admin/tokens/t-1"), "t-1");
        assert_eq!(super::token_of_link("/admin/settings#tls"), "");
    }
}
