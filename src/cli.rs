//! The `adebox` command line: the daemon (`serve`), the sandbox, configuration checks, and
//! admin maintenance commands.

mod admin;
mod backup;
mod bench;
mod sandbox;

pub use bench::BenchCommand;

use crate::clock::Clock;
use crate::config::{self, Config};
use crate::daemon::{self, DaemonOptions, Mode};
use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "adebox", version, about = "On-premises Apple Automated Device Enrollment appliance", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the daemon (what systemd starts).
    Serve {
        /// Configuration file.
        #[arg(long, default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
    /// Run the whole product on this machine with simulated Apple services and demo data.
    Sandbox {
        /// Data directory (default: a new temporary directory, printed at start).
        #[arg(long)]
        data: Option<PathBuf>,
        /// HTTPS listen address.
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// Devices the simulated Apple side gives the demo MDM server.
        #[arg(long, default_value_t = crate::daemon::sandbox::DEFAULT_DEVICES)]
        devices: usize,
    },
    /// Check a configuration file and print the effective configuration.
    CheckConfig {
        #[arg(long, default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
    /// Admin maintenance.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Look inside Apple artifacts (troubleshooting).
    Inspect {
        #[command(subcommand)]
        command: InspectCommand,
    },
    /// Run a simulator of Apple's services on its own (for other clients and experiments).
    Sim {
        #[command(subcommand)]
        command: SimCommand,
    },
    /// Measure the product's hot paths against the in-process simulators.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Print the version.
    Version,
    /// Write the manual pages (generated from these definitions) into DIR; used by the
    /// package build (scripts/build-deb).
    #[command(hide = true)]
    ManPages { dir: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum InspectCommand {
    /// Decrypt a DEP server token (.p7m) with its private key and print it as JSON.
    Token {
        /// The private key whose public key was uploaded to Apple Business Manager (PEM or DER).
        #[arg(long)]
        key: PathBuf,
        /// The .p7m file downloaded from Apple Business Manager.
        token: PathBuf,
        /// Print the secrets instead of masking them.
        #[arg(long)]
        show_secrets: bool,
    },
    /// Verify a device-signed MachineInfo (or any device-identity-signed plist, e.g. an OTA
    /// payload) against Apple's pinned iPhone Device CA and print the plist as JSON. Exits
    /// non-zero when the signature or the chain does not verify.
    Machineinfo {
        /// The signed body (DER/BER, or base64 as in the x-apple-aspen-deviceinfo header).
        file: PathBuf,
        /// Trust this device CA (PEM) instead of Apple's, e.g. a sandbox's stand-in CA.
        #[arg(long)]
        ca: Option<PathBuf>,
    },
    /// Verify a signed enrollment profile (.mobileconfig) and list its payloads: signer,
    /// signature, whether the signer chains to `--ca`, and each payload's type, identifier,
    /// display name, UUID and keys (secrets such as a SCEP challenge are masked). Exits
    /// non-zero when the signature does not verify or the signer does not chain to `--ca`.
    Profile {
        /// The signed .mobileconfig (CMS, DER or BER).
        file: PathBuf,
        /// Also check that the signer chains to this CA (PEM), e.g. the appliance CA.
        #[arg(long)]
        ca: Option<PathBuf>,
    },
    /// Verify an `Mdm-Signature` header value (base64 detached CMS) over a request body and
    /// print the signer. Exits non-zero when it does not verify.
    MdmSignature {
        /// The request body the device sent (the exact bytes).
        #[arg(long)]
        body: PathBuf,
        /// The header value (base64).
        #[arg(long)]
        signature: String,
    },
    /// Show a device attestation (PEM chain or CBOR attObj, raw or base64): serial, UDID,
    /// nonce, OS fields, and whether the chain verifies to Apple's Enterprise Attestation
    /// Root. Exits non-zero when it does not.
    Attestation {
        file: PathBuf,
        /// Verify at this time (RFC 3339, e.g. 2025-08-01T00:00:00Z) instead of now, for
        /// expired examples.
        #[arg(long)]
        at: Option<String>,
        /// Trust this attestation root (PEM) instead of Apple's, e.g. a sandbox's stand-in.
        #[arg(long)]
        ca: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// The Apple DEP API simulator with its stand-in ABM portal.
    Dep {
        #[arg(long, default_value = "127.0.0.1:8444")]
        listen: SocketAddr,
        /// Devices of the MDM server it starts with.
        #[arg(long, default_value_t = 500)]
        devices: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Faults, e.g. `5xx=0.05,429=0.02,slow=200ms@0.1,reset=0.01,echo-cursor,rotate-session`
        /// (rotate-session[=N]: every N-th use of a session answers a new X-ADM-Auth-Session).
        #[arg(long, default_value = "")]
        faults: String,
    },
    /// The APNs (push) simulator with its stand-in push certificate CA.
    Apns {
        #[arg(long, default_value = "127.0.0.1:8445")]
        listen: SocketAddr,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Faults, e.g. `5xx=0.05,429=0.02,reset=0.01,unregistered=0.1,fail-first=3`.
        #[arg(long, default_value = "")]
        faults: String,
    },
    /// Simulated iPhones and iPads enrolling with a running sandbox: registers COUNT new
    /// devices at its simulated Apple Business Manager, asks for a manual sync, waits until
    /// they are synced with a profile, then enrolls them (MachineInfo, signed profile, ACME)
    /// and reports outcomes and latencies. Exits non-zero when a device failed.
    Devices {
        /// The sandbox, e.g. https://localhost:8443.
        #[arg(long)]
        server: String,
        #[arg(long, default_value_t = 10)]
        count: usize,
        /// Devices enrolling at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// The appliance CA (PEM) devices trust; default: the sandbox's.
        #[arg(long)]
        ca: Option<PathBuf>,
        /// The sandbox's data directory (its sandbox.json and stand-in-pki.json); default:
        /// the newest adebox-sandbox-* temporary directory serving --server's port.
        #[arg(long)]
        sandbox_dir: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// When Apple's manual-sync budget refuses, wait for it instead of stopping.
        #[arg(long)]
        wait: bool,
        /// USER:PASSWORD the users of devices whose profile has user affinity sign in with
        /// on its web page; default: the sandbox's first demo account.
        #[arg(long, value_name = "USER:PASSWORD")]
        sign_in: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Set (or create) an admin's password. Reads it from the terminal, or one line of stdin.
    SetPassword {
        user: String,
        /// The admin's role: owner, operator, help_desk or auditor. Needed when creating an
        /// admin other than the first (who is an Owner); changes an existing admin's role.
        #[arg(long, value_parser = crate::admin::Role::parse)]
        role: Option<crate::admin::Role>,
        #[arg(long, default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
    /// Lift sign-in lockouts: of one address (`--address`), the delay of one username
    /// (`--user`), or, with neither, of every address and username. Needs the daemon running
    /// (lockouts live in its memory; a restart lifts them all).
    Unlock {
        #[arg(long)]
        address: Option<std::net::IpAddr>,
        #[arg(long)]
        user: Option<String>,
        #[arg(long, default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
    /// Write a consistent copy of the store, with the key, TLS and enrollment folders sealed
    /// under a passphrase, to FILE (works while the daemon runs). Asks for the passphrase
    /// twice, or reads it from --passphrase-file (or one line of standard input); with
    /// --recipient, encrypts the whole backup to an age public key instead.
    Backup {
        file: PathBuf,
        /// A file whose first line is the passphrase (mode 0600), for scripts.
        #[arg(long, conflicts_with = "recipient")]
        passphrase_file: Option<PathBuf>,
        /// An age recipient (`age1…`, from `age-keygen`): the backup is encrypted to it and
        /// opens only with its identity, kept off the appliance.
        #[arg(long)]
        recipient: Option<String>,
        #[arg(long, default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
    /// Replace the store and the key folder with a backup (stop the daemon first). Asks for
    /// the backup's passphrase, or reads it from --passphrase-file; a backup encrypted to an
    /// age recipient needs --identity.
    Restore {
        file: PathBuf,
        /// A file whose first line is the passphrase (mode 0600), for scripts.
        #[arg(long, conflicts_with = "identity")]
        passphrase_file: Option<PathBuf>,
        /// The age identity file (`age-keygen -o FILE`, mode 0600) of the recipient the
        /// backup was encrypted to.
        #[arg(long)]
        identity: Option<PathBuf>,
        #[arg(long, default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
    /// Verify the audit log's chain: the first broken link, or how many entries verify.
    /// Exits 1 when the chain is broken (works while the daemon runs).
    VerifyAudit {
        #[arg(long, default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
}

fn is_default(path: &std::path::Path) -> bool {
    path == std::path::Path::new(config::DEFAULT_PATH)
}

fn load_config(path: &std::path::Path) -> Result<Config> {
    Ok(Config::load(path, !is_default(path))?)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

/// Ends a daemon's runtime without waiting on blocking threads still parked or busy (an
/// outbound DNS lookup, the blocking pool's idle threads): the daemon has stopped and closed
/// its store by then, and SIGTERM must end the process within 2 s.
fn end_runtime(rt: tokio::runtime::Runtime) {
    rt.shutdown_timeout(std::time::Duration::from_millis(100));
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Version => {
            match crate::commit() {
                Some(commit) => println!("adebox {} (commit {commit})", crate::version()),
                None => println!(
                    "adebox {} (a development build: its commit was not recorded)",
                    crate::version()
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig { config } => {
            let c = load_config(&config)?;
            // Also reads apple.extra_ca_file and this shell's proxy variables, as `serve` would.
            let routes =
                daemon::routes(&daemon::AppleSide::Production, &c, &|n| std::env::var(n).ok())?;
            // Loads mdm.schemas_dir as `serve` would: a folder that is not a checkout is refused.
            crate::schemas::AppleSchemas::load(c.mdm_schemas_dir.as_deref())?;
            println!("# {} is valid; effective configuration:\n{}", config.display(), c.to_toml());
            for notice in &routes.report.notices {
                println!("# not the default: {}", notice.message);
            }
            if routes.report.proxy.as_ref().is_some_and(|p| p.source != "outbound.proxy") {
                println!(
                    "# (the proxy comes from this shell's environment; the service has its own, see `systemctl show adebox -p Environment`)"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { config } => {
            let c = load_config(&config)?;
            crate::logging::init(c.log_level);
            let mut opts = DaemonOptions::new(c, Mode::Production);
            opts.config_path = Some(config.clone());
            let rt = runtime()?;
            let done = rt.block_on(async move {
                let running = daemon::start(opts).await?;
                daemon::run_until_signal(running, Some(config)).await?;
                Ok(ExitCode::SUCCESS)
            });
            end_runtime(rt);
            done
        }
        Command::Sandbox { data, listen, devices } => {
            crate::logging::init(log::LevelFilter::Info);
            let rt = runtime()?;
            let done = rt.block_on(sandbox::sandbox(data, listen, devices));
            end_runtime(rt);
            done
        }
        Command::Admin { command } => admin::run(command),
        Command::Inspect { command: InspectCommand::Token { key, token, show_secrets } } => {
            let key_bytes =
                std::fs::read(&key).with_context(|| format!("cannot read {}", key.display()))?;
            let token_bytes = std::fs::read(&token)
                .with_context(|| format!("cannot read {}", token.display()))?;
            let key = crate::crypto::token_keypair::load_rsa_private_key(&key_bytes)
                .with_context(|| format!("{}", key.display()))?;
            let creds = crate::apple::server_token::decrypt(&token_bytes, &key)?;
            let json = crate::apple::server_token::inspect_json(
                &creds,
                show_secrets,
                Clock::system().now(),
            );
            println!("{}", serde_json::to_string_pretty(&json)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Inspect { command: InspectCommand::Machineinfo { file, ca } } => {
            let anchors = anchors(ca, crate::apple::pinned::device_identity_anchors)?;
            let json =
                crate::apple::device_inspect::machineinfo_report(&read_input(&file)?, &anchors)
                    .with_context(|| format!("{}", file.display()))?;
            println!("{}", serde_json::to_string_pretty(&json)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Inspect { command: InspectCommand::Profile { file, ca } } => {
            let anchors = match ca {
                Some(path) => {
                    Some(anchors(Some(path), crate::apple::pinned::device_identity_anchors)?)
                }
                None => None,
            };
            let (json, verified) = crate::apple::enroll_profile::inspect::profile_report(
                &read_input(&file)?,
                anchors.as_ref(),
                Clock::system().now(),
            )
            .with_context(|| format!("{}", file.display()))?;
            println!("{}", serde_json::to_string_pretty(&json)?);
            Ok(if verified { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Inspect { command: InspectCommand::MdmSignature { body, signature } } => {
            let (json, verified) = crate::crypto::mdm_signature::signature_report(
                signature.as_bytes(),
                &read_input(&body)?,
            );
            println!("{}", serde_json::to_string_pretty(&json)?);
            Ok(if verified { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Inspect { command: InspectCommand::Attestation { file, at, ca } } => {
            let anchors = anchors(ca, crate::apple::pinned::attestation_anchors)?;
            let at = match at {
                Some(t) => {
                    time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339)
                        .with_context(|| {
                            format!("--at {t}: give a time like 2025-08-01T00:00:00Z")
                        })?
                }
                None => Clock::system().now(),
            };
            let (json, verified) =
                crate::apple::device_inspect::attestation_report(&read_input(&file)?, &anchors, at)
                    .with_context(|| format!("{}", file.display()))?;
            println!("{}", serde_json::to_string_pretty(&json)?);
            Ok(if verified { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Bench { command } => bench::run(command),
        Command::Sim { command: SimCommand::Dep { listen, devices, seed, faults } } => {
            crate::logging::init(log::LevelFilter::Info);
            runtime()?.block_on(crate::sim::dep::run_standalone(listen, devices, seed, &faults))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sim { command: SimCommand::Apns { listen, seed, faults } } => {
            crate::logging::init(log::LevelFilter::Info);
            runtime()?.block_on(crate::sim::apns::run_standalone(listen, seed, &faults))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sim { command: devices @ SimCommand::Devices { .. } } => {
            sandbox::sim_devices(devices)
        }
        Command::ManPages { dir } => {
            for page in crate::manpages::write_all(<Cli as clap::CommandFactory>::command(), &dir)
                .with_context(|| {
                format!("cannot write the manual pages to {}", dir.display())
            })? {
                println!("{}", page.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A device-supplied file for `inspect`, refused above 1 MiB (they are a few KiB).
fn read_input(path: &std::path::Path) -> Result<Vec<u8>> {
    let len =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len();
    if len > 1024 * 1024 {
        bail!(
            "{} is {len} bytes; a device message is a few KiB, so this is not one",
            path.display()
        );
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The pinned Apple anchors, or the CA certificates in `--ca` instead.
fn anchors(
    ca: Option<PathBuf>,
    pinned: fn() -> crate::crypto::chain::TrustAnchors,
) -> Result<crate::crypto::chain::TrustAnchors> {
    let Some(path) = ca else { return Ok(pinned()) };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    crate::crypto::chain::TrustAnchors::from_pem(&text)
        .with_context(|| format!("{}: give a PEM CA certificate", path.display()))
}
