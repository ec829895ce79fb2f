//! The Audit log page shows whether the tamper-evident chain verifies, and where it breaks
//! once an entry was edited in the store file while the daemon was stopped.

use super::{assert_clean, log_in};
use crate::audit_chain::{edit_store, value};
use crate::common::{PASSWORD, TestDaemon};
use adebox::daemon::Mode;
use reqwest::StatusCode;

#[tokio::test]
async fn audit_page_shows_that_the_chain_verifies_and_where_it_breaks() {
    let Some(b) = super::harness::start().await else { return };
    let d = TestDaemon::start().await;
    d.setup_admin().await;
    assert_eq!(d.login("alice", PASSWORD).await.0, StatusCode::OK);

    log_in(&b, &d, "alice").await;
    b.click("#nav-audit").await;
    b.wait_text("#page-title", "Audit log").await;
    b.wait("#audit-chain[data-status=verifies]").await;
    b.wait_text("#audit-chain", "Chain verifies").await;
    b.wait_text("#audit-chain-message", "entries from #1 to #").await;
    let href = b.wait("#audit-export-jsonl").await.attr("href").await.unwrap();
    assert_eq!(href.as_deref(), Some("/api/v1/audit/export"));
    assert_clean(&b, "the Audit log page").await;

    // Edited with the daemon stopped: the page names the entry.
    let mut d = d;
    d.running.take().unwrap().shutdown().await;
    edit_store(d.dir.path(), |entries, _| {
        let e = String::from_utf8(value(entries, 2)).unwrap().replace("alice", "mallory");
        entries.insert(2u64.to_be_bytes().as_slice(), e.as_bytes()).unwrap();
    });
    let dir = std::mem::replace(&mut d.dir, tempfile::tempdir().unwrap());
    let d = TestDaemon::start_in(dir, Mode::Production).await;
    // Sessions survive a restart and cookies are per host, so the browser is still signed in.
    b.goto(&d.url("/admin/audit")).await;
    b.wait("#audit-chain[data-status=broken]").await;
    b.wait_text("#audit-chain", "Chain broken at #2").await;
    b.wait_text("#audit-chain-message", "Entry #2 was edited").await;
    assert_clean(&b, "the Audit log page of a broken chain").await;
    b.close().await;
}
