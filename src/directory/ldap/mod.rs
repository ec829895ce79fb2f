//! The LDAP / Active Directory sign-in source: one directory per appliance, its settings kept
//! in `directory.ldap` (one row, [`ROW`]) with the service account's bind password sealed at
//! rest. A sign-in binds as the service account, searches the user with the filter template
//! (the typed name escaped per RFC 4515), requires exactly one entry, reads the groups, then
//! binds as that entry with the typed password ([`client`]). The settings' rules are here, so
//! a stored configuration is always one that can be used.

pub(super) mod client;
mod service;

pub use client::{TestReport, TestStep};
pub use service::TestSettings;

use super::DirectoryError;
use crate::store::{self, Sealed, SecretField, Table};
use redb::{ReadTransaction, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub(super) const LDAP: Table = store::table("directory.ldap");
/// The key of the one row.
const ROW: &[u8] = b"current";
/// Where the service account's password is sealed.
const BIND_PASSWORD: SecretField = SecretField::new("directory.ldap", "bind_password");

/// The longest sign-in may take, connecting included (Setup Assistant's user waits for it).
pub const MAX_TOTAL_TIMEOUT_SECONDS: u64 = 10;
/// LDAP sign-ins checked at once; past it the page answers "busy" (bounded work for
/// unauthenticated requests).
pub const MAX_CONCURRENT: usize = 16;

pub const DEFAULT_USER_FILTER: &str =
    "(|(uid={username})(sAMAccountName={username})(userPrincipalName={username}))";
pub const DEFAULT_GROUP_FILTER: &str = "(|(member={dn})(uniqueMember={dn})(memberUid={username}))";

// The defaults of the settings' optional fields, shared by the stored record and the API's
// view (`http::api::views::LdapSettings`) so a field left out means the same in both.
pub fn default_user_filter() -> String {
    DEFAULT_USER_FILTER.into()
}
pub fn default_group_filter() -> String {
    DEFAULT_GROUP_FILTER.into()
}
pub fn default_display() -> String {
    "displayName".into()
}
pub fn default_mail() -> String {
    "mail".into()
}
pub fn default_member_of() -> String {
    "memberOf".into()
}
pub fn default_group_name() -> String {
    "cn".into()
}
pub fn default_timeout() -> u64 {
    5
}

/// How adebox reaches and reads the directory (never the bind password).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    #[serde(default = "default_user_filter")]
    pub user_filter: String,
    #[serde(default = "default_display")]
    pub display_name_attribute: String,
    #[serde(default = "default_mail")]
    pub mail_attribute: String,
    /// The user's attribute listing their groups' DNs (`memberOf`); empty: not read.
    #[serde(default = "default_member_of")]
    pub member_of_attribute: String,
    /// Where groups are searched for the user as a member; none: no group search.
    #[serde(default)]
    pub group_base: Option<String>,
    /// The group search filter; `{dn}` is the user's DN, `{username}` the typed name.
    #[serde(default = "default_group_filter")]
    pub group_filter: String,
    /// The group attribute a profile's allowed groups name (`cn`).
    #[serde(default = "default_group_name")]
    pub group_name_attribute: String,
    #[serde(default = "default_timeout")]
    pub connect_timeout_seconds: u64,
    #[serde(default = "default_timeout")]
    pub operation_timeout_seconds: u64,
}

/// The parts of [`LdapSettings::url`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

impl LdapSettings {
    /// The URL's scheme, host and port (checked by [`check`]).
    pub fn endpoint(&self) -> Result<Endpoint, String> {
        let url = url::Url::parse(self.url.trim()).map_err(|e| format!("not a URL ({e})"))?;
        let tls = match url.scheme() {
            "ldaps" => true,
            "ldap" => false,
            other => return Err(format!("the scheme is \"{other}\"")),
        };
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or("it names no host")?;
        if !matches!(url.path(), "" | "/") || url.query().is_some() || !url.username().is_empty() {
            return Err("it holds more than a host and a port".into());
        }
        let port = url.port().unwrap_or(if tls { 636 } else { 389 });
        Ok(Endpoint { tls, host: host.trim_matches(['[', ']']).to_string(), port })
    }

    /// The whole time one sign-in may take.
    pub fn total_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(
            self.connect_timeout_seconds + self.operation_timeout_seconds,
        )
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> DirectoryError {
    DirectoryError::Validation { field, message: message.into() }
}

fn check_attribute(
    field: &'static str,
    value: &str,
    may_be_empty: bool,
) -> Result<(), DirectoryError> {
    if value.is_empty() && may_be_empty {
        return Ok(());
    }
    let ok = !value.is_empty()
        && value.len() <= 64
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ';' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!(
                "\"{value}\" is not an LDAP attribute name: use letters, digits and dashes, e.g. displayName"
            ),
        ))
    }
}

fn check_filter(field: &'static str, value: &str, needs: &[&str]) -> Result<(), DirectoryError> {
    if value.len() > 1024 || !needs.iter().any(|n| value.contains(n)) {
        return Err(invalid(
            field,
            format!(
                "the filter must name {} where the user goes, e.g. {}",
                needs.join(" or "),
                if field == "user_filter" { DEFAULT_USER_FILTER } else { DEFAULT_GROUP_FILTER }
            ),
        ));
    }
    let sample = value.replace("{username}", "alice").replace("{dn}", "uid=alice,dc=example");
    ldap3::parse_filter(&sample).map_err(|()| {
        invalid(field, format!("\"{value}\" is not an LDAP filter (RFC 4515): check the parentheses, e.g. {DEFAULT_USER_FILTER}"))
    })?;
    Ok(())
}

fn check_dn(field: &'static str, value: &str, may_be_empty: bool) -> Result<(), DirectoryError> {
    if value.len() > 1024 || (!may_be_empty && value.trim().is_empty()) {
        return Err(invalid(
            field,
            "give a distinguished name of at most 1024 characters, e.g. ou=people,dc=example,dc=org",
        ));
    }
    if !value.is_empty() && !value.contains('=') {
        return Err(invalid(
            field,
            format!(
                "\"{value}\" is not a distinguished name: write it as attribute=value pairs, e.g. ou=people,dc=example,dc=org"
            ),
        ));
    }
    Ok(())
}

/// Checks and trims `s`; `has_password` says whether a bind password is given or kept.
pub fn check(s: &mut LdapSettings, has_password: bool) -> Result<(), DirectoryError> {
    s.url = s.url.trim().to_string();
    let endpoint = s.endpoint().map_err(|why| {
        invalid("url", format!("\"{}\" is not an LDAP server URL: {why}; write ldaps://ldap.example.org (port 636) or ldap://ldap.example.org (port 389, with StartTLS)", s.url))
    })?;
    if endpoint.tls && s.starttls {
        return Err(invalid(
            "starttls",
            "ldaps:// is TLS from the start: untick StartTLS, or use ldap:// with StartTLS",
        ));
    }
    if !endpoint.tls && !s.starttls && !s.allow_plain_bind {
        return Err(invalid(
            "allow_plain_bind",
            "ldap:// without StartTLS sends every password in clear text: use ldaps://, tick StartTLS, or tick \"allow plain bind over cleartext\" if this network is trusted",
        ));
    }
    s.ca_pem = s.ca_pem.take().map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
    if let Some(pem) = &s.ca_pem {
        let why = if pem.len() > 64 * 1024 {
            Some("it is larger than 64 KiB".to_string())
        } else {
            crate::crypto::chain::pem_certificates(pem)
                .and_then(|ders| {
                    ders.iter().try_for_each(|d| {
                        crate::certinfo::describe(d).map(|_| ()).map_err(|e| e.message)
                    })
                })
                .err()
        };
        if let Some(why) = why {
            return Err(invalid(
                "ca_pem",
                format!(
                    "the CA certificate cannot be read: {why}; paste the PEM text (-----BEGIN CERTIFICATE-----) of the CA that issued the directory's certificate"
                ),
            ));
        }
    }
    s.bind_dn = s.bind_dn.trim().to_string();
    s.user_base = s.user_base.trim().to_string();
    check_dn("bind_dn", &s.bind_dn, true)?;
    if !s.bind_dn.is_empty() && !has_password {
        return Err(invalid(
            "bind_password",
            "give the service account's password (or leave the bind DN empty for an anonymous search)",
        ));
    }
    check_dn("user_base", &s.user_base, false)?;
    s.user_filter = s.user_filter.trim().to_string();
    check_filter("user_filter", &s.user_filter, &["{username}"])?;
    check_attribute("display_name_attribute", &s.display_name_attribute, false)?;
    check_attribute("mail_attribute", &s.mail_attribute, false)?;
    check_attribute("member_of_attribute", &s.member_of_attribute, true)?;
    check_attribute("group_name_attribute", &s.group_name_attribute, false)?;
    s.group_base = s.group_base.take().map(|b| b.trim().to_string()).filter(|b| !b.is_empty());
    if let Some(base) = &s.group_base {
        check_dn("group_base", base, false)?;
        s.group_filter = s.group_filter.trim().to_string();
        check_filter("group_filter", &s.group_filter, &["{dn}", "{username}"])?;
    }
    for (field, secs) in [
        ("connect_timeout_seconds", s.connect_timeout_seconds),
        ("operation_timeout_seconds", s.operation_timeout_seconds),
    ] {
        if secs == 0 {
            return Err(invalid(field, "give at least 1 second"));
        }
    }
    if s.connect_timeout_seconds + s.operation_timeout_seconds > MAX_TOTAL_TIMEOUT_SECONDS {
        return Err(invalid(
            "operation_timeout_seconds",
            format!(
                "the connect and operation timeouts together must be at most {MAX_TOTAL_TIMEOUT_SECONDS} seconds: a user waits for them in Setup Assistant"
            ),
        ));
    }
    Ok(())
}

/// The LDAP directory as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct LdapRecord {
    pub v: u32,
    pub settings: LdapSettings,
    /// Sealed ([`BIND_PASSWORD`]); `None` for an anonymous search.
    #[serde(default)]
    pub bind_password: Option<Sealed>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// The LDAP directory as the API shows it.
#[derive(Clone, Debug)]
pub struct LdapView {
    pub settings: LdapSettings,
    pub bind_password_set: bool,
    pub updated_at: OffsetDateTime,
}

impl From<&LdapRecord> for LdapView {
    fn from(r: &LdapRecord) -> Self {
        LdapView {
            settings: r.settings.clone(),
            bind_password_set: r.bind_password.is_some(),
            updated_at: r.updated_at,
        }
    }
}

pub(super) fn get_in(rtx: &ReadTransaction) -> Result<Option<LdapRecord>, DirectoryError> {
    let t = rtx.open_table(LDAP)?;
    Ok(store::get(&t, ROW)?)
}

pub(super) fn put_in(wtx: &WriteTransaction, record: &LdapRecord) -> Result<(), DirectoryError> {
    let mut t = wtx.open_table(LDAP)?;
    store::put(&mut t, ROW, record)?;
    Ok(())
}

/// Removes the directory; whether there was one.
pub(super) fn remove_in(wtx: &WriteTransaction) -> Result<bool, DirectoryError> {
    let mut t = wtx.open_table(LDAP)?;
    Ok(t.remove(ROW)?.is_some())
}

#[cfg(test)]
mod tests;
