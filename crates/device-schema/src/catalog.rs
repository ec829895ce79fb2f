//! [`Schemas`]: every schema file of Apple's folder plus the project overlay, and the checks
//! callers use: a whole profile ([`Schemas::check_profile`]), one payload, a command plist, a
//! check-in message, and a device's report on a command.
//!
//! The overlay (`schemas/overlay/`, same layout and format as Apple's `mdm/` folder) adds keys
//! to Apple's schemas, each with a `source:` citation, makes a schema available on an OS
//! Apple's file marks `n/a` (its `payload.supportedOS`, cited by `payload.source`), and
//! describes what Apple publishes no file for (the envelopes of `mdm/envelope/`). It can only
//! add: a key or an OS Apple's file already has is a load error, so a newer Apple schema shows
//! up as a failing test and the overlay entry is removed.

use crate::check::{Checker, Unknown, join};
use crate::context::Context;
use crate::spec::{Introduced, KeySpec, Kind, OsSupport, Scalar, Schema, Type};
use crate::violation::{Problem, Violation, Violations, result};
use crate::yaml::{LoadError, parse};
use plist::{Dictionary, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// The overlay's name for the command plist around `Command` (`mdm/envelope/command.yaml`).
pub const COMMAND_ENVELOPE: &str = "CommandEnvelope";
/// The overlay's name for a device's report on the command channel (`mdm/envelope/report.yaml`).
pub const REPORT_ENVELOPE: &str = "CommandReport";

/// What merging the overlay does with a key Apple's schema already defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Clash {
    /// A load error: the tests' rule, so the overlay entry gets removed.
    Refuse,
    /// Apple's definition stays: a site's newer checkout must not stop the daemon.
    AppleWins,
}

/// All schemas, by kind and name.
#[derive(Clone, Debug, Default)]
pub struct Schemas {
    by_name: BTreeMap<(Kind, String), Schema>,
}

fn yaml_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, LoadError> {
    let io = |e: std::io::Error| LoadError::Io {
        path: dir.display().to_string(),
        detail: e.to_string(),
    };
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io)?;
    out.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    out.sort();
    Ok(out)
}

fn read(path: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(path)
        .map_err(|e| LoadError::Io { path: path.display().to_string(), detail: e.to_string() })
}

pub(crate) const KINDS: [Kind; 4] = [Kind::Payload, Kind::Command, Kind::CheckIn, Kind::Envelope];

/// Every key of `keys` and below, with its dotted path.
fn cited(keys: &[KeySpec], path: &str, out: &mut Vec<(String, bool)>) {
    for k in keys {
        let at = join(path, &k.key);
        out.push((at.clone(), k.source.is_some()));
        cited(&k.subkeys, &at, out);
    }
}

impl Schemas {
    /// Loads Apple's files from `apple` (the `device-management` folder: `mdm/profiles`,
    /// `mdm/commands`, `mdm/checkin`) and merges `overlay` (same layout; may be absent).
    pub fn load(apple: &Path, overlay: &Path) -> Result<Schemas, LoadError> {
        let mut s = Schemas::apple(apple)?;
        for kind in KINDS {
            for path in yaml_files(&overlay.join("mdm").join(kind.folder()))? {
                s.merge(parse(kind, &path.display().to_string(), &read(&path)?)?)?;
            }
        }
        Ok(s)
    }

    /// Apple's files alone, from the `device-management` folder `apple`.
    pub(crate) fn apple(apple: &Path) -> Result<Schemas, LoadError> {
        let mut s = Schemas::default();
        for kind in KINDS {
            for path in yaml_files(&apple.join("mdm").join(kind.folder()))? {
                s.add(parse(kind, &path.display().to_string(), &read(&path)?)?)?;
            }
        }
        Ok(s)
    }

    /// Loads from the fixtures folder (`…/shared/fixtures`) and this repository's overlay.
    pub fn from_fixtures(fixtures: &Path) -> Result<Schemas, LoadError> {
        Schemas::load(&fixtures.join("device-management"), &overlay_dir())
    }

    /// Adds one of Apple's schemas.
    pub fn add(&mut self, schema: Schema) -> Result<(), LoadError> {
        let id = (schema.kind, schema.name.clone());
        if let Some(other) = self.by_name.get(&id) {
            return Err(LoadError::Duplicate {
                path: schema.files.join(", "),
                kind: schema.kind,
                name: schema.name,
                other: other.files.join(", "),
            });
        }
        self.by_name.insert(id, schema);
        Ok(())
    }

    /// Adds an overlay schema: new keys for an existing schema, or a schema of its own. Every
    /// key it brings must cite its source; a key Apple's schema already has is an error.
    pub fn merge(&mut self, overlay: Schema) -> Result<(), LoadError> {
        self.merge_with(overlay, Clash::Refuse)
    }

    /// [`Schemas::merge`], with `clash` deciding what a key Apple's schema already has does.
    pub(crate) fn merge_with(&mut self, overlay: Schema, clash: Clash) -> Result<(), LoadError> {
        let path = overlay.files.join(", ");
        let mut all = Vec::new();
        cited(&overlay.keys, "", &mut all);
        cited(&overlay.response_keys, "", &mut all);
        if let Some((key, _)) = all.into_iter().find(|(_, c)| !c) {
            return Err(LoadError::Uncited { path, key });
        }
        if !overlay.support.0.is_empty() && overlay.source.is_none() {
            return Err(LoadError::Uncited { path, key: "payload.supportedOS".into() });
        }
        let id = (overlay.kind, overlay.name.clone());
        let Some(apple) = self.by_name.get_mut(&id) else {
            self.by_name.insert(id, overlay);
            return Ok(());
        };
        // An OS Apple's file marks `n/a` (or omits) can be made available, cited: a message
        // Apple's newer documentation brings to iOS before the published YAML does. An OS
        // Apple's file already dates is Apple's to describe.
        for (os, entry) in overlay.support.0 {
            match apple.support.0.get(&os) {
                None | Some(OsSupport { introduced: Some(Introduced::NotAvailable), .. }) => {
                    apple.support.0.insert(os, entry);
                }
                Some(_) if clash == Clash::AppleWins => {}
                Some(_) => {
                    return Err(LoadError::OverlaySupportDuplicate {
                        path,
                        name: apple.name.clone(),
                        os,
                        apple: apple.files[0].clone(),
                    });
                }
            }
        }
        for (theirs, ours) in
            [(&mut apple.keys, overlay.keys), (&mut apple.response_keys, overlay.response_keys)]
        {
            for key in ours {
                if theirs.iter().any(|k| k.key == key.key) {
                    if clash == Clash::AppleWins {
                        continue;
                    }
                    return Err(LoadError::OverlayDuplicate {
                        path,
                        name: apple.name.clone(),
                        key: key.key,
                        apple: apple.files[0].clone(),
                    });
                }
                theirs.push(key);
            }
        }
        apple.files.push(path);
        Ok(())
    }

    /// The schema of `kind` named `name`.
    pub fn get(&self, kind: Kind, name: &str) -> Option<&Schema> {
        self.by_name.get(&(kind, name.to_string()))
    }

    /// How many schemas of `kind` are loaded.
    pub fn count(&self, kind: Kind) -> usize {
        self.by_name.keys().filter(|(k, _)| *k == kind).count()
    }

    fn require(&self, kind: Kind, name: &str) -> Result<&Schema, Violations> {
        self.get(kind, name).ok_or_else(|| {
            Violations(vec![Violation {
                path: String::new(),
                problem: Problem::NoSchema(format!("{kind:?} {name} (is the folder complete?)")),
            }])
        })
    }

    /// Checks a whole configuration profile: the top level (`TopLevel`) and each payload of
    /// `PayloadContent`.
    pub fn check_profile(&self, profile: &Value, ctx: &Context) -> Result<(), Violations> {
        let top = self.require(Kind::Payload, "TopLevel")?;
        let mut c = Checker { ctx, out: Vec::new() };
        let Some(d) = as_dict(profile, &mut c, "") else { return result(c.out) };
        let entry = root_entry_at(&mut c, top, "");
        c.dict(d, &top.keys, &entry, "", Unknown::Refuse);
        if let Some(Value::Array(payloads)) = d.get("PayloadContent") {
            for (i, p) in payloads.iter().enumerate() {
                if let Value::Dictionary(p) = p {
                    self.payload_into(p, &mut c, &format!("PayloadContent[{i}]"));
                }
            }
        }
        result(c.out)
    }

    fn payload_into(&self, d: &Dictionary, c: &mut Checker, path: &str) {
        let Some(common) = self.get(Kind::Payload, "CommonPayloadKeys") else {
            c.out.push(Violation {
                path: path.into(),
                problem: Problem::NoSchema("CommonPayloadKeys".into()),
            });
            return;
        };
        let payload_type = d.get("PayloadType").and_then(Value::as_string).unwrap_or_default();
        let schema = self.get(Kind::Payload, payload_type).filter(|_| !payload_type.is_empty());
        let (keys, support, unknown) = match schema {
            Some(s) => {
                let mut keys = s.keys.clone();
                for k in &common.keys {
                    if !keys.iter().any(|o| o.key == k.key) {
                        keys.push(k.clone());
                    }
                }
                fix(&mut keys, "PayloadType", payload_type);
                (keys, s, Unknown::Refuse)
            }
            None => (common.keys.clone(), common, Unknown::Tolerate),
        };
        let entry = root_entry_at(c, support, path);
        c.dict(d, &keys, &entry, path, unknown);
    }

    /// Checks a command plist (`{CommandUUID, Command: {RequestType, …}}`): the envelope, then
    /// `Command` against its `RequestType`'s schema.
    pub fn check_command(&self, command: &Value, ctx: &Context) -> Result<(), Violations> {
        let envelope = self.require(Kind::Envelope, COMMAND_ENVELOPE)?;
        let mut c = Checker { ctx, out: Vec::new() };
        let Some(d) = as_dict(command, &mut c, "") else { return result(c.out) };
        c.dict(d, &envelope.keys, &OsSupport::default(), "", Unknown::Refuse);
        if let Some(Value::Dictionary(cmd)) = d.get("Command") {
            match cmd.get("RequestType").and_then(Value::as_string) {
                Some(rt) => match self.get(Kind::Command, rt) {
                    Some(schema) => {
                        let mut keys = schema.keys.clone();
                        if !keys.iter().any(|k| k.key == "RequestType") {
                            keys.push(KeySpec::new("RequestType", Type::String, true));
                        }
                        fix(&mut keys, "RequestType", rt);
                        let entry = root_entry_at(&mut c, schema, "Command");
                        c.dict(cmd, &keys, &entry, "Command", Unknown::Refuse);
                    }
                    None => c.out.push(Violation {
                        path: "Command.RequestType".into(),
                        problem: Problem::NoSchema(format!("the command {rt:?}")),
                    }),
                },
                None => c.out.push(Violation {
                    path: "Command.RequestType".into(),
                    problem: Problem::Missing,
                }),
            }
        }
        result(c.out)
    }

    /// Checks a check-in message against its `MessageType`'s schema.
    pub fn check_check_in(&self, message: &Value, ctx: &Context) -> Result<(), Violations> {
        let mut c = Checker { ctx, out: Vec::new() };
        let Some(d) = as_dict(message, &mut c, "") else { return result(c.out) };
        let Some(mt) = d.get("MessageType").and_then(Value::as_string) else {
            c.out.push(Violation { path: "MessageType".into(), problem: Problem::Missing });
            return result(c.out);
        };
        let Some(schema) = self.get(Kind::CheckIn, mt) else {
            let problem = Problem::NoSchema(format!("the check-in message {mt:?}"));
            return result(vec![Violation { path: "MessageType".into(), problem }]);
        };
        let entry = root_entry_at(&mut c, schema, "");
        c.dict(d, &schema.keys, &entry, "", Unknown::Refuse);
        result(c.out)
    }

    /// Checks the server's answer to a check-in message (`ReturnToService`, …) against the
    /// message's `responsekeys`.
    pub fn check_check_in_response(
        &self,
        message_type: &str,
        answer: &Value,
        ctx: &Context,
    ) -> Result<(), Violations> {
        let schema = self.require(Kind::CheckIn, message_type)?;
        let mut c = Checker { ctx, out: Vec::new() };
        let Some(d) = as_dict(answer, &mut c, "") else { return result(c.out) };
        c.dict(d, &schema.response_keys, &OsSupport::default(), "", Unknown::Refuse);
        result(c.out)
    }

    /// Checks a device's report on the command channel: the report envelope, and for an
    /// `Acknowledged` report on `request_type` also that command's `responsekeys`.
    pub fn check_report(
        &self,
        report: &Value,
        request_type: Option<&str>,
        ctx: &Context,
    ) -> Result<(), Violations> {
        let envelope = self.require(Kind::Envelope, REPORT_ENVELOPE)?;
        let mut c = Checker { ctx, out: Vec::new() };
        let Some(d) = as_dict(report, &mut c, "") else { return result(c.out) };
        let mut keys = envelope.keys.clone();
        let acknowledged = d.get("Status").and_then(Value::as_string) == Some("Acknowledged");
        if let (true, Some(rt)) = (acknowledged, request_type) {
            let schema = self.require(Kind::Command, rt)?;
            keys.extend(schema.response_keys.iter().cloned());
            fix(&mut keys, "RequestType", rt);
        }
        c.dict(d, &keys, &OsSupport::default(), "", Unknown::Refuse);
        result(c.out)
    }
}

/// Where the project's overlay lives (`schemas/overlay/` at the repository root).
pub fn overlay_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/overlay")
}

/// Pins key `key` of `keys` to `value` (a payload's own `PayloadType`, a command's own
/// `RequestType`).
fn fix(keys: &mut [KeySpec], key: &str, value: &str) {
    if let Some(k) = keys.iter_mut().find(|k| k.key == key) {
        k.rangelist = vec![Scalar::String(value.to_string())];
    }
}

fn as_dict<'v>(v: &'v Value, c: &mut Checker, path: &str) -> Option<&'v Dictionary> {
    let d = v.as_dictionary();
    if d.is_none() {
        c.out.push(Violation {
            path: path.to_string(),
            problem: Problem::WrongType { expected: Type::Dictionary, found: "another value" },
        });
    }
    d
}

/// The schema's own entry for the context's OS; a schema not on that OS is a finding.
fn root_entry_at(c: &mut Checker, schema: &Schema, path: &str) -> OsSupport {
    match c.ctx.payload_entry(&schema.support) {
        Ok(e) => {
            if let crate::context::Applies::No(why) = c.ctx.applies(&e, false) {
                let problem = Problem::NotSupported(format!("{} {}", schema.name, why));
                c.out.push(Violation { path: path.to_string(), problem });
            }
            e
        }
        Err(why) => {
            let problem = Problem::NotSupported(format!("{} {why}", schema.name));
            c.out.push(Violation { path: path.to_string(), problem });
            OsSupport::default()
        }
    }
}
