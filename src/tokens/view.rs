//! What the API shows of tokens and pending keys (never a secret).

use super::APPLE_BASE_URL;
use super::records::{PendingKeyRecord, TokenProblem, TokenRecord};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

/// Warn this long before a token expires (Apple tokens last a year).
pub const EXPIRY_WARNING: Duration = Duration::days(30);

/// How a token stands, for the badge on the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryState {
    Ok,
    /// Less than 30 days left.
    Expiring,
    Expired,
    /// Apple refuses it (revoked, superseded, terms not accepted): the admin must act.
    Broken,
}

#[derive(Clone, Debug, Serialize)]
pub struct TokenView {
    pub id: super::TokenId,
    /// The MDM server's name in Apple Business Manager.
    pub server_name: String,
    pub server_uuid: String,
    pub org_name: Option<String>,
    pub org_email: Option<String>,
    /// The Apple Account that generated the token, as Apple reports it.
    pub admin_id: Option<String>,
    /// The Apple Account the admin entered when uploading it.
    pub apple_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Whole days left (negative once expired).
    pub days_left: i64,
    pub state: ExpiryState,
    pub problem: Option<TokenProblem>,
    #[serde(with = "time::serde::rfc3339")]
    pub added_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub renewed_at: Option<OffsetDateTime>,
    /// `apple` (Apple's DEP API), or `simulator` for any other: the sandbox's simulator, or a
    /// test server named by `apple.dep_url`.
    pub environment: String,
    /// SHA-256 of the public-key certificate Apple encrypts this token to.
    pub key_fingerprint_sha256: String,
}

impl TokenView {
    pub(super) fn from_record(r: &TokenRecord, now: OffsetDateTime) -> TokenView {
        let expires_at = r.credentials.access_token_expiry;
        let left = expires_at - now;
        let state = if left <= Duration::ZERO {
            ExpiryState::Expired
        } else if r.problem.as_ref().is_some_and(|p| p.blocking) {
            ExpiryState::Broken
        } else if left < EXPIRY_WARNING {
            ExpiryState::Expiring
        } else {
            ExpiryState::Ok
        };
        let fingerprint = crate::crypto::ca::pem_to_der(&r.cert_pem)
            .map(|d| crate::crypto::ca::fingerprint_sha256(&d))
            .unwrap_or_default();
        TokenView {
            id: r.id.clone(),
            server_name: r.account.server_name.clone(),
            server_uuid: r.account.server_uuid.clone(),
            org_name: r.account.org_name.clone(),
            org_email: r.account.org_email.clone(),
            admin_id: r.account.admin_id.clone(),
            apple_id: r.apple_id.clone(),
            expires_at,
            days_left: left.whole_days(),
            state,
            problem: r.problem.clone(),
            added_at: r.added_at,
            renewed_at: r.renewed_at,
            environment: if r.base_url == APPLE_BASE_URL { "apple" } else { "simulator" }.into(),
            key_fingerprint_sha256: fingerprint,
        }
    }
}

/// A key pair waiting for its token.
#[derive(Clone, Debug, Serialize)]
pub struct PendingKeyInfo {
    pub id: String,
    pub fingerprint_sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub created_by: String,
    /// The token this key will renew, if it was made for a renewal.
    pub for_token: Option<super::TokenId>,
}

impl From<&PendingKeyRecord> for PendingKeyInfo {
    fn from(r: &PendingKeyRecord) -> Self {
        PendingKeyInfo {
            id: r.id.clone(),
            fingerprint_sha256: r.fingerprint_sha256.clone(),
            created_at: r.created_at,
            created_by: r.created_by.clone(),
            for_token: r.for_token.clone(),
        }
    }
}

/// Something that keeps a token from being deleted.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Blocker {
    /// `devices`, `default_profile` or `profiles`.
    pub kind: String,
    pub count: u64,
    /// Plain words: what it is and how to clear it.
    pub message: String,
}

/// What still uses a token: counted by the modules that hold the uses, worded here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenUse {
    /// Devices Apple still has assigned to the token's MDM server (as of the last sync).
    pub devices: u64,
    /// Profiles that are the token's default for new devices.
    pub default_profiles: u64,
}

impl TokenUse {
    /// Each use that keeps the token from being deleted, with how to clear it.
    pub fn blockers(&self) -> Vec<Blocker> {
        let (defaults, n) = (self.default_profiles, self.devices);
        let mut blockers = Vec::new();
        if defaults > 0 {
            blockers.push(Blocker {
                kind: "default_profile".into(),
                count: defaults,
                message: format!(
                    "it has {defaults} default profile{}; clear them on the Profiles page first",
                    if defaults == 1 { "" } else { "s" }
                ),
            });
        }
        if n > 0 {
            blockers.push(Blocker {
                kind: "devices".into(),
                count: n,
                message: format!(
                    "{n} device{} still assigned to this MDM server in Apple Business Manager; release them or assign them to another MDM server there, then sync",
                    if n == 1 { " is" } else { "s are" }
                ),
            });
        }
        blockers
    }
}
