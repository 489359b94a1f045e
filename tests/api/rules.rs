//! The membership rules as the suite calls them: each one a job of its own through
//! `tenancy::door::tenant` (the way a CLI command or an embedding app's job runs them), committed
//! when the rule succeeds.

use entity::MembershipId;
use entity::OrganizationId;
use entity::UserId;
use entity::{organization_owner, organization_user};
use orgs::events::Events;
use orgs::organizations::{self as service, OrgError};
use orgs::tenancy::{TenantTxn, door};
use sea_orm::DatabaseConnection;

async fn open(db: &DatabaseConnection, events: &Events, organization_id: i64) -> TenantTxn {
    door::tenant(db, events, OrganizationId(organization_id))
        .await
        .expect("a tenant transaction")
}

async fn commit<T>(tx: TenantTxn, result: Result<T, OrgError>) -> Result<T, OrgError> {
    let value = result?;
    tx.commit().await?;
    Ok(value)
}

pub async fn add_user(
    db: &DatabaseConnection,
    events: &Events,
    organization_id: i64,
    user_id: i64,
    is_admin: bool,
) -> Result<organization_user::Model, OrgError> {
    let tx = open(db, events, organization_id).await;
    let result = service::add_user(&tx, UserId(user_id), is_admin).await;
    commit(tx, result).await
}

pub async fn get_or_add_user(
    db: &DatabaseConnection,
    events: &Events,
    organization_id: i64,
    user_id: i64,
    is_admin: bool,
) -> Result<(organization_user::Model, bool), OrgError> {
    let tx = open(db, events, organization_id).await;
    let result = service::get_or_add_user(&tx, UserId(user_id), is_admin).await;
    commit(tx, result).await
}

pub async fn remove_user(
    db: &DatabaseConnection,
    events: &Events,
    organization_id: i64,
    user_id: i64,
) -> Result<(), OrgError> {
    let tx = open(db, events, organization_id).await;
    let result = service::remove_user(&tx, UserId(user_id)).await;
    commit(tx, result).await
}

pub async fn change_owner(
    db: &DatabaseConnection,
    events: &Events,
    organization_id: i64,
    membership_id: i64,
) -> Result<organization_owner::Model, OrgError> {
    let tx = open(db, events, organization_id).await;
    let result = service::change_owner(&tx, MembershipId(membership_id)).await;
    commit(tx, result).await
}

pub async fn delete_organization(
    db: &DatabaseConnection,
    events: &Events,
    organization_id: i64,
) -> Result<(), OrgError> {
    let tx = open(db, events, organization_id).await;
    let result = service::delete_organization(&tx).await;
    commit(tx, result).await
}

pub async fn membership(
    db: &DatabaseConnection,
    organization_id: i64,
    user_id: i64,
) -> Result<Option<organization_user::Model>, sea_orm::DbErr> {
    let tx = open(db, &Events::new(), organization_id).await;
    service::members::membership(&tx, UserId(user_id)).await
}

pub async fn is_member(
    db: &DatabaseConnection,
    organization_id: i64,
    user_id: i64,
) -> Result<bool, sea_orm::DbErr> {
    let tx = open(db, &Events::new(), organization_id).await;
    service::is_member(&tx, UserId(user_id)).await
}

pub async fn is_admin(
    db: &DatabaseConnection,
    organization_id: i64,
    user_id: i64,
) -> Result<bool, sea_orm::DbErr> {
    let tx = open(db, &Events::new(), organization_id).await;
    service::is_admin(&tx, UserId(user_id)).await
}

pub async fn is_owner(
    db: &DatabaseConnection,
    organization_id: i64,
    user_id: i64,
) -> Result<bool, sea_orm::DbErr> {
    let tx = open(db, &Events::new(), organization_id).await;
    service::is_owner(&tx, UserId(user_id)).await
}

/// Makes `user_id` (a member) the owner.
pub async fn change_owner_to(
    db: &DatabaseConnection,
    events: &Events,
    organization_id: i64,
    user_id: i64,
) -> Result<organization_owner::Model, OrgError> {
    let member = membership(db, organization_id, user_id)
        .await?
        .ok_or(OrgError::NotMember)?;
    change_owner(db, events, organization_id, member.id).await
}

pub async fn set_admin(
    db: &DatabaseConnection,
    events: &Events,
    organization_id: i64,
    user_id: i64,
    is_admin: bool,
) -> Result<(), OrgError> {
    let tx = open(db, events, organization_id).await;
    let result = service::set_admin(&tx, UserId(user_id), is_admin).await;
    commit(tx, result).await
}

/// The owner's membership, read fresh.
pub async fn owner_membership(
    db: &DatabaseConnection,
    organization_id: i64,
) -> organization_user::Model {
    let tx = open(db, &Events::new(), organization_id).await;
    let owner = service::members::owner_user_id(&tx)
        .await
        .unwrap()
        .expect("an owner");
    service::members::membership(&tx, UserId(owner))
        .await
        .unwrap()
        .expect("the owner's membership")
}
