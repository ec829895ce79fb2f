//! The async shell of profile work (the decisions are in `schedule.rs` and `worker.rs`): a
//! loop the daemon spawns as the named task `profiles`. It runs a round when something
//! changed (a profile, a default, a request, new devices) or every 30 s for due retries, and
//! scans every token for devices without a profile when a default changed and every 10
//! minutes (the safety net behind the sync hook).

use super::Profiles;
use std::time::Duration;

const TICK: Duration = Duration::from_secs(30);
const SCAN_EVERY: u32 = 20; // ticks: 10 minutes

impl Profiles {
    /// Queues defaults for every token's devices without a profile.
    pub async fn scan_defaults(&self) -> Result<usize, super::ProfileError> {
        let mut n = 0;
        for t in self.inner.tokens.list().await? {
            n += self.assign_defaults(&t.id, None).await?;
        }
        Ok(n)
    }

    /// Runs forever; the daemon stops it by dropping the future at shutdown.
    pub async fn run(self) {
        let mut ticks = 0u32;
        loop {
            let scan_due = self.inner.scan_due.swap(false, std::sync::atomic::Ordering::SeqCst);
            if (scan_due || ticks.is_multiple_of(SCAN_EVERY))
                && let Err(e) = self.scan_defaults().await
            {
                log::error!("the default-profile scan failed: {e}");
            }
            ticks = ticks.wrapping_add(1);
            match self.run_round().await {
                Ok(r) if r.batches > 0 || r.defined > 0 || r.refused > 0 => {
                    log::debug!("profile round: {r:?}")
                }
                Ok(_) => {}
                Err(e) => log::error!("profile work failed: {e}"),
            }
            tokio::select! {
                _ = self.changed() => {}
                _ = tokio::time::sleep(TICK) => {}
            }
        }
    }
}
