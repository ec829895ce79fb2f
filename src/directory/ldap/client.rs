//! Talking to the directory with `ldap3`: connecting (LDAPS, StartTLS, or plain when the admin
//! allowed it) with the configured CA, the service bind, the user search, the group read and
//! the user bind; and the step-by-step "test connection". Every failure becomes plain words
//! naming what to check; no password ever goes into them.

use super::{Endpoint, LdapSettings};
use crate::crypto::Secret;
use crate::directory::Account;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, Scope, SearchEntry, SearchOptions};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// LDAP result code 49: wrong DN or password.
const INVALID_CREDENTIALS: u32 = 49;
/// LDAP result code 4: more entries than the size limit asked for.
const SIZE_LIMIT_EXCEEDED: u32 = 4;
/// Groups read for one user at most.
const MAX_GROUPS: i32 = 500;

/// What a sign-in found: the account, or that the name or password is wrong.
pub(super) enum Outcome {
    Account(Account),
    Wrong,
}

/// One connection, bound or not.
struct Conn {
    ldap: Ldap,
    op_timeout: Duration,
}

fn rustls_config(pem: &str) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    for der in crate::crypto::chain::pem_certificates(pem)? {
        roots
            .add(rustls::pki_types::CertificateDer::from(der))
            .map_err(|e| format!("the CA certificate cannot be used: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Plain words for a failed operation `what` against `ep`.
fn words(what: &str, ep: &Endpoint, s: &LdapSettings, e: &LdapError) -> String {
    let at = format!("{}:{}", ep.host, ep.port);
    match e {
        LdapError::Io { source } if source.kind() == std::io::ErrorKind::ConnectionRefused => {
            format!(
                "nothing answers at {at} (connection refused): check the URL and that the directory is running"
            )
        }
        LdapError::Io { source } if source.to_string().contains("certificate") => format!(
            "the directory's TLS certificate at {at} is not trusted ({source}): paste the CA certificate that issued it, and use the host name the certificate names"
        ),
        LdapError::Io { source } => {
            format!("{what} failed: the connection to {at} broke ({source})")
        }
        LdapError::Timeout { .. } => format!(
            "{what} failed: the directory at {at} did not answer within {} seconds",
            s.operation_timeout_seconds.max(s.connect_timeout_seconds)
        ),
        LdapError::LdapResult { result } if result.rc == INVALID_CREDENTIALS => {
            format!("{what} failed: the directory refused the DN or password (invalid credentials)")
        }
        LdapError::LdapResult { result } => {
            let text =
                if result.text.is_empty() { String::new() } else { format!(": {}", result.text) };
            format!("{what} failed: the directory answered result code {}{text}", result.rc)
        }
        other => format!("{what} failed: {other}"),
    }
}

impl Conn {
    /// Connects (TCP, then TLS or StartTLS) within the connect timeout.
    async fn open(s: &LdapSettings, ep: &Endpoint) -> Result<Conn, String> {
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(Duration::from_secs(s.connect_timeout_seconds))
            .set_starttls(!ep.tls && s.starttls);
        if let Some(pem) = &s.ca_pem {
            settings = settings.set_config(rustls_config(pem)?);
        } else {
            crate::outbound::ensure_crypto_provider();
        }
        let connect = LdapConnAsync::with_settings(settings, &s.url);
        let what = if ep.tls || s.starttls { "the TLS connection" } else { "connecting" };
        let (conn, ldap) =
            match tokio::time::timeout(Duration::from_secs(s.connect_timeout_seconds), connect)
                .await
            {
                Ok(Ok(pair)) => pair,
                Ok(Err(e)) => return Err(words(what, ep, s, &e)),
                Err(_) => {
                    return Err(format!(
                        "{what} failed: the directory at {}:{} did not answer within {} seconds",
                        ep.host, ep.port, s.connect_timeout_seconds
                    ));
                }
            };
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                log::debug!("LDAP connection ended: {e}");
            }
        });
        Ok(Conn { ldap, op_timeout: Duration::from_secs(s.operation_timeout_seconds) })
    }

    async fn bind(&mut self, dn: &str, password: &str) -> Result<(), LdapError> {
        self.ldap.with_timeout(self.op_timeout).simple_bind(dn, password).await?.success()?;
        Ok(())
    }

    /// Entries under `base` matching `filter`, at most `limit` (more: the first `limit`).
    async fn search(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: Vec<String>,
        limit: i32,
    ) -> Result<Vec<SearchEntry>, LdapError> {
        let result = self
            .ldap
            .with_timeout(self.op_timeout)
            .with_search_options(SearchOptions::new().sizelimit(limit))
            .search(base, scope, filter, attrs)
            .await?;
        let (entries, res) = (result.0, result.1);
        if res.rc != 0 && res.rc != SIZE_LIMIT_EXCEEDED {
            res.success()?;
        }
        Ok(entries.into_iter().map(SearchEntry::construct).collect())
    }

    async fn close(mut self) {
        let _ = self.ldap.unbind().await;
    }
}

/// The values of `attr` in `entry`, whatever case the directory wrote the name in.
fn values<'a>(entry: &'a SearchEntry, attr: &str) -> &'a [String] {
    entry
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .map(|(_, v)| v.as_slice())
        .unwrap_or(&[])
}

/// The value of a DN's first RDN (`cn=Staff,ou=groups,…` → `Staff`).
fn first_rdn_value(dn: &str) -> Option<&str> {
    dn.split(',').next()?.split_once('=').map(|(_, v)| v.trim())
}

fn user_filter(s: &LdapSettings, username: &str) -> String {
    s.user_filter.replace("{username}", &ldap3::ldap_escape(username))
}

#[cfg(test)]
pub(super) fn user_filter_for_tests(s: &LdapSettings, username: &str) -> String {
    user_filter(s, username)
}

fn user_attrs(s: &LdapSettings) -> Vec<String> {
    let mut attrs = vec![s.display_name_attribute.clone(), s.mail_attribute.clone(), "cn".into()];
    if !s.member_of_attribute.is_empty() {
        attrs.push(s.member_of_attribute.clone());
    }
    attrs
}

/// The one entry `username` names, or why there is none.
async fn find_user(
    c: &mut Conn,
    s: &LdapSettings,
    ep: &Endpoint,
    username: &str,
) -> Result<Option<SearchEntry>, String> {
    let filter = user_filter(s, username);
    let mut found = c
        .search(&s.user_base, Scope::Subtree, &filter, user_attrs(s), 2)
        .await
        .map_err(|e| words("the user search", ep, s, &e))?;
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(
            "the user filter matches more than one entry for this name: ask IT to make the LDAP user filter match one entry per user"
                .into(),
        ),
    }
}

/// The account of `entry`, its groups read from `memberOf` and the group search.
async fn account(
    c: &mut Conn,
    s: &LdapSettings,
    ep: &Endpoint,
    username: &str,
    entry: &SearchEntry,
) -> Result<Account, String> {
    let mut groups = Vec::new();
    if !s.member_of_attribute.is_empty() {
        for dn in values(entry, &s.member_of_attribute) {
            groups.extend(first_rdn_value(dn).map(str::to_string));
            groups.push(dn.clone());
        }
    }
    if let Some(base) = &s.group_base {
        let filter = s
            .group_filter
            .replace("{dn}", &ldap3::ldap_escape(entry.dn.as_str()))
            .replace("{username}", &ldap3::ldap_escape(username));
        let attrs = vec![s.group_name_attribute.clone()];
        let found = c
            .search(base, Scope::Subtree, &filter, attrs, MAX_GROUPS)
            .await
            .map_err(|e| words("the group search", ep, s, &e))?;
        for g in &found {
            groups.extend(values(g, &s.group_name_attribute).iter().cloned());
            groups.push(g.dn.clone());
        }
    }
    groups.sort();
    groups.dedup();
    let first = |attr: &str| values(entry, attr).first().filter(|v| !v.trim().is_empty()).cloned();
    let display_name = first(&s.display_name_attribute)
        .or_else(|| first("cn"))
        .unwrap_or_else(|| username.to_string());
    Ok(Account {
        username: username.to_string(),
        display_name,
        email: first(&s.mail_attribute),
        groups,
    })
}

/// A connection bound as the service account (or anonymous when there is none).
async fn service_conn(
    s: &LdapSettings,
    ep: &Endpoint,
    bind_password: Option<&Secret<String>>,
) -> Result<Conn, String> {
    let mut c = Conn::open(s, ep).await?;
    if !s.bind_dn.is_empty() {
        let pw = bind_password.map(|p| p.expose().as_str()).unwrap_or_default();
        if let Err(e) = c.bind(&s.bind_dn, pw).await {
            c.close().await;
            return Err(words("the service account's bind", ep, s, &e));
        }
    }
    Ok(c)
}

/// Signs `username` in with `password`: service bind, search, groups, then the user's bind.
/// `Err` holds the words of a directory that cannot be asked.
pub(super) async fn sign_in(
    s: &LdapSettings,
    bind_password: Option<&Secret<String>>,
    username: &str,
    password: &Secret<String>,
) -> Result<Outcome, String> {
    let ep = s.endpoint()?;
    let work = async {
        let mut c = service_conn(s, &ep, bind_password).await?;
        let result = async {
            let Some(entry) = find_user(&mut c, s, &ep, username).await? else {
                return Ok(Outcome::Wrong);
            };
            let account = account(&mut c, s, &ep, username, &entry).await?;
            match c.bind(&entry.dn, password.expose()).await {
                Ok(()) => Ok(Outcome::Account(account)),
                Err(LdapError::LdapResult { result }) if result.rc == INVALID_CREDENTIALS => {
                    Ok(Outcome::Wrong)
                }
                Err(e) => Err(words("checking the password", &ep, s, &e)),
            }
        }
        .await;
        c.close().await;
        result
    };
    match tokio::time::timeout(s.total_timeout(), work).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "the directory at {}:{} did not answer within {} seconds",
            ep.host,
            ep.port,
            s.total_timeout().as_secs()
        )),
    }
}

/// One step of a connection test.
#[derive(Clone, Debug, Serialize)]
pub struct TestStep {
    /// `reach`, `tls`, `bind` or `search`.
    pub step: String,
    pub ok: bool,
    /// What worked, or what failed and what to check.
    pub detail: String,
}

/// A connection test, step by step; it stops at the first step that fails.
#[derive(Clone, Debug, Serialize)]
pub struct TestReport {
    pub ok: bool,
    pub steps: Vec<TestStep>,
}

impl TestReport {
    fn step(&mut self, step: &str, result: Result<String, String>) -> bool {
        let ok = result.is_ok();
        let detail = result.unwrap_or_else(|e| e);
        self.steps.push(TestStep { step: step.into(), ok, detail });
        self.ok = self.ok && ok;
        ok
    }
}

/// Tests `s`: reach the host, TLS, the service bind, then looks up `username` (without a
/// password) or reads the user search base.
pub(super) async fn test(
    s: &LdapSettings,
    bind_password: Option<&Secret<String>>,
    username: Option<&str>,
) -> TestReport {
    let mut report = TestReport { ok: true, steps: Vec::new() };
    let ep = match s.endpoint() {
        Ok(ep) => ep,
        Err(e) => {
            report.step("reach", Err(format!("the URL cannot be used: {e}")));
            return report;
        }
    };
    let limit = s.total_timeout() + Duration::from_secs(1);
    if tokio::time::timeout(limit, run_test(&mut report, s, &ep, bind_password, username))
        .await
        .is_err()
    {
        let secs = s.total_timeout().as_secs();
        report.step("search", Err(format!("the directory did not answer within {secs} seconds")));
    }
    report
}

async fn run_test(
    report: &mut TestReport,
    s: &LdapSettings,
    ep: &Endpoint,
    bind_password: Option<&Secret<String>>,
    username: Option<&str>,
) {
    let at = format!("{}:{}", ep.host, ep.port);
    let connect = Duration::from_secs(s.connect_timeout_seconds);
    let reach = match tokio::time::timeout(connect, tokio::net::TcpStream::connect(&at)).await {
        Ok(Ok(_)) => Ok(format!("{at} accepts connections")),
        Ok(Err(e)) => Err(format!(
            "{at} cannot be reached ({e}): check the host name, the port and the firewall"
        )),
        Err(_) => Err(format!(
            "{at} did not accept a connection within {} seconds",
            s.connect_timeout_seconds
        )),
    };
    if !report.step("reach", reach) {
        return;
    }
    let mut c = match Conn::open(s, ep).await {
        Ok(c) => c,
        Err(e) => {
            report.step("tls", Err(e));
            return;
        }
    };
    let tls = match (ep.tls, s.starttls) {
        (true, _) => "LDAPS: TLS established and the certificate trusted".to_string(),
        (false, true) => "StartTLS: TLS established and the certificate trusted".to_string(),
        (false, false) => "no TLS: plain LDAP, allowed by \"allow plain bind over cleartext\" (passwords cross the network in clear text)".to_string(),
    };
    report.step("tls", Ok(tls));
    let bind = if s.bind_dn.is_empty() {
        Ok("no service account: searching anonymously".to_string())
    } else {
        let pw = bind_password.map(|p| p.expose().as_str()).unwrap_or_default();
        match c.bind(&s.bind_dn, pw).await {
            Ok(()) => Ok(format!("bound as {}", s.bind_dn)),
            Err(e) => Err(words("the service account's bind", ep, s, &e)),
        }
    };
    if report.step("bind", bind) {
        let search = match username {
            Some(name) => match find_user(&mut c, s, ep, name).await {
                Ok(Some(entry)) => account(&mut c, s, ep, name, &entry).await.map(|a| {
                    let groups =
                        if a.groups.is_empty() { "none".into() } else { a.groups.join(", ") };
                    let mail = a.email.as_deref().unwrap_or("none");
                    format!(
                        "found {}: display name {}, e-mail {mail}, groups {groups}",
                        entry.dn, a.display_name
                    )
                }),
                Ok(None) => Err(format!(
                    "no entry under {} matches the user filter for \"{name}\": check the search base and the filter",
                    s.user_base
                )),
                Err(e) => Err(e),
            },
            None => c
                .search(&s.user_base, Scope::Base, "(objectClass=*)", vec!["1.1".to_string()], 1)
                .await
                .map_err(|e| words("reading the user search base", ep, s, &e))
                .and_then(|found| match found.is_empty() {
                    true => Err(format!(
                        "the user search base {} is not visible to this account",
                        s.user_base
                    )),
                    false => Ok(format!("the user search base {} exists", s.user_base)),
                }),
        };
        report.step("search", search);
    }
    c.close().await;
}
