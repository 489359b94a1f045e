//! `Scope`: queries on tenant tables with `organization_id = ?` already applied. A scope only
//! builds queries; they run in the [`super::TenantTxn`] it came from.

use entity::OrganizationId;
use entity::TenantOwned;
use sea_orm::{ActiveModelTrait, ColumnTrait, DeleteMany, QueryFilter, Select, UpdateMany};

/// The organization a piece of work is for. Every query it builds is filtered by it; filters
/// added afterwards narrow, never widen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scope {
    organization_id: OrganizationId,
}

impl Scope {
    /// The scope of one organization. Only `tenancy` makes one: elsewhere a scope comes from a
    /// [`super::TenantTxn`] (or a [`super::door::SystemTxn`]), so it cannot name an organization
    /// the work was not opened for.
    pub(in crate::tenancy) fn new(organization_id: OrganizationId) -> Self {
        Self { organization_id }
    }

    /// A scope for unit tests of query shapes.
    #[cfg(test)]
    pub(crate) fn for_test(organization_id: OrganizationId) -> Self {
        Self { organization_id }
    }

    /// The organization's id.
    pub fn organization_id(&self) -> OrganizationId {
        self.organization_id
    }

    /// `SELECT ... FROM E WHERE organization_id = ?`
    #[expect(clippy::disallowed_methods, reason = "the scoped gate itself")]
    pub fn select<E: TenantOwned>(&self) -> Select<E> {
        E::find().filter(E::organization_column().eq(self.organization_id))
    }

    /// A new row of `A`'s table with `organization_id` already set.
    pub fn new_active_model<A>(&self) -> A
    where
        A: ActiveModelTrait,
        A::Entity: TenantOwned,
    {
        let mut model = <A as ActiveModelTrait>::default();
        model.set(
            <A::Entity as TenantOwned>::organization_column(),
            self.organization_id.into(),
        );
        model
    }

    /// `UPDATE E SET ... WHERE organization_id = ?`
    #[expect(clippy::disallowed_methods, reason = "the scoped gate itself")]
    pub fn update_many<E: TenantOwned>(&self) -> UpdateMany<E> {
        E::update_many().filter(E::organization_column().eq(self.organization_id))
    }

    /// `DELETE FROM E WHERE organization_id = ?`
    #[expect(clippy::disallowed_methods, reason = "the scoped gate itself")]
    pub fn delete_many<E: TenantOwned>(&self) -> DeleteMany<E> {
        E::delete_many().filter(E::organization_column().eq(self.organization_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::organization_user;
    use sea_orm::{DbBackend, QueryTrait};

    #[test]
    fn select_filters_by_the_organization_and_keeps_later_filters() {
        let sql = Scope::new(OrganizationId(7))
            .select::<organization_user::Entity>()
            .filter(organization_user::Column::UserId.eq(3))
            .build(DbBackend::Postgres)
            .to_string();
        assert!(
            sql.ends_with(r#"WHERE "organization_users"."organization_id" = 7 AND "organization_users"."user_id" = 3"#),
            "{sql}"
        );
    }

    #[test]
    fn new_active_model_sets_the_organization() {
        let model: organization_user::ActiveModel =
            Scope::new(OrganizationId(9)).new_active_model();
        assert_eq!(model.organization_id, sea_orm::ActiveValue::Set(9));
    }

    #[test]
    fn delete_many_is_scoped() {
        let sql = Scope::new(OrganizationId(4))
            .delete_many::<entity::project::Entity>()
            .build(DbBackend::Sqlite)
            .to_string();
        assert!(
            sql.contains(r#"WHERE "projects"."organization_id" = 4"#),
            "{sql}"
        );
    }
}
