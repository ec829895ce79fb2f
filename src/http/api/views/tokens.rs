//! Views of the Apple server tokens and their pending keys (`/api/v1/tokens/…`).

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// How a token stands, for the badge on the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryState {
    Ok,
    /// Less than 30 days left.
    Expiring,
    Expired,
    /// Apple refuses it (revoked, superseded, terms not accepted): the admin must act.
    Broken,
}

impl From<&crate::tokens::ExpiryState> for ExpiryState {
    fn from(r: &crate::tokens::ExpiryState) -> ExpiryState {
        match r {
            crate::tokens::ExpiryState::Ok => ExpiryState::Ok,
            crate::tokens::ExpiryState::Expiring => ExpiryState::Expiring,
            crate::tokens::ExpiryState::Expired => ExpiryState::Expired,
            crate::tokens::ExpiryState::Broken => ExpiryState::Broken,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TokenView {
    #[schema(value_type = String)]
    pub id: crate::tokens::TokenId,
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

impl From<&crate::tokens::TokenView> for TokenView {
    fn from(r: &crate::tokens::TokenView) -> TokenView {
        TokenView {
            id: r.id.clone(),
            server_name: r.server_name.clone(),
            server_uuid: r.server_uuid.clone(),
            org_name: r.org_name.clone(),
            org_email: r.org_email.clone(),
            admin_id: r.admin_id.clone(),
            apple_id: r.apple_id.clone(),
            expires_at: r.expires_at,
            days_left: r.days_left,
            state: (&r.state).into(),
            problem: r.problem.as_ref().map(Into::into),
            added_at: r.added_at,
            renewed_at: r.renewed_at,
            environment: r.environment.clone(),
            key_fingerprint_sha256: r.key_fingerprint_sha256.clone(),
        }
    }
}

/// A key pair waiting for its token.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PendingKeyInfo {
    pub id: String,
    pub fingerprint_sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub created_by: String,
    /// The token this key will renew, if it was made for a renewal.
    #[schema(value_type = Option<String>)]
    pub for_token: Option<crate::tokens::TokenId>,
}

impl From<&crate::tokens::PendingKeyInfo> for PendingKeyInfo {
    fn from(r: &crate::tokens::PendingKeyInfo) -> PendingKeyInfo {
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
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct Blocker {
    /// `devices`, `default_profile` or `profiles`.
    pub kind: String,
    pub count: u64,
    /// Plain words: what it is and how to clear it.
    pub message: String,
}

impl From<&crate::tokens::Blocker> for Blocker {
    fn from(r: &crate::tokens::Blocker) -> Blocker {
        Blocker { kind: r.kind.clone(), count: r.count, message: r.message.clone() }
    }
}

/// The last problem Apple reported for a token.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, ToSchema)]
pub struct TokenProblem {
    /// Apple's code (`T_C_NOT_SIGNED`, `token_rejected`, …) or ours.
    pub code: String,
    /// Plain words, with what to do.
    pub message: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Whether the token cannot work until the admin acts (revoked, terms not accepted).
    pub blocking: bool,
}

impl From<&crate::tokens::TokenProblem> for TokenProblem {
    fn from(r: &crate::tokens::TokenProblem) -> TokenProblem {
        TokenProblem {
            code: r.code.clone(),
            message: r.message.clone(),
            at: r.at,
            blocking: r.blocking,
        }
    }
}
