//! The Sign-in page's directory panels driven in the browser at desktop and phone width,
//! against real servers: the LDAP panel filled for a `slapd` the test starts (the helpers of
//! `signin_ldap`), where "Test connection" shows the service account's bind refused in plain
//! words for a wrong password and every step working for the right one, then saved; and the
//! OpenID Connect panel filled for panva's `oidc-provider` (the helpers of `signin_oidc`),
//! saved, shown back with the secret stored but never in the page, and tested. Buttons are
//! scrolled to the middle before a click: a toast at the bottom would take it otherwise.

use super::harness::Browser;
use super::profiles::click_centered;
use super::{assert_clean, log_in, wait_js};
use crate::common::TestDaemon;
use crate::signin_ldap::{SERVICE_DN, SERVICE_PASSWORD, SUFFIX, Slapd};
use crate::signin_oidc::{CLIENT_ID, CLIENT_SECRET, Provider};
use reqwest::{Method, StatusCode};
use serde_json::json;

const WIDTHS: [(u32, u32); 2] = [(1440, 900), (390, 844)];

/// Puts `text` in the field as if pasted (a PEM typed key by key would take long).
async fn paste(b: &Browser, css: &str, text: &str) {
    b.wait(css).await;
    let script = "const el = document.querySelector(arguments[0]); el.value = arguments[1]; \
                  el.dispatchEvent(new Event('input', { bubbles: true }));";
    b.client.execute(script, vec![json!(css), json!(text)]).await.unwrap();
}

#[tokio::test]
async fn the_ldap_panel_tests_and_saves_a_real_directory() {
    let Some(b) = super::harness::start().await else { return };
    let slapd = Slapd::start();
    let d = TestDaemon::with_simulator().await;
    // Signed in once for the API checks: a new sandbox_admin() would sign the browser out.
    let api = d.sandbox_admin().await;
    log_in(&b, &d, "admin").await;
    let url = format!("ldaps://127.0.0.1:{}", slapd.ldaps);

    for (width, height) in WIDTHS {
        b.client.set_window_size(width, height).await.unwrap();
        b.goto(&d.url("/admin/signin")).await;
        b.wait_text("#page-title", "Sign-in").await;
        b.fill("#ldap-url", &url).await;
        paste(&b, "#ldap-ca_pem", &slapd.ca_pem).await;
        b.fill("#ldap-bind_dn", SERVICE_DN).await;
        b.fill("#ldap-user_base", &format!("ou=people,{SUFFIX}")).await;
        b.fill("#ldap-test-username", "alice").await;

        // A wrong service-account password: the bind step fails, in plain words.
        b.fill("#ldap-bind_password", "not the reader's password").await;
        click_centered(&b, "#ldap-test").await;
        b.wait("#ldap-test-result li[data-step=\"bind\"][data-ok=\"false\"]").await;
        b.wait_text("#ldap-test-result", "The connection does not work yet.").await;
        b.wait_text("#ldap-test-result", "refused the DN or password").await;
        let result = b.text("#ldap-test-result").await;
        assert!(!result.contains("not the reader"), "the password is never shown: {result}");

        // The right one: reach, TLS, bind and the user's lookup all succeed.
        b.fill("#ldap-bind_password", SERVICE_PASSWORD).await;
        click_centered(&b, "#ldap-test").await;
        b.wait_text("#ldap-test-result", "The connection works.").await;
        for step in ["reach", "tls", "bind", "search"] {
            b.wait(&format!("#ldap-test-result li[data-step=\"{step}\"][data-ok=\"true\"]")).await;
        }
        b.wait_text("#ldap-test-result li[data-step=\"search\"]", "Alice Liddell").await;
        b.wait_text("#ldap-test-result li[data-step=\"search\"]", "staff").await;
        assert_clean(&b, &format!("testing the LDAP directory at {width} px")).await;

        click_centered(&b, "#ldap-save").await;
        let saved = "document.querySelector('#ldap-bind_password')?.closest('.field')\
                     ?.textContent.includes('A password is saved')";
        wait_js(&b, saved, vec![], "the form shown again with the password kept").await;
        let (s, v) = api.get("/api/v1/signin/ldap").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(
            (v["configured"].as_bool(), v["bind_password_set"].as_bool()),
            (Some(true), Some(true)),
            "{v}"
        );
        assert_eq!(v["settings"]["url"], url.as_str(), "{v}");
        assert!(!v.to_string().contains(SERVICE_PASSWORD), "{v}");
        let shown = b.wait("#ldap-url").await.prop("value").await.unwrap();
        assert_eq!(shown.as_deref(), Some(url.as_str()), "the saved URL is shown back");
        let field = b.wait("#ldap-bind_password").await.prop("value").await.unwrap();
        assert_eq!(field.as_deref(), Some(""), "the saved password is never put back in the page");
        assert_clean(&b, &format!("saving the LDAP directory at {width} px")).await;

        // Start the next width from nothing saved.
        let (s, v) = api.send(Method::DELETE, "/api/v1/signin/ldap", None).await;
        assert!(s.is_success(), "{s} {v}");
    }
    b.close().await;
}

#[tokio::test]
async fn the_openid_panel_saves_a_real_provider_and_never_shows_its_secret() {
    let Some(b) = super::harness::start().await else { return };
    let d = TestDaemon::with_simulator().await;
    let api = d.sandbox_admin().await;
    let (_, v) = api.get("/api/v1/signin/oidc").await;
    let redirect_uri = v["redirect_uri"].as_str().unwrap().to_string();
    let Some(idp) = Provider::start(&redirect_uri).await else { return };
    log_in(&b, &d, "admin").await;

    for (width, height) in WIDTHS {
        b.client.set_window_size(width, height).await.unwrap();
        b.goto(&d.url("/admin/signin")).await;
        b.wait_text("#page-title", "Sign-in").await;
        let shown_uri = b.wait("#oidc-redirect-uri").await.prop("value").await.unwrap();
        assert_eq!(shown_uri.as_deref(), Some(redirect_uri.as_str()));
        b.fill("#oidc-provider_name", "Example ID").await;
        b.fill("#oidc-issuer", &idp.issuer).await;
        b.fill("#oidc-client_id", CLIENT_ID).await;
        b.fill("#oidc-client_secret", CLIENT_SECRET).await;
        b.fill("#oidc-scopes", "openid profile email groups").await;
        b.fill("#oidc-timeout_seconds", "5").await;
        paste(&b, "#oidc-ca_pem", &idp.ca_pem).await;
        click_centered(&b, "#signin-oidc-save").await;

        // Shown back: the settings, the secret stored but not in the page.
        let stored = "document.querySelector('#oidc-client_secret')?.closest('.field')\
                      ?.textContent.includes('A secret is stored')";
        wait_js(&b, stored, vec![], "the form shown again with the secret kept").await;
        let issuer = b.wait("#oidc-issuer").await.prop("value").await.unwrap();
        assert_eq!(issuer.as_deref(), Some(idp.issuer.as_str()));
        let secret = b.wait("#oidc-client_secret").await.prop("value").await.unwrap();
        assert_eq!(secret.as_deref(), Some(""), "the secret is never put back in the page");
        let html = b.client.source().await.unwrap();
        assert!(!html.contains(CLIENT_SECRET), "the secret is nowhere in the page");
        let (s, v) = api.get("/api/v1/signin/oidc").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["provider"]["client_id"], CLIENT_ID, "{v}");
        assert!(!v.to_string().contains(CLIENT_SECRET), "{v}");

        // The provider answers discovery and its keys.
        click_centered(&b, "#signin-oidc-test").await;
        b.wait_text("#signin-oidc-test-result", "Discovery, issuer and signing keys are in order.")
            .await;
        assert_clean(&b, &format!("the OpenID Connect panel at {width} px")).await;

        let (s, v) = api.send(Method::DELETE, "/api/v1/signin/oidc", None).await;
        assert!(s.is_success(), "{s} {v}");
    }
    b.close().await;
}
