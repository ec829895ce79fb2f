//! `adebox bench …`: the benchmarks' command line (the measurements are in `crate::bench`);
//! each prints one line, or one JSON object with `--json`.

use super::runtime;
use anyhow::Result;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Default-profile assignment of a full inventory: a profile becomes the token's default
    /// and every synced device is assigned at the simulated Apple side.
    Assign {
        #[arg(long, default_value_t = 200_000)]
        devices: usize,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The Devices list API over HTTPS with filters and sorts, at many devices.
    Api {
        #[arg(long, default_value_t = 200_000)]
        devices: usize,
        #[arg(long, default_value_t = 400)]
        requests: usize,
        #[arg(long)]
        json: bool,
    },
    /// Devices enrolling end to end (MachineInfo, profile, ACME) with the in-process fleet.
    Enroll {
        #[arg(long, default_value_t = 1000)]
        devices: usize,
        #[arg(long, default_value_t = 100)]
        concurrency: usize,
        #[arg(long)]
        json: bool,
    },
    /// Parallel wrong sign-ins from many addresses against a daemon in its own process: its
    /// memory, `/healthz` latency and the real admin's sign-in from another network meanwhile.
    Login {
        /// Flood clients, each from its own loopback address.
        #[arg(long, default_value_t = 500)]
        addresses: usize,
        /// How long the flood lasts.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long)]
        json: bool,
    },
    /// Enrolled devices polling MDM with nothing to do, each on its kept-alive mutual-TLS
    /// connection.
    Mdm {
        #[arg(long, default_value_t = 1000)]
        devices: usize,
        /// Idle polls each device makes.
        #[arg(long, default_value_t = 20)]
        polls: usize,
        #[arg(long, default_value_t = 100)]
        concurrency: usize,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The organisation's devices from Apple Business: the Business simulator (its own
    /// process) serves DEVICES organisation devices; a full sync, the list API paged over
    /// HTTPS with filters, and the CSV export of every device.
    OrgDevices {
        #[arg(long, default_value_t = 200_000)]
        devices: usize,
        /// List API requests.
        #[arg(long, default_value_t = 200)]
        requests: usize,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Automated Device Enrollment end to end: from adding a server token to every device
    /// released (sync, default assignment, enrollment with the fleet, MDM release).
    Pipeline {
        #[arg(long, default_value_t = 10_000)]
        devices: usize,
        #[arg(long, default_value_t = 100)]
        concurrency: usize,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The daemon's start to ready: a new appliance's first start, then restarts with a full
    /// inventory in the store, each until /healthz answers over HTTPS.
    Start {
        #[arg(long, default_value_t = 200_000)]
        devices: usize,
        #[arg(long, default_value_t = 10)]
        restarts: usize,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// A full sync of many devices from the DEP simulator (its own process) into a fresh
    /// store, and a plain pager over the same devices for comparison.
    Sync {
        #[arg(long, default_value_t = 200_000)]
        devices: usize,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn run(command: BenchCommand) -> Result<ExitCode> {
    match command {
        BenchCommand::Assign { devices, json } => {
            let r = runtime()?.block_on(crate::bench::assign(devices))?;
            print(&r, json, |r| {
                format!(
                    "default-profile assignment of {} devices: {:.2} s, {:.0} devices/s, first batch after {:.0} ms, per batch p50 {:.1} ms, p99 {:.1} ms, {} requests, peak RSS {:.1} MB",
                    r.devices,
                    r.wall_s,
                    r.per_s,
                    r.first_batch_ms,
                    r.p50_ms,
                    r.p99_ms,
                    r.requests,
                    r.peak_rss_mb
                )
            })
        }
        BenchCommand::Api { devices, requests, json } => {
            let r = runtime()?.block_on(crate::bench::api(devices, requests))?;
            print(&r, json, |r| {
                format!(
                    "device list API at {} devices: {} requests, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {:.0} requests/s, index build {:.2} s, peak RSS {:.1} MB",
                    r.devices,
                    r.requests,
                    r.p50_ms,
                    r.p99_ms,
                    r.max_ms,
                    r.per_s,
                    r.index_build_s,
                    r.peak_rss_mb
                )
            })
        }
        BenchCommand::Enroll { devices, concurrency, json } => {
            let r = runtime()?.block_on(crate::bench::enroll(devices, concurrency.max(1)))?;
            print(&r, json, |r| {
                format!(
                    "enrollment of {} devices, {} at a time: {} enrolled, {} failed in {:.2} s ({:.0} devices/s); requests p50 {:.1} ms, p99 {:.1} ms; whole enrollment p50 {:.1} ms, p99 {:.1} ms; peak RSS {:.1} MB; per device {:.2} commits ({:.1} changes), CPU {:.1} ms daemon + {:.1} ms simulated device",
                    r.devices,
                    r.concurrency,
                    r.enrolled,
                    r.failed,
                    r.wall_s,
                    r.per_s,
                    r.p50_ms,
                    r.p99_ms,
                    r.enrollment_p50_ms,
                    r.enrollment_p99_ms,
                    r.peak_rss_mb,
                    r.commits_per_device,
                    r.changes_per_device,
                    r.daemon_cpu_ms_per_device,
                    r.fleet_cpu_ms_per_device
                )
            })
        }
        BenchCommand::Login { addresses, seconds, json } => {
            let r = runtime()?.block_on(crate::bench::login(addresses, seconds))?;
            print(&r, json, |r| {
                format!(
                    "{} parallel wrong sign-ins for {:.0} s: {} answers ({} wrong, {} busy, {} locked out, {} failed); daemon RSS {:.1} MB, peak {:.1} MB (+{:.1} MB); /healthz p50 {:.1} ms, p99 {:.1} ms ({} unanswered); the admin signed in {} times (refused {}), p50 {:.0} ms, max {:.0} ms",
                    r.addresses,
                    r.flood_s,
                    r.answers,
                    r.wrong,
                    r.busy,
                    r.locked_out,
                    r.failed,
                    r.rss_before_mb,
                    r.rss_peak_mb,
                    r.rss_growth_mb,
                    r.healthz_p50_ms,
                    r.healthz_p99_ms,
                    r.healthz_failed,
                    r.admin_sign_ins,
                    r.admin_refused,
                    r.admin_p50_ms,
                    r.admin_max_ms
                )
            })
        }
        BenchCommand::Mdm { devices, polls, concurrency, json } => {
            let r = runtime()?.block_on(crate::bench::mdm(devices, polls, concurrency))?;
            print(&r, json, |r| {
                format!(
                    "idle MDM polls: {} devices, {} at a time, {} polls in {:.2} s ({:.0} polls/s), p50 {:.1} ms, p99 {:.1} ms, peak RSS {:.1} MB",
                    r.devices,
                    r.concurrency,
                    r.polls,
                    r.wall_s,
                    r.per_s,
                    r.p50_ms,
                    r.p99_ms,
                    r.peak_rss_mb
                )
            })
        }
        BenchCommand::OrgDevices { devices, requests, json } => {
            let r = runtime()?.block_on(crate::bench::org_devices(devices, requests))?;
            print(&r, json, |r| {
                format!(
                    "organisation devices, {}: sync {:.2} s ({:.0} devices/s, {} pages, {} commits, daemon CPU {:.2} s); list API {} requests p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; CSV export {:.2} s ({} rows, {:.1} MB); daemon peak RSS {:.1} MB, store {:.1} MB",
                    r.devices,
                    r.sync_s,
                    r.sync_per_s,
                    r.pages,
                    r.commits,
                    r.daemon_cpu_s,
                    r.requests,
                    r.p50_ms,
                    r.p99_ms,
                    r.max_ms,
                    r.export_s,
                    r.export_rows,
                    r.export_mb,
                    r.peak_rss_mb,
                    r.store_mb
                )
            })
        }
        BenchCommand::Pipeline { devices, concurrency, json } => {
            let r = runtime()?.block_on(crate::bench::pipeline(devices, concurrency.max(1)))?;
            print(&r, json, |r| {
                format!(
                    "pipeline of {} devices, {} enrolling at a time: {} released, {} failed in {:.2} s ({:.0} devices/min): sync {:.2} s, assignment {:.2} s, enrollment and release {:.2} s; {} commits; CPU {:.1} s daemon, {:.1} s simulated devices; peak RSS {:.1} MB",
                    r.devices,
                    r.concurrency,
                    r.released,
                    r.failed,
                    r.total_s,
                    r.devices_per_minute,
                    r.sync_s,
                    r.assign_s,
                    r.enroll_release_s,
                    r.commits,
                    r.daemon_cpu_s,
                    r.fleet_cpu_s,
                    r.peak_rss_mb
                )
            })
        }
        BenchCommand::Start { devices, restarts, json } => {
            let r = runtime()?.block_on(crate::bench::start(devices, restarts))?;
            print(&r, json, |r| {
                format!(
                    "first start {:.0} ms; {} restarts with {} devices: p50 {:.0} ms, p99 {:.0} ms; peak RSS {:.1} MB",
                    r.first_start_ms, r.restarts, r.devices, r.p50_ms, r.p99_ms, r.peak_rss_mb
                )
            })
        }
        BenchCommand::Sync { devices, json } => {
            let r = runtime()?.block_on(crate::bench::sync(devices))?;
            print(&r, json, |r| {
                format!(
                    "full sync of {} devices: {:.2} s, {:.0} devices/s, {} requests ({} pages, {} commits), daemon peak RSS {:.1} MB, store {:.1} MB; CPU {:.2} s daemon, {:.2} s simulator; a plain pager over the same devices {:.2} s: {:.2}×",
                    r.devices,
                    r.wall_s,
                    r.per_s,
                    r.requests,
                    r.pages,
                    r.commits,
                    r.peak_rss_mb,
                    r.store_mb,
                    r.daemon_cpu_s,
                    r.simulator_cpu_s,
                    r.pager_s,
                    r.ratio
                )
            })
        }
    }
}

/// Prints `r` as one JSON object, or as the line `words` makes of it.
fn print<T: serde::Serialize>(
    r: &T,
    json: bool,
    words: impl FnOnce(&T) -> String,
) -> Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string(r)?);
    } else {
        println!("{}", words(r));
    }
    Ok(ExitCode::SUCCESS)
}
