//! Manual pages generated from the command-line definition `cli` hands over, so they
//! cannot drift from `adebox --help`: `adebox(1)` and one page per subcommand
//! (`adebox-serve(1)`, `adebox-admin-set-password(1)`, …).
//!
//! Exposes [`write_all`], which the hidden `adebox man-pages DIR` command calls while the
//! package is built (`scripts/build-deb`); the pages ship in /usr/share/man/man1. Only the
//! FILES, EXIT STATUS and SEE ALSO sections are written here by hand; everything else comes
//! from clap. Uses no runtime, store or network.

use clap_mangen::Man;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Sections of `adebox(1)` that clap does not know: where things live, how the command
/// reports failure, and where to read on.
fn top_page_extra() -> String {
    format!(
        r#".SH FILES
.TP
\fI{config}\fR
The daemon's configuration (a conffile of the package). Every key is described, with its
default, in the file itself and in docs/configuration.md.
.TP
\fI/var/lib/adebox\fR
The default data directory (\fBdata_dir\fR): the store \fIadebox.redb\fR, the TLS folder
\fItls/\fR (the appliance CA and server certificate) and the control socket. Mode 0700,
owned by the \fBadebox\fR user.
.TP
\fI/usr/lib/systemd/system/adebox.service\fR
The systemd unit that runs \fBadebox serve\fR as the \fBadebox\fR user.
.SH EXIT STATUS
0 on success; 1 with a message on standard error otherwise.
.SH SEE ALSO
\fBjournalctl\fR(1) \-u adebox for the daemon's log, including the one\-time setup code
printed on first start; \fBsystemctl\fR(1);
\fI/usr/share/doc/adebox/README.md\fR for installation, first sign\-in, upgrade,
backup and restore, and the \fIdocs/\fR folder beside it for the configuration,
the API, roles and everything else.
"#,
        config = crate::config::DEFAULT_PATH
    )
}

const SUB_PAGE_EXTRA: &str = ".SH SEE ALSO\n\\fBadebox\\fR(1)\n";

/// Writes every page of the command line `cli` into `dir` (created if missing) and returns
/// their paths.
pub fn write_all(cli: clap::Command, dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    // Built once so subcommands carry their full display names ("adebox-admin-backup").
    let mut cmd = cli.disable_help_subcommand(true);
    cmd.build();
    let mut written = Vec::new();
    write_tree(&cmd, dir, true, &mut written)?;
    Ok(written)
}

fn write_tree(
    cmd: &clap::Command,
    dir: &Path,
    top: bool,
    written: &mut Vec<PathBuf>,
) -> io::Result<()> {
    let extra = if top { top_page_extra() } else { SUB_PAGE_EXTRA.to_string() };
    let man = Man::new(cmd.clone())
        .manual("adebox manual")
        .source(format!("adebox {}", crate::version()));
    let path = dir.join(man.get_filename());
    let mut page = Vec::new();
    render(&man, cmd, &extra, &mut page)?;
    std::fs::write(&path, page)?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_tree(sub, dir, false, written)?;
    }
    Ok(())
}

/// clap_mangen's own order, with our sections before VERSION.
fn render(man: &Man, cmd: &clap::Command, extra: &str, w: &mut dyn Write) -> io::Result<()> {
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    man.render_description_section(w)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(w)?;
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(w)?;
    }
    w.write_all(extra.as_bytes())?;
    // Only the top command carries a version (clap_mangen panics on one without).
    if cmd.get_version().is_some() {
        man.render_version_section(w)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages() -> (tempfile::TempDir, Vec<PathBuf>) {
        let dir = tempfile::tempdir().unwrap();
        let written =
            write_all(<crate::cli::Cli as clap::CommandFactory>::command(), dir.path()).unwrap();
        (dir, written)
    }

    fn names(written: &[PathBuf]) -> Vec<String> {
        written.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn writes_a_page_for_the_command_and_every_visible_subcommand() {
        let (_dir, written) = pages();
        let names = names(&written);
        for expected in [
            "adebox.1",
            "adebox-serve.1",
            "adebox-sandbox.1",
            "adebox-check-config.1",
            "adebox-admin.1",
            "adebox-admin-set-password.1",
            "adebox-admin-backup.1",
            "adebox-admin-restore.1",
            "adebox-version.1",
        ] {
            assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
        }
    }

    #[test]
    fn leaves_out_hidden_commands_and_help() {
        let (_dir, written) = pages();
        let names = names(&written);
        assert!(!names.iter().any(|n| n.contains("man-pages") || n.contains("help")), "{names:?}");
    }

    #[test]
    fn the_main_page_lists_subcommands_options_and_files() {
        let (dir, _) = pages();
        let top = std::fs::read_to_string(dir.path().join("adebox.1")).unwrap();
        assert!(top.starts_with(".ie \\n(.g .ds Aq") || top.contains(".TH adebox 1"), "{top}");
        assert!(top.contains("adebox\\-serve(1)"), "{top}");
        assert!(top.contains(".SH FILES") && top.contains("/etc/adebox/adebox.toml"), "{top}");
        assert!(top.contains("journalctl"), "{top}");
        let serve = std::fs::read_to_string(dir.path().join("adebox-serve.1")).unwrap();
        assert!(serve.contains("\\-\\-config"), "{serve}");
        assert!(serve.contains("SEE ALSO"), "{serve}");
    }

    #[test]
    fn fails_cleanly_when_the_folder_cannot_be_created() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"").unwrap();
        assert!(
            write_all(<crate::cli::Cli as clap::CommandFactory>::command(), &file.join("man"))
                .is_err()
        );
    }
}
