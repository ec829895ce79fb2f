//! `adebox sandbox` and `adebox sim devices`: the whole product with its simulators in one
//! process, its data directory (and what a failed start removes), and a fleet run against it
//! from another process.

use super::{SimCommand, runtime};
use crate::clock::Clock;
use crate::config::Config;
use crate::daemon::{self, DaemonOptions, Mode};
use anyhow::{Context, Result, bail};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// The sandbox's demo sign-in accounts, one start-up line each.
fn demo_users_lines(users: &[crate::daemon::sandbox::DemoUser]) -> String {
    users
        .iter()
        .map(|u| {
            format!(
                "  sign-in account for the user affinity demo: {} / {} ({})\n",
                u.username, u.password, u.display_name
            )
        })
        .collect()
}

pub(super) async fn sandbox(
    data: Option<PathBuf>,
    listen: SocketAddr,
    devices: usize,
) -> Result<ExitCode> {
    let made = SandboxDir::claim(data)?;
    let dir = made.path.clone();
    let sim = crate::daemon::sandbox::start_simulator_in(&dir).await?;
    let apns = crate::daemon::sandbox::start_apns_simulator().await?;
    let started = async {
        let config = Config::for_sandbox(dir.clone(), listen);
        let mut opts = DaemonOptions::new(config, Mode::Sandbox);
        opts.apple = crate::daemon::sandbox::apple_side(&sim, &apns);
        opts.sandbox_pushes = Some(apns.feed());
        opts.before_workers = Some(crate::daemon::sandbox::restore_hook(&sim, devices));
        let running = daemon::start(opts).await?;
        crate::daemon::sandbox::provision_push_certificate(&running, &apns).await?;
        // Devices in another process can enroll from here on (the rest is the admin's set-up).
        crate::daemon::sandbox::write_stand_in_pki(&running, &dir)?;
        let info = crate::daemon::sandbox::prepare(&running, &dir, &sim, devices).await?;
        anyhow::Ok((running, info))
    }
    .await;
    let (running, info) = match started {
        Ok(both) => both,
        Err(e) => {
            // A start that failed leaves nothing behind that it made.
            made.undo();
            return Err(e);
        }
    };
    let mut settled =
        crate::daemon::sandbox::settle(&running, std::time::Duration::from_secs(60)).await;
    // Once the demo profile is assigned: a device migrating in and one that went through
    // Return to Service; then the migrating device's assignment is let through.
    if settled {
        crate::daemon::sandbox::demo_lifecycle(&running, &sim).await?;
        settled =
            crate::daemon::sandbox::settle(&running, std::time::Duration::from_secs(30)).await;
    }
    println!(
        "\nadebox sandbox is running (simulated Apple services, no Apple account needed)\n  page:     {}/admin/\n  user:     {}\n  password: {}\n  a Help desk admin limited to the demo server (scope): {} / {}\n{}  API token and details: {}\n  CA certificate (trust it to avoid browser warnings): {}\n  data:     {}\n  simulated Apple DEP service: {} (portal {}){}\nPress Ctrl-C to stop.\n",
        info.url,
        info.admin_user,
        info.admin_password,
        info.scoped_user,
        info.scoped_password,
        demo_users_lines(&info.demo_users),
        dir.join("sandbox.json").display(),
        info.ca_cert,
        dir.display(),
        info.simulator.dep_url,
        info.simulator.portal_url,
        if settled {
            ""
        } else {
            "\n  the first sync is still running: the devices list fills as it goes"
        },
    );
    daemon::run_until_signal(running, None).await?;
    // Both at once, and not waited on for long: the simulated Apple side is saved as each
    // change is made, so nothing is left to write, and SIGTERM ends the sandbox within about
    // 2 s too.
    let stopping = async { tokio::join!(sim.stop(), apns.stop()) };
    let _ = tokio::time::timeout(std::time::Duration::from_millis(300), stopping).await;
    Ok(ExitCode::SUCCESS)
}

/// The sandbox's data directory, and what a failed start must remove: the directory when this
/// start made it (a temporary one, or a `--data` that did not exist), its contents when it was
/// empty. A directory that already held anything (an earlier run's data) is left alone.
struct SandboxDir {
    path: PathBuf,
    undo: SandboxUndo,
}

enum SandboxUndo {
    RemoveDir,
    EmptyDir,
    Nothing,
}

impl SandboxDir {
    fn claim(data: Option<PathBuf>) -> Result<SandboxDir> {
        let Some(path) = data else {
            let path = tempfile::Builder::new().prefix("adebox-sandbox-").tempdir()?.keep();
            return Ok(SandboxDir { path, undo: SandboxUndo::RemoveDir });
        };
        let undo = match std::fs::read_dir(&path) {
            Ok(mut entries) => match entries.next() {
                None => SandboxUndo::EmptyDir,
                Some(_) => SandboxUndo::Nothing,
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => SandboxUndo::RemoveDir,
            Err(e) => bail!("cannot read the --data directory {}: {e}", path.display()),
        };
        Ok(SandboxDir { path, undo })
    }

    fn undo(&self) {
        let removed = match self.undo {
            SandboxUndo::RemoveDir => std::fs::remove_dir_all(&self.path),
            SandboxUndo::EmptyDir => std::fs::read_dir(&self.path).and_then(|entries| {
                for entry in entries {
                    let path = entry?.path();
                    if path.is_dir() {
                        std::fs::remove_dir_all(&path)?;
                    } else {
                        std::fs::remove_file(&path)?;
                    }
                }
                Ok(())
            }),
            SandboxUndo::Nothing => Ok(()),
        };
        if let Err(e) = removed {
            eprintln!(
                "could not remove what the failed start made in {}: {e}",
                self.path.display()
            );
        }
    }
}

pub(super) fn sim_devices(command: SimCommand) -> Result<ExitCode> {
    let SimCommand::Devices { server, count, concurrency, ca, sandbox_dir, json, wait, sign_in } =
        command
    else {
        bail!("only `sim devices` is handled here")
    };
    use crate::sim::fleet::remote;
    let sign_in = match sign_in {
        None => None,
        Some(s) => Some(
            crate::sim::fleet::SignInAs::parse(&s)
                .context("give --sign-in as USER:PASSWORD, e.g. --sign-in ana.lopez:secret")?,
        ),
    };
    if !(1..=remote::MAX_COUNT).contains(&count) || !(1..=1000).contains(&concurrency) {
        bail!("give --count 1 to {} and --concurrency 1 to 1000", remote::MAX_COUNT);
    }
    let sandbox_dir = match sandbox_dir {
        Some(d) => d,
        None => remote::find_sandbox_dir(&server, &std::env::temp_dir())
            .ok_or(remote::RemoteError::NoSandboxDir { server: server.clone() })?,
    };
    let opts = remote::RemoteOptions { server, count, concurrency, ca, sandbox_dir, wait, sign_in };
    let say = |line: &str| eprintln!("{line}");
    let report = runtime()?.block_on(remote::run(&opts, &Clock::system(), &say))?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} devices: {} enrolled, {} released, {} failed; enrollment latency p50 {:.1} ms, p99 {:.1} ms",
            report.devices,
            report.enrolled,
            report.released,
            report.failed,
            report.latency_ms.p50,
            report.latency_ms.p99
        );
        for (reason, n) in &report.failures {
            println!("  {n} failed: {reason}");
        }
    }
    Ok(if report.failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
