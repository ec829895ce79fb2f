//! Stored values: serde JSON of each module's stored-record types.
//!
//! JSON keeps records readable in a backup and lets a record type grow fields
//! (`#[serde(default)]`) without a migration; a change of meaning bumps the schema version
//! and adds a migration instead.

use super::StoreError;
use redb::{ReadableTable, TableHandle};
use serde::{Serialize, de::DeserializeOwned};

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value)
        .expect("stored record types serialize infallibly (no maps with non-string keys)")
}

pub fn decode<T: DeserializeOwned>(table: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Decode { table: table.to_string(), detail: e.to_string() })
}

/// Reads and decodes one record.
pub fn get<T, Tbl>(table: &Tbl, key: &[u8]) -> Result<Option<T>, StoreError>
where
    T: DeserializeOwned,
    Tbl: ReadableTable<&'static [u8], &'static [u8]> + TableHandle,
{
    match table.get(key)? {
        Some(v) => decode(table.name(), v.value()).map(Some),
        None => Ok(None),
    }
}

/// Encodes and writes one record.
pub fn put<T: Serialize>(
    table: &mut redb::Table<'_, &'static [u8], &'static [u8]>,
    key: &[u8],
    value: &T,
) -> Result<(), StoreError> {
    table.insert(key, encode(value).as_slice())?;
    Ok(())
}
