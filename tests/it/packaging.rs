//! The files the Debian package ships, checked against the code they describe: the default
//! `/etc/adebox/adebox.toml` (packaging/adebox.toml) and the unit.

use adebox::config::Config;
use std::path::Path;

const SHIPPED_CONFIG: &str = include_str!("../../packaging/adebox.toml");
const CONFIG_DOC: &str = include_str!("../../docs/configuration.md");
const UNIT: &str = include_str!("../../systemd/adebox.service");

fn parse(text: &str) -> Config {
    Config::parse(text, Path::new("/etc/adebox/adebox.toml"))
        .unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
}

/// The shipped file with every `#key = value` line turned on.
fn uncommented() -> String {
    SHIPPED_CONFIG
        .lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest) if rest.split_once(" = ").is_some_and(|(k, _)| !k.contains(' ')) => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn commented_keys() -> Vec<String> {
    let mut table = String::new();
    let mut keys = Vec::new();
    for line in uncommented().lines() {
        if let Some(t) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = format!("{t}.");
        } else if let Some((k, _)) = line.split_once(" = ") {
            keys.push(format!("{table}{k}"));
        }
    }
    keys
}

#[test]
fn the_shipped_configuration_means_every_default() {
    assert_eq!(parse(SHIPPED_CONFIG), parse(""));
}

/// [`uncommented`] without the line of `key` (`table.key`), for keys that exclude each other.
fn uncommented_without(key: &str) -> String {
    let (table, key) = key.split_once('.').unwrap();
    let mut current = String::new();
    let mut kept = Vec::new();
    let all = uncommented();
    for line in all.lines() {
        if let Some(t) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = t.to_string();
        } else if current == table && line.split_once(" = ").is_some_and(|(k, _)| k == key) {
            continue;
        }
        kept.push(line);
    }
    kept.join("\n")
}

#[test]
fn every_key_in_the_shipped_configuration_is_a_real_key_with_a_valid_example() {
    // A backup is sealed with a passphrase or to an age recipient, never both: each example
    // is checked with the other one off.
    parse(&uncommented_without("backup.passphrase_file"));
    let on = parse(&uncommented_without("backup.recipient"));
    let defaults = parse("");
    // Keys whose commented value is the default must give exactly the default.
    assert_eq!(on.data_dir, defaults.data_dir);
    assert_eq!(on.log_level, defaults.log_level);
    assert_eq!(on.https_listen, defaults.https_listen);
    assert_eq!(on.public_port, defaults.public_port);
    assert_eq!(on.apple.dep_url, defaults.apple.dep_url);
    assert_eq!(on.apple.apns_url, defaults.apple.apns_url);
}

#[test]
fn the_shipped_configuration_documents_every_key_in_the_readme_table() {
    let keys = commented_keys();
    for key in [
        "data_dir",
        "log_level",
        "listen.https",
        "listen.http_redirect",
        "public.hosts",
        "public.port",
        "tls.cert_file",
        "tls.key_file",
        "mdm.release_timeout_minutes",
        "apple.dep_url",
        "apple.apns_url",
        "apple.extra_ca_file",
        "outbound.proxy",
        "outbound.no_proxy",
        "backup.directory",
        "backup.passphrase_file",
        "backup.recipient",
        "backup.time",
        "backup.keep",
        "metrics.enabled",
        "metrics.allow",
    ] {
        assert!(
            keys.iter().any(|k| k == key),
            "{key} missing from packaging/adebox.toml: {keys:?}"
        );
        assert!(
            CONFIG_DOC.contains(&format!("`{key}`")),
            "{key} missing from the table in docs/configuration.md"
        );
    }
    assert_eq!(
        keys.len(),
        21,
        "a key was added: document it in docs/configuration.md too: {keys:?}"
    );
}

#[test]
fn the_unit_runs_the_packaged_binary_with_the_shipped_configuration() {
    assert!(UNIT.contains("ExecStart=/usr/bin/adebox serve --config /etc/adebox/adebox.toml"));
    assert!(UNIT.contains("User=adebox") && UNIT.contains("StateDirectory=adebox"));
    assert!(UNIT.contains("man:adebox(1)"));
    assert_eq!(adebox::config::DEFAULT_PATH, "/etc/adebox/adebox.toml");
}
