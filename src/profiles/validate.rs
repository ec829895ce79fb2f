//! Local validation of a profile before anything reaches Apple: Apple's length limits and
//! required fields, flag dependencies Apple would answer `FLAGS_INVALID` to, URL rules, contact
//! shapes, language and region codes, skip keys per platform, the device name template and
//! the supervising-host certificates (../shared/spec/dep-api.md §4, §4.1; issue 6 item 2).
//!
//! [`check`] normalises the input (trims, drops empty optionals, folds case of codes, removes
//! duplicate platforms and screens) and answers every error at once, plus warnings.

use super::model::{FieldIssue, PASSCODE_GRACE, ProfileInput, SYNC_WITH_COMPUTERS, USER_AFFINITY};
use crate::apple::skipkeys::{self, Platform};
use crate::ids::{Serial, Udid};

/// The longest values the name template placeholders expand to: serials are 10–12
/// characters, Apple's longest family name is "AppleTV", model names run to about 40
/// characters ("iPad Pro (12.9-inch) (6th generation)"), and old UDIDs are 40 hex digits.
pub const PLACEHOLDERS: &[(&str, usize)] =
    &[("{{SERIAL}}", 12), ("{{DEVICETYPE}}", 7), ("{{MODEL}}", 40), ("{{UDID}}", 40)];
/// Apple's device name limit the template must stay within after expansion.
pub const NAME_TEMPLATE_MAX: usize = 63;
pub const MAX_HOST_CERTS: usize = 10;

/// What validation found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub errors: Vec<FieldIssue>,
    pub warnings: Vec<FieldIssue>,
}

fn trim_opt(v: &mut Option<String>) {
    if let Some(s) = v {
        let t = s.trim();
        if t.is_empty() {
            *v = None;
        } else if t.len() != s.len() {
            *v = Some(t.to_string());
        }
    }
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    v.retain(|s| seen.insert(s.clone()));
}

/// The input as it will be stored: trimmed, empty optionals dropped, codes in Apple's case.
pub fn normalise(mut p: ProfileInput) -> ProfileInput {
    p.name = p.name.trim().to_string();
    p.description = p.description.trim().to_string();
    for v in [
        &mut p.device_name_template,
        &mut p.cellular_data_plan_url,
        &mut p.department,
        &mut p.support_phone_number,
        &mut p.support_email_address,
        &mut p.language,
        &mut p.region,
    ] {
        trim_opt(v);
    }
    p.language = p.language.map(|l| l.to_ascii_lowercase());
    p.region = p.region.map(|r| r.to_ascii_uppercase());
    for s in p.platforms.iter_mut().chain(p.hidden_screens.iter_mut()) {
        *s = s.trim().to_string();
    }
    p.platforms = p
        .platforms
        .into_iter()
        .map(|s| Platform::parse(&s).map_or(s, |p| p.name().to_string()))
        .collect();
    dedup(&mut p.platforms);
    dedup(&mut p.hidden_screens);
    p.supervising_host_certs = p
        .supervising_host_certs
        .into_iter()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    if p.minimum_os.as_ref().is_some_and(|m| m.is_empty()) {
        p.minimum_os = None;
    }
    if p.pinned_os.as_ref().is_some_and(|m| m.is_empty()) {
        p.pinned_os = None;
    }
    p
}

/// Whether version `a` is older than `b`, both already checked as digits and dots; missing
/// parts count as 0.
fn older(a: &str, b: &str) -> bool {
    let n = |v: &str| -> Vec<u64> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    let (a, b) = (n(a), n(b));
    let len = a.len().max(b.len());
    let pad = |v: &[u64]| (0..len).map(|i| v.get(i).copied().unwrap_or(0)).collect::<Vec<_>>();
    pad(&a) < pad(&b)
}

/// Checks a normalised profile.
pub fn check(p: &ProfileInput) -> Report {
    let mut r = Report::default();
    let mut err = |f: &str, m: String| r.errors.push(FieldIssue::new(f, m));
    let chars = |s: &str| s.chars().count();

    // Apple: 1–125 characters (CONFIG_NAME_REQUIRED / CONFIG_NAME_INVALID).
    if p.name.is_empty() {
        err("name", "give the profile a name (1–125 characters)".into());
    } else if chars(&p.name) > 125 {
        err("name", format!("the name is {} characters long; Apple allows 125", chars(&p.name)));
    }
    if chars(&p.description) > 1000 {
        err("description", "the description is longer than 1000 characters; shorten it".into());
    }

    let mut platforms = Vec::new();
    if p.platforms.is_empty() {
        err("platforms", "choose at least one platform the profile is for".into());
    }
    for name in &p.platforms {
        match Platform::parse(name) {
            Some(pl) => platforms.push(pl),
            None => err(
                "platforms",
                format!("\"{name}\" is not a platform; use iOS, iPadOS, macOS, tvOS or visionOS"),
            ),
        }
    }

    if !USER_AFFINITY.contains(&p.user_affinity.as_str()) {
        err(
            "user_affinity",
            format!(
                "\"{}\" is not a user affinity; use none, with_affinity or shared_device",
                p.user_affinity
            ),
        );
    }
    check_sign_in(p, &mut err);
    // Apple answers FLAGS_INVALID to is_mdm_removable=false without supervision (§4).
    if p.locked_enrollment && !p.supervised {
        err("locked_enrollment", "locked enrollment needs a supervised profile: turn on Supervised or turn locked enrollment off".into());
    }
    if p.shared_ipad {
        if !p.supervised {
            err("shared_ipad", "Shared iPad needs a supervised profile: turn on Supervised or turn Shared iPad off".into());
        }
        if p.user_affinity == "with_affinity" {
            err("shared_ipad", "Shared iPad works only without user affinity or in shared device mode; change the user affinity or turn Shared iPad off".into());
        }
        if !platforms.contains(&Platform::IpadOs) {
            err("shared_ipad", "Shared iPad applies to iPads only: add iPadOS to the platforms or turn Shared iPad off".into());
        }
    }
    check_shared_settings(p, &mut err);

    if !SYNC_WITH_COMPUTERS.contains(&p.sync_with_computers.as_str()) {
        err(
            "sync_with_computers",
            format!(
                "\"{}\" is not a choice; use allow_all, deny_all or allow_certificates",
                p.sync_with_computers
            ),
        );
    }
    check_host_certs(p, &mut err);

    if let Some(t) = &p.device_name_template
        && let Some(m) = template_problem(t)
    {
        err("device_name_template", m);
    }
    if let Some(u) = &p.cellular_data_plan_url
        && let Some(m) = url_problem(u)
    {
        err("cellular_data_plan_url", m);
    }
    if let Some(d) = &p.department
        && chars(d) > 125
    {
        err("department", "the department is longer than 125 characters (Apple's limit)".into());
    }
    if let Some(ph) = &p.support_phone_number {
        if chars(ph) > 50 {
            err(
                "support_phone_number",
                "the phone number is longer than 50 characters (Apple's limit)".into(),
            );
        } else if !phone_ok(ph) {
            err("support_phone_number", "write the phone number with digits, spaces and + - ( ) . only, e.g. +1 408 555 0100".into());
        }
    }
    if let Some(e) = &p.support_email_address {
        if chars(e) > 250 {
            err(
                "support_email_address",
                "the e-mail address is longer than 250 characters (Apple's limit)".into(),
            );
        } else if !email_ok(e) {
            err(
                "support_email_address",
                format!("\"{e}\" is not an e-mail address (name@example.org)"),
            );
        }
    }
    if let Some(l) = &p.language
        && (!(2..=3).contains(&l.len()) || !l.bytes().all(|b| b.is_ascii_lowercase()))
    {
        err(
            "language",
            format!("\"{l}\" is not an ISO 639 language code (2 or 3 letters, e.g. en or deu)"),
        );
    }
    if let Some(rg) = &p.region
        && (rg.len() != 2 || !rg.bytes().all(|b| b.is_ascii_uppercase()))
    {
        err(
            "region",
            format!("\"{rg}\" is not an ISO 3166 region code (2 letters, e.g. US or DE)"),
        );
    }
    for (field, versions) in [("minimum_os", &p.minimum_os), ("pinned_os", &p.pinned_os)] {
        for (k, v) in versions.iter().flatten() {
            if Platform::parse(k).is_none() {
                err(
                    &format!("{field}.{k}"),
                    format!("\"{k}\" is not a platform; use iOS, iPadOS, macOS, tvOS or visionOS"),
                );
            } else if v.is_empty()
                || !v
                    .split('.')
                    .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
                || v.split('.').count() > 3
            {
                err(
                    &format!("{field}.{k}"),
                    format!("\"{v}\" is not an OS version (e.g. 17.0 or 14.6.1)"),
                );
            }
        }
    }
    // A pinned version below the minimum would send the device to a version it is then
    // refused at.
    for (k, pin) in p.pinned_os.iter().flatten() {
        let min = p.minimum_os.as_ref().and_then(|m| m.get(k));
        if let Some(min) = min
            && older(pin, min)
        {
            err(
                &format!("pinned_os.{k}"),
                format!(
                    "the pinned {k} version {pin} is older than the minimum {min}; pin {min} or later"
                ),
            );
        }
    }

    for key in &p.hidden_screens {
        if platforms.is_empty() {
            break;
        }
        for issue in skipkeys::check(key, &platforms) {
            let f = FieldIssue::new("hidden_screens", issue.message(key));
            if issue.is_error() {
                r.errors.push(f);
            } else {
                r.warnings.push(f);
            }
        }
    }
    r
}

fn check_shared_settings(p: &ProfileInput, err: &mut impl FnMut(&str, String)) {
    let s = &p.shared_ipad_settings;
    if let Some(n) = s.max_cached_users
        && !(1..=32).contains(&n)
    {
        err(
            "shared_ipad_settings.max_cached_users",
            "the maximum of cached users is 1 to 32".into(),
        );
    }
    if let Some(n) = s.passcode_lock_grace_s
        && !PASSCODE_GRACE.contains(&n)
    {
        err(
            "shared_ipad_settings.passcode_lock_grace_s",
            "choose 0, 60, 300, 900, 3600 or 14400 seconds".into(),
        );
    }
    if let Some(n) = s.inactivity_logout_s
        && n < 30
    {
        err(
            "shared_ipad_settings.inactivity_logout_s",
            "the inactivity logout is at least 30 seconds".into(),
        );
    }
    if let Some(n) = s.temporary_session_inactivity_s
        && n < 30
    {
        err(
            "shared_ipad_settings.temporary_session_inactivity_s",
            "the temporary session inactivity timeout is at least 30 seconds".into(),
        );
    }
}

fn check_host_certs(p: &ProfileInput, err: &mut impl FnMut(&str, String)) {
    let certs = &p.supervising_host_certs;
    if p.sync_with_computers != "allow_certificates" {
        if !certs.is_empty() {
            err("supervising_host_certs", "certificates are used only with \"allow Apple Configurator by certificate\"; choose it or remove the certificates".into());
        }
        return;
    }
    if certs.is_empty() {
        err(
            "supervising_host_certs",
            "upload at least one Apple Configurator host certificate (PEM)".into(),
        );
    }
    if certs.len() > MAX_HOST_CERTS {
        err(
            "supervising_host_certs",
            format!("{} certificates: at most {MAX_HOST_CERTS} are allowed", certs.len()),
        );
    }
    for (i, pem) in certs.iter().enumerate() {
        if host_cert_der(pem).is_none() {
            err(
                &format!("supervising_host_certs.{i}"),
                format!(
                    "certificate {} is not a PEM X.509 certificate; export it from Apple Configurator as PEM",
                    i + 1
                ),
            );
        }
    }
}

/// The DER of a PEM certificate that parses as X.509.
pub fn host_cert_der(pem: &str) -> Option<Vec<u8>> {
    if pem.len() > 64 * 1024 {
        return None;
    }
    let der = crate::crypto::ca::pem_to_der(pem).ok()?;
    x509_parser::parse_x509_certificate(&der).ok()?;
    Some(der)
}

/// The longest a template gets once expanded.
pub fn expanded_len(template: &str) -> usize {
    let mut rest = template.to_string();
    let mut extra = 0;
    for (ph, longest) in PLACEHOLDERS {
        let n = rest.matches(ph).count();
        extra += n * longest;
        rest = rest.replace(ph, "");
    }
    rest.chars().count() + extra
}

/// A device's name from `template`: each placeholder replaced by the device's value (an
/// unknown value becomes empty), trimmed and cut to Apple's limit.
pub fn expand_name_template(
    template: &str,
    serial: &Serial,
    device_type: Option<&str>,
    model: Option<&str>,
    udid: &Udid,
) -> String {
    let (serial, udid) = (serial.as_str(), udid.as_str());
    let name = template
        .replace("{{SERIAL}}", serial)
        .replace("{{DEVICETYPE}}", device_type.unwrap_or(""))
        .replace("{{MODEL}}", model.unwrap_or(""))
        .replace("{{UDID}}", udid);
    name.trim().chars().take(NAME_TEMPLATE_MAX).collect()
}

fn template_problem(t: &str) -> Option<String> {
    let mut rest = t.to_string();
    for (ph, _) in PLACEHOLDERS {
        rest = rest.replace(ph, "");
    }
    if rest.contains("{{") || rest.contains("}}") {
        return Some(
            "use only the placeholders {{SERIAL}}, {{DEVICETYPE}}, {{MODEL}} and {{UDID}}".into(),
        );
    }
    let n = expanded_len(t);
    if n > NAME_TEMPLATE_MAX {
        return Some(format!(
            "the name can reach {n} characters with long serials, models or UDIDs; Apple allows {NAME_TEMPLATE_MAX}: shorten the template"
        ));
    }
    None
}

fn url_problem(u: &str) -> Option<String> {
    if u.len() > 2000 {
        return Some("the URL is longer than 2000 characters".into());
    }
    match reqwest::Url::parse(u) {
        Ok(parsed)
            if parsed.scheme() == "https" && parsed.host_str().is_some_and(|h| !h.is_empty()) =>
        {
            None
        }
        Ok(_) => Some("the URL must start with https:// and name a host".into()),
        Err(e) => Some(format!("\"{u}\" is not a URL ({e}); write it as https://host/path")),
    }
}

fn phone_ok(p: &str) -> bool {
    p.bytes().filter(u8::is_ascii_digit).count() >= 3
        && p.bytes().all(|b| b.is_ascii_digit() || b" +-().x/".contains(&b))
}

fn email_ok(e: &str) -> bool {
    let Some((local, domain)) = e.rsplit_once('@') else { return false };
    !local.is_empty()
        && !e.contains(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
}

#[cfg(test)]
mod tests;

/// The sign-in choice's own rules; whether its directory is usable is asked of `directory`
/// where the profile is saved.
fn check_sign_in(p: &ProfileInput, err: &mut impl FnMut(&str, String)) {
    let s = &p.sign_in;
    if !super::model::SIGN_IN_SOURCES.contains(&s.source.as_str()) {
        err(
            "sign_in.source",
            format!(
                "\"{}\" is not a sign-in source this appliance offers; use {}",
                s.source,
                super::model::SIGN_IN_SOURCES.join(" or ")
            ),
        );
    }
    if s.allowed_groups.len() > 50
        || s.allowed_groups.iter().any(|g| g.trim().is_empty() || g.len() > 256)
    {
        err(
            "sign_in.allowed_groups",
            "list at most 50 group names, each 1 to 256 characters".into(),
        );
    }
    if s.lock_macos_account && !s.prefill_macos_account {
        err("sign_in.lock_macos_account", "only a pre-filled account can be locked: turn on \"pre-fill the macOS account\" or turn the lock off".into());
    }
}
