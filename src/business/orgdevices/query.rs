//! Reading the synced list: filters (whose server, status, model or product family, serial,
//! AppleCare coverage), a page of it, or every match chunk by chunk for the CSV export. Which
//! servers are ours is decided as everywhere else ([`crate::business::mapping`]: the admin's
//! mapping, else the server uuid), never by name; the name shown is ours (the token's) or
//! Apple's. A device's coverage is what [`crate::business::applecare`] keeps for it, read in
//! the same transaction.
//!
//! Bounded at 200,000 devices: a page walks the list in one read transaction keeping only
//! its page (a walk without filters does not even decode the rows before the page), and the
//! export reads [`CHUNK`] rows per transaction, so neither holds the list nor keeps a read
//! transaction open while a slow client downloads.

use super::{DEVICES, Facts, KnownServer, OrgDevice, OrgDevices, OrgDevicesError};
use crate::business::applecare::{CoverageState, Kept, Summary};
use crate::business::mapping;
use crate::business::wire::MdmServerAttributes;
use crate::ids::{Serial, TokenId};
use crate::store::{self, StoreError};
use redb::{ReadableTable, ReadableTableMetadata};
use std::collections::HashMap;
use std::ops::Bound;

/// Rows one export chunk looks at.
pub const CHUNK: usize = 2000;

/// Whose server a device is assigned to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerFilter {
    /// One of this appliance's servers.
    Ours,
    /// Another MDM server of the organisation.
    Elsewhere,
    /// No server.
    None,
}

impl ServerFilter {
    /// The word the API and the CSV use.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerFilter::Ours => "ours",
            ServerFilter::Elsewhere => "elsewhere",
            ServerFilter::None => "none",
        }
    }

    /// The filter a word names; none for another word.
    pub fn parse(word: &str) -> Option<ServerFilter> {
        [ServerFilter::Ours, ServerFilter::Elsewhere, ServerFilter::None]
            .into_iter()
            .find(|f| f.as_str() == word)
    }
}

/// What the list is narrowed to; text matches ignore case.
#[derive(Clone, Debug, Default)]
pub struct OrgFilter {
    pub server: Option<ServerFilter>,
    /// `ASSIGNED` or `UNASSIGNED`.
    pub status: Option<String>,
    /// Product family, exactly (`iPhone`, `Mac`…).
    pub family: Option<String>,
    /// The model contains this.
    pub model: Option<String>,
    /// The serial contains this.
    pub serial: Option<String>,
    /// The AppleCare coverage is in this state.
    pub applecare: Option<CoverageState>,
}

/// Where a listed device is, in the appliance's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Where {
    pub kind: ServerFilter,
    pub mdm_server_id: Option<String>,
    /// Our token's server name when ours, Apple's server name otherwise.
    pub server_name: Option<String>,
    pub token: Option<TokenId>,
}

/// A device of the list with where it is and its AppleCare coverage.
#[derive(Clone, Debug)]
pub struct Listed {
    pub facts: Facts,
    pub server: Where,
    pub applecare: Summary,
}

/// Server id → where it is, for every server the last run saw.
type Servers = HashMap<String, Where>;

const NOWHERE: Where =
    Where { kind: ServerFilter::None, mdm_server_id: None, server_name: None, token: None };

fn lower(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|v| v.trim().to_lowercase()).filter(|v| !v.is_empty())
}

/// A filter made ready for many rows: its words lower-cased once.
struct Matcher {
    server: Option<ServerFilter>,
    status: Option<String>,
    family: Option<String>,
    model: Option<String>,
    serial: Option<String>,
    applecare: Option<CoverageState>,
}

impl Matcher {
    fn new(f: &OrgFilter) -> Matcher {
        Matcher {
            server: f.server,
            status: lower(&f.status),
            family: lower(&f.family),
            model: lower(&f.model),
            serial: lower(&f.serial),
            applecare: f.applecare,
        }
    }

    fn is_empty(&self) -> bool {
        self.server.is_none()
            && self.status.is_none()
            && self.family.is_none()
            && self.model.is_none()
            && self.serial.is_none()
            && self.applecare.is_none()
    }

    /// Whether the row matches what does not need its coverage.
    fn facts_match(&self, f: &Facts, at: &Where) -> bool {
        let has = |field: &Option<String>, want: &Option<String>| match want {
            None => true,
            Some(w) => field.as_ref().is_some_and(|f| f.to_lowercase().contains(w.as_str())),
        };
        let equals = |field: &Option<String>, want: &Option<String>| match want {
            None => true,
            Some(w) => field.as_ref().is_some_and(|f| f.to_lowercase() == *w),
        };
        self.server.is_none_or(|s| s == at.kind)
            && equals(&f.status, &self.status)
            && equals(&f.product_family, &self.family)
            && has(&f.model, &self.model)
            && self
                .serial
                .as_ref()
                .is_none_or(|w| f.serial.as_str().to_lowercase().contains(w.as_str()))
    }
}

/// Where the device of `row` is.
fn at<'a>(row: &OrgDevice, servers: &'a Servers) -> std::borrow::Cow<'a, Where> {
    use std::borrow::Cow;
    match row.server_id.as_ref() {
        Some(id) => match servers.get(id) {
            Some(w) => Cow::Borrowed(w),
            // Assigned to a server the last run's server list did not have (made meanwhile).
            None => Cow::Owned(Where {
                kind: ServerFilter::Elsewhere,
                mdm_server_id: Some(id.clone()),
                server_name: None,
                token: None,
            }),
        },
        None => Cow::Borrowed(&NOWHERE),
    }
}

/// The listed device of `row` when it matches, its coverage read from `kept`.
fn matching(
    row: OrgDevice,
    servers: &Servers,
    m: &Matcher,
    kept: &Kept,
) -> Result<Option<Listed>, StoreError> {
    let server = at(&row, servers);
    if !m.facts_match(&row.facts, &server) {
        return Ok(None);
    }
    let applecare = kept.summary(row.facts.serial.as_bytes())?;
    if m.applecare.is_some_and(|s| s != applecare.state) {
        return Ok(None);
    }
    Ok(Some(Listed { server: server.into_owned(), facts: row.facts, applecare }))
}

/// The walk through the list that the export follows: a filter and the servers resolved once.
pub struct Export {
    org: OrgDevices,
    servers: Servers,
    filter: OrgFilter,
}

impl Export {
    /// The matches among the [`CHUNK`] rows after `after` (from the start when none), and
    /// where the next chunk starts (none at the end of the list).
    pub async fn chunk(
        &self,
        after: Option<Serial>,
    ) -> Result<(Vec<Listed>, Option<Serial>), OrgDevicesError> {
        let (servers, filter) = (self.servers.clone(), self.filter.clone());
        Ok(self
            .org
            .store
            .read(move |tx| {
                let t = tx.open_table(DEVICES)?;
                let kept = Kept::open_in(tx)?;
                let m = Matcher::new(&filter);
                let range = match &after {
                    Some(k) => {
                        t.range::<&[u8]>((Bound::Excluded(k.as_bytes()), Bound::Unbounded))?
                    }
                    None => t.range::<&[u8]>(..)?,
                };
                let (mut out, mut last, mut seen) = (Vec::new(), None, 0);
                for item in range.take(CHUNK) {
                    let (k, v) = item?;
                    // The key, not the row's serial: the next chunk starts after this very key.
                    last = Some(Serial::from_stored(String::from_utf8_lossy(k.value()).into()));
                    let row: OrgDevice = store::decode(super::sync::DEVICES_NAME, v.value())?;
                    seen += 1;
                    if let Some(l) = matching(row, &servers, &m, &kept)? {
                        out.push(l);
                    }
                }
                Ok::<_, StoreError>((out, if seen == CHUNK { last } else { None }))
            })
            .await?)
    }
}

impl OrgDevices {
    /// Each known server with whether it is ours.
    async fn resolved(&self) -> Result<Servers, OrgDevicesError> {
        let known: Vec<(String, MdmServerAttributes)> = self
            .servers()
            .await?
            .into_iter()
            .map(|KnownServer { id, name }| {
                (id, MdmServerAttributes { server_name: name, ..Default::default() })
            })
            .collect();
        let tokens = self.tokens.list().await?;
        let mapped = mapping::stored(&self.store).await?;
        Ok(mapping::link(&known, &tokens, &mapped)
            .into_iter()
            .map(|l| {
                let ours = l.token.is_some();
                let w = Where {
                    kind: if ours { ServerFilter::Ours } else { ServerFilter::Elsewhere },
                    mdm_server_id: Some(l.mdm_server_id.clone()),
                    server_name: if ours { l.token_name } else { l.server_name },
                    token: l.token,
                };
                (l.mdm_server_id, w)
            })
            .collect())
    }

    /// The export's walk of the devices matching `filter`, in serial order.
    pub async fn export(&self, filter: OrgFilter) -> Result<Export, OrgDevicesError> {
        Ok(Export { org: self.clone(), servers: self.resolved().await?, filter })
    }

    /// One page of the devices matching `filter`, in serial order, and how many match.
    pub async fn list(
        &self,
        filter: OrgFilter,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<Listed>, usize), OrgDevicesError> {
        let servers = self.resolved().await?;
        Ok(self
            .store
            .read(move |tx| {
                let t = tx.open_table(DEVICES)?;
                let kept = Kept::open_in(tx)?;
                let m = Matcher::new(&filter);
                let mut page = Vec::new();
                if m.is_empty() {
                    // Every row matches: count without reading, decode only the page.
                    let total = t.len()? as usize;
                    for item in t.iter()?.skip(offset).take(limit) {
                        let (_, v) = item?;
                        let row: OrgDevice = store::decode(super::sync::DEVICES_NAME, v.value())?;
                        page.extend(matching(row, &servers, &m, &kept)?);
                    }
                    return Ok::<_, StoreError>((page, total));
                }
                let mut total = 0usize;
                for item in t.iter()? {
                    let (_, v) = item?;
                    let row: OrgDevice = store::decode(super::sync::DEVICES_NAME, v.value())?;
                    let server = at(&row, &servers);
                    if !m.facts_match(&row.facts, &server) {
                        continue;
                    }
                    // The coverage is read only where it is filtered on or shown.
                    let in_page = total >= offset && page.len() < limit;
                    if m.applecare.is_some() || in_page {
                        let applecare = kept.summary(row.facts.serial.as_bytes())?;
                        if m.applecare.is_some_and(|s| s != applecare.state) {
                            continue;
                        }
                        if in_page {
                            let server = server.into_owned();
                            page.push(Listed { facts: row.facts, server, applecare });
                        }
                    }
                    total += 1;
                }
                Ok((page, total))
            })
            .await?)
    }
}
