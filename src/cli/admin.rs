//! `adebox admin …`: backup, restore, password maintenance, sign-in unlocks and the audit
//! chain's verification run from the command line, beside or instead of the daemon.

use super::{AdminCommand, load_config, runtime};
use crate::admin::{Admin, AdminOptions};
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::Secret;
use crate::daemon;
use crate::store::{Store, StoreError};
use anyhow::{Context, Result, bail};
use std::process::ExitCode;

pub(super) fn run(command: AdminCommand) -> Result<ExitCode> {
    match command {
        AdminCommand::Backup { file, passphrase_file, recipient, config } => {
            let c = load_config(&config)?;
            super::backup::backup(&c, &file, passphrase_file.as_deref(), recipient.as_deref())
        }
        AdminCommand::Restore { file, passphrase_file, identity, config } => {
            let c = load_config(&config)?;
            super::backup::restore(&c, &file, passphrase_file.as_deref(), identity.as_deref())
        }
        AdminCommand::Unlock { address, user, config } => {
            let c = load_config(&config)?;
            runtime()?.block_on(unlock(c, address, user))
        }
        AdminCommand::SetPassword { user, role, config } => {
            let c = load_config(&config)?;
            let password = read_new_password(&user)?;
            runtime()?.block_on(set_password(c, user, password, role))
        }
        AdminCommand::VerifyAudit { config } => {
            let c = load_config(&config)?;
            runtime()?.block_on(verify_audit(c))
        }
    }
}

/// Verifies the chain in the store directly when the daemon is stopped (reading only, with
/// the key file as it is), through the control socket when it runs.
async fn verify_audit(c: Config) -> Result<ExitCode> {
    let (verifies, report) = match Store::open(&c.data_dir, daemon::TABLES) {
        Ok(store) => {
            let key = crate::keys::load(&c.data_dir, crate::keys::KeyName::Audit)?;
            let Some(key) = key else {
                bail!(
                    "no audit key at {}: the daemon creates it when it first starts; if the store came from elsewhere, restore the key folder of the backup made with it",
                    crate::keys::KeyName::Audit.path(&c.data_dir).display()
                );
            };
            let v = crate::audit::verify_store(&store, &key).await?;
            (v.verifies(), v.report())
        }
        Err(StoreError::InUse { .. }) => {
            let resp = crate::control::call(&c.data_dir, &crate::control::Request::VerifyAudit)
                .await
                .context("the daemon is running but its control socket did not answer")?;
            (resp.ok, resp.message)
        }
        Err(e) => return Err(e.into()),
    };
    println!("{report}");
    Ok(if verifies { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn set_password(
    c: Config,
    user: String,
    password: Secret<String>,
    role: Option<crate::admin::Role>,
) -> Result<ExitCode> {
    daemon::prepare_data_dir(&c.data_dir)?;
    match Store::open(&c.data_dir, daemon::TABLES) {
        Ok(store) => {
            let data_dir = c.data_dir.clone();
            let store = tokio::task::spawn_blocking(move || {
                crate::audit::start(&store, &data_dir, Clock::system().now()).map(|_| store)
            })
            .await??;
            let admin = Admin::new(store, Clock::system(), AdminOptions::default());
            let created = admin.set_password_cli(&user, password, role).await?;
            crate::backup::give_to_data_dir_owner(
                &c.data_dir,
                &c.data_dir.join(crate::store::FILE_NAME),
            );
            // Opening the store may have made the data key: the daemon's user must read it.
            super::backup::give_keys_to_data_dir_owner(&c.data_dir);
            println!(
                "{}",
                if created {
                    format!("created admin {user}")
                } else {
                    format!("password of {user} replaced; their sessions ended")
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(StoreError::InUse { .. }) => {
            let req = crate::control::Request::SetPassword { username: user, password, role };
            let resp = crate::control::call(&c.data_dir, &req)
                .await
                .context("the daemon is running but its control socket did not answer")?;
            if !resp.ok {
                bail!("{}", resp.message);
            }
            println!("{}", resp.message);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(e.into()),
    }
}

/// Lockouts live in the daemon's memory: only a running daemon has any to lift.
async fn unlock(
    c: Config,
    address: Option<std::net::IpAddr>,
    username: Option<String>,
) -> Result<ExitCode> {
    let req = crate::control::Request::Unlock { address, username };
    match crate::control::call(&c.data_dir, &req).await {
        Ok(resp) if resp.ok => {
            println!("{}", resp.message);
            Ok(ExitCode::SUCCESS)
        }
        Ok(resp) => bail!("{}", resp.message),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            println!(
                "adebox is not running, so nothing is locked (lockouts are kept in the daemon's memory and end with it)"
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "cannot reach the daemon's control socket in {}",
            c.data_dir.display()
        ))),
    }
}

fn read_new_password(user: &str) -> Result<Secret<String>> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("New password for {user}: "))?;
        let second = rpassword::prompt_password("Again: ")?;
        if first != second {
            bail!("the two passwords differ; nothing was changed");
        }
        Ok(Secret::new(first))
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(Secret::new(line.trim_end_matches(['\r', '\n']).to_string()))
    }
}
