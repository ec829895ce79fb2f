use super::*;
use crate::audit::Actor;
use std::net::IpAddr;
use time::macros::datetime;

fn service() -> (Admin, Clock, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &[crate::audit::TABLES, TABLES]).unwrap();
    let clock = Clock::manual(datetime!(2026-11-24 10:00 UTC));
    let options = AdminOptions { hash_cost: HashCost::TESTING, ..Default::default() };
    (Admin::new(store, clock.clone(), options), clock, dir)
}

fn pw(s: &str) -> Secret<String> {
    Secret::new(s.to_string())
}

const ADDR: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7)));

async fn set_up(admin: &Admin) -> Session {
    let code = admin.prepare_setup_code().await.unwrap().unwrap();
    admin.setup(code.expose(), "alice", pw("alice password 1"), ADDR).await.unwrap()
}

#[tokio::test]
async fn first_run_needs_the_printed_code_once() {
    let (admin, _, _d) = service();
    assert!(admin.setup_required().await.unwrap());
    let code = admin.prepare_setup_code().await.unwrap().unwrap();
    assert!(matches!(
        admin.setup("WRONG-CODE", "alice", pw("alice password 1"), ADDR).await,
        Err(AdminError::BadSetupCode)
    ));
    // Codes are typed by hand: case and dashes do not matter.
    let lower = code.expose().to_lowercase().replace('-', " ");
    assert!(matches!(
        admin.setup(&lower, "alice", pw("short"), ADDR).await,
        Err(AdminError::Validation { field: "password", .. })
    ));
    let session = admin.setup(&lower, "alice", pw("alice password 1"), ADDR).await.unwrap();
    assert_eq!(session.username, "alice");
    assert!(!admin.setup_required().await.unwrap());
    assert!(admin.prepare_setup_code().await.unwrap().is_none());
    assert!(matches!(
        admin.setup(code.expose(), "bob", pw("bob password 12"), ADDR).await,
        Err(AdminError::SetupDone)
    ));
}

#[tokio::test]
async fn login_checks_the_password_and_locks_out_an_address() {
    let (admin, clock, _d) = service();
    set_up(&admin).await;
    let s = admin.login("ALICE", pw("alice password 1"), ADDR).await.unwrap();
    assert_eq!(s.username, "alice");
    for _ in 0..4 {
        assert!(matches!(
            admin.login("alice", pw("nope nope nope"), ADDR).await,
            Err(AdminError::BadCredentials)
        ));
    }
    assert!(matches!(
        admin.login("alice", pw("nope nope nope"), ADDR).await,
        Err(AdminError::LockedOut { .. })
    ));
    // Even the right password is refused while locked out…
    assert!(matches!(
        admin.login("alice", pw("alice password 1"), ADDR).await,
        Err(AdminError::LockedOut { .. })
    ));
    // …but not from another address, and not after the lockout.
    let other = Some("192.0.2.8".parse().unwrap());
    assert!(admin.login("alice", pw("alice password 1"), other).await.is_ok());
    clock.advance(Duration::minutes(16));
    assert!(admin.login("alice", pw("alice password 1"), ADDR).await.is_ok());
    assert!(matches!(
        admin.login("mallory", pw("alice password 1"), ADDR).await,
        Err(AdminError::BadCredentials)
    ));
}

#[tokio::test]
async fn sessions_expire_and_end_at_logout() {
    let (admin, clock, _d) = service();
    let s = set_up(&admin).await;
    let info = admin.session(s.id.expose()).await.unwrap().unwrap();
    assert_eq!(info.csrf_token, s.csrf_token);
    assert!(admin.session("not a session").await.unwrap().is_none());
    clock.advance(Duration::hours(13));
    assert!(admin.session(s.id.expose()).await.unwrap().is_none());
    let s2 = admin.login("alice", pw("alice password 1"), ADDR).await.unwrap();
    admin.logout(s2.id.expose(), ADDR).await.unwrap();
    assert!(admin.session(s2.id.expose()).await.unwrap().is_none());
    assert_eq!(admin.prune_sessions().await.unwrap(), 1);
}

#[tokio::test]
async fn changing_a_password_signs_out_other_sessions() {
    let (admin, _, _d) = service();
    let here = set_up(&admin).await;
    let elsewhere = admin.login("alice", pw("alice password 1"), ADDR).await.unwrap();
    assert!(matches!(
        admin
            .change_password("alice", pw("wrong current pw"), pw("new password 123"), None, ADDR)
            .await,
        Err(AdminError::Validation { field: "current_password", .. })
    ));
    admin
        .change_password(
            "alice",
            pw("alice password 1"),
            pw("new password 123"),
            Some(here.id.expose()),
            ADDR,
        )
        .await
        .unwrap();
    assert!(admin.session(here.id.expose()).await.unwrap().is_some());
    assert!(admin.session(elsewhere.id.expose()).await.unwrap().is_none());
    assert!(admin.login("alice", pw("new password 123"), ADDR).await.is_ok());
}

#[tokio::test]
async fn admins_can_be_added_but_not_the_last_or_yourself_removed() {
    let (admin, _, _d) = service();
    set_up(&admin).await;
    let me = Actor::Admin("alice".into());
    admin.create_user(me.clone(), "bob", pw("bob password 12"), Role::Operator).await.unwrap();
    assert!(matches!(
        admin.create_user(me.clone(), "BOB", pw("bob password 12"), Role::Owner).await,
        Err(AdminError::Conflict(_))
    ));
    assert!(matches!(
        admin.create_user(me.clone(), "bad name", pw("bob password 12"), Role::Owner).await,
        Err(AdminError::Validation { field: "username", .. })
    ));
    assert!(matches!(admin.delete_user(me.clone(), "alice").await, Err(AdminError::Conflict(_))));
    let bob_session = admin.login("bob", pw("bob password 12"), ADDR).await.unwrap();
    admin.delete_user(me.clone(), "bob").await.unwrap();
    assert!(admin.session(bob_session.id.expose()).await.unwrap().is_none());
    assert!(matches!(admin.delete_user(Actor::Cli, "alice").await, Err(AdminError::Conflict(_))));
    assert_eq!(admin.list_users().await.unwrap().len(), 1);
}

#[tokio::test]
async fn api_tokens_authenticate_until_revoked() {
    let (admin, _, _d) = service();
    set_up(&admin).await;
    let t = admin.create_api_token(Actor::Admin("alice".into()), "inventory script").await.unwrap();
    assert!(t.token.expose().starts_with("adbx_"));
    let p = admin.principal_for_token(t.token.expose()).await.unwrap().unwrap();
    assert_eq!(
        p,
        Principal::ApiToken {
            id: t.info.id.clone(),
            name: "inventory script".into(),
            role: Role::Owner,
            owner_admin: None,
            scope: Scope::All,
        }
    );
    assert!(admin.principal_for_token("adbx_forged").await.unwrap().is_none());
    let listed = admin.list_api_tokens().await.unwrap();
    assert!(listed[0].last_used_at.is_some());
    admin.revoke_api_token(&p, &t.info.id).await.unwrap();
    assert!(admin.principal_for_token(t.token.expose()).await.unwrap().is_none());
    assert!(admin.list_api_tokens().await.unwrap()[0].revoked_at.is_some());
    assert_eq!(admin.count_active_api_tokens().await.unwrap(), 0);
}

#[tokio::test]
async fn the_cli_can_reset_a_password_and_create_the_first_admin() {
    let (admin, _, _d) = service();
    admin.prepare_setup_code().await.unwrap();
    assert!(admin.set_password_cli("root-admin", pw("cli password 12"), None).await.unwrap());
    assert_eq!(admin.role_of("root-admin").await.unwrap(), Some(Role::Owner));
    assert!(!admin.setup_required().await.unwrap());
    let s = admin.login("root-admin", pw("cli password 12"), ADDR).await.unwrap();
    assert!(!admin.set_password_cli("root-admin", pw("cli password 13"), None).await.unwrap());
    assert!(admin.session(s.id.expose()).await.unwrap().is_none(), "a reset signs the admin out");
}

#[tokio::test]
async fn audit_holds_no_password_or_code() {
    let (admin, _, _d) = service();
    let code = admin.prepare_setup_code().await.unwrap().unwrap();
    let _ = admin.setup("bad-code", "alice", pw("alice password 1"), ADDR).await;
    admin.setup(code.expose(), "alice", pw("alice password 1"), ADDR).await.unwrap();
    let _ = admin.login("alice", pw("a wrong password"), ADDR).await;
    let t = admin.create_api_token(Actor::Admin("alice".into()), "x").await.unwrap();
    let (entries, _) =
        crate::audit::list(&admin.inner.store, Default::default(), 100, 0).await.unwrap();
    let dump = serde_json::to_string(&entries).unwrap();
    for secret in
        ["alice password 1", "a wrong password", code.expose().as_str(), t.token.expose().as_str()]
    {
        assert!(!dump.contains(secret), "audit leaked a secret");
    }
    assert!(dump.contains("admin.setup") && dump.contains("admin.login"));
}

mod roles;

mod scope;

mod login;
