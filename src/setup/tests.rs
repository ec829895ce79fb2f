//! The run a device gets: the user who signed in during Setup Assistant pre-fills a Mac's
//! account when their profile asks for it, and nobody else's.

use super::*;
use crate::ids::Serial;
use crate::signin::EnrolledUserRecord;

const MAC: &str = "Mac14,3";
const T0: OffsetDateTime = time::macros::datetime!(2026-12-01 09:00 UTC);

fn setup() -> (Setup, Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &[TABLES, crate::signin::TABLES]).unwrap();
    (Setup::new(store.clone(), Clock::manual(T0)), store, dir)
}

fn device(udid: &str, product: &str) -> Device {
    Device { udid: Udid::parse(udid).unwrap(), product: Some(product.into()), name: None }
}

fn signed_in(store: &Store, udid: &str, prefill: bool, lock: bool) {
    let record = EnrolledUserRecord {
        v: 1,
        serial: Serial::parse("C02XK1ABCD12").unwrap(),
        username: "ann".into(),
        display_name: "Ann Lee".into(),
        email: Some("ann@example.org".into()),
        source: "local".into(),
        prefill_macos_account: prefill,
        lock_macos_account: lock,
        signed_in_at: T0,
    };
    let udid = Udid::parse(udid).unwrap();
    store.write_blocking(|wtx| crate::signin::put_enrolled_user_in(wtx, &udid, &record)).unwrap();
}

fn account_commands(run: &SetupRun) -> Vec<&Command> {
    run.steps
        .iter()
        .filter_map(|s| s.command.as_ref())
        .filter(|c| matches!(c, Command::AccountConfiguration { .. }))
        .collect()
}

#[tokio::test]
async fn a_signed_in_user_pre_fills_the_macs_account_even_without_the_step_in_the_list() {
    let (setup, store, _dir) = setup();
    signed_in(&store, "MAC-UDID-1", true, true);
    let run = setup.plan(None, device("MAC-UDID-1", MAC)).await.unwrap();
    let account = account_commands(&run);
    assert_eq!(
        account,
        [&Command::AccountConfiguration {
            short_name: "ann".into(),
            full_name: "Ann Lee".into(),
            lock: true
        }],
        "{run:?}"
    );
    let step = run.steps.iter().find(|s| s.command.as_ref() == Some(account[0])).unwrap();
    assert_eq!(step.on_error, OnError::Skip, "a failed pre-fill must not hold the Mac");
}

#[tokio::test]
async fn a_user_whose_profile_does_not_pre_fill_gets_no_account_step() {
    let (setup, store, _dir) = setup();
    signed_in(&store, "MAC-UDID-2", false, false);
    let run = setup.plan(None, device("MAC-UDID-2", MAC)).await.unwrap();
    assert!(account_commands(&run).is_empty(), "{run:?}");
    // Without any user the default list runs as before: the device name only.
    let run = setup.plan(None, device("MAC-UDID-3", MAC)).await.unwrap();
    assert!(account_commands(&run).is_empty(), "{run:?}");
}

#[test]
fn the_listed_account_step_is_used_rather_than_a_second_one() {
    let listed = Step {
        action: StepAction::AccountConfiguration {
            short_name: String::new(),
            full_name: String::new(),
            lock: false,
        },
        on_error: OnError::Block,
    };
    let user = PrimaryAccount { short_name: "ann".into(), full_name: "Ann Lee".into(), lock: true };
    let steps = with_account_step(vec![listed.clone()], Some(&user));
    assert_eq!(steps, vec![listed.clone()]);
    let steps = with_account_step(steps::default_steps(), Some(&user));
    assert_eq!(steps.len(), 2);
    assert!(with_account_step(steps::default_steps(), None).len() == 1);
}

#[test]
fn the_users_names_win_over_the_steps_and_either_lock_locks() {
    let step = Step {
        action: StepAction::AccountConfiguration {
            short_name: "lab".into(),
            full_name: "Lab account".into(),
            lock: false,
        },
        on_error: OnError::Block,
    };
    let user = PrimaryAccount { short_name: "ann".into(), full_name: "Ann Lee".into(), lock: true };
    let mac = device("MAC-UDID-4", MAC);
    let planned = plan_step(&step, &mac, Some(&user), |_| Ok(None)).unwrap();
    assert_eq!(
        planned.command,
        Some(Command::AccountConfiguration {
            short_name: "ann".into(),
            full_name: "Ann Lee".into(),
            lock: true
        })
    );
    let planned = plan_step(&step, &mac, None, |_| Ok(None)).unwrap();
    assert_eq!(
        planned.command,
        Some(Command::AccountConfiguration {
            short_name: "lab".into(),
            full_name: "Lab account".into(),
            lock: false
        })
    );
    let iphone = device("PHONE-UDID", "iPhone15,2");
    let planned = plan_step(&step, &iphone, Some(&user), |_| Ok(None)).unwrap();
    assert_eq!(planned.command, None, "AccountConfiguration is for Macs only");
}
