//! Scopes in the admin module: setting one (audited, keeping an unscoped Owner), sessions
//! and API tokens carrying it, tokens never wider than their admin.

use super::*;
use crate::ids::TokenId;

fn scope(ids: &[&str]) -> Scope {
    Scope::Tokens(ids.iter().map(|i| TokenId::parse(i).unwrap()).collect())
}

#[tokio::test]
async fn a_scope_applies_to_the_session_at_once_and_is_audited() {
    let (admin, _, _d) = service();
    set_up(&admin).await;
    let me = Actor::Admin("alice".into());
    admin.create_user(me.clone(), "olga", pw("olga password 12"), Role::Operator).await.unwrap();
    let olga = admin.login("olga", pw("olga password 12"), ADDR).await.unwrap();
    let p = admin.principal_for_session(olga.id.expose()).await.unwrap().unwrap();
    assert_eq!(p.scope(), &Scope::All, "admins start unscoped");
    let info = admin.set_scope(me.clone(), "olga", scope(&["tokA"])).await.unwrap();
    assert_eq!(info.scope.unwrap().len(), 1);
    let p = admin.principal_for_session(olga.id.expose()).await.unwrap().unwrap();
    assert_eq!(p.scope(), &scope(&["tokA"]));
    assert!(!p.holds(Permission::AuditRead) && p.holds(Permission::Sync));
    admin.set_scope(me, "olga", Scope::All).await.unwrap();
    let (entries, _) =
        crate::audit::list(&admin.inner.store, Default::default(), 100, 0).await.unwrap();
    let dump = serde_json::to_string(&entries).unwrap();
    assert!(dump.contains("scope changed from all server tokens to server tokens tokA"), "{dump}");
    assert!(dump.contains("admin.scope_change"), "{dump}");
}

#[tokio::test]
async fn the_last_unscoped_owner_cannot_be_scoped_or_replaced_by_a_scoped_one() {
    let (admin, _, _d) = service();
    set_up(&admin).await;
    let me = Actor::Admin("alice".into());
    assert!(matches!(
        admin.set_scope(me.clone(), "alice", scope(&["tokA"])).await,
        Err(AdminError::Conflict(m)) if m.contains("only Owner with no scope")
    ));
    admin.create_user(me.clone(), "bob", pw("bob password 12"), Role::Owner).await.unwrap();
    admin.set_scope(me.clone(), "bob", scope(&["tokA"])).await.unwrap();
    // bob is an Owner but scoped: alice still may not step down.
    assert!(matches!(
        admin.set_role(me.clone(), "alice", Role::Operator).await,
        Err(AdminError::Conflict(_))
    ));
    assert!(matches!(admin.delete_user(me.clone(), "alice").await, Err(AdminError::Conflict(_))));
    admin.set_scope(me.clone(), "bob", Scope::All).await.unwrap();
    admin.set_scope(me, "alice", scope(&["tokA"])).await.unwrap();
}

#[tokio::test]
async fn an_api_token_scope_is_never_wider_than_its_admin() {
    let (admin, _, _d) = service();
    set_up(&admin).await;
    let me = Actor::Admin("alice".into());
    admin.create_user(me.clone(), "olga", pw("olga password 12"), Role::Operator).await.unwrap();
    admin.set_scope(me.clone(), "olga", scope(&["tokA", "tokB"])).await.unwrap();
    let (role, s) = admin.access_of("olga").await.unwrap().unwrap();
    let olga =
        Principal::Session { username: "olga".into(), csrf_token: "x".into(), role, scope: s };
    assert!(matches!(
        admin.create_api_token_for(&olga, "wide", None, Some(Scope::All)).await,
        Err(AdminError::Forbidden(m)) if m.contains("scope cannot be wider")
    ));
    assert!(matches!(
        admin.create_api_token_for(&olga, "other", None, Some(scope(&["tokC"]))).await,
        Err(AdminError::Forbidden(_))
    ));
    let inherits = admin.create_api_token_for(&olga, "inherits", None, None).await.unwrap();
    assert_eq!(inherits.info.scope.as_ref().map(|s| s.len()), Some(2));
    let narrow =
        admin.create_api_token_for(&olga, "narrow", None, Some(scope(&["tokB"]))).await.unwrap();
    let p = admin.principal_for_token(narrow.token.expose()).await.unwrap().unwrap();
    assert_eq!(p.scope(), &scope(&["tokB"]));
    // olga narrowed to tokA: her tokens narrow with her.
    admin.set_scope(me, "olga", scope(&["tokA"])).await.unwrap();
    let p = admin.principal_for_token(inherits.token.expose()).await.unwrap().unwrap();
    assert_eq!(p.scope(), &scope(&["tokA"]));
    let p = admin.principal_for_token(narrow.token.expose()).await.unwrap().unwrap();
    assert_eq!(p.scope(), &scope(&[]), "nothing of tokB is visible any more");
}
