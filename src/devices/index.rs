//! An in-memory index of the inventory for the list, its filters and sorts, and the counts,
//! so they stay fast at 200,000 devices (a store scan decodes every record).
//!
//! A derived view, never the truth: built from the store once (lazily, off the async
//! threads), then kept current by [`Changes`] that every write of the inventory returns and
//! its caller hands over right after the commit. A restart rebuilds it. Rows hold interned
//! ids instead of strings (about 90 bytes a device), and the map is ordered by serial, so the
//! default view and serial-prefix searches need no sort at all.

use super::funnel::{Funnel, Stage};
use super::lifecycle::Lifecycle;
use super::query::{DeviceCounts, DeviceFilter, NextDeadline, SortKey};
use super::records::{Changes, DeviceRecord};
use crate::ids::{Serial, TokenId};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::Arc;

/// Distinct strings of one column, numbered.
#[derive(Default)]
struct Interner {
    texts: Vec<Arc<str>>,
    ids: HashMap<Arc<str>, u32>,
}

impl Interner {
    fn id(&mut self, text: Option<&str>) -> u32 {
        let Some(t) = text.filter(|t| !t.is_empty()) else { return 0 };
        if let Some(id) = self.ids.get(t) {
            return *id;
        }
        if self.texts.is_empty() {
            self.texts.push(Arc::from("")); // id 0: absent
        }
        let id = self.texts.len() as u32;
        let arc: Arc<str> = Arc::from(t);
        self.texts.push(arc.clone());
        self.ids.insert(arc, id);
        id
    }

    fn text(&self, id: u32) -> &str {
        self.texts.get(id as usize).map(|t| &**t).unwrap_or("")
    }

    /// Ids whose text passes `keep`.
    fn matching(&self, keep: impl Fn(&str) -> bool) -> Vec<bool> {
        let mut out = vec![false; self.texts.len().max(1)];
        for (i, t) in self.texts.iter().enumerate().skip(1) {
            out[i] = keep(t);
        }
        out
    }

    /// Sort rank of every id (case-insensitive text order; absent first).
    fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.texts.len() as u32).collect();
        order.sort_by_cached_key(|i| self.text(*i).to_ascii_lowercase());
        let mut rank = vec![0; self.texts.len()];
        for (r, id) in order.into_iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        rank
    }
}

#[derive(Clone, Copy)]
struct Row {
    token: u32,
    model: u32,
    family: u32,
    os: u32,
    profile: u32,
    lifecycle: Lifecycle,
    /// How far it came (`None` once removed).
    stage: Option<Stage>,
    removed: bool,
    /// No profile of ours at Apple (the default-profile scan's question).
    no_profile: bool,
    assigned_at: i64,
    first_seen: i64,
    updated_at: i64,
    /// Apple Business's migration deadline (Unix seconds) on an active device.
    deadline: Option<i64>,
}

#[derive(Default)]
pub(super) struct IndexData {
    rows: BTreeMap<Box<str>, Row>,
    tokens: Interner,
    models: Interner,
    families: Interner,
    oses: Interner,
    profiles: Interner,
    /// Kept with every change so the counts the pages poll cost nothing at 200,000 devices.
    per_lifecycle: BTreeMap<Lifecycle, u64>,
    /// Active devices per furthest funnel stage.
    per_stage: BTreeMap<Stage, u64>,
    active_per_token: HashMap<u32, u64>,
    /// Active devices with a migration deadline, soonest first (the dashboard's count and
    /// next deadline).
    deadlines: BTreeSet<(i64, Box<str>)>,
}

impl IndexData {
    pub fn build(records: impl Iterator<Item = DeviceRecord>) -> IndexData {
        let mut d = IndexData::default();
        for r in records {
            d.upsert(&r);
        }
        d
    }

    pub fn apply(&mut self, changes: &Changes) {
        for r in &changes.upserted {
            self.upsert(r);
        }
        for s in &changes.removed {
            if let Some(old) = self.rows.remove(s.as_str()) {
                self.uncount(s.as_str(), &old);
            }
        }
    }

    fn count(&mut self, serial: &str, row: &Row) {
        if let Some(d) = row.deadline {
            self.deadlines.insert((d, serial.into()));
        }
        *self.per_lifecycle.entry(row.lifecycle).or_insert(0) += 1;
        if let Some(stage) = row.stage {
            *self.per_stage.entry(stage).or_insert(0) += 1;
        }
        if !row.removed {
            *self.active_per_token.entry(row.token).or_insert(0) += 1;
        }
    }

    fn uncount(&mut self, serial: &str, row: &Row) {
        if let Some(d) = row.deadline {
            self.deadlines.remove(&(d, Box::from(serial)));
        }
        if let Some(stage) = row.stage
            && let Some(n) = self.per_stage.get_mut(&stage)
        {
            *n -= 1;
            if *n == 0 {
                self.per_stage.remove(&stage);
            }
        }
        if let Some(n) = self.per_lifecycle.get_mut(&row.lifecycle) {
            *n -= 1;
            if *n == 0 {
                self.per_lifecycle.remove(&row.lifecycle);
            }
        }
        if !row.removed
            && let Some(n) = self.active_per_token.get_mut(&row.token)
        {
            *n -= 1;
            if *n == 0 {
                self.active_per_token.remove(&row.token);
            }
        }
    }

    fn upsert(&mut self, r: &DeviceRecord) {
        let row = Row {
            token: self.tokens.id(Some(r.token.as_str())),
            model: self.models.id(r.apple.model.as_deref()),
            family: self.families.id(r.apple.device_family.as_deref()),
            os: self.oses.id(r.apple.os.as_deref()),
            profile: self.profiles.id(r.apple.profile_uuid.as_deref()),
            lifecycle: Lifecycle::of(r),
            stage: super::funnel::furthest(r),
            removed: r.removed.is_some(),
            no_profile: super::profile::no_profile_at_apple(
                r.apple.profile_status.as_ref(),
                r.apple.profile_uuid.as_deref(),
            ),
            assigned_at: r.apple.device_assigned_date.map_or(i64::MIN, |t| t.unix_timestamp()),
            first_seen: r.first_seen.unix_timestamp(),
            updated_at: r.updated_at.unix_timestamp(),
            deadline: r
                .apple
                .mdm_migration_deadline
                .filter(|_| r.removed.is_none())
                .map(|t| t.unix_timestamp()),
        };
        let old = match self.rows.get_mut(r.serial.as_str()) {
            Some(existing) => Some(std::mem::replace(existing, row)),
            None => {
                self.rows.insert(r.serial.as_str().into(), row);
                None
            }
        };
        if let Some(old) = old {
            self.uncount(r.serial.as_str(), &old);
        }
        self.count(r.serial.as_str(), &row);
    }

    /// One page of serials matching `f`, sorted, and the number of matches.
    pub fn query(
        &self,
        f: &DeviceFilter,
        sort: SortKey,
        descending: bool,
        limit: usize,
        offset: usize,
    ) -> (Vec<String>, u64) {
        let eq = |i: &Interner, want: &Option<String>| {
            want.as_ref().map(|w| i.matching(|t| t.eq_ignore_ascii_case(w.trim())))
        };
        let model = f.model.as_ref().map(|m| {
            let m = m.trim().to_ascii_lowercase();
            self.models.matching(|t| t.to_ascii_lowercase().contains(&m))
        });
        let family = eq(&self.families, &f.family);
        let os = eq(&self.oses, &f.os);
        let token = f.token.as_ref().map(|t| self.tokens.matching(|x| x == t.as_str()));
        let within = f
            .within_tokens
            .as_ref()
            .map(|ts| self.tokens.matching(|x| ts.iter().any(|t| t.as_str() == x)));
        let profile = f
            .profile
            .as_ref()
            .map(|w| self.profiles.matching(|t| t.eq_ignore_ascii_case(w.as_str())));
        let profile_any = f.profile_any.as_ref().map(|list| {
            self.profiles.matching(|t| list.iter().any(|w| t.eq_ignore_ascii_case(w.as_str())))
        });
        let hit = |mask: &Option<Vec<bool>>, id: u32| {
            mask.as_ref().is_none_or(|m| m.get(id as usize).copied().unwrap_or(false))
        };
        let keep = |row: &Row| {
            (!row.removed || f.include_removed || f.lifecycle == Some(Lifecycle::Removed))
                && f.lifecycle.is_none_or(|l| l == row.lifecycle)
                && hit(&model, row.model)
                && hit(&family, row.family)
                && hit(&os, row.os)
                && hit(&token, row.token)
                && hit(&within, row.token)
                && hit(&profile, row.profile)
                && hit(&profile_any, row.profile)
        };

        // The candidates: one serial, a serial prefix range, or everything.
        let upper_prefix;
        let range: Box<dyn Iterator<Item = (&Box<str>, &Row)>> = if let Some(s) = &f.serial {
            Box::new(self.rows.get_key_value(s.as_str()).into_iter())
        } else if let Some(p) = f.serial_prefix.as_deref() {
            upper_prefix = p.trim().to_ascii_uppercase();
            let start: Bound<&str> = Bound::Included(upper_prefix.as_str());
            Box::new(
                self.rows
                    .range::<str, _>((start, Bound::Unbounded))
                    .take_while(|(k, _)| k.to_ascii_uppercase().starts_with(&upper_prefix)),
            )
        } else {
            Box::new(self.rows.iter())
        };
        let only: Option<std::collections::HashSet<&str>> =
            f.serials_in.as_ref().map(|s| s.iter().map(Serial::as_str).collect());
        let range: Box<dyn Iterator<Item = (&Box<str>, &Row)>> = match &only {
            Some(only) => Box::new(range.filter(|(k, _)| only.contains(&***k))),
            None => range,
        };

        if sort == SortKey::Serial {
            // Already in serial order: no sort, and a page costs only the rows before it.
            let matches = range.filter(|(_, r)| keep(r));
            if descending {
                let all: Vec<&str> = matches.map(|(k, _)| &**k).collect();
                let total = all.len() as u64;
                return (
                    all.into_iter().rev().skip(offset).take(limit).map(str::to_string).collect(),
                    total,
                );
            }
            let mut total = 0u64;
            let mut page = Vec::with_capacity(limit.min(500));
            for (k, _) in matches {
                if total as usize >= offset && page.len() < limit {
                    page.push(k.to_string());
                }
                total += 1;
            }
            return (page, total);
        }
        let ranks = |i: &Interner| i.ranks();
        let (column, rank): (fn(&Row) -> u32, Vec<u32>) = match sort {
            SortKey::Model => (|r| r.model, ranks(&self.models)),
            SortKey::Family => (|r| r.family, ranks(&self.families)),
            SortKey::Os => (|r| r.os, ranks(&self.oses)),
            SortKey::Token => (|r| r.token, ranks(&self.tokens)),
            SortKey::Profile => (|r| r.profile, ranks(&self.profiles)),
            _ => (|_| 0, vec![0]),
        };
        let key = |r: &Row| -> i64 {
            match sort {
                SortKey::Lifecycle => r.lifecycle as i64,
                SortKey::AssignedAt => r.assigned_at,
                SortKey::FirstSeen => r.first_seen,
                SortKey::UpdatedAt => r.updated_at,
                _ => rank.get(column(r) as usize).copied().unwrap_or(0) as i64,
            }
        };
        // The serial order of the map is the tiebreak: a stable sort keeps it.
        let mut hits: Vec<(i64, &str)> =
            range.filter(|(_, r)| keep(r)).map(|(k, r)| (key(r), &**k)).collect();
        hits.sort_by_key(|(k, _)| *k);
        if descending {
            hits.reverse();
        }
        let total = hits.len() as u64;
        (hits.into_iter().skip(offset).take(limit).map(|(_, s)| s.to_string()).collect(), total)
    }

    pub fn counts(&self) -> DeviceCounts {
        DeviceCounts {
            by_lifecycle: self.per_lifecycle.clone(),
            by_token: self
                .active_per_token
                .iter()
                .map(|(id, n)| (TokenId::from_stored(self.tokens.text(*id).to_string()), *n))
                .collect(),
            funnel: Funnel::from_furthest(&self.per_stage),
            migration_deadlines: self.deadlines.len() as u64,
            next_deadline: self.deadlines.first().and_then(|(at, serial)| {
                Some(NextDeadline {
                    serial: Serial::from_stored(serial.to_string()),
                    at: time::OffsetDateTime::from_unix_timestamp(*at).ok()?,
                })
            }),
        }
    }

    /// Active devices of `token` without a profile at Apple, in serial order.
    pub fn unassigned(&self, token: &TokenId) -> Vec<super::profile::Unassigned> {
        let Some(&token) = self.tokens.ids.get(token.as_str()) else { return vec![] };
        self.rows
            .iter()
            .filter(|(_, r)| r.token == token && !r.removed && r.no_profile)
            .map(|(serial, r)| super::profile::Unassigned {
                serial: Serial::from_stored(serial.to_string()),
                family: Some(self.families.text(r.family))
                    .filter(|f| !f.is_empty())
                    .map(String::from),
                migration_deadline: r.deadline.is_some(),
            })
            .collect()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }
}
