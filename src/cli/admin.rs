//! `adebox admin …`: backup, restore, password maintenance and sign-in unlocks run from the
//! command line, beside or instead of the daemon.

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
        AdminCommand::Backup { file, config } => {
            let c = load_config(&config)?;
            let records = crate::backup::write(&c.data_dir, &file)
                .with_context(|| format!("backup of {} failed", c.data_dir.display()))?;
            println!(
                "wrote {} ({records} records); it contains secrets: keep it as safe as the server",
                file.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::Restore { file, config } => {
            let c = load_config(&config)?;
            let restored = crate::backup::restore(&c.data_dir, &file)?;
            let (n, signing, kept) = (restored.tls_files, restored.signing_files, restored.kept);
            if n > 0 {
                println!("restored {n} files of the TLS folder (the appliance CA among them)");
            }
            if signing > 0 {
                println!("restored the enrollment profile-signing certificate ({signing} files)");
            }
            println!(
                "restored {}; the previous store is kept as {}. Start the daemon: systemctl start adebox",
                file.display(),
                kept.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::Unlock { address, user, config } => {
            let c = load_config(&config)?;
            runtime()?.block_on(unlock(c, address, user))
        }
        AdminCommand::SetPassword { user, config } => {
            let c = load_config(&config)?;
            let password = read_new_password(&user)?;
            runtime()?.block_on(set_password(c, user, password))
        }
    }
}

async fn set_password(c: Config, user: String, password: Secret<String>) -> Result<ExitCode> {
    daemon::prepare_data_dir(&c.data_dir)?;
    match Store::open(&c.data_dir, daemon::TABLES) {
        Ok(store) => {
            let admin = Admin::new(store, Clock::system(), AdminOptions::default());
            let created = admin.set_password_cli(&user, password).await?;
            crate::backup::give_to_data_dir_owner(
                &c.data_dir,
                &c.data_dir.join(crate::store::FILE_NAME),
            );
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
            let req = crate::control::Request::SetPassword { username: user, password };
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
