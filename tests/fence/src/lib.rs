//! The tenancy fence, tested: `cargo clippy -p fence --features violation -- -D warnings` must
//! fail with "use of a disallowed method `sea_orm::EntityTrait::find`" (`.ci/run` checks it).
//! Without the feature this crate is empty.

/// A handler that forgets the tenant: it reads every organization's projects.
#[cfg(feature = "violation")]
pub async fn leaky_handler(db: &sea_orm::DatabaseConnection) -> Vec<entity::project::Model> {
    use sea_orm::EntityTrait;
    entity::project::Entity::find()
        .all(db)
        .await
        .unwrap_or_default()
}
