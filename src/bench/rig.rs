//! What the end-to-end benchmarks share: a sandbox-mode daemon with the in-process DEP and
//! APNs simulators, the stand-in Apple PKI its devices are trusted by, and the simulated
//! fleet, which runs on its own runtime (threads named `bench-fleet`) so that its CPU time
//! and the daemon's are told apart ([`super::cpu`]).

use crate::daemon::{self, DaemonOptions, DeviceTrust, Mode, Running};
use crate::sim::apns::RunningSimApns;
use crate::sim::apple_pki::StandInApplePki;
use crate::sim::dep::RunningSimDep;
use crate::sim::fleet::{Fleet, FleetDevice, FleetReport, FleetTarget, Progress};
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;

/// The name prefix of the fleet's threads.
pub const FLEET_THREADS: &str = "bench-fleet";

/// A fleet's run: its report, each device's outcome, and the CPU time of its threads.
pub struct FleetRun {
    pub report: FleetReport,
    pub progress: Arc<Progress>,
    pub cpu: Duration,
}

pub struct Rig {
    pub dir: tempfile::TempDir,
    pub sim: RunningSimDep,
    pub apns: RunningSimApns,
    pub pki: Arc<StandInApplePki>,
    pub now: time::OffsetDateTime,
    pub running: Running,
}

impl Rig {
    /// Starts the simulators and the daemon, with its push certificate.
    pub async fn start() -> anyhow::Result<Rig> {
        let dir = tempfile::tempdir()?;
        let sim = daemon::sandbox::start_simulator().await?;
        let now = crate::clock::Clock::system().now();
        let pki = Arc::new(StandInApplePki::generate(now - time::Duration::hours(1))?);
        let config =
            crate::config::Config::for_sandbox(dir.path().to_path_buf(), "127.0.0.1:0".parse()?);
        let mut opts = DaemonOptions::new(config, Mode::Sandbox);
        let apns = daemon::sandbox::start_apns_simulator().await?;
        opts.apple = daemon::sandbox::apple_side(&sim, &apns);
        opts.device_trust = DeviceTrust::StandIn(pki.clone());
        // The whole fleet comes from one address; a site's devices each have their own.
        opts.scep_per_client_per_minute = u32::MAX;
        opts.acme.per_client_per_minute = u32::MAX;
        let running = daemon::start(opts).await?;
        daemon::sandbox::provision_push_certificate(&running, &apns).await?;
        Ok(Rig { dir, sim, apns, pki, now, running })
    }

    /// The devices of `serials` with their own keys (device identity, SCEP key), made before
    /// the clock starts: the benchmarks measure the appliance, not the simulated devices' RSA
    /// key generation.
    pub async fn factory_devices(&self, serials: &[String]) -> anyhow::Result<Vec<FleetDevice>> {
        let mut making = Vec::with_capacity(serials.len());
        for (i, s) in serials.iter().enumerate() {
            let (d, pki, now) =
                (FleetDevice::for_serial(s.as_str(), i), self.pki.clone(), self.now);
            making.push(tokio::task::spawn_blocking(move || d.with_factory_keys(&pki, now)));
        }
        let mut devices = Vec::with_capacity(making.len());
        for m in making {
            devices.push(m.await??);
        }
        Ok(devices)
    }

    /// Enrolls `devices`, `concurrency` at a time, on the fleet's own runtime.
    pub async fn run_fleet(
        &self,
        devices: Vec<FleetDevice>,
        concurrency: usize,
    ) -> anyhow::Result<FleetRun> {
        let addr = *self.running.https_addrs.first().context("the daemon listens nowhere")?;
        let target = FleetTarget {
            profile_url: format!("https://localhost:{}/enroll/machineinfo", addr.port()),
            ca_pem: std::fs::read_to_string(self.dir.path().join("tls/ca.pem"))?,
            resolve_to: Some(addr),
        };
        let fleet = Fleet::new(target, self.pki.clone())?.woken_by(self.apns.feed());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .thread_name(FLEET_THREADS)
            // Its threads must live to the end: an ended thread's CPU time is no longer its own.
            .thread_keep_alive(Duration::from_secs(3600))
            .enable_all()
            .build()?;
        let progress = Arc::new(Progress::default());
        let (now, shared) = (self.now, progress.clone());
        let report = runtime
            .spawn(async move { fleet.run(&devices, concurrency, &shared, now).await })
            .await?;
        // Read while the fleet's threads live; they are all new, so this is all theirs.
        let cpu = super::cpu::threads_named(FLEET_THREADS);
        runtime.shutdown_background();
        Ok(FleetRun { report, progress, cpu })
    }

    pub async fn stop(self) {
        self.running.shutdown().await;
        self.sim.stop().await;
    }
}
