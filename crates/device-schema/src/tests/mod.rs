//! The checker on small hand-made schemas: each kind of deviation is found, with its path;
//! conforming plists pass; the loader refuses what it does not understand and an overlay that
//! loosens or lacks a citation. Apple's real folder is checked in `real`.

use super::*;
use plist::{Dictionary, Value};

fn schema(kind: Kind, text: &str) -> spec::Schema {
    parse(kind, "snippet.yaml", text).unwrap_or_else(|e| panic!("{e}"))
}

/// A command `Demo` exercising every attribute the checker reads.
const DEMO: &str = r#"
title: Demo
payload:
  requesttype: Demo
  supportedOS:
    iOS:
      introduced: '10.0'
    macOS:
      introduced: '11.0'
payloadkeys:
- key: Name
  type: <string>
  presence: required
- key: Mode
  type: <string>
  presence: optional
  rangelist: [Fast, Slow]
- key: Level
  type: <integer>
  presence: optional
  rangelist: [1, 2]
- key: Ratio
  type: <real>
  range:
    min: 0.0
    max: 1.0
- key: URL
  type: <string>
  format: ^https://.*$
- key: Flag
  type: <boolean>
- key: When
  type: <date>
- key: Blob
  type: <data>
- key: Anything
  type: <any>
- key: MacOnly
  supportedOS:
    iOS:
      introduced: n/a
  type: <string>
- key: New
  supportedOS:
    iOS:
      introduced: '17.0'
  type: <string>
- key: Gone
  supportedOS:
    iOS:
      removed: '16.0'
  type: <string>
- key: UserOnly
  supportedOS:
    iOS:
      userenrollment:
        mode: required
  type: <string>
  presence: required
- key: NotInUser
  supportedOS:
    iOS:
      userenrollment:
        mode: forbidden
  type: <string>
- key: Nested
  type: <dictionary>
  subkeys:
  - key: Inner
    type: <integer>
    presence: required
- key: Free
  type: <dictionary>
- key: Pairs
  type: <array>
  subkeys:
  - key: Pair
    type: <array>
    subkeys:
    - key: PairItem
      type: <string>
      repetition:
        min: 2
        max: 2
- key: Caps
  type: <array>
  subkeys:
  - key: CapsItem
    type: <string>
    rangelist: [a, b]
- key: Queries
  type: <array>
  subkeys:
  - key: QueriesItem
    type: <string>
    subkeys:
    - key: UDID
      type: <string>
    - key: HostName
      supportedOS:
        iOS:
          introduced: n/a
      type: <string>
- key: Settings
  type: <array>
  subkeys:
  - key: Rename
    type: <dictionary>
    subkeys:
    - key: Item
      type: <string>
      presence: required
      rangelist: [Rename]
    - key: Name
      type: <string>
      presence: required
  - key: Roam
    type: <dictionary>
    subkeys:
    - key: Item
      type: <string>
      presence: required
      rangelist: [Roam]
    - key: On
      type: <boolean>
      presence: required
- key: Map
  type: <dictionary>
  subkeys:
  - key: ANY
    type: <integer>
responsekeys:
- key: Answer
  type: <string>
  presence: required
"#;

const ENVELOPE: &str = r#"
payload:
  requesttype: CommandEnvelope
payloadkeys:
- key: CommandUUID
  source: test
  type: <string>
  presence: required
- key: Command
  source: test
  type: <dictionary>
  presence: required
"#;

const REPORT: &str = r#"
payload:
  requesttype: CommandReport
payloadkeys:
- key: UDID
  source: test
  type: <string>
  presence: required
- key: Status
  source: test
  type: <string>
  presence: required
  rangelist: [Idle, Acknowledged, Error]
- key: CommandUUID
  source: test
  type: <string>
"#;

fn schemas() -> Schemas {
    let mut s = Schemas::default();
    s.add(schema(Kind::Command, DEMO)).unwrap();
    s.merge(schema(Kind::Envelope, ENVELOPE)).unwrap();
    s.merge(schema(Kind::Envelope, REPORT)).unwrap();
    s
}

pub(crate) fn dict(pairs: &[(&str, Value)]) -> Dictionary {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn strings(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| Value::String(s.to_string())).collect())
}

/// A `Demo` command that conforms, with every key set.
fn good() -> Dictionary {
    dict(&[
        ("RequestType", "Demo".into()),
        ("Name", "n".into()),
        ("Mode", "Fast".into()),
        ("Level", 2.into()),
        ("Ratio", Value::Real(0.5)),
        ("URL", "https://x.example/".into()),
        ("Flag", true.into()),
        ("When", Value::Date(std::time::UNIX_EPOCH.into())),
        ("Blob", Value::Data(vec![1, 2])),
        ("Anything", Value::Array(vec![1.into(), "x".into()])),
        ("NotInUser", "x".into()),
        ("Nested", Value::Dictionary(dict(&[("Inner", 1.into())]))),
        ("Free", Value::Dictionary(dict(&[("whatever", true.into())]))),
        ("Pairs", Value::Array(vec![strings(&["CN", "x"]), strings(&["O", "y"])])),
        ("Caps", strings(&["a", "b"])),
        ("Queries", strings(&["UDID"])),
        (
            "Settings",
            Value::Array(vec![
                Value::Dictionary(dict(&[("Item", "Rename".into()), ("Name", "x".into())])),
                Value::Dictionary(dict(&[("Item", "Roam".into()), ("On", false.into())])),
            ]),
        ),
        ("Map", Value::Dictionary(dict(&[("a", 1.into()), ("b", 2.into())]))),
    ])
}

pub(crate) fn command(inner: Dictionary) -> Value {
    Value::Dictionary(dict(&[("CommandUUID", "u".into()), ("Command", Value::Dictionary(inner))]))
}

fn ios() -> Context {
    Context::device(Os::Ios).at("16.0")
}

fn check_with(change: impl FnOnce(&mut Dictionary), ctx: &Context) -> Result<(), Violations> {
    let mut d = good();
    change(&mut d);
    schemas().check_command(&command(d), ctx)
}

/// The single finding of `good()` changed by `change`, as (path, problem).
fn finding(change: impl FnOnce(&mut Dictionary)) -> (String, Problem) {
    let v = check_with(change, &ios()).expect_err("the deviation went unnoticed");
    assert_eq!(v.0.len(), 1, "{v}");
    (v.0[0].path.clone(), v.0[0].problem.clone())
}

#[test]
fn a_conforming_command_passes() {
    schemas().check_command(&command(good()), &ios()).unwrap();
    // Only the required keys.
    let minimal = dict(&[("RequestType", "Demo".into()), ("Name", "n".into())]);
    schemas().check_command(&command(minimal), &ios()).unwrap();
}

#[test]
fn a_missing_required_key_is_found() {
    assert_eq!(finding(|d| drop(d.remove("Name"))), ("Command.Name".into(), Problem::Missing));
    let nested = finding(|d| {
        d.insert("Nested".into(), Value::Dictionary(Dictionary::new()));
    });
    assert_eq!(nested, ("Command.Nested.Inner".into(), Problem::Missing));
    let v = schemas().check_command(&Value::Dictionary(Dictionary::new()), &ios()).unwrap_err();
    assert_eq!(v.at("CommandUUID"), Some(&Problem::Missing), "{v}");
    assert_eq!(v.at("Command"), Some(&Problem::Missing), "{v}");
}

#[test]
fn an_unknown_key_is_found_at_every_level() {
    assert_eq!(
        finding(|d| drop(d.insert("Extra".into(), 1.into()))),
        ("Command.Extra".into(), Problem::Unknown)
    );
    let (path, problem) = finding(|d| {
        let n = dict(&[("Inner", 1.into()), ("Stray", 1.into())]);
        d.insert("Nested".into(), Value::Dictionary(n));
    });
    assert_eq!((path.as_str(), problem), ("Command.Nested.Stray", Problem::Unknown));
    let mut top = command(good()).into_dictionary().unwrap();
    top.insert("Extra".into(), true.into());
    let v = schemas().check_command(&Value::Dictionary(top), &ios()).unwrap_err();
    assert_eq!(v.at("Extra"), Some(&Problem::Unknown));
}

#[test]
fn each_wrong_type_is_found() {
    let cases: Vec<(&str, Value, Type)> = vec![
        ("Name", 1.into(), Type::String),
        ("Level", "2".into(), Type::Integer),
        ("Ratio", 1.into(), Type::Real),
        ("Flag", "true".into(), Type::Boolean),
        ("When", "2026-01-01T00:00:00Z".into(), Type::Date),
        ("Blob", "AQI=".into(), Type::Data),
        ("Caps", "a".into(), Type::Array),
        ("Nested", strings(&[]), Type::Dictionary),
    ];
    for (key, value, expected) in cases {
        let (path, problem) = finding(|d| drop(d.insert(key.into(), value.clone())));
        assert_eq!(path, format!("Command.{key}"));
        assert!(
            matches!(problem, Problem::WrongType { expected: e, .. } if e == expected),
            "{key}: {problem}"
        );
    }
    // Inside arrays and under ANY.
    let (path, _) = finding(|d| drop(d.insert("Caps".into(), Value::Array(vec![1.into()]))));
    assert_eq!(path, "Command.Caps[0]");
    let (path, _) = finding(|d| {
        d.insert("Map".into(), Value::Dictionary(dict(&[("a", "one".into())])));
    });
    assert_eq!(path, "Command.Map.a");
}

#[test]
fn the_old_payload_description_shape_is_a_wrong_type() {
    // What an Option inside a serde(flatten) struct became: a dictionary with one key `Some`.
    let (path, problem) = finding(|d| {
        d.insert("Name".into(), Value::Dictionary(dict(&[("Some", "text".into())])));
    });
    assert_eq!(path, "Command.Name");
    assert_eq!(problem, Problem::WrongType { expected: Type::String, found: "dictionary" });
}

#[test]
fn values_outside_rangelist_range_and_format_are_found() {
    let (p, problem) = finding(|d| drop(d.insert("Mode".into(), "Medium".into())));
    assert_eq!(p, "Command.Mode");
    assert!(matches!(problem, Problem::NotAllowed { ref value, .. } if value == "Medium"));
    let (p, _) = finding(|d| drop(d.insert("Level".into(), 3.into())));
    assert_eq!(p, "Command.Level");
    let (p, problem) = finding(|d| drop(d.insert("Ratio".into(), Value::Real(1.5))));
    assert_eq!(p, "Command.Ratio");
    assert!(matches!(problem, Problem::OutOfRange { .. }), "{problem}");
    let (p, problem) = finding(|d| drop(d.insert("URL".into(), "http://x.example/".into())));
    assert_eq!(p, "Command.URL");
    assert!(matches!(problem, Problem::Format { .. }), "{problem}");
    let (p, _) = finding(|d| drop(d.insert("Caps".into(), strings(&["a", "c"]))));
    assert_eq!(p, "Command.Caps[1]");
    let (p, problem) = finding(|d| drop(d.insert("Queries".into(), strings(&["Nope"]))));
    assert_eq!(p, "Command.Queries[0]");
    assert!(matches!(problem, Problem::NotAllowed { .. }), "{problem}");
    // The command's own RequestType is pinned.
    let v = schemas()
        .check_command(&command(dict(&[("RequestType", "Other".into())])), &ios())
        .unwrap_err();
    assert!(matches!(v.at("Command.RequestType"), Some(Problem::NoSchema(_))), "{v}");
}

#[test]
fn array_lengths_follow_repetition() {
    let (p, problem) =
        finding(|d| drop(d.insert("Pairs".into(), Value::Array(vec![strings(&["CN"])]))));
    assert_eq!(p, "Command.Pairs[0]");
    assert_eq!(problem, Problem::Count { len: 1, min: Some(2), max: Some(2) });
}

#[test]
fn an_item_must_match_one_of_several_shapes() {
    let v = check_with(
        |d| {
            let wrong = dict(&[("Item", "Rename".into()), ("On", true.into())]);
            d.insert("Settings".into(), Value::Array(vec![Value::Dictionary(wrong)]));
        },
        &ios(),
    )
    .unwrap_err();
    assert!(matches!(v.at("Command.Settings[0]"), Some(Problem::NoVariant { .. })), "{v}");
    // The closest shape's findings say what to fix.
    assert_eq!(v.at("Command.Settings[0].Name"), Some(&Problem::Missing), "{v}");
}

#[test]
fn keys_follow_the_os_version_channel_and_enrollment() {
    let not = |p: Option<&Problem>| matches!(p, Some(Problem::NotSupported(_)));
    // Not on iOS at all; fine on macOS.
    let (p, problem) = finding(|d| drop(d.insert("MacOnly".into(), "x".into())));
    assert!(p == "Command.MacOnly" && not(Some(&problem)), "{problem}");
    let on_mac = |d: &mut Dictionary| {
        d.insert("MacOnly".into(), "x".into());
        d.insert("UserOnly".into(), "x".into());
    };
    check_with(on_mac, &Context::device(Os::MacOs)).unwrap();
    // Introduced later than the device's version; removed by it.
    let (_, problem) = finding(|d| drop(d.insert("New".into(), "x".into())));
    assert!(problem.to_string().contains("introduced in iOS 17.0"), "{problem}");
    check_with(|d| drop(d.insert("New".into(), "x".into())), &Context::device(Os::Ios).at("17.1"))
        .unwrap();
    let (_, problem) = finding(|d| drop(d.insert("Gone".into(), "x".into())));
    assert!(problem.to_string().contains("removed"), "{problem}");
    // Without a version only `n/a` counts.
    check_with(|d| drop(d.insert("Gone".into(), "x".into())), &Context::device(Os::Ios)).unwrap();
    // A string value that names a query not on this OS.
    let (_, problem) = finding(|d| drop(d.insert("Queries".into(), strings(&["HostName"]))));
    assert!(not(Some(&problem)), "{problem}");
    // User enrollment: UserOnly becomes required, NotInUser is refused.
    let user = Context { enrollment: Enrollment::User, ..ios() };
    let v = check_with(|_| {}, &user).unwrap_err();
    assert_eq!(v.at("Command.UserOnly"), Some(&Problem::Missing), "{v}");
    assert!(not(v.at("Command.NotInUser")), "{v}");
    // A command for an OS the schema does not list.
    let v = schemas().check_command(&command(good()), &Context::device(Os::TvOs)).unwrap_err();
    assert!(not(v.at("Command")), "{v}");
}

#[test]
fn reports_are_checked_with_the_commands_response_keys() {
    let s = schemas();
    let report = |pairs: &[(&str, Value)]| Value::Dictionary(dict(pairs));
    let idle = report(&[("UDID", "u".into()), ("Status", "Idle".into())]);
    s.check_report(&idle, None, &ios()).unwrap();
    let ack = report(&[
        ("UDID", "u".into()),
        ("Status", "Acknowledged".into()),
        ("CommandUUID", "c".into()),
        ("Answer", "42".into()),
    ]);
    s.check_report(&ack, Some("Demo"), &ios()).unwrap();
    // Without the command's response keys, Answer is unknown.
    let v = s.check_report(&ack, None, &ios()).unwrap_err();
    assert_eq!(v.at("Answer"), Some(&Problem::Unknown));
    let missing = report(&[("UDID", "u".into()), ("Status", "Acknowledged".into())]);
    let v = s.check_report(&missing, Some("Demo"), &ios()).unwrap_err();
    assert_eq!(v.at("Answer"), Some(&Problem::Missing));
    let bad = report(&[("UDID", "u".into()), ("Status", "Maybe".into())]);
    assert!(s.check_report(&bad, None, &ios()).is_err());
}

#[test]
fn profiles_check_each_payload_and_tolerate_types_without_a_schema() {
    let mut s = Schemas::default();
    s.add(schema(
        Kind::Payload,
        "payload: {payloadtype: TopLevel}\npayloadkeys:\n- key: PayloadType\n  type: <string>\n  presence: required\n  rangelist: [Configuration]\n- key: PayloadContent\n  type: <array>\n  subkeys:\n  - key: Item\n    type: <dictionary>\n    subkeys:\n    - key: ANY\n      type: <any>\n",
    ))
    .unwrap();
    s.add(schema(
        Kind::Payload,
        "payload: {payloadtype: CommonPayloadKeys}\npayloadkeys:\n- key: PayloadType\n  type: <string>\n  presence: required\n- key: PayloadVersion\n  type: <integer>\n  presence: required\n  rangelist: [1]\n",
    ))
    .unwrap();
    s.add(schema(
        Kind::Payload,
        "payload: {payloadtype: com.example.known}\npayloadkeys:\n- key: Size\n  type: <integer>\n  presence: required\n",
    ))
    .unwrap();
    let payload = |pairs: &[(&str, Value)]| Value::Dictionary(dict(pairs));
    let profile = |payloads: Vec<Value>| {
        Value::Dictionary(dict(&[
            ("PayloadType", "Configuration".into()),
            ("PayloadContent", Value::Array(payloads)),
        ]))
    };
    let known = payload(&[
        ("PayloadType", "com.example.known".into()),
        ("PayloadVersion", 1.into()),
        ("Size", 1.into()),
    ]);
    let unknown_type = payload(&[
        ("PayloadType", "com.example.unpublished".into()),
        ("PayloadVersion", 1.into()),
        ("Whatever", "x".into()),
    ]);
    let ctx = Context::device(Os::Ios);
    s.check_profile(&profile(vec![known.clone(), unknown_type.clone()]), &ctx).unwrap();
    // A schema-less type still needs its common keys right.
    let mut broken = unknown_type.into_dictionary().unwrap();
    broken.insert("PayloadVersion".into(), 2.into());
    let v = s.check_profile(&profile(vec![Value::Dictionary(broken)]), &ctx).unwrap_err();
    assert!(matches!(v.at("PayloadContent[0].PayloadVersion"), Some(Problem::NotAllowed { .. })));
    // A known type is held to its schema.
    let mut extra = known.into_dictionary().unwrap();
    extra.insert("Stray".into(), 1.into());
    let v = s.check_profile(&profile(vec![Value::Dictionary(extra)]), &ctx).unwrap_err();
    assert_eq!(v.at("PayloadContent[0].Stray"), Some(&Problem::Unknown), "{v}");
    let v = s.check_profile(&payload(&[("PayloadType", "Other".into())]), &ctx).unwrap_err();
    assert!(matches!(v.at("PayloadType"), Some(Problem::NotAllowed { .. })), "{v}");
}

#[test]
fn the_loader_refuses_what_it_does_not_understand() {
    let bad = [
        ("payload: {requesttype: X}\npayloadkeys:\n- key: A\n  type: <str>\n", "unknown type"),
        (
            "payload: {requesttype: X}\npayloadkeys:\n- key: A\n  type: <string>\n  weird: 1\n",
            "weird",
        ),
        (
            "payload: {requesttype: X}\npayloadkeys:\n- key: A\n  type: <string>\n  presence: sometimes\n",
            "presence",
        ),
        ("payload: {requesttype: X}\nsurprise: 1\n", "surprise"),
        ("payload: {}\n", "requesttype"),
        ("payload: {requesttype: X, supportedOS: {iOS: {newflag: true}}}\n", "newflag"),
        (
            "payload: {requesttype: X}\npayloadkeys:\n- key: A\n  type: <string>\n  format: '('\n",
            "format",
        ),
    ];
    for (text, words) in bad {
        let err = parse(Kind::Command, "bad.yaml", text).unwrap_err().to_string();
        assert!(err.contains(words) && err.contains("bad.yaml"), "{err}");
    }
}

#[test]
fn the_overlay_only_adds_cited_keys() {
    let mut s = schemas();
    let uncited = schema(
        Kind::Command,
        "payload: {requesttype: Demo}\npayloadkeys:\n- key: Extra\n  type: <string>\n",
    );
    let err = s.merge(uncited).unwrap_err().to_string();
    assert!(err.contains("source"), "{err}");
    let again = schema(
        Kind::Command,
        "payload: {requesttype: Demo}\npayloadkeys:\n- key: Name\n  source: x\n  type: <integer>\n",
    );
    let err = s.merge(again).unwrap_err().to_string();
    assert!(err.contains("already defines") && err.contains("Name"), "{err}");
    let added = schema(
        Kind::Command,
        "payload: {requesttype: Demo}\npayloadkeys:\n- key: Extra\n  source: spec §1\n  type: <string>\n",
    );
    s.merge(added).unwrap();
    check_with(|d| drop(d.insert("Extra".into(), "x".into())), &ios()).unwrap_err();
    let mut with_extra = good();
    with_extra.insert("Extra".into(), "x".into());
    s.check_command(&command(with_extra), &ios()).unwrap();
}

mod overlay_support;
pub(crate) mod real;
