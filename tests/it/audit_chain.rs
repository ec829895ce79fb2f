//! The tamper-evident audit log, end to end: the chain verifies through the API, the control
//! socket and `adebox admin verify-audit`; entries edited, deleted or reordered in the store
//! file while the daemon is stopped are each found at their sequence number; an older store's
//! entries are chained at upgrade; the export is JSON lines with each entry's MAC.

use crate::common::{PASSWORD, TestDaemon};
use adebox::config::Config;
use adebox::daemon::Mode;
use redb::{ReadableTable, TableDefinition};
use reqwest::StatusCode;
use serde_json::Value;
use std::path::Path;

const ENTRIES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("audit.entries");
const MACS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("audit.macs");

/// Copies the data directory's store and key folder, the parts the chain lives in.
fn copy_data(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap();
    std::fs::copy(from.join("adebox.redb"), to.path().join("adebox.redb")).unwrap();
    std::fs::create_dir(to.path().join("keys")).unwrap();
    for f in std::fs::read_dir(from.join("keys")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), to.path().join("keys").join(f.file_name())).unwrap();
    }
    to
}

/// Edits the store file directly, as someone with the file and without the key would.
pub(crate) fn edit_store(
    dir: &Path,
    f: impl FnOnce(&mut redb::Table<&[u8], &[u8]>, &mut redb::Table<&[u8], &[u8]>),
) {
    let db = redb::Database::open(dir.join("adebox.redb")).unwrap();
    let wtx = db.begin_write().unwrap();
    {
        let mut entries = wtx.open_table(ENTRIES).unwrap();
        let mut macs = wtx.open_table(MACS).unwrap();
        f(&mut entries, &mut macs);
    }
    wtx.commit().unwrap();
}

pub(crate) fn value(t: &redb::Table<&[u8], &[u8]>, seq: u64) -> Vec<u8> {
    t.get(seq.to_be_bytes().as_slice()).unwrap().unwrap().value().to_vec()
}

/// `adebox admin verify-audit` on a stopped daemon's data directory: (exit ok, output).
fn verify_cli(dir: &Path) -> (bool, String) {
    let config = dir.join("adebox.toml");
    let c = Config::for_sandbox(dir.to_path_buf(), "127.0.0.1:8443".parse().unwrap());
    std::fs::write(&config, c.to_toml()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_adebox"))
        .args(["admin", "verify-audit", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[tokio::test]
async fn audit_tamper_in_the_store_file_is_found_at_its_sequence() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    for _ in 0..4 {
        assert_eq!(d.login("alice", PASSWORD).await.0, StatusCode::OK);
    }
    let (_, list) = page.get("/api/v1/audit").await;
    let n = list["total"].as_u64().unwrap();
    assert!(n >= 5, "{list}");

    let (status, v) = page.get("/api/v1/audit/verify").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "verifies", "{v}");
    assert_eq!((v["entries"].as_u64(), v["first_seq"].as_u64()), (Some(n), Some(1)), "{v}");
    assert_eq!(v["last_seq"].as_u64(), Some(n));
    assert_eq!(v["start"]["kind"], "new");
    let head = v["head_mac"].as_str().unwrap().to_string();
    assert_eq!(head.len(), 64);

    // The export: one JSON object per line, oldest first, each with its MAC; no secret.
    let resp = page.client.get(d.url("/api/v1/audit/export")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/x-ndjson");
    let body = resp.text().await.unwrap();
    assert!(!body.contains(PASSWORD));
    let lines: Vec<Value> = body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len() as u64, n);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["id"].as_u64(), Some(i as u64 + 1), "{line}");
        assert_eq!(line["mac"].as_str().map(str::len), Some(64), "{line}");
        assert!(line["action"].is_string() && line["at"].is_string(), "{line}");
    }
    assert_eq!(lines.last().unwrap()["mac"], head.as_str(), "the last MAC is the head");
    assert_eq!(lines[0]["action"], "admin.setup");

    // Through the control socket while the daemon runs.
    let resp =
        adebox::control::call(&d.data_dir(), &adebox::control::Request::VerifyAudit).await.unwrap();
    assert!(resp.ok, "{}", resp.message);
    assert!(resp.message.contains(&format!("chain verifies: {n} entries from #1 to #{n}")));
    assert!(resp.message.contains(&head));

    let mut d = d;
    d.running.take().unwrap().shutdown().await;
    let data = d.data_dir();
    let (ok, out) = verify_cli(copy_data(&data).path());
    assert!(ok, "{out}");
    assert!(out.contains(&format!("chain verifies: {n} entries from #1 to #{n}")), "{out}");

    // An edited entry.
    let edited = copy_data(&data);
    edit_store(edited.path(), |entries, _| {
        let e = String::from_utf8(value(entries, 3)).unwrap().replace("alice", "mallory");
        entries.insert(3u64.to_be_bytes().as_slice(), e.as_bytes()).unwrap();
    });
    let (ok, out) = verify_cli(edited.path());
    assert!(!ok, "a broken chain exits with failure: {out}");
    assert!(out.contains("chain broken at #3: entry #3 was edited"), "{out}");

    // A deleted entry, with its MAC.
    let deleted = copy_data(&data);
    edit_store(deleted.path(), |entries, macs| {
        entries.remove(2u64.to_be_bytes().as_slice()).unwrap();
        macs.remove(2u64.to_be_bytes().as_slice()).unwrap();
    });
    let (ok, out) = verify_cli(deleted.path());
    assert!(!ok && out.contains("chain broken at #2: entry #2 is missing"), "{out}");

    // Two entries swapped, MACs and all.
    let reordered = copy_data(&data);
    edit_store(reordered.path(), |entries, macs| {
        let (e2, e4, m2, m4) =
            (value(entries, 2), value(entries, 4), value(macs, 2), value(macs, 4));
        entries.insert(2u64.to_be_bytes().as_slice(), e4.as_slice()).unwrap();
        entries.insert(4u64.to_be_bytes().as_slice(), e2.as_slice()).unwrap();
        macs.insert(2u64.to_be_bytes().as_slice(), m4.as_slice()).unwrap();
        macs.insert(4u64.to_be_bytes().as_slice(), m2.as_slice()).unwrap();
    });
    let (ok, out) = verify_cli(reordered.path());
    assert!(!ok && out.contains("chain broken at #2: entries were reordered"), "{out}");
    assert!(out.contains("holds entry #4"), "{out}");

    // The daemon started on the edited store (and its key) says so through the API.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(edited.path().join("adebox.redb"), dir.path().join("adebox.redb")).unwrap();
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    for key in ["keys/audit.key", "keys/data.key"] {
        std::fs::copy(edited.path().join(key), dir.path().join(key)).unwrap();
    }
    let again = TestDaemon::start_in(dir, Mode::Production).await;
    let (_, _, page) = again.login("alice", PASSWORD).await;
    let (_, v) = page.get("/api/v1/audit/verify").await;
    assert_eq!(v["status"], "broken", "{v}");
    assert_eq!(
        (v["broken"]["seq"].as_u64(), v["broken"]["problem"].as_str()),
        (Some(3), Some("edited"))
    );
    assert_eq!(v["entries"].as_u64(), Some(2), "two entries verify before the break");
}

#[tokio::test]
async fn an_older_stores_audit_entries_are_chained_at_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    {
        // What an adebox before the chain left: entries, no MACs, no chain.
        let store = adebox::store::Store::open(dir.path(), adebox::daemon::TABLES).unwrap();
        for target in ["one", "two", "three"] {
            let e = adebox::audit::NewEntry::new(
                adebox::clock::Clock::system().now(),
                adebox::audit::Actor::Cli,
                adebox::audit::Action::AdminPasswordSetByCli,
                adebox::audit::Outcome::Success,
            )
            .target(target);
            adebox::audit::record(&store, e).await.unwrap();
        }
    }
    assert!(!dir.path().join("keys/audit.key").exists());
    let d = TestDaemon::start_in(dir, Mode::Production).await;
    let page = d.setup_admin().await;
    let (_, v) = page.get("/api/v1/audit/verify").await;
    assert_eq!(v["status"], "verifies", "{v}");
    assert_eq!(v["start"]["kind"], "upgrade", "{v}");
    assert_eq!(
        (v["start"]["upgraded_first"].as_u64(), v["start"]["upgraded_last"].as_u64()),
        (Some(1), Some(3))
    );
    // The three old ones, the entry that says they were chained, and the setup.
    assert_eq!((v["entries"].as_u64(), v["last_seq"].as_u64()), (Some(5), Some(5)), "{v}");
    assert!(v["message"].as_str().unwrap().contains("chained at upgrade"), "{v}");
    let (_, list) = page.get("/api/v1/audit?action=audit").await;
    assert_eq!(list["items"][0]["action"], "audit.chain_start", "{list}");
    assert!(d.data_dir().join("keys/audit.key").exists());
}
