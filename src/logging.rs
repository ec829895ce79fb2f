//! Logging: to the journal when systemd runs us, to stderr otherwise.
//!
//! Everything logs through the `log` facade with structured key-values
//! (`log::info!(token = id; "…")`); under journald those become journal fields, on stderr they
//! follow the message as `key=value`. The level comes from the configuration and can be
//! changed on SIGHUP. Secrets are typed (`crate::crypto::Secret`) and print as `[redacted]`.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::io::Write;

/// Installs the logger once per process; later calls only change the level.
pub fn init(level: LevelFilter) {
    let installed = if systemd_journal_logger::connected_to_journal() {
        systemd_journal_logger::JournalLog::new()
            .map(|j| j.with_syslog_identifier("adebox".into()))
            .and_then(|j| j.install().map_err(std::io::Error::other))
            .is_ok()
    } else {
        false
    };
    if !installed {
        let _ = log::set_boxed_logger(Box::new(StderrLog)); // already set in this process: fine
    }
    set_level(level);
}

/// Changes the level (startup and SIGHUP). Chatty dependencies stay at warn below debug.
pub fn set_level(level: LevelFilter) {
    log::set_max_level(level);
}

/// The stderr logger: one line per record, UTC timestamp, level, target, message, fields.
struct StderrLog;

impl Log for StderrLog {
    fn enabled(&self, metadata: &Metadata) -> bool {
        if metadata.level() > log::max_level() {
            return false;
        }
        // Dependencies are noisy at info; keep them to warnings unless debugging.
        let ours = metadata.target().starts_with("adebox");
        ours || metadata.level() <= Level::Warn || log::max_level() >= LevelFilter::Debug
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut line = String::with_capacity(128);
        #[allow(clippy::disallowed_methods)] // a log timestamp, not a decision
        let now = time::OffsetDateTime::now_utc();
        let stamp = now
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| "-".into());
        line.push_str(&stamp);
        line.push(' ');
        line.push_str(record.level().as_str());
        line.push(' ');
        line.push_str(record.target());
        line.push_str(": ");
        line.push_str(&record.args().to_string());
        let mut visitor = KvLine(&mut line);
        let _ = record.key_values().visit(&mut visitor);
        line.push('\n');
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

struct KvLine<'a>(&'a mut String);

impl<'kvs> log::kv::VisitSource<'kvs> for KvLine<'_> {
    fn visit_pair(
        &mut self,
        key: log::kv::Key<'kvs>,
        value: log::kv::Value<'kvs>,
    ) -> Result<(), log::kv::Error> {
        self.0.push(' ');
        self.0.push_str(key.as_str());
        self.0.push('=');
        let v = value.to_string();
        if v.contains(' ') || v.is_empty() {
            self.0.push_str(&format!("{v:?}"));
        } else {
            self.0.push_str(&v);
        }
        Ok(())
    }
}
