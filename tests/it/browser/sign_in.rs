//! The sign-in page's answer to a refusal, at desktop and phone width: a failed sign-in
//! clears the password; a 429 (here a lockout, made 3 seconds long) says in a plain sentence
//! how long signing in is paused, counts down from `Retry-After` beside the disabled button,
//! and enables the button again at zero, after which the admin signs in.

use super::{assert_clean, wait_js};
use crate::common::{PASSWORD, TestDaemon, options};
use adebox::daemon::Mode;
use serde_json::json;

#[tokio::test]
async fn a_lockout_counts_down_and_the_button_comes_back_at_zero() {
    let Some(b) = super::harness::start().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), Mode::Production);
    opts.admin.throttle.max_failures = 2;
    opts.admin.throttle.lockout = time::Duration::seconds(3);
    opts.admin.throttle.free_failures = 100; // no per-username delay in the way
    let d = TestDaemon::start_with(dir, opts).await;
    d.setup_admin().await;

    for (width, height) in [(1440, 900), (390, 844)] {
        b.client.set_window_size(width, height).await.unwrap();
        d.running().services.admin.unlock(None, None);
        b.goto(&d.url("/admin/login")).await;
        b.fill("#login-username", "alice").await;
        let mut code = String::new();
        for _ in 0..4 {
            b.fill("#login-password", "not the password").await;
            b.click("#login-submit").await;
            code = wait_js(
                &b,
                "document.querySelector('#login-form-error:not([hidden])')?.dataset.code",
                vec![],
                "an answer to the sign-in",
            )
            .await
            .as_str()
            .unwrap()
            .to_string();
            let left = b
                .client
                .execute("return document.querySelector('#login-password').value", vec![])
                .await
                .unwrap();
            assert_eq!(
                left,
                json!(""),
                "a failed sign-in clears the password ({code}, {width} px)"
            );
            if code == "locked_out" {
                break;
            }
            // The next attempt must not meet the previous answer still on screen.
            b.client
                .execute("document.querySelector('#login-form-error').hidden = true", vec![])
                .await
                .unwrap();
        }
        assert_eq!(code, "locked_out", "{width} px");
        let message = b.text("#login-form-error").await;
        assert!(message.contains("paused for"), "a plain sentence says how long: {message}");
        let countdown = b.text("#login-countdown").await;
        assert!(!countdown.is_empty(), "a live countdown: {countdown:?}");
        let disabled = "document.querySelector('#login-submit').disabled";
        assert_eq!(
            b.client.execute(&format!("return {disabled}"), vec![]).await.unwrap(),
            json!(true)
        );
        wait_js(&b, &format!("!{disabled}"), vec![], "the button back at zero").await;
        b.wait_text("#login-form-error", "you can sign in again").await;
        assert_clean(&b, &format!("lockout at {width} px")).await;

        b.fill("#login-password", PASSWORD).await;
        b.click("#login-submit").await;
        b.wait_text("#page-title", "Dashboard").await;
        super::log_out(&b).await;
    }
    b.close().await;
}
