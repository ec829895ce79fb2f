//! The sandbox's "simulate devices enrolling" runner: one fleet run at a time, in the
//! background, against the sandbox daemon itself; its progress and report stay readable
//! until the next run starts.

use super::{Fleet, FleetDevice, FleetReport, Progress, SignInAs};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

/// The runner (held by the sandbox daemon's HTTP state).
#[derive(Clone)]
pub struct SandboxFleet {
    fleet: Arc<Fleet>,
    last: Arc<Mutex<Option<Run>>>,
    /// The demo account users sign in with on web sign-in pages (set once the sandbox made it).
    sign_in: Arc<Mutex<Option<SignInAs>>>,
}

#[derive(Clone)]
struct Run {
    started_at: OffsetDateTime,
    progress: Arc<Progress>,
    running: Arc<AtomicBool>,
}

/// What `GET /api/v1/sandbox/enroll` shows.
#[derive(Clone, Debug, Serialize)]
pub struct RunStatus {
    pub running: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    pub total: usize,
    pub done: usize,
    pub report: FleetReport,
}

impl SandboxFleet {
    pub fn new(fleet: Fleet) -> SandboxFleet {
        SandboxFleet {
            fleet: Arc::new(fleet),
            last: Arc::new(Mutex::new(None)),
            sign_in: Arc::new(Mutex::new(None)),
        }
    }

    /// Devices whose profile has user affinity sign `who` in from the next run on.
    pub fn sign_in_as(&self, who: SignInAs) {
        *self.sign_in.lock().unwrap_or_else(|e| e.into_inner()) = Some(who);
    }

    /// Whether a run is under way.
    pub fn running(&self) -> bool {
        self.last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|r| r.running.load(Ordering::SeqCst))
    }

    /// Starts enrolling `serials` in the background; `false` (nothing started) while another
    /// run is under way.
    pub fn start(&self, serials: Vec<String>, concurrency: usize, now: OffsetDateTime) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.as_ref().is_some_and(|r| r.running.load(Ordering::SeqCst)) {
            return false;
        }
        let run = Run {
            started_at: now,
            progress: Arc::new(Progress::default()),
            running: Arc::new(AtomicBool::new(true)),
        };
        run.progress.set_total(serials.len());
        *last = Some(run.clone());
        let fleet = self.fleet.clone();
        let sign_in = self.sign_in.lock().unwrap_or_else(|e| e.into_inner()).clone();
        tokio::spawn(async move {
            let devices: Vec<FleetDevice> =
                serials.iter().enumerate().map(|(i, s)| FleetDevice::for_serial(s, i)).collect();
            let report = fleet.run_as(&devices, concurrency, &run.progress, now, sign_in).await;
            log::info!(
                devices = report.devices, enrolled = report.enrolled, failed = report.failed;
                "sandbox device fleet finished"
            );
            run.running.store(false, Ordering::SeqCst);
        });
        true
    }

    /// The sandbox's Return to Service demo (apple-2026.md §2): `serial` enrolls as an
    /// iPhone, `start` has the appliance queue the erase with Return to Service, and the
    /// device erases and enrolls again by itself; the outcome of that second enrollment.
    pub async fn return_to_service_demo<F, Fut>(
        &self,
        serial: &str,
        now: OffsetDateTime,
        start: F,
    ) -> Result<super::DeviceOutcome, String>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(), String>>,
    {
        let device = FleetDevice::for_serial(serial, 0);
        let kept = self.fleet.enroll_kept(&device, now).await?;
        start().await?;
        self.fleet.return_to_service(&kept, now).await
    }

    /// The current or last run; `None` before the first.
    pub fn status(&self) -> Option<RunStatus> {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()?;
        let (total, done) = last.progress.counts();
        Some(RunStatus {
            running: last.running.load(Ordering::SeqCst),
            started_at: last.started_at,
            total,
            done,
            report: last.progress.report(),
        })
    }
}
