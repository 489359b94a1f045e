//! People of an organization: the list (by name, searchable, read by keyset: [`list`]), one
//! person, and what the rules read of a member: their membership row, the owner, how the audit
//! log names them. Membership changes go through the rules in `membership`, so their events
//! fire.

use entity::UserId;
use entity::{organization_owner, organization_user, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, FromQueryResult, JoinType, QueryFilter,
    QueryResult, QuerySelect, RelationTrait, Select, SelectModel, Selector,
};
use serde::Serialize;

mod list;

pub use list::{count_matching, everyone, list};

use crate::auth::users;
use crate::permissions::BuiltinRole;
use crate::tenancy::{Scope, TenantTxn};

/// One person as the people pages show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Person {
    /// `users.id` (the people URLs use it).
    pub user_id: i64,
    /// Display name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Holds the built-in `admin` role (deprecated: read `roles`).
    pub is_admin: bool,
    /// The keys of the roles held: `owner` first for the owner, then built-in, then custom.
    pub roles: Vec<String>,
    /// Membership row.
    pub membership_id: i64,
    /// When they joined.
    pub joined_at: chrono::DateTime<chrono::Utc>,
}

impl PersonView {
    /// The roles held, as the people table shows them: `owner` for the owner (who holds
    /// everything), else the keys (`admin`, `member, billing`).
    pub fn role(&self) -> String {
        if self.is_owner {
            return BuiltinRole::Owner.key().to_string();
        }
        self.person.roles.join(", ")
    }

    /// The name, or the email for someone who has not set one ([`user::display_name`]).
    pub fn display_name(&self) -> &str {
        user::display_name(&self.person.name, &self.person.email)
    }
}

/// A row of the people query: the person, whether they own it, and their sort key (the cursor).
struct PersonRow {
    user_id: i64,
    name: String,
    email: String,
    membership_id: i64,
    joined_at: chrono::DateTime<chrono::Utc>,
    owner_row: Option<i64>,
    sort_name: String,
    roles: Option<String>,
}

impl FromQueryResult for PersonRow {
    /// By position, in [`as_people`]'s order: by name, each value of each row would cost a
    /// hash of its column name.
    fn from_query_result(row: &QueryResult, _prefix: &str) -> Result<Self, DbErr> {
        Ok(Self {
            user_id: row.try_get_by_index(0)?,
            name: row.try_get_by_index(1)?,
            email: row.try_get_by_index(2)?,
            membership_id: row.try_get_by_index(3)?,
            joined_at: row.try_get_by_index(4)?,
            owner_row: row.try_get_by_index(5)?,
            sort_name: row.try_get_by_index(6)?,
            roles: row.try_get_by_index(7)?,
        })
    }
}

impl From<PersonRow> for PersonView {
    fn from(row: PersonRow) -> Self {
        let is_owner = row.owner_row.is_some();
        let roles = role_keys(row.roles.as_deref().unwrap_or_default(), is_owner);
        Self {
            is_owner,
            person: Person {
                user_id: row.user_id,
                name: row.name,
                email: row.email,
                is_admin: roles.iter().any(|k| k == BuiltinRole::Admin.key()),
                roles,
                membership_id: row.membership_id,
                joined_at: row.joined_at,
            },
        }
    }
}

/// The role keys of a person from the people query's comma-joined column (role keys hold no
/// comma): `owner` first for the owner, then built-in roles, then custom ones, each by key.
fn role_keys(joined: &str, is_owner: bool) -> Vec<String> {
    let mut keys: Vec<&str> = joined.split(',').filter(|k| !k.is_empty()).collect();
    keys.sort_by_key(|k| (BuiltinRole::from_key(k).is_none(), *k));
    let owner = is_owner.then_some(BuiltinRole::Owner.key());
    owner.into_iter().chain(keys).map(str::to_string).collect()
}

/// A person with whether they own the organization.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Member)]
pub struct PersonView {
    /// The person.
    #[serde(flatten)]
    pub person: Person,
    /// Whether they are the owner.
    pub is_owner: bool,
}

/// The organization's memberships joined with their users and, when there is one, the owner
/// row pointing at them.
fn memberships(scope: Scope) -> Select<organization_user::Entity> {
    scope
        .select::<organization_user::Entity>()
        .join(JoinType::InnerJoin, organization_user::Relation::User.def())
        .join(
            JoinType::LeftJoin,
            organization_user::Relation::OrganizationOwner.def(),
        )
}

/// `organization_users.sort_name`, which the database keeps (not a field of the entity).
fn sort_name() -> Expr {
    Expr::col((
        organization_user::Entity,
        sea_orm::sea_query::Alias::new("sort_name"),
    ))
}

/// The columns of a [`PersonRow`] from a [`memberships`] query, in the order its
/// `from_query_result` reads them.
fn as_people(
    select: Select<organization_user::Entity>,
    backend: DbBackend,
) -> Selector<SelectModel<PersonRow>> {
    // The member's role keys in the same statement, joined by commas (a transport format only:
    // the rows are one per role), through the index led by the organization.
    let join = match backend {
        DbBackend::Postgres => "string_agg",
        _ => "group_concat",
    };
    let roles = Expr::cust(format!(
        "(SELECT {join}(\"mr\".\"role_key\", ',') FROM \"organization_member_roles\" AS \"mr\" \
         WHERE \"mr\".\"organization_id\" = \"organization_users\".\"organization_id\" \
         AND \"mr\".\"organization_user_id\" = \"organization_users\".\"id\")"
    ));
    select
        .select_only()
        .column_as(organization_user::Column::UserId, "user_id")
        .column_as(user::Column::Name, "name")
        .column_as(user::Column::Email, "email")
        .column_as(organization_user::Column::Id, "membership_id")
        .column_as(organization_user::Column::CreatedAt, "joined_at")
        .column_as(
            Expr::col((organization_owner::Entity, organization_owner::Column::Id)),
            "owner_row",
        )
        .column_as(sort_name(), "sort_name")
        .column_as(roles, "roles")
        .into_model::<PersonRow>()
}

/// The member with this user id; `None` for anyone outside the organization.
pub async fn get(tx: &TenantTxn, user_id: UserId) -> Result<Option<PersonView>, DbErr> {
    let query = memberships(tx.scope()).filter(organization_user::Column::UserId.eq(user_id));
    let backend = tx.conn().get_database_backend();
    Ok(as_people(query, backend)
        .one(tx.conn())
        .await?
        .map(PersonView::from))
}

/// The organization's owner row, if it has one.
pub(crate) async fn find_owner(tx: &TenantTxn) -> Result<Option<organization_owner::Model>, DbErr> {
    tx.select::<organization_owner::Entity>()
        .one(tx.conn())
        .await
}

/// How an audit event names the person `user_id`.
pub(crate) async fn label_of(tx: &TenantTxn, user_id: UserId) -> Result<String, DbErr> {
    Ok(users::find_by_id(tx.conn(), user_id)
        .await?
        .map(|u| u.display_name().to_string())
        .unwrap_or_default())
}

/// The membership of `user_id` in the organization, if any.
pub async fn membership(
    tx: &TenantTxn,
    user_id: UserId,
) -> Result<Option<organization_user::Model>, DbErr> {
    tx.select::<organization_user::Entity>()
        .filter(organization_user::Column::UserId.eq(user_id))
        .one(tx.conn())
        .await
}

/// The user id of the organization's owner, if it has one.
pub async fn owner_user_id(tx: &TenantTxn) -> Result<Option<i64>, DbErr> {
    let Some(owner) = find_owner(tx).await? else {
        return Ok(None);
    };
    let user_id = tx
        .select::<organization_user::Entity>()
        .select_only()
        .column(organization_user::Column::UserId)
        .filter(organization_user::Column::Id.eq(owner.organization_user_id))
        .into_tuple::<i64>()
        .one(tx.conn())
        .await?;
    Ok(user_id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_owner_join_is_led_by_the_organization_so_it_uses_the_index() {
        // Joined on the membership id alone, SQLite scanned every owner row per member.
        let sql = super::as_people(
            super::memberships(crate::tenancy::Scope::for_test(entity::OrganizationId(1))),
            sea_orm::DbBackend::Sqlite,
        )
        .into_statement(sea_orm::DbBackend::Sqlite)
        .sql;
        assert!(sql.contains("LEFT JOIN \"organization_owners\" ON \"organization_users\".\"organization_id\" = \"organization_owners\".\"organization_id\" AND"), "{sql}");
    }

    #[test]
    fn role_keys_put_the_owner_first_then_built_in_then_custom_roles() {
        assert_eq!(
            super::role_keys("member,billing,admin", true),
            ["owner", "admin", "member", "billing"]
        );
        assert_eq!(super::role_keys("zeta,alpha", false), ["alpha", "zeta"]);
        assert!(super::role_keys("", false).is_empty());
    }
}
