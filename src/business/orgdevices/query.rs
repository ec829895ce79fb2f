//! Reading the synced list: filters (whose server, status, model or product family, serial),
//! a page of it, or every match one by one for the CSV export. Which servers are ours is
//! decided as everywhere else ([`crate::business::mapping`]: the admin's mapping, else the
//! server uuid), never by name; the name shown is ours (the token's) or Apple's.

use super::{DEVICES, Facts, KnownServer, OrgDevice, OrgDevices, OrgDevicesError};
use crate::business::mapping;
use crate::business::wire::MdmServerAttributes;
use crate::ids::TokenId;
use crate::store::{self, StoreError};
use redb::ReadableTable;
use std::collections::HashMap;

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

/// A device of the list with where it is.
#[derive(Clone, Debug)]
pub struct Listed {
    pub facts: Facts,
    pub server: Where,
}

/// Server id → where it is, for every server the last run saw.
type Servers = HashMap<String, Where>;

fn lower(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|v| v.trim().to_lowercase()).filter(|v| !v.is_empty())
}

impl OrgFilter {
    fn matches(&self, d: &Listed) -> bool {
        let has = |field: &Option<String>, want: &Option<String>| match lower(want) {
            None => true,
            Some(w) => field.as_ref().is_some_and(|f| f.to_lowercase().contains(&w)),
        };
        let equals = |field: &Option<String>, want: &Option<String>| match lower(want) {
            None => true,
            Some(w) => field.as_ref().is_some_and(|f| f.to_lowercase() == w),
        };
        let f = &d.facts;
        self.server.is_none_or(|s| s == d.server.kind)
            && equals(&f.status, &self.status)
            && equals(&f.product_family, &self.family)
            && has(&f.model, &self.model)
            && has(&Some(f.serial.as_str().to_string()), &self.serial)
    }
}

fn listed(d: OrgDevice, servers: &Servers) -> Listed {
    let server = match d.server_id.as_ref().and_then(|id| servers.get(id)) {
        Some(w) => w.clone(),
        // Assigned to a server the last run's server list did not have (made meanwhile).
        None if d.server_id.is_some() => Where {
            kind: ServerFilter::Elsewhere,
            mdm_server_id: d.server_id.clone(),
            server_name: None,
            token: None,
        },
        None => {
            Where { kind: ServerFilter::None, mdm_server_id: None, server_name: None, token: None }
        }
    };
    Listed { facts: d.facts, server }
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

    /// Folds every device matching `filter` into `state`, in serial order, and gives the
    /// state back: the CSV export writes as it reads, a page keeps only its page.
    pub async fn scan<S, F>(
        &self,
        filter: OrgFilter,
        state: S,
        each: F,
    ) -> Result<S, OrgDevicesError>
    where
        S: Send + 'static,
        F: Fn(&mut S, Listed) + Send + 'static,
    {
        let servers = self.resolved().await?;
        Ok(self
            .store
            .read(move |tx| {
                let mut state = state;
                let t = tx.open_table(DEVICES).map_err(StoreError::from)?;
                for item in t.iter().map_err(StoreError::from)? {
                    let (_, v) = item.map_err(StoreError::from)?;
                    let d: OrgDevice = store::decode(super::sync::DEVICES_NAME, v.value())?;
                    let l = listed(d, &servers);
                    if filter.matches(&l) {
                        each(&mut state, l);
                    }
                }
                Ok::<_, StoreError>(state)
            })
            .await?)
    }

    /// One page of the devices matching `filter`, and how many match.
    pub async fn list(
        &self,
        filter: OrgFilter,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<Listed>, usize), OrgDevicesError> {
        self.scan(filter, (Vec::new(), 0usize), move |(page, total), l| {
            if *total >= offset && page.len() < limit {
                page.push(l);
            }
            *total += 1;
        })
        .await
    }
}
