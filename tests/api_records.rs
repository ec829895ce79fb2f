//! The API's shapes are the view types of `src/http/api/views` (and the edges' own request
//! and answer types), never the records the store keeps: outside `src/http`, no type derives
//! `Serialize`, `Deserialize` and `ToSchema` together (what a stored record that doubles as
//! an API type looks like). So a change to a stored record cannot silently change the OpenAPI
//! document, and a change to the API cannot change the bytes on disk.
//!
//! Read from the sources, like `tests/architecture.rs`: cheap, no daemon, no golden file.

use std::path::{Path, PathBuf};

/// Types still both stored and shown, by file: the list only shrinks, and a file named here
/// that no longer needs it fails too.
/// - `alerts/kind.rs`: `AlertKind`, a closed set of stable codes (the e-mail's, the webhook
///   event's, the recipients' key), the same word on disk and on the wire by design;
/// - `business/activities/kinds.rs`: a Business action's `Action` and `State`, closed sets of
///   stable words, by design for the same reason.
const NOT_YET: &[&str] = &["src/alerts/kind.rs", "src/business/activities/kinds.rs"];

#[test]
fn no_type_outside_the_edge_is_both_stored_and_an_api_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    collect(&root.join("src"), &mut files);
    let (mut offenders, mut listed_but_clean) = (Vec::new(), Vec::new());
    for file in files {
        let rel = file.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
        if rel.starts_with("src/http/") {
            continue;
        }
        let found = both_ways(&std::fs::read_to_string(&file).unwrap());
        match (found, NOT_YET.contains(&rel.as_str())) {
            (true, false) => offenders.push(rel),
            (false, true) => listed_but_clean.push(rel),
            _ => {}
        }
    }
    assert!(
        offenders.is_empty(),
        "these files have a type that is stored (Serialize + Deserialize) and an API schema \
         (ToSchema): give the API a view in src/http/api/views and drop the derive: \
         {offenders:?}"
    );
    assert!(
        listed_but_clean.is_empty(),
        "these files no longer mix stored and API types: remove them from NOT_YET: \
         {listed_but_clean:?}"
    );
}

#[test]
fn the_check_sees_a_derive_spread_over_lines() {
    let spread =
        "#[derive(\n    Clone,\n    Serialize,\n    Deserialize,\n    utoipa::ToSchema,\n)]\n";
    assert!(both_ways(spread));
    assert!(!both_ways("#[derive(Serialize, ToSchema)]\n#[derive(Deserialize)]\n"));
    assert!(!both_ways("// #[derive(Serialize, Deserialize, ToSchema)]\n"));
}

/// Whether one `#[derive(…)]` of `code` (comments left out) names all three.
fn both_ways(code: &str) -> bool {
    let code: String =
        code.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    code.split("#[derive(").skip(1).any(|rest| {
        let list = &rest[..rest.find(")]").unwrap_or(rest.len())];
        let names: Vec<&str> =
            list.split(',').map(|n| n.trim().rsplit("::").next().unwrap_or("")).collect();
        ["Serialize", "Deserialize", "ToSchema"].iter().all(|want| names.contains(want))
    })
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}
