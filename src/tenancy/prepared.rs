//! `ScopedStatement`: the SQL of a hot tenant query, built once per backend and bound per request.

use entity::OrganizationId;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use sea_orm::{DbBackend, Statement, Value};

use super::Scope;

/// The organization id a statement is first built with. Every value bound in that build must be
/// this one, or the statement is not reused.
const PROBE: i64 = -7_340_917_502_361;

/// A tenant query whose only bound values are its organization's id: `build` runs once per
/// database backend (building and dropping the statement on every request was a real share of
/// a page's work; docs/benchmarks.md has the figure), and each use binds the organization's id in every placeholder. The SQL
/// is the one `build` writes for any scope, so the filter by organization is exactly as built.
/// A query that binds anything else (a search term, another id) is built on every use instead,
/// with a warning, and answers the same.
pub struct ScopedStatement {
    build: fn(Scope, DbBackend) -> Statement,
    built: [OnceLock<Option<Template>>; 3],
    warned: AtomicBool,
}

/// A built statement's SQL and how many placeholders it has.
struct Template {
    sql: String,
    placeholders: usize,
}

impl ScopedStatement {
    /// A statement built by `build`, for a `static`.
    pub const fn new(build: fn(Scope, DbBackend) -> Statement) -> Self {
        Self {
            build,
            built: [OnceLock::new(), OnceLock::new(), OnceLock::new()],
            warned: AtomicBool::new(false),
        }
    }

    /// The statement for `scope` on `backend`.
    pub fn statement(&self, scope: Scope, backend: DbBackend) -> Statement {
        let Some(slot) = self.slot(backend) else {
            return (self.build)(scope, backend);
        };
        match slot
            .get_or_init(|| Template::of((self.build)(Scope::new(OrganizationId(PROBE)), backend)))
        {
            Some(template) => Statement::from_sql_and_values(
                backend,
                template.sql.clone(),
                std::iter::repeat_n(
                    Value::BigInt(Some(scope.organization_id().get())),
                    template.placeholders,
                ),
            ),
            None => {
                if !self.warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        "a ScopedStatement binds values other than the organization id; it is built on every use"
                    );
                }
                (self.build)(scope, backend)
            }
        }
    }

    /// Whether the statement on `backend` is built once and reused (after a first use).
    pub fn is_reused(&self, backend: DbBackend) -> bool {
        self.slot(backend)
            .and_then(OnceLock::get)
            .is_some_and(Option::is_some)
    }

    fn slot(&self, backend: DbBackend) -> Option<&OnceLock<Option<Template>>> {
        match backend {
            DbBackend::Sqlite => Some(&self.built[0]),
            DbBackend::Postgres => Some(&self.built[1]),
            DbBackend::MySql => Some(&self.built[2]),
            _ => None,
        }
    }
}

impl Template {
    /// The template of a statement built for [`PROBE`], if the organization id is all it binds.
    fn of(statement: Statement) -> Option<Self> {
        let values = statement.values.map(|values| values.0).unwrap_or_default();
        let only_the_organization = values
            .iter()
            .all(|value| *value == Value::BigInt(Some(PROBE)));
        let reusable = only_the_organization && !statement.sql.contains(&PROBE.to_string());
        reusable.then_some(Self {
            sql: statement.sql,
            placeholders: values.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use entity::organization_user;
    use sea_orm::{ColumnTrait, QueryFilter, QueryTrait};

    use super::*;

    static BUILDS: AtomicUsize = AtomicUsize::new(0);

    fn members_of(scope: Scope, backend: DbBackend) -> Statement {
        BUILDS.fetch_add(1, Ordering::SeqCst);
        let inner = scope.select::<organization_user::Entity>().into_query();
        scope
            .select::<organization_user::Entity>()
            .filter(organization_user::Column::Id.in_subquery(inner))
            .build(backend)
    }

    fn one_member(scope: Scope, backend: DbBackend) -> Statement {
        scope
            .select::<organization_user::Entity>()
            .filter(organization_user::Column::UserId.eq(3))
            .build(backend)
    }

    #[test]
    fn a_query_bound_only_to_its_organization_is_built_once_and_bound_per_use() {
        static MEMBERS: ScopedStatement = ScopedStatement::new(members_of);
        let seven = MEMBERS.statement(Scope::new(OrganizationId(7)), DbBackend::Postgres);
        let nine = MEMBERS.statement(Scope::new(OrganizationId(9)), DbBackend::Postgres);
        assert_eq!(BUILDS.load(Ordering::SeqCst), 1);
        assert!(MEMBERS.is_reused(DbBackend::Postgres));
        assert_eq!(seven.sql, nine.sql);
        assert_eq!(
            seven.values.unwrap().0,
            vec![Value::BigInt(Some(7)), Value::BigInt(Some(7))]
        );
        // What a fresh build for the organization gives, placeholders and values alike.
        let fresh = members_of(Scope::new(OrganizationId(9)), DbBackend::Postgres);
        assert_eq!(nine.sql, fresh.sql);
        assert_eq!(nine.values, fresh.values);
        // Each backend has its own placeholders.
        let sqlite = MEMBERS.statement(Scope::new(OrganizationId(9)), DbBackend::Sqlite);
        assert_ne!(sqlite.sql, nine.sql);
        assert_eq!(sqlite.db_backend, DbBackend::Sqlite);
    }

    #[test]
    fn a_query_binding_another_value_is_built_on_every_use() {
        static ONE: ScopedStatement = ScopedStatement::new(one_member);
        let statement = ONE.statement(Scope::new(OrganizationId(7)), DbBackend::Sqlite);
        assert!(!ONE.is_reused(DbBackend::Sqlite));
        assert_eq!(
            statement.values.unwrap().0,
            vec![Value::BigInt(Some(7)), Value::Int(Some(3))]
        );
    }
}
