//! Checking one `plist::Value` against a list of [`KeySpec`]s, key by key and type by type.
//!
//! A dictionary's keys: every required key present, every present key known (or matched by an
//! `ANY` entry), each for this [`Context`]. A value: its type; `rangelist`, `range` and
//! `format`; a dictionary's subkeys; an array's items (one item shape, or several of which each
//! item must match one) and its length (`repetition`); a string whose schema lists subkeys
//! must be one of them (DeviceInformation's `Queries`). A `<dictionary>` or `<array>` without
//! subkeys is free-form, as Apple leaves it.

use crate::context::{Applies, Context};
use crate::spec::{KeySpec, OsSupport, Scalar, Type};
use crate::violation::{Problem, Violation};
use plist::{Dictionary, Value};

/// What to do with a key no schema entry names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unknown {
    Refuse,
    /// For payloads without a schema: only their common keys are known.
    Tolerate,
}

pub(crate) struct Checker<'a> {
    pub ctx: &'a Context,
    pub out: Vec<Violation>,
}

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

fn found(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::Dictionary(_) => "dictionary",
        Value::Boolean(_) => "boolean",
        Value::Data(_) => "data",
        Value::Date(_) => "date",
        Value::Real(_) => "real",
        Value::Integer(_) => "integer",
        Value::String(_) => "string",
        Value::Uid(_) => "uid",
        _ => "an unknown plist value",
    }
}

fn type_matches(ty: Type, v: &Value) -> bool {
    matches!(
        (ty, v),
        (Type::Any, _)
            | (Type::String, Value::String(_))
            | (Type::Integer, Value::Integer(_))
            | (Type::Real, Value::Real(_))
            | (Type::Boolean, Value::Boolean(_))
            | (Type::Date, Value::Date(_))
            | (Type::Data, Value::Data(_))
            | (Type::Array, Value::Array(_))
            | (Type::Dictionary, Value::Dictionary(_))
    )
}

/// A scalar value as text, the same way for plist values and `rangelist` entries (YAML may
/// type `1` as an integer where the key is a string).
fn canon(v: &Value) -> Option<String> {
    Some(match v {
        Value::String(s) => s.clone(),
        Value::Integer(i) => {
            i.as_signed().map(|n| n.to_string()).or(i.as_unsigned().map(|n| n.to_string()))?
        }
        Value::Real(r) => r.to_string(),
        Value::Boolean(b) => b.to_string(),
        _ => return None,
    })
}

fn canon_scalar(s: &Scalar) -> String {
    match s {
        Scalar::String(s) => s.clone(),
        Scalar::Integer(i) => i.to_string(),
        Scalar::Real(r) => r.to_string(),
        Scalar::Boolean(b) => b.to_string(),
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Real(r) => Some(*r),
        Value::Integer(i) => i.as_signed().map(|n| n as f64).or(i.as_unsigned().map(|n| n as f64)),
        _ => None,
    }
}

impl Checker<'_> {
    fn push(&mut self, path: &str, problem: Problem) {
        self.out.push(Violation { path: path.to_string(), problem });
    }

    /// Checks dictionary `d` at `path` against `keys`, whose parent entry is `parent`.
    pub fn dict(
        &mut self,
        d: &Dictionary,
        keys: &[KeySpec],
        parent: &OsSupport,
        path: &str,
        unknown: Unknown,
    ) {
        let wildcard = keys.iter().find(|k| k.is_wildcard());
        for spec in keys.iter().filter(|k| !k.is_wildcard()) {
            let at = join(path, &spec.key);
            let entry = self.ctx.entry(parent, &spec.support);
            match (d.get(&spec.key), self.ctx.applies(&entry, spec.required)) {
                (Some(_), Applies::No(why)) => self.push(&at, Problem::NotSupported(why)),
                (Some(v), Applies::Yes { .. }) => self.value(v, spec, &entry, &at),
                (None, Applies::Yes { required: true }) => self.push(&at, Problem::Missing),
                (None, _) => {}
            }
        }
        for (k, v) in d {
            if keys.iter().any(|s| !s.is_wildcard() && s.key == *k) {
                continue;
            }
            let at = join(path, k);
            match wildcard {
                Some(spec) => {
                    let entry = self.ctx.entry(parent, &spec.support);
                    self.value(v, spec, &entry, &at);
                }
                None if unknown == Unknown::Refuse => self.push(&at, Problem::Unknown),
                None => {}
            }
        }
    }

    /// Checks value `v` at `path` against `spec`, whose effective entry is `entry`.
    pub fn value(&mut self, v: &Value, spec: &KeySpec, entry: &OsSupport, path: &str) {
        if !type_matches(spec.ty, v) {
            self.push(path, Problem::WrongType { expected: spec.ty, found: found(v) });
            return;
        }
        match v {
            Value::Dictionary(d) if !spec.subkeys.is_empty() => {
                self.dict(d, &spec.subkeys, entry, path, Unknown::Refuse);
            }
            Value::Array(items) => self.array(items, spec, entry, path),
            _ => self.scalar(v, spec, entry, path),
        }
    }

    fn scalar(&mut self, v: &Value, spec: &KeySpec, entry: &OsSupport, path: &str) {
        let text = canon(v);
        if !spec.rangelist.is_empty() && text.is_some() {
            let allowed: Vec<String> = spec.rangelist.iter().map(canon_scalar).collect();
            if !allowed.iter().any(|a| Some(a) == text.as_ref()) {
                let value = text.clone().unwrap_or_default();
                self.push(path, Problem::NotAllowed { value, allowed });
            }
        }
        if let Some(n) = number(v)
            && (spec.min.is_some_and(|m| n < m) || spec.max.is_some_and(|m| n > m))
        {
            let value = text.clone().unwrap_or_default();
            self.push(path, Problem::OutOfRange { value, min: spec.min, max: spec.max });
        }
        if let (Some(f), Value::String(s)) = (&spec.format, v)
            && !f.regex.is_match(s)
        {
            self.push(path, Problem::Format { value: s.clone(), pattern: f.pattern.clone() });
        }
        // A string whose schema lists subkeys names one of them (DeviceInformation queries).
        if let (Value::String(s), false) = (v, spec.subkeys.is_empty())
            && !spec.subkeys.iter().any(KeySpec::is_wildcard)
        {
            match spec.subkeys.iter().find(|k| k.key == *s) {
                Some(named) => {
                    let e = self.ctx.entry(entry, &named.support);
                    if let Applies::No(why) = self.ctx.applies(&e, false) {
                        self.push(path, Problem::NotSupported(format!("value {s:?}: {why}")));
                    }
                }
                None => {
                    let allowed = spec.subkeys.iter().map(|k| k.key.clone()).collect();
                    self.push(path, Problem::NotAllowed { value: s.clone(), allowed });
                }
            }
        }
    }

    fn array(&mut self, items: &[Value], spec: &KeySpec, entry: &OsSupport, path: &str) {
        match spec.subkeys.as_slice() {
            [] => {}
            [item] => {
                let (min, max) = item.repetition;
                let len = items.len();
                if min.is_some_and(|m| (len as u64) < m) || max.is_some_and(|m| len as u64 > m) {
                    self.push(path, Problem::Count { len, min, max });
                }
                let e = self.ctx.entry(entry, &item.support);
                for (i, v) in items.iter().enumerate() {
                    self.value(v, item, &e, &format!("{path}[{i}]"));
                }
            }
            variants => {
                for (i, v) in items.iter().enumerate() {
                    self.one_of(v, variants, entry, &format!("{path}[{i}]"));
                }
            }
        }
        if !spec.rangelist.is_empty() {
            // A rangelist on the array itself constrains its items.
            let mut as_item = spec.clone();
            as_item.subkeys.clear();
            as_item.ty = Type::Any;
            for (i, v) in items.iter().enumerate() {
                self.scalar(v, &as_item, entry, &format!("{path}[{i}]"));
            }
        }
    }

    /// An item that must match one of several shapes (the `Settings` command's items): the
    /// first that fits wins; otherwise the closest shape's findings are reported.
    fn one_of(&mut self, v: &Value, variants: &[KeySpec], entry: &OsSupport, path: &str) {
        let mut closest: Option<Vec<Violation>> = None;
        for variant in variants {
            let mut trial = Checker { ctx: self.ctx, out: Vec::new() };
            let e = self.ctx.entry(entry, &variant.support);
            match self.ctx.applies(&e, false) {
                Applies::Yes { .. } => trial.value(v, variant, &e, path),
                Applies::No(why) => trial.push(path, Problem::NotSupported(why)),
            }
            if trial.out.is_empty() {
                return;
            }
            // A shape whose pinned value (`Item`) differs is far; missing keys are near.
            let distance = |found: &[Violation]| -> usize {
                found
                    .iter()
                    .map(|f| if matches!(f.problem, Problem::NotAllowed { .. }) { 100 } else { 1 })
                    .sum()
            };
            if closest.as_ref().is_none_or(|c| distance(&trial.out) < distance(c)) {
                closest = Some(trial.out);
            }
        }
        let names = variants.iter().map(|k| k.key.clone()).collect();
        self.push(path, Problem::NoVariant { variants: names });
        self.out.extend(closest.unwrap_or_default());
    }
}
