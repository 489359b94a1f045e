//! Projects: the example tenant resource. Every query goes through the organization's
//! [`Scope`], so a project id of another organization is simply not found. An embedding app
//! copies this module for its own organization-scoped tables.

use entity::project;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, FromQueryResult,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QueryTrait,
};
use serde::Deserialize;
use validator::Validate;

use crate::tenancy::Scope;

/// The fields a person sets.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, Validate)]
#[serde(default)]
pub struct ProjectInput {
    /// Required, at most 200 characters.
    #[validate(length(min = 1, max = 200, message = "must be 1 to 200 characters long"))]
    pub name: String,
    /// Optional, at most 5,000 characters.
    #[validate(length(max = 5000, message = "must be at most 5000 characters long"))]
    pub description: String,
}

impl ProjectInput {
    fn trimmed(mut self) -> Self {
        self.name = self.name.trim().to_string();
        self.description = self.description.trim().to_string();
        self
    }
}

/// One page of the organization's projects, by name, and how many there are.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
    page: u64,
    per_page: u64,
) -> Result<(Vec<project::Model>, u64), DbErr> {
    let total = scope.select::<project::Entity>().count(db).await?;
    let ordered = scope
        .select::<project::Entity>()
        .order_by_asc(project::Column::Name)
        .order_by_asc(project::Column::Id)
        .build(db.get_database_backend());
    let items = project::Model::find_by_statement(crate::db::paged(ordered, page, per_page))
        .all(db)
        .await?;
    Ok((items, total))
}

/// The organization's project with this id, if it has one.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
    id: i64,
) -> Result<Option<project::Model>, DbErr> {
    scope
        .select::<project::Entity>()
        .filter(project::Column::Id.eq(id))
        .one(db)
        .await
}

/// Creates a project (the input already validated).
pub async fn create<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
    input: ProjectInput,
) -> Result<project::Model, DbErr> {
    let input = input.trimmed();
    let mut row: project::ActiveModel = scope.new_active_model();
    row.name = Set(input.name);
    row.description = Set(input.description);
    row.insert(db).await
}

/// Replaces the fields of the organization's project `id`; `None` when it has no such project.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
    id: i64,
    input: ProjectInput,
) -> Result<Option<project::Model>, DbErr> {
    let Some(existing) = get(db, scope, id).await? else {
        return Ok(None);
    };
    let input = input.trimmed();
    let mut row = existing.into_active_model();
    row.name = Set(input.name);
    row.description = Set(input.description);
    Ok(Some(row.update(db).await?))
}

/// Deletes the organization's project `id`; `false` when it has no such project.
pub async fn delete<C: ConnectionTrait>(db: &C, scope: Scope, id: i64) -> Result<bool, DbErr> {
    let result = scope
        .delete_many::<project::Entity>()
        .filter(project::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
