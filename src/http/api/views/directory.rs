//! Views of the sign-in directories (`/api/v1/signin/ldap…`): the LDAP settings both ways and
//! the connection test's report.

use crate::directory::ldap as domain;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How adebox reaches and reads the directory (never the bind password).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LdapSettings {
    /// `ldaps://host[:636]` (TLS from the start) or `ldap://host[:389]`.
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS before anything is sent.
    #[serde(default)]
    pub starttls: bool,
    /// Allow `ldap://` without StartTLS: passwords then cross the network in clear text.
    #[serde(default)]
    pub allow_plain_bind: bool,
    /// The CA certificate(s) (PEM) the directory's certificate chains to; none: the system's.
    #[serde(default)]
    pub ca_pem: Option<String>,
    /// The service account that searches for users; empty: anonymous search.
    #[serde(default)]
    pub bind_dn: String,
    /// Where users are searched (subtree).
    pub user_base: String,
    /// The user search filter; `{username}` stands for the typed name, escaped.
    #[serde(default = "domain::default_user_filter")]
    pub user_filter: String,
    #[serde(default = "domain::default_display")]
    pub display_name_attribute: String,
    #[serde(default = "domain::default_mail")]
    pub mail_attribute: String,
    /// The user's attribute listing their groups' DNs (`memberOf`); empty: not read.
    #[serde(default = "domain::default_member_of")]
    pub member_of_attribute: String,
    /// Where groups are searched for the user as a member; none: no group search.
    #[serde(default)]
    pub group_base: Option<String>,
    /// The group search filter; `{dn}` is the user's DN, `{username}` the typed name.
    #[serde(default = "domain::default_group_filter")]
    pub group_filter: String,
    /// The group attribute a profile's allowed groups name (`cn`).
    #[serde(default = "domain::default_group_name")]
    pub group_name_attribute: String,
    #[serde(default = "domain::default_timeout")]
    pub connect_timeout_seconds: u64,
    #[serde(default = "domain::default_timeout")]
    pub operation_timeout_seconds: u64,
}

/// Copies a view to its stored record and back field by field, the list written once. Both
/// sides are destructured whole, so a field added to either without the other does not
/// compile; the two stay separate types, so the stored form never becomes the API contract.
macro_rules! same_fields {
    ($view:ident <-> $stored:path { $($f:ident),* $(,)? }) => {
        impl From<&$stored> for $view {
            fn from(s: &$stored) -> $view {
                let $stored { $($f),* } = s.clone();
                $view { $($f),* }
            }
        }

        impl From<$view> for $stored {
            fn from(s: $view) -> $stored {
                let $view { $($f),* } = s;
                $stored { $($f),* }
            }
        }
    };
}

same_fields!(LdapSettings <-> domain::LdapSettings {
    url,
    starttls,
    allow_plain_bind,
    ca_pem,
    bind_dn,
    user_base,
    user_filter,
    display_name_attribute,
    mail_attribute,
    member_of_attribute,
    group_base,
    group_filter,
    group_name_attribute,
    connect_timeout_seconds,
    operation_timeout_seconds,
});

/// One step of a connection test.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TestStep {
    /// `reach`, `tls`, `bind` or `search`.
    pub step: String,
    pub ok: bool,
    /// What worked, or what failed and what to check.
    pub detail: String,
}

/// A connection test, step by step; it stops at the first step that fails.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TestReport {
    pub ok: bool,
    pub steps: Vec<TestStep>,
}

impl From<&domain::TestReport> for TestReport {
    fn from(r: &domain::TestReport) -> TestReport {
        let steps = r.steps.iter().map(|s| TestStep {
            step: s.step.clone(),
            ok: s.ok,
            detail: s.detail.clone(),
        });
        TestReport { ok: r.ok, steps: steps.collect() }
    }
}
