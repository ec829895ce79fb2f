//! The web sign-in a device on a profile with user affinity walks before it gets its
//! enrollment profile (../shared/spec/enrollment.md §1.6): Setup Assistant opens the
//! profile's `configuration_web_url` with `x-apple-aspen-deviceinfo` (base64 of the signed
//! MachineInfo), the user fills in the page's form, and the answer to the form is the signed
//! profile. The fleet learns each device's `configuration_web_url` from the DEP profile the
//! simulated Apple side holds for it (as a device learns it from Apple's cloud configuration),
//! and signs in with the account it was given ([`super::SignInAs`]).
//!
//! Reads the page with its own small reader ([`read_form`]): one `<form>` with its `action`
//! and `method`, its hidden inputs, and the `username` and `password` fields it must offer.
//! Never uses the product's sign-in types: it talks to the appliance only over HTTPS.

use super::FleetDevice;
use super::step::{Ctx, Fail, fail, header, read, transport};
use base64ct::Encoding;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::StatusCode;
use std::collections::BTreeMap;

/// The header Setup Assistant puts the base64 signed MachineInfo in (spec §1.6).
const DEVICE_INFO_HEADER: &str = "x-apple-aspen-deviceinfo";

/// The sign-in form as the page offers it.
#[derive(Debug, PartialEq, Eq)]
pub struct SignInForm {
    /// Where the form posts (absolute or relative to the page).
    pub action: String,
    /// The hidden fields, sent back as they are (the attempt and its CSRF token).
    pub hidden: BTreeMap<String, String>,
}

/// Opens the web page for `d` with its signed MachineInfo, signs in, and answers the form's
/// answer: status, content type, body (the signed profile on success).
pub(super) async fn sign_in(
    ctx: &Ctx,
    d: &FleetDevice,
    web_url: &str,
    signed_machine_info: &[u8],
) -> Result<(StatusCode, String, Vec<u8>), Fail> {
    // Checked before the page is opened: a device whose profile has user affinity can only
    // enroll through the sign-in, so a fleet without an account says so for every such device.
    let Some(who) = ctx.sign_in.as_ref() else {
        log::error!(serial = d.serial.as_str(); "simulated device: its profile has user affinity (sign-in page {web_url}) but the fleet has no account to sign in with; give one (sandbox.json `sign_in`, or `adebox sim devices --sign-in USER:PASSWORD`)");
        return Err(fail("web_sign_in_without_account"));
    };
    let page_url = reqwest::Url::parse(web_url).map_err(|_| fail("web_url_invalid"))?;
    if page_url.scheme() != "https" {
        return Err(fail("web_url_not_https"));
    }
    let info = base64ct::Base64::encode_string(signed_machine_info);
    let resp = ctx
        .http
        .get(page_url.clone())
        .header(DEVICE_INFO_HEADER, info)
        .header("Accept", "text/html")
        .send()
        .await
        .map_err(|e| fail(transport(&e)))?;
    let status = resp.status();
    let ct = header(&resp, "content-type");
    let page = read(resp).await?;
    if status != StatusCode::OK {
        return Err(fail(format!("web_page_refused:http_{}", status.as_u16())));
    }
    if ct != "text/html" {
        return Err(fail("web_page_wrong_content_type"));
    }
    let html = String::from_utf8(page).map_err(|_| fail("web_page_not_utf8"))?;
    let form = read_form(&html).map_err(|problem| {
        log::warn!(serial = d.serial.as_str(); "simulated device: the sign-in page's form cannot be used: {problem}");
        fail(format!("web_form_invalid:{problem}"))
    })?;
    let action = page_url.join(&form.action).map_err(|_| fail("web_form_invalid:action"))?;
    if action.scheme() != "https" || action.host_str() != page_url.host_str() {
        return Err(fail("web_form_invalid:action_elsewhere"));
    }
    let mut fields: Vec<(&str, &str)> =
        form.hidden.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    fields.push(("username", who.username.as_str()));
    fields.push(("password", who.password.expose().as_str()));
    let origin = page_url.origin().ascii_serialization();
    let resp = ctx
        .http
        .post(action)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Origin", origin)
        .body(urlencoded(&fields))
        .send()
        .await
        .map_err(|e| fail(transport(&e)))?;
    let status = resp.status();
    let ct = header(&resp, "content-type");
    let body = read(resp).await?;
    if status != StatusCode::OK {
        return Err(fail(format!("web_sign_in_refused:http_{}", status.as_u16())));
    }
    Ok((status, ct, body))
}

fn urlencoded(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, NON_ALPHANUMERIC),
                utf8_percent_encode(v, NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The page's one form: a POST form with hidden fields and labelled `username` and
/// `password` inputs. The problem names what is missing.
pub fn read_form(html: &str) -> Result<SignInForm, &'static str> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<form").ok_or("no_form")?;
    if lower[start + 5..].contains("<form") {
        return Err("several_forms");
    }
    let end = lower[start..].find("</form>").map(|i| start + i).ok_or("form_not_closed")?;
    let (open, _) = tag_at(html, start).ok_or("form_tag")?;
    let attrs = attributes(open);
    if !attrs.get("method").is_some_and(|m| m.eq_ignore_ascii_case("post")) {
        return Err("form_not_post");
    }
    let action = attrs.get("action").cloned().ok_or("form_without_action")?;
    let mut hidden = BTreeMap::new();
    let (mut user, mut password) = (false, false);
    let mut at = start;
    while let Some(i) = lower[at..end].find("<input") {
        let (tag, len) = tag_at(html, at + i).ok_or("input_tag")?;
        let a = attributes(tag);
        let kind = a.get("type").map(|t| t.to_ascii_lowercase()).unwrap_or_else(|| "text".into());
        let name = a.get("name").cloned().unwrap_or_default();
        let labelled = a
            .get("id")
            .is_some_and(|id| lower.contains(&format!("for=\"{}\"", id.to_ascii_lowercase())));
        match (kind.as_str(), name.as_str()) {
            ("hidden", n) if !n.is_empty() => {
                hidden.insert(n.to_string(), a.get("value").cloned().unwrap_or_default());
            }
            ("text" | "email", "username") if labelled => user = true,
            ("password", "password") if labelled => password = true,
            _ => {}
        }
        at += i + len;
    }
    if !user {
        return Err("no_labelled_username");
    }
    if !password {
        return Err("no_labelled_password");
    }
    Ok(SignInForm { action, hidden })
}

/// The tag starting at `start` (`<…>`, quotes respected) and its length.
fn tag_at(html: &str, start: usize) -> Option<(&str, usize)> {
    let mut quote = None;
    for (i, c) in html[start..].char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some((&html[start..start + i + 1], i + 1)),
            _ => {}
        }
    }
    None
}

/// A tag's attributes, names lower-cased, values with their character references decoded.
fn attributes(tag: &str) -> BTreeMap<String, String> {
    let inner = tag.trim_start_matches('<').trim_end_matches('>').trim_end_matches('/');
    let mut out = BTreeMap::new();
    let mut rest = inner.split_once(char::is_whitespace).map_or("", |(_, r)| r);
    loop {
        rest = rest.trim_start();
        let name_end = rest.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(rest.len());
        if name_end == 0 {
            break;
        }
        let name = rest[..name_end].to_ascii_lowercase();
        rest = rest[name_end..].trim_start();
        let value = if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (v, next) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let close = after[1..].find(q).map_or(after.len(), |i| i + 1);
                    (&after[1..close], after.get(close + 1..).unwrap_or(""))
                }
                _ => {
                    let e = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..e], &after[e..])
                }
            };
            rest = next;
            decode_entities(v)
        } else {
            String::new()
        };
        out.insert(name, value);
    }
    out
}

fn decode_entities(v: &str) -> String {
    v.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::SignInAs;

    const PAGE: &str = "<!doctype html><main><form method=\"post\" action=\"/enroll/web\">\
        <input type=\"hidden\" name=\"attempt\" value=\"A1&amp;2\">\
        <input type=\"hidden\" name=\"csrf\" value='c&quot;s'>\
        <label for=\"username\">Username</label><input id=\"username\" name=\"username\" autocomplete=\"username\" required>\
        <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\">\
        <button type=\"submit\">Sign in</button></form></main>";

    #[test]
    fn reads_the_action_and_the_hidden_fields_decoded() {
        let form = read_form(PAGE).unwrap();
        assert_eq!(form.action, "/enroll/web");
        assert_eq!(form.hidden.get("attempt").map(String::as_str), Some("A1&2"));
        assert_eq!(form.hidden.get("csrf").map(String::as_str), Some("c\"s"));
        assert_eq!(form.hidden.len(), 2);
    }

    #[test]
    fn a_page_without_a_usable_form_names_what_is_missing() {
        assert_eq!(read_form("<p>Sorry</p>"), Err("no_form"));
        assert_eq!(
            read_form(&PAGE.replace("method=\"post\"", "method=\"get\"")),
            Err("form_not_post")
        );
        assert_eq!(read_form(&PAGE.replace("for=\"password\"", "")), Err("no_labelled_password"));
        assert_eq!(
            read_form(&PAGE.replace("name=\"username\"", "name=\"user\"")),
            Err("no_labelled_username")
        );
        assert_eq!(read_form(&PAGE.replace("</form>", "")), Err("form_not_closed"));
        assert_eq!(read_form(&format!("{PAGE}<form></form>")), Err("several_forms"));
    }

    #[test]
    fn the_account_option_is_user_colon_password() {
        let a = SignInAs::parse("ana.lopez:pa:ss").unwrap();
        assert_eq!((a.username.as_str(), a.password.expose().as_str()), ("ana.lopez", "pa:ss"));
        assert!(SignInAs::parse("no-password").is_none());
        assert!(SignInAs::parse(":x").is_none());
        assert!(SignInAs::parse("x:").is_none());
    }

    #[test]
    fn the_form_body_is_percent_encoded() {
        assert_eq!(urlencoded(&[("a b", "x&y=z"), ("p", "é")]), "a%20b=x%26y%3Dz&p=%C3%A9");
    }
}
