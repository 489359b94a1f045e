//! The `TenantOwned` trait: which column ties a row of a tenant table to its organization.

use sea_orm::EntityTrait;

/// A table whose every row belongs to one organization. The tenancy layer uses the column it
/// names to filter reads and to fill in writes, so no query on such a table forgets the tenant.
pub trait TenantOwned: EntityTrait {
    /// The `organization_id` column of this table.
    fn organization_column() -> Self::Column;
}

/// Marks the `Entity` of the module it is called in as [`TenantOwned`] by its organization
/// column, in one line beside the sea-orm derives:
///
/// ```
/// mod note {
///     use sea_orm::entity::prelude::*;
///
///     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
///     #[sea_orm(table_name = "notes")]
///     pub struct Model {
///         #[sea_orm(primary_key)]
///         pub id: i64,
///         pub organization_id: i64,
///         pub body: String,
///     }
///
///     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
///     pub enum Relation {}
///
///     impl ActiveModelBehavior for ActiveModel {}
///
///     entity::tenant_owned!(Column::OrganizationId);
/// }
/// use entity::TenantOwned as _;
/// use sea_orm::Iden as _;
/// assert_eq!(note::Entity::organization_column().to_string(), "organization_id");
/// ```
#[macro_export]
macro_rules! tenant_owned {
    ($column:path) => {
        impl $crate::TenantOwned for Entity {
            fn organization_column() -> Column {
                $column
            }
        }
    };
}
