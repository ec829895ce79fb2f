//! Settings → Backups in the browser, at desktop and phone width: the Owner sets the daily
//! backup's schedule (a short passphrase refused next to its field), backs up now and sees the
//! result, switches to an age recipient (a malformed one refused), and removes the schedule
//! after confirming; the self-managed certificate's renewal date shows in the TLS panel.

use super::harness::{self, Browser};
use super::profiles::click_centered;
use super::{assert_clean, log_in, wait_js};
use crate::common::TestDaemon;

const PASSPHRASE: &str = "a passphrase typed on the page";

async fn fits(b: &Browser, width: u32) {
    let over = b
        .client
        .execute("return document.documentElement.scrollWidth - window.innerWidth", vec![])
        .await
        .unwrap();
    assert!(over.as_f64().unwrap() <= 1.0, "at {width} px the page scrolls sideways by {over}");
}

/// Empties the field `css` and types `text`.
async fn retype(b: &Browser, css: &str, text: &str) {
    b.client
        .execute("document.querySelector(arguments[0]).value = ''", vec![css.into()])
        .await
        .unwrap();
    b.fill(css, text).await;
}

#[tokio::test]
async fn the_owner_sets_runs_and_removes_the_backup_schedule_on_settings() {
    let Some(b) = harness::start().await else { return };
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    log_in(&b, &d, "alice").await;
    let outside = tempfile::tempdir().unwrap();
    let recipient = age::x25519::Identity::generate().to_public().to_string();

    for (width, height) in [(1440, 900), (390, 844)] {
        b.client.set_window_size(width, height).await.unwrap();
        let dir = outside.path().join(format!("at-{width}"));
        b.goto(&d.url("/admin/settings")).await;
        b.wait_text("#tls-server-renews", "without a restart").await;
        b.wait("#backup-form").await;
        b.wait_text("#backup-source", "No daily backup").await;

        retype(&b, "#backup-form-directory", &dir.display().to_string()).await;
        retype(&b, "#backup-form-time", "04:15").await;
        retype(&b, "#backup-form-keep", "3").await;
        b.fill("#backup-form-passphrase", "too short").await;
        click_centered(&b, "#backup-save").await;
        b.wait_text("#backup-form-passphrase-error", "12 characters").await;
        retype(&b, "#backup-form-passphrase", PASSPHRASE).await;
        click_centered(&b, "#backup-save").await;
        b.wait_text("#backup-source", "Set on this page").await;
        b.wait_text("#backup-when", "04:15 UTC").await;
        fits(&b, width).await;

        click_centered(&b, "#backup-run").await;
        b.wait_text("#backup-last", "Written").await;
        // At the second width the first width's result is still shown until the run ends.
        for _ in 0..100 {
            if !adebox::backup::scheduled::list(&dir).is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let (_, shown) = page.get("/api/v1/settings/backup").await;
        assert_eq!(
            adebox::backup::scheduled::list(&dir).len(),
            1,
            "written where the page said ({}): {shown}",
            dir.display()
        );

        click_centered(&b, "#backup-seal-recipient").await;
        retype(&b, "#backup-form-recipient", "age1typo").await;
        click_centered(&b, "#backup-save").await;
        b.wait_text("#backup-form-recipient-error", "age1").await;
        retype(&b, "#backup-form-recipient", &recipient).await;
        click_centered(&b, "#backup-save").await;
        b.wait_text("#backup-seal", "age recipient").await;
        fits(&b, width).await;
        assert_clean(&b, "saving the backup schedule").await;

        click_centered(&b, "#backup-remove").await;
        click_centered(&b, "#backup-remove-dialog-confirm").await;
        b.wait_text("#backup-source", "No daily backup").await;
        wait_js(&b, "!document.querySelector('#backup-remove')", vec![], "no remove button").await;
        fits(&b, width).await;
        assert_clean(&b, "removing the backup schedule").await;
    }
    let (_, audit) = page.get("/api/v1/audit?limit=100").await;
    let text = audit.to_string();
    assert_eq!(text.matches("backup.schedule_set").count(), 4, "each save audited: {text}");
    assert_eq!(text.matches("backup.schedule_remove").count(), 2, "{text}");
    assert!(!text.contains(PASSPHRASE), "no passphrase in the audit log");
    b.close().await;
}
