//! Which database errors mean that the database does not answer (a 503 with `Retry-After`),
//! as opposed to a statement it refused.

use sea_orm::DbErr;

/// Whether the error says the database cannot be reached (no pooled connection within
/// `database.acquire_timeout_ms`, none can be opened, or one broke mid-request: the server
/// ended it or the network lost it) rather than that a statement was wrong: a retry may cure
/// it. On SQLite, a write that waited out the busy timeout behind another writer is the same:
/// the database is there but cannot take it now.
pub fn is_unavailable(error: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
        | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e)) => match e.as_ref() {
            Sqlx::Io(_)
            | Sqlx::Tls(_)
            | Sqlx::PoolTimedOut
            | Sqlx::PoolClosed
            | Sqlx::WorkerCrashed
            | Sqlx::Protocol(_) => true,
            Sqlx::Database(e) => e
                .code()
                .is_some_and(|code| ends_the_connection(&code) || sqlite_busy(&code)),
            _ => false,
        },
        _ => false,
    }
}

/// Whether PostgreSQL's SQLSTATE `code` is one it sends as it ends a connection or refuses a
/// new one: `57P01` admin_shutdown (`pg_terminate_backend`, a fast shutdown), `57P02`
/// crash_shutdown, `57P03` cannot_connect_now (starting up or shutting down), and class `08`,
/// connection exceptions. SQLite's codes are plain numbers and never match.
fn ends_the_connection(code: &str) -> bool {
    matches!(code, "57P01" | "57P02" | "57P03") || code.starts_with("08")
}

/// Whether SQLite's (extended) result `code` is `SQLITE_BUSY` (5) or one of its kinds:
/// `BUSY_RECOVERY` (261), `BUSY_SNAPSHOT` (517), `BUSY_TIMEOUT` (773). PostgreSQL's five-character
/// SQLSTATEs never match.
fn sqlite_busy(code: &str) -> bool {
    matches!(code, "5" | "261" | "517" | "773")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database error with only a code, as a server that went away sends one.
    #[derive(Debug)]
    struct Coded(&'static str);

    impl std::fmt::Display for Coded {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "error {}", self.0)
        }
    }

    impl std::error::Error for Coded {}

    impl sea_orm::sqlx::error::DatabaseError for Coded {
        fn message(&self) -> &str {
            "the server says"
        }
        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            Some(self.0.into())
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sea_orm::sqlx::error::ErrorKind {
            sea_orm::sqlx::error::ErrorKind::Other
        }
    }

    /// `error` as a statement's and as a query's failure.
    fn failures(error: impl Fn() -> sea_orm::sqlx::Error) -> [DbErr; 2] {
        [
            DbErr::Exec(sea_orm::RuntimeErr::SqlxError(error().into())),
            DbErr::Query(sea_orm::RuntimeErr::SqlxError(error().into())),
        ]
    }

    #[test]
    fn a_connection_the_server_ended_or_lost_is_unavailable() {
        use sea_orm::sqlx::Error as Sqlx;
        // admin_shutdown (pg_terminate_backend, a fast shutdown), crash_shutdown,
        // cannot_connect_now, and class 08: connection exceptions.
        for code in [
            "57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08P01",
        ] {
            for error in failures(|| Sqlx::Database(Box::new(Coded(code)))) {
                assert!(is_unavailable(&error), "{code}: {error}");
            }
        }
        let broken = || std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        // SQLite's SQLITE_BUSY after the busy timeout, plain and extended.
        for code in ["5", "261", "517", "773"] {
            for error in failures(|| Sqlx::Database(Box::new(Coded(code)))) {
                assert!(is_unavailable(&error), "{code}: {error}");
            }
        }
        for error in failures(|| Sqlx::Io(broken()))
            .into_iter()
            .chain(failures(|| Sqlx::PoolClosed))
            .chain(failures(|| Sqlx::PoolTimedOut))
        {
            assert!(is_unavailable(&error), "{error}");
        }
    }

    #[test]
    fn a_statement_the_database_refused_is_not_unavailable() {
        use sea_orm::sqlx::Error as Sqlx;
        // unique_violation, query_canceled (statement_timeout), a syntax error, and SQLite's
        // SQLITE_CONSTRAINT_UNIQUE and SQLITE_ERROR, whose codes are plain numbers.
        for code in ["23505", "57014", "42601", "2067", "1"] {
            for error in failures(|| Sqlx::Database(Box::new(Coded(code)))) {
                assert!(!is_unavailable(&error), "{code}: {error}");
            }
        }
        for error in failures(|| Sqlx::RowNotFound) {
            assert!(!is_unavailable(&error), "{error}");
        }
    }
}
