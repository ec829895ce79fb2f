//! A full disk under the store (a small tmpfs holds the data directory): the write that does
//! not fit fails with a clear error naming the problem and the fix, what was committed stays
//! readable and consistent, and once space returns (the file system is enlarged) writes work
//! again through the same store handle, without a restart; reopened, the file holds exactly
//! the committed changes. Needs root for `mount`; skips with a notice where it is refused.

use adebox::store::{Store, StoreError, Table, table};
use std::path::Path;
use std::process::Command;

const BLOBS: Table = table("test.blobs");
/// One change: 64 KiB, so a 2 MiB file system fills in a few dozen commits.
const BLOB: usize = 64 * 1024;

/// A tmpfs mounted on a temporary directory, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("disk_full: skipped, a tmpfs cannot be mounted here (needs root)");
            return None;
        }
        Some(Tmpfs { dir })
    }

    fn resize(&self, size: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "the tmpfs could not be enlarged");
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

fn put_blob(store: &Store, n: u64) -> Result<(), StoreError> {
    store.write_blocking(|wtx| {
        let mut t = wtx.open_table(BLOBS)?;
        // Varied bytes, so nothing along the way can make them smaller.
        let blob: Vec<u8> = (0..BLOB).map(|i| (i as u64 * 31 + n * 7) as u8).collect();
        t.insert(n.to_be_bytes().as_slice(), blob.as_slice())?;
        Ok(())
    })
}

fn count(store: &Store) -> u64 {
    store
        .read_blocking(|rtx| {
            let t = rtx.open_table(BLOBS)?;
            Ok::<_, StoreError>(redb::ReadableTableMetadata::len(&t)?)
        })
        .unwrap()
}

#[test]
fn a_full_disk_is_named_loses_nothing_and_recovers_when_space_returns() {
    let Some(fs) = Tmpfs::mount("2m") else { return };
    let data = fs.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let store = Store::open(&data, &[&[BLOBS]]).unwrap();

    let mut committed = 0u64;
    let err = loop {
        match put_blob(&store, committed) {
            Ok(()) => committed += 1,
            Err(e) => break e,
        }
        assert!(committed < 1000, "a 2 MiB file system took 64 MiB");
    };
    assert!(matches!(err, StoreError::DiskFull { .. }), "{err:?}");
    let words = err.to_string();
    for needed in ["disk", "full", "data_dir", "Free space", "by itself"] {
        assert!(words.contains(needed), "the message lacks {needed:?}: {words}");
    }
    assert!(committed > 0, "the first change already did not fit");

    // What was committed is there; another change still does not fit, and says so.
    assert_eq!(count(&store), committed);
    assert!(matches!(put_blob(&store, committed), Err(StoreError::DiskFull { .. })));
    assert_eq!(count(&store), committed);

    // Space returns: the same handle writes again.
    fs.resize("64m");
    put_blob(&store, committed).expect("writes work again once there is room");
    committed += 1;
    assert_eq!(count(&store), committed);
    drop(store);

    // Opened again, the file holds exactly the committed changes.
    let store = Store::open(&data, &[&[BLOBS]]).unwrap();
    assert_eq!(count(&store), committed);
}

/// The daemon on a data directory whose disk fills during a sync: the run fails with a
/// message naming the full disk and the fix, the pages committed before stay, and once space
/// returns the same daemon writes again without a restart; restarted, the store holds the
/// same inventory.
// Several threads: the daemon, its workers and the simulator share this runtime, and the whole
// suite runs beside it on two cores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_that_fills_the_disk_says_so_and_the_daemon_recovers() {
    use adebox::daemon::{self, Mode, sandbox};
    use std::time::{Duration, Instant};
    let Some(fs) = Tmpfs::mount("8m") else { return };
    let data = fs.path().join("data");
    let start = || async {
        let sim = sandbox::start_simulator().await.unwrap();
        let apns = sandbox::start_apns_simulator().await.unwrap();
        let mut opts = crate::common::options(&data, Mode::Sandbox);
        opts.apple = sandbox::apple_side(&sim, &apns);
        opts.before_workers = Some(sandbox::restore_hook(&sim, 10));
        let running = daemon::start(opts).await.unwrap();
        (running, sim, apns)
    };
    let (running, sim, apns) = start().await;
    sandbox::prepare(&running, &data, &sim, 10).await.unwrap();
    let token = running.services.tokens.list().await.unwrap()[0].clone();
    let active = |devices: adebox::devices::Devices| async move {
        devices.counts().await.unwrap().by_token.values().sum::<u64>()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while active(running.services.devices.clone()).await < 10 {
        assert!(Instant::now() < deadline, "the first sync did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Far more devices than the file system holds, then "Full resync".
    let now = sim.now();
    sim.with_world(|w| {
        let id = w.server_by_uuid(&token.server_uuid).unwrap();
        w.add_devices(Some(id), 40_000, &[], now).unwrap();
    });
    let asked = adebox::clock::Clock::system().now();
    running
        .services
        .sync
        .request(adebox::audit::Actor::System, &token.id, adebox::sync::ManualKind::Full)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(240);
    let failed = loop {
        let status = running.services.sync.status(&token.id, true).await.unwrap();
        if status.running.is_none()
            && let Some(run) = status.last_run.clone().filter(|r| r.started_at >= asked)
        {
            break run;
        }
        assert!(
            Instant::now() < deadline,
            "the sync neither failed nor ended; devices {}, status {status:?}",
            active(running.services.devices.clone()).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(failed.outcome, adebox::sync::RunOutcome::Failed, "{}", failed.message);
    for needed in ["disk", "full", "data_dir", "Free space"] {
        assert!(
            failed.message.contains(needed),
            "the run's message lacks {needed:?}: {}",
            failed.message
        );
    }
    let kept = active(running.services.devices.clone()).await;
    assert!((10..40_010).contains(&kept), "{kept} devices after the failed run");

    // Space returns: the same daemon saves changes again (here the admin's API token).
    fs.resize("256m");
    running
        .services
        .admin
        .create_api_token(adebox::audit::Actor::System, "after the disk was full")
        .await
        .unwrap();
    assert_eq!(active(running.services.devices.clone()).await, kept);
    running.shutdown().await;
    sim.stop().await;
    apns.stop().await;

    // Restarted: the store opens and holds what was committed.
    let (running, sim, apns) = start().await;
    assert_eq!(active(running.services.devices.clone()).await, kept);
    running.shutdown().await;
    sim.stop().await;
    apns.stop().await;
}
