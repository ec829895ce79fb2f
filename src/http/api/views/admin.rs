//! Views of the admin accounts and API tokens (`/api/v1/admin/…`); never a secret.

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// An admin as the API lists it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct UserInfo {
    pub username: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login_at: Option<OffsetDateTime>,
    /// `owner`, `operator`, `help_desk` or `auditor`.
    #[schema(value_type = String)]
    pub role: crate::admin::Role,
    /// The server token ids the admin is limited to; null when unscoped.
    pub scope: Option<Vec<String>>,
}

/// Token ids of a stored scope, as the API shows them.
fn ids(scope: &Option<std::collections::BTreeSet<crate::ids::TokenId>>) -> Option<Vec<String>> {
    scope.as_ref().map(|s| s.iter().map(|t| t.as_str().to_string()).collect())
}

impl From<&crate::admin::UserInfo> for UserInfo {
    fn from(r: &crate::admin::UserInfo) -> UserInfo {
        UserInfo {
            username: r.username.clone(),
            created_at: r.created_at,
            last_login_at: r.last_login_at,
            role: r.role,
            scope: ids(&r.scope),
        }
    }
}

/// An API token as listed (never the secret).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ApiTokenInfo {
    pub id: String,
    pub name: String,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// What the token may do: `owner`, `operator`, `help_desk` or `auditor`.
    #[schema(value_type = String)]
    pub role: crate::admin::Role,
    /// The admin whose role bounds the token; it stops working when they lose that role.
    pub owner_admin: Option<String>,
    /// The server token ids it is limited to (within its admin's scope); null: its admin's.
    pub scope: Option<Vec<String>>,
}

impl From<&crate::admin::ApiTokenInfo> for ApiTokenInfo {
    fn from(r: &crate::admin::ApiTokenInfo) -> ApiTokenInfo {
        ApiTokenInfo {
            id: r.id.clone(),
            name: r.name.clone(),
            created_by: r.created_by.clone(),
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
            role: r.role,
            owner_admin: r.owner_admin.clone(),
            scope: ids(&r.scope),
        }
    }
}
