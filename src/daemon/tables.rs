//! Every table of the store, gathered from the domain modules that own them: the list each
//! opener of the store (the daemon, `adebox admin set-password`, the benches, the integration
//! tests) hands to [`Store::open`](crate::store::Store::open), which creates the tables a
//! file lacks, so that no read ever meets a missing table (`store`'s module docs say why the
//! list is passed in rather than known to the store).
//!
//! The tests below keep the list whole: a table defined anywhere in `src/` but missing here
//! fails them, as does a table made other than with [`crate::store::table`] and a literal
//! name, or named for another module than the one defining it.

use crate::store::Table;

/// The tables of every domain module, in ring order.
pub const TABLES: &[&[Table]] = &[
    crate::audit::TABLES,
    crate::events::TABLES,
    crate::admin::TABLES,
    crate::tokens::TABLES,
    crate::devices::TABLES,
    crate::business::TABLES,
    crate::business::activities::TABLES,
    crate::business::applecare::TABLES,
    crate::business::orgdevices::TABLES,
    crate::push::TABLES,
    crate::sync::TABLES,
    crate::profiles::TABLES,
    crate::acme::TABLES,
    crate::enroll::TABLES,
    crate::lifecycle::TABLES,
    crate::setup::TABLES,
    crate::directory::TABLES,
    crate::signin::TABLES,
    crate::mdm::TABLES,
    crate::backup::TABLES,
    crate::alerts::TABLES,
];

#[cfg(test)]
mod tests {
    use super::TABLES;
    use crate::store::{Store, StoreError};
    use redb::{ReadableTableMetadata, TableHandle};
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    fn listed() -> Vec<String> {
        TABLES.iter().copied().flatten().map(|t| t.name().to_string()).collect()
    }

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The tables `src/` defines outside the store (which owns `store.meta` and the backup's
    /// own table), by name, or the reasons the source breaks the rules of the module docs.
    fn defined_in_source() -> Result<BTreeSet<String>, Vec<String>> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        // Spelled in pieces so this file does not match itself.
        let call = format!("{}(", "table");
        let raw = [format!("{}::new", "TableDefinition"), format!("{}TableDefinition", "Multimap")];
        let (mut names, mut problems) = (BTreeSet::new(), Vec::new());
        for file in files {
            let rel = file.strip_prefix(&src).unwrap().to_string_lossy().to_string();
            if rel.starts_with("store/") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            for r in &raw {
                if text.contains(r.as_str()) {
                    problems.push(format!("{rel}: uses {r}; make tables with store::table"));
                }
            }
            let module = rel.split(['/', '.']).next().unwrap_or_default().to_string();
            for (at, _) in text.match_indices(call.as_str()) {
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                    continue; // open_table(, rtx.table(, …
                }
                let rest = &text[at + call.len()..];
                let Some(name) = rest.strip_prefix('"').and_then(|r| r.split('"').next()) else {
                    problems.push(format!("{rel}: a table whose name is not a literal"));
                    continue;
                };
                if !name.starts_with(&format!("{module}.")) && !name.starts_with("test.") {
                    problems.push(format!("{rel}: table {name} is not named `{module}.what`"));
                }
                if !names.insert(name.to_string()) {
                    problems.push(format!("{rel}: table {name} is defined twice"));
                }
            }
        }
        if problems.is_empty() { Ok(names) } else { Err(problems) }
    }

    #[test]
    fn every_table_defined_in_the_source_is_listed_once() {
        let defined = defined_in_source().unwrap_or_else(|p| panic!("{}", p.join("\n")));
        assert!(defined.len() >= 30, "the source scan found only {defined:?}");
        let listed = listed();
        let set: BTreeSet<String> = listed.iter().cloned().collect();
        assert_eq!(set.len(), listed.len(), "a table is listed twice: {listed:?}");
        let missing: Vec<_> =
            defined.iter().filter(|n| !set.contains(*n) && !n.starts_with("test.")).collect();
        assert!(missing.is_empty(), "defined but not in daemon::TABLES: {missing:?}");
        let stale: Vec<_> = set.iter().filter(|n| !defined.contains(*n)).collect();
        assert!(stale.is_empty(), "listed but defined nowhere in src/: {stale:?}");
    }

    #[test]
    fn a_fresh_store_has_every_table() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), TABLES).unwrap();
        store
            .read_blocking(|rtx| {
                for &table in TABLES.iter().copied().flatten() {
                    assert_eq!(rtx.open_table(table)?.len()?, 0, "{}", table.name());
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }

    fn names(store: &Store) -> BTreeSet<String> {
        store
            .read_blocking(|rtx| {
                let names = rtx.list_tables()?.map(|t| t.name().to_string());
                Ok::<_, StoreError>(names.collect())
            })
            .unwrap()
    }

    /// A store an older adebox made holds only the tables it wrote to: opened now, it gains
    /// the others, and what it held stays as it was.
    #[tokio::test]
    async fn a_store_lacking_tables_gains_them_and_keeps_its_records() {
        use crate::admin::{Admin, AdminOptions, HashCost};
        let dir = tempfile::tempdir().unwrap();
        let clock = crate::clock::Clock::system();
        let options = AdminOptions { hash_cost: HashCost::TESTING, ..Default::default() };
        let older = Store::open(dir.path(), &[crate::audit::TABLES, crate::admin::TABLES]).unwrap();
        let admin = Admin::new(older.clone(), clock.clone(), options.clone());
        let password = crate::crypto::Secret::new("a long password 1".to_string());
        assert!(admin.set_password_cli("alice", password, None).await.unwrap());
        let users = admin.list_users().await.unwrap();
        let entries = crate::audit::count(&older).await.unwrap();
        assert!(!names(&older).contains("devices.by_serial"));
        drop((admin, older));

        let store = Store::open(dir.path(), TABLES).unwrap();
        let all: BTreeSet<String> = listed().into_iter().collect();
        let missing: Vec<_> = all.difference(&names(&store)).cloned().collect();
        assert!(missing.is_empty(), "not created: {missing:?}");
        let admin = Admin::new(store.clone(), clock, options);
        let again = admin.list_users().await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(
            (&again[0].username, again[0].created_at),
            (&users[0].username, users[0].created_at)
        );
        assert_eq!(crate::audit::count(&store).await.unwrap(), entries);
    }
}
