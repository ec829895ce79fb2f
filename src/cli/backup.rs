//! `adebox admin backup|restore`: the backup passphrase asked for (twice for a new backup) in
//! a terminal, or read from `--passphrase-file` or one line of standard input for scripts,
//! the way `adebox admin set-password` reads a password; or an age recipient (`--recipient`)
//! and, to restore, its identity file (`--identity`).

use crate::config::Config;
use crate::crypto::Secret;
use crate::keys::{self, KeyName};
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::ExitCode;

pub(super) fn backup(
    c: &Config,
    file: &Path,
    passphrase_file: Option<&Path>,
    recipient: Option<&str>,
) -> Result<ExitCode> {
    if let Some(recipient) = recipient {
        let sealing =
            crate::backup::Sealing::Recipient(crate::backup::age::Recipient::parse(recipient)?);
        let records = crate::backup::write_sealed(&c.data_dir, file, &sealing)
            .with_context(|| format!("backup of {} failed", c.data_dir.display()))?;
        println!(
            "wrote {} ({records} records) encrypted to {recipient}: a restore needs its identity \
             file (adebox admin restore FILE --identity IDENTITY)",
            file.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let passphrase = read_passphrase(passphrase_file, true)?;
    crate::store::check_new_passphrase(&passphrase)?;
    let records = crate::backup::write(&c.data_dir, file, &passphrase)
        .with_context(|| format!("backup of {} failed", c.data_dir.display()))?;
    println!(
        "wrote {} ({records} records) with the data and audit keys, the appliance CA and the \
         signing keys sealed under the passphrase: keep the passphrase apart from the file, \
         a restore needs both",
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn restore(
    c: &Config,
    file: &Path,
    passphrase_file: Option<&Path>,
    identity: Option<&Path>,
) -> Result<ExitCode> {
    let restored = if crate::backup::age::is_age(file) {
        let Some(identity) = identity else {
            bail!(
                "{} is encrypted to an age recipient: give its identity file with --identity FILE",
                file.display()
            );
        };
        crate::backup::restore_with_identity(&c.data_dir, file, identity)?
    } else {
        if identity.is_some() {
            bail!(
                "{} is not encrypted to an age recipient: it is sealed under a passphrase; \
                 leave out --identity",
                file.display()
            );
        }
        let protected = crate::store::is_protected(file)
            .with_context(|| format!("{} cannot be read as an adebox backup", file.display()))?;
        let passphrase =
            if protected { Some(read_passphrase(passphrase_file, false)?) } else { None };
        crate::backup::restore(&c.data_dir, file, passphrase.as_ref())?
    };
    let (n, signing, kept) = (restored.tls_files, restored.signing_files, &restored.kept);
    if !restored.keys.is_empty() {
        let names: Vec<_> = restored.keys.iter().map(|k| k.file_name()).collect();
        println!("restored the key folder ({})", names.join(", "));
    }
    if n > 0 {
        println!("restored {n} files of the TLS folder (the appliance CA among them)");
    }
    if signing > 0 {
        println!("restored the enrollment profile-signing certificate ({signing} files)");
    }
    if !restored.protected {
        println!(
            "note: this backup was made by an older adebox and carries no key folder: this \
             appliance keeps its own data and audit keys, and the secrets the backup kept in \
             clear are sealed with the data key when the daemon starts"
        );
    }
    println!(
        "restored {}; the previous store is kept as {}{}. Start the daemon: systemctl start adebox",
        file.display(),
        kept.display(),
        if restored.keys.is_empty() { "" } else { " (its keys as keys/*.before-restore)" }
    );
    Ok(ExitCode::SUCCESS)
}

/// Gives the key folder and its keys to the data directory's owner (a command run as root
/// may have created the data key while opening the store).
pub(super) fn give_keys_to_data_dir_owner(data_dir: &Path) {
    crate::backup::give_to_data_dir_owner(data_dir, &data_dir.join(keys::FOLDER));
    for name in KeyName::ALL {
        crate::backup::give_to_data_dir_owner(data_dir, &name.path(data_dir));
    }
}

fn read_passphrase(file: Option<&Path>, confirm: bool) -> Result<Secret<String>> {
    use std::io::IsTerminal;
    let passphrase = if let Some(path) = file {
        read_passphrase_file(path)?
    } else if std::io::stdin().is_terminal() {
        let first = Secret::new(rpassword::prompt_password("Backup passphrase: ")?);
        if confirm {
            let second = Secret::new(rpassword::prompt_password("Again: ")?);
            if first.expose() != second.expose() {
                bail!("the two passphrases differ; nothing was written");
            }
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        let line = Secret::new(line);
        Secret::new(line.expose().trim_end_matches(['\r', '\n']).to_string())
    };
    if passphrase.expose().is_empty() {
        bail!(
            "no backup passphrase was given: run the command in a terminal to be asked, or give \
             --passphrase-file FILE (its first line)"
        );
    }
    Ok(passphrase)
}

/// The first line of `path`, refused when other users can read the file.
fn read_passphrase_file(path: &Path) -> Result<Secret<String>> {
    if let Err(why) = crate::files::refuse_if_others_read(path) {
        bail!("the passphrase file {}: {why}", path.display());
    }
    let text = Secret::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the passphrase file {}", path.display()))?,
    );
    let first = text.expose().lines().next().unwrap_or("");
    Ok(Secret::new(first.to_string()))
}
