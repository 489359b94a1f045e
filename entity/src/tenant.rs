//! The `TenantOwned` trait: which column ties a row of a tenant table to its organization.

use sea_orm::EntityTrait;

/// A table whose every row belongs to one organization. The tenancy layer uses the column it
/// names to filter reads and to fill in writes, so no query on such a table forgets the tenant.
pub trait TenantOwned: EntityTrait {
    /// The `organization_id` column of this table.
    fn organization_column() -> Self::Column;
}
