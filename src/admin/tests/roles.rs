//! Roles in the admin module: upgrade of older records, role changes, API tokens bound to
//! their creator's role.

use super::*;
use crate::store;

fn session_of(username: &str, role: Role) -> Principal {
    Principal::Session {
        username: username.into(),
        csrf_token: "x".into(),
        role,
        scope: Scope::All,
    }
}

/// Records written before roles existed carry no role: they read back as Owners.
#[tokio::test]
async fn admins_and_tokens_from_before_roles_are_owners() {
    let (admin, _, _d) = service();
    let old_user = serde_json::json!({
        "username": "legacy", "password_hash": crate::admin::password::hash(&pw("legacy password 1"), HashCost::TESTING, &mut Vec::new()),
        "created_at": "2026-01-01T00:00:00Z", "last_login_at": null,
    });
    let token = "adbx_legacytokenlegacytokenlegacytoken";
    let old_token = serde_json::json!({
        "id": "t1", "name": "old script", "token_hash": records::secret_hash(token),
        "created_by": "legacy", "created_at": "2026-01-01T00:00:00Z",
    });
    admin
        .inner
        .store
        .write(move |wtx| {
            let mut users = wtx.open_table(records::USERS)?;
            users
                .insert(b"legacy".as_slice(), serde_json::to_vec(&old_user).unwrap().as_slice())?;
            let mut tokens = wtx.open_table(records::API_TOKENS)?;
            tokens.insert(b"t1".as_slice(), serde_json::to_vec(&old_token).unwrap().as_slice())?;
            let mut by_hash = wtx.open_table(records::API_TOKEN_BY_HASH)?;
            by_hash.insert(records::secret_hash(token).as_bytes(), b"t1".as_slice())?;
            Ok::<_, store::StoreError>(())
        })
        .await
        .unwrap();
    assert_eq!(admin.list_users().await.unwrap()[0].role, Role::Owner);
    let s = admin.login("legacy", pw("legacy password 1"), ADDR).await.unwrap();
    let p = admin.principal_for_session(s.id.expose()).await.unwrap().unwrap();
    assert_eq!(p.role(), Role::Owner);
    let t = admin.principal_for_token(token).await.unwrap().unwrap();
    assert_eq!(t.role(), Role::Owner);
}

#[tokio::test]
async fn a_role_change_applies_at_once_is_audited_and_keeps_an_owner() {
    let (admin, _, _d) = service();
    let alice = set_up(&admin).await;
    let me = Actor::Admin("alice".into());
    admin.create_user(me.clone(), "bob", pw("bob password 12"), Role::HelpDesk).await.unwrap();
    let bob = admin.login("bob", pw("bob password 12"), ADDR).await.unwrap();
    let p = admin.principal_for_session(bob.id.expose()).await.unwrap().unwrap();
    assert_eq!(p.role(), Role::HelpDesk);
    admin.set_role(me.clone(), "BOB", Role::Auditor).await.unwrap();
    let p = admin.principal_for_session(bob.id.expose()).await.unwrap().unwrap();
    assert_eq!(p.role(), Role::Auditor, "the session sees the new role at its next request");
    let a = admin.principal_for_session(alice.id.expose()).await.unwrap().unwrap();
    assert_eq!(a.role(), Role::Owner);
    // alice is the only Owner: she can neither step down nor be removed.
    assert!(matches!(
        admin.set_role(Actor::Cli, "alice", Role::Operator).await,
        Err(AdminError::Conflict(m)) if m.contains("only Owner")
    ));
    assert!(matches!(admin.delete_user(Actor::Cli, "alice").await, Err(AdminError::Conflict(_))));
    admin.set_role(me.clone(), "bob", Role::Owner).await.unwrap();
    admin.set_role(me, "alice", Role::Operator).await.unwrap();
    let (entries, _) =
        crate::audit::list(&admin.inner.store, Default::default(), 100, 0).await.unwrap();
    let dump = serde_json::to_string(&entries).unwrap();
    assert!(dump.contains("role changed from Help desk to Auditor"), "{dump}");
    assert!(dump.contains("role changed from Owner to Operator"), "{dump}");
}

#[tokio::test]
async fn an_api_token_is_never_wider_than_its_admin() {
    let (admin, _, _d) = service();
    set_up(&admin).await;
    let me = Actor::Admin("alice".into());
    admin.create_user(me.clone(), "olga", pw("olga password 12"), Role::Operator).await.unwrap();
    let olga = session_of("olga", Role::Operator);
    assert!(matches!(
        admin.create_api_token_for(&olga, "wide", Some(Role::Owner), None).await,
        Err(AdminError::Forbidden(m)) if m.contains("operator, help_desk")
    ));
    assert!(matches!(
        admin.create_api_token_for(&olga, "audit", Some(Role::Auditor), None).await,
        Err(AdminError::Forbidden(_))
    ));
    let same = admin.create_api_token_for(&olga, "same", None, None).await.unwrap();
    assert_eq!(same.info.role, Role::Operator);
    assert_eq!(same.info.owner_admin.as_deref(), Some("olga"));
    let narrow =
        admin.create_api_token_for(&olga, "narrow", Some(Role::HelpDesk), None).await.unwrap();
    let p = admin.principal_for_token(narrow.token.expose()).await.unwrap().unwrap();
    assert_eq!(p.role(), Role::HelpDesk);
    assert_eq!(p.admin(), Some("olga"));

    // olga narrowed to Help desk: her Operator token stops, her Help desk one goes on.
    admin.set_role(me.clone(), "olga", Role::HelpDesk).await.unwrap();
    assert!(matches!(
        admin.principal_for_token(same.token.expose()).await,
        Err(AdminError::Forbidden(m)) if m.contains("olga is now Help desk")
    ));
    assert!(admin.principal_for_token(narrow.token.expose()).await.unwrap().is_some());
    // olga removed: none of her tokens works.
    admin.delete_user(me, "olga").await.unwrap();
    assert!(admin.principal_for_token(narrow.token.expose()).await.unwrap().is_none());
}

#[tokio::test]
async fn only_an_owner_revokes_someone_elses_token() {
    let (admin, _, _d) = service();
    set_up(&admin).await;
    let me = Actor::Admin("alice".into());
    for name in ["olga", "oscar"] {
        admin.create_user(me.clone(), name, pw("a password 1234"), Role::Operator).await.unwrap();
    }
    let olga = session_of("olga", Role::Operator);
    let oscar = session_of("oscar", Role::Operator);
    let t = admin.create_api_token_for(&olga, "olga's script", None, None).await.unwrap();
    assert!(matches!(
        admin.revoke_api_token(&oscar, &t.info.id).await,
        Err(AdminError::Forbidden(m)) if m.contains("only an Owner")
    ));
    admin.revoke_api_token(&olga, &t.info.id).await.unwrap();
    let t2 = admin.create_api_token_for(&olga, "another", None, None).await.unwrap();
    admin.revoke_api_token(&session_of("alice", Role::Owner), &t2.info.id).await.unwrap();
}

#[tokio::test]
async fn the_cli_needs_a_role_for_any_admin_but_the_first() {
    let (admin, _, _d) = service();
    assert!(admin.set_password_cli("root", pw("cli password 12"), None).await.unwrap());
    assert!(matches!(
        admin.set_password_cli("second", pw("cli password 12"), None).await,
        Err(AdminError::Validation { field: "role", .. })
    ));
    assert!(
        admin.set_password_cli("second", pw("cli password 12"), Some(Role::Auditor)).await.unwrap()
    );
    assert_eq!(admin.role_of("second").await.unwrap(), Some(Role::Auditor));
    // An existing admin keeps their role unless one is given.
    assert!(!admin.set_password_cli("second", pw("cli password 13"), None).await.unwrap());
    assert_eq!(admin.role_of("second").await.unwrap(), Some(Role::Auditor));
    assert!(
        !admin.set_password_cli("second", pw("cli password 14"), Some(Role::Owner)).await.unwrap()
    );
    assert_eq!(admin.role_of("second").await.unwrap(), Some(Role::Owner));
    // Demoting the last remaining Owner but one is fine; demoting the last one is not.
    admin.set_password_cli("root", pw("cli password 15"), Some(Role::Operator)).await.unwrap();
    assert!(matches!(
        admin.set_password_cli("second", pw("cli password 16"), Some(Role::HelpDesk)).await,
        Err(AdminError::Conflict(_))
    ));
}
