//! Reading one schema file (Apple's YAML format, `../shared/fixtures/README.md`
//! "device-management/") into a [`Schema`].
//!
//! Strict on purpose: an attribute, type or OS entry this reader does not understand is an
//! error naming the file and the key, so a newer schema that says something new fails the
//! tests instead of being half read. Attributes that only document (`title`, `content`,
//! `default`, `subkeytype`, `deprecated`) or that describe conditions the checker does not model
//! (`accessrights`, `supervised`, `requiresdep`, `sharedipad`, `multiple`, …) are read and
//! ignored; the crate docs list them.

use crate::spec::*;
use yaml_rust2::Yaml;

/// Why a schema file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {detail}")]
    Io { path: String, detail: String },
    #[error("{path} is not valid YAML: {detail}")]
    Yaml { path: String, detail: String },
    #[error("{path}: {at}: {detail}")]
    Schema { path: String, at: String, detail: String },
    #[error(
        "{path}: the overlay adds {key:?} to {name}, but Apple's schema ({apple}) already defines \
         it: remove the key from the overlay"
    )]
    OverlayDuplicate { path: String, name: String, key: String, apple: String },
    #[error(
        "{path}: the overlay key {key:?} has no `source:`; cite the spec section that documents \
         it (../shared/spec/FILE §N)"
    )]
    Uncited { path: String, key: String },
    #[error(
        "{path}: the overlay makes {name} available on {os}, but Apple's schema ({apple}) already \
         lists {os}: remove {os} from the overlay's payload.supportedOS"
    )]
    OverlaySupportDuplicate { path: String, name: String, os: Os, apple: String },
    #[error("{path} is not a checkout of apple/device-management: {detail}")]
    NotACheckout { path: String, detail: String },
    #[error("{path}: {kind:?} {name:?} is also defined by {other}")]
    Duplicate { path: String, kind: Kind, name: String, other: String },
}

/// Attributes of a key entry this reader knows. `source` is the overlay's citation.
const KEY_ATTRIBUTES: &[&str] = &[
    "key",
    "title",
    "type",
    "presence",
    "content",
    "default",
    "rangelist",
    "range",
    "format",
    "repetition",
    "supportedOS",
    "subkeys",
    "subkeytype",
    "source",
];

/// `supportedOS` attributes of an OS entry; those not modelled are listed so that a new one
/// still stops the load.
const OS_ATTRIBUTES: &[&str] = &[
    "introduced",
    "deprecated",
    "removed",
    "devicechannel",
    "userchannel",
    "userenrollment",
    "accessrights",
    "supervised",
    "requiresdep",
    "sharedipad",
    "multiple",
    "allowmanualinstall",
    "userapprovedmdm",
    "always-skippable",
];

const FILE_ATTRIBUTES: &[&str] =
    &["title", "description", "payload", "payloadkeys", "responsekeys", "notes", "examples"];

struct Reader<'a> {
    path: &'a str,
}

impl Reader<'_> {
    fn err(&self, at: &str, detail: impl Into<String>) -> LoadError {
        LoadError::Schema { path: self.path.to_string(), at: at.to_string(), detail: detail.into() }
    }

    fn hash<'y>(&self, y: &'y Yaml, at: &str) -> Result<&'y yaml_rust2::yaml::Hash, LoadError> {
        y.as_hash().ok_or_else(|| self.err(at, "expected a mapping"))
    }

    fn only(&self, y: &Yaml, allowed: &[&str], at: &str) -> Result<(), LoadError> {
        for k in self.hash(y, at)?.keys() {
            let name = k.as_str().ok_or_else(|| self.err(at, "a non-text attribute name"))?;
            if !allowed.contains(&name) {
                return Err(self.err(at, format!("unknown attribute {name:?}")));
            }
        }
        Ok(())
    }

    fn text(&self, y: &Yaml, at: &str) -> Result<String, LoadError> {
        match y {
            Yaml::String(s) | Yaml::Real(s) => Ok(s.clone()),
            Yaml::Integer(i) => Ok(i.to_string()),
            _ => Err(self.err(at, "expected text")),
        }
    }

    fn number(&self, y: &Yaml, at: &str) -> Result<Option<f64>, LoadError> {
        match y {
            Yaml::BadValue | Yaml::Null => Ok(None),
            Yaml::Integer(i) => Ok(Some(*i as f64)),
            Yaml::Real(s) => s.parse().map(Some).map_err(|_| self.err(at, "expected a number")),
            _ => Err(self.err(at, "expected a number")),
        }
    }

    fn version(&self, y: &Yaml, at: &str) -> Result<Version, LoadError> {
        let t = self.text(y, at)?;
        Version::parse(&t).ok_or_else(|| self.err(at, format!("{t:?} is not a version")))
    }

    fn support(&self, y: &Yaml, at: &str) -> Result<Support, LoadError> {
        let mut out = Support::default();
        if y.is_badvalue() {
            return Ok(out);
        }
        for (os, entry) in self.hash(y, at)? {
            let name = os.as_str().unwrap_or_default();
            let at = format!("{at}.{name}");
            // An OS this crate does not know is not one a check can be asked about.
            let Some(os) = Os::parse(name) else { continue };
            let mut s = OsSupport::default();
            if !entry.is_null() {
                self.only(entry, OS_ATTRIBUTES, &at)?;
                let introduced = &entry["introduced"];
                if !introduced.is_badvalue() {
                    let t = self.text(introduced, &at)?;
                    s.introduced = Some(match t.as_str() {
                        "n/a" => Introduced::NotAvailable,
                        _ => Introduced::In(self.version(introduced, &at)?),
                    });
                }
                if !entry["removed"].is_badvalue() {
                    s.removed = Some(self.version(&entry["removed"], &at)?);
                }
                s.device_channel = entry["devicechannel"].as_bool();
                s.user_channel = entry["userchannel"].as_bool();
                let mode = &entry["userenrollment"]["mode"];
                if !mode.is_badvalue() {
                    s.user_enrollment = Some(match mode.as_str() {
                        Some("allowed") => UserEnrollment::Allowed,
                        Some("forbidden") => UserEnrollment::Forbidden,
                        Some("required") => UserEnrollment::Required,
                        Some("ignored") => UserEnrollment::Ignored,
                        _ => return Err(self.err(&at, "unknown userenrollment mode")),
                    });
                }
            }
            out.0.insert(os, s);
        }
        Ok(out)
    }

    fn scalar(&self, y: &Yaml, at: &str) -> Result<Scalar, LoadError> {
        Ok(match y {
            Yaml::String(s) => Scalar::String(s.clone()),
            Yaml::Integer(i) => Scalar::Integer(*i),
            Yaml::Real(s) => Scalar::Real(s.parse().map_err(|_| self.err(at, "bad real"))?),
            Yaml::Boolean(b) => Scalar::Boolean(*b),
            _ => return Err(self.err(at, "a rangelist value that is not a scalar")),
        })
    }

    fn key(&self, y: &Yaml, parent: &str) -> Result<KeySpec, LoadError> {
        let name = y["key"].as_str().ok_or_else(|| self.err(parent, "a key without `key:`"))?;
        let at = if parent.is_empty() { name.to_string() } else { format!("{parent}.{name}") };
        self.only(y, KEY_ATTRIBUTES, &at)?;
        let ty_text = y["type"].as_str().ok_or_else(|| self.err(&at, "no `type:`"))?;
        let ty = Type::parse(ty_text)
            .ok_or_else(|| self.err(&at, format!("unknown type {ty_text:?}")))?;
        let mut spec = KeySpec::new(name, ty, false);
        spec.required = match y["presence"].as_str() {
            Some("required") => true,
            Some("optional") | None => false,
            Some(other) => return Err(self.err(&at, format!("unknown presence {other:?}"))),
        };
        if let Some(list) = y["rangelist"].as_vec() {
            spec.rangelist = list.iter().map(|v| self.scalar(v, &at)).collect::<Result<_, _>>()?;
        }
        spec.min = self.number(&y["range"]["min"], &at)?;
        spec.max = self.number(&y["range"]["max"], &at)?;
        if let Some(pattern) = y["format"].as_str() {
            let regex = regex_lite::Regex::new(pattern)
                .map_err(|e| self.err(&at, format!("format {pattern:?}: {e}")))?;
            spec.format = Some(Format { pattern: pattern.to_string(), regex });
        }
        let count = |v: &Yaml| v.as_i64().and_then(|n| u64::try_from(n).ok());
        spec.repetition = (count(&y["repetition"]["min"]), count(&y["repetition"]["max"]));
        spec.support = self.support(&y["supportedOS"], &format!("{at}.supportedOS"))?;
        spec.source = y["source"].as_str().map(str::to_string);
        spec.subkeys = self.keys(&y["subkeys"], &at)?;
        Ok(spec)
    }

    fn keys(&self, y: &Yaml, parent: &str) -> Result<Vec<KeySpec>, LoadError> {
        match y {
            Yaml::BadValue | Yaml::Null => Ok(Vec::new()),
            Yaml::Array(items) => items.iter().map(|k| self.key(k, parent)).collect(),
            _ => Err(self.err(parent, "`subkeys`/`payloadkeys` is not a list")),
        }
    }
}

/// Parses the text of one schema file of `kind`; `path` names it in errors.
pub fn parse(kind: Kind, path: &str, text: &str) -> Result<Schema, LoadError> {
    let docs = yaml_rust2::YamlLoader::load_from_str(text)
        .map_err(|e| LoadError::Yaml { path: path.to_string(), detail: e.to_string() })?;
    let r = Reader { path };
    let doc = docs.first().ok_or_else(|| r.err("", "the file is empty"))?;
    r.only(doc, FILE_ATTRIBUTES, "")?;
    let payload = &doc["payload"];
    let name = payload["payloadtype"]
        .as_str()
        .or(payload["requesttype"].as_str())
        .ok_or_else(|| r.err("payload", "neither `payloadtype` nor `requesttype`"))?;
    Ok(Schema {
        kind,
        name: name.to_string(),
        files: vec![path.to_string()],
        support: r.support(&payload["supportedOS"], "payload.supportedOS")?,
        keys: r.keys(&doc["payloadkeys"], "")?,
        response_keys: r.keys(&doc["responsekeys"], "")?,
        source: payload["source"].as_str().map(str::to_string),
    })
}
