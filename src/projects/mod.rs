//! Projects: the example tenant resource. Every query goes through the organization's
//! [`Scope`], so a project id of another organization is simply not found. An embedding app
//! copies this module for its own organization-scoped tables.
//!
//! [`Scope`]: crate::tenancy::Scope

use entity::project;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, FromQueryResult,
    IntoActiveModel, QueryFilter, QueryOrder, QueryTrait,
};
use serde::Deserialize;
use validator::Validate;

use crate::audit::{self, Target};
use crate::db::{Keyset, ListPage, Position};
use crate::tenancy::Scope;
use crate::tenancy::{ScopedStatement, TenantTxn};

/// The fields a person sets.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, Validate)]
#[serde(default)]
pub struct ProjectInput {
    /// Required, at most 200 characters.
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters long"),
        custom(function = "crate::text::name")
    )]
    pub name: String,
    /// Optional, at most 5,000 characters.
    #[validate(
        length(max = 5000, message = "must be at most 5000 characters long"),
        custom(function = "crate::text::multiline")
    )]
    pub description: String,
}

impl ProjectInput {
    fn trimmed(mut self) -> Self {
        self.name = self.name.trim().to_string();
        self.description = self.description.trim().to_string();
        self
    }
}

/// The projects list's statement (without LIMIT) for a page at `position`: by name then id,
/// which the index `(organization_id, name, id)` serves, read backwards from a `Before` cursor.
fn page_statement(
    scope: Scope,
    position: &Position,
    backend: sea_orm::DbBackend,
) -> sea_orm::Statement {
    let mut query = scope.select::<project::Entity>();
    let (seek, order) = position.seek("projects", "name", "id");
    if let Some(seek) = seek {
        query = query.filter(seek);
    }
    query
        .order_by(project::Column::Name, order.clone())
        .order_by(project::Column::Id, order)
        .build(backend)
}

/// The first page's statement, built once per backend.
static PROJECTS: ScopedStatement =
    ScopedStatement::new(|scope, backend| page_statement(scope, &Position::After(None), backend));

/// One page of the organization's projects, by name then id, and how many there are (the kept
/// count, `tenancy::counts`).
pub async fn list(
    tx: &TenantTxn,
    position: &Position,
    per_page: u64,
) -> Result<ListPage<project::Model>, DbErr> {
    let backend = tx.conn().get_database_backend();
    let statement = match position {
        Position::After(None) | Position::Page(_) => PROJECTS.statement(tx.scope(), backend),
        seeking => page_statement(tx.scope(), seeking, backend),
    };
    let rows = tx
        .conn()
        .query_all_raw(crate::db::page_at(statement, position, per_page))
        .await?;
    let items = rows
        .iter()
        .map(|row| project::Model::from_query_result(row, ""))
        .collect::<Result<Vec<_>, _>>()?;
    let total = crate::tenancy::counts::of(tx).await?.projects;
    Ok(ListPage::cut(items, position, per_page, Some(total), |p| {
        Keyset {
            key: p.name.clone(),
            id: p.id,
        }
    }))
}

/// The organization's project with this id, if it has one.
pub async fn get(tx: &TenantTxn, id: i64) -> Result<Option<project::Model>, DbErr> {
    tx.select::<project::Entity>()
        .filter(project::Column::Id.eq(id))
        .one(tx.conn())
        .await
}

/// Creates a project (the input already validated).
pub async fn create(tx: &TenantTxn, input: ProjectInput) -> Result<project::Model, DbErr> {
    let input = input.trimmed();
    let mut row: project::ActiveModel = tx.new_active_model();
    row.name = Set(input.name);
    row.description = Set(input.description);
    let created = row.insert(tx.conn()).await?;
    audit::record(
        tx,
        "project.created",
        Some(Target::new("project", created.id, &created.name)),
        None,
    )
    .await?;
    Ok(created)
}

/// Replaces the fields of the organization's project `id`; `None` when it has no such project.
pub async fn update(
    tx: &TenantTxn,
    id: i64,
    input: ProjectInput,
) -> Result<Option<project::Model>, DbErr> {
    let Some(existing) = get(tx, id).await? else {
        return Ok(None);
    };
    let input = input.trimmed();
    let mut changes = serde_json::Map::new();
    if input.name != existing.name {
        changes.insert(
            "name".into(),
            serde_json::json!({ "from": existing.name, "to": input.name }),
        );
    }
    if input.description != existing.description {
        changes.insert("description".into(), serde_json::json!(true));
    }
    let mut row = existing.into_active_model();
    row.name = Set(input.name);
    row.description = Set(input.description);
    let updated = row.update(tx.conn()).await?;
    audit::record(
        tx,
        "project.updated",
        Some(Target::new("project", updated.id, &updated.name)),
        Some(serde_json::Value::Object(changes)),
    )
    .await?;
    Ok(Some(updated))
}

/// Deletes the organization's project `id`; `false` when it has no such project.
pub async fn delete(tx: &TenantTxn, id: i64) -> Result<bool, DbErr> {
    let Some(existing) = get(tx, id).await? else {
        return Ok(false);
    };
    let deleted = tx
        .delete_row::<project::Entity>(project::Column::Id, id)
        .await?;
    if deleted {
        audit::record(
            tx,
            "project.deleted",
            Some(Target::new("project", id, &existing.name)),
            None,
        )
        .await?;
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use sea_orm::DbBackend;

    use super::*;

    #[test]
    fn the_first_projects_page_is_built_once_per_backend_and_counts_nothing() {
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let statement = PROJECTS.statement(
                crate::tenancy::Scope::for_test(entity::OrganizationId(4)),
                backend,
            );
            assert!(PROJECTS.is_reused(backend));
            // The count is kept (`tenancy::counts`), not counted with the page.
            assert!(!statement.sql.contains("COUNT"), "{}", statement.sql);
            assert_eq!(
                statement.values.unwrap().0,
                vec![sea_orm::Value::BigInt(Some(4))]
            );
        }
    }
}
