//! Runs the embedding example: orgs' pages plus `/api/v1/notes/` on every organization.

use orgs::startup::{AppState, Application};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = orgs::Settings::load()?;
    orgs::telemetry::init(&settings.log);
    let db = orgs::db::connect(&settings.database).await?;
    embed::migrate(&db).await?;
    let state = embed::state(AppState::new(settings, db, orgs::Events::new())?)?;
    let app = Application::build_with_routes(state, embed::configure).await?;
    println!("embed example listening on port {}", app.port());
    app.run_until_stopped().await?;
    Ok(())
}
