//! The one-time SCEP challenges: handed out in the enrollment profile of a device too old
//! for ACME, bound to that device's serial and UDID, valid [`CHALLENGE_TTL`], usable once
//! (issue 7 item 4).
//!
//! Owns the table `enroll.scep_challenges`: SHA-256 of the challenge (hex) → [`ChallengeRec`].
//! Only the hash is stored, so a copy of the database does not hand out usable challenges.
//! Records are dropped a day after they expire, whenever a new challenge is issued.

use crate::crypto::Secret;
use crate::ids::{Serial, Udid};
use crate::store::{self, StoreError, Table};
use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

pub(in crate::enroll) const CHALLENGES: Table = store::table("enroll.scep_challenges");

/// How long a challenge stays usable after the profile carrying it was served.
pub const CHALLENGE_TTL: Duration = Duration::minutes(15);

/// Used or expired records are kept this long (for a clear refusal reason), then dropped.
const KEEP_AFTER_EXPIRY: Duration = Duration::days(1);

/// Longest challenge looked up; ours are 64 characters.
const MAX_CHALLENGE_LEN: usize = 256;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChallengeRec {
    pub serial: Serial,
    pub udid: Udid,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub used_at: Option<OffsetDateTime>,
}

/// Why a challenge was not accepted; each names the device when the challenge was ours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChallengeRefusal {
    /// Not a challenge this appliance handed out (or one dropped long ago).
    Unknown,
    Expired(ChallengeRec),
    Used(ChallengeRec),
}

impl ChallengeRefusal {
    /// Stable code, as in the funnel's refusal list.
    pub fn code(&self) -> &'static str {
        match self {
            ChallengeRefusal::Unknown => "scep_challenge_unknown",
            ChallengeRefusal::Expired(_) => "scep_challenge_expired",
            ChallengeRefusal::Used(_) => "scep_challenge_used",
        }
    }

    /// Plain words for the refusal list.
    pub fn words(&self) -> String {
        match self {
            ChallengeRefusal::Unknown => {
                "SCEP request refused: its challenge was not issued by this appliance".into()
            }
            ChallengeRefusal::Expired(r) => format!(
                "SCEP request refused: the challenge expired at {} (challenges last {} minutes; \
                 the device must fetch its enrollment profile again)",
                r.expires_at,
                CHALLENGE_TTL.whole_minutes()
            ),
            ChallengeRefusal::Used(_) => {
                "SCEP request refused: the challenge was already used (each works once)".into()
            }
        }
    }

    pub fn record(&self) -> Option<&ChallengeRec> {
        match self {
            ChallengeRefusal::Unknown => None,
            ChallengeRefusal::Expired(r) | ChallengeRefusal::Used(r) => Some(r),
        }
    }
}

fn key_of(challenge: &str) -> String {
    hex::encode(Sha256::digest(challenge.as_bytes()))
}

/// A new challenge for `serial` / `udid`, valid until `now + CHALLENGE_TTL`; drops records
/// that expired more than a day ago.
pub fn issue_in(
    wtx: &WriteTransaction,
    serial: &Serial,
    udid: &Udid,
    now: OffsetDateTime,
) -> Result<Secret<String>, StoreError> {
    // Hex: every client can carry it, whatever string type it puts the challengePassword in
    // (certmonger writes a PrintableString whatever it holds, and `_` is not one).
    let challenge = hex::encode(crate::crypto::random_bytes::<32>());
    let mut t = wtx.open_table(CHALLENGES)?;
    let mut stale = Vec::new();
    for row in t.iter()? {
        let (k, v) = row?;
        let rec: ChallengeRec = store::decode("enroll.scep_challenges", v.value())?;
        if rec.expires_at + KEEP_AFTER_EXPIRY < now {
            stale.push(k.value().to_vec());
        }
    }
    for k in stale {
        t.remove(k.as_slice())?;
    }
    let rec = ChallengeRec {
        serial: serial.clone(),
        udid: udid.clone(),
        expires_at: now + CHALLENGE_TTL,
        used_at: None,
    };
    store::put(&mut t, key_of(&challenge).as_bytes(), &rec)?;
    Ok(Secret::new(challenge))
}

/// Takes `challenge` for a request at `now`: refused when unknown, expired or used; otherwise
/// marked used (in the caller's transaction) and returned. An expired challenge is marked used
/// too, so it never works again whatever the clock does.
pub fn consume_in(
    wtx: &WriteTransaction,
    challenge: &str,
    now: OffsetDateTime,
) -> Result<Result<ChallengeRec, ChallengeRefusal>, StoreError> {
    if challenge.is_empty() || challenge.len() > MAX_CHALLENGE_LEN {
        return Ok(Err(ChallengeRefusal::Unknown));
    }
    let key = key_of(challenge);
    let mut t = wtx.open_table(CHALLENGES)?;
    let Some(mut rec): Option<ChallengeRec> = store::get(&t, key.as_bytes())? else {
        return Ok(Err(ChallengeRefusal::Unknown));
    };
    if rec.used_at.is_some() {
        return Ok(Err(ChallengeRefusal::Used(rec)));
    }
    rec.used_at = Some(now);
    store::put(&mut t, key.as_bytes(), &rec)?;
    if rec.expires_at <= now {
        return Ok(Err(ChallengeRefusal::Expired(rec)));
    }
    Ok(Ok(rec))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

    /// A challenge stored before its serial and UDID were typed reads back and is written
    /// again byte for byte, spelled as it was held.
    #[test]
    fn an_old_challenge_record_keeps_its_bytes() {
        let stored = r#"{"serial":"c02 xyz0abc","udid":"00008030-001a2b3c4d5e6f70","expires_at":"2026-12-01T10:00:00Z","used_at":"2026-12-01T09:50:00Z"}"#;
        let record: ChallengeRec = serde_json::from_str(stored).unwrap();
        assert_eq!(serde_json::to_string(&record).unwrap(), stored);
    }

    fn store() -> (tempfile::TempDir, redb::Database) {
        let dir = tempfile::tempdir().unwrap();
        let db = redb::Database::create(dir.path().join("t.redb")).unwrap();
        (dir, db)
    }

    #[test]
    fn a_challenge_works_once_and_only_within_fifteen_minutes() {
        let (_d, db) = store();
        let w = db.begin_write().unwrap();
        let id = |s: &str, u: &str| (Serial::parse(s).unwrap(), Udid::parse(u).unwrap());
        let ((s1, u1), (s2, u2)) = (id("S1", "U1"), id("S2", "U2"));
        let a = issue_in(&w, &s1, &u1, NOW).unwrap();
        let b = issue_in(&w, &s2, &u2, NOW).unwrap();
        assert_ne!(a.expose(), b.expose());
        for c in [&a, &b] {
            assert_eq!(c.expose().len(), 64);
            // PrintableString-safe: clients may encode the challengePassword as one.
            assert!(c.expose().bytes().all(|b| b.is_ascii_hexdigit()), "{}", c.expose());
        }
        let rec = consume_in(&w, a.expose(), NOW + Duration::minutes(14)).unwrap().unwrap();
        assert_eq!((rec.serial.as_str(), rec.udid.as_str()), ("S1", "U1"));
        let again = consume_in(&w, a.expose(), NOW + Duration::minutes(14)).unwrap();
        assert_eq!(again.unwrap_err().code(), "scep_challenge_used");
        let late = consume_in(&w, b.expose(), NOW + Duration::minutes(15)).unwrap();
        assert_eq!(late.unwrap_err().code(), "scep_challenge_expired");
        let after = consume_in(&w, b.expose(), NOW).unwrap();
        assert_eq!(after.unwrap_err().code(), "scep_challenge_used", "burnt when expired");
        assert_eq!(consume_in(&w, "nope", NOW).unwrap().unwrap_err(), ChallengeRefusal::Unknown);
        assert_eq!(consume_in(&w, "", NOW).unwrap().unwrap_err(), ChallengeRefusal::Unknown);
        let long = "x".repeat(10_000);
        assert_eq!(consume_in(&w, &long, NOW).unwrap().unwrap_err(), ChallengeRefusal::Unknown);
    }

    #[test]
    fn old_records_are_dropped_when_new_challenges_are_issued() {
        let (_d, db) = store();
        let w = db.begin_write().unwrap();
        let id = |s: &str, u: &str| (Serial::parse(s).unwrap(), Udid::parse(u).unwrap());
        let ((s1, u1), (s2, u2)) = (id("S1", "U1"), id("S2", "U2"));
        let old = issue_in(&w, &s1, &u1, NOW).unwrap();
        let later = NOW + CHALLENGE_TTL + KEEP_AFTER_EXPIRY + Duration::minutes(1);
        issue_in(&w, &s2, &u2, later).unwrap();
        let gone = consume_in(&w, old.expose(), later).unwrap();
        assert_eq!(gone.unwrap_err(), ChallengeRefusal::Unknown);
    }
}
