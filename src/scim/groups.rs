//! SCIM Groups: a named set of the organization's provisioned Users, and the roles holders of
//! `sso.manage` map each to ([`set_roles`], under the grant rule: only roles they could grant,
//! never `owner`). Whenever a group's members or roles change, each member's group roles are
//! made what their groups give now, under the grant rule with the token maker's authority
//! (`organizations::group_roles::sync_for`).

use std::collections::{BTreeSet, HashMap};

use entity::{UserId, scim_group, scim_group_member, scim_group_role, scim_user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use super::auth::ScimTxn;
use super::filter::{Filter, get_ci};
use super::{GROUP_SCHEMA, ScimError};
use crate::audit::{self, Target};
use crate::organizations::group_roles;
use crate::organizations::roles::RoleError;
use crate::tenancy::{Grant, TenantTxn};

/// A role rule's refusal, in SCIM's shape (a permission the token's maker lacks: 403).
pub(super) fn scim_of_role(error: RoleError) -> ScimError {
    crate::error::AppError::from(error).into()
}

/// A Group as a directory sent it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Input {
    /// `displayName` (required).
    pub display_name: String,
    /// `externalId`.
    pub external_id: Option<String>,
    /// The SCIM ids of its members (`members[].value`).
    pub members: Vec<String>,
}

impl Input {
    /// Reads a Group from `body`; 400 `invalidValue` naming what is wrong.
    pub fn read(body: &Value) -> Result<Self, ScimError> {
        let display_name = get_ci(body, "displayName")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ScimError::bad("invalidValue", "displayName: required"))?;
        if display_name.chars().count() > 1024 {
            return Err(ScimError::bad("invalidValue", "displayName: too long"));
        }
        let external_id = match get_ci(body, "externalId") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(ScimError::bad(
                    "invalidValue",
                    "externalId: must be a string",
                ));
            }
        };
        let members = match get_ci(body, "members") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                let mut ids = Vec::new();
                for item in items {
                    let id = get_ci(item, "value")
                        .and_then(Value::as_str)
                        .ok_or_else(|| {
                            ScimError::bad("invalidValue", "members: each needs a \"value\"")
                        })?;
                    if !ids.iter().any(|i| i == id) {
                        ids.push(id.to_string());
                    }
                }
                ids
            }
            Some(_) => return Err(ScimError::bad("invalidValue", "members: must be a list")),
        };
        Ok(Self {
            display_name: display_name.to_string(),
            external_id,
            members,
        })
    }
}

/// The group whose SCIM id is `id`.
pub async fn find(tx: &TenantTxn, id: &str) -> Result<scim_group::Model, ScimError> {
    tx.select::<scim_group::Entity>()
        .filter(scim_group::Column::ScimId.eq(id))
        .one(tx.conn())
        .await?
        .ok_or_else(|| ScimError::not_found("Group"))
}

/// The members of `groups`: (group row id, user SCIM id, userName).
async fn members_of(
    tx: &TenantTxn,
    groups: &[i64],
) -> Result<HashMap<i64, Vec<(String, String)>>, DbErr> {
    let mut out: HashMap<i64, Vec<(String, String)>> = HashMap::new();
    if groups.is_empty() {
        return Ok(out);
    }
    let rows = tx
        .select::<scim_group_member::Entity>()
        .filter(scim_group_member::Column::GroupId.is_in(groups.iter().copied()))
        .order_by_asc(scim_group_member::Column::Id)
        .all(tx.conn())
        .await?;
    let user_ids: Vec<i64> = rows.iter().map(|r| r.scim_user_id).collect();
    let mut users: HashMap<i64, scim_user::Model> = HashMap::new();
    // A thousand ids a statement: a big group stays under the backends' bound on parameters.
    for chunk in user_ids.chunks(1000) {
        let found = tx
            .select::<scim_user::Entity>()
            .filter(scim_user::Column::Id.is_in(chunk.iter().copied()))
            .all(tx.conn())
            .await?;
        users.extend(found.into_iter().map(|u| (u.id, u)));
    }
    for row in rows {
        if let Some(user) = users.get(&row.scim_user_id) {
            out.entry(row.group_id)
                .or_default()
                .push((user.scim_id.clone(), user.user_name.clone()));
        }
    }
    Ok(out)
}

fn to_json(group: &scim_group::Model, members: Option<&[(String, String)]>, base: &str) -> Value {
    let mut out = json!({
        "schemas": [GROUP_SCHEMA],
        "id": group.scim_id,
        "displayName": group.display_name,
        "meta": {
            "resourceType": "Group",
            "created": group.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "lastModified": group.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "version": super::version::etag(group.version),
            "location": format!("{base}/Groups/{}", group.scim_id),
        },
    });
    if let Some(external) = &group.external_id {
        out["externalId"] = external.clone().into();
    }
    if let Some(members) = members {
        out["members"] = members
            .iter()
            .map(|(id, _)| json!({"value": id, "type": "User", "$ref": format!("{base}/Users/{id}")}))
            .collect();
    }
    out
}

/// One Group as SCIM answers it (without its members when `members` is false).
pub async fn get(scx: &ScimTxn, id: &str, members: bool) -> Result<Value, ScimError> {
    let group = find(&scx.tx, id).await?;
    let listed = if members {
        members_of(&scx.tx, &[group.id]).await?.remove(&group.id)
    } else {
        None
    };
    let listed = listed.unwrap_or_default();
    Ok(to_json(
        &group,
        members.then_some(listed.as_slice()),
        &scx.base,
    ))
}

/// A page of the Groups `filter` matches, from `start` (1-based), and how many match.
pub async fn list(
    scx: &ScimTxn,
    filter: Option<&Filter>,
    start: u64,
    count: u64,
    members: bool,
) -> Result<(Vec<Value>, u64), ScimError> {
    let tx = &scx.tx;
    let mut query = tx
        .select::<scim_group::Entity>()
        .order_by_asc(scim_group::Column::Id);
    if let Some((attr, value)) = filter.and_then(Filter::equality) {
        query = match attr.as_str() {
            "displayname" => query.filter(scim_group::Column::DisplayName.eq(value)),
            "externalid" => query.filter(scim_group::Column::ExternalId.eq(value)),
            "id" => query.filter(scim_group::Column::ScimId.eq(value)),
            _ => query,
        };
    }
    let (groups, total) = match filter {
        None => {
            let total = query.clone().count(tx.conn()).await?;
            (
                query.offset(start - 1).limit(count).all(tx.conn()).await?,
                total,
            )
        }
        Some(filter) => {
            let all = query.all(tx.conn()).await?;
            let ids: Vec<i64> = all.iter().map(|g| g.id).collect();
            let listed = members_of(tx, &ids).await?;
            let matching: Vec<scim_group::Model> = all
                .into_iter()
                .filter(|g| {
                    let m = listed.get(&g.id).cloned().unwrap_or_default();
                    filter.matches(&to_json(g, Some(&m), ""))
                })
                .collect();
            let total = matching.len() as u64;
            let page = matching
                .into_iter()
                .skip(usize::try_from(start - 1).unwrap_or(usize::MAX))
                .take(usize::try_from(count).unwrap_or(usize::MAX))
                .collect();
            (page, total)
        }
    };
    let ids: Vec<i64> = groups.iter().map(|g| g.id).collect();
    let listed = if members {
        members_of(tx, &ids).await?
    } else {
        HashMap::new()
    };
    let resources = groups
        .iter()
        .map(|g| {
            let m = listed.get(&g.id).cloned().unwrap_or_default();
            to_json(g, members.then_some(m.as_slice()), &scx.base)
        })
        .collect();
    Ok((resources, total))
}

/// The row ids of the Users named by SCIM id; 400 `invalidValue` for one that is not here.
async fn user_rows(tx: &TenantTxn, ids: &[String]) -> Result<Vec<scim_user::Model>, ScimError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(1000) {
        let found = tx
            .select::<scim_user::Entity>()
            .filter(scim_user::Column::ScimId.is_in(chunk.iter().cloned()))
            .all(tx.conn())
            .await?;
        rows.extend(found);
    }
    let known: std::collections::HashSet<&str> = rows.iter().map(|r| r.scim_id.as_str()).collect();
    if let Some(missing) = ids.iter().find(|id| !known.contains(id.as_str())) {
        return Err(ScimError::bad(
            "invalidValue",
            format!("members: no User {missing:?} in this organization"),
        ));
    }
    Ok(rows)
}

/// Makes the members of `group` exactly `wanted`; the accounts whose groups changed.
async fn set_members(
    tx: &TenantTxn,
    group: &scim_group::Model,
    wanted: &[scim_user::Model],
) -> Result<Vec<i64>, DbErr> {
    let current = tx
        .select::<scim_group_member::Entity>()
        .filter(scim_group_member::Column::GroupId.eq(group.id))
        .all(tx.conn())
        .await?;
    let wanted_ids: BTreeSet<i64> = wanted.iter().map(|u| u.id).collect();
    let current_ids: BTreeSet<i64> = current.iter().map(|m| m.scim_user_id).collect();
    let gone: Vec<i64> = current_ids.difference(&wanted_ids).copied().collect();
    for chunk in gone.chunks(1000) {
        tx.delete_many::<scim_group_member::Entity>()
            .filter(scim_group_member::Column::GroupId.eq(group.id))
            .filter(scim_group_member::Column::ScimUserId.is_in(chunk.iter().copied()))
            .exec(tx.conn())
            .await?;
    }
    for id in wanted_ids.difference(&current_ids) {
        let mut row: scim_group_member::ActiveModel = tx.new_active_model();
        row.group_id = Set(group.id);
        row.scim_user_id = Set(*id);
        row.insert(tx.conn()).await?;
    }
    let changed: Vec<i64> = wanted_ids
        .symmetric_difference(&current_ids)
        .copied()
        .collect();
    let mut accounts = Vec::new();
    for chunk in changed.chunks(1000) {
        let found: Vec<Option<i64>> = tx
            .select::<scim_user::Entity>()
            .select_only()
            .column(scim_user::Column::UserId)
            .filter(scim_user::Column::Id.is_in(chunk.iter().copied()))
            .filter(scim_user::Column::UserId.is_not_null())
            .into_tuple()
            .all(tx.conn())
            .await?;
        accounts.extend(found.into_iter().flatten());
    }
    Ok(accounts)
}

/// Whether any role is mapped to `group` (else its members' roles need no sync).
pub(super) async fn has_roles(tx: &TenantTxn, group_id: i64) -> Result<bool, DbErr> {
    Ok(tx
        .select::<scim_group_role::Entity>()
        .filter(scim_group_role::Column::GroupId.eq(group_id))
        .count(tx.conn())
        .await?
        > 0)
}

/// Each of `accounts` given what their groups give now, on behalf of `grant`.
pub(super) async fn sync_accounts(
    tx: &TenantTxn,
    grant: &Grant,
    accounts: &[i64],
) -> Result<(), RoleError> {
    for account in accounts {
        group_roles::sync_for(tx, grant, UserId(*account)).await?;
    }
    Ok(())
}

/// Creates a Group: 201's body.
pub async fn create(scx: &ScimTxn, input: Input) -> Result<Value, ScimError> {
    let tx = &scx.tx;
    tx.lock_organization().await?;
    let members = user_rows(tx, &input.members).await?;
    let mut row: scim_group::ActiveModel = tx.new_active_model();
    row.scim_id = Set(super::new_id());
    row.display_name = Set(input.display_name.clone());
    row.external_id = Set(input.external_id.clone());
    row.version = Set(1);
    let group = row.insert(tx.conn()).await?;
    set_members(tx, &group, &members).await?;
    audit::record(
        tx,
        "scim.group_created",
        Some(Target::new("scim_group", group.id, &group.display_name)),
        Some(json!({ "scim_id": group.scim_id, "members": members.len() })),
    )
    .await?;
    get(scx, &group.scim_id, true).await
}

/// Replaces the Group `id` with `input` when `if_match` (if any) names its version.
pub async fn save(
    scx: &ScimTxn,
    id: &str,
    input: Input,
    if_match: Option<&str>,
) -> Result<Value, ScimError> {
    let tx = &scx.tx;
    tx.lock_organization().await?;
    let group = find(tx, id).await?;
    super::version::check(if_match, group.version)?;
    let members = user_rows(tx, &input.members).await?;
    let version = group.version;
    let mut active = group.into_active_model();
    active.display_name = Set(input.display_name);
    active.external_id = Set(input.external_id);
    active.version = Set(version + 1);
    let group = active.update(tx.conn()).await?;
    let changed = set_members(tx, &group, &members).await?;
    if has_roles(tx, group.id).await? {
        sync_accounts(tx, &scx.grant, &changed)
            .await
            .map_err(scim_of_role)?;
    }
    audit::record(
        tx,
        "scim.group_updated",
        Some(Target::new("scim_group", group.id, &group.display_name)),
        Some(json!({ "scim_id": group.scim_id, "members": members.len() })),
    )
    .await?;
    get(scx, &group.scim_id, true).await
}

/// Applies the PATCH `body` to the Group `id`.
pub async fn patch(
    scx: &ScimTxn,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
) -> Result<Value, ScimError> {
    // Read under the lock the save takes: two PATCHes of one group never apply to one read.
    scx.tx.lock_organization().await?;
    let mut current = get(scx, id, true).await?;
    super::patch::apply(&mut current, body)?;
    let input = Input::read(&current)?;
    save(scx, id, input, if_match).await
}

/// Deletes the Group `id`; its members lose what only it gave.
pub async fn delete(scx: &ScimTxn, id: &str, if_match: Option<&str>) -> Result<(), ScimError> {
    let tx = &scx.tx;
    tx.lock_organization().await?;
    let group = find(tx, id).await?;
    super::version::check(if_match, group.version)?;
    let mapped = has_roles(tx, group.id).await?;
    let accounts = set_members(tx, &group, &[]).await?;
    tx.delete_many::<scim_group::Entity>()
        .filter(scim_group::Column::Id.eq(group.id))
        .exec(tx.conn())
        .await?;
    if mapped {
        sync_accounts(tx, &scx.grant, &accounts)
            .await
            .map_err(scim_of_role)?;
    }
    audit::record(
        tx,
        "scim.group_deleted",
        Some(Target::new("scim_group", group.id, &group.display_name)),
        Some(json!({ "scim_id": group.scim_id })),
    )
    .await?;
    Ok(())
}
