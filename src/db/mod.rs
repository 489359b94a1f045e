//! Database connection (SQLite by default, PostgreSQL by URL) and migrations.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::Expr;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectOptions, ConnectionTrait, Database,
    DatabaseConnection, DbErr, EntityTrait, IntoActiveModel, Order, QueryFilter, QueryOrder,
    Select, SqliteTransactionMode, Statement, TransactionOptions, TransactionSession,
    TransactionTrait,
};

use crate::config::{DatabaseSettings, redact_url};

mod unavailable;

pub use unavailable::is_unavailable;

/// Opens a pool for the configured URL. An SQLite file is created when missing and run in WAL
/// mode with foreign keys on; writers wait for each other instead of failing at once.
pub async fn connect(settings: &DatabaseSettings) -> Result<DatabaseConnection, DbErr> {
    let url = settings.url.trim();
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(settings.max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(settings.connect_timeout_secs))
        // A request waits this long for a pooled connection, then answers 503 (see
        // `AppError::from(DbErr)`) instead of hanging while the database is away.
        .acquire_timeout(Duration::from_millis(settings.acquire_timeout_ms.max(1)))
        // Ping a pooled connection only when it sat idle a while: pinging on every checkout
        // doubled the round trips of each query.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        if url.contains(":memory:") || url.contains("mode=memory") {
            // An in-memory database lives as long as its one connection.
            options
                .max_connections(1)
                .idle_timeout(None::<Duration>)
                .max_lifetime(None::<Duration>);
        }
        options.map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
        });
    }
    if !url.starts_with("sqlite:") {
        let capacity = settings.statement_cache_capacity;
        options.map_sqlx_postgres_opts(move |opts| opts.statement_cache_capacity(capacity));
    }
    tracing::debug!(url = %redact_url(url), "connecting to the database");
    Database::connect(options).await
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Whether the error is a unique-constraint violation (a value already taken).
pub fn is_unique_violation(error: &DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// The one way a unique violation becomes a domain error: `insert(..).await
/// .on_unique_violation(OrgError::SlugTaken)` answers that error for a value already taken and
/// passes every other database error on as the domain's own.
pub trait OnUniqueViolation<T> {
    /// `taken` for a unique violation, `E::from` the error for any other.
    fn on_unique_violation<E: From<DbErr>>(self, taken: E) -> Result<T, E>;
}

impl<T> OnUniqueViolation<T> for Result<T, DbErr> {
    fn on_unique_violation<E: From<DbErr>>(self, taken: E) -> Result<T, E> {
        self.map_err(|error| {
            if is_unique_violation(&error) {
                taken
            } else {
                E::from(error)
            }
        })
    }
}

/// Inserts `row` in a savepoint. A unique violation answers `Ok(None)` and leaves the
/// surrounding transaction usable (PostgreSQL refuses every later statement of a transaction
/// one of whose statements failed).
pub async fn insert_unique<A, C>(
    db: &C,
    row: A,
) -> Result<Option<<A::Entity as EntityTrait>::Model>, DbErr>
where
    C: TransactionTrait,
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    let savepoint = db.begin().await?;
    match row.insert(&savepoint).await {
        Ok(model) => {
            savepoint.commit().await?;
            Ok(Some(model))
        }
        Err(e) if is_unique_violation(&e) => {
            savepoint.rollback().await?;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Begins a transaction that will write. On SQLite it takes the write lock at `BEGIN`
/// (`BEGIN IMMEDIATE`), so a transaction that reads before it writes waits for other writers
/// instead of failing when one commits in between; PostgreSQL ignores the mode.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Where a page read in a stable order `(key, id)` ends: the next page starts after it. Its
/// text form (`?after=`) is sealed, opaque to clients: [`crate::cursor`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keyset {
    /// The sort key of the last row (a member's sort name, a project's name).
    pub key: String,
    /// The id of the last row, which breaks ties between equal keys.
    pub id: i64,
}

/// Where a page of a list starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Position {
    /// After the row a cursor names; the first page without one. The database seeks to it
    /// through the list's index: as fast on the thousandth page as on the first.
    After(Option<Keyset>),
    /// At a page number, from 1: the slower path kept for `?page=`, which makes the database
    /// step over every row before it.
    Page(u64),
    /// The page that ends right before the row a cursor names (a page's Previous): read
    /// backwards from it through the same index, then put in the list's order.
    Before(Keyset),
}

impl Position {
    /// The keyset condition of a read at this position on `(key, id)` of `table`, and the order
    /// of `key` then `id` (descending when it reads backwards, from a `Before`). A page by number
    /// has no condition: its rows before are stepped over by OFFSET.
    pub fn seek(&self, table: &str, key: &str, id: &str) -> (Option<Expr>, Order) {
        match self {
            Self::After(Some(after)) => (Some(after_keyset(table, key, id, after)), Order::Asc),
            Self::Before(before) => (Some(before_keyset(table, key, id, before)), Order::Desc),
            Self::After(None) | Self::Page(_) => (None, Order::Asc),
        }
    }

    /// `query`, a list ordered newest first by its `id` alone, read at this position: after a
    /// row, the older ones; before one (paging back), the newer ones nearest first, as
    /// [`ListPage::cut`] takes them.
    pub fn newest_first<E: EntityTrait>(
        &self,
        query: Select<E>,
        id: impl ColumnTrait,
    ) -> Select<E> {
        match self {
            Self::After(Some(after)) => query.filter(id.lt(after.id)).order_by_desc(id),
            Self::Before(before) => query.filter(id.gt(before.id)).order_by_asc(id),
            Self::After(None) | Self::Page(_) => query.order_by_desc(id),
        }
    }
}

/// One page of a list read in a stable order.
#[derive(Debug)]
pub struct ListPage<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last.
    pub next: Option<Keyset>,
    /// Rows in all pages, where it is kept (`None` on a search, which would have to count).
    pub total: Option<u64>,
    /// Where the page before ends (its first row); `None` on the first.
    pub previous: Option<Keyset>,
}

impl<T> ListPage<T> {
    /// The same page with each row made into another.
    pub fn map<U>(self, each: impl FnMut(T) -> U) -> ListPage<U> {
        ListPage {
            items: self.items.into_iter().map(each).collect(),
            next: self.next,
            total: self.total,
            previous: self.previous,
        }
    }

    /// The page of `rows` read at `position` with one row more than `per_page` (forwards as
    /// [`page_at`] reads, or backwards, nearest first, for [`Position::Before`]), in the list's
    /// order, with the keysets of the rows at its ends.
    pub fn cut(
        mut rows: Vec<T>,
        position: &Position,
        per_page: u64,
        total: Option<u64>,
        keyset: impl Fn(&T) -> Keyset,
    ) -> Self {
        let (next, previous) = match position {
            Position::Before(_) => {
                let more_before = rows.len() as u64 > per_page;
                rows.truncate(usize::try_from(per_page).unwrap_or(usize::MAX));
                rows.reverse();
                let previous = rows.first().filter(|_| more_before).map(&keyset);
                (rows.last().map(&keyset), previous)
            }
            Position::After(None) | Position::Page(1) => {
                (next_page(&mut rows, per_page, &keyset), None)
            }
            Position::After(Some(_)) | Position::Page(_) => {
                let next = next_page(&mut rows, per_page, &keyset);
                (next, rows.first().map(&keyset))
            }
        };
        Self {
            items: rows,
            next,
            total,
            previous,
        }
    }
}

/// `statement` (ordered, without LIMIT) cut to the page at `position`, reading one row more
/// than `per_page` so that [`next_page`] knows whether another follows. The numbers are written
/// in, not bound, as in [`first_rows`] (they are `u64`s, nothing a user can inject).
pub fn page_at(mut statement: Statement, position: &Position, per_page: u64) -> Statement {
    let limit = per_page + 1;
    match position {
        Position::After(_) | Position::Before(_) => {
            statement.sql.push_str(&format!(" LIMIT {limit}"));
        }
        Position::Page(page) => {
            let offset = page.saturating_sub(1).saturating_mul(per_page);
            statement
                .sql
                .push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
        }
    }
    statement
}

/// Cuts `rows`, read with one more than `per_page` (as [`page_at`] does), to the page and
/// names where the next one starts: `cursor` of the page's last row, or `None` at the end.
pub fn next_page<T, C>(rows: &mut Vec<T>, per_page: u64, cursor: impl Fn(&T) -> C) -> Option<C> {
    if rows.len() as u64 <= per_page {
        return None;
    }
    rows.truncate(usize::try_from(per_page).unwrap_or(usize::MAX));
    rows.last().map(cursor)
}

/// `(key, id) > (?, ?)` over two columns, qualified as `"table"."column"`: the seek of a keyset
/// page, which both backends serve from an index on `(organization_id, key, id)`.
pub fn after_keyset(table: &str, key: &str, id: &str, after: &Keyset) -> Expr {
    use sea_orm::sea_query::{Alias, ExprTrait as _};
    let column = |name: &str| Expr::col((Alias::new(table), Alias::new(name)));
    Expr::tuple([column(key), column(id)]).gt(Expr::tuple([
        Expr::val(after.key.clone()),
        Expr::val(after.id),
    ]))
}

/// `(key, id) < (?, ?)`: the seek of a page read backwards from a row ([`Position::Before`]).
pub fn before_keyset(table: &str, key: &str, id: &str, before: &Keyset) -> Expr {
    use sea_orm::sea_query::{Alias, ExprTrait as _};
    let column = |name: &str| Expr::col((Alias::new(table), Alias::new(name)));
    Expr::tuple([column(key), column(id)]).lt(Expr::tuple([
        Expr::val(before.key.clone()),
        Expr::val(before.id),
    ]))
}

/// The first `limit` rows of `select`, with the LIMIT written in as a number, not bound:
/// SQLite plans with a bound LIMIT's value, so a statement binding one is prepared again on
/// every run.
pub async fn first_rows<E, C>(db: &C, select: Select<E>, limit: u64) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: sea_orm::FromQueryResult,
    C: ConnectionTrait,
{
    use sea_orm::QueryTrait as _;
    let mut statement = select.build(db.get_database_backend());
    statement.sql.push_str(&format!(" LIMIT {limit}"));
    <E::Model as sea_orm::FromQueryResult>::find_by_statement(statement)
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keyset_seek_is_a_row_comparison_with_its_values_bound_on_both_backends() {
        use sea_orm::{DbBackend, QueryFilter as _, QueryTrait as _};
        let after = Keyset {
            key: "b".into(),
            id: 3,
        };
        for (backend, seek) in [
            (
                DbBackend::Postgres,
                r#"("projects"."name", "projects"."id") > ($2, $3)"#,
            ),
            (
                DbBackend::Sqlite,
                r#"("projects"."name", "projects"."id") > (?, ?)"#,
            ),
        ] {
            let statement = crate::tenancy::Scope::for_test(entity::OrganizationId(5))
                .select::<entity::project::Entity>()
                .filter(after_keyset("projects", "name", "id", &after))
                .build(backend);
            assert!(statement.sql.ends_with(seek), "{}", statement.sql);
            assert_eq!(statement.values.unwrap().0.len(), 3);
        }
    }
}

/// The application's pool. It dereferences to the [`DatabaseConnection`], and as a
/// [`ConnectionTrait`] itself runs each statement given to it outside a transaction in one of its
/// own when `pooled` (`database.statement_cache_capacity = 0` on PostgreSQL: behind a
/// transaction pooler such as pgbouncer 1.18). sqlx sends a statement in two round trips (parse,
/// then bind and execute); between them a transaction pooler may hand the server connection to
/// another client, so a statement is only safe inside a transaction, which keeps the connection
/// from `BEGIN` to `COMMIT`. The services' own transactions (`begin()`, the tenancy doors) are
/// unchanged.
#[derive(Clone, Debug)]
pub struct Db {
    inner: DatabaseConnection,
    pooled: bool,
}

impl Db {
    /// The pool of `settings`, `pooled` as they say.
    pub fn new(inner: DatabaseConnection, settings: &DatabaseSettings) -> Self {
        let pooled = settings.statement_cache_capacity == 0
            && inner.get_database_backend() == sea_orm::DbBackend::Postgres;
        Self { inner, pooled }
    }

    /// The connection pool itself.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.inner
    }

    async fn alone<T, F>(&self, run: F) -> Result<T, DbErr>
    where
        F: for<'t> FnOnce(
            &'t sea_orm::DatabaseTransaction,
        )
            -> std::pin::Pin<Box<dyn Future<Output = Result<T, DbErr>> + Send + 't>>,
    {
        let txn = self.inner.begin().await?;
        let result = run(&txn).await;
        match result {
            Ok(value) => {
                txn.commit().await?;
                Ok(value)
            }
            Err(error) => {
                let _ = txn.rollback().await;
                Err(error)
            }
        }
    }
}

impl std::ops::Deref for Db {
    type Target = DatabaseConnection;
    fn deref(&self) -> &DatabaseConnection {
        &self.inner
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> sea_orm::DbBackend {
        self.inner.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<sea_orm::ExecResult, DbErr> {
        if !self.pooled {
            return self.inner.execute_raw(stmt).await;
        }
        self.alone(|txn| Box::pin(txn.execute_raw(stmt))).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<sea_orm::ExecResult, DbErr> {
        // One simple-protocol round trip: a pooler carries it whole.
        self.inner.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<sea_orm::QueryResult>, DbErr> {
        if !self.pooled {
            return self.inner.query_one_raw(stmt).await;
        }
        self.alone(|txn| Box::pin(txn.query_one_raw(stmt))).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
        if !self.pooled {
            return self.inner.query_all_raw(stmt).await;
        }
        self.alone(|txn| Box::pin(txn.query_all_raw(stmt))).await
    }

    fn support_returning(&self) -> bool {
        self.inner.support_returning()
    }
}

#[async_trait::async_trait]
impl TransactionTrait for Db {
    type Transaction = sea_orm::DatabaseTransaction;

    async fn begin(&self) -> Result<sea_orm::DatabaseTransaction, DbErr> {
        self.inner.begin().await
    }

    async fn begin_with_config(
        &self,
        isolation_level: Option<sea_orm::IsolationLevel>,
        access_mode: Option<sea_orm::AccessMode>,
    ) -> Result<sea_orm::DatabaseTransaction, DbErr> {
        self.inner
            .begin_with_config(isolation_level, access_mode)
            .await
    }

    async fn begin_with_options(
        &self,
        options: TransactionOptions,
    ) -> Result<sea_orm::DatabaseTransaction, DbErr> {
        self.inner.begin_with_options(options).await
    }

    async fn transaction<F, T, E>(&self, callback: F) -> Result<T, sea_orm::TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c sea_orm::DatabaseTransaction,
            )
                -> std::pin::Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.inner.transaction(callback).await
    }

    async fn transaction_with_config<F, T, E>(
        &self,
        callback: F,
        isolation_level: Option<sea_orm::IsolationLevel>,
        access_mode: Option<sea_orm::AccessMode>,
    ) -> Result<T, sea_orm::TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c sea_orm::DatabaseTransaction,
            )
                -> std::pin::Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.inner
            .transaction_with_config(callback, isolation_level, access_mode)
            .await
    }
}
