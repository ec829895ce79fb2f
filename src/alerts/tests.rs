//! The announced state across evaluations and restarts, on a real store: one announcement per
//! state change, none repeated when a store is opened again, a resolution when it clears.

use super::records::{MailOutcome, SETTINGS, SETTINGS_KEY, Security, SettingsRecord, SmtpRecord};
use super::rules::{self, Observed, Thresholds, TokenSeen};
use super::{AlertKind, state};
use crate::store::{self, Store, StoreError};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const LIMITS: Thresholds = Thresholds { refusals_per_hour: 20, disk_free_percent: 10 };
const BASE: &str = "https://adebox.example.org";

fn open(dir: &std::path::Path) -> Store {
    Store::open(dir, &[super::TABLES, crate::events::TABLES]).unwrap()
}

fn observed(expires_at: OffsetDateTime) -> Observed {
    Observed {
        tokens: vec![TokenSeen {
            id: "tok-1".into(),
            name: "Main".into(),
            expires_at,
            refused: None,
            sync_failures: 0,
            sync_message: String::new(),
        }],
        ..Default::default()
    }
}

fn reconcile(store: &Store, seen: &Observed, now: OffsetDateTime) -> usize {
    let holding = rules::evaluate(seen, LIMITS, now);
    store.write_blocking(move |wtx| state::reconcile(wtx, &holding, BASE, now)).unwrap()
}

fn outbox_len(store: &Store) -> u64 {
    use redb::ReadableTableMetadata;
    store
        .read_blocking(|rtx| Ok::<_, StoreError>(rtx.open_table(super::records::OUTBOX)?.len()?))
        .unwrap()
}

#[test]
fn each_state_change_is_announced_once_even_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let now = datetime!(2026-12-07 12:00 UTC);
    let expires = now + Duration::days(10);
    let store = open(dir.path());
    let settings = SettingsRecord {
        smtp: Some(SmtpRecord {
            host: "mail.example.org".into(),
            port: 587,
            security: Security::Starttls,
            allow_plain: false,
            username: None,
            password: None,
            from: "adebox@example.org".into(),
            ca_pem: None,
        }),
        recipients: [(AlertKind::TokenExpiring, vec!["ops@example.org".to_string()])].into(),
        ..Default::default()
    };
    store
        .write_blocking(move |wtx| {
            store::put(&mut wtx.open_table(SETTINGS)?, SETTINGS_KEY, &settings)?;
            Ok::<_, StoreError>(())
        })
        .unwrap();

    assert_eq!(reconcile(&store, &observed(expires), now), 1, "14 days left: announced");
    assert_eq!(reconcile(&store, &observed(expires), now + Duration::hours(1)), 0);
    assert_eq!(outbox_len(&store), 1);
    drop(store);

    let store = open(dir.path());
    assert_eq!(reconcile(&store, &observed(expires), now + Duration::hours(2)), 0, "no repeat");
    // Three days later it is in the 7-day step: one more.
    assert_eq!(reconcile(&store, &observed(expires), now + Duration::days(4)), 1);
    // Renewed: resolved once, then quiet.
    let renewed = now + Duration::days(365);
    assert_eq!(reconcile(&store, &observed(renewed), now + Duration::days(5)), 1);
    assert_eq!(reconcile(&store, &observed(renewed), now + Duration::days(5)), 0);
    assert_eq!(outbox_len(&store), 3);

    let recent = store.read_blocking(|rtx| state::recent_in(rtx, 10)).unwrap();
    let changes: Vec<_> = recent.iter().map(|e| e.change.as_str()).collect();
    assert_eq!(changes, ["resolved", "raised", "raised"]);
    assert!(recent[0].summary.starts_with("Resolved: "));
    assert!(recent.iter().all(|e| e.mail == MailOutcome::Queued));
    let due = store.read_blocking(move |rtx| state::due_in(rtx, renewed, 10)).unwrap();
    assert!(due[0].1.body.contains("https://adebox.example.org/admin/tokens/tok-1#renew"));
}

#[test]
fn without_recipients_an_alert_is_listed_but_not_mailed() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let now = datetime!(2026-12-07 12:00 UTC);
    assert_eq!(reconcile(&store, &observed(now + Duration::days(2)), now), 1);
    assert_eq!(outbox_len(&store), 0);
    let recent = store.read_blocking(|rtx| state::recent_in(rtx, 10)).unwrap();
    assert_eq!(recent[0].mail, MailOutcome::NotMailed);
}

#[test]
fn a_failed_send_backs_off_and_is_given_up_after_a_day() {
    let first = std::time::Duration::from_secs(30);
    assert_eq!(state::backoff(0, first), Duration::seconds(30));
    assert_eq!(state::backoff(1, first), Duration::seconds(60));
    assert_eq!(state::backoff(20, first), Duration::hours(1));

    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let now = datetime!(2026-12-07 12:00 UTC);
    let mail = super::records::MailEntry {
        sent_seq: 1,
        to: vec!["ops@example.org".into()],
        subject: "s".into(),
        body: "b".into(),
        created_at: now,
        next_at: now,
        attempts: 0,
    };
    store.write_blocking(move |wtx| state::enqueue(wtx, mail)).unwrap();
    let failed: Result<String, String> = Err("535 no".into());
    let f = failed.clone();
    store.write_blocking(move |wtx| state::record_attempt(wtx, 1, &f, now, first)).unwrap();
    assert!(store.read_blocking(move |rtx| state::due_in(rtx, now, 5)).unwrap().is_empty());
    let later = now + Duration::seconds(31);
    assert_eq!(store.read_blocking(move |rtx| state::due_in(rtx, later, 5)).unwrap().len(), 1);
    let day = now + Duration::hours(25);
    store.write_blocking(move |wtx| state::record_attempt(wtx, 1, &failed, day, first)).unwrap();
    assert_eq!(outbox_len(&store), 0);
}

/// The alert records as `alerts.active`, `alerts.sent` and `alerts.settings` kept them while
/// they were also the API's types read back and are re-written byte for byte.
#[test]
fn stored_alerts_keep_their_bytes() {
    let active = br#"{"kind":"token_expiring","key":"token_expiring:oCaG2Svw","level":"14d","severity":"warning","summary":"The server token expires in 14 days","message":"Renew it.","fix_path":"/admin/tokens/oCaG2Svw#renew","since":"2026-12-07T11:00:00Z"}"#;
    let a: super::ActiveAlert = store::decode("alerts.active", active).unwrap();
    assert_eq!((a.kind, a.since), (AlertKind::TokenExpiring, datetime!(2026-12-07 11:00 UTC)));
    assert_eq!(store::encode(&a), active.to_vec());
    let sent = br#"{"seq":7,"at":"2026-12-07T11:00:00Z","kind":"disk_full","change":"raised","summary":"Disk nearly full","fix_path":"/admin/status","recipients":["ops@example.org"],"mail":"gave_up","attempts":3,"last_error":"550 mailbox unavailable","next_attempt_at":null}"#;
    let e: super::SentEntry = store::decode("alerts.sent", sent).unwrap();
    assert_eq!((e.kind, e.mail, e.attempts), (AlertKind::DiskFull, MailOutcome::GaveUp, 3));
    assert_eq!(store::encode(&e), sent.to_vec());
    let settings = br#"{"smtp":{"host":"mail.example.org","port":587,"security":"starttls","allow_plain":false,"username":null,"password":null,"from":"adebox@example.org","ca_pem":null},"recipients":{"token_expiring":["ops@example.org"]},"refusals_per_hour":20,"disk_free_percent":10}"#;
    let s: SettingsRecord = store::decode("alerts.settings", settings).unwrap();
    assert_eq!(s.smtp.as_ref().map(|m| m.security), Some(Security::Starttls));
    assert_eq!(store::encode(&s), settings.to_vec());
}
