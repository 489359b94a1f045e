//! Runs the embedding example: orgs' pages plus `/notes/` and `/api/v1/notes/` on every
//! organization. `embed` (or `embed serve`) migrates and serves; `embed migrate [up | down
//! [-n N] | status]` runs orgs' migrations and the example's own (down reverts only the
//! example's: `orgs migrate down` reverts orgs').

use orgs::cli::{MigrateAction, MigrateArgs, migrate_with};
use orgs::startup::{AppState, Application};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let settings = embed::settings(orgs::Settings::load()?);
    orgs::telemetry::init(&settings.log);
    let db = orgs::db::connect(&settings.database).await?;
    match args.get(1).map(String::as_str) {
        Some("migrate") => match MigrateArgs::from_args(args[1..].iter().cloned()).action {
            None | Some(MigrateAction::Up) => {
                migrate_with::<orgs::migration::Migrator>(&db, MigrateAction::Up).await?;
                migrate_with::<embed::Migrator>(&db, MigrateAction::Up).await
            }
            Some(MigrateAction::Status) => {
                migrate_with::<orgs::migration::Migrator>(&db, MigrateAction::Status).await?;
                migrate_with::<embed::Migrator>(&db, MigrateAction::Status).await
            }
            Some(down) => migrate_with::<embed::Migrator>(&db, down).await,
        },
        None | Some("serve") => {
            embed::migrate(&db).await?;
            let state = embed::state(AppState::new(settings, db, orgs::Events::new())?)?;
            // The notes' tenant routes come with the state; the app's other routes are a
            // closure holding its own configuration.
            let greeting = std::env::var("EMBED_GREETING").unwrap_or_else(|_| "hello".into());
            let app = Application::build_with_routes(state, embed::global_routes(greeting)).await?;
            println!("embed example listening on port {}", app.port());
            app.run_until_stopped().await?;
            Ok(())
        }
        Some(other) => {
            eprintln!(
                "embed: unknown command `{other}`; expected serve or migrate [up|down|status]"
            );
            std::process::exit(2);
        }
    }
}
