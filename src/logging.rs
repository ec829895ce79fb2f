//! Logging: to the journal when systemd runs us, to stderr otherwise.
//!
//! Everything logs through the `log` facade with structured key-values
//! (`log::info!(token = id; "…")`); under journald those become journal fields, on stderr they
//! follow the message as `key=value`. The level comes from the configuration and can be
//! changed on SIGHUP. Secrets are typed (`crate::crypto::Secret`) and print as `[redacted]`.
//!
//! Every record passes [`Clean`] on its way to either sink, the one place log output is made
//! safe: control characters (NUL, line breaks, escape sequences) and Unicode bidi controls
//! (U+202E and kin, which reorder what a reader sees) in the message and in every field are
//! written as `\u{…}`, so a client-sent UDID or user name cannot forge or hide log lines
//! (OWASP "Log Injection"). And actix's reports of requests a client got wrong ("stream
//! error: Request parse error") are logged at debug, not error: they are the client's fault
//! and a scan would otherwise fill the journal with errors.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::borrow::Cow;
use std::io::Write;

/// Installs the logger once per process; later calls only change the level.
pub fn init(level: LevelFilter) {
    let journal = if systemd_journal_logger::connected_to_journal() {
        systemd_journal_logger::JournalLog::new()
            .map(|j| j.with_syslog_identifier("adebox".into()))
            .ok()
    } else {
        None
    };
    // Already set in this process: fine.
    let _ = match journal {
        Some(j) => log::set_boxed_logger(Box::new(Clean(j))),
        None => log::set_boxed_logger(Box::new(Clean(StderrLog))),
    };
    set_level(level);
}

/// Bidi controls (Unicode "Bidi_Control", plus the line and paragraph separators): they
/// change how the rest of a line is shown.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// `text` with control and bidi characters written as `\u{…}`; borrowed when there are none.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() || is_bidi_control(c) {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The level a record is written at: actix's "stream error" (a request it could not parse,
/// a client that went away mid-body) is the client's doing, so debug.
fn level_of(record: &Record) -> Level {
    let client_caused = record.level() == Level::Error
        && record.target().starts_with("actix_http::")
        && record.args().to_string().starts_with("stream error");
    if client_caused { Level::Debug } else { record.level() }
}

/// The sink wrapper every record goes through (see the module docs).
struct Clean<L>(L);

impl<L: Log> Log for Clean<L> {
    fn enabled(&self, metadata: &Metadata) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &Record) {
        let level = level_of(record);
        let metadata = Metadata::builder().level(level).target(record.target()).build();
        if level > log::max_level() || !self.0.enabled(&metadata) {
            return;
        }
        let message = record.args().to_string();
        let message = escape(&message);
        let mut fields = Fields(Vec::new());
        let _ = record.key_values().visit(&mut fields);
        self.0.log(
            &Record::builder()
                .metadata(metadata)
                .args(format_args!("{message}"))
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .key_values(&fields.0)
                .build(),
        );
    }

    fn flush(&self) {
        self.0.flush();
    }
}

/// A record's fields, escaped.
struct Fields(Vec<(String, String)>);

impl<'kvs> log::kv::VisitSource<'kvs> for Fields {
    fn visit_pair(
        &mut self,
        key: log::kv::Key<'kvs>,
        value: log::kv::Value<'kvs>,
    ) -> Result<(), log::kv::Error> {
        let value = value.to_string();
        self.0.push((escape(key.as_str()).into_owned(), escape(&value).into_owned()));
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        assert!(matches!(escape("C02XK1ABCD12 ok"), Cow::Borrowed(_)));
        assert_eq!(escape("a\u{0}b"), "a\\u{0000}b");
        assert_eq!(escape("\u{202E}evil"), "\\u{202e}evil");
        assert_eq!(escape("line\nforged: INFO"), "line\\u{000a}forged: INFO");
        assert_eq!(escape("\u{1b}[31mred"), "\\u{001b}[31mred");
        for c in ['\u{2066}', '\u{2069}', '\u{200F}', '\u{2028}', '\u{7f}', '\u{85}'] {
            assert!(escape(&format!("x{c}")).starts_with("x\\u{"), "{c:?}");
        }
        assert_eq!(escape("Zoë's iPad ✓"), "Zoë's iPad ✓");
    }

    /// A record as the sink got it: level, message, fields.
    type Kept = (Level, String, Vec<(String, String)>);

    /// Keeps what reaches the sink.
    struct Keep(Mutex<Vec<Kept>>);

    impl Log for Keep {
        fn enabled(&self, _: &Metadata) -> bool {
            true
        }
        fn log(&self, r: &Record) {
            let mut f = Fields(Vec::new());
            let _ = r.key_values().visit(&mut f);
            self.0.lock().unwrap().push((r.level(), r.args().to_string(), f.0));
        }
        fn flush(&self) {}
    }

    #[test]
    fn the_sink_gets_escaped_text_and_client_errors_below_error() {
        log::set_max_level(LevelFilter::Trace);
        let clean = Clean(Keep(Mutex::new(Vec::new())));
        let udid = "\u{202E}00008030-000A1B2C3D4E5F60\u{0}";
        clean.log(
            &Record::builder()
                .level(Level::Warn)
                .target("adebox::enroll")
                .args(format_args!("refused {udid}"))
                .key_values(&[("udid", udid)])
                .build(),
        );
        clean.log(
            &Record::builder()
                .level(Level::Error)
                .target("actix_http::h1::dispatcher")
                .args(format_args!("stream error: Request parse error: Invalid Header provided"))
                .build(),
        );
        let kept = clean.0.0.lock().unwrap();
        let (level, message, fields) = &kept[0];
        assert_eq!(*level, Level::Warn);
        assert_eq!(message, "refused \\u{202e}00008030-000A1B2C3D4E5F60\\u{0000}");
        assert_eq!(fields[0].1, "\\u{202e}00008030-000A1B2C3D4E5F60\\u{0000}");
        assert!(!message.contains(['\u{202E}', '\u{0}']));
        assert_eq!(kept[1].0, Level::Debug, "a client's malformed request is not an error");
    }
}
